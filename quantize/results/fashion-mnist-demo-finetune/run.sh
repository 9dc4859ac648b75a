#!/usr/bin/env bash
# The bundled demo model since 2026-12-02: the previous bundled model (small preset, SSA T=10, Bernoulli pixels, contract v1,
# 8 epochs on an H100) fine-tuned for one epoch on this CPU to the recipe of the CPU ablation (docs/results.md): direct input
# coding, encoder gain 2^GAIN (contract v2), logit distillation from the small-preset ANN; then evaluated on all 10 000 test
# images in ideal and lfsr mode and exported.
#
# Usage (repository root, .venv installed with the train extra): bash quantize/results/fashion-mnist-demo-finetune/run.sh OUT ANN_RUN
#   ANN_RUN: the small-preset ANN run folder (`ann-T1` of quantize/results/fashion-mnist-cpu-small/run.sh, 88.69 %).
#   GAIN=2 (environment): the encoders' gain exponent; GAIN=0 is the control (same epoch, no gain).
set -eu
[ $# -eq 2 ] || { echo "usage: $0 OUT ANN_RUN" >&2; exit 2; }
OUT=$(realpath -m "$1"); ANN=$(realpath "$2"); GAIN=${GAIN:-2}
mkdir -p "$OUT/init"
git show d32404e:models/fashion-mnist-ssa-t10/checkpoint.pt > "$OUT/init/checkpoint.pt"  # the previous bundled model
{ lscpu | head -20; date -u +%Y-%m-%dT%H:%M:%SZ; } > "$OUT/machine.txt"
log() { echo "$(date -u +%T) $*" | tee -a "$OUT/commands.txt"; }
log "start train (gain 2^$GAIN)"
.venv/bin/ssa train --preset small --attention ssa --timesteps 10 --input-coding direct --ssa-gain-log2 "$GAIN" \
  --init-from "$OUT/init" --distill-from "$ANN" --epochs 1 --lr 1e-3 --batch-size 256 --device cpu --out "$OUT/run" > "$OUT/train.out" 2>&1
for mode in lfsr ideal; do
  log "start evaluate $mode"
  .venv/bin/ssa evaluate --checkpoint "$OUT/run" --mode "$mode" --device cpu --threads 2 --output "$OUT/run/eval_$mode.json" > "$OUT/eval_$mode.out" 2>&1
done
log "start export"
.venv/bin/ssa export --checkpoint "$OUT/run" --out "$OUT/bundle" --evaluation "$OUT/run/eval_ideal.json" \
  --evaluation "$OUT/run/eval_lfsr.json" --onnx none > "$OUT/export.out" 2>&1
log "done: $OUT/bundle/bundle.npz (for host/ssa/data/ssa_fashion_mnist_t10.npz)"
