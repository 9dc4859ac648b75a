"""`ssa bench`: time every SSA implementation on the same inputs, and the cost growth with N and T.

Rows (µs per block, blocks per second): the reference emulator, the bit-exact backends (`fast`,
`torch` on CPU and CUDA, `csim` when it builds and N fits), and two baselines that are NOT
bit-exact and only give scale: SSA written in plain float PyTorch (matmul + torch.bernoulli) and
ANN attention (scaled dot-product softmax, one pass, no time steps). Bit-exact rows are checked
against the reference emulator on the first blocks of the very inputs they were timed on.

Timing: warm-up calls (torch.compile, caches, thread pools), then repeats of an adaptive number of calls,
median; one-thread CPU rows in CPU time (robust on a shared machine: `fast` and the floor in the
calling thread's, where they run, the others in the process's), the others in wall time; CUDA rows synchronise; "1" in the threads column means `fast` and torch ran on one thread.
Every row is also given as a ratio to plain PyTorch SSA and to the paper's CPU block (2 672 µs),
and one-thread CPU rows as a ratio to the floor of this CPU (`floor.py`: measured AND + popcount
+ compare and xorshift rates). Run as `ssa bench` or `python -m ssa.cost.bench`.
"""
from __future__ import annotations

from ssa.cost.bench.plan import Plan, Report, Row, make_plan
from ssa.cost.bench.report import to_markdown, write_outputs
from ssa.cost.bench.runner import run_plan

__all__ = ["Plan", "Report", "Row", "make_plan", "run_plan", "to_markdown", "write_outputs"]
