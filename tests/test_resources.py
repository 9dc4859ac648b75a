"""The xc7z020 resource estimate (ssa.cost.resources): buffer arithmetic and what fits."""
from ssa.contract.config import DEFAULT_KERNEL_LIMITS, Limits
from ssa.cost import resources

TILE16 = Limits(n_max=256, dk_max=64, t_max=32, n_tile=16)


def test_block_buffers_of_both_tiled_builds_fit_twice_in_bram():
    """Q, K, V and Attn of a 256-token block, T_MAX = 32, one word per row: 4 · 256 · 32 · 64 bit = 2 Mbit
    per set. 16 x 16: 32 bank pairs of 2 x 512 words = 2 BRAM36 each; 32 x 32: 64 pairs of 2 x 256 words = 1 each."""
    assert resources.bank_depth(TILE16) == 512 and resources.bank_depth(DEFAULT_KERNEL_LIMITS) == 256
    for limits in (TILE16, DEFAULT_KERNEL_LIMITS):
        assert resources.buffer_bram36(limits) == 64
        assert resources.pingpong(limits)
        assert resources.estimate(limits).bram36 == 128 <= resources.XC7Z020["bram36"]


def test_wider_rows_lose_the_ping_pong():
    wide = Limits(n_max=256, dk_max=256, t_max=32, n_tile=32)  # 4 words per row: 4x the words per bank
    assert resources.buffer_bram36(wide) == 4 * 64 and not resources.pingpong(wide)
    assert not resources.estimate(wide).fits  # 256 BRAM36 even single-buffered


def test_both_tiled_builds_fit_and_an_untiled_64_array_does_not():
    for limits in (TILE16, DEFAULT_KERNEL_LIMITS):
        assert resources.estimate(limits).fits
    untiled = resources.estimate(Limits(n_max=64, dk_max=64, t_max=32))
    assert not untiled.fits and untiled.share("lut") > 1.2
    sau_luts = 64 * 64 * (7 + 4 + 1)  # the SAUs alone: 4096 x 12 LUTs at DK_MAX = 64
    assert sau_luts / resources.XC7Z020["lut"] > 0.9


def test_luts_grow_with_the_square_of_the_tile():
    small, large = resources.estimate(TILE16), resources.estimate(DEFAULT_KERNEL_LIMITS)
    assert 2 < large.lut / small.lut < 4


def test_table_lists_every_build():
    text = resources.table()
    assert len(text.splitlines()) == 2 + len(resources.TABLE_BUILDS)
    assert "| 16 | 256 | 64 | 32 |" in text and "| 64 | 64 | 64 | 32 |" in text
