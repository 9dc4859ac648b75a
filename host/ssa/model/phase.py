"""SpikedAttention's spike primitives in numpy (Hwang et al., NeurIPS 2024; choices in docs/rivals.md).

One-spike phase coding with base ``B > 1`` over ``T`` steps: a neuron fires at most once, and a
spike at step ``t`` stands for ``θ·B^-t`` (``θ``: the neuron group's threshold scale). Spike times
are integer arrays, ``T`` meaning "silent" (value 0). Every function below is a time-stepped
loop over ``t`` with the global trace ``g[t] = B^-t`` (it decays by ``B`` per step), in float64.

* :func:`encode` — the one-spike neuron: fires at the first step ``t`` where its potential ``u``
  reaches ``θ·c·g[t]`` with ``c = (1 + 1/B)/2`` (the threshold decays with the trace; ``c``
  rounds ``u`` to the nearer of two neighbouring levels), never again; ``u ≥ θ·c`` saturates at ``θ``,
  ``u < θ·c·g[T-1]`` (including every ``u ≤ 0``: the ReLU) stays silent.
* :func:`trace_linear` — a weight layer driven by spikes: each arriving spike adds its integer
  weight times the current trace to the potential, so ``u = W·x̂`` for decoded inputs ``x̂``.
* :func:`trace_matmul` — trace-driven product of two spike tensors: when a spike arrives, the
  trace value is written to its local memory; the later of two paired spikes adds the earlier's
  memory times the current trace, so ``Σ_d g[t_a]·g[t_b]`` accumulates in ``T`` steps.
* :func:`woss` — winner-oriented spike shift in place of softmax: per row the winner (largest
  score) fires at ``t = 0``, the others ``round((max − z)/ln B)`` steps later (``B^-t ≈ e^(z−max)``),
  then the whole row is delayed by ``round(log_B Σ_j B^-t_j)`` steps (the division by the softmax
  denominator is a delay in phase code); spikes pushed past ``T − 1`` are dropped.

The torch port (``ssa_quantize.spiked``) reuses :func:`trace` and :func:`thresholds` and runs the
same steps, so the two agree up to float64 summation order (tests/test_spiked.py).
"""
from __future__ import annotations

import math

import numpy as np

from ssa.errors import ConfigError


def check_phase(base: float, timesteps: int) -> None:
    """Raise ConfigError unless ``1 < base <= 2`` and ``timesteps >= 1``."""
    if not 1.0 < float(base) <= 2.0:
        raise ConfigError(f"phase-coding base B={base} must lie in (1, 2]; the paper uses 1.15 at T=40")
    if int(timesteps) < 1:
        raise ConfigError(f"timesteps={timesteps} must be at least 1")


def trace(base: float, timesteps: int) -> np.ndarray:
    """The global trace ``g[t] = B^-t`` for ``t = 0 … T-1`` (float64)."""
    check_phase(base, timesteps)
    return np.float64(base) ** -np.arange(timesteps, dtype=np.float64)


def thresholds(theta: float, base: float, timesteps: int) -> np.ndarray:
    """Firing thresholds ``θ·c·g[t]`` of the one-spike neuron, ``c = (1 + 1/B)/2`` (float64)."""
    c = (1.0 + 1.0 / float(base)) / 2.0
    return (np.float64(theta) * c) * trace(base, timesteps)


def encode(u: np.ndarray, theta: float, base: float, timesteps: int) -> np.ndarray:
    """Spike times (int16, ``T`` = silent) of one-spike neurons with potentials ``u`` (float64)."""
    u = np.asarray(u, dtype=np.float64)
    times = np.full(u.shape, timesteps, dtype=np.int16)
    for t, thr in enumerate(thresholds(theta, base, timesteps)):
        times[(times == timesteps) & (u >= thr)] = t
    return times


def decode(times: np.ndarray, theta: float, base: float, timesteps: int) -> np.ndarray:
    """Values ``θ·B^-t`` of spike times, 0 where silent (float64)."""
    g = np.append(trace(base, timesteps), 0.0)
    return np.float64(theta) * g[np.asarray(times, dtype=np.int64)]


def trace_linear(times: np.ndarray, weight: np.ndarray, base: float, timesteps: int) -> np.ndarray:
    """``Σ_t g[t]·(1[times == t] @ Wᵀ)``: potentials ``[..., out]`` from spikes ``[..., in]`` and weights ``[out, in]``."""
    w = np.asarray(weight, dtype=np.float64).T
    u = np.zeros(times.shape[:-1] + (w.shape[1],), dtype=np.float64)
    for t, g in enumerate(trace(base, timesteps)):
        u += g * ((times == t).astype(np.float64) @ w)
    return u


def trace_matmul(ta: np.ndarray, tb: np.ndarray, base: float, timesteps: int) -> np.ndarray:
    """Trace-driven ``Σ_d g[ta[..., i, d]]·g[tb[..., j, d]]`` of spike times ``[..., I, D]`` and ``[..., J, D]``."""
    mem_a = np.zeros(ta.shape, dtype=np.float64)
    mem_b = np.zeros(tb.shape, dtype=np.float64)
    out = np.zeros(ta.shape[:-1] + tb.shape[-2:-1], dtype=np.float64)
    for t, g in enumerate(trace(base, timesteps)):
        fire_a, fire_b = (ta == t).astype(np.float64), (tb == t).astype(np.float64)
        mem_b += g * fire_b
        out += g * (fire_a @ mem_b.swapaxes(-1, -2) + mem_a @ fire_b.swapaxes(-1, -2))
        mem_a += g * fire_a
    return out


def woss(scores: np.ndarray, base: float, timesteps: int) -> np.ndarray:
    """Spike times of softmax over the last axis of ``scores`` (float64) by winner-oriented spike shift."""
    scores = np.asarray(scores, dtype=np.float64)
    log_b = math.log(base)
    delay = np.floor((scores.max(axis=-1, keepdims=True) - scores) / log_b + 0.5)
    times = np.minimum(delay, timesteps).astype(np.int64)
    g = np.append(trace(base, timesteps), 0.0)
    total = g[times].sum(axis=-1, keepdims=True)  # >= 1: the winner fires at t = 0
    shift = np.floor(np.log(total) / log_b + 0.5).astype(np.int64)
    return np.minimum(times + shift, timesteps).astype(np.int16)
