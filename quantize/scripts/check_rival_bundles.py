"""Numpy runtime against torch on real trained/converted models (docs/results.md, rivals section).

Exports the a2os2a and spikformer runs' bundles and compares SpikingViT.from_bundle logits with torch's
hardware-exact (LfsrSampler) evaluation; converts the ann run to SpikedAttention and compares the
numpy forward with the torch one. Prints max |Δlogit| and how many predictions differ.

    python quantize/scripts/check_rival_bundles.py RUNS [IMAGES] [T] [B]
"""
from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import numpy as np
import torch

from ssa.model import SpikingViT as NumpyViT
from ssa.model.datasets import load_dataset
from ssa.model.spiked import SpikedViT
from ssa_quantize.attention import LfsrSampler
from ssa_quantize.export import write_bundle
from ssa_quantize.spiked import TorchOps, convert
from ssa_quantize.training import load_checkpoint, model_from_checkpoint


def main() -> None:
    runs, count = Path(sys.argv[1]), int(sys.argv[2]) if len(sys.argv) > 2 else 200
    t, base = (int(sys.argv[3]), float(sys.argv[4])) if len(sys.argv) > 4 else (10, 1.5)
    data = load_dataset("fashion-mnist")
    images = data.test.images[:count].astype(np.float32) / np.float32(255)
    with tempfile.TemporaryDirectory() as tmp:
        for run in sorted(p.name for p in runs.iterdir() if p.is_dir() and p.name.startswith(("a2os2a-", "spikformer-"))):
            model = model_from_checkpoint(load_checkpoint(runs / run / "checkpoint.pt"))
            path = write_bundle(model, Path(tmp) / f"{run}.npz", seed=0, dataset="fashion-mnist")
            with torch.no_grad():
                want = model(torch.from_numpy(images), LfsrSampler(seed=0)).numpy()
            got = NumpyViT.from_bundle(path).logits(images)
            print(f"{run}: {count} images, max |Δlogit| {np.abs(got - want).max():.2e}, "
                  f"within rtol 1e-5 / atol 1e-6: {np.allclose(got, want, rtol=1e-5, atol=1e-6)}, "
                  f"predictions differing {int((got.argmax(1) != want.argmax(1)).sum())}")
    ann = model_from_checkpoint(load_checkpoint(runs / "ann-T1" / "checkpoint.pt"))
    params = convert(ann, torch.from_numpy(data.train.images[:512]).float() / 255.0, base, t)
    ref = SpikedViT(params).logits(images)
    got = SpikedViT(params, TorchOps()).logits(images).numpy()
    print(f"spikedattention T={t} B={base}: {count} images, max |Δlogit| numpy vs torch {np.abs(got - ref).max():.2e}, "
          f"predictions differing {int((got.argmax(1) != ref.argmax(1)).sum())}")


if __name__ == "__main__":
    main()
