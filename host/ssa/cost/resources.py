"""Resource estimate of a kernel build on the xc7z020 (an estimate, not a synthesis result).

The block buffers follow hls/ssa_params.h exactly (`buffer_bram36`, `pingpong`: the kernel's
C++ decides its own ping-pong with the same formula, and a test compares the two). Everything else
counts 7-series LUT6/CARRY4 primitives per SAU, row, column and generator; hls/README.md lists the
assumptions. Print the table with `python -m ssa.cost.resources`.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

from ssa.contract.config import DEFAULT_KERNEL_LIMITS, Limits

#: xc7z020 (PYNQ-Z2): LUTs, of them usable as LUTRAM/SRL, FFs, BRAM36, DSP48E1.
XC7Z020 = {"lut": 53_200, "lutram": 17_400, "ff": 106_400, "bram36": 140, "dsp": 220}
#: BRAM36 the block buffers may take so that the AXI DMA and interconnect keep the rest.
BUFFER_BRAM36_BUDGET = 128
WORD_BITS = 64
HALF_BITS = 32
#: A BRAM36 as true dual port 1K x 32 (x 36): halves per memory.
BRAM36_HALVES = 1024
#: Control, AXI-Lite, AXI-Stream, dataflow handshakes, odometers (estimate).
CONTROL_LUT, CONTROL_FF = 1_500, 2_000
#: Pipeline registers that Vitis inserts, as a factor on the counted FFs (estimate).
FF_PIPELINE_FACTOR = 1.2
#: fmix32 seeding: six 32x32 constant multiplies in the seeding loop plus the block seed's (estimate).
SEED_DSP = 24


def bits_for(value: int) -> int:
    """Bits that hold 0..value (hls/ssa_params.h bits_for)."""
    return max(1, value.bit_length())


def tiles(n: int, n_tile: int) -> int:
    """Tiles of n_tile tokens that hold n tokens."""
    return -(-n // n_tile)


def bank_depth(limits: Limits) -> int:
    """64-bit words per row bank: ceil(N_LIMIT / N_TILE) · T_MAX · W_MAX."""
    return tiles(limits.n_max, limits.array) * limits.t_max * tiles(limits.dk_max, WORD_BITS)


def buffer_bram36(limits: Limits) -> int:
    """BRAM36 of one set of block buffers: (3 + 1) matrices x ceil(N_TILE/2) bank pairs in 1K x 32 memories."""
    pair_halves = 2 * 2 * bank_depth(limits)
    return 4 * tiles(limits.array, 2) * tiles(pair_halves, BRAM36_HALVES)


def pingpong(limits: Limits) -> bool:
    """Whether the build double-buffers blocks (hls/ssa_params.h SSA_PINGPONG)."""
    return 2 * buffer_bram36(limits) <= BUFFER_BRAM36_BUDGET


def _lutram_luts(depth: int, width: int) -> int:
    """LUTs of a simple-dual-port LUTRAM: RAM32M (32 x 6) or RAM64M (64 x 3) per 4 LUTs."""
    if depth <= 32:
        return 4 * tiles(width, 6)
    return 4 * tiles(width, 3) * tiles(depth, 64)


@dataclass(frozen=True)
class Resources:
    """Estimated resources of one build."""

    limits: Limits
    lut: int  # all LUTs, LUTRAM and SRL included
    lutram: int  # LUTs used as LUTRAM or SRL
    ff: int
    bram36: int
    dsp: int
    pingpong: bool

    def share(self, kind: str) -> float:
        """Fraction of the xc7z020's `kind` (lut, lutram, ff, bram36, dsp) this build uses."""
        return getattr(self, kind) / XC7Z020[kind]

    @property
    def fits(self) -> bool:
        return all(self.share(kind) <= 1.0 for kind in XC7Z020)


def estimate(limits: Limits = DEFAULT_KERNEL_LIMITS) -> Resources:
    """Resources of the kernel build with these parameters (n_tile None: an untiled array of n_max)."""
    side, count_bits, sum_bits = limits.array, bits_for(limits.dk_max), bits_for(limits.n_max)
    srl_per_bit = tiles(limits.dk_max, 32)  # SRL32 LUTs per bit of a DK_MAX-deep shift register
    # SAU: counter (AND and restart fold into its adder), comparator on the carry chain, held S,
    # its share of the row adder tree.
    sau_lut, sau_ff = count_bits + math.ceil(count_bits / 2) + 1, count_bits + 1
    # Row: encoder compare, accumulate adder, 64-bit Attn word, half select, GA reload mux.
    row_lut, row_ff = math.ceil(sum_bits / 2) + sum_bits + WORD_BITS + HALF_BITS // 2 + 16, WORD_BITS + sum_bits
    # Column: bit select from 3 banks (32:1 each), GS reload mux.
    column_lut = 3 * 8 + 16
    generators_lut = generators_ff = 2 * side * 32  # GS and GA xorshift32 registers
    # The gain (contract v2): u >> g picks one of 5 bit windows of r·M, a 5:1 mux (2 LUT6) per bit of u.
    gain_lut = 2 * side * (count_bits + sum_bits)
    states = (2 * 2 if pingpong(limits) else 2) + 1  # gs0, ga0 (ping-pong) and the running gs
    lutram = (states * side * _lutram_luts(tiles(limits.n_max, side), 32)
              + side * srl_per_bit                 # V FIFO, N_TILE bits wide
              + side * sum_bits * srl_per_bit)     # row sums, N_TILE * SUM_BITS wide
    lut = (side * side * sau_lut + side * (row_lut + column_lut) + generators_lut + gain_lut + lutram + CONTROL_LUT)
    ff = side * side * sau_ff + side * row_ff + generators_ff + CONTROL_FF
    buffers = buffer_bram36(limits) * (2 if pingpong(limits) else 1)
    return Resources(limits=limits, lut=lut, lutram=lutram, ff=int(ff * FF_PIPELINE_FACTOR), bram36=buffers,
                     dsp=2 * side + SEED_DSP, pingpong=pingpong(limits))


#: Builds the README table shows: the two tiled builds, and untiled arrays for comparison.
TABLE_BUILDS = (
    Limits(n_max=256, dk_max=64, t_max=32, n_tile=16),
    Limits(n_max=256, dk_max=64, t_max=32, n_tile=32),
    Limits(n_max=256, dk_max=128, t_max=16, n_tile=32),
    Limits(n_max=256, dk_max=256, t_max=8, n_tile=32),
    Limits(n_max=32, dk_max=64, t_max=32),
    Limits(n_max=64, dk_max=64, t_max=32),
)


def table(builds: tuple[Limits, ...] = TABLE_BUILDS) -> str:
    """A Markdown table of the estimate for `builds`."""
    lines = ["| N_TILE | N_LIMIT | DK_MAX | T_MAX | LUT (of 53,200) | LUTRAM+SRL (of 17,400) | FF (of 106,400) "
             "| BRAM36 (of 140) | DSP (of 220) | ping-pong | fits? |", "|" + "---|" * 11]
    for build in builds:
        r = estimate(build)
        cells = [f"{getattr(r, kind) / 1000:.1f} k ({r.share(kind):.0%})" for kind in ("lut", "lutram", "ff")]
        cells += [f"{r.bram36} ({r.share('bram36'):.0%})", f"{r.dsp} ({r.share('dsp'):.0%})"]
        lines.append(f"| {build.array} | {build.n_max} | {build.dk_max} | {build.t_max} | " + " | ".join(cells)
                     + f" | {'yes' if r.pingpong else 'no'} | {'yes' if r.fits else 'no'} |")
    return "\n".join(lines)


if __name__ == "__main__":
    print(table())
