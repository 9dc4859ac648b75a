"""`ssa bench`: time every SSA implementation on the same inputs, and the cost growth with N and T.

Rows (µs per block, blocks per second): the reference emulator, the bit-exact backends (`fast`,
`torch` on CPU and CUDA, `csim` when it builds and N fits), and two baselines that are NOT
bit-exact and only give scale: SSA written in plain float PyTorch (matmul + torch.bernoulli) and
ANN attention (scaled dot-product softmax, one pass, no time steps). Bit-exact rows are checked
against the reference emulator on the first blocks of the very inputs they were timed on.

Timing: warm-up calls (JIT compilation, caches), then repeats of an adaptive number of calls,
median; CUDA rows synchronise; "1" in the threads column means numba and torch were pinned to
one thread. Run as `ssa bench` or `python -m ssa.cost.bench`.
"""
from __future__ import annotations

import contextlib
import datetime as dt
import importlib.util
import json
import os
import platform
import statistics
import time
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Iterator

import numpy as np

from ssa.backends import emulator
from ssa.contract.config import SSAConfig
from ssa.errors import SSAError

if TYPE_CHECKING:
    import torch

#: Blocks compared with the reference emulator per bit-exact row (block k equals block 0 of seed + k).
CHECK_BLOCKS = 8
SEED = 12345
DENSITY = 0.3


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


@dataclass
class Report:
    """Everything one bench run produced."""

    meta: dict
    rows: list[Row] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    sweeps: dict = field(default_factory=dict)


# ---------------------------------------------------------------------------------------------
# Timing


def time_call(call: Callable[[], object], min_repeat_s: float, repeats: int, warmup: int = 2) -> float:
    """Median seconds of one call: warm-up, then `repeats` repeats of enough calls to last min_repeat_s."""
    for _ in range(warmup):
        call()
    start = time.perf_counter()
    call()
    once = max(time.perf_counter() - start, 1e-9)
    number = max(1, int(min_repeat_s / once))
    samples = []
    for _ in range(repeats):
        start = time.perf_counter()
        for _ in range(number):
            call()
        samples.append((time.perf_counter() - start) / number)
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


def make_inputs(n: int, dk: int, t: int, blocks: int, seed: int = SEED) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Random Q, K, V spikes [T, blocks, 1, N, D_K] (uint8, density DENSITY)."""
    g = np.random.default_rng(seed)
    return tuple((g.random((t, blocks, 1, n, dk)) < DENSITY).astype(np.uint8) for _ in range(3))  # type: ignore[return-value]


# ---------------------------------------------------------------------------------------------
# Implementations: each returns a zero-argument call on fixed inputs and a function turning its
# result into numpy spikes (None for baselines).


Candidate = tuple[str, str, int, Callable[[], object], Callable[[object], np.ndarray] | None, str]


def _torch_available() -> bool:
    return importlib.util.find_spec("torch") is not None


def _cuda_available() -> bool:
    if not _torch_available():
        return False
    import torch

    return torch.cuda.is_available()


def plain_torch_ssa(q: "torch.Tensor", k: "torch.Tensor", v: "torch.Tensor") -> "torch.Tensor":
    """BASELINE, not bit-exact: SSA as a user would write it in float PyTorch (eq. 5 and 6)."""
    import torch

    s = torch.bernoulli(torch.matmul(q, k.transpose(-1, -2)) / q.shape[-1])
    return torch.bernoulli(torch.matmul(s, v) / q.shape[-2])


def ann_attention(q: "torch.Tensor", k: "torch.Tensor", v: "torch.Tensor") -> "torch.Tensor":
    """BASELINE: one pass of scaled dot-product softmax attention on float inputs."""
    import torch

    scores = torch.matmul(q, k.transpose(-1, -2)) / q.shape[-1] ** 0.5
    return torch.matmul(torch.softmax(scores, dim=-1), v)


def _sync(device: str) -> Callable[[], None]:
    if device == "cuda":
        import torch

        return torch.cuda.synchronize
    return lambda: None


def _timed_on(call: Callable[[], object], device: str) -> Callable[[], object]:
    sync = _sync(device)

    def run() -> object:
        out = call()
        sync()
        return out

    return run


def candidates(
    q: np.ndarray, k: np.ndarray, v: np.ndarray, config: SSAConfig, device: str, threads: int, skipped: list[str], compiled: bool = False,
) -> list[Candidate]:
    """Every implementation to time on these inputs: (impl, device, threads, call, to_numpy, note)."""
    found: list[Candidate] = []
    if device == "cpu":
        found.append(("reference", "cpu", 1, lambda: emulator.run(q, k, v, config), np.asarray, "ssa.backends.emulator.run (numpy)"))
        found += _fast_candidates(q, k, v, config, threads, skipped)
        found += _csim_candidates(q, k, v, config, skipped)
    found += _torch_candidates(q, k, v, config, device, threads, skipped, compiled)
    return found


def _fast_candidates(q: np.ndarray, k: np.ndarray, v: np.ndarray, config: SSAConfig, threads: int, skipped: list[str]) -> list[Candidate]:
    try:
        from ssa.backends.fast import FastBackend

        one = FastBackend(threads=1)
    except SSAError as exc:
        skipped.append(f"fast: {exc}")
        return []
    rows: list[Candidate] = [("fast", "cpu", 1, lambda: one.run(q, k, v, config), np.asarray, "numba, bit-packed")]
    if q.shape[1] > 1 and threads > 1:
        try:
            many = FastBackend(threads=threads)
        except SSAError as exc:
            skipped.append(f"fast with {threads} threads: {exc}")
            return rows
        rows.append(("fast", "cpu", threads, lambda: many.run(q, k, v, config), np.asarray, "numba prange over blocks"))
    return rows


def _csim_candidates(q: np.ndarray, k: np.ndarray, v: np.ndarray, config: SSAConfig, skipped: list[str]) -> list[Candidate]:
    try:
        from ssa.backends.csim import CSimBackend

        backend = CSimBackend()
    except (ImportError, OSError, SSAError) as exc:
        skipped.append(f"csim: unavailable ({type(exc).__name__}: {exc})")
        return []
    limits = backend.limits
    if config.n > limits.n_max or config.dk > limits.dk_max or config.t > limits.t_max:
        skipped.append(f"csim: N={config.n}, D_K={config.dk}, T={config.t} exceed its build's N_MAX={limits.n_max}, DK_MAX={limits.dk_max}, T_MAX={limits.t_max}")
        return []
    return [("csim", "cpu", 1, lambda: backend.run(q, k, v, config), np.asarray, "HLS kernel via g++ C-simulation")]


def _torch_candidates(
    q: np.ndarray, k: np.ndarray, v: np.ndarray, config: SSAConfig, device: str, threads: int, skipped: list[str], compiled: bool,
) -> list[Candidate]:
    if not _torch_available():
        skipped.append("torch rows: PyTorch is not installed")
        return []
    import torch

    from ssa.backends.torch_backend import run_torch

    bits = [torch.from_numpy(x).to(device) for x in (q, k, v)]
    floats = [x.float() for x in bits]
    flat = [x[0].reshape(-1, config.n, config.dk) for x in floats]  # ANN: one pass per block (time step 0)
    pinned = threads if device == "cpu" and q.shape[1] > 1 else 1  # CUDA rows drive the GPU from one thread

    def to_numpy(out: "torch.Tensor") -> np.ndarray:
        return out.cpu().numpy()

    rows: list[Candidate] = [("torch", device, pinned, lambda: run_torch(*bits, config), to_numpy, "ssa.backends.torch_backend, eager, tensors on device")]
    if device == "cuda" and compiled:
        rows.append(("torch-compiled", device, pinned, lambda: run_torch(*bits, config, compiled=True), to_numpy, "torch.compile (Triton)"))
    rows.append(("plain-torch-ssa", device, pinned, lambda: plain_torch_ssa(*floats), None, "BASELINE not bit-exact: float matmul + torch.bernoulli"))
    rows.append(("ann-attention", device, pinned, lambda: ann_attention(*flat), None, "BASELINE: softmax attention, float32, one pass"))
    return rows


# ---------------------------------------------------------------------------------------------
# Running a plan


def _measure(candidate: Candidate, config: SSAConfig, blocks: int, plan: Plan, reference: np.ndarray) -> Row:
    impl, device, threads, call, to_numpy, note = candidate
    timed = _timed_on(call, device)
    pin = torch_threads(threads) if _torch_available() else contextlib.nullcontext()
    with pin:
        seconds = time_call(timed, plan.min_repeat_s, plan.repeats)
        out = timed()
    exact = None
    if to_numpy is not None:
        got = to_numpy(out)[:, : reference.shape[1]]
        exact = bool(np.array_equal(got, reference))
    per_block = seconds / blocks
    return Row(impl, device, config.n, config.dk, config.t, blocks, threads, per_block * 1e6, 1.0 / per_block, exact, note=note)


def _cases(plan: Plan, cuda: bool) -> list[tuple[str, int, int]]:
    """(device, N, blocks) of the main table."""
    cases = []
    for n in plan.sizes:
        cases += [("cpu", n, 1), ("cpu", n, plan.cpu_batch)]
        if cuda:
            cases += [("cuda", n, 1), ("cuda", n, plan.cuda_batch)]
    return cases


def _add_speedups(rows: list[Row]) -> None:
    """speedup_vs_plain = plain-torch-ssa µs/block / this row's, same device, N and blocks."""
    plain = {(r.device, r.n, r.blocks): r.us_per_block for r in rows if r.impl == "plain-torch-ssa"}
    for r in rows:
        base = plain.get((r.device, r.n, r.blocks))
        r.speedup_vs_plain = base / r.us_per_block if base else None


def _progress(items: list, desc: str, enabled: bool) -> Iterator:
    """tqdm progress bar over items (plain iteration when tqdm is missing or disabled)."""
    try:
        from tqdm import tqdm
    except ImportError:
        return iter(items)
    return iter(tqdm(items, desc=desc, disable=not enabled))


def run_plan(plan: Plan, device: str = "auto", progress: bool = True) -> Report:
    """Measure the main table and the growth sweeps of `plan`."""
    cuda = device in ("auto", "cuda") and _cuda_available()
    if device == "cuda" and not cuda:
        raise SSAError("--device cuda but torch.cuda.is_available() is False; use --device cpu or auto, or a machine with a CUDA GPU")
    report = Report(meta=machine_info(plan, cuda))
    cases = _cases(plan, cuda)
    for dev, n, blocks in _progress(cases, "bench", progress):
        config = SSAConfig(n=n, dk=plan.dk, t=plan.t, seed=SEED)
        q, k, v = make_inputs(n, plan.dk, plan.t, blocks)
        check = min(blocks, CHECK_BLOCKS)
        reference = emulator.run(q[:, :check], k[:, :check], v[:, :check], config)
        for candidate in candidates(q, k, v, config, dev, plan.threads, report.skipped, plan.compiled):
            report.rows.append(_measure(candidate, config, blocks, plan, reference))
    _add_speedups(report.rows)
    report.skipped = sorted(set(report.skipped))
    report.sweeps = run_sweeps(plan, cuda, progress)
    return report


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


# ---------------------------------------------------------------------------------------------
# Machine description and outputs


def cpu_model() -> str:
    """CPU model name from /proc/cpuinfo (Linux) or platform."""
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or platform.machine()


def machine_info(plan: Plan, cuda: bool) -> dict:
    """Date, machine and library versions of a run."""
    info = {
        "date_utc": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "cpu": cpu_model(),
        "cpu_count": os.cpu_count(),
        "python": platform.python_version(),
        "numpy": np.__version__,
        "plan": asdict(plan),
    }
    with contextlib.suppress(ImportError):
        import numba

        info["numba"] = numba.__version__
    if _torch_available():
        import torch

        info["torch"] = torch.__version__
        if cuda:
            info["gpu"] = torch.cuda.get_device_name(0)
    return info


def _fixed_label(fixed: dict) -> str:
    """'D_K=64, T=10' from a sweep's fixed sizes."""
    names = {"n": "N", "dk": "D_K", "t": "T"}
    return ", ".join(f"{names[k]}={v}" for k, v in fixed.items())


def to_markdown(report: Report) -> str:
    """The main table, skipped rows and sweep points as Markdown."""
    m = report.meta
    lines = [
        f"Machine: {m['cpu']}, {m['cpu_count']} cores" + (f", GPU {m['gpu']}" if "gpu" in m else "") + f"; {m['date_utc']}.",
        f"Python {m['python']}, numpy {m['numpy']}, numba {m.get('numba', '-')}, torch {m.get('torch', '-')}.",
        "",
        "| impl | device | N | D_K | T | blocks | threads | µs/block | blocks/s | × plain torch SSA | bit-exact | note |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---|---|",
    ]
    for r in report.rows:
        exact = "baseline" if r.bit_exact is None else ("yes" if r.bit_exact else "**NO**")
        speed = f"{r.speedup_vs_plain:.2f}" if r.speedup_vs_plain else "-"
        lines.append(
            f"| {r.impl} | {r.device} | {r.n} | {r.dk} | {r.t} | {r.blocks} | {r.threads} | {r.us_per_block:,.2f} | "
            f"{r.blocks_per_s:,.0f} | {speed} | {exact} | {r.note} |"
        )
    if report.skipped:
        lines += ["", "Skipped:", *[f"- {s}" for s in report.skipped]]
    for axis, label in (("n", "N"), ("t", "T")):
        sweep = report.sweeps.get(axis)
        if not sweep:
            continue
        lines += ["", f"Cost growth with {label} (single block, µs per block; {_fixed_label(sweep['fixed'])}):", ""]
        xs = sorted({p[0] for pts in sweep["series"].values() for p in pts})
        lines.append("| impl | " + " | ".join(f"{label}={x}" for x in xs) + " |")
        lines.append("|---|" + "---:|" * len(xs))
        for name, pts in sweep["series"].items():
            values = dict((x, y) for x, y in pts)
            lines.append(f"| {name} | " + " | ".join(f"{values[x]:,.1f}" if x in values else "-" for x in xs) + " |")
    return "\n".join(lines) + "\n"


def plot_sweeps(report: Report, path: Path) -> None:
    """Log-log plots of µs per block vs N and vs T (matplotlib, Agg)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(10, 4))
    for ax, (axis, label) in zip(axes, (("n", "N (tokens)"), ("t", "T (time steps)"))):
        sweep = report.sweeps[axis]
        for name, pts in sweep["series"].items():
            xs, ys = zip(*pts)
            ax.plot(xs, ys, marker="o", label=name)
        ax.set_xscale("log", base=2)
        ax.set_yscale("log")
        ax.set_xlabel(label)
        ax.set_ylabel("µs per block")
        ax.set_title(_fixed_label(sweep["fixed"]))
        ax.grid(True, which="both", alpha=0.3)
    axes[0].legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def write_outputs(report: Report, out_dir: Path) -> dict[str, Path]:
    """bench.json, bench.md and (with matplotlib) bench_growth.png in out_dir."""
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = {"json": out_dir / "bench.json", "markdown": out_dir / "bench.md"}
    try:
        plot_sweeps(report, out_dir / "bench_growth.png")
        paths["plot"] = out_dir / "bench_growth.png"
    except ImportError as exc:
        report.skipped.append(f"growth plot: matplotlib is not installed ({exc})")
    payload = {"meta": report.meta, "rows": [asdict(r) for r in report.rows], "skipped": report.skipped, "sweeps": report.sweeps}
    paths["json"].write_text(json.dumps(payload, indent=2) + "\n")
    paths["markdown"].write_text(to_markdown(report))
    return paths


def make_plan(quick: bool, threads: int, cpu_batch: int | None = None, cuda_batch: int | None = None, compiled: bool = True) -> Plan:
    """The quick or full plan with optional overrides."""
    plan = Plan.quick(threads) if quick else Plan.full(threads)
    overrides = {"cpu_batch": cpu_batch, "cuda_batch": cuda_batch}
    return replace(plan, compiled=compiled, **{k: v for k, v in overrides.items() if v is not None})


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
