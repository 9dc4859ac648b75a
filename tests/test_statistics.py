"""Statistical correctness: spike rates match the paper's expectations (eq. 5, 6) in both RNG modes.

Q, K, V are held fixed for T_STEPS steps in each of BLOCKS batched blocks (seeds seed + k), so each
S_ij is T = T_STEPS·BLOCKS Bernoulli draws with p_ij = c_ij / D_K and each
Attn_id has mean (1/N) Σ_j p_ij V_jd. Bounds are 5 standard deviations of a T-sample mean
(a false failure has probability < 1e-6 per element) plus the encoder's 2^-16 quantisation.
"""
import numpy as np
import pytest

from ssa import SSAConfig, run_with_scores
from ssa.contract.statistics import expected_rates

T_STEPS, BLOCKS, N, DK = 1000, 4, 8, 16
T = T_STEPS * BLOCKS


@pytest.fixture(scope="module")
def fixed_block():
    g = np.random.default_rng(2024)
    q, k, v = ((g.random((N, DK)) < 0.5).astype(np.uint8) for _ in range(3))
    q[1] = q[0]  # rows 0 and 1 have identical probabilities: used by the correlation test
    return q, k, v


def simulate(block, mode, seed=17, gain_log2=0):
    q, k, v = (np.broadcast_to(x, (T_STEPS, 1, BLOCKS, N, DK)).copy() for x in block)
    attn, s = run_with_scores(q, k, v, SSAConfig(N, DK, T_STEPS, seed=seed, mode=mode, gain_log2=gain_log2))
    return attn.reshape(T, N, DK), s.reshape(T, N, N)


def bound(p):
    return 5 * np.sqrt(p * (1 - p) / T) + 2.0**-16


@pytest.mark.parametrize("mode", ["lfsr", "ideal"])
def test_rates_match_expectations(fixed_block, mode):
    attn, s = simulate(fixed_block, mode)
    p_s, p_attn = expected_rates(*fixed_block)
    assert 0.05 < p_s.mean() < 0.95 and 0.02 < p_attn.mean() < 0.98  # a non-trivial block
    assert np.all(np.abs(s.mean(axis=0) - p_s) <= bound(p_s))
    assert np.all(np.abs(attn.mean(axis=0) - p_attn) <= bound(p_attn))


@pytest.mark.parametrize("mode", ["lfsr", "ideal"])
@pytest.mark.parametrize("gain_log2", [1, 2])
def test_gain_rates_match_the_gained_expectations(fixed_block, mode, gain_log2):
    """Contract v2: S ~ Bern(min(1, 2^g p_S)), Attn ~ Bern(min(1, 2^g (1/N) Σ_j E[S_ij] V_jd))."""
    attn, s = simulate(fixed_block, mode, gain_log2=gain_log2)
    p_s, p_attn = expected_rates(*fixed_block, gain_log2=gain_log2)
    assert (p_s == 1).any() and ((p_s > 0) & (p_s < 1)).any()  # some scores saturate, some do not
    assert np.all(np.abs(s.mean(axis=0) - p_s) <= bound(p_s))
    assert np.all(np.abs(attn.mean(axis=0) - p_attn) <= bound(p_attn))
    _, ungained = expected_rates(*fixed_block)
    assert np.any(np.abs(attn.mean(axis=0) - ungained) > bound(ungained))  # the gain is visible


@pytest.mark.parametrize("mode", ["lfsr", "ideal"])
def test_rates_are_not_trivially_within_bounds(fixed_block, mode):
    """The same check fails for a wrong normaliser, so the bound has teeth."""
    attn, s = simulate(fixed_block, mode)
    p_s, _ = expected_rates(*fixed_block)
    wrong = p_s * DK / (DK + 2)
    assert np.any(np.abs(s.mean(axis=0) - wrong) > bound(wrong))


def test_column_sharing_correlates_rows_only_in_lfsr_mode(fixed_block):
    """Rows 0 and 1 have equal p_0j = p_1j: sharing u_j makes their S identical in lfsr mode."""
    _, s_lfsr = simulate(fixed_block, "lfsr")
    _, s_ideal = simulate(fixed_block, "ideal")
    np.testing.assert_array_equal(s_lfsr[:, 0], s_lfsr[:, 1])
    p_s, _ = expected_rates(*fixed_block)
    for j in np.flatnonzero((p_s[0] > 0.2) & (p_s[0] < 0.8)):
        r = np.corrcoef(s_ideal[:, 0, j], s_ideal[:, 1, j])[0, 1]
        assert abs(r) < 5 / np.sqrt(T)
    # Rows with different p in the same column: P(both) = min(p, p') under sharing.
    j = int(np.argmax((p_s[0] > 0) & (p_s[2] > 0) & (p_s[0] != p_s[2])))
    both = np.mean(s_lfsr[:, 0, j] & s_lfsr[:, 2, j])
    assert abs(both - min(p_s[0, j], p_s[2, j])) <= bound(min(p_s[0, j], p_s[2, j]))


def test_row_adder_sees_independent_bits_in_lfsr_mode(fixed_block):
    """Within a row, S_ij use different generators: pairwise correlations stay near 0."""
    _, s = simulate(fixed_block, "lfsr")
    p_s, _ = expected_rates(*fixed_block)
    cols = np.flatnonzero((p_s[0] > 0.2) & (p_s[0] < 0.8))
    assert len(cols) >= 2
    for a in cols:
        for b in cols[cols > a]:
            assert abs(np.corrcoef(s[:, 0, a], s[:, 0, b])[0, 1]) < 5 / np.sqrt(T)
