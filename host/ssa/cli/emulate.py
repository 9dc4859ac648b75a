"""`ssa emulate`: run one random SSA block and compare its spike rates with the paper's expectations."""
from __future__ import annotations

import time

import click
import numpy as np

from ssa.backends.emulator import run_with_scores
from ssa.cli.params import GAIN_LOG2, PROBABILITY
from ssa.contract.config import SSAConfig
from ssa.contract.statistics import RateCheck, expected_rates


@click.command()
@click.option("--n", "n", default=64, show_default=True, help="tokens N")
@click.option("--dk", default=64, show_default=True, help="key dimension D_K")
@click.option("--t", "t", default=10, show_default=True, help="time steps T")
@click.option("--seed", default=1, show_default=True, help="user seed (0..2^32-1)")
@click.option("--density", default=0.3, show_default=True, type=PROBABILITY, help="spike rate of the random Q, K, V")
@click.option("--mode", type=click.Choice(["lfsr", "ideal"]), default="lfsr", show_default=True)
@click.option("--gain-log2", default=0, show_default=True, type=GAIN_LOG2,
              help="encoder gain exponent g (contract v2): rates min(1, 2^g p)")
def emulate(n: int, dk: int, t: int, seed: int, density: float, mode: str, gain_log2: int) -> None:
    """Run one random block (Q, K, V fixed over T steps) on the reference emulator."""
    config = SSAConfig(n=n, dk=dk, t=t, seed=seed, mode=mode, gain_log2=gain_log2)
    rng = np.random.default_rng(seed)
    q, k, v = ((rng.random((1, n, dk)) < density).astype(np.uint8).repeat(t, axis=0) for _ in range(3))
    start = time.perf_counter()
    attn, s = run_with_scores(q, k, v, config)
    elapsed = time.perf_counter() - start
    p_s, p_attn = expected_rates(q[0], k[0], v[0], gain_log2)
    checks = [RateCheck.of("S (eq. 5)", s, p_s), RateCheck.of("Attn (eq. 6)", attn, p_attn)]
    click.echo(f"SSA block N={n} D_K={dk} T={t} seed={seed} mode={mode} gain=2^{gain_log2} input density={density}")
    click.echo(f"{'quantity':<14}{'measured':>10}{'expected':>10}{'|diff|':>10}{'bound':>10}  verdict")
    for c in checks:
        click.echo(f"{c.name:<14}{c.measured:>10.4f}{c.expected:>10.4f}{c.error:>10.4f}{c.bound:>10.4f}  {'ok' if c.ok else 'OUT OF BOUNDS'}")
    click.echo(f"emulated in {elapsed * 1e3:.2f} ms ({elapsed * 1e6 / t:.0f} µs per time step)")
    if not all(c.ok for c in checks):
        raise SystemExit(1)
