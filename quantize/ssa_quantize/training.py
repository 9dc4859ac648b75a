"""Deterministic, resumable training loop with bf16 autocast on GPU and a JSON log.

A run lives in one directory: ``checkpoint.pt`` (written atomically after every epoch) and
``log.json``. Starting a run in a directory that holds a checkpoint resumes after its last
finished epoch; the model and training configurations must match. Epoch ``e`` shuffles with
``torch.Generator().manual_seed(seed·1000 + e)`` and re-seeds torch's RNG with ``seed + e``, so a
resumed run repeats the same epochs as an uninterrupted one.
"""
from __future__ import annotations

import json
import math
import os
import platform
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import torch
from torch import nn
from tqdm import tqdm

from ssa.errors import CheckpointError, ConfigError

from ssa.model.datasets import Dataset, Split
from .evaluation import evaluate, images_to_float
from .model import ModelConfig, SpikingViT
from .names import CHECKPOINT

LOG = "log.json"
CHECKPOINT_FORMAT = "ssa-quantize-checkpoint"
CHECKPOINT_VERSION = 1


@dataclass(frozen=True)
class TrainConfig:
    """Optimisation settings (AdamW, linear warm-up then cosine decay per step)."""

    dataset: str = "fashion-mnist"
    epochs: int = 20
    batch_size: int = 256
    lr: float = 2e-3
    weight_decay: float = 0.05
    warmup_fraction: float = 0.05
    seed: int = 0
    amp: bool = True

    def to_dict(self) -> dict:
        return asdict(self)


def pick_device(name: str | None = None) -> torch.device:
    """``name`` if given, else CUDA when present, else CPU."""
    if not name:
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        device = torch.device(name)
    except (RuntimeError, TypeError) as exc:
        raise ConfigError(f"device={name!r} is not a torch device; use cpu, cuda or cuda:<index>") from exc
    if device.type == "cuda" and not torch.cuda.is_available():
        raise ConfigError(f"device={name!r}: torch sees no CUDA GPU here; use cpu (or leave --device out)")
    if device.type not in ("cpu", "cuda"):
        raise ConfigError(f"device={name!r}: training runs on cpu or cuda")
    return device


def seed_everything(seed: int) -> None:
    """Seed torch's CPU and CUDA generators; disable TF32 so evaluation sums stay exact."""
    torch.manual_seed(seed)
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False


def lr_factor(step: int, total: int, warmup_fraction: float) -> float:
    """Linear warm-up over ``warmup_fraction`` of the steps, then cosine decay to 0."""
    warmup = max(1, int(total * warmup_fraction))
    if step < warmup:
        return (step + 1) / warmup
    progress = (step - warmup) / max(1, total - warmup)
    return 0.5 * (1 + math.cos(math.pi * min(1.0, progress)))


def save_checkpoint(path: Path, state: dict) -> None:
    """Write atomically (temporary file then rename), so an interruption leaves the old one intact."""
    tmp = path.with_suffix(".tmp")
    torch.save(state, tmp)
    os.replace(tmp, path)


def load_checkpoint(path: Path) -> dict:
    """Load a checkpoint written by :func:`save_checkpoint` (tensors and plain data only)."""
    if not path.is_file():
        raise CheckpointError(f"no checkpoint at {path}; train first with `ssa train --out {path.parent}`")
    state = torch.load(path, map_location="cpu", weights_only=True)
    if not isinstance(state, dict) or state.get("format") != CHECKPOINT_FORMAT or state.get("version") != CHECKPOINT_VERSION:
        raise CheckpointError(f"{path} is not a version-{CHECKPOINT_VERSION} {CHECKPOINT_FORMAT} file")
    return state


def model_from_checkpoint(state: dict) -> SpikingViT:
    """Rebuild the model of a checkpoint in evaluation mode."""
    model = SpikingViT(ModelConfig(**state["model_config"]))
    model.load_state_dict(state["model"])
    return model.eval()


def _write_json(path: Path, data: dict) -> None:
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(data, indent=2) + "\n")
    os.replace(tmp, path)


def train_epoch(model: nn.Module, optimizer: torch.optim.Optimizer, scheduler: torch.optim.lr_scheduler.LRScheduler,
                split: Split, config: TrainConfig, epoch: int, device: torch.device, limit: int | None = None) -> dict:
    """One pass over (the first ``limit`` of) ``split``; returns loss, accuracy and seconds."""
    model.train()
    images = torch.from_numpy(split.images[:limit]).to(device)
    labels = torch.from_numpy(split.labels[:limit]).to(device)
    order = torch.randperm(len(labels), generator=torch.Generator().manual_seed(config.seed * 1000 + epoch)).to(device)
    torch.manual_seed(config.seed + epoch)
    use_amp = config.amp and device.type == "cuda"
    total_loss, correct, seen = torch.zeros((), device=device), torch.zeros((), device=device), 0
    start = time.perf_counter()
    batches = range(0, len(order), config.batch_size)
    for lo in tqdm(batches, desc=f"epoch {epoch + 1}/{config.epochs}", unit="batch", disable=None, mininterval=2.0):
        idx = order[lo : lo + config.batch_size]
        x, y = images_to_float(images[idx]), labels[idx]
        with torch.autocast(device_type=device.type, dtype=torch.bfloat16, enabled=use_amp):
            logits = model(x)
        loss = nn.functional.cross_entropy(logits.float(), y)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        scheduler.step()
        total_loss += loss.detach() * len(y)
        correct += (logits.argmax(1) == y).sum()
        seen += len(y)
    if device.type == "cuda":
        torch.cuda.synchronize()
    return {"train_loss": float(total_loss) / seen, "train_accuracy": float(correct) / seen, "train_seconds": time.perf_counter() - start}


def train(run_dir: Path, model_config: ModelConfig, config: TrainConfig, dataset: Dataset, device: torch.device,
          max_minutes: float | None = None, limit: int | None = None, eval_limit: int | None = None) -> dict:
    """Train (or resume) the run in ``run_dir``; returns the JSON log.

    Stops after the epoch during which ``max_minutes`` would be exceeded by one more epoch, so a
    command with a hard time limit ends cleanly; run it again to continue.
    """
    run_dir.mkdir(parents=True, exist_ok=True)
    seed_everything(config.seed)
    model = SpikingViT(model_config).to(device)
    optimizer = torch.optim.AdamW(model.parameters(), lr=config.lr, weight_decay=config.weight_decay)
    steps_per_epoch = math.ceil(len(dataset.train.labels[:limit]) / config.batch_size)
    total = steps_per_epoch * config.epochs
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda s: lr_factor(s, total, config.warmup_fraction))
    log = {"model_config": model_config.to_dict(), "train_config": config.to_dict(), "epochs": [],
           "device": torch.cuda.get_device_name(device) if device.type == "cuda" else platform.processor() or "cpu",
           "torch": torch.__version__, "parameters": sum(p.numel() for p in model.parameters())}
    checkpoint = run_dir / CHECKPOINT
    if checkpoint.is_file():
        state = load_checkpoint(checkpoint)
        if "optimizer" not in state:
            raise CheckpointError(f"{checkpoint} holds model weights only (no optimizer state) and cannot be resumed; "
                                  "train into another --out directory")
        if state["model_config"] != model_config.to_dict() or state["train_config"] != config.to_dict():
            raise CheckpointError(f"{checkpoint} was written with other settings ({state['model_config']}, "
                                  f"{state['train_config']}); use another --out directory or the same options")
        model.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        scheduler.load_state_dict(state["scheduler"])
        log["epochs"] = list(state["log"])
    start, first = time.perf_counter(), len(log["epochs"])
    for epoch in range(first, config.epochs):
        record = {"epoch": epoch + 1, "lr": optimizer.param_groups[0]["lr"]}
        record.update(train_epoch(model, optimizer, scheduler, dataset.train, config, epoch, device, limit))
        result = evaluate(model, dataset.test, mode="ideal", seed=config.seed, device=device, limit=eval_limit)
        record["test_accuracy_ideal"] = result["accuracy"]
        log["epochs"].append(record)
        save_checkpoint(checkpoint, {"format": CHECKPOINT_FORMAT, "version": CHECKPOINT_VERSION,
                                     "model_config": model_config.to_dict(), "train_config": config.to_dict(),
                                     "model": model.state_dict(), "optimizer": optimizer.state_dict(),
                                     "scheduler": scheduler.state_dict(), "log": log["epochs"]})
        _write_json(run_dir / LOG, log)
        elapsed = time.perf_counter() - start
        if max_minutes is not None and elapsed * (epoch + 2 - first) / (epoch + 1 - first) > max_minutes * 60:
            break
    log["finished"] = len(log["epochs"]) == config.epochs
    _write_json(run_dir / LOG, log)
    return log
