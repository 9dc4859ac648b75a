"""Plots a person would rather look at: spike rasters, attention maps, accuracy, firing rates (matplotlib, imported lazily)."""
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


def heatmaps(maps: dict[str, np.ndarray], title: str = "", cmap: str = "viridis", vmin: float | None = None, vmax: float | None = None):
    """Side-by-side heatmaps (e.g. rate-decoded SSA scores next to softmax attention); vmin/vmax: one shared scale."""
    plt = _pyplot()
    fig, axes = plt.subplots(1, len(maps), figsize=(3.6 * len(maps), 3.2), squeeze=False)
    for ax, (name, m) in zip(axes[0], maps.items()):
        im = ax.imshow(m, cmap=cmap, vmin=vmin, vmax=vmax)
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


def _overlay(ax, image: np.ndarray, grid_map: np.ndarray, vmax: float, cmap: str = "inferno"):
    """The image in grey with a patch-grid map [g, g] drawn over it (nearest patches, semi-transparent)."""
    h, w = image.shape
    ax.imshow(image, cmap="gray", extent=(0, w, h, 0))
    im = ax.imshow(grid_map, cmap=cmap, alpha=0.65, vmin=0, vmax=vmax, extent=(0, w, h, 0), interpolation="nearest")
    ax.set(xticks=[], yticks=[])
    return im


def _mark_patch(ax, token: int, grid: int, size: int) -> None:
    """A cyan square around patch `token` of a grid × grid patching of a size × size image."""
    from matplotlib.patches import Rectangle

    p = size / grid
    ax.add_patch(Rectangle(((token % grid) * p, (token // grid) * p), p, p, fill=False, edgecolor="cyan", linewidth=2))


def attention_maps(images: Sequence[np.ndarray], maps: Sequence[dict[str, np.ndarray]], row_titles: Sequence[str] = (),
                   query: dict[str, int] | None = None, labels: str | dict[str, str] = "mean over T of S", title: str = ""):
    """One row per image [H, W]: the image, then each map [g, g] over its patch grid (one colour scale per column).

    `query` maps a column name to the query token whose patch is marked in it; `labels` names the
    colour scale, one for all columns or per column name.
    """
    plt = _pyplot()
    from matplotlib.ticker import MaxNLocator

    cols = 1 + len(maps[0])
    fig, axes = plt.subplots(len(images), cols, figsize=(2.3 * cols + 0.6, 2.3 * len(images) + 0.5), squeeze=False)
    names = list(maps[0])
    vmax = {name: max(float(np.max(m[name])) for m in maps) or 1.0 for name in names}
    for r, (image, row) in enumerate(zip(images, maps)):
        axes[r, 0].imshow(image, cmap="gray")
        axes[r, 0].set(xticks=[], yticks=[], title=row_titles[r] if r < len(row_titles) else "")
        for c, name in enumerate(names, start=1):
            im = _overlay(axes[r, c], image, row[name], vmax[name])
            if query and name in query:
                _mark_patch(axes[r, c], query[name], row[name].shape[0], image.shape[0])
            if r == 0:
                axes[r, c].set_title(name, fontsize=9)
            if r == len(images) - 1:
                bar = fig.colorbar(im, ax=axes[:, c], orientation="horizontal", fraction=0.04, pad=0.02,
                                   label=labels if isinstance(labels, str) else labels[name])
                bar.ax.xaxis.set_major_locator(MaxNLocator(3))
                bar.ax.tick_params(labelsize=7)
    if title:
        fig.suptitle(title)
    return fig


def accuracy_vs_timesteps(curves: dict[str, dict[int, float]], references: dict[str, float] | None = None,
                          title: str = "Fashion-MNIST test accuracy against time steps"):
    """Accuracy (%) against T, one line per attention kind and RNG mode; references (e.g. the ANN) as dashed lines."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(5.6, 3.8))
    steps = sorted({t for curve in curves.values() for t in curve})
    for name, curve in curves.items():
        ts = sorted(curve)
        ax.plot(ts, [100 * curve[t] for t in ts], "o-", label=name)
    for name, acc in (references or {}).items():
        ax.axhline(100 * acc, color="gray", linestyle="--", label=name)
    ax.set(xlabel="time steps T", ylabel="test accuracy (%)", xticks=steps, title=title)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def seeded_rows(rows: dict[str, Sequence[float]], references: dict[str, float] | None = None, title: str = "",
                xlabel: str = "test accuracy (%)"):
    """One horizontal line per row: a dot per seed, a bar at the mean (values in [0, 1], drawn as %);
    references (e.g. the ANN's mean) as dashed lines."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(6.4, 0.42 * len(rows) + 1.6))
    names = list(rows)[::-1]
    for y, name in enumerate(names):
        values = 100 * np.asarray(rows[name], dtype=float)
        ax.scatter(values, np.full(values.shape, y), color="tab:blue", s=18, zorder=3)
        ax.plot([values.mean()] * 2, [y - 0.3, y + 0.3], color="black", linewidth=2)
        ax.annotate(f"{values.mean():.2f}", (values.max(), y), xytext=(6, -3), textcoords="offset points", fontsize=8)
    for i, (name, value) in enumerate((references or {}).items()):
        ax.axvline(100 * value, color=f"C{i + 1}", linestyle="--", label=f"{name}: {100 * value:.2f}")
    ax.set(yticks=range(len(names)), yticklabels=names, xlabel=xlabel, title=title)
    ax.grid(axis="x", alpha=0.3)
    if references:
        ax.legend(fontsize=8, loc="upper left")
    fig.tight_layout()
    return fig


def firing_rates(rates: dict[str, np.ndarray], title: str = "Firing rates per encoder layer"):
    """Grouped bars: mean firing rate (spikes per neuron per time step) of each tensor in each layer."""
    plt = _pyplot()
    rates = {name: np.asarray(r) for name, r in rates.items() if not np.all(np.isnan(r))}
    layers = len(next(iter(rates.values())))
    width = 0.8 / len(rates)
    fig, ax = plt.subplots(figsize=(7, 3.6))
    for i, (name, r) in enumerate(rates.items()):
        ax.bar(np.arange(layers) + (i - (len(rates) - 1) / 2) * width, r, width, label=name)
    ax.set(xlabel="encoder layer", ylabel="spikes per neuron per time step", xticks=range(layers),
           xticklabels=[str(l + 1) for l in range(layers)], title=title)
    ax.grid(axis="y", alpha=0.3)
    ax.legend(ncol=len(rates), fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.18))
    fig.tight_layout()
    return fig


def stage_bars(rows: Sequence[tuple[str, float]], unit: str = "µs per call", reference: tuple[str, float] | None = None,
               title: str = ""):
    """Horizontal bars of (stage, time) on a log axis (stages differ by orders of magnitude); an optional
    reference time (e.g. the latency model) as a dashed line."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(6.4, 0.5 * len(rows) + 1.8))
    names = [name for name, _ in rows][::-1]
    values = [value for _, value in rows][::-1]
    bars = ax.barh(names, values, color="tab:blue", log=True)
    ax.bar_label(bars, fmt="%.1f", padding=3, fontsize=8)
    every = values + ([reference[1]] if reference else [])
    if reference is not None:
        ax.axvline(reference[1], color="tab:red", linestyle="--", label=f"{reference[0]}: {reference[1]:.1f}")
        ax.legend(fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.3))
    ax.set(xlabel=f"{unit} (log scale)", title=title, xlim=(min(every) / 3, max(every) * 8))
    fig.tight_layout()
    return fig


def demo_summary(confusion: np.ndarray, class_names: Sequence[str], images: np.ndarray, labels: np.ndarray,
                 predictions: np.ndarray, attention: tuple[np.ndarray, np.ndarray, str], title: str = ""):
    """One page: confusion matrix, sample images with true/predicted labels, one attention map (image, map, caption)."""
    plt = _pyplot()
    fig = plt.figure(figsize=(13, 5.6))
    outer = fig.add_gridspec(1, 3, width_ratios=[1.25, 1.3, 0.8], wspace=0.3)
    ax = fig.add_subplot(outer[0])
    im = ax.imshow(confusion, cmap="Blues")
    for (i, j), c in np.ndenumerate(confusion):
        if c:
            ax.text(j, i, str(c), ha="center", va="center", fontsize=7, color="white" if c > confusion.max() / 2 else "black")
    ax.set(xticks=range(len(class_names)), yticks=range(len(class_names)), xlabel="predicted class", ylabel="true class",
           title=f"confusion matrix ({int(confusion.sum())} images)")
    ax.set_xticklabels(class_names, rotation=60, ha="right", fontsize=7)
    ax.set_yticklabels(class_names, fontsize=7)
    fig.colorbar(im, ax=ax, fraction=0.046, label="images")
    side = int(np.ceil(np.sqrt(len(images))))
    grid = outer[1].subgridspec(side, side, hspace=0.55)
    fig.text(outer[1].get_position(fig).x0, 0.02, "sample images: true → predicted class (red: wrong)", fontsize=9)
    for n, (image, true, pred) in enumerate(zip(images, labels, predictions)):
        a = fig.add_subplot(grid[n // side, n % side])
        a.imshow(image, cmap="gray")
        a.set(xticks=[], yticks=[])
        a.set_title(f"{class_names[true]}\n→ {class_names[pred]}", fontsize=6.5, color="green" if true == pred else "red")
    image, grid_map, caption = attention
    a = fig.add_subplot(outer[2])
    fig.colorbar(_overlay(a, image, grid_map, float(grid_map.max()) or 1.0), ax=a, orientation="horizontal", fraction=0.05, pad=0.04, label="rollout weight")
    a.set_title(caption, fontsize=8)
    if title:
        fig.suptitle(title)
    return fig
