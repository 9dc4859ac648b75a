"""The model schema of a deployment bundle (docs/bundle.md, "Schema").

`ModelSpec.from_manifest` gives every manifest field a type and a range and cross-checks the
fields against each other; `ModelSpec.arrays` then names every array the model needs with its
exact dtype and shape, so the loader (ssa.model.bundle.load_bundle) can check the .npy headers
and bound the memory before decompressing anything; `ModelSpec.check_values` checks the loaded
numbers (finite floats, positive scales) before any compute. Every failure is a BundleError.
`Geometry` (the model's shape and its arrays) is shared with the SpikedAttention bundles'
schema, `ssa.model.spiked.SpikedSpec`.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Mapping

import numpy as np

from ssa.contract.config import CONTRACT_LIMITS, GAIN_LOG2_MAX, SUPPORTED_VERSIONS, check_seed
from ssa.errors import BundleError, ConfigError
from ssa.model.coding import INPUT_CODINGS

SUPPORTED_ATTENTION = ("ssa", "spikformer", "a2os2a")
UNIT_PARTS = ("q", "k", "v", "proj", "mlp1", "mlp2")
#: Integer fields of the `model` section and their inclusive ranges.
INT_RANGES = {
    "timesteps": (1, CONTRACT_LIMITS.t_max), "image_size": (1, 1024), "channels": (1, 16), "patch": (1, 1024),
    "embed_dim": (1, 4096), "depth": (1, 64), "heads": (1, 4096), "mlp_ratio": (1, 16), "classes": (1, 100_000),
}
#: Float fields of the `model` section (and of neuron.spikformer_attention) and their inclusive ranges.
TAU_RANGE = (1.0, 1e4)
THRESHOLD_RANGE = (1e-3, 1e3)
SCALE_RANGE = (1e-6, 1e3)
FIX = "re-export the bundle with `ssa export`"
#: Contract version of a manifest without `contract_version` (written before version 2 existed).
UNVERSIONED_CONTRACT = 1
#: First contract version with the SSA encoders' gain (`model.ssa_gain_log2`).
GAIN_CONTRACT = 2
F32, I8 = np.dtype("<f4"), np.dtype("i1")


def int_field(section: str, key: str, value: Any, lo: int, hi: int, fix: str = FIX) -> int:
    """`value` as a manifest integer in lo..hi, or a BundleError naming the field and `fix`."""
    if type(value) is not int:
        raise BundleError(f"manifest {section}.{key} must be an integer, got {value!r}; {fix}")
    if not lo <= value <= hi:
        raise BundleError(f"manifest {section}.{key}={value} is outside {lo}..{hi}; {fix}")
    return value


def float_field(section: str, key: str, value: Any, lo: float, hi: float, fix: str = FIX) -> float:
    """`value` as a finite manifest number in [lo, hi], or a BundleError naming the field and `fix`."""
    if type(value) not in (int, float):
        raise BundleError(f"manifest {section}.{key} must be a number, got {value!r}; {fix}")
    if not (math.isfinite(value) and lo <= value <= hi):
        raise BundleError(f"manifest {section}.{key}={value} is outside [{lo:g}, {hi:g}] (or not finite); {fix}")
    return float(value)


def section(manifest: Mapping[str, Any], key: str, required: bool, fix: str = FIX) -> dict[str, Any]:
    """The manifest's `key` object ({} when absent and not required), or a BundleError."""
    value = manifest.get(key)
    if value is None and not required:
        return {}
    if value is None:
        raise BundleError(f"bundle manifest lacks a complete {key!r} section; {fix}")
    if not isinstance(value, dict):
        raise BundleError(f"manifest {key!r} must be an object (the bundle's {key} section), got {value!r}; {fix}")
    return value


class PatchShape:
    """Sizes derived from a model's image_size, pad, patch, embed_dim and heads (runtime and training alike)."""

    image_size: int
    pad: int
    patch: int
    embed_dim: int
    heads: int

    @property
    def padded_size(self) -> int:
        """Image side after padding."""
        return self.image_size + 2 * self.pad

    @property
    def tokens(self) -> int:
        """N: patches per image."""
        return (self.padded_size // self.patch) ** 2

    @property
    def head_dim(self) -> int:
        """D_K: features per head."""
        return self.embed_dim // self.heads


@dataclass(frozen=True, kw_only=True)
class Geometry(PatchShape):
    """The shape of a bundle's model (every bundle kind): image, patches, widths, depth, classes."""

    image_size: int
    channels: int
    patch: int
    embed_dim: int
    depth: int
    heads: int
    mlp_ratio: int
    classes: int
    pad: int = 0  # zeros added on every side of the image before patching (the paper preset pads 28 -> 32)

    @classmethod
    def fields(cls, model: Mapping[str, Any], fix: str = FIX) -> dict[str, int]:
        """The geometry fields of a `model` section, typed, in range and consistent with each other."""
        names = [key for key in INT_RANGES if key != "timesteps"]
        missing = sorted(set(names) - set(model))
        if missing:
            raise BundleError(f"bundle manifest lacks a complete 'model' section (missing {missing}); {fix}")
        values = {key: int_field("model", key, model[key], *INT_RANGES[key], fix) for key in names}
        values["pad"] = int_field("model", "pad", model.get("pad", 0), 0, 512, fix)
        padded = values["image_size"] + 2 * values["pad"]
        if padded % values["patch"]:
            raise BundleError(f"manifest model.patch={values['patch']} does not divide model.image_size + 2·model.pad = {padded}; {fix}")
        if values["embed_dim"] % values["heads"]:
            raise BundleError(f"manifest model.heads={values['heads']} does not divide model.embed_dim={values['embed_dim']}; {fix}")
        return values

    def units(self) -> dict[str, tuple[int, int]]:
        """Every QuantLinear + BN unit's (out, in) features."""
        d, hidden = self.embed_dim, self.embed_dim * self.mlp_ratio
        shapes = {"q": (d, d), "k": (d, d), "v": (d, d), "proj": (d, d), "mlp1": (hidden, d), "mlp2": (d, hidden)}
        units = {"patch": (d, self.channels * self.patch * self.patch)}
        units.update({f"layers.{l}.{part}.unit": shapes[part] for l in range(self.depth) for part in UNIT_PARTS})
        return units

    def arrays(self) -> dict[str, tuple[np.dtype, tuple[int, ...]]]:
        """Every array of the bundle with its dtype and shape (docs/bundle.md, "Arrays")."""
        out: dict[str, tuple[np.dtype, tuple[int, ...]]] = {}
        per_unit = {"weight_scale": (1,), "bn_eps": (1,), "scale": (), "bias": (), "bn_mean": (), "bn_var": (), "bn_weight": (), "bn_bias": ()}
        for name, (n_out, n_in) in self.units().items():
            out[f"{name}.weight"] = (I8, (n_out, n_in))
            out.update({f"{name}.{part}": (F32, shape or (n_out,)) for part, shape in per_unit.items() if part in self.unit_arrays})
        out["pos_embedding"] = (F32, (self.tokens, self.embed_dim))
        out["head.weight"] = (I8, (self.classes, self.embed_dim))
        out["head.weight_scale"] = (F32, (1,))
        out["head.bias"] = (F32, (self.classes,))
        return out

    #: The float arrays kept per unit besides the INT8 weight (a spiking bundle keeps its BatchNorm).
    unit_arrays = ("weight_scale", "bn_eps", "scale", "bias", "bn_mean", "bn_var", "bn_weight", "bn_bias")
    #: What to tell the user when an array is wrong.
    fix = FIX

    def check_values(self, arrays: Mapping[str, np.ndarray]) -> None:
        """Dtypes and shapes as `arrays()` says, float arrays finite, scales, variances and eps positive."""
        for name, (dtype, shape) in self.arrays().items():
            a = arrays.get(name)
            if a is None or a.dtype != dtype or a.shape != shape:
                got = "missing" if a is None else f"{a.dtype} {list(a.shape)}"
                raise BundleError(f"array {name!r} is {got} but the manifest's model needs {dtype} {list(shape)}; {self.fix}")
            if dtype == F32 and not np.isfinite(a).all():
                raise BundleError(f"array {name!r} holds NaN or infinite values; {self.fix}")
            if name.endswith(("weight_scale", "bn_eps")) and not (a > 0).all():
                raise BundleError(f"array {name!r} must be positive, got {a}; {self.fix}")
            if name.endswith("bn_var") and (a < 0).any():
                raise BundleError(f"array {name!r} (a variance) holds negative values; {self.fix}")


@dataclass(frozen=True, kw_only=True)
class ModelSpec(Geometry):
    """A validated `model` section, seed and contract version of a spiking bundle's manifest (`ssa`, `spikformer`, `a2os2a`)."""

    attention: str
    timesteps: int
    tau: float
    v_threshold: float
    seed: int
    spikformer_scale: float
    spikformer_threshold: float
    a2os2a_threshold: float
    input_coding: str = "bernoulli"  # first-layer input: Bernoulli spikes or direct 8-bit levels (ssa.model.coding)
    contract_version: int = UNVERSIONED_CONTRACT  # docs/spec.md version the SSA blocks follow (SUPPORTED_VERSIONS)
    ssa_gain_log2: int = 0  # both SSA encoders' gain exponent (contract v2; 0 = v1)

    @classmethod
    def from_manifest(cls, manifest: Mapping[str, Any]) -> ModelSpec:
        """Check types, ranges and cross-checks of the manifest; BundleError naming the field otherwise."""
        model = section(manifest, "model", required=True)
        missing = sorted((set(INT_RANGES) | {"attention", "tau", "v_threshold"}) - set(model))
        if missing:
            raise BundleError(f"bundle manifest lacks a complete 'model' section (missing {missing}); {FIX}")
        attention = model["attention"]
        if attention == "spikedattention":
            raise BundleError("this is a SpikedAttention bundle: run it with ssa.model.spiked.SpikedViT.from_bundle")
        if attention not in SUPPORTED_ATTENTION:
            raise BundleError(f"the numpy runtime runs spiking models {SUPPORTED_ATTENTION}, this bundle is {attention!r}; "
                              f"evaluate other models in torch with `ssa evaluate --checkpoint RUN_DIR`, or {FIX} from an ssa, spikformer or a2os2a run")
        geometry = Geometry.fields(model)
        timesteps = int_field("model", "timesteps", model["timesteps"], *INT_RANGES["timesteps"])
        try:
            seed = check_seed(manifest.get("seed", 0))
        except ConfigError as exc:
            raise BundleError(f"bundle manifest has an invalid seed ({exc}); {FIX}") from None
        neuron = section(manifest, "neuron", required=False)
        spk = section(neuron, "spikformer_attention", required=attention == "spikformer")
        if attention == "spikformer" and not {"scale", "v_threshold"} <= set(spk):
            raise BundleError(f"spikformer bundle lacks neuron.spikformer_attention.scale or .v_threshold; {FIX}")
        version = contract_version(manifest)
        gain = gain_log2(model, attention, version)
        coding = model.get("input_coding", "bernoulli")
        if coding not in INPUT_CODINGS:
            raise BundleError(f"manifest model.input_coding={coding!r} is not one of {INPUT_CODINGS}; {FIX} or upgrade ssa-fpga")
        a2os2a = section(neuron, "a2os2a_attention", required=attention == "a2os2a")
        if attention == "a2os2a" and "v_threshold" not in a2os2a:
            raise BundleError(f"a2os2a bundle lacks neuron.a2os2a_attention.v_threshold; {FIX}")
        spec = cls(
            attention=attention, **geometry, timesteps=timesteps, seed=seed, input_coding=coding,
            contract_version=version, ssa_gain_log2=gain,
            tau=float_field("model", "tau", model["tau"], *TAU_RANGE),
            v_threshold=float_field("model", "v_threshold", model["v_threshold"], *THRESHOLD_RANGE),
            spikformer_scale=float_field("neuron.spikformer_attention", "scale", spk.get("scale", 0.125), *SCALE_RANGE),
            spikformer_threshold=float_field("neuron.spikformer_attention", "v_threshold", spk.get("v_threshold", 0.5), *THRESHOLD_RANGE),
            a2os2a_threshold=float_field("neuron.a2os2a_attention", "v_threshold", a2os2a.get("v_threshold", 1.0), *THRESHOLD_RANGE),
        )
        spec._cross_check(manifest)
        return spec

    def _cross_check(self, manifest: Mapping[str, Any]) -> None:
        try:
            CONTRACT_LIMITS.check(self.tokens, self.head_dim, self.timesteps, "the contract")
        except ConfigError as exc:
            raise BundleError(f"the manifest's SSA blocks (n = tokens, dk = embed_dim/heads, t = timesteps) break the contract: {exc}; {FIX}") from None
        neuron = section(manifest, "neuron", required=False)
        for key in ("tau", "v_threshold"):
            if key in neuron and neuron[key] != getattr(self, key):
                raise BundleError(f"manifest neuron.{key}={neuron[key]!r} disagrees with model.{key}={getattr(self, key)!r}; {FIX}")
        block = section(manifest, "ssa", required=False)
        want = {"n": self.tokens, "dk": self.head_dim, "t": self.timesteps, "mode": "lfsr", "seed": self.seed,
                "gain_log2": self.ssa_gain_log2}
        for key, value in want.items():
            if key in block and (block[key] != value or type(block[key]) is not type(value)):
                raise BundleError(f"manifest ssa.{key}={block[key]!r} disagrees with the model (it implies {value!r}); {FIX}")


def contract_version(manifest: Mapping[str, Any]) -> int:
    """The manifest's `contract_version` (absent: 1, written before version 2), one of SUPPORTED_VERSIONS."""
    version = manifest.get("contract_version", UNVERSIONED_CONTRACT)
    if type(version) is not int or version not in SUPPORTED_VERSIONS:
        raise BundleError(f"manifest contract_version={version!r}, this runtime implements versions "
                          f"{', '.join(map(str, SUPPORTED_VERSIONS))}; {FIX} or upgrade ssa-fpga")
    return version


def gain_log2(model: Mapping[str, Any], attention: str, version: int) -> int:
    """`model.ssa_gain_log2` (absent: 0): an integer 0..GAIN_LOG2_MAX, non-zero only for `ssa` attention
    under contract v2 or later (v1 has no encoder gain)."""
    if "ssa_gain_log2" not in model:
        return 0
    gain = int_field("model", "ssa_gain_log2", model["ssa_gain_log2"], 0, GAIN_LOG2_MAX)
    if gain and attention != "ssa":
        raise BundleError(f"manifest model.ssa_gain_log2={gain} is the SSA encoders' gain, but model.attention is "
                          f"{attention!r}: it must be 0 or absent; {FIX}")
    if gain and version < GAIN_CONTRACT:
        raise BundleError(f"manifest model.ssa_gain_log2={gain} needs contract_version {GAIN_CONTRACT} (v{version} has no "
                          f"encoder gain); {FIX} from this release")
    return gain


def expected_arrays(manifest: dict[str, Any]) -> dict[str, tuple[np.dtype, tuple[int, ...]]]:
    """The schema for ssa.model.bundle.load_bundle: validate the manifest and name every array."""
    return ModelSpec.from_manifest(manifest).arrays()
