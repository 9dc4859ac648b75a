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

from ssa.cost.bench.candidates import torch_available
from ssa.cost.bench.plan import Plan, Report


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
