#!/usr/bin/env bash
# Smoke-level indication only (issue 17, item 4), NOT a result: SSA T=4, dim 64, depth 2, 4 heads (N=16, D_K=16),
# 5 000 training images, 1 epoch (79 steps), seeds 0-2, full 10 000-image test set (ideal mode);
# Bernoulli vs direct input coding, otherwise identical. Run from the repository root:
#   bash quantize/results/fashion-mnist-cpu-smoke/run.sh RUNS && python -m ssa_quantize.report RUNS
set -u
RUNS=$1
for seed in 0 1 2; do
  for coding in bernoulli direct; do
    OMP_NUM_THREADS=1 nice -n 15 .venv/bin/ssa train --preset small --embed-dim 64 --depth 2 --heads 4 --attention ssa \
      --timesteps 4 --epochs 1 --limit 5000 --batch-size 64 --seed "$seed" --device cpu --input-coding "$coding" \
      --out "$RUNS/ssa-t4-$coding-s$seed" > "$RUNS/ssa-t4-$coding-s$seed.out" 2>&1 &
  done
done
wait
