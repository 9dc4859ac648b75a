"""Training: loss goes down on synthetic data, checkpoints resume exactly, CLI train/evaluate/export."""
import json

import numpy as np
import pytest

from extras import require

torch = require("torch")
require("brevitas")

from click.testing import CliRunner  # noqa: E402

from ssa.errors import CheckpointError  # noqa: E402
from ssa_quantize.cli import evaluate, export, train as train_command  # noqa: E402
from ssa.model.bundle import load_bundle  # noqa: E402
from ssa.model.datasets import Dataset, Split  # noqa: E402
from ssa_quantize.model import ModelConfig, SpikingViT  # noqa: E402
from ssa_quantize.training import TrainConfig, load_checkpoint, train  # noqa: E402

from test_datasets import write_mnist_like  # noqa: E402

TINY = dict(timesteps=2, embed_dim=16, depth=1, heads=2, mlp_ratio=2)


def synthetic(n: int, seed: int = 0) -> Split:
    """Two classes: bright top half or bright bottom half."""
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 2, n)
    images = rng.integers(0, 60, (n, 1, 28, 28)).astype(np.uint8)
    for i, y in enumerate(labels):
        images[i, 0, 14 * y : 14 * y + 14] += 190
    return Split(images, labels.astype(np.int64))


@pytest.mark.parametrize("attention", ["ssa", "spikformer", "a2os2a", "ann"])
def test_a_few_steps_reduce_the_loss(attention):
    torch.manual_seed(0)
    model = SpikingViT(ModelConfig(attention=attention, classes=2, **TINY))
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-2)
    split = synthetic(64)
    x, y = torch.from_numpy(split.images).float() / 255, torch.from_numpy(split.labels)
    losses = []
    for _ in range(25):
        loss = torch.nn.functional.cross_entropy(model(x), y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    assert np.mean(losses[-5:]) < 0.7 * np.mean(losses[:5])


def tiny_dataset() -> Dataset:
    return Dataset("fashion-mnist", synthetic(96, seed=1), synthetic(40, seed=2), classes=2)


def test_interrupted_training_resumes_to_the_same_weights(tmp_path):
    model_config = ModelConfig(attention="ssa", classes=2, **TINY)
    config = TrainConfig(epochs=2, batch_size=32, seed=3, amp=False)
    data, cpu = tiny_dataset(), torch.device("cpu")
    straight = train(tmp_path / "a", model_config, config, data, cpu)
    stopped = train(tmp_path / "b", model_config, config, data, cpu, max_minutes=1e-9)
    assert len(stopped["epochs"]) == 1 and not stopped["finished"]
    resumed = train(tmp_path / "b", model_config, config, data, cpu)
    assert resumed["finished"]
    a, b = load_checkpoint(tmp_path / "a" / "checkpoint.pt"), load_checkpoint(tmp_path / "b" / "checkpoint.pt")
    for key, value in a["model"].items():
        assert torch.equal(value, b["model"][key]), key
    assert [e["train_loss"] for e in straight["epochs"]] == [e["train_loss"] for e in resumed["epochs"]]
    with pytest.raises(CheckpointError, match="other settings"):
        train(tmp_path / "b", model_config, TrainConfig(epochs=3, batch_size=32, seed=3, amp=False), data, cpu)


def test_cli_train_evaluate_export(tmp_path):
    data_dir = tmp_path / "data"
    write_mnist_like(data_dir, n_train=24, n_test=8)
    run, bundle = tmp_path / "run", tmp_path / "bundle"
    runner = CliRunner()
    size = ["--timesteps", "2", "--embed-dim", "16", "--depth", "1", "--heads", "2", "--mlp-ratio", "2"]
    result = runner.invoke(train_command, ["--dataset", "mnist", "--data-dir", str(data_dir), "--epochs", "1",
                                           "--batch-size", "8", "--out", str(run), "--device", "cpu", *size])
    assert result.exit_code == 0, result.output
    assert json.loads((run / "log.json").read_text())["finished"] is True
    for mode in ("ideal", "lfsr"):
        result = runner.invoke(evaluate, ["--checkpoint", str(run), "--mode", mode, "--data-dir", str(data_dir),
                                          "--device", "cpu", "--output", str(tmp_path / f"{mode}.json")])
        assert result.exit_code == 0, result.output
        assert json.loads((tmp_path / f"{mode}.json").read_text())["total"] == 8
    result = runner.invoke(export, ["--checkpoint", str(run), "--out", str(bundle), "--onnx", "none",
                                    "--evaluation", str(tmp_path / "lfsr.json")])
    assert result.exit_code == 0, result.output
    manifest = load_bundle(bundle / "bundle.npz").manifest
    assert manifest["dataset"] == "mnist" and manifest["accuracy"]["lfsr"]["total"] == 8
