#!/usr/bin/env bash
# SpikedAttention rows of docs/results.md ("Rival spiking attentions, reduced budget"): converts the
# reduced-budget ann run of cpu_rivals.sh (no training) and evaluates a (T, B) grid with the numpy runtime.
# Usage: [TIMESTEPS="4 8 10 16 40"] [BASES="1.15 1.3 1.5 2.0"] [SELECT_ON=N [NO_TEST=1]] [SUFFIX=_x] \
#        bash quantize/scripts/cpu_spiked.sh OUT_DIR [LIMIT]   (OUT_DIR as given to cpu_rivals.sh; LIMIT 0 = all)
set -u
OUT_DIR=$1; LIMIT=${2:-1000}
args=()
for t in ${TIMESTEPS:-4 8 10 16 40}; do args+=(--timesteps "$t"); done
for b in ${BASES:-1.15 1.3 1.5 2.0}; do args+=(--base "$b"); done
[ "$LIMIT" != 0 ] && args+=(--limit "$LIMIT")
[ -n "${SELECT_ON:-}" ] && args+=(--select-on "$SELECT_ON")
[ -n "${NO_TEST:-}" ] && args+=(--no-test)
export OMP_NUM_THREADS=1 MKL_NUM_THREADS=1 PYTHONUNBUFFERED=1
/usr/bin/time -v nice -n 10 .venv/bin/ssa spiked --checkpoint "$OUT_DIR/ann-T1" --calibration 512 --percentile 99.9 \
  "${args[@]}" --out "$OUT_DIR/spikedattention${SUFFIX:-}" > "$OUT_DIR/spikedattention${SUFFIX:-}.out" 2>&1
