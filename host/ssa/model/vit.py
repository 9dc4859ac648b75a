"""Numpy inference of a trained spiking ViT from a deployment bundle (docs/bundle.md).

Everything but SSA attention runs here in float32 numpy, in the same operation order as the torch
model's evaluation (ssa_quantize.model), so the board needs numpy alone. Every SSA attention block
is sent to a chosen backend (`emulate`, `fast`, `csim`, `pynq`) with the bundle's encoder gain: the only
part that is stochastic, and bit-exact across backends. Spikformer and A²OS²A attention (deterministic) run inline.
"""
from __future__ import annotations

import ctypes
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Protocol

import numpy as np

from ssa import _native
from ssa.contract.config import SSAConfig, check_int
from ssa.contract.prng import model_call_seed
from ssa.errors import BundleError, ConfigError
from ssa.model.bundle import Bundle, load_bundle
from ssa.model.coding import check_images, encode_direct, encode_pixels, lif_multistep, pad_images, ternary_lif_multistep
from ssa.model.schema import UNIT_PARTS, ModelSpec, expected_arrays
from ssa.model.threads import DEFAULT_BLAS_THREADS, blas_threads


class AttentionBackend(Protocol):
    """Anything with run(q, k, v, config) -> Attn spikes, like ssa.backends.emulator."""

    def run(self, q: np.ndarray, k: np.ndarray, v: np.ndarray, config: SSAConfig) -> np.ndarray: ...


@lru_cache(maxsize=None)
def keep_freed_memory() -> bool:
    """Keep freed activations in the heap instead of returning them to the OS (glibc only).

    A forward pass allocates and frees a few MB per layer and image chunk; by default glibc maps
    each with mmap and unmaps it on free, so every chunk page-faults its memory back in (a fifth of
    the CPU time of `ssa demo`). Raising the mmap and trim thresholds keeps that memory for reuse;
    the process then holds on to its peak heap. Process-wide, once; False where not glibc.
    """
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):
        return False
    m_trim_threshold, m_top_pad, m_mmap_threshold = -1, -2, -3
    mb = 1 << 20
    return all(mallopt(option, value) == 1 for option, value in ((m_mmap_threshold, 32 * mb), (m_trim_threshold, 512 * mb), (m_top_pad, 64 * mb)))


def _spike_kernel() -> _native.NativeKernel | None:
    """The native kernel for spike x weight products, or None when it was not built (then BLAS)."""
    try:
        return _native.kernel()
    except _native.NativeUnavailable:
        return None


@dataclass(frozen=True)
class LinearUnit:
    """QuantLinear + folded BatchNorm: y = (x @ Wᵀ) · scale + bias with integer W.

    Inputs are spikes or small spike counts, so x @ Wᵀ is an exact integer sum (docs/bundle.md)
    whatever the summation order. It runs on all time steps and images at once: in the native
    kernel, which visits only the non-zero inputs (most are zero), where available, else as one
    float32 BLAS product. Several units sharing an input (Q, K, V) are fused into one product with
    `LinearUnit.concat`.
    """

    weight_t: np.ndarray  # float32 holding the int8 weights, C-contiguous [in, out] (cast once)
    scale: np.ndarray
    bias: np.ndarray

    @classmethod
    def from_bundle(cls, bundle: Bundle, name: str) -> "LinearUnit":
        return cls(np.ascontiguousarray(bundle[f"{name}.weight"].T, dtype=np.float32), bundle[f"{name}.scale"], bundle[f"{name}.bias"])

    @classmethod
    def concat(cls, units: list["LinearUnit"]) -> "LinearUnit":
        """One unit whose outputs are those of `units` side by side (same input)."""
        return cls(np.ascontiguousarray(np.concatenate([u.weight_t for u in units], axis=1)),
                   np.concatenate([u.scale for u in units]), np.concatenate([u.bias for u in units]))

    @property
    def out_features(self) -> int:
        return self.weight_t.shape[1]

    def __call__(self, x: np.ndarray, kernel: _native.NativeKernel | None = None, threads: int | None = None) -> np.ndarray:
        """(x @ Wᵀ) · scale + bias over the last axis of x; `kernel`: the native kernel (its rows split
        over `threads`, None: all cores) or None for BLAS."""
        flat = np.ascontiguousarray(x, dtype=np.float32).reshape(-1, x.shape[-1])
        y = kernel.spike_linear(flat, self.weight_t, threads) if kernel is not None else None
        if y is None:
            y = flat @ self.weight_t
        y *= self.scale
        y += self.bias
        return y.reshape(x.shape[:-1] + (y.shape[-1],))


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

    #: BLAS threads of the model's matmuls (ssa.model.threads: one by default; None: the BLAS default).
    blas_threads: int | None = DEFAULT_BLAS_THREADS

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
        self.a2os2a_threshold = spec.a2os2a_threshold
        self.patch_unit = LinearUnit.from_bundle(bundle, "patch")
        self.pos = bundle["pos_embedding"]
        self.layers = [self._layer_units(bundle, l) for l in range(self.depth)]
        self.spike_kernel = _spike_kernel()
        keep_freed_memory()
        #: Images run through the encoder together: few enough that a layer's activations stay in
        #: cache (images are independent; results do not depend on it).
        self.chunk_images = 16
        self.head_weight = (bundle["head.weight"].astype(np.float32) * bundle["head.weight_scale"].astype(np.float32).reshape(-1, 1))
        self.head_bias = bundle["head.bias"].astype(np.float32)
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

    @staticmethod
    def _layer_units(bundle: Bundle, layer: int) -> dict[str, LinearUnit]:
        """The layer's units, Q, K and V fused into one `qkv` product."""
        units = {part: LinearUnit.from_bundle(bundle, f"layers.{layer}.{part}.unit") for part in UNIT_PARTS}
        units["qkv"] = LinearUnit.concat([units.pop(part) for part in "qkv"])
        return units

    @property
    def tokens(self) -> int:
        return self.spec.tokens

    def block_config(self, seed: int) -> SSAConfig:
        """Configuration of this model's attention blocks for a call seed, with the bundle's encoder gain (contract v2)."""
        return SSAConfig(n=self.tokens, dk=self.embed_dim // self.heads, t=self.timesteps, seed=seed, mode="lfsr",
                         gain_log2=self.spec.ssa_gain_log2)

    def encode(self, images: np.ndarray, first_index: int = 0) -> np.ndarray:
        """First-layer input [T, B, C, H + 2·pad, W + 2·pad] of images [B, C, H, W] (or [B, H, W]) in [0, 1].

        Spikes for Bernoulli coding, 8-bit pixel levels for direct coding (docs/bundle.md step 2).
        """
        if check_int("first_index", first_index) < 0:
            raise ConfigError(f"first_index={first_index} must be a non-negative data-set index")
        images = check_images(images, self.image_shape)
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
        with blas_threads(self.blas_threads):
            pooled = [self._features(spikes[:, lo:lo + self.chunk_images], first_index + lo) for lo in range(0, spikes.shape[1], self.chunk_images)]
        return np.concatenate(pooled) @ self.head_weight.T + self.head_bias

    def _features(self, spikes: np.ndarray, first_index: int) -> np.ndarray:
        """Mean-pooled features [B, D] of input spikes [T, B, C, H, W] (images first_index, ...)."""
        patches = self._patchify(spikes)
        self._record("patch", -1, patches)
        x = self._lif(self._linear(self.patch_unit, patches) + self.pos)
        for l, units in enumerate(self.layers):
            x = self._encoder_layer(x, l, units, first_index)
        return x.mean(axis=(0, 2), dtype=np.float32)

    def _linear(self, unit: LinearUnit, x: np.ndarray) -> np.ndarray:
        """A unit's product on this model's kernel, on `blas_threads` threads (native or BLAS)."""
        return unit(x, self.spike_kernel, self.blas_threads)

    def _lif(self, x: np.ndarray) -> np.ndarray:
        spikes = self.spike_kernel.lif(x, self.tau, self.v_threshold) if self.spike_kernel is not None else None
        return spikes if spikes is not None else lif_multistep(x, self.tau, self.v_threshold)

    def _patchify(self, x: np.ndarray) -> np.ndarray:
        t, b, c, h, w = x.shape
        p = self.patch
        x = x.reshape(t, b, c, h // p, p, w // p, p).transpose(0, 1, 3, 5, 2, 4, 6)
        return x.reshape(t, b, (h // p) * (w // p), c * p * p).astype(np.float32)

    def _encoder_layer(self, x: np.ndarray, layer: int, units: dict[str, LinearUnit], first_index: int) -> np.ndarray:
        t, b, n, d = x.shape
        h = self.heads
        self._record("qkv_in", layer, x)
        q, k, v = (a.reshape(t, b, n, h, d // h).transpose(0, 1, 3, 2, 4) for a in self._qkv_neurons(self._linear(units["qkv"], x)))
        attn = self._attention(q, k, v, layer, first_index)
        for name, spikes in (("q", q), ("k", k), ("v", v), ("attn", attn)):
            self._record(name, layer, spikes)
        x = x + self._lif(self._linear(units["proj"], attn.transpose(0, 1, 3, 2, 4).reshape(t, b, n, d)))
        self._record("mlp_in", layer, x)
        hidden = self._lif(self._linear(units["mlp1"], x))
        self._record("mlp1", layer, hidden)
        return x + self._lif(self._linear(units["mlp2"], hidden))

    def _record(self, name: str, layer: int, tensor: np.ndarray) -> None:
        if self.recorder is not None:
            self.recorder(name, layer, tensor)

    def _qkv_neurons(self, pre: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Q, K, V from their fused pre-activations [..., 3·D]: one LIF pass over all three, except
        A²OS²A's K (ReLU, real-valued) and V (ternary LIF)."""
        d = self.embed_dim
        if self.attention != "a2os2a":
            out = self._lif(pre)
            return out[..., :d], out[..., d:2 * d], out[..., 2 * d:]
        q, k, v = (np.ascontiguousarray(pre[..., m * d:(m + 1) * d]) for m in range(3))
        return self._lif(q), np.maximum(k, np.float32(0)), ternary_lif_multistep(v, self.tau, self.v_threshold)

    def _attention(self, q: np.ndarray, k: np.ndarray, v: np.ndarray, layer: int, first_index: int) -> np.ndarray:
        if self.attention == "spikformer":
            scores = (q @ k.swapaxes(-1, -2)) @ v * np.float32(self.spikformer_scale)
            return lif_multistep(scores, self.tau, self.spikformer_threshold)
        if self.attention == "a2os2a":
            scores = ((q.astype(np.float64) @ k.astype(np.float64).swapaxes(-1, -2)) @ v.astype(np.float64)).astype(np.float32)
            return lif_multistep(scores, self.tau, self.a2os2a_threshold)
        seed = model_call_seed(self.seed, layer, first_index, self.heads)
        start = time.perf_counter()
        spikes = [np.ascontiguousarray(x, dtype=np.uint8) for x in (q, k, v)]  # backends read them in place
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
