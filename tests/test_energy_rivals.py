"""Operation counts of A²OS²A and SpikedAttention blocks, against hand counts of tiny blocks."""
import pytest
from ssa.cost.energy import KINDS, Block, Rates, count
from ssa.cost.energy_rivals import count_a2os2a, count_spikedattention
from ssa.errors import ConfigError


def test_a2os2a_hand_count_of_a_tiny_block():
    # N = 2, D_K = 1, one head, T = 1: 4 (i, j, d) triples, 4 pairs, 2 outputs
    c = count_a2os2a(2, 1, 1, 1, q=0.5, k_nonzero=0.5, v_nonzero=0.25, acc_bits=32)
    # adds: 4·0.5·0.5 (Q selects K) + 4·0.25 (± S per V event) + 2 (LIF) = 1 + 1 + 2
    assert c.ops == {"add32": 4.0, "cmp8": 2.0}
    assert c.reads == {1: 4.0, 8: 2.0, 2: 4.0, 32: 1.0 + 2.0}
    assert c.writes == {32: 4.0 + 2.0, 1: 2.0}


def test_a2os2a_scales_with_t_and_never_multiplies():
    one, ten = count_a2os2a(16, 16, 4, 1), count_a2os2a(16, 16, 4, 10)
    assert ten.ops == {k: 10 * v for k, v in one.ops.items()}
    assert not any(k.startswith(("mul", "fmul", "and")) for k in ten.ops)


def test_spikedattention_hand_count_of_a_tiny_block():
    # N = 2, D_K = 1, one head, T = 2, every neuron fires (rates 1): 4 triples, 4 pairs, 2 outputs, 2 rows
    c = count_spikedattention(2, 1, 1, 2, q=1, k=1, v=1, p=1, acc_bits=32)
    # adds: Q·K pairs 4 + P·V pairs 4 + WOSS (max − z) 4 + denominator 4
    assert c.ops["add32"] == 16
    # ×B per step of 4 score and 2 output potentials over 2 steps
    assert c.ops["mul32"] == 2 * (4 + 2)
    # compares: thresholds 2·(4 + 2) + winner 4 + WOSS firing 4·2 + denominator neurons 2·2
    assert c.ops["cmp8"] == 12 + 4 + 8 + 4
    # local-memory writes: Q and K spikes 2 + 2, P and V spikes 4 + 2
    assert c.writes[32] == 4 + 6


def test_spikedattention_does_not_scale_with_t_for_its_additions():
    short, long = (count_spikedattention(16, 16, 4, t, acc_bits=32) for t in (4, 40))
    pair_adds = 2 * 4 * 16 * 16 * 16 * 0.25 + 4 * 16 * 16 * (1 + 0.5)
    assert short.ops["add32"] == long.ops["add32"] == pair_adds
    assert long.ops["mul32"] == 10 * short.ops["mul32"]


@pytest.mark.parametrize("kwargs", [{"n": 0, "dk": 4}, {"n": 4, "dk": 4, "q": 1.5}])
def test_bad_geometry_or_rate(kwargs):
    with pytest.raises(ConfigError):
        count_a2os2a(**kwargs)


def test_rivals_are_registered_energy_kinds():
    assert {"ann", "spikformer", "ssa", "a2os2a", "spikedattention"} <= set(KINDS)
    block = Block(16, 16, heads=4, t=4, rates=Rates(0.2, 0.5, 0.1))
    assert count("a2os2a", block).ops == count_a2os2a(16, 16, 4, 4, q=0.2, k_nonzero=0.5, v_nonzero=0.1, acc_bits=block.acc_bits).ops
