"""`ssa bench`: time the reference emulator, the fast backends and baselines on the same inputs."""
from __future__ import annotations

from pathlib import Path

import click

from ssa._native import cpu_threads
from ssa.cli.params import OutputDir
from ssa.cost.bench import make_plan, run_plan, to_markdown, write_outputs
from ssa.cost.bench.plan import CPU_BATCH_MAX, CUDA_BATCH_MAX, MAX_THREADS


@click.command()
@click.option("--quick", is_flag=True, help="CI-sized run: tiny sizes, a few seconds")
@click.option("--out", "out_dir", type=OutputDir(), default="bench_out", show_default=True, help="folder for bench.json, bench.md and bench_growth.png (checked for writing before the run)")
@click.option("--threads", type=click.IntRange(1, MAX_THREADS), default=cpu_threads(), show_default=True, help="threads of the batched CPU rows (single-block rows always use one)")
@click.option("--device", type=click.Choice(["auto", "cpu", "cuda"]), default="auto", show_default=True, help="auto: CUDA rows too when torch sees a GPU")
@click.option("--cpu-batch", type=click.IntRange(2, CPU_BATCH_MAX), default=None, help="blocks per batched CPU call [full: 64, quick: 4]")
@click.option("--cuda-batch", type=click.IntRange(2, CUDA_BATCH_MAX), default=None, help="blocks per batched CUDA call [full: 1024, quick: 16]")
@click.option("--no-compile", is_flag=True, help="skip the torch.compile rows on CUDA (each shape compiles for tens of seconds)")
@click.option("--no-progress", is_flag=True, help="no progress bars")
def bench(quick: bool, out_dir: Path, threads: int, device: str, cpu_batch: int | None, cuda_batch: int | None, no_compile: bool, no_progress: bool) -> None:
    """Time every SSA implementation (µs per block, blocks/s) and the cost growth with N and T.

    Also runnable without click as `python -m ssa.cost.bench` (same options).
    """
    plan = make_plan(quick, threads, cpu_batch, cuda_batch, compiled=not no_compile)
    report = run_plan(plan, device=device, progress=not no_progress)
    paths = write_outputs(report, out_dir)
    click.echo(to_markdown(report))
    click.echo("wrote " + ", ".join(str(p) for p in paths.values()))
