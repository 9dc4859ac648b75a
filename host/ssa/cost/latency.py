"""Latency model of the SSA kernel's schedule (docs/spec.md §8) and of its stream transfers.

Per block the kernel runs four processes (hls/ssa_top.cpp) on an N_TILE x N_TILE SAU array, with
Tq = ceil(N / N_TILE) query tiles and as many key tiles:

    seed  Tq·N_TILE + SEED_DEPTH clocks         in parallel with load
    load  T·3·N·W beats + LOAD_DEPTH            one input beat per clock
    array (Tq·T·Tq + 1)·D_K + ARRAY_DEPTH       one d_k per clock, Tq·T·Tq phases of D_K clocks; the
                                                last D_K clocks drain the last phase
    store T·N·W beats + STORE_DEPTH             one output beat per clock

For N <= N_TILE (one tile) the array takes (T+1)·D_K clocks, the untiled schedule. On a build
with ping-pong buffers (ssa.cost.resources.pingpong) the first block takes load + array + store and
further blocks of the same call overlap, one every max(load, array, store) clocks; without them
every block takes seed + load + array + store. The pipeline depths below are estimates until a
Vitis HLS csynth report replaces them.

Stream transfers are accounted separately: the MM2S/S2MM AXI DMA moves 64-bit words through a
Zynq-7000 HP port. Best case (the default) it delivers one beat per kernel clock, which is exactly
the rate the load and store stages consume, so the transfers hide inside those stages; a slower
port (`port_beats_per_clock` < 1, or a lower `port_mhz`) stretches them, and `end_to_end_us` uses
the stretched stages. Not modelled: PS-side software time (register writes, cache
flush/invalidate, DMA programming, waiting for done), DDR refresh and arbitration stalls; the
board benchmark measures those.
"""
from __future__ import annotations

from dataclasses import dataclass

from ssa.contract.config import DEFAULT_KERNEL_LIMITS, Limits, check_int
from ssa.contract.packing import stream_word_counts
from ssa.contract.registers import BLOCKS_MAX
from ssa.cost.resources import pingpong, tiles
from ssa.errors import ConfigError

#: Clocks from an AXI-Stream beat to its row-buffer write (estimate).
LOAD_DEPTH = 3
#: Clocks from a row-bank read to the Attn half-word write: BRAM read (2), bit select, AND/count,
#: row adder tree, row-sum accumulate, u multiply, compare, write (estimate).
ARRAY_DEPTH = 9
#: Clocks from an output-buffer read to the AXI-Stream beat (estimate).
STORE_DEPTH = 3
#: Clocks of the pipelined seeding loop beyond its n iterations: two fmix32, four multiplies (estimate).
SEED_DEPTH = 12
#: ap_start to the first process and the last process to ap_done, config check included (estimate).
CONTROL_CYCLES = 4


@dataclass(frozen=True)
class LatencyEstimate:
    """Clocks and microseconds of one kernel call of `blocks` blocks."""

    n: int
    dk: int
    t: int
    blocks: int
    clock_mhz: float
    n_tile: int  # side of the build's SAU array
    load_cycles: int  # per block, seeding in parallel
    array_cycles: int  # per block
    store_cycles: int  # per block
    kernel_cycles: int  # whole call at one beat per clock
    in_words: int  # whole call
    out_words: int  # whole call
    transfer_in_us: float  # MM2S time of in_words at the HP port's rate
    transfer_out_us: float  # S2MM time of out_words at the HP port's rate
    end_to_end_us: float  # the call with load/store stretched to the port's rate

    @property
    def load_us(self) -> float:
        return self.load_cycles / self.clock_mhz

    @property
    def array_us(self) -> float:
        """The figure the paper's 3.3 µs (T=10, D_K=64, 200 MHz) compares to."""
        return self.array_cycles / self.clock_mhz

    @property
    def store_us(self) -> float:
        return self.store_cycles / self.clock_mhz

    @property
    def kernel_us(self) -> float:
        return self.kernel_cycles / self.clock_mhz


def _call_time(load: float, array: float, store: float, blocks: int, control: float, overlap: bool) -> float:
    """First block's load + array + store, then one block per slowest stage (dataflow overlap) or
    per load + array + store (no ping-pong buffers)."""
    return control + load + array + store + (blocks - 1) * (max(load, array, store) if overlap else load + array + store)


def array_cycles(n: int, dk: int, t: int, n_tile: int) -> int:
    """Clocks of the SAU array for one block: (Tq·T·Tq + 1)·D_K + ARRAY_DEPTH, Tq = ceil(N / N_TILE)."""
    query_tiles = tiles(n, n_tile)
    return (query_tiles * t * query_tiles + 1) * dk + ARRAY_DEPTH


def estimate(n: int, dk: int, t: int, blocks: int = 1, clock_mhz: float = 200.0,
             limits: Limits = DEFAULT_KERNEL_LIMITS, port_mhz: float | None = None,
             port_beats_per_clock: float = 1.0) -> LatencyEstimate:
    """Latency of one call of `blocks` blocks on a kernel build with `limits` (docs/spec.md §8).

    port_mhz defaults to clock_mhz (the DMA and HP port in the kernel's clock domain).
    """
    n, dk, t, blocks = (check_int(name, value) for name, value in (("n", n), ("dk", dk), ("t", t), ("blocks", blocks)))
    limits.check(n, dk, t, "the kernel build")
    if not 1 <= blocks <= BLOCKS_MAX:
        raise ConfigError(f"blocks={blocks} is outside 1..{BLOCKS_MAX}; split the batch into several calls")
    port_mhz = clock_mhz if port_mhz is None else port_mhz
    if clock_mhz <= 0 or port_mhz <= 0 or not 0 < port_beats_per_clock <= 1:
        raise ConfigError("clock_mhz and port_mhz must be positive and port_beats_per_clock in (0, 1]")

    in_block, out_block = stream_word_counts(1, t, n, dk)
    seed = tiles(n, limits.array) * limits.array + SEED_DEPTH
    overlap = pingpong(limits)
    load = max(in_block + LOAD_DEPTH, seed) if overlap else in_block + LOAD_DEPTH + seed
    array = array_cycles(n, dk, t, limits.array)
    store = out_block + STORE_DEPTH
    port_rate = port_mhz * port_beats_per_clock  # beats per µs
    stretched_load = max(load / clock_mhz, in_block / port_rate + (0 if overlap else seed / clock_mhz))
    stretched_store = max(store / clock_mhz, out_block / port_rate)
    return LatencyEstimate(
        n=n, dk=dk, t=t, blocks=blocks, clock_mhz=clock_mhz, n_tile=limits.array,
        load_cycles=load, array_cycles=array, store_cycles=store,
        kernel_cycles=int(_call_time(load, array, store, blocks, CONTROL_CYCLES, overlap)),
        in_words=in_block * blocks, out_words=out_block * blocks,
        transfer_in_us=in_block * blocks / port_rate, transfer_out_us=out_block * blocks / port_rate,
        end_to_end_us=_call_time(stretched_load, array / clock_mhz, stretched_store, blocks, CONTROL_CYCLES / clock_mhz,
                                 overlap),
    )
