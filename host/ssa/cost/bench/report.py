"""A bench report as Markdown, JSON and a growth plot, with the machine it ran on."""
from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import platform
from dataclasses import asdict
from pathlib import Path

import numpy as np

from ssa import _native
from ssa.cost.bench.candidates import torch_available
from ssa.cost.bench.plan import Plan, Report
from ssa.errors import SSAError


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
    with contextlib.suppress(OSError, AttributeError):
        info["load_average"] = [round(x, 2) for x in os.getloadavg()]  # other work sharing the machine
    with contextlib.suppress(SSAError):
        info["native"] = _native.kernel().isa
    if torch_available():
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
        f"Python {m['python']}, numpy {m['numpy']}, native kernel path {m.get('native', '-')}, torch {m.get('torch', '-')}"
        + (f"; load average {', '.join(map(str, m['load_average']))} on {m['cpu_count']} cores." if "load_average" in m else "."),
    ]
    if "floor" in m:
        f = m["floor"]
        sizes = "; ".join(f"N, D_K, T = {key.replace(',', ', ')}: {us:,.2f} µs" for key, us in f["block_us"].items())
        lines.append(f"Floor of this CPU, one core ({f['isa']}): {f['ns_per_pair']:.3f} ns per AND+popcount+compare word pair, "
                     f"{f['ns_per_draw']:.3f} ns per xorshift32 draw → per block {sizes}.")
    lines += [
        "One-thread CPU rows are CPU time (`fast` and the floor: of the calling thread; others: of the process), other rows wall time; × floor only for one-thread CPU rows.",
        "",
        "| impl | device | N | D_K | T | blocks | threads | µs/block | blocks/s | × floor | × plain torch SSA | × paper CPU (2 672 µs) | bit-exact | note |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---|",
    ]
    for r in report.rows:
        exact = "baseline" if r.bit_exact is None else ("yes" if r.bit_exact else "**NO**")
        speed = f"{r.speedup_vs_plain:.2f}" if r.speedup_vs_plain else "-"
        floor = f"{r.vs_floor:.2f}" if r.vs_floor else "-"
        paper = f"{r.speedup_vs_paper_cpu:,.1f}" if r.speedup_vs_paper_cpu else "-"
        lines.append(
            f"| {r.impl} | {r.device} | {r.n} | {r.dk} | {r.t} | {r.blocks} | {r.threads} | {r.us_per_block:,.2f} | "
            f"{r.blocks_per_s:,.0f} | {floor} | {speed} | {paper} | {exact} | {r.note} |"
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
