"""The latency model follows docs/spec.md §8 and lands near the paper's FPGA figure."""
import pytest

from ssa.contract.config import DEFAULT_KERNEL_LIMITS, Limits
from ssa.errors import ConfigError
from ssa.cost.latency import ARRAY_DEPTH, CONTROL_CYCLES, LOAD_DEPTH, STORE_DEPTH, estimate

PAPER_CYCLES = 660  # Table III: 3.3 µs at 200 MHz, T = 10, one block


def test_array_cycles_match_the_paper_within_the_drain():
    """Paper: 3.3 µs ≈ 660 cycles = T·D_K + ~20 fill. Ours: (T+1)·D_K + depth = 710, because our
    count includes the drain of the last time step (Attn^{T-1} leaves during one extra D_K) that
    the paper's figure leaves out. Without the drain we are within 5 %; with it within 10 %."""
    est = estimate(n=16, dk=64, t=10)
    assert est.array_cycles == 11 * 64 + ARRAY_DEPTH
    assert abs((est.array_cycles - 64) - PAPER_CYCLES) / PAPER_CYCLES < 0.05
    assert abs(est.array_us - 3.3) / 3.3 < 0.10


def test_stage_cycles_follow_the_schedule():
    est = estimate(n=32, dk=100, t=5, limits=Limits(32, 256, 32))
    w = 2
    assert est.load_cycles == 5 * 3 * 32 * w + LOAD_DEPTH
    assert est.array_cycles == 6 * 100 + ARRAY_DEPTH
    assert est.store_cycles == 5 * 32 * w + STORE_DEPTH
    assert est.kernel_cycles == CONTROL_CYCLES + est.load_cycles + est.array_cycles + est.store_cycles
    assert (est.in_words, est.out_words) == (5 * 3 * 32 * w, 5 * 32 * w)


def test_seeding_can_dominate_a_tiny_load():
    est = estimate(n=8, dk=1, t=1)  # 24 beats vs 8 + SEED_DEPTH seeding clocks
    assert est.load_cycles == max(24 + LOAD_DEPTH, 8 + 12)


def test_blocks_overlap_at_the_slowest_stage():
    one, many = estimate(32, 64, 32), estimate(32, 64, 32, blocks=10)
    slowest = max(one.load_cycles, one.array_cycles, one.store_cycles)
    assert slowest == one.load_cycles  # 3·N·W = 96 beats per time step vs D_K = 64 clocks
    assert many.kernel_cycles == one.kernel_cycles + 9 * slowest


def test_microseconds_scale_with_the_clock():
    fast, slow = estimate(16, 64, 10, clock_mhz=200.0), estimate(16, 64, 10, clock_mhz=100.0)
    assert fast.kernel_us == pytest.approx(fast.kernel_cycles / 200.0)
    assert slow.array_us == pytest.approx(2 * fast.array_us)


def test_transfers_hide_in_load_and_store_at_one_beat_per_clock():
    est = estimate(16, 64, 10, blocks=3)
    assert est.transfer_in_us == pytest.approx(est.in_words / 200.0)
    assert est.transfer_out_us == pytest.approx(est.out_words / 200.0)
    assert est.end_to_end_us == pytest.approx(est.kernel_us)


def test_a_slower_port_stretches_end_to_end_time():
    best, half = estimate(16, 64, 10), estimate(16, 64, 10, port_beats_per_clock=0.5)
    assert half.transfer_in_us == pytest.approx(2 * best.transfer_in_us)
    assert half.end_to_end_us > best.end_to_end_us
    assert half.kernel_cycles == best.kernel_cycles  # the on-chip schedule is unchanged


@pytest.mark.parametrize("kwargs,match", [
    (dict(n=33, dk=8, t=2), "n=33"), (dict(n=4, dk=65, t=2), "dk=65"), (dict(n=4, dk=8, t=0), "t=0"),
    (dict(n=4, dk=8, t=2, blocks=0), "blocks=0"), (dict(n=4, dk=8, t=2, port_beats_per_clock=1.5), "port_beats"),
])
def test_invalid_arguments(kwargs, match):
    with pytest.raises(ConfigError, match=match):
        estimate(**kwargs, limits=DEFAULT_KERNEL_LIMITS)
