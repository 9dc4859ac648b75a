#!/usr/bin/env bash
# Test-set accuracy of the reduced-budget runs of cpu_rivals.sh: every run on all 10 000 test images in
# ideal mode and on the first 1 000 (the SpikedAttention grid's images); ssa also in hardware-LFSR mode.
# Usage: bash quantize/scripts/cpu_rivals_eval.sh OUT_DIR RUN...   (RUN = ann-T1, ssa-T4, ...)
set -u
OUT_DIR=$1; shift
export OMP_NUM_THREADS=1 MKL_NUM_THREADS=1 PYTHONUNBUFFERED=1
for run in "$@"; do
  nice -n 10 .venv/bin/ssa evaluate --checkpoint "$OUT_DIR/$run" --mode ideal --device cpu --output "$OUT_DIR/$run/eval_ideal.json" > /dev/null
  nice -n 10 .venv/bin/ssa evaluate --checkpoint "$OUT_DIR/$run" --mode ideal --device cpu --limit 1000 --output "$OUT_DIR/$run/eval_ideal_1000.json" > /dev/null
  case "$run" in ssa-*) nice -n 10 .venv/bin/ssa evaluate --checkpoint "$OUT_DIR/$run" --mode lfsr --device cpu --threads 1 \
      --output "$OUT_DIR/$run/eval_lfsr.json" > /dev/null ;; esac
done
grep -H '"accuracy"' "$OUT_DIR"/*/eval_*.json
