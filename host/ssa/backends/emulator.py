"""Reference emulator of the SSA contract: the oracle every other backend is tested against.

Written to be read next to docs/spec.md: one loop over time steps, the eq.-5 encoder per column
generator, the eq.-6 encoder one d_k at a time, exactly in the contract's draw order; both encoders
compare against the count shifted left by the config's gain exponent (contract v2).
"""
from __future__ import annotations

import numpy as np

from ssa.contract import prng
from ssa.contract.config import SSAConfig, check_config
from ssa.contract.encoders import encode, encode_ideal, uniform_below
from ssa.contract.spikes import check_block_inputs


def run(q: np.ndarray, k: np.ndarray, v: np.ndarray, config: SSAConfig) -> np.ndarray:
    """Attn spikes (uint8) of the same shape as q: [T, N, D_K] or [T, B, H, N, D_K]."""
    return run_with_scores(q, k, v, config)[0]


def run_with_scores(q: np.ndarray, k: np.ndarray, v: np.ndarray, config: SSAConfig) -> tuple[np.ndarray, np.ndarray]:
    """Attn spikes shaped like q and the attention-score spikes S shaped [T, ..., N, N]."""
    config = check_config(config)
    q4, k4, v4, batch = check_block_inputs(q, k, v, config)
    simulate = _run_ideal if config.mode == "ideal" else _run_lfsr
    attn, s = simulate(q4, k4, v4, config)
    return attn.reshape(np.shape(q)), s.reshape((config.t,) + batch + (config.n, config.n))


def score_counts(q: np.ndarray, k: np.ndarray) -> np.ndarray:
    """c[t, b, i, j] = Σ_d Q[t,b,i,d] ∧ K[t,b,j,d] (SAU counters)."""
    return np.matmul(q.astype(np.int32), k.astype(np.int32).swapaxes(-1, -2))


def value_counts(s: np.ndarray, v: np.ndarray) -> np.ndarray:
    """a[..., i, d] = Σ_j S[..., i, j] ∧ V[..., j, d] (row adders)."""
    return np.matmul(s.astype(np.int32), v.astype(np.int32))


def _run_lfsr(q: np.ndarray, k: np.ndarray, v: np.ndarray, config: SSAConfig) -> tuple[np.ndarray, np.ndarray]:
    t_steps, blocks, n, dk = q.shape
    seeds = prng.block_seeds(config.seed, blocks)[:, None]
    gs = prng.initial_states(seeds, prng.score_stream_ids(n)[None, :])  # [blocks, N] one per column j
    ga = prng.initial_states(seeds, prng.output_stream_ids(n)[None, :])  # [blocks, N] one per row i
    counts = score_counts(q, k)
    attn = np.empty_like(q)
    s = np.empty((t_steps, blocks, n, n), dtype=np.uint8)
    for t in range(t_steps):
        gs, r = prng.draw16(gs)
        s[t] = encode(counts[t], uniform_below(r, dk)[:, None, :], config.gain_log2)  # column j shares its u
        a = value_counts(s[t], v[t])  # [blocks, i, d]
        for d in range(dk):
            ga, r = prng.draw16(ga)
            attn[t, :, :, d] = encode(a[:, :, d], uniform_below(r, n), config.gain_log2)
    return attn, s


def _run_ideal(q: np.ndarray, k: np.ndarray, v: np.ndarray, config: SSAConfig) -> tuple[np.ndarray, np.ndarray]:
    t_steps, blocks, n, dk = q.shape
    rng = np.random.default_rng(config.seed)
    u_s = rng.random((t_steps, blocks, n, n))
    u_a = rng.random((t_steps, blocks, n, dk))
    s = encode_ideal(score_counts(q, k), u_s, dk, config.gain_log2)
    return encode_ideal(value_counts(s, v), u_a, n, config.gain_log2), s
