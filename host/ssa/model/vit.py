"""Numpy inference of a trained spiking ViT from a deployment bundle (docs/bundle.md).

Everything but attention runs here in float32 numpy, in the same operation order as the torch
model's evaluation (ssa_quantize.model), so the board needs numpy alone. Every attention block is
sent to a chosen backend (`emulate`, `fast`, `csim`, `pynq`): the only part that is stochastic,
and bit-exact across backends.
"""
from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np

from ssa.contract.config import SSAConfig, check_int
from ssa.contract.prng import model_call_seed
from ssa.errors import BundleError, ConfigError, ImageError, ShapeError
from ssa.model.bundle import Bundle, load_bundle
from ssa.model.coding import encode_direct, encode_pixels, lif_multistep, pad_images
from ssa.model.schema import ModelSpec, expected_arrays


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
        return cls(bundle[f"{name}.weight"].astype(np.float32), bundle[f"{name}.scale"], bundle[f"{name}.bias"])

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

    #: Optional observer recorder(name, layer, tensor) of the activations of a forward pass
    #: ("patch", "qkv_in", "q", "k", "v", "attn", "mlp_in", "mlp1"), e.g. ssa.cost.model_energy.SpikeRecorder.
    recorder: Callable[[str, int, np.ndarray], None] | None = None

    def __init__(self, bundle: Bundle, backend: AttentionBackend | str | None = None) -> None:
        """Validate the bundle against the model schema (ssa.model.schema), then build the model."""
        spec = ModelSpec.from_manifest(bundle.manifest)
        spec.check_values(bundle.arrays)
        self.manifest, self.spec = bundle.manifest, spec
        self.attention, self.timesteps, self.patch, self.heads = spec.attention, spec.timesteps, spec.patch, spec.heads
        self.depth, self.embed_dim = spec.depth, spec.embed_dim
        self.image_shape = (spec.channels, spec.image_size, spec.image_size)
        self.tau, self.v_threshold, self.seed = spec.tau, spec.v_threshold, spec.seed
        self.pad, self.input_coding = spec.pad, spec.input_coding
        self.spikformer_scale, self.spikformer_threshold = spec.spikformer_scale, spec.spikformer_threshold
        self.patch_unit = LinearUnit.from_bundle(bundle, "patch")
        self.pos = bundle["pos_embedding"]
        self.layers = [{part: LinearUnit.from_bundle(bundle, f"layers.{l}.{part}.unit")
                        for part in ("q", "k", "v", "proj", "mlp1", "mlp2")} for l in range(self.depth)]
        self.head_weight = bundle["head.weight"].astype(np.float32) * bundle["head.weight_scale"].reshape(-1, 1)
        self.head_bias = bundle["head.bias"]
        self.backend = _as_backend(backend)
        self.stats = RunStats()

    @classmethod
    def from_bundle(cls, path: str | Path, backend: AttentionBackend | str | None = None) -> "SpikingViT":
        """Load a bundle file (manifest and array headers checked against the schema first) and build the model."""
        bundle = load_bundle(path, expect=expected_arrays)
        try:
            return cls(bundle, backend)
        except BundleError as exc:  # the values (ModelSpec.check_values): name the file too
            raise BundleError(f"{path}: {exc}") from None

    @property
    def tokens(self) -> int:
        return self.spec.tokens

    def block_config(self, seed: int) -> SSAConfig:
        """Configuration of this model's attention blocks for a call seed."""
        return SSAConfig(n=self.tokens, dk=self.embed_dim // self.heads, t=self.timesteps, seed=seed, mode="lfsr")

    def encode(self, images: np.ndarray, first_index: int = 0) -> np.ndarray:
        """First-layer input [T, B, C, H + 2·pad, W + 2·pad] of images [B, C, H, W] (or [B, H, W]) in [0, 1].

        Spikes for Bernoulli coding, 8-bit pixel levels for direct coding (docs/bundle.md step 2).
        """
        if check_int("first_index", first_index) < 0:
            raise ConfigError(f"first_index={first_index} must be a non-negative data-set index")
        try:
            with np.errstate(over="ignore", invalid="ignore"):  # out-of-range values become inf: refused below
                images = np.asarray(images, dtype=np.float32)
        except (TypeError, ValueError) as exc:
            raise ImageError(f"images must be a numeric array [B, {', '.join(map(str, self.image_shape))}] in [0, 1]: {exc}") from None
        if images.ndim == 3 and self.image_shape[0] == 1:
            images = images[:, None]
        if images.shape[1:] != self.image_shape:
            raise ShapeError(f"images must be [B, {', '.join(map(str, self.image_shape))}] with pixels in [0, 1], got {images.shape}")
        if not np.isfinite(images).all():
            raise ImageError("images hold NaN or infinite pixels; pixels must be finite values in [0, 1]")
        if images.size and (images.min() < 0 or images.max() > 1):
            raise ImageError("pixels must lie in [0, 1]: divide uint8 images by 255")
        images = pad_images(images, self.pad)
        if self.input_coding == "direct":
            return encode_direct(images, self.timesteps)
        return encode_pixels(images, self.timesteps, self.seed, first_index)

    def logits(self, images: np.ndarray, first_index: int = 0) -> np.ndarray:
        """Logits [B, classes]; image b is data-set image first_index + b (it fixes its random numbers)."""
        return self.logits_from_spikes(self.encode(images, first_index), first_index)

    def predict(self, images: np.ndarray, first_index: int = 0) -> np.ndarray:
        """Predicted classes [B]."""
        return self.logits(images, first_index).argmax(axis=1)

    def logits_from_spikes(self, spikes: np.ndarray, first_index: int = 0) -> np.ndarray:
        """Logits from the coded (padded) input [T, B, C, H, W] of :meth:`encode`."""
        self.stats = RunStats()
        patches = self._patchify(spikes)
        self._record("patch", -1, patches)
        x = self._lif(self.patch_unit(patches) + self.pos)
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
        self._record("qkv_in", layer, x)
        q, k, v = (self._lif(units[m](x)).reshape(t, b, n, h, d // h).transpose(0, 1, 3, 2, 4) for m in "qkv")
        attn = self._attention(q, k, v, layer, first_index).astype(np.float32)
        for name, spikes in (("q", q), ("k", k), ("v", v), ("attn", attn)):
            self._record(name, layer, spikes)
        x = x + self._lif(units["proj"](attn.transpose(0, 1, 3, 2, 4).reshape(t, b, n, d)))
        self._record("mlp_in", layer, x)
        hidden = self._lif(units["mlp1"](x))
        self._record("mlp1", layer, hidden)
        return x + self._lif(units["mlp2"](hidden))

    def _record(self, name: str, layer: int, tensor: np.ndarray) -> None:
        if self.recorder is not None:
            self.recorder(name, layer, tensor)

    def _attention(self, q: np.ndarray, k: np.ndarray, v: np.ndarray, layer: int, first_index: int) -> np.ndarray:
        if self.attention == "spikformer":
            scores = (q @ k.swapaxes(-1, -2)) @ v * np.float32(self.spikformer_scale)
            return lif_multistep(scores, self.tau, self.spikformer_threshold)
        seed = model_call_seed(self.seed, layer, first_index, self.heads)
        start = time.perf_counter()
        spikes = [x.astype(np.uint8) for x in (q, k, v)]
        out = self.backend.run(*spikes, self.block_config(seed))
        self.stats.attention_seconds += time.perf_counter() - start
        self.stats.attention_calls += 1
        self.stats.attention_blocks += q.shape[1] * q.shape[2]
        return out


def _as_backend(backend: AttentionBackend | str | None) -> AttentionBackend:
    """A backend object, a registered backend name (ssa.backends) or None for the reference emulator."""
    from ssa.backends import get_backend

    if backend is None or isinstance(backend, str):
        return get_backend(backend or "emulate")
    if not callable(getattr(backend, "run", None)):
        raise ConfigError(f"backend must have run(q, k, v, config) or be a name such as 'emulate', got {type(backend).__name__}")
    return backend
