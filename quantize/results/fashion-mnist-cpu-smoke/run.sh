#!/usr/bin/env bash
# Smoke-level indication only (issue 17, item 4), NOT a result: SSA T=4, dim 64, depth 2, 4 heads (N=16, D_K=16),
# 5 000 training images, 1 epoch, seed 0, full 10 000-image test set (ideal mode); Bernoulli vs direct input coding.
# Run from the repository root on the 2-core development VM: bash quantize/results/fashion-mnist-cpu-smoke/run.sh RUNS
set -u
RUNS=$1
for coding in bernoulli direct; do
  OMP_NUM_THREADS=1 nice -n 15 .venv/bin/ssa train --preset small --embed-dim 64 --depth 2 --heads 4 --attention ssa \
    --timesteps 4 --epochs 1 --limit 5000 --batch-size 64 --seed 0 --device cpu --input-coding "$coding" \
    --out "$RUNS/ssa-t4-$coding" > "$RUNS/ssa-t4-$coding.out" 2>&1 &
done
wait
