"""What one `ssa bench` run measures (Plan), what it produces (Row, Report), and its inputs."""
from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np

#: Blocks compared with the reference emulator per bit-exact row (block k equals block 0 of seed + k).
CHECK_BLOCKS = 8
SEED = 12345
DENSITY = 0.3
#: Option ranges of `ssa bench` / `python -m ssa.cost.bench`: more threads is a typo, not a machine;
#: larger batches would need gigabytes of spikes at N = 128.
MAX_THREADS, CPU_BATCH_MAX, CUDA_BATCH_MAX = 1024, 1024, 8192


@dataclass(frozen=True)
class Plan:
    """What one bench run measures."""

    sizes: tuple[int, ...]  # N values of the main table
    dk: int
    t: int
    cpu_batch: int
    cuda_batch: int
    threads: int
    sweep_n: tuple[int, ...]  # N values of the growth sweep (D_K = dk, T = t)
    sweep_t: tuple[int, ...]  # T values of the growth sweep (N = sweep_n_fixed)
    sweep_n_fixed: int
    min_repeat_s: float  # each repeat runs the call this long at least
    repeats: int
    compiled: bool = True  # also time torch.compile'd kernels on CUDA

    @classmethod
    def full(cls, threads: int) -> "Plan":
        return cls((16, 64, 128), 64, 10, 64, 1024, threads, (8, 16, 32, 64, 128, 256), (1, 2, 5, 10, 20, 50), 64, 0.05, 7)

    @classmethod
    def quick(cls, threads: int) -> "Plan":
        return cls((8,), 16, 3, 4, 16, threads, (4, 8), (1, 2), 8, 0.002, 3)


@dataclass
class Row:
    """One timed implementation on one input set."""

    impl: str
    device: str
    n: int
    dk: int
    t: int
    blocks: int
    threads: int
    us_per_block: float
    blocks_per_s: float
    bit_exact: bool | None  # None: a baseline that is not meant to be bit-exact
    speedup_vs_plain: float | None = None
    note: str = ""
    vs_floor: float | None = None  # µs/block over the CPU's floor (one-thread CPU rows)
    speedup_vs_paper_cpu: float | None = None  # the paper's 2 672 µs CPU block over this row


@dataclass
class Report:
    """Everything one bench run produced."""

    meta: dict
    rows: list[Row] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    sweeps: dict = field(default_factory=dict)


def make_inputs(n: int, dk: int, t: int, blocks: int, seed: int = SEED) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Random Q, K, V spikes [T, blocks, 1, N, D_K] (uint8, density DENSITY)."""
    g = np.random.default_rng(seed)
    return tuple((g.random((t, blocks, 1, n, dk)) < DENSITY).astype(np.uint8) for _ in range(3))  # type: ignore[return-value]


def make_plan(quick: bool, threads: int, cpu_batch: int | None = None, cuda_batch: int | None = None, compiled: bool = True) -> Plan:
    """The quick or full plan with optional overrides."""
    plan = Plan.quick(threads) if quick else Plan.full(threads)
    overrides = {"cpu_batch": cpu_batch, "cuda_batch": cuda_batch}
    return replace(plan, compiled=compiled, **{k: v for k, v in overrides.items() if v is not None})
