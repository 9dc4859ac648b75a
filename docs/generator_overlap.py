"""How many generator windows of an SSA block overlap on the xorshift32 cycle (docs/spec.md §4).

Every generator walks a window of the one cycle of 2^32 − 1 non-zero states: GS[j] T states, GA[i]
T·D_K states, starting one step after its hashed start state. This script finds the exact position
of every start state on that cycle, a discrete logarithm in GF(2^32): the state is written in the
Krylov basis {s, A s, …, A^31 s} of the xorshift matrix A, which turns it into a polynomial p(x)
with A^k s = state ⇔ x^k = p(x) mod the characteristic polynomial of A; 2^32 − 1 = 3·5·17·257·65537
makes Pohlig–Hellman with full subgroup tables cheap. Then it counts the window pairs that intersect.

    python docs/generator_overlap.py N D_K T BLOCKS      # e.g. 256 256 1024 200: about 1.5 minutes
"""
from __future__ import annotations

import sys

import numpy as np

from ssa.contract import prng

PERIOD = 2**32 - 1
FACTORS = (3, 5, 17, 257, 65537)
KINDS = ("GA-GA", "GA-GS", "GS-GS")


def step(x: int) -> int:
    """One xorshift32 step of the contract (ssa.contract.prng.xorshift32) on a Python int."""
    return int(prng.xorshift32(np.array([x], dtype=np.uint32))[0])


def berlekamp_massey(bits: list[int]) -> int:
    """The minimal polynomial (bit i = coefficient of x^i) of a GF(2) sequence."""
    c, b, length, m = [1] + [0] * len(bits), [1] + [0] * len(bits), 0, -1
    for i, bit in enumerate(bits):
        d = bit
        for j in range(1, length + 1):
            d ^= c[j] & bits[i - j]
        if d:
            previous = c[:]
            for j in range(len(bits) - i + m):
                c[i - m + j] ^= b[j]
            if 2 * length <= i:
                length, m, b = i + 1 - length, i, previous
    return sum(1 << (length - j) for j in range(length + 1) if c[j])  # reciprocal of the connection polynomial


class Cycle:
    """Positions of xorshift32 states on its single cycle, relative to the state 1."""

    def __init__(self) -> None:
        self.columns = [step(1 << i) for i in range(32)]  # the matrix A, column by column
        bits, state = [], 0x12345678
        for _ in range(128):
            state = step(state)
            bits.append(state & 1)
        self.poly = berlekamp_massey(bits)
        assert self.poly >> 32 == 1, "the characteristic polynomial must have degree 32"
        assert self.power(2, PERIOD) == 1 and all(self.power(2, PERIOD // q) != 1 for q in FACTORS), "x must be primitive"
        self.basis = self._krylov_basis(1)
        self.tables = {q: self._subgroup_table(q) for q in FACTORS}

    def apply(self, x: int) -> int:
        """A·x over GF(2)."""
        out, i = 0, 0
        while x:
            if x & 1:
                out ^= self.columns[i]
            x, i = x >> 1, i + 1
        return out

    def multiply(self, a: int, b: int) -> int:
        """a·b in GF(2)[x] modulo the characteristic polynomial."""
        out = 0
        while b:
            if b & 1:
                out ^= a
            b, a = b >> 1, a << 1
            if a >> 32:
                a ^= self.poly
        return out

    def power(self, a: int, e: int) -> int:
        out = 1
        while e:
            if e & 1:
                out = self.multiply(out, a)
            a, e = self.multiply(a, a), e >> 1
        return out

    def _krylov_basis(self, start: int) -> dict[int, tuple[int, int]]:
        """Row-reduced {leading bit: (vector, polynomial)} of the vectors A^i·start, i < 32."""
        basis: dict[int, tuple[int, int]] = {}
        vector = start
        for i in range(32):
            v, poly = vector, 1 << i
            while v and (v.bit_length() - 1) in basis:
                bv, bp = basis[v.bit_length() - 1]
                v, poly = v ^ bv, poly ^ bp
            assert v, "the Krylov vectors must be independent"
            basis[v.bit_length() - 1] = (v, poly)
            vector = self.apply(vector)
        return basis

    def _subgroup_table(self, q: int) -> dict[int, int]:
        generator, element, table = self.power(2, PERIOD // q), 1, {}
        for j in range(q):
            table[element] = j
            element = self.multiply(element, generator)
        return table

    def position(self, state: int) -> int:
        """k with A^k·1 = state (state non-zero)."""
        poly = 0
        while state:
            v, p = self.basis[state.bit_length() - 1]
            state, poly = state ^ v, poly ^ p
        k = 0
        for q in FACTORS:
            rest = PERIOD // q
            k += self.tables[q][self.power(poly, rest)] * rest * pow(rest, -1, q)
        return k % PERIOD


def overlapping_pairs(cycle: Cycle, seed: int, n: int, dk: int, t: int) -> dict[str, int]:
    """Intersecting window pairs of the block with this block seed, by kind."""
    seeds = prng.block_seeds(seed, 1)[:, None]
    starts = [cycle.position(int(s)) + 1 for ids in (prng.score_stream_ids(n), prng.output_stream_ids(n))
              for s in prng.initial_states(seeds, ids[None, :])[0]]
    begin = np.array(starts, dtype=np.int64)
    length = np.array([t] * n + [t * dk] * n, dtype=np.int64)
    kind = ["GS"] * n + ["GA"] * n
    counts = dict.fromkeys(KINDS, 0)
    for a in range(2 * n):
        after = (begin - begin[a]) % PERIOD  # how far each window starts after window a
        hit = (after < length[a]) | ((PERIOD - after) % PERIOD < length)
        for b in np.flatnonzero(hit[a + 1:]) + a + 1:
            counts["-".join(sorted((kind[a], kind[b])))] += 1
    return counts


def main(argv: list[str]) -> None:
    n, dk, t, blocks = (int(x) for x in argv)
    cycle = Cycle()
    state = 0xDEADBEEF
    origin = cycle.position(state)
    for _ in range(1000):
        state = step(state)
    assert cycle.position(state) == (origin + 1000) % PERIOD, "positions must advance with the generator"
    total = dict.fromkeys(KINDS, 0)
    for block in range(blocks):
        for name, count in overlapping_pairs(cycle, block * 7919, n, dk, t).items():
            total[name] += count
    print(f"N={n} D_K={dk} T={t}, {blocks} blocks (user seeds 0, 7919, ...): {total}; "
          f"{sum(total.values()) / blocks:.3f} intersecting pairs per block")


if __name__ == "__main__":
    main(sys.argv[1:])
