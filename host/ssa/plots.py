"""Plots a person would rather look at: spike rasters and attention maps (matplotlib, imported lazily)."""
from __future__ import annotations

from typing import Sequence

import numpy as np


def _pyplot():
    try:
        import matplotlib.pyplot as plt
    except ImportError as exc:  # the board image may lack matplotlib
        raise ImportError("plots need matplotlib: pip install matplotlib") from exc
    return plt


def spike_rasters(tensors: dict[str, np.ndarray], row: int = 0, title: str = ""):
    """One raster per tensor [T, N, X]: spikes of token `row` over time (x: time step, y: unit)."""
    plt = _pyplot()
    fig, axes = plt.subplots(1, len(tensors), figsize=(3.2 * len(tensors), 3), squeeze=False)
    for ax, (name, x) in zip(axes[0], tensors.items()):
        t_idx, unit = np.nonzero(x[:, row, :])
        ax.scatter(t_idx, unit, s=6, marker="|", color="black")
        ax.set(title=f"{name}[:, {row}, :]", xlabel="time step", ylabel="unit", xlim=(-0.5, x.shape[0] - 0.5), ylim=(-0.5, x.shape[2] - 0.5))
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


def heatmaps(maps: dict[str, np.ndarray], title: str = "", cmap: str = "viridis"):
    """Side-by-side heatmaps (e.g. rate-decoded SSA scores next to softmax attention)."""
    plt = _pyplot()
    fig, axes = plt.subplots(1, len(maps), figsize=(3.6 * len(maps), 3.2), squeeze=False)
    for ax, (name, m) in zip(axes[0], maps.items()):
        im = ax.imshow(m, cmap=cmap)
        ax.set(title=name, xlabel="key j", ylabel="query i")
        fig.colorbar(im, ax=ax, fraction=0.046)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


def error_vs_steps(steps: Sequence[int], errors: dict[str, Sequence[float]], ylabel: str = "mean |rate − expectation|"):
    """Log-log curves of an error against the number of time steps, with a 1/sqrt(T) guide."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(4.5, 3.2))
    for name, e in errors.items():
        ax.loglog(steps, e, "o-", label=name)
    first = next(iter(errors.values()))[0]
    ax.loglog(steps, [first * np.sqrt(steps[0] / s) for s in steps], "k--", label="∝ 1/√T")
    ax.set(xlabel="time steps T", ylabel=ylabel)
    ax.legend()
    fig.tight_layout()
    return fig
