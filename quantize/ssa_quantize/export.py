"""Export: ONNX (QCDQ or QONNX) of the non-stochastic INT8 units, and the host bundle (docs/bundle.md).

Every ``QuantLinear`` + BatchNorm unit of the model is deterministic; its Brevitas graph is exported
to ``<unit name>.onnx``. The stochastic parts (input coding, SSA) and the LIF recurrences are not
in ONNX: the bundle describes them and the host runtime implements them.
"""
from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import torch
from torch import nn

from ssa.model.bundle import save_bundle
from ssa.contract.config import CONTRACT_VERSION, DEFAULT_KERNEL_LIMITS
from ssa.errors import ConfigError

from .attention import A2OS2A_THRESHOLD, SPIKFORMER_SCALE, SPIKFORMER_THRESHOLD
from .model import ModelConfig, QuantLinearBN, SpikingViT
from .names import ONNX_FORMATS


class BrevitasUnit(nn.Module):
    """Wraps a :class:`QuantLinearBN` so its Brevitas forward (QuantLinear then BN) is the traced graph."""

    def __init__(self, unit: QuantLinearBN) -> None:
        super().__init__()
        self.unit = unit

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.unit.brevitas_forward(x)


def linear_units(model: SpikingViT) -> dict[str, QuantLinearBN]:
    """Every QuantLinear + BN unit by its module name (``patch``, ``layers.0.q.unit``, ...)."""
    return {name: m for name, m in model.named_modules() if isinstance(m, QuantLinearBN)}


def export_onnx(model: SpikingViT, out_dir: Path, fmt: str = "qcdq", batch: int = 4) -> dict[str, Path]:
    """Write one ONNX file per unit with Brevitas' exporter; returns name -> path."""
    from brevitas.export import export_onnx_qcdq, export_qonnx

    if fmt not in ONNX_FORMATS:
        raise ConfigError(f"ONNX format {fmt!r} is unknown; use one of {', '.join(ONNX_FORMATS)}")
    exporter = export_onnx_qcdq if fmt == "qcdq" else export_qonnx
    out_dir.mkdir(parents=True, exist_ok=True)
    model = model.cpu().eval()
    paths = {}
    for name, unit in linear_units(model).items():
        example = torch.zeros(batch, unit.linear.in_features)
        path = out_dir / f"{name}.onnx"
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            exporter(BrevitasUnit(unit).eval(), args=example, export_path=str(path), dynamo=False,
                     input_names=["x"], output_names=["y"], keep_initializers_as_inputs=False,
                     dynamic_axes={"x": {0: "batch"}, "y": {0: "batch"}})
        paths[name] = path
    return paths


def bundle_arrays(model: SpikingViT) -> dict[str, np.ndarray]:
    """All arrays of the bundle (names and meaning in docs/bundle.md)."""
    model = model.cpu().eval()
    arrays: dict[str, np.ndarray] = {}
    with torch.no_grad():
        for name, unit in linear_units(model).items():
            weight, w_scale = unit.int_weight()
            _, scale, bias = unit.folded()
            bn = unit.bn
            arrays.update({
                f"{name}.weight": weight.numpy().astype(np.int8),
                f"{name}.weight_scale": w_scale.numpy().astype(np.float32),
                f"{name}.scale": scale.numpy().astype(np.float32),
                f"{name}.bias": bias.numpy().astype(np.float32),
                f"{name}.bn_mean": bn.running_mean.numpy().astype(np.float32),
                f"{name}.bn_var": bn.running_var.numpy().astype(np.float32),
                f"{name}.bn_weight": bn.weight.numpy().astype(np.float32),
                f"{name}.bn_bias": bn.bias.numpy().astype(np.float32),
                f"{name}.bn_eps": np.asarray([bn.eps], dtype=np.float32),
            })
        arrays["pos_embedding"] = model.pos.numpy().astype(np.float32)
        head = model.head.quant_weight()
        arrays["head.weight"] = head.int().to(torch.int8).numpy()
        arrays["head.weight_scale"] = head.scale.detach().float().reshape(-1).numpy()
        arrays["head.bias"] = model.head.bias.detach().float().numpy()
    return arrays


def input_coding_manifest(cfg: ModelConfig) -> dict:
    """How images become the first layer's input (docs/bundle.md steps 1-2); ``model.input_coding`` rules."""
    common = {"kind": cfg.input_coding, "pixels": "float32(uint8)/float32(255)", "pad": cfg.pad,
              "padding": "zeros on every side before coding: [C, H + 2·pad, W + 2·pad]"}
    if cfg.input_coding == "direct":
        return {**common, "levels": "float32(rint(255·pixel)), the same for every one of the T steps"}
    return {**common, "uniforms": "numpy.random.default_rng((seed, image_index)).random((T, C, H + 2·pad, W + 2·pad))",
            "spike": "u < float64(pixel)"}


def write_bundle(model: SpikingViT, path: Path, *, seed: int, dataset: str, accuracy: dict | None = None) -> Path:
    """Write the host bundle (one .npz with its manifest, ssa.model.bundle) to ``path``; returns it.

    The manifest names the current contract version; ``model.ssa_gain_log2`` (also ``ssa.gain_log2``) is the
    encoders' gain exponent, which every backend then runs (contract v2)."""
    cfg = model.config
    manifest = {
        "contract_version": CONTRACT_VERSION,
        "model": cfg.to_dict(),
        "ssa": {"n": cfg.tokens, "dk": cfg.head_dim, "t": cfg.steps, "mode": "lfsr", "seed": seed, "gain_log2": cfg.ssa_gain_log2,
                "layer_seed": "ssa.contract.prng.layer_seed(seed, layer)", "blocks": "(image_index, head) row-major",
                "fits_default_kernel": cfg.tokens <= DEFAULT_KERNEL_LIMITS.n_max and cfg.head_dim <= DEFAULT_KERNEL_LIMITS.dk_max
                and cfg.steps <= DEFAULT_KERNEL_LIMITS.t_max},
        "neuron": {"kind": "lif" if cfg.spiking else "quant_relu8", "tau": cfg.tau, "v_threshold": cfg.v_threshold,
                   "v_reset": 0.0, "decay_input": True, "spikformer_attention": {"scale": SPIKFORMER_SCALE, "v_threshold": SPIKFORMER_THRESHOLD},
                   "a2os2a_attention": {"q": "lif", "k": "relu", "v": "ternary_lif", "v_threshold": A2OS2A_THRESHOLD,
                                        "scores": "float32(float64((Q Kᵀ) V))"}},
        "input_coding": input_coding_manifest(cfg),
        "seed": seed,
        "dataset": dataset,
        "accuracy": accuracy or {},
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    return save_bundle(path, manifest, bundle_arrays(model))
