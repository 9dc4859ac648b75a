"""`python -m ssa.cost.bench`: the options of `ssa bench`, without click (for bare GPU machines)."""
from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Callable

from ssa._native import cpu_threads
from ssa.cost.bench.plan import CPU_BATCH_MAX, CUDA_BATCH_MAX, MAX_THREADS, make_plan
from ssa.cost.bench.report import to_markdown, write_outputs
from ssa.cost.bench.runner import run_plan
from ssa.errors import SSAError


def int_range(low: int, high: int) -> Callable[[str], int]:
    """argparse type: an integer in [low, high]."""
    def parse(text: str) -> int:
        value = int(text)
        if not low <= value <= high:
            raise ValueError(text)
        return value
    parse.__name__ = f"integer in {low}..{high}"
    return parse


def main(argv: list[str] | None = None) -> None:
    """`python -m ssa.cost.bench`: the options of `ssa bench`, without click (for bare GPU machines)."""
    import argparse

    parser = argparse.ArgumentParser(prog="python -m ssa.cost.bench", description="Time every SSA implementation (see `ssa bench --help`).")
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--out", type=Path, default=Path("bench_out"))
    parser.add_argument("--threads", type=int_range(1, MAX_THREADS), default=cpu_threads())
    parser.add_argument("--device", choices=["auto", "cpu", "cuda"], default="auto")
    parser.add_argument("--cpu-batch", type=int_range(2, CPU_BATCH_MAX))
    parser.add_argument("--cuda-batch", type=int_range(2, CUDA_BATCH_MAX))
    parser.add_argument("--no-compile", action="store_true")
    parser.add_argument("--no-progress", action="store_true")
    args = parser.parse_args(argv)
    try:  # the outputs must be writable before the benchmark runs
        args.out.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=args.out):
            pass
    except OSError as exc:
        parser.error(f"--out {str(args.out)!r} is not a writable folder: {exc.strerror or exc}")
    plan = make_plan(args.quick, args.threads, args.cpu_batch, args.cuda_batch, not args.no_compile)
    try:
        report = run_plan(plan, device=args.device, progress=not args.no_progress)
    except SSAError as exc:
        parser.exit(1, f"Error: {type(exc).__name__}: {exc}\n")
    paths = write_outputs(report, args.out)
    print(to_markdown(report))
    print("wrote " + ", ".join(str(p) for p in paths.values()))


if __name__ == "__main__":
    main()
