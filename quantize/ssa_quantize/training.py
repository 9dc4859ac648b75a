"""Deterministic, resumable training loop with bf16 autocast on GPU and a JSON log.

A run lives in one directory: ``checkpoint.pt`` (written atomically after every epoch) and
``log.json``. Starting a run in a directory that holds a checkpoint resumes after its last
finished epoch; the model and training configurations must match. Epoch ``e`` shuffles with
``torch.Generator().manual_seed(seed·1000 + e)`` and re-seeds torch's RNG with ``seed + e``, so a
resumed run repeats the same epochs as an uninterrupted one.

Recipe levers (:class:`TrainConfig`; each off by default, so the defaults reproduce the runs of
docs/results.md): label smoothing, random-crop augmentation (zero padding, no flips), a firing-rate
regulariser on the attention outputs, initialisation from another checkpoint's matching weights
(e.g. a trained ANN) and logit distillation from a teacher checkpoint.
"""
from __future__ import annotations

import json
import math
import os
import platform
import time
from dataclasses import asdict, dataclass, replace
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
    label_smoothing: float = 0.0
    crop_padding: int = 0
    rate_reg: float = 0.0
    rate_target: float = 0.05
    init_from: str | None = None
    distill_from: str | None = None
    distill_weight: float = 0.5
    distill_temperature: float = 2.0

    def __post_init__(self) -> None:
        if not (0 <= self.label_smoothing < 1 and 0 <= self.warmup_fraction <= 1 and self.crop_padding >= 0):
            raise ConfigError("need 0 <= label_smoothing < 1, 0 <= warmup_fraction <= 1 and crop_padding >= 0")
        if not (self.rate_reg >= 0 and 0 <= self.rate_target <= 1):
            raise ConfigError(f"need rate_reg >= 0 and 0 <= rate_target <= 1 (got {self.rate_reg}, {self.rate_target})")
        if not (0 <= self.distill_weight <= 1 and self.distill_temperature > 0):
            raise ConfigError(f"need 0 <= distill_weight <= 1 and distill_temperature > 0 "
                              f"(got {self.distill_weight}, {self.distill_temperature})")

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
    """Load a checkpoint written by :func:`save_checkpoint` (tensors and plain data only); a run folder means its checkpoint."""
    path = Path(path)
    if path.is_dir():
        path = path / CHECKPOINT
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


#: ModelConfig fields that must agree for ``init_from`` to map weights one to one.
GEOMETRY = ("image_size", "channels", "pad", "patch", "embed_dim", "depth", "heads", "mlp_ratio", "classes")


def input_scale(config: ModelConfig) -> float:
    """Scale of the patch unit's input relative to pixels in [0, 1] (255 for direct levels)."""
    return 255.0 if config.spiking and config.input_coding == "direct" else 1.0


def init_from_checkpoint(model: SpikingViT, path: Path) -> dict:
    """Copy every weight of the checkpoint at ``path`` whose name and shape match into ``model``.

    Meant for starting a spiking model from a trained ANN of the same geometry (:data:`GEOMETRY`):
    the linear, BatchNorm, position and head weights map one to one; the ANN's QuantReLU ranges have
    no counterpart and are skipped. The patch BN statistics are rescaled when the two models feed it
    inputs of different scale (direct pixel levels vs pixels). Returns what was copied and skipped.
    """
    state = load_checkpoint(path)
    source = ModelConfig(**state["model_config"])
    mismatch = [f"{k}: {getattr(source, k)} vs {getattr(model.config, k)}" for k in GEOMETRY
                if getattr(source, k) != getattr(model.config, k)]
    if mismatch:
        raise CheckpointError(f"--init-from {path}: the model geometry differs ({'; '.join(mismatch)}); "
                              "use a checkpoint trained with the same preset and sizes")
    own = model.state_dict()
    copied = {k: v for k, v in state["model"].items() if k in own and own[k].shape == v.shape}
    ratio = input_scale(model.config) / input_scale(source)
    if ratio != 1.0:
        copied["patch.bn.running_mean"] = copied["patch.bn.running_mean"] * ratio
        copied["patch.bn.running_var"] = copied["patch.bn.running_var"] * ratio**2
    model.load_state_dict(copied, strict=False)
    return {"init_from": str(path), "init_attention": source.attention, "init_copied": len(copied),
            "init_skipped": sorted(set(state["model"]) - set(copied))}


def load_teacher(path: Path, student: ModelConfig, device: torch.device) -> SpikingViT:
    """The teacher of logit distillation: a checkpoint's model in evaluation mode, frozen."""
    teacher = model_from_checkpoint(load_checkpoint(path)).to(device)
    tc = teacher.config
    if (tc.image_size, tc.channels, tc.classes) != (student.image_size, student.channels, student.classes):
        raise CheckpointError(f"--distill-from {path}: the teacher takes {tc.channels}x{tc.image_size}x{tc.image_size} "
                              f"images with {tc.classes} classes, the student {student.channels}x{student.image_size}x"
                              f"{student.image_size} with {student.classes}; use a teacher trained on the same data set")
    for param in teacher.parameters():
        param.requires_grad_(False)
    return teacher


def random_crop(images: torch.Tensor, padding: int) -> torch.Tensor:
    """Zero-pad ``[B, C, H, W]`` by ``padding`` and crop each image back at a random offset (torch RNG)."""
    b, _, h, w = images.shape
    padded = nn.functional.pad(images, (padding,) * 4)
    dy = torch.randint(0, 2 * padding + 1, (b, 1, 1), device=images.device)
    dx = torch.randint(0, 2 * padding + 1, (b, 1, 1), device=images.device)
    rows = dy + torch.arange(h, device=images.device).view(1, h, 1)
    cols = dx + torch.arange(w, device=images.device).view(1, 1, w)
    batch = torch.arange(b, device=images.device).view(b, 1, 1)
    return padded.permute(0, 2, 3, 1)[batch, rows, cols].permute(0, 3, 1, 2)


def training_loss(model: SpikingViT, logits: torch.Tensor, labels: torch.Tensor, config: TrainConfig,
                  teacher_logits: torch.Tensor | None) -> torch.Tensor:
    """Cross-entropy (label smoothing), plus distillation and the attention rate regulariser when enabled."""
    loss = nn.functional.cross_entropy(logits, labels, label_smoothing=config.label_smoothing)
    if teacher_logits is not None:
        tau = config.distill_temperature
        kl = nn.functional.kl_div(nn.functional.log_softmax(logits / tau, dim=1),
                                  nn.functional.log_softmax(teacher_logits.float() / tau, dim=1),
                                  reduction="batchmean", log_target=True)
        loss = (1 - config.distill_weight) * loss + config.distill_weight * tau**2 * kl
    if config.rate_reg:
        rates = model.attention_rates()
        if rates:
            loss = loss + config.rate_reg * torch.stack([(r - config.rate_target) ** 2 for r in rates]).mean()
    return loss


def _write_json(path: Path, data: dict) -> None:
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(data, indent=2) + "\n")
    os.replace(tmp, path)


def train_epoch(model: SpikingViT, optimizer: torch.optim.Optimizer, scheduler: torch.optim.lr_scheduler.LRScheduler,
                split: Split, config: TrainConfig, epoch: int, device: torch.device, limit: int | None = None,
                teacher: SpikingViT | None = None) -> dict:
    """One pass over (the first ``limit`` of) ``split``; returns loss, accuracy, attention rate and seconds."""
    model.train()
    images = torch.from_numpy(split.images[:limit]).to(device)
    labels = torch.from_numpy(split.labels[:limit]).to(device)
    order = torch.randperm(len(labels), generator=torch.Generator().manual_seed(config.seed * 1000 + epoch)).to(device)
    torch.manual_seed(config.seed + epoch)
    use_amp = config.amp and device.type == "cuda"
    total_loss, correct, seen = torch.zeros((), device=device), torch.zeros((), device=device), 0
    rate_sum, rate_batches = torch.zeros((), device=device), 0
    start = time.perf_counter()
    batches = range(0, len(order), config.batch_size)
    for lo in tqdm(batches, desc=f"epoch {epoch + 1}/{config.epochs}", unit="batch", disable=None, mininterval=2.0):
        idx = order[lo : lo + config.batch_size]
        x, y = images_to_float(images[idx]), labels[idx]
        if config.crop_padding:
            x = random_crop(x, config.crop_padding)
        with torch.autocast(device_type=device.type, dtype=torch.bfloat16, enabled=use_amp):
            logits = model(x)
            with torch.no_grad():
                teacher_logits = teacher(x) if teacher is not None else None
        loss = training_loss(model, logits.float(), y, config, teacher_logits)
        rates = model.attention_rates()
        if rates:
            rate_sum += torch.stack(rates).detach().mean()
            rate_batches += 1
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        scheduler.step()
        total_loss += loss.detach() * len(y)
        correct += (logits.argmax(1) == y).sum()
        seen += len(y)
    if device.type == "cuda":
        torch.cuda.synchronize()
    record = {"train_loss": float(total_loss) / seen, "train_accuracy": float(correct) / seen,
              "train_seconds": time.perf_counter() - start}
    if rate_batches:
        record["attention_rate"] = float(rate_sum) / rate_batches
    return record


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
    teacher = load_teacher(Path(config.distill_from), model_config, device) if config.distill_from else None
    log = {"model_config": model_config.to_dict(), "train_config": config.to_dict(), "epochs": [],
           "device": torch.cuda.get_device_name(device) if device.type == "cuda" else platform.processor() or "cpu",
           "torch": torch.__version__, "parameters": sum(p.numel() for p in model.parameters()),
           "train_images": len(dataset.train.labels[:limit]), "eval_images": len(dataset.test.labels[:eval_limit])}
    checkpoint = run_dir / CHECKPOINT
    if checkpoint.is_file():
        state = load_checkpoint(checkpoint)
        if "optimizer" not in state:
            raise CheckpointError(f"{checkpoint} holds model weights only (no optimizer state) and cannot be resumed; "
                                  "train into another --out directory")
        # older checkpoints lack the newer (default) fields; the preset name is informational
        saved = replace(ModelConfig(**state["model_config"]), preset=model_config.preset)
        if saved != model_config or TrainConfig(**state["train_config"]) != config:
            raise CheckpointError(f"{checkpoint} was written with other settings ({state['model_config']}, "
                                  f"{state['train_config']}); use another --out directory or the same options")
        model.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        scheduler.load_state_dict(state["scheduler"])
        log["epochs"] = list(state["log"])
        log.update(state.get("init", {}))
    elif config.init_from:
        log.update(init_from_checkpoint(model, Path(config.init_from)).items())
    start, first = time.perf_counter(), len(log["epochs"])
    for epoch in range(first, config.epochs):
        record = {"epoch": epoch + 1, "lr": optimizer.param_groups[0]["lr"]}
        record.update(train_epoch(model, optimizer, scheduler, dataset.train, config, epoch, device, limit, teacher))
        result = evaluate(model, dataset.test, mode="ideal", seed=config.seed, device=device, limit=eval_limit)
        record["test_accuracy_ideal"] = result["accuracy"]
        log["epochs"].append(record)
        save_checkpoint(checkpoint, {"format": CHECKPOINT_FORMAT, "version": CHECKPOINT_VERSION,
                                     "model_config": model_config.to_dict(), "train_config": config.to_dict(),
                                     "model": model.state_dict(), "optimizer": optimizer.state_dict(),
                                     "scheduler": scheduler.state_dict(), "log": log["epochs"],
                                     "init": {k: v for k, v in log.items() if k.startswith("init_")}})
        _write_json(run_dir / LOG, log)
        elapsed = time.perf_counter() - start
        if max_minutes is not None and elapsed * (epoch + 2 - first) / (epoch + 1 - first) > max_minutes * 60:
            break
    log["finished"] = len(log["epochs"]) == config.epochs
    _write_json(run_dir / LOG, log)
    return log
