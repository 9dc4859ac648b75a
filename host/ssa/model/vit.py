"""Numpy inference of a trained spiking ViT from a deployment bundle (docs/bundle.md).

Everything but attention runs here in float32 numpy, in the same operation order as the torch
model's evaluation (ssa_quantize.model), so the board needs numpy alone. Every attention block is
sent to a chosen backend (`emulate`, `fast`, `csim`, `pynq`): the only part that is stochastic,
and bit-exact across backends.
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from ssa.contract.config import SSAConfig, check_seed
from ssa.contract.prng import model_call_seed
from ssa.errors import BundleError, ConfigError, ImageError, ShapeError
from ssa.model.bundle import Bundle, load_bundle
from ssa.model.coding import encode_pixels, lif_multistep, ternary_lif_multistep

SUPPORTED_ATTENTION = ("ssa", "spikformer", "a2os2a")


class AttentionBackend(Protocol):
    """Anything with run(q, k, v, config) -> Attn spikes, like ssa.backends.emulator."""

    def run(self, q: np.ndarray, k: np.ndarray, v: np.ndarray, config: SSAConfig) -> np.ndarray: ...


@dataclass(frozen=True)
class LinearUnit:
    """QuantLinear + folded BatchNorm: y = (x @ Wᵀ) · scale + bias with integer W."""

    weight: np.ndarray  # float32 holding int8 values, [out, in]
    scale: np.ndarray
    bias: np.ndarray

    @classmethod
    def from_bundle(cls, bundle: Bundle, name: str) -> "LinearUnit":
        w = bundle[f"{name}.weight"]
        if w.dtype != np.int8:
            raise BundleError(f"{name}.weight must be int8, got {w.dtype}")
        return cls(w.astype(np.float32), bundle[f"{name}.scale"].astype(np.float32), bundle[f"{name}.bias"].astype(np.float32))

    def __call__(self, x: np.ndarray) -> np.ndarray:
        return (x.astype(np.float32) @ self.weight.T) * self.scale + self.bias


@dataclass
class RunStats:
    """Counts of the last forward pass (for `ssa demo`)."""

    attention_calls: int = 0
    attention_blocks: int = 0
    attention_seconds: float = 0.0


class SpikingViT:
    """The bundle's model on numpy; attention blocks on `backend`."""

    def __init__(self, bundle: Bundle, backend: AttentionBackend | None = None) -> None:
        self.manifest = bundle.manifest
        cfg: dict[str, Any] = bundle.manifest.get("model", {})
        try:
            self.attention = cfg["attention"]
            self.timesteps, self.patch, self.heads = int(cfg["timesteps"]), int(cfg["patch"]), int(cfg["heads"])
            self.depth, self.embed_dim = int(cfg["depth"]), int(cfg["embed_dim"])
            self.image_shape = (int(cfg["channels"]), int(cfg["image_size"]), int(cfg["image_size"]))
            self.tau, self.v_threshold = float(cfg["tau"]), float(cfg["v_threshold"])
        except (KeyError, TypeError, ValueError) as exc:
            raise BundleError(f"bundle manifest lacks a complete 'model' section ({exc!r}); re-export it with `ssa export`") from exc
        if self.attention == "spikedattention":
            raise BundleError("this is a SpikedAttention bundle: run it with ssa.model.spiked.SpikedViT.from_bundle")
        if self.attention not in SUPPORTED_ATTENTION:
            raise BundleError(f"the numpy runtime runs spiking models {SUPPORTED_ATTENTION}, this bundle is {self.attention!r}")
        try:
            self.seed = check_seed(bundle.manifest.get("seed", 0))
        except ConfigError as exc:
            raise BundleError(f"bundle manifest has an invalid seed: {exc}") from exc
        if self.attention == "spikformer":
            try:
                spk = bundle.manifest["neuron"]["spikformer_attention"]
                self.spikformer_scale, self.spikformer_threshold = float(spk["scale"]), float(spk["v_threshold"])
            except (KeyError, TypeError, ValueError) as exc:
                raise BundleError(f"spikformer bundle lacks neuron.spikformer_attention ({exc!r}); re-export it") from exc
        if self.attention == "a2os2a":
            try:
                self.a2os2a_threshold = float(bundle.manifest["neuron"]["a2os2a_attention"]["v_threshold"])
            except (KeyError, TypeError, ValueError) as exc:
                raise BundleError(f"a2os2a bundle lacks neuron.a2os2a_attention ({exc!r}); re-export it") from exc
        self.patch_unit = LinearUnit.from_bundle(bundle, "patch")
        self.pos = bundle["pos_embedding"].astype(np.float32)
        self.layers = [{part: LinearUnit.from_bundle(bundle, f"layers.{l}.{part}.unit")
                        for part in ("q", "k", "v", "proj", "mlp1", "mlp2")} for l in range(self.depth)]
        self.head_weight = (bundle["head.weight"].astype(np.float32) * bundle["head.weight_scale"].astype(np.float32).reshape(-1, 1))
        self.head_bias = bundle["head.bias"].astype(np.float32)
        if backend is None:
            from ssa.backends import (
                emulator as backend,  # the reference: always available
            )
        self.backend = backend
        self.stats = RunStats()

    @classmethod
    def from_bundle(cls, path: str | Path, backend: AttentionBackend | None = None) -> "SpikingViT":
        """Load a bundle file and build the model."""
        return cls(load_bundle(path), backend)

    @property
    def tokens(self) -> int:
        return (self.image_shape[1] // self.patch) ** 2

    def block_config(self, seed: int) -> SSAConfig:
        """Configuration of this model's attention blocks for a call seed."""
        return SSAConfig(n=self.tokens, dk=self.embed_dim // self.heads, t=self.timesteps, seed=seed, mode="lfsr")

    def encode(self, images: np.ndarray, first_index: int = 0) -> np.ndarray:
        """Input spikes [T, B, C, H, W] of images [B, C, H, W] (or [B, H, W]) in [0, 1]."""
        images = np.asarray(images, dtype=np.float32)
        if images.ndim == 3 and self.image_shape[0] == 1:
            images = images[:, None]
        if images.shape[1:] != self.image_shape:
            raise ShapeError(f"images must be [B, {', '.join(map(str, self.image_shape))}] with pixels in [0, 1], got {images.shape}")
        if not np.isfinite(images).all():
            raise ImageError("images hold NaN or infinite pixels; pixels must be finite values in [0, 1]")
        if images.size and (images.min() < 0 or images.max() > 1):
            raise ImageError("pixels must lie in [0, 1]: divide uint8 images by 255")
        return encode_pixels(images, self.timesteps, self.seed, first_index)

    def logits(self, images: np.ndarray, first_index: int = 0) -> np.ndarray:
        """Logits [B, classes]; image b is data-set image first_index + b (it fixes its random numbers)."""
        return self.logits_from_spikes(self.encode(images, first_index), first_index)

    def predict(self, images: np.ndarray, first_index: int = 0) -> np.ndarray:
        """Predicted classes [B]."""
        return self.logits(images, first_index).argmax(axis=1)

    def logits_from_spikes(self, spikes: np.ndarray, first_index: int = 0) -> np.ndarray:
        """Logits from input spikes [T, B, C, H, W]."""
        self.stats = RunStats()
        x = self._lif(self.patch_unit(self._patchify(spikes)) + self.pos)
        for l, units in enumerate(self.layers):
            x = self._encoder_layer(x, l, units, first_index)
        return x.mean(axis=(0, 2), dtype=np.float32) @ self.head_weight.T + self.head_bias

    def _lif(self, x: np.ndarray) -> np.ndarray:
        return lif_multistep(x, self.tau, self.v_threshold)

    def _patchify(self, x: np.ndarray) -> np.ndarray:
        t, b, c, h, w = x.shape
        p = self.patch
        x = x.reshape(t, b, c, h // p, p, w // p, p).transpose(0, 1, 3, 5, 2, 4, 6)
        return x.reshape(t, b, (h // p) * (w // p), c * p * p).astype(np.float32)

    def _encoder_layer(self, x: np.ndarray, layer: int, units: dict[str, LinearUnit], first_index: int) -> np.ndarray:
        t, b, n, d = x.shape
        h = self.heads
        q, k, v = (self._qkv_neuron(m, units[m](x)).reshape(t, b, n, h, d // h).transpose(0, 1, 3, 2, 4) for m in "qkv")
        attn = self._attention(q, k, v, layer, first_index).astype(np.float32)
        x = x + self._lif(units["proj"](attn.transpose(0, 1, 3, 2, 4).reshape(t, b, n, d)))
        return x + self._lif(units["mlp2"](self._lif(units["mlp1"](x))))

    def _qkv_neuron(self, part: str, x: np.ndarray) -> np.ndarray:
        """LIF, except A²OS²A's K (ReLU, real) and V (ternary LIF)."""
        if self.attention == "a2os2a" and part == "k":
            return np.maximum(x, np.float32(0))
        if self.attention == "a2os2a" and part == "v":
            return ternary_lif_multistep(x, self.tau, self.v_threshold)
        return self._lif(x)

    def _attention(self, q: np.ndarray, k: np.ndarray, v: np.ndarray, layer: int, first_index: int) -> np.ndarray:
        if self.attention == "spikformer":
            scores = (q @ k.swapaxes(-1, -2)) @ v * np.float32(self.spikformer_scale)
            return lif_multistep(scores, self.tau, self.spikformer_threshold)
        if self.attention == "a2os2a":
            scores = ((q.astype(np.float64) @ k.astype(np.float64).swapaxes(-1, -2)) @ v.astype(np.float64)).astype(np.float32)
            return lif_multistep(scores, self.tau, self.a2os2a_threshold)
        seed = model_call_seed(self.seed, layer, first_index, self.heads)
        start = time.perf_counter()
        spikes = [x.astype(np.uint8) for x in (q, k, v)]
        out = self.backend.run(*spikes, self.block_config(seed))
        self.stats.attention_seconds += time.perf_counter() - start
        self.stats.attention_calls += 1
        self.stats.attention_blocks += q.shape[1] * q.shape[2]
        return out
