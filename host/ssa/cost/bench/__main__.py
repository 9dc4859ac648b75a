"""`python -m ssa.cost.bench`: the options of `ssa bench`, without click (for bare GPU machines)."""
from __future__ import annotations

import os
from pathlib import Path

from ssa.cost.bench.plan import make_plan
from ssa.cost.bench.report import to_markdown, write_outputs
from ssa.cost.bench.runner import run_plan


def main(argv: list[str] | None = None) -> None:
    """`python -m ssa.cost.bench`: the options of `ssa bench`, without click (for bare GPU machines)."""
    import argparse

    parser = argparse.ArgumentParser(prog="python -m ssa.cost.bench", description="Time every SSA implementation (see `ssa bench --help`).")
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--out", type=Path, default=Path("bench_out"))
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--device", choices=["auto", "cpu", "cuda"], default="auto")
    parser.add_argument("--cpu-batch", type=int)
    parser.add_argument("--cuda-batch", type=int)
    parser.add_argument("--no-compile", action="store_true")
    parser.add_argument("--no-progress", action="store_true")
    args = parser.parse_args(argv)
    plan = make_plan(args.quick, args.threads, args.cpu_batch, args.cuda_batch, not args.no_compile)
    report = run_plan(plan, device=args.device, progress=not args.no_progress)
    paths = write_outputs(report, args.out)
    print(to_markdown(report))
    print("wrote " + ", ".join(str(p) for p in paths.values()))


if __name__ == "__main__":
    main()
