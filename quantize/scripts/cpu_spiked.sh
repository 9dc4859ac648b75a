#!/usr/bin/env bash
# SpikedAttention rows of docs/results.md ("Rival spiking attentions, reduced budget"): converts the
# reduced-budget ann run of cpu_rivals.sh (no training) and evaluates a (T, B) grid with the numpy runtime.
# Usage: bash quantize/scripts/cpu_spiked.sh OUT_DIR [LIMIT]   (OUT_DIR as given to cpu_rivals.sh)
set -u
OUT_DIR=$1; LIMIT=${2:-1000}
export OMP_NUM_THREADS=1 MKL_NUM_THREADS=1 PYTHONUNBUFFERED=1
/usr/bin/time -v nice -n 10 .venv/bin/ssa spiked --checkpoint "$OUT_DIR/ann-T1" --calibration 512 --percentile 99.9 \
  --timesteps 4 --timesteps 8 --timesteps 10 --timesteps 16 --timesteps 40 \
  --base 1.15 --base 1.3 --base 1.5 --base 2.0 --limit "$LIMIT" ${SELECT_ON:+--select-on $SELECT_ON} --out "$OUT_DIR/spikedattention${SUFFIX:-}" \
  > "$OUT_DIR/spikedattention${SUFFIX:-}.out" 2>&1
