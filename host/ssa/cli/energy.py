"""`ssa energy`: the paper's Table II reproduced by operation counting, and a whole model's energy."""
from __future__ import annotations

import importlib.util
from pathlib import Path

import click

from ssa.backends import available_backends
from ssa.cli.params import OutputFile
from ssa.cost.energy import KINDS, fpga_energies, get_kind, load_table
from ssa.cost.table2 import (
    FITTED_DK,
    FITTED_HEADS,
    FITTED_N,
    FITTED_RATE,
    PAPER_T,
    PAPER_TABLE_II,
    VIT_SMALL_DK,
    VIT_SMALL_HEADS,
    VIT_SMALL_N,
    paper_block,
    relative_errors,
    reproduce,
)

SRAM_SIZES = tuple(load_table().sram)  # the sizes energy_45nm.json prices
PAPER_SRAM = "8KB"  # the memory Table II assumes


def _cell(value: float, paper: float | None) -> str:
    if paper is None:
        return f"{value:9.2f} {'':>16}"
    return f"{value:9.2f} ({paper:6.2f} {value / paper - 1:+6.1%})"


def table2_lines(sram: str) -> list[str]:
    """Table II next to the paper's, all registered kinds, the ViT-Small block and the FPGA figures."""
    block = paper_block(sram=sram)
    energies = reproduce(block, KINDS)
    width = max(len(get_kind(kind).label) for kind in energies)
    lines = [f"Table II reproduced: one attention block, 45 nm, data in {sram} SRAM, T={PAPER_T}, "
             f"H={FITTED_HEADS} N={FITTED_N} D_K={FITTED_DK} (fitted), spike rate {FITTED_RATE} (fitted); "
             "µJ (paper, difference)",
             f"{'attention':{width}} {'processing':>26} {'memory access':>26} {'total':>26}"]
    for kind, e in energies.items():
        paper = PAPER_TABLE_II.get(kind)
        p, m = (paper if paper else (None, None))
        lines.append(f"{get_kind(kind).label:{width}} {_cell(e.processing_uj, p)} {_cell(e.memory_uj, m)} "
                     f"{_cell(e.total_uj, p + m if paper else None)}")
    errors = relative_errors(energies)
    worst = max(abs(x) for cells in errors.values() for x in cells)
    if sram == PAPER_SRAM:
        lines.append(f"worst cell {worst:.1%}; SSA processing is the AND-gate energy, which the 45 nm table lacks "
                     "(docs/results.md, Energy)")
    else:
        lines.append(f"the paper's cells assume {PAPER_SRAM} SRAM; at {sram} the memory cells differ from them by design")
    literal = reproduce(paper_block(VIT_SMALL_N, VIT_SMALL_DK, VIT_SMALL_HEADS, sram=sram), KINDS)
    lines.append(f"the literal ViT-Small block (H={VIT_SMALL_HEADS} N={VIT_SMALL_N} D_K={VIT_SMALL_DK}) under the same rules: "
                 + ", ".join(f"{kind} {e.processing_uj:.2f} + {e.memory_uj:.2f} µJ" for kind, e in literal.items()))
    lines.append("FPGA energy per SSA block (derived from power x latency, not measured):")
    for f in fpga_energies(VIT_SMALL_N, VIT_SMALL_DK, PAPER_T):  # the paper block, tiled on the default build
        lines.append(f"  {f.label}: {f.power_w:.2f} W x {f.latency_us:.2f} us = {f.energy_uj:.2f} µJ")
    return lines


@click.command()
@click.option("--bundle", type=str, is_flag=False, flag_value="", default=None, metavar="[PATH]",
              help="also price a model: --bundle alone for the bundled Fashion-MNIST model, or a bundle path")
@click.option("--count", default=16, show_default=True, type=click.IntRange(1, 1000), help="sample images whose spike rates are measured (of the 1 000 bundled)")
@click.option("--backend", default="emulate", show_default=True, type=click.Choice(available_backends()), help="attention backend for the model run")
@click.option("--sram", type=click.Choice(SRAM_SIZES), default=PAPER_SRAM, show_default=True, help="on-chip SRAM size holding all data")
@click.option("--chart", type=OutputFile(), default=None, help="write a stacked bar chart (PNG) of the model's energy per layer")
def energy(bundle: str | None, count: int, backend: str, sram: str, chart: Path | None) -> None:
    """Energy of one attention block (the paper's Table II, 45 nm) and, with --bundle, of a model per image."""
    if chart is not None and bundle is None:
        raise click.UsageError("--chart plots a model's layers; give --bundle too")
    if chart is not None and importlib.util.find_spec("matplotlib") is None:  # before any work
        raise click.ClickException("--chart needs matplotlib: pip install matplotlib")
    for line in table2_lines(sram):
        click.echo(line)
    if bundle is None:
        return
    click.echo("")
    _model_report(bundle, count, backend, sram, chart)


def _model_report(bundle: str, count: int, backend: str, sram: str, chart: Path | None) -> None:
    from ssa.backends import get_backend
    from ssa.cli.demo import DEFAULT_BUNDLE, load_images, packaged
    from ssa.cost.model_energy import (
        ann_equivalent,
        measure_activity,
        model_energy,
        totals,
    )
    from ssa.model.vit import SpikingViT

    path = Path(bundle) if bundle else packaged(DEFAULT_BUNDLE)
    model = SpikingViT.from_bundle(path, get_backend(backend))
    images, _, source = load_images(None, count)
    if images.shape[1:] != model.image_shape:
        raise click.ClickException(f"the bundled sample images are {images.shape[1:]}, the model {path} wants {model.image_shape}")
    activity = measure_activity(model, images)
    layers, ann = model_energy(model, activity, sram), ann_equivalent(model, sram)
    click.echo(f"model {path.name}: {model.depth} layers, {model.attention} attention, N={model.tokens} D={model.embed_dim} "
               f"H={model.heads} T={model.timesteps}; rates measured on {count} images of the {source}; µJ per image, {sram} SRAM")
    click.echo(f"{'layer':8} {'q':>6} {'k':>6} {'v':>6} {'q∧k':>6} {'attention':>10} {'linear':>10} {'total':>10} {'ANN INT8':>10}")
    for mine, theirs in zip(layers, ann):
        r = mine.rates
        rates = f"{r.q:6.3f} {r.k:6.3f} {r.v:6.3f} {r.qk:6.3f}" if r else f"{'':27}"
        att = mine.attention.total_uj if mine.attention else 0.0
        click.echo(f"{mine.name:8} {rates} {att:10.4f} {mine.linear.total_uj:10.4f} {mine.total_uj:10.4f} {theirs.total_uj:10.4f}")
    (att, lin), (ann_att, ann_lin) = totals(layers), totals(ann)
    click.echo(f"per image ({model.attention}, measured rates): attention {att.processing_uj:.3f} + {att.memory_uj:.3f} µJ, "
               f"linear {lin.processing_uj:.3f} + {lin.memory_uj:.3f} µJ (processing + memory), total {att.total_uj + lin.total_uj:.3f} µJ")
    click.echo(f"per image (same architecture as an INT8 ANN): attention {ann_att.total_uj:.3f} µJ, linear {ann_lin.total_uj:.3f} µJ, "
               f"total {ann_att.total_uj + ann_lin.total_uj:.3f} µJ")
    if model.attention == "ssa":  # only SSA blocks run on the SAU array
        _, array, _ = fpga_energies(model.tokens, model.embed_dim // model.heads, model.timesteps)
        blocks = model.depth * model.heads
        click.echo(f"FPGA attention per image (derived, not measured): {blocks} blocks x {array.energy_uj:.3f} µJ "
                   f"({array.label}) = {blocks * array.energy_uj:.2f} µJ")
    if chart is not None:
        energy_chart({f"{model.attention} (measured rates)": layers, "INT8 ANN equivalent": ann}, chart)
        click.echo(f"chart: {chart}")


def energy_chart(models: dict, path: Path) -> None:
    """Stacked bars per layer, one bar per model side by side: everything (left), attention alone (right)."""
    import matplotlib

    matplotlib.use("Agg")
    from ssa.plots import _pyplot

    plt = _pyplot()
    attention = (("attention processing", lambda l: l.attention.processing_uj if l.attention else 0.0, "#c44e52"),
                 ("attention memory", lambda l: l.attention.memory_uj if l.attention else 0.0, "#f1a3a5"))
    linear = (("linear processing", lambda l: l.linear.processing_uj, "#4c72b0"),
              ("linear memory", lambda l: l.linear.memory_uj, "#a6bddb"))
    labels = list(models)
    fig, axes = plt.subplots(1, 2, figsize=(14, 4.2), gridspec_kw={"width_ratios": [3, 2]})
    for ax, parts, keep in ((axes[0], attention + linear, None), (axes[1], attention, "layer")):
        names = [layer.name for layer in next(iter(models.values())) if keep is None or layer.name.startswith(keep)]
        width = 0.8 / len(models)
        for m, layers in enumerate(models.values()):
            layers = [layer for layer in layers if layer.name in names]
            bottom = [0.0] * len(layers)
            xs = [i + (m - (len(models) - 1) / 2) * width for i in range(len(layers))]
            for part, value, color in parts:
                heights = [value(layer) for layer in layers]
                ax.bar(xs, heights, width * 0.95, bottom=bottom, color=color, hatch="//" if m else None,
                       edgecolor="white", label=part if m == 0 else None)
                bottom = [b + h for b, h in zip(bottom, heights)]
        ax.set(xticks=range(len(names)), xticklabels=names, ylabel="µJ per image")
        ax.legend(fontsize=8)
    axes[0].set_title("whole model")
    axes[1].set_title("attention blocks")
    fig.suptitle(f"Energy per image and layer, 45 nm estimate: {labels[0]} (solid)"
                 + (f" vs {labels[1]} (hatched)" if len(labels) > 1 else ""))
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
