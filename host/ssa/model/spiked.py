"""SpikedAttention inference of a converted ANN bundle (training-free conversion, docs/rivals.md).

The bundle holds the ANN's INT8 units (folded BatchNorm), position embedding and head, plus per
activation point a threshold scale ``θ`` (calibrated by ``ssa_quantize.spiked.convert``), the
base ``B`` and ``T``. Every activation is a one-spike phase code (:mod:`ssa.model.phase`):

* pixels: ``encode(pixel, θ=1)``; patch unit + position embedding: ``encode(·, θ_patch)``;
* encoder layer: ``Q, K, V = encode(U(x))``; scores ``trace_matmul(Q, K)·θ_q θ_k/√D_K``;
  ``P = woss(scores)``; ``A = trace_matmul(P, Vᵀ)·θ_v``; ``x = encode(x̂ + encode(U_proj(encode(A))))``;
  ``x = encode(x̂ + encode(U_mlp2(encode(U_mlp1(x)))))``, where ``U(x) = trace_linear(x, W)·θ_x·a + b``;
* head: the mean over tokens of the decoded last layer (the output neurons' potentials, no spikes),
  then the INT8 head.

The forward is written once over a :class:`PhaseOps` (numpy here, torch in ``ssa_quantize.spiked``).
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from ssa.errors import BundleError, ConfigError
from ssa.model import phase
from ssa.model.bundle import Bundle, load_bundle
from ssa.model.coding import check_images, pad_images
from ssa.model.schema import Geometry, float_field, int_field, section

KIND = "spikedattention"
#: What to tell the user when a SpikedAttention bundle is wrong.
RECONVERT = "convert the ann checkpoint again with `ssa spiked --bundles`"


def theta_names(depth: int) -> list[str]:
    """Activation points that carry a threshold scale θ, in forward order."""
    names = ["patch"]
    for l in range(depth):
        names += [f"layers.{l}.{p}" for p in ("q", "k", "v", "attn", "proj", "res1", "mlp1", "mlp2", "res2")]
    return names


class PhaseOps(Protocol):
    """Array primitives of one backend (numpy: :class:`NumpyOps`; torch: ``ssa_quantize.spiked.TorchOps``)."""

    def asarray(self, a: np.ndarray) -> Any: ...
    def encode(self, u: Any, theta: float, base: float, timesteps: int) -> Any: ...
    def decode(self, times: Any, theta: float, base: float, timesteps: int) -> Any: ...
    def trace_linear(self, times: Any, weight: Any, base: float, timesteps: int) -> Any: ...
    def trace_matmul(self, ta: Any, tb: Any, base: float, timesteps: int) -> Any: ...
    def woss(self, scores: Any, base: float, timesteps: int) -> Any: ...
    def permute(self, x: Any, axes: tuple[int, ...]) -> Any: ...
    def mean(self, x: Any, axis: int) -> Any: ...


class NumpyOps:
    """The numpy primitives of :mod:`ssa.model.phase`."""

    asarray = staticmethod(np.asarray)
    encode = staticmethod(phase.encode)
    decode = staticmethod(phase.decode)
    trace_linear = staticmethod(phase.trace_linear)
    trace_matmul = staticmethod(phase.trace_matmul)
    woss = staticmethod(phase.woss)

    @staticmethod
    def permute(x: np.ndarray, axes: tuple[int, ...]) -> np.ndarray:
        return x.transpose(axes)

    @staticmethod
    def mean(x: np.ndarray, axis: int) -> np.ndarray:
        return x.mean(axis=axis)


@dataclass(frozen=True, kw_only=True)
class SpikedSpec(Geometry):
    """A validated SpikedAttention bundle manifest: the source ANN's geometry, B, T and every θ."""

    base: float
    timesteps: int
    theta: dict[str, float]

    unit_arrays = ("weight_scale", "scale", "bias")  # the folded units' float arrays; no BatchNorm statistics
    fix = RECONVERT

    @classmethod
    def from_manifest(cls, manifest: Any) -> "SpikedSpec":
        """Check the manifest's model geometry, phase parameters and θ; BundleError naming the field otherwise."""
        model, spk = section(manifest, "model", True, RECONVERT), manifest.get("spiked")
        if model.get("attention") != KIND or not isinstance(spk, dict):
            raise BundleError(f"not a SpikedAttention bundle (model.attention={model.get('attention')!r}); "
                              "convert an ann checkpoint with `ssa spiked`, or run spiking bundles with ssa.model.SpikingViT")
        geometry = Geometry.fields(model, RECONVERT)
        if "base" not in spk or "timesteps" not in spk or not isinstance(spk.get("theta"), dict):
            raise BundleError(f"SpikedAttention bundle manifest lacks spiked.base, spiked.timesteps or the spiked.theta object; {RECONVERT}")
        base = float_field("spiked", "base", spk["base"], 1.0, 2.0, RECONVERT)
        timesteps = int_field("spiked", "timesteps", spk["timesteps"], 1, 1024, RECONVERT)
        try:
            phase.check_phase(base, timesteps)
        except ConfigError as exc:
            raise BundleError(f"SpikedAttention bundle has invalid phase parameters: {exc}; {RECONVERT}") from None
        if model.get("timesteps", timesteps) != timesteps:
            raise BundleError(f"manifest model.timesteps={model.get('timesteps')!r} disagrees with spiked.timesteps={timesteps}; {RECONVERT}")
        names = theta_names(geometry["depth"])
        if set(spk["theta"]) != set(names):
            wrong = sorted(set(spk["theta"]) ^ set(names))
            raise BundleError(f"spiked.theta must name exactly the model's {len(names)} activation points (wrong: {wrong[:4]}); {RECONVERT}")
        theta = {name: float_field("spiked.theta", name, spk["theta"][name], 1e-30, 1e30, RECONVERT) for name in names}
        return cls(**geometry, base=base, timesteps=timesteps, theta=theta)


def expected_spiked_arrays(manifest: dict[str, Any]) -> dict[str, tuple[np.dtype, tuple[int, ...]]]:
    """The schema for ssa.model.bundle.load_bundle of a SpikedAttention bundle."""
    return SpikedSpec.from_manifest(manifest).arrays()


@dataclass(frozen=True)
class SpikedParams:
    """Everything a SpikedAttention forward needs (numpy arrays; weights hold INT8 values)."""

    base: float
    timesteps: int
    patch: int
    heads: int
    depth: int
    image_shape: tuple[int, int, int]
    theta: dict[str, float]
    arrays: dict[str, np.ndarray]
    pad: int = 0  # zeros on every side of the image before patching (the source model's padding)

    @classmethod
    def from_bundle(cls, bundle: Bundle) -> "SpikedParams":
        """Read a bundle written by ``ssa_quantize.spiked.write_spiked_bundle`` (checked by :class:`SpikedSpec`)."""
        spec = SpikedSpec.from_manifest(bundle.manifest)
        spec.check_values(bundle.arrays)
        return cls(spec.base, spec.timesteps, spec.patch, spec.heads, spec.depth,
                   (spec.channels, spec.image_size, spec.image_size), spec.theta, dict(bundle.arrays), spec.pad)


class SpikedViT:
    """SpikedAttention model on a :class:`PhaseOps` backend (numpy by default)."""

    def __init__(self, params: SpikedParams, ops: PhaseOps | None = None) -> None:
        self.p = params
        self.ops = ops or NumpyOps()
        self.w = {k: self.ops.asarray(np.asarray(v, dtype=np.float64)) for k, v in params.arrays.items()}
        head = np.asarray(params.arrays["head.weight"], np.float64) * np.asarray(params.arrays["head.weight_scale"], np.float64)
        self.head_weight_t = self.ops.asarray(head.T.copy())

    @classmethod
    def from_bundle(cls, path: str | Path, ops: PhaseOps | None = None) -> "SpikedViT":
        """Load a SpikedAttention bundle (``ssa spiked --bundles``)."""
        return cls(SpikedParams.from_bundle(load_bundle(path, expect=expected_spiked_arrays)), ops)

    def _unit(self, name: str, times: Any, theta_in: float) -> Any:
        p, w = self.p, self.w
        u = self.ops.trace_linear(times, w[f"{name}.weight"], p.base, p.timesteps)
        return u * theta_in * w[f"{name}.scale"] + w[f"{name}.bias"]

    def _enc(self, u: Any, point: str) -> Any:
        return self.ops.encode(u, self.p.theta[point], self.p.base, self.p.timesteps)

    def _dec(self, times: Any, point: str) -> Any:
        return self.ops.decode(times, self.p.theta[point], self.p.base, self.p.timesteps)

    def patches(self, images: np.ndarray) -> np.ndarray:
        """Checked, padded images ``[B, C, H, W]`` in [0, 1] → float64 patches ``[B, N, C·p·p]`` (features (c, y, x))."""
        images = pad_images(check_images(images, self.p.image_shape), self.p.pad)
        b, c, h, w_ = images.shape
        q = self.p.patch
        x = images.reshape(b, c, h // q, q, w_ // q, q).transpose(0, 2, 4, 1, 3, 5)
        return x.reshape(b, (h // q) * (w_ // q), c * q * q).astype(np.float64)

    def logits(self, images: np.ndarray) -> Any:
        """Logits ``[B, classes]`` (float64, backend array type)."""
        p, ops = self.p, self.ops
        pixels = ops.encode(ops.asarray(self.patches(images)), 1.0, p.base, p.timesteps)
        x = self._enc(self._unit("patch", pixels, 1.0) + self.w["pos_embedding"], "patch")
        x_point = "patch"
        for l in range(p.depth):
            x, x_point = self._layer(l, x, x_point)
        feats = ops.mean(self._dec(x, x_point), 1)
        return feats @ self.head_weight_t + self.w["head.bias"]

    def predict(self, images: np.ndarray) -> np.ndarray:
        """Predicted classes ``[B]`` (numpy backend)."""
        return np.asarray(self.logits(images)).argmax(axis=1)

    def _layer(self, l: int, x: Any, x_point: str) -> tuple[Any, str]:
        p, ops, pre = self.p, self.ops, f"layers.{l}"
        theta_x = p.theta[x_point]
        b, n, d = x.shape
        h = p.heads
        q, k, v = (ops.permute(self._enc(self._unit(f"{pre}.{m}.unit", x, theta_x), f"{pre}.{m}").reshape(b, n, h, d // h),
                               (0, 2, 1, 3)) for m in "qkv")
        scale = p.theta[f"{pre}.q"] * p.theta[f"{pre}.k"] / math.sqrt(d // h)
        probs = ops.woss(ops.trace_matmul(q, k, p.base, p.timesteps) * scale, p.base, p.timesteps)
        attn = ops.trace_matmul(probs, ops.permute(v, (0, 1, 3, 2)), p.base, p.timesteps) * p.theta[f"{pre}.v"]
        attn = self._enc(ops.permute(attn, (0, 2, 1, 3)).reshape(b, n, d), f"{pre}.attn")
        proj = self._enc(self._unit(f"{pre}.proj.unit", attn, p.theta[f"{pre}.attn"]), f"{pre}.proj")
        x = self._enc(self._dec(x, x_point) + self._dec(proj, f"{pre}.proj"), f"{pre}.res1")
        m1 = self._enc(self._unit(f"{pre}.mlp1.unit", x, p.theta[f"{pre}.res1"]), f"{pre}.mlp1")
        m2 = self._enc(self._unit(f"{pre}.mlp2.unit", m1, p.theta[f"{pre}.mlp1"]), f"{pre}.mlp2")
        x = self._enc(self._dec(x, f"{pre}.res1") + self._dec(m2, f"{pre}.mlp2"), f"{pre}.res2")
        return x, f"{pre}.res2"
