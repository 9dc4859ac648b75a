"""Running a bench plan: timing calls, checking bit-exactness against the emulator, the growth sweeps."""
from __future__ import annotations

import contextlib
import statistics
import time
from typing import Callable, Iterator

import numpy as np

from ssa.backends import emulator
from ssa.contract.config import SSAConfig
from ssa.cost.bench.candidates import (
    Candidate,
    candidates,
    cuda_available,
    timed_on,
    torch_available,
)
from ssa.cost.bench.floor import PAPER_CPU_US, Floor, measure_floor
from ssa.cost.bench.plan import CHECK_BLOCKS, SEED, Plan, Report, Row, make_inputs
from ssa.cost.bench.report import machine_info
from ssa.errors import BackendError, SSAError


def time_call(call: Callable[[], object], min_repeat_s: float, repeats: int, warmup: int = 2, clock: Callable[[], float] = time.perf_counter) -> float:
    """Median seconds of one call: warm-up, then `repeats` repeats of enough calls to last min_repeat_s."""
    for _ in range(warmup):
        call()
    start = clock()
    call()
    once = max(clock() - start, 1e-9)
    number = max(1, int(min_repeat_s / once))
    samples = []
    for _ in range(repeats):
        start = clock()
        for _ in range(number):
            call()
        samples.append((clock() - start) / number)
    return statistics.median(samples)


@contextlib.contextmanager
def torch_threads(threads: int) -> Iterator[None]:
    """Pin torch's intra-op threads for the duration of a measurement."""
    import torch

    previous = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        yield
    finally:
        torch.set_num_threads(previous)


def _measure(candidate: Candidate, config: SSAConfig, blocks: int, plan: Plan, reference: np.ndarray) -> Row:
    impl, device, threads, call, to_numpy, note = candidate
    timed = timed_on(call, device)
    pin = torch_threads(threads) if torch_available() else contextlib.nullcontext()
    clock = _clock(impl, device, threads)
    with pin:
        seconds = time_call(timed, plan.min_repeat_s, plan.repeats, clock=clock)
        out = timed()
    exact = None
    if to_numpy is not None:
        got = to_numpy(out)[:, : reference.shape[1]]
        exact = bool(np.array_equal(got, reference))
    per_block = seconds / blocks
    return Row(impl, device, config.n, config.dk, config.t, blocks, threads, per_block * 1e6, 1.0 / per_block, exact, note=note)


#: Implementations whose one-thread rows run entirely in the calling thread (timed like the floor).
CALLING_THREAD_IMPLS = ("fast",)


def _clock(impl: str, device: str, threads: int) -> Callable[[], float]:
    """CPU time for one-thread CPU rows (robust on a shared machine): the calling thread's where all
    the work runs there, like the floor, else the process's (library threads included, also when
    they only spin); wall time for the others."""
    if device != "cpu" or threads != 1:
        return time.perf_counter
    return time.thread_time if impl in CALLING_THREAD_IMPLS else time.process_time


def _cases(plan: Plan, cuda: bool) -> list[tuple[str, int, int]]:
    """(device, N, blocks) of the main table."""
    cases = []
    for n in plan.sizes:
        cases += [("cpu", n, 1), ("cpu", n, plan.cpu_batch)]
        if cuda:
            cases += [("cuda", n, 1), ("cuda", n, plan.cuda_batch)]
    return cases


def _add_ratios(rows: list[Row], floor: Floor | None) -> None:
    """Each row against plain-torch-ssa (same device, N, blocks), the paper's CPU block and, on one
    CPU thread, the floor of this CPU."""
    plain = {(r.device, r.n, r.blocks): r.us_per_block for r in rows if r.impl == "plain-torch-ssa"}
    for r in rows:
        base = plain.get((r.device, r.n, r.blocks))
        r.speedup_vs_plain = base / r.us_per_block if base else None
        r.speedup_vs_paper_cpu = PAPER_CPU_US / r.us_per_block
        if floor is not None and r.device == "cpu" and r.threads == 1:
            r.vs_floor = r.us_per_block / floor.block_us(r.n, r.dk, r.t)


def _progress(items: list, desc: str, enabled: bool) -> Iterator:
    """tqdm progress bar over items (plain iteration when tqdm is missing or disabled)."""
    try:
        from tqdm import tqdm
    except ImportError:
        return iter(items)
    return iter(tqdm(items, desc=desc, disable=not enabled))


def run_plan(plan: Plan, device: str = "auto", progress: bool = True) -> Report:
    """Measure the main table and the growth sweeps of `plan`."""
    cuda = device in ("auto", "cuda") and cuda_available()
    if device == "cuda" and not cuda:
        raise BackendError("--device cuda but torch.cuda.is_available() is False (or torch is missing); use --device cpu or auto, or a machine with a CUDA GPU")
    report = Report(meta=machine_info(plan, cuda))
    floor = _floor(plan, report)
    cases = _cases(plan, cuda)
    for dev, n, blocks in _progress(cases, "bench", progress):
        config = SSAConfig(n=n, dk=plan.dk, t=plan.t, seed=SEED)
        q, k, v = make_inputs(n, plan.dk, plan.t, blocks)
        check = min(blocks, CHECK_BLOCKS)
        reference = emulator.run(q[:, :check], k[:, :check], v[:, :check], config)
        for candidate in candidates(q, k, v, config, dev, plan.threads, report.skipped, plan.compiled):
            report.rows.append(_measure(candidate, config, blocks, plan, reference))
    _add_ratios(report.rows, floor)
    report.skipped = sorted(set(report.skipped))
    report.sweeps = run_sweeps(plan, cuda, progress)
    return report


def _floor(plan: Plan, report: Report) -> Floor | None:
    """The CPU's floor (into report.meta), or None with a skipped line without the native library."""
    try:
        floor = measure_floor(plan.min_repeat_s, plan.repeats)
    except SSAError as exc:
        report.skipped.append(f"floor: {exc}")
        return None
    report.meta["floor"] = floor.as_dict() | {"block_us": {f"{n},{plan.dk},{plan.t}": floor.block_us(n, plan.dk, plan.t) for n in plan.sizes}}
    return floor


def run_sweeps(plan: Plan, cuda: bool, progress: bool) -> dict:
    """µs per block of single blocks vs N (D_K, T fixed) and vs T (N, D_K fixed)."""
    series: dict[str, dict[str, list]] = {"n": {}, "t": {}}
    points = [("n", n, SSAConfig(n, plan.dk, plan.t, seed=SEED)) for n in plan.sweep_n]
    points += [("t", t, SSAConfig(plan.sweep_n_fixed, plan.dk, t, seed=SEED)) for t in plan.sweep_t]
    devices = ["cpu"] + (["cuda"] if cuda else [])
    for axis, x, config in _progress(points, "sweep", progress):
        q, k, v = make_inputs(config.n, config.dk, config.t, 1)
        reference = emulator.run(q, k, v, config)
        found: list[Candidate] = []
        for dev in devices:
            found += [c for c in candidates(q, k, v, config, dev, 1, []) if c[0] in ("reference", "fast", "torch", "plain-torch-ssa")]
        for candidate in found:
            row = _measure(candidate, config, 1, plan, reference)
            series[axis].setdefault(f"{row.impl} ({row.device})", []).append([x, row.us_per_block])
    return {"n": {"fixed": {"dk": plan.dk, "t": plan.t}, "series": series["n"]}, "t": {"fixed": {"n": plan.sweep_n_fixed, "dk": plan.dk}, "series": series["t"]}}
