"""Bernoulli encoders of the contract (docs/spec.md section 3), integer form, with the v2 gain."""
from __future__ import annotations

import numpy as np


def uniform_below(r16: np.ndarray, m: int) -> np.ndarray:
    """Map 16-bit random integers to u = floor(r·m / 2^16), uniform over [0, m)."""
    return (r16.astype(np.uint32) * np.uint32(m)) >> np.uint32(16)


def encode(count: np.ndarray, u: np.ndarray, gain_log2: int = 0) -> np.ndarray:
    """One spike where u < count << gain_log2: P(spike) ≈ min(1, 2^gain_log2 · count / m) for u uniform over [0, m)."""
    return (u < (np.asarray(count, dtype=np.int32) << gain_log2)).astype(np.uint8)


def encode_ideal(count: np.ndarray, uniform01: np.ndarray, m: int, gain_log2: int = 0) -> np.ndarray:
    """Ideal-mode encoder: spike where uniform01·m < count·2^gain_log2 (uniform01 from numpy's Generator)."""
    return (uniform01 * m < (np.asarray(count, dtype=np.int32) << gain_log2)).astype(np.uint8)
