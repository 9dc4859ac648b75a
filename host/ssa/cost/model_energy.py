"""Energy of a whole spiking ViT per image, from the spike rates it really produces.

`measure_activity` runs images through a `ssa.model.SpikingViT` with a recorder attached and keeps
the mean of every activation per layer; `model_energy` prices each layer's linear units (spiking:
accumulate per input event) and its attention block (the bundle's kind, ssa.cost.energy) with
those rates; `ann_equivalent` prices the same architecture as an INT8 ANN (MACs, softmax attention).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ssa.cost.energy import Block, Counts, Energy, Rates, count_linear, estimate, price


#: Activations counted as activity, P(value != 0): spikes, also A²OS²A's real K and ternary V. The
#: others (linear-layer inputs, which carry spike counts) are counted by their mean value.
ACTIVITY = frozenset({"q", "k", "v", "attn", "mlp1"})


class SpikeRecorder:
    """SpikingViT.recorder that accumulates the activity (or mean value) of every (name, layer) activation."""

    def __init__(self) -> None:
        self.sums: dict[tuple[str, int], float] = {}
        self.sizes: dict[tuple[str, int], int] = {}
        self._q: np.ndarray | None = None

    def __call__(self, name: str, layer: int, tensor: np.ndarray) -> None:
        total = np.count_nonzero(tensor) if name in ACTIVITY else tensor.sum(dtype=np.float64)
        self._add(name, layer, float(total), tensor.size)
        if name == "q":
            self._q = tensor
        elif name == "k" and self._q is not None:  # P(q_id ∧ k_jd ≠ 0) over all (i, j, d), correlations kept
            q, k = (self._q != 0).astype(np.float32), (tensor != 0).astype(np.float32)
            self._add("qk", layer, float((q @ k.swapaxes(-1, -2)).sum(dtype=np.float64)), q.size * q.shape[-2])
            self._q = None

    def _add(self, name: str, layer: int, total: float, size: int) -> None:
        key = (name, layer)
        self.sums[key] = self.sums.get(key, 0.0) + total
        self.sizes[key] = self.sizes.get(key, 0) + size

    def mean(self, name: str, layer: int) -> float:
        return self.sums[(name, layer)] / self.sizes[(name, layer)]


def measure_activity(model, images: np.ndarray, first_index: int = 0, batch: int = 8) -> SpikeRecorder:
    """Run `images` through `model` (a SpikingViT) and return the recorded activation means."""
    recorder = SpikeRecorder()
    model.recorder = recorder
    try:
        for lo in range(0, len(images), batch):
            model.logits(images[lo:lo + batch], first_index=first_index + lo)
    finally:
        model.recorder = None
    return recorder


@dataclass(frozen=True)
class LayerEnergy:
    """Energy of one layer for one image: its linear units and its attention block (if any)."""

    name: str
    linear: Energy
    attention: Energy | None
    rates: Rates | None = None

    @property
    def total_uj(self) -> float:
        return self.linear.total_uj + (self.attention.total_uj if self.attention else 0.0)


def _zero() -> Energy:
    return Energy(0.0, 0.0, {})


def _geometry(model) -> tuple[int, int, int, int, int, int]:
    d = model.embed_dim
    c, size, _ = model.image_shape
    mlp = model.layers[0]["mlp1"].out_features
    return model.tokens, d, d // model.heads, c * model.patch ** 2, mlp, model.head_weight.shape[0]


def model_energy(model, activity: SpikeRecorder, sram: str = "8KB", acc_bits: int = 8) -> list[LayerEnergy]:
    """Per-layer energy of one image through the spiking `model` with the measured activity.

    With direct input coding the patch layer sees 8-bit levels repeated over T, not spikes: it is
    priced as INT8 MACs once per image (its product is the same at every step; the LIF integrates it)."""
    n, d, dk, patch_in, mlp, classes = _geometry(model)
    t = model.timesteps

    def linear(d_in: int, d_out: int, name: str, layer: int, copies: int = 1) -> Counts:
        return count_linear(n, d_in, d_out * copies, t, activity.mean(name, layer), acc_bits)

    if model.spec.input_coding == "direct":  # 8-bit levels, the same at every step: INT8 MACs, computed once
        patch = count_linear(n, patch_in, d, 1, None, acc_bits)
    else:  # Bernoulli pixel spikes: an accumulate per input spike and step
        patch = linear(patch_in, d, "patch", -1)
    layers = [LayerEnergy("patch", price(patch, sram), None)]
    for l in range(model.depth):
        rates = Rates(activity.mean("q", l), activity.mean("k", l), activity.mean("v", l), qk=activity.mean("qk", l))
        block = Block(n, dk, model.heads, t, rates, sram, acc_bits)
        counts = linear(d, d, "qkv_in", l, copies=3) + linear(d, d, "attn", l) + linear(d, mlp, "mlp_in", l) + linear(mlp, d, "mlp1", l)
        layers.append(LayerEnergy(f"layer {l}", price(counts, sram), estimate(model.attention, block), rates))
    layers.append(LayerEnergy("head", price(count_linear(1, d, classes, 1, None, acc_bits), sram), None))
    return layers


def ann_equivalent(model, sram: str = "8KB", acc_bits: int = 8) -> list[LayerEnergy]:
    """The same architecture as an INT8 ANN: MACs in every linear unit, softmax attention, no T."""
    n, d, dk, patch_in, mlp, classes = _geometry(model)

    def linear(d_in: int, d_out: int) -> Counts:
        return count_linear(n, d_in, d_out, 1, None, acc_bits)

    layers = [LayerEnergy("patch", price(linear(patch_in, d), sram), None)]
    for l in range(model.depth):
        counts = linear(d, 3 * d) + linear(d, d) + linear(d, mlp) + linear(mlp, d)
        block = Block(n, dk, model.heads, 1, Rates(), sram, acc_bits)
        layers.append(LayerEnergy(f"layer {l}", price(counts, sram), estimate("ann", block)))
    layers.append(LayerEnergy("head", price(count_linear(1, d, classes, 1, None, acc_bits), sram), None))
    return layers


def totals(layers: list[LayerEnergy]) -> tuple[Energy, Energy]:
    """(attention, linear) energy summed over layers."""
    attention, linear = _zero(), _zero()
    for layer in layers:
        linear = linear + layer.linear
        if layer.attention is not None:
            attention = attention + layer.attention
    return attention, linear
