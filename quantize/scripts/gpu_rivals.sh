#!/usr/bin/env bash
# Full-budget rows of the rivals table (docs/results.md): NOT RUN yet, needs an accelerator.
# Trains ann and A²OS²A at T = 4, 8, 10 with the budget of the H100 table (8 epochs, batch 512, full
# Fashion-MNIST, default backbone) through gpu_table.sh, evaluates every a2os2a run on the full test
# set, then converts the ann run to SpikedAttention (no training) and evaluates a (T, B) grid on the GPU.
# Usage: bash quantize/scripts/gpu_rivals.sh OUT_DIR   (brevitas wheels in .whl/, IDX files in .data/fashion-mnist/)
set -u
OUT_DIR=$1
bash quantize/scripts/gpu_table.sh 8 512 7.5 "$OUT_DIR" ann:1 a2os2a:4 a2os2a:8 a2os2a:10
export PYTHONPATH=/tmp/site:host:quantize PYTHONUNBUFFERED=1
RUNS=/tmp/runs
for t in 4 8 10; do
  python3 -m ssa_quantize evaluate --checkpoint "$RUNS/a2os2a-T$t" --mode ideal --data-dir .data/fashion-mnist \
    --output "$RUNS/a2os2a-T$t/eval_ideal.json" > "$RUNS/a2os2a-T$t/eval_ideal.out" 2>&1 &
done
wait
python3 -m ssa_quantize spiked --checkpoint "$RUNS/ann-T1" --data-dir .data/fashion-mnist --backend torch --device cuda \
  --timesteps 4 --timesteps 8 --timesteps 10 --timesteps 16 --timesteps 40 \
  --base 1.15 --base 1.3 --base 1.5 --base 2.0 --select-on 2000 --out "$RUNS/spikedattention" > "$RUNS/spikedattention.out" 2>&1
cd "$RUNS" && tar czf "$OUT_DIR/results_rivals.tgz" --exclude=checkpoint.pt .
