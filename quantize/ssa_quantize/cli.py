"""Click commands ``train``, ``evaluate`` and ``export`` (wired into the ``ssa`` CLI)."""
from __future__ import annotations

import json
from pathlib import Path

import click

from .attention import ATTENTIONS
from ssa.model.datasets import DATASETS, load_dataset
from .evaluation import EVAL_MODES, evaluate as run_evaluation
from .export import BUNDLE_NAME, ONNX_FORMATS, export_onnx, write_bundle
from .model import ModelConfig
from .training import (CHECKPOINT, TrainConfig, load_checkpoint, model_from_checkpoint, pick_device, seed_everything,
                       train as run_training)


@click.command()
@click.option("--dataset", type=click.Choice(DATASETS), default="fashion-mnist", show_default=True)
@click.option("--data-dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Folder with the data set's files (default: /usr/share/datasets/fashion-mnist for fashion-mnist).")
@click.option("--attention", type=click.Choice(ATTENTIONS), default="ssa", show_default=True)
@click.option("--timesteps", type=click.IntRange(1), default=10, show_default=True, help="T (ignored by ann, which runs one step).")
@click.option("--patch", type=click.IntRange(1), default=None, help="Patch side (default: image side / 4, i.e. 7 for 28x28, 8 for 32x32: N = 16).")
@click.option("--embed-dim", type=click.IntRange(1), default=128, show_default=True)
@click.option("--depth", type=click.IntRange(1), default=6, show_default=True)
@click.option("--heads", type=click.IntRange(1), default=8, show_default=True)
@click.option("--mlp-ratio", type=click.IntRange(1), default=4, show_default=True)
@click.option("--epochs", type=click.IntRange(1), default=20, show_default=True)
@click.option("--batch-size", type=click.IntRange(1), default=256, show_default=True)
@click.option("--lr", type=float, default=2e-3, show_default=True)
@click.option("--weight-decay", type=float, default=0.05, show_default=True)
@click.option("--seed", type=click.IntRange(0, 2**32 - 1), default=0, show_default=True)
@click.option("--amp/--no-amp", default=True, show_default=True, help="bf16 autocast on GPU.")
@click.option("--device", default=None, help="torch device (default: cuda when present, else cpu).")
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path), required=True,
              help="Run folder: checkpoint.pt and log.json; an existing checkpoint is resumed.")
@click.option("--max-minutes", type=float, default=None, help="Stop after the epoch that would overrun this budget.")
@click.option("--limit", type=click.IntRange(1), default=None, help="Train on the first LIMIT images only (smoke tests).")
@click.option("--eval-limit", type=click.IntRange(1), default=None, help="Evaluate each epoch on the first EVAL_LIMIT test images only.")
def train(dataset: str, data_dir: Path | None, attention: str, timesteps: int, patch: int | None, embed_dim: int, depth: int,
          heads: int, mlp_ratio: int, epochs: int, batch_size: int, lr: float, weight_decay: float, seed: int, amp: bool,
          device: str | None, out_dir: Path, max_minutes: float | None, limit: int | None, eval_limit: int | None) -> None:
    """Train a spiking ViT (ssa, spikformer or ann attention) and write a resumable checkpoint."""
    data = load_dataset(dataset, data_dir)
    channels, size, _ = data.image_shape
    model_config = ModelConfig(attention=attention, timesteps=timesteps, image_size=size, channels=channels,
                               patch=patch or size // 4,
                               embed_dim=embed_dim, depth=depth, heads=heads, mlp_ratio=mlp_ratio, classes=data.classes)
    config = TrainConfig(dataset=dataset, epochs=epochs, batch_size=batch_size, lr=lr, weight_decay=weight_decay,
                         seed=seed, amp=amp)
    log = run_training(out_dir, model_config, config, data, pick_device(device), max_minutes, limit, eval_limit)
    last = log["epochs"][-1] if log["epochs"] else {}
    click.echo(json.dumps({"epochs_done": len(log["epochs"]), "finished": log["finished"],
                           "test_accuracy_ideal": last.get("test_accuracy_ideal")}))


@click.command()
@click.option("--checkpoint", "run_dir", type=click.Path(file_okay=False, path_type=Path), required=True,
              help="Run folder written by `train`.")
@click.option("--mode", type=click.Choice(EVAL_MODES), default="ideal", show_default=True,
              help="ideal: torch RNG; lfsr: hardware-exact streams through ssa.backends.emulator.run.")
@click.option("--seed", type=click.IntRange(0, 2**32 - 1), default=0, show_default=True)
@click.option("--data-dir", type=click.Path(file_okay=False, path_type=Path), default=None)
@click.option("--limit", type=click.IntRange(1), default=None, help="Evaluate the first LIMIT test images only.")
@click.option("--batch-size", type=click.IntRange(1), default=1000, show_default=True)
@click.option("--threads", type=click.IntRange(1), default=1, show_default=True, help="Parallel emulator threads (lfsr mode).")
@click.option("--device", default=None)
@click.option("--output", type=click.Path(dir_okay=False, path_type=Path), default=None, help="Also write the result as JSON.")
def evaluate(run_dir: Path, mode: str, seed: int, data_dir: Path | None, limit: int | None, batch_size: int,
             threads: int, device: str | None, output: Path | None) -> None:
    """Test accuracy of a trained checkpoint in ideal or lfsr mode."""
    state = load_checkpoint(run_dir / CHECKPOINT)
    dev = pick_device(device)
    seed_everything(seed)  # also turns TF32 off: lfsr mode needs exact float32 integer sums
    model = model_from_checkpoint(state).to(dev)
    data = load_dataset(state["train_config"]["dataset"], data_dir)
    result = run_evaluation(model, data.test, mode=mode, seed=seed, device=dev, batch_size=batch_size, limit=limit,
                            threads=threads)
    result.update({"dataset": data.name, "checkpoint": str(run_dir), "attention": model.config.attention,
                   "timesteps": model.config.steps, "device": str(dev)})
    text = json.dumps(result, indent=2)
    if output is not None:
        output.write_text(text + "\n")
    click.echo(text)


@click.command()
@click.option("--checkpoint", "run_dir", type=click.Path(file_okay=False, path_type=Path), required=True)
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path), required=True)
@click.option("--seed", type=click.IntRange(0, 2**32 - 1), default=0, show_default=True, help="Seed recorded in the bundle for lfsr inference.")
@click.option("--evaluation", type=click.Path(dir_okay=False, exists=True, path_type=Path), multiple=True,
              help="JSON written by `evaluate --output`; its accuracy goes into the manifest (repeatable).")
@click.option("--onnx", "onnx_format", type=click.Choice(ONNX_FORMATS + ("none",)), default="qcdq", show_default=True)
def export(run_dir: Path, out_dir: Path, seed: int, evaluation: tuple[Path, ...], onnx_format: str) -> None:
    """Write the host bundle (OUT/bundle.npz) and ONNX files of the INT8 units (OUT/onnx/)."""
    state = load_checkpoint(run_dir / CHECKPOINT)
    model = model_from_checkpoint(state)
    accuracy = {}
    for path in evaluation:
        result = json.loads(path.read_text())
        accuracy[result["mode"]] = {k: result[k] for k in ("accuracy", "correct", "total", "seed")}
    bundle = write_bundle(model, out_dir / BUNDLE_NAME, seed=seed, dataset=state["train_config"]["dataset"], accuracy=accuracy)
    click.echo(f"bundle: {bundle}")
    if onnx_format != "none":
        paths = export_onnx(model, out_dir / "onnx", onnx_format)
        click.echo(f"onnx ({onnx_format}): {len(paths)} files in {out_dir / 'onnx'}")


@click.command()
@click.option("--checkpoint", "run_dir", type=click.Path(file_okay=False, path_type=Path), required=True,
              help="Run folder of a trained ann model (`ssa train --attention ann`).")
@click.option("--data-dir", type=click.Path(file_okay=False, path_type=Path), default=None)
@click.option("--timesteps", "timesteps", type=click.IntRange(1), multiple=True, default=(40,), show_default=True,
              help="T of the one-spike phase code (repeatable: a grid).")
@click.option("--base", "bases", type=click.FloatRange(1.0, 2.0, min_open=True), multiple=True, default=(1.15,),
              show_default=True, help="Base B in (1, 2] (repeatable: a grid).")
@click.option("--percentile", type=click.FloatRange(0, 100, min_open=True), default=99.9, show_default=True,
              help="θ of each activation point: this percentile of its positive ANN activations.")
@click.option("--calibration", type=click.IntRange(1), default=512, show_default=True,
              help="Calibrate θ on the first CALIBRATION training images.")
@click.option("--select-on", type=click.IntRange(0), default=0, show_default=True,
              help="Also score every (T, B) on the last SELECT_ON training images (to pick B per T without the test "
                   "set; unseen by a run trained with --limit below 60000 - SELECT_ON).")
@click.option("--limit", type=click.IntRange(1), default=None, help="Evaluate on the first LIMIT test images only.")
@click.option("--backend", type=click.Choice(["numpy", "torch"]), default="numpy", show_default=True)
@click.option("--device", default=None, help="torch device of --backend torch (default: cuda when present, else cpu).")
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path), required=True,
              help="Writes spiked.json (θ and the accuracy grid) and, with --bundles, one bundle per (T, B).")
@click.option("--bundles/--no-bundles", default=False, show_default=True)
@click.option("--test/--no-test", "on_test", default=True, show_default=True,
              help="Evaluate on the test set (--no-test with --select-on: the held-out selection only).")
def spiked(run_dir: Path, data_dir: Path | None, timesteps: tuple[int, ...], bases: tuple[float, ...], percentile: float,
           calibration: int, select_on: int, limit: int | None, backend: str, device: str | None, out_dir: Path,
           bundles: bool, on_test: bool) -> None:
    """Convert a trained ann checkpoint to SpikedAttention (no training) and evaluate it over a (T, B) grid."""
    import numpy as np
    import torch
    from tqdm import tqdm

    from ssa.model.datasets import Split
    from .spiked import TorchOps, convert, evaluate_spiked, with_phase, write_spiked_bundle

    state = load_checkpoint(run_dir / CHECKPOINT)
    model = model_from_checkpoint(state)
    data = load_dataset(state["train_config"]["dataset"], data_dir)
    calib = torch.from_numpy(data.train.images[:calibration]).float() / 255.0
    params = convert(model, calib, bases[0], timesteps[0], percentile)
    ops = TorchOps(pick_device(device)) if backend == "torch" else None
    first = len(data.train.labels) - select_on
    if first < calibration:
        raise click.BadParameter(f"{select_on} held-out images overlap the {calibration} calibration images of a "
                                 f"{len(data.train.labels)}-image training set; lower it", param_hint="--select-on")
    held = Split(data.train.images[first:], data.train.labels[first:])
    out_dir.mkdir(parents=True, exist_ok=True)
    grid = []
    for t in tqdm(timesteps, desc="T", disable=None):
        for b in bases:
            point = with_phase(params, b, t)
            result = evaluate_spiked(point, data.test, ops, limit) if on_test else {"base": b, "timesteps": t}
            if select_on:
                result["train_heldout_accuracy"] = evaluate_spiked(point, held, ops)["accuracy"]
            grid.append(result)
            click.echo(json.dumps(result))
            if bundles:
                write_spiked_bundle(point, state["model_config"], out_dir / f"bundle_T{t}_B{b}.npz", dataset=data.name,
                                    percentile=percentile, calibration_images=calibration,
                                    accuracy={"spiked": {k: result[k] for k in ("accuracy", "correct", "total") if k in result}})
    summary = {"checkpoint": str(run_dir), "dataset": data.name, "percentile": percentile, "calibration_images": calibration,
               "select_on": select_on, "backend": backend, "theta": params.theta, "grid": grid,
               "ann_parameters": int(sum(p.numel() for p in model.parameters())), "numpy": np.__version__}
    (out_dir / "spiked.json").write_text(json.dumps(summary, indent=2) + "\n")
