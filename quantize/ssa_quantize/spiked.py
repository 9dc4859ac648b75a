"""SpikedAttention (Hwang et al., NeurIPS 2024): training-free conversion of the stack's ``ann`` model.

:func:`convert` runs the trained ANN (softmax attention, INT8 QuantReLU activations) on a few
training images, records every activation point of :func:`ssa.model.spiked.theta_names` and sets
its threshold scale ``θ`` to a percentile of the positive activations. Nothing else changes: the
INT8 weights and the folded BatchNorm are reused as they are, no gradient is computed and no
optimizer exists. The converted model runs in torch (:class:`TorchOps` below, any device) or in
numpy (:class:`ssa.model.spiked.SpikedViT` on a bundle); both run the same forward
(``ssa.model.spiked``). What is exact and what is approximated: docs/rivals.md.
"""
from __future__ import annotations

import dataclasses
import math
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ssa.contract.config import CONTRACT_VERSION
from ssa.errors import ConfigError
from ssa.model import phase
from ssa.model.bundle import save_bundle
from ssa.model.datasets import Split
from ssa.model.spiked import KIND, SpikedParams, SpikedViT, theta_names

from .evaluation import images_to_float
from .export import bundle_arrays
from .model import SpikingViT

DEFAULT_PERCENTILE = 99.9


class TorchOps:
    """The primitives of :mod:`ssa.model.phase` in torch (float64), on ``device``."""

    def __init__(self, device: torch.device | str = "cpu") -> None:
        self.device = torch.device(device)

    def asarray(self, a: np.ndarray | torch.Tensor) -> torch.Tensor:
        if isinstance(a, torch.Tensor):
            return a.to(self.device)
        return torch.from_numpy(np.ascontiguousarray(a)).to(self.device)

    def _trace(self, base: float, timesteps: int) -> list[float]:
        return phase.trace(base, timesteps).tolist()

    def encode(self, u: torch.Tensor, theta: float, base: float, timesteps: int) -> torch.Tensor:
        times = torch.full(u.shape, timesteps, dtype=torch.int16, device=u.device)
        for t, thr in enumerate(phase.thresholds(theta, base, timesteps).tolist()):
            times = torch.where((times == timesteps) & (u >= thr), t, times)
        return times

    def decode(self, times: torch.Tensor, theta: float, base: float, timesteps: int) -> torch.Tensor:
        g = self.asarray(np.append(phase.trace(base, timesteps), 0.0))
        return theta * g[times.long()]

    def trace_linear(self, times: torch.Tensor, weight: torch.Tensor, base: float, timesteps: int) -> torch.Tensor:
        w = weight.t()
        u = torch.zeros(times.shape[:-1] + (w.shape[1],), dtype=torch.float64, device=times.device)
        for t, g in enumerate(self._trace(base, timesteps)):
            u += g * ((times == t).double() @ w)
        return u

    def trace_matmul(self, ta: torch.Tensor, tb: torch.Tensor, base: float, timesteps: int) -> torch.Tensor:
        mem_a = torch.zeros(ta.shape, dtype=torch.float64, device=ta.device)
        mem_b = torch.zeros(tb.shape, dtype=torch.float64, device=tb.device)
        out = torch.zeros(ta.shape[:-1] + tb.shape[-2:-1], dtype=torch.float64, device=ta.device)
        for t, g in enumerate(self._trace(base, timesteps)):
            fire_a, fire_b = (ta == t).double(), (tb == t).double()
            mem_b += g * fire_b
            out += g * (fire_a @ mem_b.transpose(-1, -2) + mem_a @ fire_b.transpose(-1, -2))
            mem_a += g * fire_a
        return out

    def woss(self, scores: torch.Tensor, base: float, timesteps: int) -> torch.Tensor:
        log_b = math.log(base)
        delay = torch.floor((scores.max(dim=-1, keepdim=True).values - scores) / log_b + 0.5)
        times = torch.clamp(delay, max=timesteps).long()
        g = self.asarray(np.append(phase.trace(base, timesteps), 0.0))
        total = g[times].sum(dim=-1, keepdim=True)
        shift = torch.floor(torch.log(total) / log_b + 0.5).long()
        return torch.clamp(times + shift, max=timesteps).to(torch.int16)

    @staticmethod
    def permute(x: torch.Tensor, axes: tuple[int, ...]) -> torch.Tensor:
        return x.permute(*axes)

    @staticmethod
    def mean(x: torch.Tensor, axis: int) -> torch.Tensor:
        return x.mean(dim=axis)


@torch.no_grad()
def activations(model: SpikingViT, images: torch.Tensor) -> dict[str, np.ndarray]:
    """Every activation point of the ANN (:func:`theta_names`) on ``images`` in [0, 1], flattened float64."""
    found: dict[str, list[np.ndarray]] = {name: [] for name in theta_names(model.config.depth)}

    def keep(name: str, value: torch.Tensor) -> None:
        found[name].append(value.detach().double().cpu().numpy().ravel())

    hooks = [model.patch_neuron.register_forward_hook(lambda m, i, o: keep("patch", o))]
    for l, layer in enumerate(model.layers):
        for part in ("q", "k", "v", "proj", "mlp1", "mlp2"):
            hooks.append(getattr(layer, part).register_forward_hook(lambda m, i, o, n=f"layers.{l}.{part}": keep(n, o)))
        hooks.append(layer.core.register_forward_hook(lambda m, i, o, n=f"layers.{l}.attn": keep(n, o)))
        hooks.append(layer.register_forward_hook(lambda m, i, o, n=f"layers.{l}.res2": keep(n, o)))
        # res1 = layer input + proj output: read both from the layer and proj hooks below
        hooks.append(layer.register_forward_pre_hook(lambda m, i, n=f"layers.{l}.input": found.setdefault(n, []).append(
            i[0].detach().double().cpu().numpy())))
        hooks.append(layer.proj.register_forward_hook(lambda m, i, o, n=f"layers.{l}.proj_out": found.setdefault(n, []).append(
            o.detach().double().cpu().numpy())))
    try:
        model(images)
    finally:
        for h in hooks:
            h.remove()
    for l in range(model.config.depth):
        res1 = [a + b for a, b in zip(found.pop(f"layers.{l}.input"), found.pop(f"layers.{l}.proj_out"))]
        found[f"layers.{l}.res1"] = [r.ravel() for r in res1]
    return {name: np.concatenate(parts) for name, parts in found.items()}


def convert(model: SpikingViT, calibration: torch.Tensor, base: float, timesteps: int,
            percentile: float = DEFAULT_PERCENTILE) -> SpikedParams:
    """SpikedAttention parameters of a trained ``ann`` model: no gradient, no optimizer, weights untouched.

    ``calibration``: images ``[B, C, H, W]`` in [0, 1] (training images). ``θ`` of each point is the
    ``percentile`` of its positive activations (1.0 if none is positive).
    """
    cfg = model.config
    if cfg.attention != "ann":
        raise ConfigError(f"SpikedAttention converts an ann checkpoint, this one is {cfg.attention!r}; "
                          "train one with `ssa train --attention ann`")
    if not 0 < percentile <= 100:
        raise ConfigError(f"percentile={percentile} must lie in (0, 100]")
    phase.check_phase(base, timesteps)
    model = model.cpu().eval()
    theta = {}
    for name, act in activations(model, calibration.float().cpu()).items():
        positive = act[act > 0]
        theta[name] = float(np.percentile(positive, percentile)) if positive.size else 1.0
    return SpikedParams(float(base), int(timesteps), cfg.patch, cfg.heads, cfg.depth,
                        (cfg.channels, cfg.image_size, cfg.image_size), theta, unit_arrays(model), cfg.pad)


def unit_arrays(model: SpikingViT) -> dict[str, np.ndarray]:
    """The arrays a SpikedAttention forward reads (the INT8 units, position embedding and head)."""
    keep = ("weight", "scale", "bias", "weight_scale")
    return {k: v for k, v in bundle_arrays(model).items() if k == "pos_embedding" or k.rsplit(".", 1)[-1] in keep}


def with_phase(params: SpikedParams, base: float, timesteps: int) -> SpikedParams:
    """The same conversion at another ``B`` and ``T`` (θ does not depend on them)."""
    phase.check_phase(base, timesteps)
    return dataclasses.replace(params, base=float(base), timesteps=int(timesteps))


def write_spiked_bundle(params: SpikedParams, model_config: dict, path: Path, *, dataset: str,
                        percentile: float, calibration_images: int, accuracy: dict | None = None) -> Path:
    """Write a SpikedAttention bundle (read by ``ssa.model.spiked.SpikedViT.from_bundle``)."""
    model = dict(model_config, attention=KIND, timesteps=params.timesteps)
    manifest = {"contract_version": CONTRACT_VERSION, "model": model, "dataset": dataset, "accuracy": accuracy or {},
                "spiked": {"base": params.base, "timesteps": params.timesteps, "theta": params.theta,
                           "source": "ann", "percentile": percentile, "calibration_images": calibration_images,
                           "coding": "one-spike phase, value θ·B^-t; see ssa.model.phase"}}
    path.parent.mkdir(parents=True, exist_ok=True)
    return save_bundle(path, manifest, params.arrays)


def evaluate_spiked(params: SpikedParams, split: Split, ops: Any = None, limit: int | None = None,
                    batch_size: int = 500) -> dict:
    """Accuracy of the SpikedAttention model on the first ``limit`` images of ``split``."""
    vit = SpikedViT(params, ops)  # ops None: numpy (ssa.model.spiked.NumpyOps)
    images, labels = split.images[:limit], split.labels[:limit]
    correct, start = 0, time.perf_counter()
    for lo in range(0, len(labels), batch_size):
        x = images_to_float(torch.from_numpy(images[lo : lo + batch_size])).numpy()
        pred = np.asarray(torch.as_tensor(vit.logits(x)).argmax(1).cpu())
        correct += int((pred == labels[lo : lo + batch_size]).sum())
    total = len(labels)
    return {"base": params.base, "timesteps": params.timesteps, "correct": correct, "total": total,
            "accuracy": correct / total, "seconds": time.perf_counter() - start}
