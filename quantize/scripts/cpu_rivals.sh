#!/usr/bin/env bash
# Reduced-budget CPU comparison of docs/results.md ("Rival spiking attentions, reduced budget"):
# trains each CONFIG (attention:T) on the same tiny preset and budget, one process per config,
# at nice 10 and one torch thread each. Usage (repository root, .venv installed):
#   bash quantize/scripts/cpu_rivals.sh OUT_DIR ann:1 ssa:4 a2os2a:4
# MAX_MINUTES=M (optional) passes --max-minutes M to every run.
# The SpikedAttention rows need no training: see quantize/scripts/cpu_spiked.sh (converts OUT_DIR/ann-T1);
# the final test-set evaluations: quantize/scripts/cpu_rivals_eval.sh.
set -u
OUT_DIR=$1; shift
PRESET=(--embed-dim 64 --depth 2 --heads 4 --mlp-ratio 4 --patch 7)
BUDGET=(--epochs 3 --batch-size 128 --limit 10000 --eval-limit 2000 --lr 2e-3 --seed 0 --device cpu)
LIMIT_TIME=(); [ -n "${MAX_MINUTES:-}" ] && LIMIT_TIME=(--max-minutes "$MAX_MINUTES")
export OMP_NUM_THREADS=1 MKL_NUM_THREADS=1 PYTHONUNBUFFERED=1
mkdir -p "$OUT_DIR"
{ echo "== $*"; lscpu | head -20; uptime; date -u +%Y-%m-%dT%H:%M:%SZ; } >> "$OUT_DIR/machine.txt"
pids=()
for cfg in "$@"; do
  att=${cfg%%:*}; t=${cfg##*:}; name="$att-T$t"
  ( /usr/bin/time -v nice -n 10 .venv/bin/ssa train --attention "$att" --timesteps "$t" "${PRESET[@]}" "${BUDGET[@]}" "${LIMIT_TIME[@]}" \
      --out "$OUT_DIR/$name" ) > "$OUT_DIR/$name.out" 2>&1 &
  pids+=($!)
done
for pid in "${pids[@]}"; do wait "$pid"; done
tail -q -n 30 "$OUT_DIR"/*.out | grep -E 'test_accuracy|Elapsed|User time'
