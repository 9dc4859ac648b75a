"""Attention maps, attention rollout and firing rates of a `SpikingViT` on real images.

`record` runs the model once with its `recorder` set and keeps, for every encoder layer, the
rate-decoded attention scores, mean over T, per image and head:

* `ssa`: the score spikes S of eq. 5, mean over T. The kernel streams out only Attn (docs/spec.md
  §5), S stays in its SAU array, so S is re-encoded here from the layer's Q and K spikes with the
  contract's generators (`emulator.run_with_scores`, the block's own config and call seed). In mode
  "lfsr" these are the very S the backend computed: S depends on Q, K and the column generators GS
  only, never on V or the output generators. Mode "ideal" re-draws them with independent numbers.
* `spikformer`: Q·Kᵀ / D_K, mean over T (the integer scores before its `· scale`, deterministic),
  on the same [0, 1] scale as SSA's E[S] = c / D_K.

Both come with `expected`, the mean over T of E[S | Q, K] = min(1, 2^g c / D_K) (g the bundle's
encoder gain, contract v2; c / D_K for Spikformer and for g = 0). The ANN has no numpy runtime
(`SpikingViT` runs spiking models only): its maps need the torch model (ssa_quantize).
"""
from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from ssa.backends.emulator import run_with_scores, score_counts
from ssa.contract.prng import model_call_seed
from ssa.errors import ConfigError
from ssa.model.vit import SpikingViT

#: Spike tensors whose firing rates `record` measures, in the order the issue's plots show them.
#: Attention kinds whose scores are mapped (A²OS²A's real-valued K has no rate-decoded score yet).
MAPPED_ATTENTION = ("ssa", "spikformer")
RATE_NAMES = ("q", "k", "v", "s", "attn", "mlp")
#: SpikingViT.recorder activation names kept here -> their names in RATE_NAMES (mlp1 = the MLP's hidden spikes).
_OBSERVED = {"q": "q", "k": "k", "v": "v", "attn": "attn", "mlp1": "mlp"}


@dataclass
class Recording:
    """What `record` kept of one run: scores [L, B, H, N, N], rates {name: [L]}, logits [B, classes]."""

    attention: str
    mode: str
    scores: np.ndarray
    expected: np.ndarray
    rates: dict[str, np.ndarray]
    logits: np.ndarray
    spikes: dict[tuple[int, str], list[np.ndarray]]

    @property
    def grid(self) -> int:
        """Patches per image side (N = grid²)."""
        return round(np.sqrt(self.scores.shape[-1]))

    def head_mean(self) -> np.ndarray:
        """Scores averaged over heads: [L, B, N, N]."""
        return self.scores.mean(axis=2)

    def rollout(self, residual: float = 0.5) -> np.ndarray:
        """Attention rollout over all layers [B, N, N] (rows sum to 1), see `rollout`."""
        return rollout(self.head_mean(), residual)

    def on_grid(self, row: np.ndarray) -> np.ndarray:
        """A map over the N tokens [..., N] as the image's patch grid [..., g, g]."""
        return row.reshape(row.shape[:-1] + (self.grid, self.grid))


def rollout(scores: np.ndarray, residual: float = 0.5) -> np.ndarray:
    """Attention rollout (Abnar & Zuidema 2020) of head-averaged scores [L, ..., N, N].

    Each layer's scores are row-normalised (SSA's are not: E[S] = q·k / D_K), mixed with the
    residual path, Â = residual·I + (1 − residual)·A, and multiplied from the first layer up:
    R = Â_L ⋯ Â_1. A row without any score (a silent query) keeps its own token only. Rows of R
    sum to 1: row i is how much of each input patch reaches token i through attention.
    """
    if not 0 <= residual <= 1:
        raise ConfigError(f"residual must lie in [0, 1], got {residual}")
    scores = np.asarray(scores, dtype=np.float64)
    n = scores.shape[-1]
    eye = np.eye(n)
    result = np.broadcast_to(eye, scores.shape[1:]).copy()
    for a in scores:
        rows = a.sum(axis=-1, keepdims=True)
        a = np.where(rows > 0, a / np.where(rows > 0, rows, 1), eye)
        result = (residual * eye + (1 - residual) * a) @ result
    return result


def record(model: SpikingViT, images: np.ndarray, first_index: int = 0, mode: str = "lfsr", batch: int = 50,
           keep_spikes: bool = False) -> Recording:
    """Run `model` on images [B, C, H, W] (data-set images first_index …) and record scores and rates.

    `mode` is the RNG mode of the re-encoded SSA scores ("lfsr": the hardware's S; "ideal");
    `keep_spikes` also keeps every layer's q, k, v, attn and mlp spikes (e.g. to compare backends).
    """
    if model.attention not in MAPPED_ATTENTION:
        raise ConfigError(f"attention maps are drawn for {', '.join(MAPPED_ATTENTION)} models; this bundle is {model.attention!r}")
    if mode not in ("lfsr", "ideal"):
        raise ConfigError(f"mode must be 'lfsr' or 'ideal', got {mode!r}")
    if batch < 1:
        raise ConfigError(f"batch must be at least 1 image, got {batch}")
    images = np.asarray(images)
    layers = model.depth
    sums = {name: np.zeros(layers) for name in RATE_NAMES}
    counts = {name: np.zeros(layers) for name in RATE_NAMES}
    scores, expected, logits = [], [], []
    spikes: dict[tuple[int, str], list[np.ndarray]] = {}
    chunks: dict[tuple[int, str], list[np.ndarray]] = {}  # this batch's spikes, as the model's image chunks

    def probe(name: str, layer: int, x: np.ndarray) -> None:
        if name not in _OBSERVED:
            return
        name = _OBSERVED[name]
        chunks.setdefault((layer, name), []).append(x)
        sums[name][layer] += float(x.sum(dtype=np.float64))
        counts[name][layer] += x.size

    for lo in range(0, len(images), batch):
        chunks.clear()
        model.recorder = probe
        try:
            logits.append(model.logits(images[lo:lo + batch], first_index=first_index + lo))
        finally:
            model.recorder = None
        kept = {key: np.concatenate(parts, axis=1) for key, parts in chunks.items()}  # [T, B, ...]: images on axis 1
        layer_scores, layer_expected = [], []
        for layer in range(layers):
            q, k, v = (kept[layer, m].astype(np.uint8) for m in "qkv")
            mean_s, mean_e = _scores(model, q, k, v, layer, first_index + lo, mode)
            layer_scores.append(mean_s)
            layer_expected.append(mean_e)
            if model.attention == "ssa":
                sums["s"][layer] += float(mean_s.sum(dtype=np.float64)) * q.shape[0]
                counts["s"][layer] += mean_s.size * q.shape[0]
            if keep_spikes:
                for key in ((layer, m) for m in ("q", "k", "v", "attn", "mlp")):
                    spikes.setdefault(key, []).append(kept[key])
        scores.append(np.stack(layer_scores))
        expected.append(np.stack(layer_expected))
    rates = {name: np.divide(sums[name], counts[name], out=np.full(layers, np.nan), where=counts[name] > 0) for name in RATE_NAMES}
    return Recording(model.attention, mode, np.concatenate(scores, axis=1), np.concatenate(expected, axis=1), rates,
                     np.concatenate(logits), spikes)


def _scores(model: SpikingViT, q: np.ndarray, k: np.ndarray, v: np.ndarray, layer: int, first_image: int,
            mode: str) -> tuple[np.ndarray, np.ndarray]:
    """(mean over T of the scores, mean over T of E[S | Q, K]), both [B, H, N, N] float32."""
    dk = q.shape[-1]
    counts = score_counts(q, k)
    if model.attention == "spikformer":
        expected = counts.mean(axis=0, dtype=np.float64) / dk
        return expected.astype(np.float32), expected.astype(np.float32)
    config = replace(model.block_config(model_call_seed(model.seed, layer, first_image, model.heads)), mode=mode)
    expected = np.minimum(1.0, counts * float(2**config.gain_log2) / dk).mean(axis=0, dtype=np.float64)
    s = run_with_scores(q, k, v, config)[1]
    return s.mean(axis=0, dtype=np.float32), expected.astype(np.float32)
