#!/usr/bin/env bash
# Issue 16 at the small preset on a CPU (no accelerator): the small-preset ANN at the H100 table's budget
# (8 epochs, batch 512, all 60 000 images; float32 here, AMP there), SpikedAttention converted from it
# (no training) at T = 4, 8, 10, and A²OS²A trained end to end at a REDUCED budget (1 epoch, 5 000 images),
# then the numpy runtime checked against torch on both. Run from the repository root:
#   bash quantize/results/fashion-mnist-cpu-small/run.sh RUNS     (one torch thread per process)
set -u
RUNS=$1; PY=${PY:-.venv/bin/python}; SSA=${SSA:-.venv/bin/ssa}
export OMP_NUM_THREADS=1 MKL_NUM_THREADS=1 PYTHONUNBUFFERED=1
mkdir -p "$RUNS"
step() { echo "$(date -u +%T) $*"; /usr/bin/time -f "  %e s wall, %M KB peak" "$@"; }
# resumable: a finished run returns at once, an interrupted one continues from its last epoch
step "$SSA" train --preset small --attention ann --epochs 8 --batch-size 512 --seed 0 \
  --device cpu --out "$RUNS/ann-T1"
step "$SSA" train --preset small --attention a2os2a --timesteps 4 --epochs 1 --limit 5000 --eval-limit 1000 --batch-size 128 \
  --seed 0 --device cpu --out "$RUNS/a2os2a-T4"
step "$SSA" evaluate --checkpoint "$RUNS/a2os2a-T4" --mode ideal --device cpu --output "$RUNS/a2os2a-T4/eval_ideal.json"
# B chosen per T on the last 1 000 training images (seen by this ANN, which trained on all 60 000; never the test set)
step "$SSA" spiked --checkpoint "$RUNS/ann-T1" --calibration 512 --percentile 99.9 --timesteps 4 --timesteps 8 --timesteps 10 \
  --base 1.3 --base 1.5 --base 2.0 --select-on 1000 --no-test --out "$RUNS/spikedattention_select"
"$PY" - "$RUNS" <<'PY'
import json, sys
grid = json.load(open(f"{sys.argv[1]}/spikedattention_select/spiked.json"))["grid"]
best = {}
for cell in grid:
    t = cell["timesteps"]
    if t not in best or cell["train_heldout_accuracy"] > best[t]["train_heldout_accuracy"]:
        best[t] = cell
open(f"{sys.argv[1]}/spikedattention_choice.txt", "w").write("".join(f"{t} {c['base']}\n" for t, c in sorted(best.items())))
PY
while read -r t b; do
  step "$SSA" spiked --checkpoint "$RUNS/ann-T1" --calibration 512 --percentile 99.9 --timesteps "$t" --base "$b" \
    --out "$RUNS/spikedattention_T$t"
done < "$RUNS/spikedattention_choice.txt"
step "$PY" quantize/scripts/check_rival_bundles.py "$RUNS" 200 10 "$(awk '$1 == 10 {print $2}' "$RUNS/spikedattention_choice.txt")"
