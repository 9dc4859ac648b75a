"""Known answers and exact distributions of the contract's PRNG and Bernoulli encoders."""
import numpy as np
import pytest

from ssa.contract import prng
from ssa.contract.encoders import encode, uniform_below


def py_xorshift32(x: int) -> int:
    x ^= (x << 13) & 0xFFFFFFFF
    x ^= x >> 17
    x ^= (x << 5) & 0xFFFFFFFF
    return x


def py_fmix32(h: int) -> int:
    h ^= h >> 16
    h = (h * 0x85EBCA6B) & 0xFFFFFFFF
    h ^= h >> 13
    h = (h * 0xC2B2AE35) & 0xFFFFFFFF
    return h ^ (h >> 16)


def test_xorshift32_known_answer():
    # Marsaglia's xorshift32 (13, 17, 5) started at 1 gives 270369 first.
    assert int(prng.xorshift32(np.array([1], dtype=np.uint32))[0]) == 270369


@pytest.mark.parametrize("x", [1, 2, 0xDEADBEEF, 0xFFFFFFFF, 0x80000000, 123456789])
def test_xorshift32_matches_plain_python(x):
    state = np.array([x], dtype=np.uint32)
    ref = x
    for _ in range(50):
        state = prng.xorshift32(state)
        ref = py_xorshift32(ref)
        assert int(state[0]) == ref


@pytest.mark.parametrize("h", [0, 1, 2, 0x9E3779B9, 0xFFFFFFFF, 42])
def test_fmix32_matches_plain_python(h):
    assert int(prng.fmix32(np.uint32(h))) == py_fmix32(h)


def test_fmix32_known_answers():
    assert int(prng.fmix32(np.uint32(0))) == 0
    assert int(prng.fmix32(np.uint32(1))) == 0x514E28B7


def test_initial_states_follow_the_spec_formula_and_are_never_zero():
    for seed in (0, 1, 2**32 - 1):
        for g in range(8):
            want = py_fmix32(py_fmix32(seed) ^ (((g + 1) * 0x9E3779B9) & 0xFFFFFFFF)) or 0x6D2B79F5
            assert int(prng.initial_states(np.uint32(seed), np.uint32(g))) == want
    states = prng.initial_states(prng.block_seeds(7, 1000)[:, None], np.arange(64, dtype=np.uint32)[None, :])
    assert states.min() > 0
    assert len(np.unique(states)) == states.size  # no two generators start alike


def test_block_seeds_wrap_modulo_2_32():
    assert prng.block_seeds(2**32 - 2, 4).tolist() == [2**32 - 2, 2**32 - 1, 0, 1]


@pytest.mark.parametrize("m", [1, 2, 3, 7, 13, 16, 64, 100, 255, 256])
def test_encoder_probability_is_exactly_ceil_count_over_m(m):
    """Over all 2^16 values of r, u < c holds for exactly ceil(c·2^16 / m) of them."""
    u = uniform_below(np.arange(2**16, dtype=np.uint32), m)
    assert u.max() == m - 1 and u.min() == 0
    hits = np.array([np.count_nonzero(u < c) for c in range(m + 1)])
    want = np.array([-(-c * 2**16 // m) for c in range(m + 1)])
    np.testing.assert_array_equal(hits, want)
    assert np.max(np.abs(hits / 2**16 - np.arange(m + 1) / m)) < 2**-16


@pytest.mark.parametrize("m", [1, 3, 13, 16, 64, 100, 256])
@pytest.mark.parametrize("gain", [1, 2, 4])
def test_gain_encoder_probability_is_ceil_of_the_gained_count_saturating_at_one(m, gain):
    """Contract v2: over all 2^16 values of r, u < c << g holds for exactly min(2^16, ceil(c·2^g·2^16 / m))."""
    u = uniform_below(np.arange(2**16, dtype=np.uint32), m)
    counts = np.arange(m + 1)
    hits = np.array([np.count_nonzero(encode(np.full_like(u, c), u, gain)) for c in counts])
    want = np.minimum(2**16, -(-(counts << gain) * 2**16 // m))
    np.testing.assert_array_equal(hits, want)
    np.testing.assert_array_equal(hits == 2**16, (counts << gain) >= m)  # saturates exactly where 2^g·c ≥ m
    assert encode(np.zeros_like(u), u, gain).sum() == 0


def test_encoder_endpoints_are_deterministic():
    u = uniform_below(np.arange(2**16, dtype=np.uint32), 37)
    assert not encode(np.zeros_like(u), u).any()
    assert encode(np.full_like(u, 37), u).all()
