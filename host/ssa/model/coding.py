"""Input coding shared by the numpy runtime and the training code's hardware-exact evaluation.

Images are first zero-padded (`pad_images`) when the model says so. Two codings (the bundle's
`model.input_coding`):

* `bernoulli` (rate coding): image `index` of a data set draws
  `numpy.random.default_rng((seed, index)).random((T, *image_shape))` (float64) and a pixel `x`
  (float32 in [0, 1], compared as float64) spikes where `u < x`. The spikes of an image therefore do
  not depend on the batch it is evaluated in.
* `direct`: the 8-bit pixel levels `rint(255·x)` as float32, the same at every time step
  (Spikformer's analog input; integers keep the first matmul an exact sum).
"""
from __future__ import annotations

import numpy as np

from ssa.errors import ImageError, ShapeError


def encode_pixels(images: np.ndarray, timesteps: int, seed: int, first_index: int = 0) -> np.ndarray:
    """Spikes [T, B, ...] (uint8) of images [B, ...] in [0, 1]; image b is data-set image first_index + b."""
    images = np.asarray(images, dtype=np.float32)
    out = np.empty((timesteps,) + images.shape, dtype=np.uint8)
    for b, image in enumerate(images):
        u = np.random.default_rng((seed, first_index + b)).random((timesteps,) + image.shape)
        out[:, b] = u < image.astype(np.float64)
    return out


INPUT_CODINGS = ("bernoulli", "direct")


def check_images(images: object, image_shape: tuple[int, int, int]) -> np.ndarray:
    """Images [B, C, H, W] (or [B, H, W] for one channel) as float32 in [0, 1], or a typed error."""
    try:
        with np.errstate(over="ignore", invalid="ignore"):  # out-of-range values become inf: refused below
            images = np.asarray(images, dtype=np.float32)
    except (TypeError, ValueError) as exc:
        raise ImageError(f"images must be a numeric array [B, {', '.join(map(str, image_shape))}] in [0, 1]: {exc}") from None
    if images.ndim == 3 and image_shape[0] == 1:
        images = images[:, None]
    if images.shape[1:] != image_shape:
        raise ShapeError(f"images must be [B, {', '.join(map(str, image_shape))}] with pixels in [0, 1], got {images.shape}")
    if not np.isfinite(images).all():
        raise ImageError("images hold NaN or infinite pixels; pixels must be finite values in [0, 1]")
    if images.size and (images.min() < 0 or images.max() > 1):
        raise ImageError("pixels must lie in [0, 1]: divide uint8 images by 255")
    return images


def pad_images(images: np.ndarray, pad: int) -> np.ndarray:
    """Zero-pad the last two axes of images [B, C, H, W] by `pad` on every side."""
    if not pad:
        return images
    return np.pad(images, ((0, 0),) * (images.ndim - 2) + ((pad, pad), (pad, pad)))


def encode_direct(images: np.ndarray, timesteps: int) -> np.ndarray:
    """Direct coding: float32 pixel levels rint(255·x) [T, B, ...] of images [B, ...] in [0, 1]."""
    levels = np.rint(np.asarray(images, dtype=np.float32) * np.float32(255))
    return np.broadcast_to(levels, (timesteps,) + levels.shape).copy()


def lif_multistep(x: np.ndarray, tau: float, v_threshold: float) -> np.ndarray:
    """Multi-step LIF on float32 inputs [T, ...] (decay_input, hard reset to 0), spikes as float32.

    H[t] = V[t-1] + (X[t] - V[t-1]) / tau;  S[t] = H[t] >= v_threshold;  V[t] = H[t]·(1 - S[t]).
    Every step is one float32 operation in this order, as in ssa_quantize.neurons.MultiStepLIF
    (computed in place in preallocated buffers: the same IEEE operations, fewer temporaries).
    """
    return _lif_loop(x, tau, v_threshold, ternary=False)


def ternary_lif_multistep(x: np.ndarray, tau: float, v_threshold: float) -> np.ndarray:
    """Multi-step ternary LIF (A²OS²A's V neuron) on float32 inputs [T, ...], spikes −1/0/+1 as float32.

    H[t] = V[t-1] + (X[t] - V[t-1]) / tau;  S[t] = +1 if H ≥ thr, −1 if −H ≥ thr, else 0;
    V[t] = H·(1 − |S|). Same float32 operations as ssa_quantize.neurons.MultiStepTernaryLIF.
    """
    return _lif_loop(x, tau, v_threshold, ternary=True)


def _lif_loop(x: np.ndarray, tau: float, v_threshold: float, ternary: bool) -> np.ndarray:
    """The LIF recurrence of both neurons; the ternary one also fires −1 when −H ≥ thr."""
    x = np.asarray(x, dtype=np.float32)
    tau32, vth32 = np.float32(tau), np.float32(v_threshold)
    v = np.zeros_like(x[0])
    h = np.empty_like(v)
    keep = np.empty_like(v)
    fired = np.empty(v.shape, dtype=bool)
    out = np.empty_like(x)
    for t in range(x.shape[0]):
        np.subtract(x[t], v, out=h)
        h /= tau32
        h += v  # v + (x - v) / tau: float32 addition is commutative
        np.subtract(h, vth32, out=keep)
        np.greater_equal(keep, 0, out=fired)
        out[t] = fired
        if ternary:
            np.negative(h, out=keep)
            keep -= vth32
            np.greater_equal(keep, 0, out=fired)
            out[t] -= fired
            np.abs(out[t], out=keep)
            np.subtract(np.float32(1), keep, out=keep)  # 1 − |S|
        else:
            np.subtract(np.float32(1), out[t], out=keep)  # 1 − S
        np.multiply(h, keep, out=v)
    return out
