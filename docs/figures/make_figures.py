"""Regenerate the figures of docs/results.md from the committed logs and the bundled model.

    python docs/figures/make_figures.py                    # writes docs/figures/*.png
    python docs/figures/make_figures.py --compare OUT/spikformer-T10/bundle.npz

* accuracy_vs_T.png: test accuracy against T of every attention kind in
  quantize/results/fashion-mnist/ (eval_{ideal,lfsr}.json where present, else the log's last epoch);
* firing_rates.png: firing rate of Q, K, V, S, Attn and the MLP hidden layer per encoder layer of the
  bundled ssa T=10 model on the bundled test images (attention on the emulator, mode lfsr);
* attention_maps.png: rate-decoded SSA scores of that model on a few test images;
* attention_heads.png: every head of the last layer for one image, lfsr and ideal next to E[S | Q, K];
* attention_compare.png (only with --compare): rollout of each given bundle on the same images;
* ablation.png: issue 17's CPU ablation (quantize/results/fashion-mnist-cpu-ablation/runs), final
  test accuracy of every seed of every row (best on top), the ANN of the same budget as a reference.
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import numpy as np  # noqa: E402

from ssa import plots  # noqa: E402
from ssa.cli.demo import DEFAULT_BUNDLE, load_images, packaged  # noqa: E402
from ssa.cli.demo_plot import FASHION_MNIST_CLASSES  # noqa: E402
from ssa.model import SpikingViT  # noqa: E402
from ssa.model.maps import record  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
RESULTS = ROOT / "quantize" / "results" / "fashion-mnist"
ABLATION = ROOT / "quantize" / "results" / "fashion-mnist-cpu-ablation" / "runs"
#: Patch 5 of the 4 × 4 grid (row 1, column 1): the upper-left of the four central patches.
QUERY = 5
ROLLOUT = "rollout, mean over queries"


def ablation_rows(runs: Path = ABLATION) -> tuple[dict[str, list[float]], dict[str, float]]:
    """({row: [final ideal test accuracy per seed]}, {"ann (mean)": accuracy}) of the ablation's committed logs."""
    from ssa_quantize.report import load_runs  # torch-free; installed with the package

    rows = {row: [m["log"]["epochs"][-1]["test_accuracy_ideal"] for m in members]
            for row, members in load_runs(runs).items() if all(m["log"]["epochs"] for m in members)}
    ann = rows.pop("ann", [])
    rows = dict(sorted(rows.items(), key=lambda item: -float(np.mean(item[1]))))  # best on top
    return rows, ({f"ANN, same budget (mean of {len(ann)})": float(np.mean(ann))} if ann else {})


def accuracy_curves(results: Path = RESULTS) -> tuple[dict[str, dict[int, float]], dict[str, float]]:
    """({"ssa (lfsr)": {T: accuracy}, ...}, {"ann (T=1)": accuracy}) from the committed run directories."""
    curves: dict[str, dict[int, float]] = {}
    references: dict[str, float] = {}
    for log_path in sorted(results.glob("*/log.json")):
        log = json.loads(log_path.read_text())
        kind, steps = log["model_config"]["attention"], int(log["model_config"]["timesteps"])
        evals = {p.stem.removeprefix("eval_"): json.loads(p.read_text())["accuracy"] for p in log_path.parent.glob("eval_*.json")}
        if kind == "ann":
            references[f"ann (not spiking), {log['epochs'][-1]['test_accuracy_ideal'] * 100:.2f}%"] = log["epochs"][-1]["test_accuracy_ideal"]
            continue
        if not evals:  # spikformer: deterministic attention, one accuracy
            evals = {"deterministic attention": log["epochs"][-1]["test_accuracy_ideal"]}
        for mode, acc in evals.items():
            curves.setdefault(f"{kind} ({mode})", {})[steps] = acc
    return dict(sorted(curves.items())), references


def maps_of(rec, b: int, query: int) -> dict[str, np.ndarray]:
    """The panels of one image: first and last layer for the query, last layer over all queries, rollout."""
    heads = rec.head_mean()
    last = len(heads) - 1
    return {f"layer 1, query patch {query}": rec.on_grid(heads[0, b, query]),
            f"layer {last + 1}, query patch {query}": rec.on_grid(heads[last, b, query]),
            f"layer {last + 1}, mean over queries": rec.on_grid(heads[last, b].mean(axis=0)),
            ROLLOUT: rec.on_grid(rec.rollout()[b].mean(axis=0))}


def scales(panels: dict[str, np.ndarray]) -> dict[str, str]:
    """Colour-scale label of each panel."""
    return {name: "rollout weight" if name == ROLLOUT else "mean over T of S" for name in panels}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "figures")
    parser.add_argument("--count", type=int, default=200, help="test images for the firing rates")
    parser.add_argument("--compare", type=Path, action="append", default=[], help="another bundle (e.g. spikformer) for attention_compare.png")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    written = []

    def save(fig, name: str) -> None:
        fig.savefig(args.out / name, dpi=120, bbox_inches="tight")
        written.append(args.out / name)

    curves, references = accuracy_curves()
    epochs = "/".join(sorted({str(json.loads(p.read_text())["train_config"]["epochs"]) for p in RESULTS.glob("*/log.json")}))
    save(plots.accuracy_vs_timesteps(curves, references, title=f"Fashion-MNIST test accuracy after {epochs} training epochs"), "accuracy_vs_T.png")

    rows, ann = ablation_rows()
    if rows:
        save(plots.seeded_rows(rows, ann, title="T = 10, reduced backbone, 20 000 images × 3 epochs, 3 seeds (CPU)"), "ablation.png")

    model = SpikingViT.from_bundle(packaged(DEFAULT_BUNDLE))
    images, labels, source = load_images(None, args.count)
    rec = record(model, images)
    accuracy = float(np.mean(rec.logits.argmax(1) == labels))
    names = {"q": "Q", "k": "K", "v": "V", "s": "S", "attn": "Attn", "mlp": "MLP hidden"}
    save(plots.firing_rates({names[name]: r for name, r in rec.rates.items()},
                            title=f"ssa T={model.timesteps}: firing rates on {args.count} test images (accuracy {accuracy * 100:.1f}%)"), "firing_rates.png")

    shown = [0, 1, 2, 3]
    titles = [f"{FASHION_MNIST_CLASSES[labels[b]]} → {FASHION_MNIST_CLASSES[rec.logits[b].argmax()]}" for b in shown]
    panels = [maps_of(rec, b, QUERY) for b in shown]
    save(plots.attention_maps([images[b, 0] for b in shown], panels, titles, query={name: QUERY for name in list(panels[0])[:2]}, labels=scales(panels[0]),
                              title=f"ssa T={model.timesteps}: mean over T and heads of the score spikes S (test images 0–3)"), "attention_maps.png")

    b = 1  # the pullover: the query patch lies on the garment
    ideal = record(model, images[:b + 1], mode="ideal")
    last = model.depth - 1
    rows = {"lfsr (hardware)": rec.scores[last, b, :, QUERY], "ideal": ideal.scores[last, b, :, QUERY],
            "E[S | Q, K]": rec.expected[last, b, :, QUERY]}
    panels = [{f"head {h}": rec.on_grid(row[h]) for h in range(model.heads)} | {"head mean": rec.on_grid(row.mean(0))} for row in rows.values()]
    save(plots.attention_maps([images[b, 0]] * len(rows), panels, list(rows), query=dict.fromkeys(panels[0], QUERY),
                              title=f"layer {last + 1}, query patch {QUERY}, test image {b}: every head, mean over T={model.timesteps}"), "attention_heads.png")

    if args.compare:
        models = {"ssa (bundled)": model} | {f"{m.attention} ({p.name})": m for p in args.compare for m in [SpikingViT.from_bundle(p)]}
        recs = {name: record(m, images[:4]) for name, m in models.items()}
        panels = [{name: r.on_grid(r.rollout()[b].mean(axis=0)) for name, r in recs.items()} for b in shown]
        save(plots.attention_maps([images[b, 0] for b in shown], panels, [f"true: {FASHION_MNIST_CLASSES[labels[b]]}" for b in shown],
                                  labels="rollout weight", title="attention rollout, mean over queries"), "attention_compare.png")
    print(f"firing rates (spikes per neuron per time step) of layers 1–{model.depth}:")
    for name, r in rec.rates.items():
        print(f"  {names[name]:<10} " + " ".join(f"{x:.3f}" for x in r))
    for path in written:
        print(f"wrote {path}")
    print(f"firing rates and maps: {source}, first {args.count} images")


if __name__ == "__main__":
    main()
