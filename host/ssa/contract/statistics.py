"""Expected spike rates of an SSA block and checks of measured rates against them."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np


def expected_rates(q: np.ndarray, k: np.ndarray, v: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Paper expectations for one time step's Q, K, V [N, D_K]: E[S] [N, N] and E[Attn] [N, D_K].

    E[S_ij] = (1/D_K) Σ_d Q_id ∧ K_jd and E[Attn_id] = (1/N) Σ_j E[S_ij] ∧ V_jd.
    """
    n, dk = q.shape
    p_s = (q.astype(np.float64) @ k.T.astype(np.float64)) / dk
    return p_s, (p_s @ v.astype(np.float64)) / n


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
