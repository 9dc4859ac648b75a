"""Input coding shared by the numpy runtime and the training code's hardware-exact evaluation.

Bernoulli (rate) coding of pixels: image `index` of a data set draws
`numpy.random.default_rng((seed, index)).random((T, *image_shape))` (float64) and a pixel `x`
(float32 in [0, 1], compared as float64) spikes where `u < x`. The spikes of an image therefore do
not depend on the batch it is evaluated in.
"""
from __future__ import annotations

import numpy as np


def encode_pixels(images: np.ndarray, timesteps: int, seed: int, first_index: int = 0) -> np.ndarray:
    """Spikes [T, B, ...] (uint8) of images [B, ...] in [0, 1]; image b is data-set image first_index + b."""
    images = np.asarray(images, dtype=np.float32)
    out = np.empty((timesteps,) + images.shape, dtype=np.uint8)
    for b, image in enumerate(images):
        u = np.random.default_rng((seed, first_index + b)).random((timesteps,) + image.shape)
        out[:, b] = u < image.astype(np.float64)
    return out


def lif_multistep(x: np.ndarray, tau: float, v_threshold: float) -> np.ndarray:
    """Multi-step LIF on float32 inputs [T, ...] (decay_input, hard reset to 0), spikes as float32.

    H[t] = V[t-1] + (X[t] - V[t-1]) / tau;  S[t] = H[t] >= v_threshold;  V[t] = H[t]·(1 - S[t]).
    Every step is one float32 operation in this order, as in ssa_quantize.neurons.MultiStepLIF.
    """
    x = np.asarray(x, dtype=np.float32)
    tau32, vth32 = np.float32(tau), np.float32(v_threshold)
    v = np.zeros_like(x[0])
    out = np.empty_like(x)
    for t in range(x.shape[0]):
        h = v + (x[t] - v) / tau32
        s = (h - vth32 >= 0).astype(np.float32)
        v = h * (np.float32(1) - s)
        out[t] = s
    return out


def ternary_lif_multistep(x: np.ndarray, tau: float, v_threshold: float) -> np.ndarray:
    """Multi-step ternary LIF (A²OS²A's V neuron) on float32 inputs [T, ...], spikes −1/0/+1 as float32.

    H[t] = V[t-1] + (X[t] - V[t-1]) / tau;  S[t] = +1 if H ≥ thr, −1 if −H ≥ thr, else 0;
    V[t] = H·(1 − |S|). Same float32 operations as ssa_quantize.neurons.MultiStepTernaryLIF.
    """
    x = np.asarray(x, dtype=np.float32)
    tau32, vth32 = np.float32(tau), np.float32(v_threshold)
    v = np.zeros_like(x[0])
    out = np.empty_like(x)
    for t in range(x.shape[0]):
        h = v + (x[t] - v) / tau32
        s = (h - vth32 >= 0).astype(np.float32) - (-h - vth32 >= 0).astype(np.float32)
        v = h * (np.float32(1) - np.abs(s))
        out[t] = s
    return out
