#!/usr/bin/env bash
# Issue 17 on one GPU machine in about 10 minutes of compute (plus machine start-up): the paper preset
# (ANN, then SSA T=10 initialised from it and distilled) and the small-preset recipe ablations, 3 seeds
# each, as concurrent processes; then lfsr/ideal evaluation and export of the paper SSA model, and a table.
#
# Usage: quantize/scripts/gpu_recipe.sh [--smoke] OUT_DIR
#   GPU: needs the brevitas wheels in .whl/ and the Fashion-MNIST IDX files in .data/fashion-mnist/ (carried),
#        as quantize/scripts/gpu_table.sh.
#   --smoke: every command for 2 batches of 4 images on the CPU with the current python (PY, default python3)
#        and the Debian data set, seed 0 only; same commands and options otherwise.
# Budget knobs (environment, minutes / counts; defaults are the plan in docs/results.md):
#   P1_MIN=3.5 P2_MIN=4 SEEDS="0 1 2" PAPER_ANN_EPOCHS=4 PAPER_SSA_IMAGES=30000 PAPER_SSA_BATCH=64
#   AB_EPOCHS=2 AB_IMAGES=20000 AB_BATCH=128 SMALL_ANN_EPOCHS=3 LFSR_LIMIT=500 THREADS=16
#   PARTS="paper ablate" (one of them alone if a session's budget holds only half the plan);
#   PARTS=demo: the bundled demo model with the recipe the CPU ablation chose (docs/results.md): small-preset ANN at
#   the table's budget (8 epochs, batch 512), then SSA T=10 with direct coding and encoder gain 2^GAIN (contract v2),
#   initialised and distilled from it, same budget; both evaluated on the full test set (SSA in ideal and lfsr mode)
#   and the SSA bundle exported (DEMO_ANN_MIN=4 DEMO_SSA_MIN=6 DEMO_EPOCHS=8)
#   GAIN=2: the SSA encoders' gain exponent (--ssa-gain-log2) of paper-ssa-t10, demo-ssa-t10 and the gain ablations.
# Phase 1: paper-ann, small-ann, ablation rows abl-{bernoulli,direct,direct-expect,direct-ratereg,direct-aug,direct-gain}-s<seed>
# Phase 2: paper-ssa-t10 (direct coding, gain, init + distill from paper-ann), abl-direct-distill-s<seed> and
#   abl-direct-gain-distill-s<seed> (from small-ann)
# Phase 3: evaluations and export of paper-ssa-t10; OUT_DIR/table.md (python -m ssa_quantize.report).
set -u
SMOKE=0
if [ "${1:-}" = --smoke ]; then SMOKE=1; shift; fi
[ $# -eq 1 ] || { echo "usage: $0 [--smoke] OUT_DIR" >&2; exit 2; }
OUT_DIR=$(realpath -m "$1")
P1_MIN=${P1_MIN:-3.5}; P2_MIN=${P2_MIN:-4}
PAPER_ANN_EPOCHS=${PAPER_ANN_EPOCHS:-4}; PAPER_SSA_IMAGES=${PAPER_SSA_IMAGES:-30000}; PAPER_SSA_BATCH=${PAPER_SSA_BATCH:-64}
AB_EPOCHS=${AB_EPOCHS:-2}; AB_IMAGES=${AB_IMAGES:-20000}; AB_BATCH=${AB_BATCH:-128}; SMALL_ANN_EPOCHS=${SMALL_ANN_EPOCHS:-3}
LFSR_LIMIT=${LFSR_LIMIT:-500}; THREADS=${THREADS:-16}; PARTS=${PARTS:-paper ablate}; GRACE_MIN=1
DEMO_ANN_MIN=${DEMO_ANN_MIN:-4}; DEMO_SSA_MIN=${DEMO_SSA_MIN:-6}; DEMO_EPOCHS=${DEMO_EPOCHS:-8}; GAIN=${GAIN:-2}
if [ $SMOKE = 1 ]; then
  PY=${PY:-python3}; DATA=${DATA_DIR:-/usr/share/datasets/fashion-mnist}; SEEDS=${SEEDS:-0}
  RUNS=${RUNS_DIR:-$(mktemp -d)}; THREADS=2; LFSR_LIMIT=2
  # 2 batches of 4 images, 1 epoch, 8 test images: the commands and options are the GPU ones
  LIMITS=(--limit 8 --eval-limit 8 --device cpu); PAPER_ANN_EPOCHS=1; SMALL_ANN_EPOCHS=1; AB_EPOCHS=1; DEMO_EPOCHS=1
  PAPER_SSA_IMAGES=8; AB_IMAGES=8; BATCH_OVERRIDE=4; GRACE_MIN=60  # a loaded CPU: no hard kill
else
  python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .whl/*.whl || exit 1
  export PYTHONPATH=/tmp/site:host:quantize PYTORCH_CUDA_ALLOC_CONF=expandable_segments:True
  PY=python3; DATA=.data/fashion-mnist; SEEDS=${SEEDS:-0 1 2}; RUNS=${RUNS_DIR:-/tmp/recipe_runs}; LIMITS=(); BATCH_OVERRIDE=
fi
export PYTHONUNBUFFERED=1 OMP_NUM_THREADS=1
mkdir -p "$OUT_DIR" "$RUNS"
{ if [ $SMOKE = 1 ]; then echo "smoke run on $(uname -n) (CPU)"; else nvidia-smi --query-gpu=name,driver_version --format=csv,noheader; fi
  nproc; date -u +%Y-%m-%dT%H:%M:%SZ; } > "$OUT_DIR/machine.txt"

TRAIN=("$PY" -m ssa_quantize train --dataset fashion-mnist --data-dir "$DATA")
SCHEDULE=(--crop-padding 2 --label-smoothing 0.1)  # the strong-baseline recipe (augmentation + smoothing)
pids=()
has() { [[ " $PARTS " == *" $1 "* ]]; }
# run NAME MINUTES BATCH ARGS...: one training process in the background, killed GRACE_MIN after its budget
run() {
  local name=$1 minutes=$2 batch=${BATCH_OVERRIDE:-$3}; shift 3
  case $name in paper-*) has paper || return 0;; demo-*) has demo || return 0;; *) has ablate || return 0;; esac
  echo "$(date -u +%T) start $name: train --batch-size $batch $* --max-minutes $minutes" | tee -a "$OUT_DIR/commands.txt"
  timeout "$(awk "BEGIN{print int(($minutes + $GRACE_MIN) * 60)}")" "${TRAIN[@]}" --batch-size "$batch" --max-minutes "$minutes" \
    --out "$RUNS/$name" "${LIMITS[@]}" "$@" > "$RUNS/$name.out" 2>&1 &
  pids+=($!)
}
wait_all() { for pid in "${pids[@]}"; do wait "$pid"; done; pids=(); echo "$(date -u +%T) phase done"; }
ablation() {  # ablation ROW MINUTES ARGS...: one run per seed, small preset, SSA T=10, fixed budget
  local row=$1 minutes=$2; shift 2
  for seed in $SEEDS; do
    run "abl-$row-s$seed" "$minutes" "$AB_BATCH" --preset small --attention ssa --timesteps 10 --epochs "$AB_EPOCHS" \
      --limit "$AB_IMAGES" --seed "$seed" "$@"
  done
}

echo "== phase 1 ($P1_MIN min): ANN teachers and the ablations that need none"
run paper-ann "$P1_MIN" 256 --preset paper --attention ann --epochs "$PAPER_ANN_EPOCHS" "${SCHEDULE[@]}"
run small-ann "$P1_MIN" 512 --preset small --attention ann --epochs "$SMALL_ANN_EPOCHS" "${SCHEDULE[@]}"
ablation bernoulli "$P1_MIN"
ablation direct "$P1_MIN" --input-coding direct
ablation direct-expect "$P1_MIN" --input-coding direct --ssa-grad expectation
ablation direct-ratereg "$P1_MIN" --input-coding direct --rate-reg 50 --rate-target 0.05
ablation direct-aug "$P1_MIN" --input-coding direct "${SCHEDULE[@]}"
ablation direct-gain "$P1_MIN" --input-coding direct --ssa-gain-log2 "$GAIN"
run demo-ann "$DEMO_ANN_MIN" 512 --preset small --attention ann --epochs "$DEMO_EPOCHS"  # the table's ann command
wait_all

echo "== phase 2 ($P2_MIN min): spiking models from the ANN teachers"
teacher() { [ -f "$RUNS/$1/checkpoint.pt" ] && echo --init-from "$RUNS/$1" --distill-from "$RUNS/$1" --distill-weight 0.5 --distill-temperature 2; }
# shellcheck disable=SC2046  # teacher's words are separate options (none when the ANN run failed)
run paper-ssa-t10 "$P2_MIN" "$PAPER_SSA_BATCH" --preset paper --attention ssa --timesteps 10 --input-coding direct \
  --ssa-gain-log2 "$GAIN" --epochs 1 --limit "$PAPER_SSA_IMAGES" "${SCHEDULE[@]}" $(teacher paper-ann)
# shellcheck disable=SC2046
ablation direct-distill "$P2_MIN" --input-coding direct $(teacher small-ann)
# shellcheck disable=SC2046
ablation direct-gain-distill "$P2_MIN" --input-coding direct --ssa-gain-log2 "$GAIN" $(teacher small-ann)
# shellcheck disable=SC2046
run demo-ssa-t10 "$DEMO_SSA_MIN" 512 --preset small --attention ssa --timesteps 10 --epochs "$DEMO_EPOCHS" --input-coding direct \
  --ssa-gain-log2 "$GAIN" $(teacher demo-ann)
wait_all

echo "== phase 3: evaluations and bundles (paper-ssa-t10 on the first $LFSR_LIMIT test images; demo runs on all)"
evaluate() {  # evaluate RUN MODE [OPTIONS...]: one background evaluation into RUN/eval_MODE.json
  local r=$RUNS/$1 mode=$2; shift 2
  "$PY" -m ssa_quantize evaluate --checkpoint "$r" --mode "$mode" --data-dir "$DATA" --threads "$THREADS" "$@" \
    --output "$r/eval_$mode.json" > "$r/eval_$mode.out" 2>&1 &
  pids+=($!)
}
export_bundle() {  # export_bundle RUN: its bundle with both evaluations; size and sha256 in RUN/bundle.txt
  local r=$RUNS/$1
  "$PY" -m ssa_quantize export --checkpoint "$r" --out "$r/bundle" --evaluation "$r/eval_ideal.json" \
    --evaluation "$r/eval_lfsr.json" --onnx none > "$r/export.out" 2>&1
  ls -l "$r/bundle/bundle.npz" > "$r/bundle.txt" && sha256sum "$r/bundle/bundle.npz" >> "$r/bundle.txt"
}
CPU=(); [ $SMOKE = 1 ] && CPU=(--device cpu)
if [ -f "$RUNS/paper-ssa-t10/checkpoint.pt" ]; then
  for mode in ideal lfsr; do evaluate paper-ssa-t10 "$mode" --limit "$LFSR_LIMIT" "${CPU[@]}"; done
  wait_all
  export_bundle paper-ssa-t10
  # the bundle comes back only when it is small enough to commit (issue 17: <= 20 MB)
  B=$RUNS/paper-ssa-t10/bundle/bundle.npz
  [ "$(stat -c %s "$B")" -le 20000000 ] || rm -f "$B"
fi
if has demo && [ -f "$RUNS/demo-ssa-t10/checkpoint.pt" ]; then  # all test images, as the table's rows (smoke: a few)
  [ $SMOKE = 1 ] && CPU+=(--limit "$LFSR_LIMIT")
  evaluate demo-ann ideal "${CPU[@]}"
  for mode in ideal lfsr; do evaluate demo-ssa-t10 "$mode" "${CPU[@]}"; done
  wait_all
  export_bundle demo-ssa-t10  # for host/ssa/data; model.pt (no optimizer state) for models/
  "$PY" -c "import sys, torch; s = torch.load(sys.argv[1], map_location='cpu', weights_only=True); \
torch.save({k: v for k, v in s.items() if k not in ('optimizer', 'scheduler')}, sys.argv[2])" \
    "$RUNS/demo-ssa-t10/checkpoint.pt" "$RUNS/demo-ssa-t10/model.pt"
fi
(cd "$RUNS" && tar cf - --exclude=checkpoint.pt .) | (cd "$OUT_DIR" && tar xf -)
"$PY" -m ssa_quantize.report "$RUNS" --output "$OUT_DIR/table.md"
tail -q -n 1 "$RUNS"/*.out
