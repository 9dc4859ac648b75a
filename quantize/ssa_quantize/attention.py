"""Attention cores selectable by name: ``ssa``, ``spikformer``, ``a2os2a`` and ``ann``.

All cores take per-head tensors ``[T, B, H, N, D_K]`` and return the same shape.

* ``ssa`` (paper eq. 5-6): ``S = Bern(Q Kᵀ / D_K)``, ``Attn = Bern(S V / N)``. Training and ideal
  evaluation sample with torch's RNG. The training gradient is chosen by :data:`SSA_GRADS`:
  ``ste-draw`` (default) passes it straight through each Bernoulli draw (so ``dAttn/dV`` uses the
  sampled ``S``); ``expectation`` keeps the sampled forward but back-propagates through the block's
  expectation ``E[Attn] = (Q Kᵀ / D_K) V / N`` (no sampling noise in the gradient).
  ``gain_log2 = g > 0`` (contract v2's encoder gain, docs/spec.md section 3) raises both encoders'
  rates to ``min(1, 2^g · p)``, the contract's ideal-mode ``u·M < count·2^g``; 0 is contract v1.
  Hardware-exact evaluation (:class:`LfsrSampler`) runs the contract's LFSR streams, gain included,
  through the shared reference emulator ``ssa.backends.emulator.run`` on CPU uint8 spikes.
* ``spikformer``: ``LIF((Q Kᵀ) · scale · V)`` with integer products, no softmax (Zhou et al. 2023:
  scale 0.125, attention LIF threshold 0.5).
* ``a2os2a`` (Guo et al. 2025, A²OS²A): ``LIF((Q Kᵀ) V)`` with binary spiking Q, real non-negative
  K (ReLU path) and ternary spiking V (−1, 0, +1): no softmax, no scaling, additions only (the
  scale is learned by K's BatchNorm). The products are summed in float64 and rounded once to float32,
  so any summation order (torch, numpy, hardware adders) gives the same value (docs/rivals.md).
* ``ann``: ``softmax(Q Kᵀ / sqrt(D_K)) V`` on real-valued Q, K, V.
"""
from __future__ import annotations

import math
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace

import numpy as np
import torch
from torch import nn

from ssa.contract.config import SSAConfig
from ssa.backends.emulator import run as emulate
from ssa.errors import ConfigError
from ssa.contract.prng import model_call_seed, offset_seed

from ssa.model.coding import encode_pixels

from .names import ATTENTIONS, SSA_GRADS
from .neurons import MultiStepLIF, bernoulli_st, encode_pixels_torch

#: Spikformer attention (Zhou et al. 2023): scale of (Q Kᵀ) V and threshold of its LIF.
SPIKFORMER_SCALE, SPIKFORMER_THRESHOLD = 0.125, 0.5
#: A²OS²A attention: threshold of the LIF after (Q Kᵀ) V (no scale; docs/rivals.md).
A2OS2A_THRESHOLD = 1.0


def addition_only_scores(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
    """``(Q Kᵀ) V`` of A²OS²A in float64, rounded to float32: binary Q selects K entries, ternary V adds or subtracts."""
    with torch.autocast(device_type=q.device.type, enabled=False):
        q64, k64, v64 = q.double(), k.double(), v.double()
        return ((q64 @ k64.transpose(-1, -2)) @ v64).float()


class TorchSampler:
    """Stochastic parts sampled with torch's RNG on the model's device (training and ideal evaluation)."""

    def encode(self, images: torch.Tensor, timesteps: int) -> torch.Tensor:
        """Bernoulli-coded pixel spikes ``[T, B, ...]``."""
        return encode_pixels_torch(images, timesteps)

    def ssa(self, layer: int, q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, gain_log2: int = 0) -> torch.Tensor:
        """Eq. 5-6 with independent uniform draws (rates times ``2^gain_log2``, capped at 1); straight-through."""
        del layer
        with torch.autocast(device_type=q.device.type, enabled=False):
            q, k, v = q.float(), k.float(), v.float()
            s = bernoulli_st(gained(q @ k.transpose(-1, -2) / q.shape[-1], gain_log2))
            return bernoulli_st(gained(s @ v / q.shape[-2], gain_log2))


def gained(p: torch.Tensor, gain_log2: int) -> torch.Tensor:
    """``min(1, 2^gain_log2 · p)``: for ``p = count / M`` the spike probability of the contract's ideal encoder
    ``u·M < count·2^gain_log2`` (u uniform in [0, 1)); ``p`` itself when the gain is 0."""
    return p if gain_log2 == 0 else torch.clamp(p * float(2**gain_log2), max=1.0)


@dataclass(frozen=True)
class LfsrSampler:
    """Hardware-exact stochastic parts: numpy input coding and the contract's LFSR attention.

    ``first_index`` is the data-set index of the batch's first image. Encoder layer ``l`` uses
    ``layer_seed(seed, l)`` as the call seed and flattens blocks as ``(image, head)``
    (docs/spec.md section 6), counting images from the start of the data set, so the spikes
    of an image do not depend on the batch it is evaluated in.
    """

    seed: int
    first_index: int = 0
    threads: int = 1

    def encode(self, images: torch.Tensor, timesteps: int) -> torch.Tensor:
        """Pixel spikes from :func:`ssa.model.coding.encode_pixels`, as float32 on the images' device."""
        spikes = encode_pixels(images.detach().cpu().numpy(), timesteps, self.seed, self.first_index)
        return torch.from_numpy(spikes).to(images.device, torch.float32)

    def ssa(self, layer: int, q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, gain_log2: int = 0) -> torch.Tensor:
        """``ssa.backends.emulator.run`` on ``[T, B, H, N, D_K]`` with seed ``layer_seed(seed, layer) + first_index·H``
        and the encoders' gain exponent ``gain_log2``."""
        heads = q.shape[2]
        call_seed = model_call_seed(self.seed, layer, self.first_index, heads)
        arrays = [x.detach().to("cpu", torch.uint8).numpy() for x in (q, k, v)]
        attn = lfsr_attention(*arrays, seed=call_seed, threads=self.threads, gain_log2=gain_log2)
        return torch.from_numpy(attn).to(q.device, torch.float32)


def lfsr_attention(q: np.ndarray, k: np.ndarray, v: np.ndarray, seed: int, threads: int = 1, gain_log2: int = 0) -> np.ndarray:
    """``ssa.backends.emulator.run(q, k, v, SSAConfig(mode="lfsr", seed=seed, gain_log2=gain_log2))`` for ``[T, B, H, N, D_K]`` uint8.

    With ``threads > 1`` the images are split into chunks run in parallel; chunk starting at image
    ``b0`` uses seed ``seed + b0·H`` (block ``k`` of seed ``s`` is block 0 of seed ``s + k``,
    spec section 6), so the result equals one call over the whole batch.
    """
    config = SSAConfig.for_spikes(q.shape, seed=seed, mode="lfsr", gain_log2=gain_log2)
    batch, heads = q.shape[1], q.shape[2]
    if threads <= 1 or batch < 2:
        return emulate(q, k, v, config)
    bounds = np.linspace(0, batch, min(threads, batch) + 1).astype(int)

    def chunk(i: int) -> np.ndarray:
        lo, hi = bounds[i], bounds[i + 1]
        part = replace(config, seed=offset_seed(seed, int(lo) * heads))
        return emulate(q[:, lo:hi], k[:, lo:hi], v[:, lo:hi], part)

    with ThreadPoolExecutor(max_workers=threads) as pool:
        parts = list(pool.map(chunk, range(len(bounds) - 1)))
    return np.concatenate(parts, axis=1)


Sampler = TorchSampler | LfsrSampler


def ssa_expectation(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, gain_log2: int = 0) -> torch.Tensor:
    """``E[Attn] = (Q Kᵀ / D_K) V / N`` in float32 (the ``expectation`` gradient path). With a gain both stages are
    ``min(1, 2^g ·)`` of the previous stage's mean, a mean-field approximation (the exact mean of the
    saturating second encoder also depends on the spread of the row sum)."""
    with torch.autocast(device_type=q.device.type, enabled=False):
        q, k, v = q.float(), k.float(), v.float()
        return gained(gained(q @ k.transpose(-1, -2) / q.shape[-1], gain_log2) @ v / q.shape[-2], gain_log2)


class AttentionCore(nn.Module):
    """One of :data:`ATTENTIONS` applied to per-head ``[T, B, H, N, D_K]`` tensors.

    In training, ``rate`` holds the mean firing rate of the last output (a tensor with gradient, for
    the rate regulariser of ``ssa_quantize.training``); it is ``None`` otherwise.
    """

    def __init__(self, kind: str, layer: int, spikformer_scale: float = SPIKFORMER_SCALE,
                 spikformer_threshold: float = SPIKFORMER_THRESHOLD, ssa_grad: str = "ste-draw",
                 lif_options: dict | None = None, ssa_gain_log2: int = 0) -> None:
        super().__init__()
        if kind not in ATTENTIONS:
            raise ConfigError(f"attention={kind!r} is unknown; use one of {', '.join(ATTENTIONS)}")
        if ssa_grad not in SSA_GRADS:
            raise ConfigError(f"ssa_grad={ssa_grad!r} is unknown; use one of {', '.join(SSA_GRADS)}")
        self.kind = kind
        self.layer = layer
        self.scale = spikformer_scale
        self.ssa_grad = ssa_grad
        self.gain_log2 = ssa_gain_log2
        thresholds = {"spikformer": spikformer_threshold, "a2os2a": A2OS2A_THRESHOLD}
        self.lif = MultiStepLIF(v_threshold=thresholds[kind], **(lif_options or {})) if kind in thresholds else None
        self.rate: torch.Tensor | None = None

    def forward(self, q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, sampler: Sampler) -> torch.Tensor:
        out = self._core(q, k, v, sampler)
        self.rate = out.float().mean() if self.training and self.kind != "ann" else None
        return out

    def _core(self, q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, sampler: Sampler) -> torch.Tensor:
        if self.kind == "ssa":
            if self.ssa_grad == "expectation" and torch.is_grad_enabled():
                with torch.no_grad():
                    spikes = sampler.ssa(self.layer, q, k, v, self.gain_log2)
                mean = ssa_expectation(q, k, v, self.gain_log2)
                return spikes + (mean - mean.detach())  # value: the spikes exactly; gradient: of the expectation
            return sampler.ssa(self.layer, q, k, v, self.gain_log2)
        if self.kind == "spikformer":
            assert self.lif is not None
            return self.lif((q @ k.transpose(-1, -2)) @ v * self.scale)
        if self.kind == "a2os2a":
            assert self.lif is not None
            return self.lif(addition_only_scores(q, k, v))
        weights = torch.softmax(q @ k.transpose(-1, -2) / math.sqrt(q.shape[-1]), dim=-1)
        return weights @ v
