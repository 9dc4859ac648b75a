"""Spiking ViT backbone (paper's ViT-Small shape) with INT8 Brevitas projections.

Layout (time-first ``[T, B, N, D]`` everywhere):

* input: images ``[B, C, image_size, image_size]`` zero-padded by ``pad`` on every side, then
  Bernoulli-coded pixels (``input_coding="bernoulli"``) or the 8-bit pixel levels ``round(255·x)``
  repeated over T (``"direct"``, as Spikformer feeds analog pixels) for the spiking models, or raw
  pixels with ``T = 1`` (``ann``);
* patch embedding: non-overlapping ``patch × patch`` patches -> ``N`` tokens, ``QuantLinear`` + BN,
  plus a learned position embedding, then the neuron;
* ``depth`` encoder layers: ``x = x + proj(core(Q, K, V))`` and ``x = x + mlp(x)`` where
  ``Q, K, V = neuron(BN(QuantLinear(x)))`` (paper eq. 4), ``proj`` and both MLP layers are
  ``QuantLinear`` + BN + neuron (Spikformer's spike-count residuals, so inputs of every linear
  layer stay integers);
* head: mean over time and tokens (no CLS token), then an INT8 ``QuantLinear`` with bias.

Neurons: :class:`~ssa_quantize.neurons.MultiStepLIF` for ``ssa``/``spikformer``; for the ``ann``
baseline an 8-bit ``QuantReLU`` (INT8 activations, as in the paper's ANN row). ``a2os2a`` uses LIF
everywhere except K (:class:`~ssa_quantize.neurons.ReLUPath`, real non-negative) and V
(:class:`~ssa_quantize.neurons.MultiStepTernaryLIF`, spikes −1/0/+1).

No diagonal self-mask is offered: the hardware block (docs/spec.md section 1) computes all N×N
pairs, and masking the pair ``(i, i)`` cannot be expressed by masking whole rows of Q, K or V.

Integer parts are separable: in evaluation every ``QuantLinear`` + BN runs as
``(x @ W_int8ᵀ) * a + b`` with per-channel float32 ``a = s_w·γ/sqrt(σ²+ε)`` and
``b = β - μ·γ/sqrt(σ²+ε)``; ``x`` holds integers, so the matmul is an exact integer sum.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass

import brevitas.nn as qnn
import torch
from torch import nn

from ssa.contract.config import check_gain_log2
from ssa.errors import ConfigError
from ssa.model.coding import INPUT_CODINGS
from ssa.model.schema import PatchShape

from .attention import AttentionCore, Sampler, TorchSampler
from .names import ATAN_ALPHA, ATTENTIONS, PRESETS, SSA_GRADS, SURROGATES
from .neurons import MultiStepLIF, MultiStepTernaryLIF, ReLUPath, direct_levels_torch

WEIGHT_BITS = 8


@dataclass(frozen=True)
class ModelConfig(PatchShape):
    """Backbone hyper-parameters (defaults: the Fashion-MNIST ``small`` preset, the bundled demo model).

    ``image_size`` is the side of the input images; the model pads them by ``pad`` zeros on every
    side, so tokens are ``((image_size + 2·pad) / patch)²``. ``surrogate``, ``surrogate_alpha`` and
    ``ssa_grad`` shape the training gradient only (the forward pass does not depend on them).
    ``ssa_gain_log2`` > 0 multiplies both SSA encoders' rates by ``2^g`` (capped at 1): contract v2's
    encoder gain, run bit-exactly by the LFSR evaluation, the bundle and every backend (0 = contract v1).
    ``preset`` names the preset the sizes started from (informational; the size fields rule).
    """

    attention: str = "ssa"
    timesteps: int = 10
    image_size: int = 28
    channels: int = 1
    patch: int = 7
    embed_dim: int = 128
    depth: int = 6
    heads: int = 8
    mlp_ratio: int = 4
    classes: int = 10
    tau: float = 2.0
    v_threshold: float = 1.0
    pad: int = 0
    input_coding: str = "bernoulli"
    surrogate: str = "atan"
    surrogate_alpha: float = ATAN_ALPHA
    ssa_grad: str = "ste-draw"
    preset: str | None = None
    ssa_gain_log2: int = 0

    def __post_init__(self) -> None:
        if self.attention not in ATTENTIONS:
            raise ConfigError(f"attention={self.attention!r} is unknown; use one of {', '.join(ATTENTIONS)}")
        if self.pad < 0:
            raise ConfigError(f"pad={self.pad} must be at least 0")
        if self.padded_size % self.patch:
            raise ConfigError(f"patch={self.patch} does not divide the padded image side {self.padded_size}; pick a divisor")
        if self.embed_dim % self.heads:
            raise ConfigError(f"embed_dim={self.embed_dim} is not a multiple of heads={self.heads}")
        if self.timesteps < 1:
            raise ConfigError(f"timesteps={self.timesteps} must be at least 1")
        if self.input_coding not in INPUT_CODINGS:
            raise ConfigError(f"input_coding={self.input_coding!r} is unknown; use one of {', '.join(INPUT_CODINGS)}")
        if self.input_coding == "direct" and 255 * 127 * self.channels * self.patch**2 >= 2**24:
            raise ConfigError(f"direct coding with {self.channels}-channel {self.patch}x{self.patch} patches can exceed 2^24 in "
                              "the first matmul, which then is no longer an exact float32 sum; use smaller patches")
        if self.surrogate not in SURROGATES:
            raise ConfigError(f"surrogate={self.surrogate!r} is unknown; use one of {', '.join(SURROGATES)}")
        if check_gain_log2(self.ssa_gain_log2, "ssa_gain_log2") and self.attention != "ssa":
            raise ConfigError(f"ssa_gain_log2={self.ssa_gain_log2} is the SSA encoders' gain; it must be 0 with attention {self.attention!r}")
        if self.ssa_grad not in SSA_GRADS:
            raise ConfigError(f"ssa_grad={self.ssa_grad!r} is unknown; use one of {', '.join(SSA_GRADS)}")
        if not (self.tau >= 1 and self.v_threshold > 0 and self.surrogate_alpha > 0):
            raise ConfigError(f"need tau >= 1, v_threshold > 0 and surrogate_alpha > 0 (got {self.tau}, "
                              f"{self.v_threshold}, {self.surrogate_alpha})")

    @classmethod
    def from_preset(cls, preset: str, image_size: int, **overrides) -> "ModelConfig":
        """The :data:`PRESETS` entry for images of side ``image_size``; ``None`` overrides are ignored."""
        if preset not in PRESETS:
            raise ConfigError(f"preset={preset!r} is unknown; use one of {', '.join(PRESETS)}")
        sizes = dict(PRESETS[preset])
        pad_to = sizes.pop("pad_to")
        pad = 0 if pad_to is None else (pad_to - image_size) // 2
        if pad_to is not None and (pad < 0 or image_size + 2 * pad != pad_to):
            raise ConfigError(f"preset {preset!r} pads images to {pad_to}x{pad_to}; {image_size}x{image_size} images cannot be "
                              "padded evenly to that size: use --preset small or set --patch and the sizes yourself")
        sizes["patch"] = sizes["patch"] or (image_size + 2 * pad) // 4
        sizes.update({k: v for k, v in overrides.items() if v is not None})
        return cls(image_size=image_size, pad=pad, preset=preset, **sizes)

    @property
    def spiking(self) -> bool:
        """True for the spiking models; the ``ann`` baseline runs one real-valued step."""
        return self.attention != "ann"

    @property
    def steps(self) -> int:
        """Time steps the network actually runs (1 for ``ann``)."""
        return self.timesteps if self.spiking else 1

    def to_dict(self) -> dict:
        return asdict(self)


class QuantLinearBN(nn.Module):
    """INT8 ``QuantLinear`` (no bias) followed by BatchNorm over the feature axis of ``[..., F]``."""

    def __init__(self, in_features: int, out_features: int) -> None:
        super().__init__()
        self.linear = qnn.QuantLinear(in_features, out_features, bias=False, weight_bit_width=WEIGHT_BITS)
        self.bn = nn.BatchNorm1d(out_features)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.training:
            flat = x.reshape(-1, x.shape[-1])
            return self.bn(self.linear(flat)).reshape(*x.shape[:-1], -1)
        weight, scale, bias = self.folded()
        with torch.autocast(device_type=x.device.type, enabled=False):
            return (x.float() @ weight.t()) * scale + bias

    def brevitas_forward(self, x: torch.Tensor) -> torch.Tensor:
        """Brevitas ``QuantLinear`` then BN on ``[B, F]`` (the graph the ONNX exporters see)."""
        return self.bn(self.linear(x))

    def int_weight(self) -> tuple[torch.Tensor, torch.Tensor]:
        """INT8 weights ``[out, in]`` (torch.int8) and the weight scale (float32, per tensor)."""
        quant = self.linear.quant_weight()
        return quant.int().to(torch.int8), quant.scale.detach().float().reshape(-1)

    def folded(self) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Float32 integer weights ``[out, in]`` and the per-channel folded scale ``a`` and bias ``b``."""
        weight, w_scale = self.int_weight()
        bn = self.bn
        assert bn.running_var is not None and bn.running_mean is not None
        inv_std = bn.weight.detach().float() / torch.sqrt(bn.running_var.float() + bn.eps)
        scale = w_scale * inv_std
        bias = bn.bias.detach().float() - bn.running_mean.float() * inv_std
        return weight.float(), scale, bias


class QuantLinearBNNeuron(nn.Module):
    """``neuron(BN(QuantLinear(x)))`` on ``[T, B, N, F]``."""

    def __init__(self, in_features: int, out_features: int, config: ModelConfig, neuron: nn.Module | None = None) -> None:
        super().__init__()
        self.unit = QuantLinearBN(in_features, out_features)
        self.neuron = neuron if neuron is not None else make_neuron(config)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.neuron(self.unit(x))


def lif_options(config: ModelConfig) -> dict:
    """Time constant and surrogate shared by every LIF of the model (thresholds are per use)."""
    return dict(tau=config.tau, alpha=config.surrogate_alpha, surrogate=config.surrogate)


def make_neuron(config: ModelConfig) -> nn.Module:
    """LIF for spiking models, INT8 QuantReLU for ``ann``."""
    if config.spiking:
        return MultiStepLIF(v_threshold=config.v_threshold, **lif_options(config))
    return qnn.QuantReLU(bit_width=WEIGHT_BITS)


def qkv_neurons(config: ModelConfig) -> tuple[nn.Module, nn.Module, nn.Module]:
    """Neurons after the Q, K and V units: A²OS²A's binary / ReLU / ternary, else the model's neuron."""
    if config.attention == "a2os2a":
        return (MultiStepLIF(v_threshold=config.v_threshold, **lif_options(config)), ReLUPath(),
                MultiStepTernaryLIF(v_threshold=config.v_threshold, **lif_options(config)))
    return make_neuron(config), make_neuron(config), make_neuron(config)


class EncoderLayer(nn.Module):
    """Attention sub-block and MLP sub-block with residual sums."""

    def __init__(self, config: ModelConfig, layer: int) -> None:
        super().__init__()
        dim, hidden = config.embed_dim, config.embed_dim * config.mlp_ratio
        self.heads = config.heads
        nq, nk, nv = qkv_neurons(config)
        self.q = QuantLinearBNNeuron(dim, dim, config, nq)
        self.k = QuantLinearBNNeuron(dim, dim, config, nk)
        self.v = QuantLinearBNNeuron(dim, dim, config, nv)
        self.core = AttentionCore(config.attention, layer, ssa_grad=config.ssa_grad, lif_options=lif_options(config),
                                  ssa_gain_log2=config.ssa_gain_log2)
        self.proj = QuantLinearBNNeuron(dim, dim, config)
        self.mlp1 = QuantLinearBNNeuron(dim, hidden, config)
        self.mlp2 = QuantLinearBNNeuron(hidden, dim, config)

    def split_heads(self, x: torch.Tensor) -> torch.Tensor:
        """``[T, B, N, D] -> [T, B, H, N, D_K]``."""
        t, b, n, d = x.shape
        return x.reshape(t, b, n, self.heads, d // self.heads).permute(0, 1, 3, 2, 4)

    def forward(self, x: torch.Tensor, sampler: Sampler) -> torch.Tensor:
        q, k, v = (self.split_heads(m(x)) for m in (self.q, self.k, self.v))
        attn = self.core(q, k, v, sampler)
        t, b, h, n, dk = attn.shape
        x = x + self.proj(attn.permute(0, 1, 3, 2, 4).reshape(t, b, n, h * dk))
        return x + self.mlp2(self.mlp1(x))


class SpikingViT(nn.Module):
    """The backbone for every attention kind of :data:`ATTENTIONS` (module docstring)."""

    def __init__(self, config: ModelConfig) -> None:
        super().__init__()
        self.config = config
        patch_dim = config.channels * config.patch**2
        self.patch = QuantLinearBN(patch_dim, config.embed_dim)
        self.pos = nn.Parameter(torch.zeros(config.tokens, config.embed_dim))
        nn.init.trunc_normal_(self.pos, std=0.02)
        self.patch_neuron = make_neuron(config)
        self.layers = nn.ModuleList(EncoderLayer(config, layer) for layer in range(config.depth))
        self.head = qnn.QuantLinear(config.embed_dim, config.classes, bias=True, weight_bit_width=WEIGHT_BITS)

    def patchify(self, x: torch.Tensor) -> torch.Tensor:
        """``[T, B, C, H, W] -> [T, B, N, C·p·p]`` (row-major patches, features ordered (c, y, x))."""
        t, b, c, h, w = x.shape
        p = self.config.patch
        x = x.reshape(t, b, c, h // p, p, w // p, p).permute(0, 1, 3, 5, 2, 4, 6)
        return x.reshape(t, b, (h // p) * (w // p), c * p * p)

    def encode(self, images: torch.Tensor, sampler: Sampler) -> torch.Tensor:
        """Padded input ``[T, B, C, H + 2·pad, W + 2·pad]``: coded spikes, direct pixel levels or (ann) pixels."""
        cfg = self.config
        if cfg.pad:
            images = nn.functional.pad(images, (cfg.pad,) * 4)
        if not cfg.spiking:
            return images.float().unsqueeze(0)
        if cfg.input_coding == "direct":
            return direct_levels_torch(images, cfg.steps)
        return sampler.encode(images, cfg.steps)

    def attention_rates(self) -> list[torch.Tensor]:
        """Mean Attn firing rate of each layer in the last training forward (empty for ``ann``)."""
        return [layer.core.rate for layer in self.layers if layer.core.rate is not None]

    def features(self, images: torch.Tensor, sampler: Sampler) -> torch.Tensor:
        """Token features ``[T, B, N, D]`` after the last encoder layer."""
        x = self.encode(images, sampler)
        x = self.patch_neuron(self.patch(self.patchify(x)) + self.pos)
        for layer in self.layers:
            x = layer(x, sampler)
        return x

    def forward(self, images: torch.Tensor, sampler: Sampler | None = None) -> torch.Tensor:
        """Logits ``[B, classes]`` of images ``[B, C, H, W]`` with pixels in [0, 1]."""
        x = self.features(images, sampler or TorchSampler())
        return self.head(x.float().mean(dim=(0, 2)))
