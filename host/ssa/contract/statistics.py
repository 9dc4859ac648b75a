"""Expected spike rates of an SSA block and checks of measured rates against them."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np


def expected_rates(q: np.ndarray, k: np.ndarray, v: np.ndarray, gain_log2: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Paper expectations for one time step's Q, K, V [N, D_K]: E[S] [N, N] and E[Attn] [N, D_K].

    E[S_ij] = min(1, 2^g (1/D_K) Σ_d Q_id ∧ K_jd) and E[Attn_id] = min(1, 2^g (1/N) Σ_j E[S_ij] ∧ V_jd),
    g the encoders' gain exponent (0 in contract v1: the paper's eq. 5 and 6). For g > 0 the output
    encoder saturates, E[min(1, 2^g a/N)] ≠ min(1, 2^g E[a]/N), so E[Attn] sums P(a) over the row
    sum's exact distribution: the S_ij of one row are independent bits (docs/spec.md section 4).
    """
    n, dk = q.shape
    gain = float(2**gain_log2)
    p_s = np.minimum(1.0, gain * (q.astype(np.float64) @ k.T.astype(np.float64)) / dk)
    if gain_log2 == 0:
        return p_s, (p_s @ v.astype(np.float64)) / n
    dist = _sum_distribution(p_s[:, :, None] * v[None, :, :].astype(np.float64))  # P(a_id = m): [N, D_K, N + 1]
    return p_s, dist @ np.minimum(1.0, gain * np.arange(n + 1) / n)


def _sum_distribution(p: np.ndarray) -> np.ndarray:
    """Distribution of Σ_j of independent Bernoulli(p[i, j, d]) bits (Poisson-binomial): [I, D, J + 1]."""
    rows, terms, cols = p.shape
    dist = np.zeros((rows, cols, terms + 1))
    dist[:, :, 0] = 1.0
    for j in range(terms):
        pj = p[:, j, :, None]
        dist[:, :, 1:] = dist[:, :, 1:] * (1 - pj) + dist[:, :, :-1] * pj
        dist[:, :, :1] *= 1 - pj
    return dist


@dataclass(frozen=True)
class RateCheck:
    """Mean spike rate of a tensor against its expectation, with a 5-sigma bound."""

    name: str
    measured: float
    expected: float
    bound: float

    @property
    def error(self) -> float:
        return abs(self.measured - self.expected)

    @property
    def ok(self) -> bool:
        return self.error <= self.bound

    @classmethod
    def of(cls, name: str, spikes: np.ndarray, p: np.ndarray) -> "RateCheck":
        """Compare spikes [T, ...] with per-element probabilities p [...] held over T steps.

        The bound is 5 standard deviations of the mean of independent Bernoulli draws; shared random
        numbers (docs/spec.md section 4) correlate some elements, so it is multiplied by sqrt(N_rows)
        to stay conservative, plus the encoder's 2^-16 quantisation.
        """
        steps = spikes.shape[0]
        var = float(np.sum(p * (1 - p))) * steps / (spikes.size**2)
        rows = p.shape[0]
        return cls(name, float(spikes.mean()), float(p.mean()), 5 * np.sqrt(var * rows) + 2.0**-16)
