"""Click commands ``train``, ``evaluate``, ``export`` and ``spiked`` (wired into the ``ssa`` CLI).

This module imports neither torch nor Brevitas: `ssa train --help` works in the quick-start install,
and a command run without the ``train`` extra ends in one line naming the pip command.
"""
from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Any, Callable

import click

from ssa.cli.params import GAIN_LOG2, FiniteFloat, NonEmptyPath, OutputDir, OutputFile
from ssa.contract.config import CONTRACT_LIMITS
from ssa.errors import MissingExtraError
from ssa.model.datasets import DATASETS, load_dataset
from ssa.model.coding import INPUT_CODINGS

from .names import (ATAN_ALPHA, ATTENTIONS, BUNDLE_NAME, CHECKPOINT, EVAL_MODES, ONNX_FORMATS, PRESETS, SSA_GRADS,
                    SURROGATES)

#: Top-level modules of the ``train`` extra (pyproject.toml).
TRAIN_MODULES = frozenset({"torch", "brevitas", "onnx", "onnxoptimizer", "onnxruntime", "matplotlib"})
TRAIN_INSTALL = 'pip install -e ".[train]" (from a clone; or pip install "ssa-fpga[train]")'


def needs_train_extra(command: Callable[..., Any]) -> Callable[..., Any]:
    """Turn a missing module of the ``train`` extra into a MissingExtraError naming the pip line."""

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except ModuleNotFoundError as exc:
            if (exc.name or "").split(".")[0] not in TRAIN_MODULES:
                raise
            raise MissingExtraError(f"`ssa {command.__name__}` needs the train extra ({exc.name} is not installed): {TRAIN_INSTALL}") from exc

    return wrapper


@click.command()
# Upper bounds below only catch typos (a 10^6-wide model would exhaust memory, not train).
@click.option("--dataset", type=click.Choice(DATASETS), default="fashion-mnist", show_default=True)
@click.option("--data-dir", type=NonEmptyPath(file_okay=False, path_type=Path), default=None,
              help="Folder with the data set's files (default: /usr/share/datasets/fashion-mnist for fashion-mnist).")
@click.option("--preset", type=click.Choice(tuple(PRESETS)), default="small", show_default=True,
              help="Backbone sizes. small: no padding, patch = side/4 (N = 16), dim 128, depth 6, 8 heads, MLP 4 (the "
                   "bundled demo model); paper: pad to 32x32, patch 4 (N = 64), dim 512, depth 6, 8 heads (D_K = 64), MLP 4. "
                   "--patch/--embed-dim/--depth/--heads/--mlp-ratio override single sizes.")
@click.option("--attention", type=click.Choice(ATTENTIONS), default="ssa", show_default=True)
@click.option("--timesteps", type=click.IntRange(1, CONTRACT_LIMITS.t_max), default=10, show_default=True, help="T (ignored by ann, which runs one step).")
@click.option("--patch", type=click.IntRange(1, 1024), default=None, help="Patch side (default: the preset's).")
@click.option("--embed-dim", type=click.IntRange(1, 8192), default=None, help="Embedding dim D (default: the preset's).")
@click.option("--depth", type=click.IntRange(1, 128), default=None, help="Encoder layers (default: the preset's).")
@click.option("--heads", type=click.IntRange(1, 1024), default=None, help="Heads H (default: the preset's).")
@click.option("--mlp-ratio", type=click.IntRange(1, 64), default=None, help="MLP hidden / D (default: the preset's).")
@click.option("--input-coding", type=click.Choice(INPUT_CODINGS), default="bernoulli", show_default=True,
              help="Spiking models' input: Bernoulli-coded pixels, or direct (8-bit pixel levels repeated over T).")
@click.option("--ssa-grad", type=click.Choice(SSA_GRADS), default="ste-draw", show_default=True,
              help="SSA training gradient: straight through each Bernoulli draw, or through the block's expectation.")
@click.option("--ssa-gain-log2", type=GAIN_LOG2, default=0, show_default=True,
              help="Gain of both SSA encoders (contract v2): they fire at min(1, 2^G·p), a shift in hardware; "
                   "0 is contract v1. Evaluated in both modes and exported like any other model.")
@click.option("--surrogate", type=click.Choice(SURROGATES), default="atan", show_default=True, help="LIF surrogate gradient shape.")
@click.option("--surrogate-alpha", type=FiniteFloat(0.0, min_open=True), default=ATAN_ALPHA, show_default=True,
              help="Surrogate sharpness (larger = narrower).")
@click.option("--tau", type=FiniteFloat(1.0), default=2.0, show_default=True, help="LIF time constant (decay 1/tau).")
@click.option("--v-threshold", type=FiniteFloat(0.0, min_open=True), default=1.0, show_default=True,
              help="LIF threshold (not the Spikformer attention LIF's 0.5).")
@click.option("--epochs", type=click.IntRange(1, 100_000), default=20, show_default=True)
@click.option("--batch-size", type=click.IntRange(1, 65536), default=256, show_default=True)
@click.option("--lr", type=FiniteFloat(0.0, min_open=True), default=2e-3, show_default=True)
@click.option("--weight-decay", type=FiniteFloat(0.0), default=0.05, show_default=True)
@click.option("--warmup-fraction", type=FiniteFloat(0.0, 1.0), default=0.05, show_default=True,
              help="Linear warm-up over this fraction of the steps, then cosine decay.")
@click.option("--label-smoothing", type=FiniteFloat(0.0, 1.0, max_open=True), default=0.0, show_default=True)
@click.option("--crop-padding", type=click.IntRange(0, 64), default=0, show_default=True,
              help="Augmentation: random crop after zero padding by this many pixels (0 = off; no flips).")
@click.option("--rate-reg", type=FiniteFloat(0.0), default=0.0, show_default=True,
              help="Weight of the attention rate regulariser mean_l (rate(Attn_l) - target)^2 (0 = off).")
@click.option("--rate-target", type=FiniteFloat(0.0, 1.0), default=0.05, show_default=True,
              help="Target firing rate of the attention outputs for --rate-reg.")
@click.option("--init-from", type=NonEmptyPath(file_okay=False, exists=True, path_type=Path), default=None,
              help="Run folder of a trained checkpoint (e.g. the ANN) of the same geometry: start from its matching weights.")
@click.option("--distill-from", type=NonEmptyPath(file_okay=False, exists=True, path_type=Path), default=None,
              help="Run folder of a teacher checkpoint (e.g. the ANN): add logit distillation.")
@click.option("--distill-weight", type=FiniteFloat(0.0, 1.0), default=0.5, show_default=True,
              help="Loss = (1 - w)·CE + w·tau²·KL(teacher || student).")
@click.option("--distill-temperature", type=FiniteFloat(0.0, min_open=True), default=2.0, show_default=True)
@click.option("--seed", type=click.IntRange(0, 2**32 - 1), default=0, show_default=True)
@click.option("--amp/--no-amp", default=True, show_default=True, help="bf16 autocast on GPU.")
@click.option("--device", default=None, help="torch device (default: cuda when present, else cpu).")
@click.option("--out", "out_dir", type=OutputDir(), required=True,
              help="Run folder: checkpoint.pt and log.json; an existing checkpoint is resumed.")
@click.option("--max-minutes", type=FiniteFloat(0.0, min_open=True), default=None, help="Stop after the epoch that would overrun this budget.")
@click.option("--limit", type=click.IntRange(1), default=None, help="Train on the first LIMIT images only (smoke tests).")
@click.option("--eval-limit", type=click.IntRange(1), default=None, help="Evaluate each epoch on the first EVAL_LIMIT test images only.")
@needs_train_extra
def train(dataset: str, data_dir: Path | None, preset: str, attention: str, timesteps: int, patch: int | None,
          embed_dim: int | None, depth: int | None, heads: int | None, mlp_ratio: int | None, input_coding: str,
          ssa_grad: str, ssa_gain_log2: int, surrogate: str, surrogate_alpha: float, tau: float, v_threshold: float, epochs: int,
          batch_size: int, lr: float, weight_decay: float, warmup_fraction: float, label_smoothing: float,
          crop_padding: int, rate_reg: float, rate_target: float, init_from: Path | None, distill_from: Path | None,
          distill_weight: float, distill_temperature: float, seed: int, amp: bool, device: str | None, out_dir: Path,
          max_minutes: float | None, limit: int | None, eval_limit: int | None) -> None:
    """Train a spiking ViT (ssa, spikformer, a2os2a or ann attention) and write a resumable checkpoint."""
    from .model import ModelConfig
    from .training import TrainConfig, pick_device, train as run_training

    target = pick_device(device)  # a bad --device fails before the data set is read
    data = load_dataset(dataset, data_dir)
    channels, size, _ = data.image_shape
    model_config = ModelConfig.from_preset(
        preset, size, attention=attention, timesteps=timesteps, channels=channels, classes=data.classes, patch=patch,
        embed_dim=embed_dim, depth=depth, heads=heads, mlp_ratio=mlp_ratio, input_coding=input_coding,
        ssa_grad=ssa_grad, ssa_gain_log2=ssa_gain_log2, surrogate=surrogate, surrogate_alpha=surrogate_alpha, tau=tau, v_threshold=v_threshold)
    config = TrainConfig(dataset=dataset, epochs=epochs, batch_size=batch_size, lr=lr, weight_decay=weight_decay,
                         warmup_fraction=warmup_fraction, seed=seed, amp=amp, label_smoothing=label_smoothing,
                         crop_padding=crop_padding, rate_reg=rate_reg, rate_target=rate_target,
                         init_from=str(init_from) if init_from else None,
                         distill_from=str(distill_from) if distill_from else None,
                         distill_weight=distill_weight, distill_temperature=distill_temperature)
    log = run_training(out_dir, model_config, config, data, target, max_minutes, limit, eval_limit)
    last = log["epochs"][-1] if log["epochs"] else {}
    click.echo(json.dumps({"epochs_done": len(log["epochs"]), "finished": log["finished"],
                           "test_accuracy_ideal": last.get("test_accuracy_ideal")}))


@click.command()
@click.option("--checkpoint", "run_dir", type=NonEmptyPath(file_okay=False, path_type=Path), required=True,
              help="Run folder written by `train`.")
@click.option("--mode", type=click.Choice(EVAL_MODES), default="ideal", show_default=True,
              help="ideal: torch RNG; lfsr: hardware-exact streams through ssa.backends.emulator.run.")
@click.option("--seed", type=click.IntRange(0, 2**32 - 1), default=0, show_default=True)
@click.option("--data-dir", type=NonEmptyPath(file_okay=False, path_type=Path), default=None)
@click.option("--limit", type=click.IntRange(1), default=None, help="Evaluate the first LIMIT test images only.")
@click.option("--batch-size", type=click.IntRange(1, 65536), default=1000, show_default=True)
@click.option("--threads", type=click.IntRange(1, 1024), default=1, show_default=True, help="Parallel emulator threads (lfsr mode).")
@click.option("--device", default=None)
@click.option("--output", type=OutputFile(), default=None, help="Also write the result as JSON (checked for writing first).")
@needs_train_extra
def evaluate(run_dir: Path, mode: str, seed: int, data_dir: Path | None, limit: int | None, batch_size: int,
             threads: int, device: str | None, output: Path | None) -> None:
    """Test accuracy of a trained checkpoint in ideal or lfsr mode."""
    from .evaluation import evaluate as run_evaluation
    from .training import load_checkpoint, model_from_checkpoint, pick_device, seed_everything

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
@click.option("--checkpoint", "run_dir", type=NonEmptyPath(file_okay=False, path_type=Path), required=True)
@click.option("--out", "out_dir", type=OutputDir(), required=True)
@click.option("--seed", type=click.IntRange(0, 2**32 - 1), default=0, show_default=True, help="Seed recorded in the bundle for lfsr inference.")
@click.option("--evaluation", type=NonEmptyPath(dir_okay=False, exists=True, path_type=Path), multiple=True,
              help="JSON written by `evaluate --output`; its accuracy goes into the manifest (repeatable).")
@click.option("--onnx", "onnx_format", type=click.Choice(ONNX_FORMATS + ("none",)), default="qcdq", show_default=True)
@needs_train_extra
def export(run_dir: Path, out_dir: Path, seed: int, evaluation: tuple[Path, ...], onnx_format: str) -> None:
    """Write the host bundle (OUT/bundle.npz) and ONNX files of the INT8 units (OUT/onnx/)."""
    from .export import export_onnx, write_bundle
    from .training import load_checkpoint, model_from_checkpoint

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
@click.option("--checkpoint", "run_dir", type=NonEmptyPath(file_okay=False, path_type=Path), required=True,
              help="Run folder of a trained ann model (`ssa train --attention ann`).")
@click.option("--data-dir", type=NonEmptyPath(file_okay=False, path_type=Path), default=None)
@click.option("--timesteps", "timesteps", type=click.IntRange(1, 1024), multiple=True, default=(40,), show_default=True,
              help="T of the one-spike phase code (repeatable: a grid).")
@click.option("--base", "bases", type=FiniteFloat(1.0, 2.0, min_open=True), multiple=True, default=(1.15,),
              show_default=True, help="Base B in (1, 2] (repeatable: a grid).")
@click.option("--percentile", type=FiniteFloat(0.0, 100.0, min_open=True), default=99.9, show_default=True,
              help="θ of each activation point: this percentile of its positive ANN activations.")
@click.option("--calibration", type=click.IntRange(1, 60_000), default=512, show_default=True,
              help="Calibrate θ on the first CALIBRATION training images.")
@click.option("--select-on", type=click.IntRange(0, 60_000), default=0, show_default=True,
              help="Also score every (T, B) on the last SELECT_ON training images (to pick B per T without the test "
                   "set; unseen by a run trained with --limit below 60000 - SELECT_ON).")
@click.option("--limit", type=click.IntRange(1), default=None, help="Evaluate on the first LIMIT test images only.")
@click.option("--backend", type=click.Choice(["numpy", "torch"]), default="numpy", show_default=True)
@click.option("--device", default=None, help="torch device of --backend torch (default: cuda when present, else cpu).")
@click.option("--out", "out_dir", type=OutputDir(), required=True,
              help="Writes spiked.json (θ and the accuracy grid) and, with --bundles, one bundle per (T, B).")
@click.option("--bundles/--no-bundles", default=False, show_default=True)
@click.option("--test/--no-test", "on_test", default=True, show_default=True,
              help="Evaluate on the test set (--no-test with --select-on: the held-out selection only).")
@needs_train_extra
def spiked(run_dir: Path, data_dir: Path | None, timesteps: tuple[int, ...], bases: tuple[float, ...], percentile: float,
           calibration: int, select_on: int, limit: int | None, backend: str, device: str | None, out_dir: Path,
           bundles: bool, on_test: bool) -> None:
    """Convert a trained ann checkpoint to SpikedAttention (no training) and evaluate it over a (T, B) grid."""
    import numpy as np
    import torch
    from tqdm import tqdm

    from ssa.model.datasets import Split

    from .spiked import TorchOps, convert, evaluate_spiked, with_phase, write_spiked_bundle
    from .training import load_checkpoint, model_from_checkpoint, pick_device

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
