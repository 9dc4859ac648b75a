#!/usr/bin/env bash
# Issue 17's recipe ablations on a CPU (no accelerator): SSA T=10 on a reduced backbone (dim 64, depth 2,
# 4 heads, patch 7 -> N=16, D_K=16), one fixed budget for every row, seeds run seed-major (every row's
# seed 0 first) so that a budget cut short still leaves comparable rows.
#
# Usage (repository root, .venv installed): bash quantize/scripts/cpu_ablation.sh OUT_DIR
#   One call is one worker taking jobs from OUT_DIR/queue; call it again (same OUT_DIR) to add a worker
#   on another core. Each worker uses one torch thread. Table: python -m ssa_quantize.report OUT_DIR/runs
# Knobs (environment): EPOCHS=3 IMAGES=20000 BATCH=128 SEEDS="0 1 2" PY=.venv/bin/python
# Rows (same names as gpu_recipe.sh's ablations): ann (the teacher, T=1), bernoulli (today's recipe),
#   direct, direct-expect, direct-ratereg, direct-aug, direct-gain1 (encoders at min(1, 2p), contract v2's
#   gain_log2 = 1), direct-distill (init + distill from ann, same seed); then direct-gain1-distill for every
#   seed, every gain-0 SSA run evaluated in hardware-LFSR mode on the full test set (eval_lfsr.json),
#   spikformer-direct and direct-gain2 (encoders at min(1, 4p)); then (once contract v2 ran in every
#   backend) direct-gain2-distill and the LFSR evaluation of every gain row.
set -u
[ $# -eq 1 ] || { echo "usage: $0 OUT_DIR" >&2; exit 2; }
OUT_DIR=$(realpath -m "$1"); RUNS=$OUT_DIR/runs; QUEUE=$OUT_DIR/queue
EPOCHS=${EPOCHS:-3}; IMAGES=${IMAGES:-20000}; BATCH=${BATCH:-128}; SEEDS=${SEEDS:-0 1 2}; PY=${PY:-.venv/bin/python}
export OMP_NUM_THREADS=1 MKL_NUM_THREADS=1 PYTHONUNBUFFERED=1
mkdir -p "$RUNS"

if mkdir "$OUT_DIR/.queued" 2>/dev/null; then  # the first worker writes the plan
  { lscpu | head -20; date -u +%Y-%m-%dT%H:%M:%SZ; } > "$OUT_DIR/machine.txt"
  common="--preset small --embed-dim 64 --depth 2 --heads 4 --patch 7 --mlp-ratio 4 --epochs $EPOCHS --limit $IMAGES --batch-size $BATCH --device cpu"
  ssa="--attention ssa --timesteps 10"
  teacher() { echo "--init-from $RUNS/ann-s$1 --distill-from $RUNS/ann-s$1"; }
  for seed in $SEEDS; do
    echo "ann-s$seed $common --seed $seed --attention ann"
    echo "bernoulli-s$seed $common --seed $seed $ssa"
    echo "direct-s$seed $common --seed $seed $ssa --input-coding direct"
    echo "direct-expect-s$seed $common --seed $seed $ssa --input-coding direct --ssa-grad expectation"
    echo "direct-ratereg-s$seed $common --seed $seed $ssa --input-coding direct --rate-reg 50 --rate-target 0.05"
    echo "direct-aug-s$seed $common --seed $seed $ssa --input-coding direct --crop-padding 2 --label-smoothing 0.1"
    echo "direct-gain1-s$seed $common --seed $seed $ssa --input-coding direct --ssa-gain-log2 1"
    echo "direct-distill-s$seed $common --seed $seed $ssa --input-coding direct $(teacher "$seed")"
  done > "$QUEUE"
  for seed in $SEEDS; do  # the two levers that helped alone, together (added after seeds 0 and 1 of the rows above)
    echo "direct-gain1-distill-s$seed $common --seed $seed $ssa --input-coding direct --ssa-gain-log2 1 $(teacher "$seed")"
  done >> "$QUEUE"
  for seed in $SEEDS; do  # every contract-v1 SSA run on the full test set in hardware-LFSR mode
    for row in bernoulli direct direct-expect direct-ratereg direct-aug direct-distill; do echo "eval-lfsr $row-s$seed"; done
  done >> "$QUEUE"
  for seed in $SEEDS; do  # Spikformer with direct coding at the same budget (is a gap SSA-specific?)
    echo "spikformer-direct-s$seed $common --seed $seed --attention spikformer --timesteps 10 --input-coding direct"
  done >> "$QUEUE"
  for seed in $SEEDS; do  # a larger encoder gain (x4 per stage)
    echo "direct-gain2-s$seed $common --seed $seed $ssa --input-coding direct --ssa-gain-log2 2"
  done >> "$QUEUE"
  for seed in $SEEDS; do  # contract v2: the x4 gain with init + distillation, every gain row in hardware-LFSR mode
    echo "direct-gain2-distill-s$seed $common --seed $seed $ssa --input-coding direct --ssa-gain-log2 2 $(teacher "$seed")"
    for row in direct-gain1 direct-gain2 direct-gain1-distill direct-gain2-distill; do echo "eval-lfsr $row-s$seed"; done
  done >> "$QUEUE"
fi

next_job() {  # pop the first line of the queue under a lock
  (
    flock 9
    line=$(head -n 1 "$QUEUE")
    [ -n "$line" ] && sed -i 1d "$QUEUE"
    printf '%s' "$line"
  ) 9> "$QUEUE.lock"
}

evaluate_lfsr() {  # wait (at most an hour) for the run to finish on another worker, then evaluate it
  local run=$RUNS/$1 waited=0
  until grep -q '"finished": true' "$run/log.json" 2>/dev/null; do
    [ $waited -ge 3600 ] && { echo "$(date -u +%T) FAILED: $1 did not finish" | tee -a "$OUT_DIR/commands.txt"; return; }
    sleep 10; waited=$((waited + 10))
  done
  nice -n 5 "$PY" -m ssa_quantize evaluate --checkpoint "$run" --mode lfsr --device cpu --threads 1 --output "$run/eval_lfsr.json" \
    > "$run.eval_lfsr.out" 2>&1 || echo "$(date -u +%T) FAILED lfsr evaluation of $1" | tee -a "$OUT_DIR/commands.txt"
}

while job=$(next_job) && [ -n "$job" ]; do
  name=${job%% *}; args=${job#* }
  if [ "$name" = eval-lfsr ]; then
    echo "$(date -u +%T) start ssa evaluate --checkpoint $args --mode lfsr" | tee -a "$OUT_DIR/commands.txt"
    evaluate_lfsr "$args"
    continue
  fi
  echo "$(date -u +%T) start $name: ssa train $args" | tee -a "$OUT_DIR/commands.txt"
  # shellcheck disable=SC2086  # args are the plan's words
  nice -n 5 "$PY" -m ssa_quantize train $args --out "$RUNS/$name" > "$RUNS/$name.out" 2>&1 \
    || echo "$(date -u +%T) FAILED $name (see $RUNS/$name.out)" | tee -a "$OUT_DIR/commands.txt"
done
echo "$(date -u +%T) worker done" | tee -a "$OUT_DIR/commands.txt"
