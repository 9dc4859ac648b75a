"""Test-set evaluation in ``ideal`` (torch RNG, any device) or ``lfsr`` (hardware-exact) mode.

``lfsr`` mode makes every stochastic part reproducible outside torch: pixels are coded by
:func:`ssa.model.coding.encode_pixels` and attention runs through ``ssa.backends.emulator.run``
with the contract's LFSR streams (see :class:`~ssa_quantize.attention.LfsrSampler`). Pixels are
``float32(uint8) / float32(255)``.
"""
from __future__ import annotations

import time

import torch
from torch import nn

from ssa.errors import ConfigError

from .attention import LfsrSampler, TorchSampler
from .names import EVAL_MODES
from ssa.model.datasets import Split


def images_to_float(images: torch.Tensor) -> torch.Tensor:
    """uint8 pixels -> float32 in [0, 1] (``x / 255``)."""
    return images.float() / 255.0


@torch.no_grad()
def evaluate(model: nn.Module, split: Split, mode: str = "ideal", seed: int = 0, device: torch.device | None = None,
             batch_size: int = 1000, limit: int | None = None, threads: int = 1) -> dict:
    """Accuracy of ``model`` on the first ``limit`` images of ``split`` (all when None)."""
    if mode not in EVAL_MODES:
        raise ConfigError(f"mode={mode!r} is unknown; use one of {', '.join(EVAL_MODES)}")
    device = device or next(model.parameters()).device
    was_training = model.training
    model.eval()
    if mode == "ideal":
        torch.manual_seed(seed)
    images, labels = split.images[:limit], split.labels[:limit]
    correct, start = 0, time.perf_counter()
    for lo in range(0, len(labels), batch_size):
        x = images_to_float(torch.from_numpy(images[lo : lo + batch_size]).to(device))
        sampler = TorchSampler() if mode == "ideal" else LfsrSampler(seed=seed, first_index=lo, threads=threads)
        logits = model(x, sampler)
        correct += int((logits.argmax(1).cpu() == torch.from_numpy(labels[lo : lo + batch_size])).sum())
    model.train(was_training)
    total = len(labels)
    return {"mode": mode, "seed": seed, "correct": correct, "total": total, "accuracy": correct / total,
            "seconds": time.perf_counter() - start}
