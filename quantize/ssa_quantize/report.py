"""Table of a folder of training runs: one row per configuration, seeds pooled (mean, sample std).

A run is a folder with ``log.json`` (written by ``ssa train``) and optionally ``eval_<mode>.json``
files (``ssa evaluate --output``). Runs named ``<row>-s<seed>`` are pooled into row ``<row>``.
``python -m ssa_quantize.report RUNS [--output table.md]`` prints the Markdown table.
"""
from __future__ import annotations

import json
import re
import statistics
import sys
from pathlib import Path

SEED_SUFFIX = re.compile(r"^(?P<row>.+)-s(?P<seed>\d+)$")
HEADER = ("| row | seeds | epochs done | train images | test acc. ideal (%) | train acc. (%) | attn rate | s / epoch | other evaluations |\n"
          "|-----|------:|------------:|-------------:|--------------------:|---------------:|----------:|----------:|-------------------|")


def _stat(values: list[float], scale: float = 100.0, digits: int = 2) -> str:
    if not values:
        return "–"
    mean = statistics.fmean(values) * scale
    if len(values) == 1:
        return f"{mean:.{digits}f}"
    return f"{mean:.{digits}f} ± {statistics.stdev(values) * scale:.{digits}f}"


def load_runs(runs: Path) -> dict[str, list[dict]]:
    """Row name -> one dict per run (its log, evaluations and folder name), rows and seeds sorted."""
    rows: dict[str, list[dict]] = {}
    for log_path in sorted(runs.glob("*/log.json")):
        folder = log_path.parent
        match = SEED_SUFFIX.match(folder.name)
        row = match["row"] if match else folder.name
        evals = {p.stem.removeprefix("eval_"): json.loads(p.read_text()) for p in sorted(folder.glob("eval_*.json"))}
        rows.setdefault(row, []).append({"name": folder.name, "log": json.loads(log_path.read_text()), "evals": evals})
    return rows


def table(runs: Path) -> str:
    """Markdown table of the runs in ``runs`` (a row for every configuration, with its seeds pooled)."""
    lines = [HEADER]
    for row, members in load_runs(runs).items():
        last = [m["log"]["epochs"][-1] for m in members if m["log"]["epochs"]]
        done = sorted({len(m["log"]["epochs"]) for m in members})
        planned = sorted({m["log"]["train_config"]["epochs"] for m in members})
        images = sorted({m["log"].get("train_images", "?") for m in members}, key=str)
        seconds = [e["train_seconds"] for m in members for e in m["log"]["epochs"]]
        evals = []
        for mode in sorted({k for m in members for k in m["evals"]}):
            results = [m["evals"][mode] for m in members if mode in m["evals"]]
            totals = sorted({r["total"] for r in results})
            evals.append(f"{mode} {_stat([r['accuracy'] for r in results])} on {'/'.join(map(str, totals))}")
        lines.append(" | ".join((
            f"| {row}", str(len(members)), f"{'/'.join(map(str, done))} of {'/'.join(map(str, planned))}",
            "/".join(map(str, images)), _stat([e["test_accuracy_ideal"] for e in last]),
            _stat([e["train_accuracy"] for e in last]), _stat([e["attention_rate"] for e in last if "attention_rate" in e], 1.0, 4),
            f"{statistics.fmean(seconds):.1f}" if seconds else "–", "; ".join(evals) or "–")) + " |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> None:
    args = list(sys.argv[1:] if argv is None else argv)
    if len(args) not in (1, 3) or (len(args) == 3 and args[1] != "--output"):
        raise SystemExit("usage: python -m ssa_quantize.report RUNS [--output table.md]")
    text = table(Path(args[0]))
    if len(args) == 3:
        Path(args[2]).write_text(text)
    print(text, end="")


if __name__ == "__main__":
    main()
