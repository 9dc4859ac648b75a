"""Accuracy of the SpikedAttention conversion against T, one line per base B (from `ssa spiked`'s spiked.json).

    python quantize/scripts/plot_spiked.py RUNS/spikedattention/spiked.json docs/rivals_spiked_grid.png [--ann ACC]
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("summary", type=Path)
    ap.add_argument("out", type=Path)
    ap.add_argument("--ann", type=float, default=None, help="the source ANN's accuracy on the same images (dashed line)")
    args = ap.parse_args()
    grid = json.loads(args.summary.read_text())["grid"]
    fig, ax = plt.subplots(figsize=(5.5, 3.6))
    for base in sorted({g["base"] for g in grid}):
        rows = sorted((g["timesteps"], 100 * g["accuracy"]) for g in grid if g["base"] == base)
        ax.plot(*zip(*rows), marker="o", label=f"B = {base:g}")
    if args.ann is not None:
        ax.axhline(100 * args.ann, ls="--", color="gray", label="source ANN")
    total = grid[0]["total"]
    ax.set(xlabel="time steps T", ylabel=f"test accuracy (%), first {total} images", ylim=(0, 100),
           title="SpikedAttention converted from the reduced-budget ANN")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(args.out, dpi=120)


if __name__ == "__main__":
    main()
