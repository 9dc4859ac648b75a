#!/usr/bin/env bash
# Trains rows of the docs/results.md table on one GPU machine, the configurations as parallel processes,
# then evaluates every ssa run in ideal and lfsr mode and exports the bundle of ssa-T10.
# Usage: quantize/scripts/gpu_table.sh EPOCHS BATCH MAX_MINUTES OUT_DIR CONFIG...   (CONFIG = attention:T)
# Needs the brevitas wheels in .whl/ and the Fashion-MNIST IDX files in .data/fashion-mnist/ (carried).
set -u
EPOCHS=$1; BATCH=$2; MINUTES=$3; OUT_DIR=$4; shift 4
python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .whl/*.whl || exit 1
export PYTHONPATH=/tmp/site:host:quantize PYTHONUNBUFFERED=1 OMP_NUM_THREADS=2
RUNS=/tmp/runs
mkdir -p "$OUT_DIR" "$RUNS"
{ nvidia-smi --query-gpu=name,driver_version --format=csv,noheader; date -u +%Y-%m-%dT%H:%M:%SZ; } > "$OUT_DIR/machine.txt"
pids=()
for cfg in "$@"; do
  att=${cfg%%:*}; t=${cfg##*:}; name="$att-T$t"
  python3 -m ssa_quantize train --dataset fashion-mnist --data-dir .data/fashion-mnist --attention "$att" \
    --timesteps "$t" --epochs "$EPOCHS" --batch-size "$BATCH" --max-minutes "$MINUTES" --out "$RUNS/$name" \
    > "$RUNS/$name.out" 2>&1 &
  pids+=($!)
done
for pid in "${pids[@]}"; do wait "$pid"; done
pids=()
for cfg in "$@"; do
  att=${cfg%%:*}; t=${cfg##*:}; name="$att-T$t"
  [ "$att" = ssa ] || continue
  for mode in ideal lfsr; do
    python3 -m ssa_quantize evaluate --checkpoint "$RUNS/$name" --mode "$mode" --data-dir .data/fashion-mnist \
      --threads 6 --output "$RUNS/$name/eval_$mode.json" > "$RUNS/$name/eval_$mode.out" 2>&1 &
    pids+=($!)
  done
done
for pid in "${pids[@]}"; do wait "$pid"; done
grep -h -E '"(mode|accuracy|seconds|timesteps)"' "$RUNS"/*/eval_*.json
if [ -d "$RUNS/ssa-T10" ]; then
  python3 -m ssa_quantize export --checkpoint "$RUNS/ssa-T10" --out "$RUNS/ssa-T10/bundle" \
    --evaluation "$RUNS/ssa-T10/eval_ideal.json" --evaluation "$RUNS/ssa-T10/eval_lfsr.json" --onnx none > /dev/null 2>&1
  python3 - "$RUNS/ssa-T10" <<'PY'
import sys, torch
state = torch.load(f"{sys.argv[1]}/checkpoint.pt", map_location="cpu", weights_only=True)
for key in ("optimizer", "scheduler"):
    state.pop(key)
torch.save(state, f"{sys.argv[1]}/model.pt")
PY
fi
tail -q -n 1 "$RUNS"/*.out
cd "$RUNS" && tar czf "$OUT_DIR/results.tgz" --exclude=checkpoint.pt .
