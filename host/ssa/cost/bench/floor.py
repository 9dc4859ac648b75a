"""The floor of the CPU `ssa bench` runs on: what one SSA block costs at this machine's raw rates.

One block of N tokens, D_K key dimension and T time steps needs, whatever the implementation,
`T·(N·N·⌈D_K/64⌉ + N·D_K·⌈N/64⌉)` AND + popcount + compare operations on 64-bit words (eq. 5 and 6)
and `T·(N + N·D_K)` xorshift32 draws (docs/spec.md §4). Two micro-benchmarks of the native library
time them in isolation on data in L1 (a plain AND + nibble-table popcount + compare loop, 4 words
per AVX2 vector; independent generators, 8 per vector), on the widest path the kernel has on this
CPU; the floor of a block is pairs × ns per pair + draws × ns per draw, on one core.
"""
from __future__ import annotations

import time
from dataclasses import asdict, dataclass

from ssa import _native
from ssa.contract.packing import words_per_row

#: The paper's SSA block on a CPU (i7-12850HX, Table III), µs.
PAPER_CPU_US = 2672.0


@dataclass(frozen=True)
class Floor:
    """Measured raw rates of this CPU on one core."""

    isa: str
    ns_per_pair: float
    ns_per_draw: float

    def block_us(self, n: int, dk: int, t: int) -> float:
        """Floor of one block in µs."""
        return (pairs(n, dk, t) * self.ns_per_pair + draws(n, dk, t) * self.ns_per_draw) / 1000.0

    def as_dict(self) -> dict:
        return asdict(self)


def pairs(n: int, dk: int, t: int) -> int:
    """AND + popcount + compare word pairs of one block (eq. 5 and eq. 6)."""
    return t * (n * n * words_per_row(dk) + n * dk * words_per_row(n))


def draws(n: int, dk: int, t: int) -> int:
    """xorshift32 draws of one block (N per time step for eq. 5, N·D_K for eq. 6)."""
    return t * (n + n * dk)


def _seconds_per_rep(call, reps: int, repeats: int) -> float:
    """Median over `repeats` of the time of call(reps), per rep (CPU time of the calling thread, where they run)."""
    samples = []
    call(reps)
    for _ in range(repeats):
        start = time.thread_time()
        call(reps)
        samples.append((time.thread_time() - start) / reps)
    samples.sort()
    return samples[len(samples) // 2]


def measure_floor(min_repeat_s: float = 0.05, repeats: int = 7) -> Floor:
    """Time both micro-benchmarks (NativeUnavailable without the native library)."""
    kernel = _native.kernel()
    pair_reps = max(1, int(min_repeat_s / 1e-6))  # a rep of 4096 pairs takes about a microsecond
    draw_reps = max(1, int(min_repeat_s / 3e-9))
    per_pair = _seconds_per_rep(kernel.floor_pairs, pair_reps, repeats) / _native.FLOOR_PAIRS_PER_REP
    per_draw = _seconds_per_rep(kernel.floor_draws, draw_reps, repeats) / _native.FLOOR_DRAWS_PER_REP
    return Floor(kernel.isa, per_pair * 1e9, per_draw * 1e9)
