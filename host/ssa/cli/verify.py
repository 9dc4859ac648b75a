"""`ssa verify`: run random blocks through two backends and check that they agree bit for bit."""
from __future__ import annotations

import time
from dataclasses import replace
from typing import Any

import click
import numpy as np

from ssa.backends import available_backends, get_backend
from ssa.cli.params import GAIN_LOG2, PROBABILITY, NonEmptyPath
from ssa.contract.config import DEFAULT_KERNEL_LIMITS, SSAConfig
from ssa.contract.registers import BLOCKS_MAX
from ssa.errors import ConfigError


def random_blocks(config: SSAConfig, blocks: int, density: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Q, K, V shaped [T, blocks, 1, N, D_K] with i.i.d. spikes of the given density (seeded by config.seed)."""
    rng = np.random.default_rng(config.seed)
    shape = (config.t, blocks, 1, config.n, config.dk)
    q, k, v = ((rng.random(shape) < density).astype(np.uint8) for _ in range(3))
    return q, k, v


def timed_run(name: str, options: dict[str, Any], q: np.ndarray, k: np.ndarray, v: np.ndarray,
              config: SSAConfig) -> tuple[np.ndarray, float, str]:
    """Attn from backend `name`, the seconds its run took and, for a kernel backend, the build it
    probed ("" otherwise).

    Neither the construction (a C-simulation build) nor the first call (a warm-up of caches and
    thread pools) is timed: up to two blocks (a single-block and a batched call path) run untimed
    first, so the table shows the steady-state cost.
    """
    backend = get_backend(name, **options)
    backend.run(q[:, :2], k[:, :2], v[:, :2], config)
    start = time.perf_counter()
    attn = backend.run(q, k, v, config)
    seconds = time.perf_counter() - start
    limits = getattr(backend, "limits", None)
    build = (f"{name} kernel: {limits.array}x{limits.array} SAU array, N <= {limits.n_max}, D_K <= {limits.dk_max}, "
             f"T <= {limits.t_max}") if limits is not None else ""
    return attn, seconds, build


#: Spikes `ssa verify` may generate (Q, K and V together), so a typo in --blocks cannot exhaust memory.
MAX_SPIKES = 2**30


def first_difference(a: np.ndarray, b: np.ndarray, block: int) -> str:
    """Where block `block` of two [T, blocks, 1, N, D_K] results first differs."""
    t, _, i, d = (int(x) for x in np.argwhere(a[:, block] != b[:, block])[0])
    return f"block {block}: first difference at t={t}, i={i}, d={d}"


@click.command()
@click.option("--backend", "backend", default="csim", show_default=True, help=f"backend under test ({', '.join(available_backends())})")
@click.option("--against", default="emulate", show_default=True, help="reference backend")
@click.option("--blocks", default=8, show_default=True, type=click.IntRange(1, BLOCKS_MAX), help="random blocks K")
@click.option("--n", "n", default=16, show_default=True, help="tokens N")
@click.option("--dk", default=64, show_default=True, help="key dimension D_K")
@click.option("--t", "t", default=10, show_default=True, help="time steps T")
@click.option("--seed", default=1, show_default=True, help="user seed (0..2^32-1); also seeds the random spikes")
@click.option("--density", default=0.3, show_default=True, type=PROBABILITY, help="spike rate of Q, K, V")
@click.option("--gain-log2", "gain_log2", default=0, show_default=True, type=GAIN_LOG2,
              help="encoder gain exponent g (contract v2: spikes where u < count << g); a v1 kernel takes only 0")
@click.option("--bitstream", default=None, type=NonEmptyPath(dir_okay=False),
              help="overlay .bit for the pynq backend (default: $SSA_BITSTREAM, ./ssa.bit, <pynq>/overlays/ssa/ssa.bit)")
@click.option("--n-tile", "n_tile", default=None, type=click.IntRange(1, DEFAULT_KERNEL_LIMITS.n_max),
              help=f"SAU array side of the csim build (default {DEFAULT_KERNEL_LIMITS.n_tile}; blocks of N up to "
                   f"{DEFAULT_KERNEL_LIMITS.n_max} run in tiles of it)")
def verify(backend: str, against: str, blocks: int, n: int, dk: int, t: int, seed: int, density: float,
           gain_log2: int, bitstream: str | None, n_tile: int | None) -> None:
    """Run K random blocks through two backends; exit 1 unless every block agrees bit for bit."""
    if backend == against:
        raise click.UsageError(f"--backend and --against both name {backend!r}; compare two different backends")
    if bitstream and "pynq" not in (backend, against):
        raise click.UsageError("--bitstream only applies to the pynq backend")
    if n_tile is not None and "csim" not in (backend, against):
        raise click.UsageError("--n-tile only applies to the csim backend")
    config = SSAConfig(n=n, dk=dk, t=t, seed=seed, gain_log2=gain_log2)
    spikes = 3 * t * blocks * n * dk
    if spikes > MAX_SPIKES:
        raise ConfigError(f"--blocks {blocks} of N={n} D_K={dk} T={t} would generate {spikes} spikes (over {MAX_SPIKES}); "
                          "verify fewer blocks per run")
    q, k, v = random_blocks(config, blocks, density)
    results = {}
    for name in (backend, against):
        options: dict[str, Any] = {"bitstream": bitstream} if name == "pynq" and bitstream else {}
        if name == "csim" and n_tile is not None:
            options["limits"] = replace(DEFAULT_KERNEL_LIMITS, n_tile=n_tile)
        results[name] = timed_run(name, options, q, k, v, config)

    click.echo(f"SSA verify: {backend} against {against}, {blocks} random block(s) N={n} D_K={dk} T={t} seed={seed} "
               f"density={density} gain=2^{gain_log2}")
    click.echo(f"{'backend':<10}{'total ms':>12}{'per block µs':>15}  (after an untimed warm-up call)")
    for name, (_, seconds, _) in results.items():
        click.echo(f"{name:<10}{seconds * 1e3:>12.2f}{seconds * 1e6 / blocks:>15.1f}")
    for _, _, build in results.values():
        if build:
            click.echo(build)
    attn, reference = results[backend][0], results[against][0]
    bad = np.flatnonzero((attn != reference).reshape(attn.shape[0], blocks, -1).any(axis=(0, 2))).tolist()
    if bad:
        click.echo(f"MISMATCH: {len(bad)}/{blocks} block(s) differ: {', '.join(map(str, bad[:20]))}{' ...' if len(bad) > 20 else ''}")
        click.echo(first_difference(attn, reference, bad[0]))
        raise SystemExit(1)
    click.echo(f"bit-exact: {blocks}/{blocks} blocks agree ({attn.size} spikes, rate {attn.mean():.4f})")
