"""SpikedAttention: phase-coding primitives against hand-computed cases, the training-free
conversion of an ann model, and numpy / torch agreement of the converted model and its bundle."""
import math

import numpy as np
import pytest
from extras import require

torch = require("torch")
require("brevitas")

from ssa.errors import BundleError, ConfigError  # noqa: E402
from ssa.model import SpikingViT as NumpySpikingViT  # noqa: E402
from ssa.model import phase  # noqa: E402
from ssa.model.spiked import SpikedViT  # noqa: E402
from ssa_quantize.model import ModelConfig, SpikingViT  # noqa: E402
from ssa_quantize.spiked import TorchOps, convert, with_phase, write_spiked_bundle  # noqa: E402
from tiny_models import tiny_config, tiny_trained  # noqa: E402


def test_one_spike_encoder_hand_computed():
    # B = 2, T = 4, θ = 1: thresholds c·2^-t with c = 0.75: 0.75, 0.375, 0.1875, 0.09375
    u = np.array([1.0, 0.8, 0.5, 0.3, 0.1, 0.05, -1.0])
    times = phase.encode(u, 1.0, 2.0, 4)
    assert times.tolist() == [0, 0, 1, 2, 3, 4, 4]
    assert phase.decode(times, 1.0, 2.0, 4).tolist() == [1.0, 1.0, 0.5, 0.25, 0.125, 0.0, 0.0]
    assert phase.decode(phase.encode(u * 3, 3.0, 2.0, 4), 3.0, 2.0, 4).tolist() == [3.0, 3.0, 1.5, 0.75, 0.375, 0.0, 0.0]


def test_trace_linear_hand_computed_and_equals_decoded_product():
    # spikes at t = 0 and 2 (and silent) with B = 2: 1·1 + 2·0.25 + 3·0 = 1.5
    assert phase.trace_linear(np.array([[0, 2, 4]]), np.array([[1, 2, 3]]), 2.0, 4).tolist() == [[1.5]]
    rng = np.random.default_rng(0)
    times = rng.integers(0, 9, (5, 7))
    w = rng.integers(-128, 128, (3, 7))
    want = phase.decode(times, 1.0, 1.3, 8) @ w.T
    np.testing.assert_allclose(phase.trace_linear(times, w, 1.3, 8), want, rtol=1e-12)


def test_trace_matmul_hand_computed_and_equals_decoded_product():
    # B = 2, T = 3 (3 = silent): a = (t0, t1); b0 = (t1, t1): 1·0.5 + 0.5·0.5; b1 = (t2, silent): 1·0.25
    out = phase.trace_matmul(np.array([[0, 1]]), np.array([[1, 1], [2, 3]]), 2.0, 3)
    assert out.tolist() == [[0.75, 0.25]]
    rng = np.random.default_rng(1)
    ta, tb = rng.integers(0, 11, (2, 4, 6)), rng.integers(0, 11, (2, 5, 6))
    want = phase.decode(ta, 1.0, 1.15, 10) @ phase.decode(tb, 1.0, 1.15, 10).swapaxes(-1, -2)
    np.testing.assert_allclose(phase.trace_matmul(ta, tb, 1.15, 10), want, rtol=1e-12)


def test_woss_hand_computed():
    # B = 2: scores 3 ln2, 2 ln2, 0 -> delays 0, 1, 3 (values 1, 1/2, 1/8); sum 1.625 -> shift round(log2 1.625) = 1
    times = phase.woss(np.array([3, 2, 0]) * math.log(2.0), 2.0, 8)
    assert times.tolist() == [1, 2, 4]
    # a row whose losers fall past T - 1 stays silent there; the winner alone is not shifted
    assert phase.woss(np.array([10.0, 0.0]), 2.0, 4).tolist() == [0, 4]


def test_woss_approaches_softmax_for_small_base():
    scores = np.random.default_rng(2).normal(0, 2, (50, 16))
    exact = np.exp(scores - scores.max(-1, keepdims=True))
    exact /= exact.sum(-1, keepdims=True)
    approx = phase.decode(phase.woss(scores, 1.02, 400), 1.0, 1.02, 400)
    assert np.abs(approx - exact).max() < 0.03


@pytest.mark.parametrize("base, timesteps", [(1.0, 4), (2.5, 4), (1.5, 0)])
def test_bad_phase_parameters_are_refused(base, timesteps):
    with pytest.raises(ConfigError):
        phase.trace(base, timesteps)


def test_torch_primitives_equal_numpy():
    rng = np.random.default_rng(3)
    ops = TorchOps()
    u = rng.normal(0, 1, (4, 9))
    np.testing.assert_array_equal(ops.encode(torch.from_numpy(u), 0.7, 1.3, 6).numpy(), phase.encode(u, 0.7, 1.3, 6))
    ta, tb = rng.integers(0, 7, (3, 5, 4)).astype(np.int16), rng.integers(0, 7, (3, 6, 4)).astype(np.int16)
    np.testing.assert_allclose(ops.trace_matmul(torch.from_numpy(ta), torch.from_numpy(tb), 1.3, 6).numpy(),
                               phase.trace_matmul(ta, tb, 1.3, 6), rtol=1e-13)
    s = rng.normal(0, 2, (5, 8))
    np.testing.assert_array_equal(ops.woss(torch.from_numpy(s), 1.2, 10).numpy(), phase.woss(s, 1.2, 10))


@pytest.fixture(scope="module")
def ann():
    """A tiny ann model after a few training steps (BN statistics and weights not trivial)."""
    return tiny_trained(tiny_config("ann", timesteps=1))


def test_conversion_is_training_free(ann, monkeypatch):
    """No optimizer step, no gradient, every parameter and buffer unchanged."""
    steps = []
    monkeypatch.setattr(torch.optim.Optimizer, "step", lambda self, *a, **k: steps.append(1))
    monkeypatch.setattr(torch.Tensor, "backward", lambda self, *a, **k: steps.append("backward"))
    for p in ann.parameters():
        p.grad = None
    before = {k: v.clone() for k, v in ann.state_dict().items()}
    params = convert(ann, torch.rand((8, 1, 8, 8), generator=torch.Generator().manual_seed(2)), 1.15, 16)
    assert steps == []
    assert all(p.grad is None for p in ann.parameters())
    after = ann.state_dict()
    assert all(torch.equal(before[k], after[k]) for k in before)
    assert set(params.theta) >= {"patch", "layers.1.res2", "layers.0.attn"} and all(v > 0 for v in params.theta.values())


def test_converted_model_numpy_equals_torch_and_bundle(ann, tmp_path):
    params = convert(ann, torch.rand((16, 1, 8, 8), generator=torch.Generator().manual_seed(3)), 1.3, 12)
    images = np.random.default_rng(4).random((6, 1, 8, 8)).astype(np.float32)
    ref = SpikedViT(params).logits(images)
    got = SpikedViT(params, TorchOps()).logits(images).numpy()
    np.testing.assert_allclose(got, ref, rtol=1e-9, atol=1e-12)
    np.testing.assert_array_equal(got.argmax(1), ref.argmax(1))
    path = write_spiked_bundle(params, ann.config.to_dict(), tmp_path / "spiked.npz", dataset="fashion-mnist",
                               percentile=99.9, calibration_images=16)
    np.testing.assert_array_equal(SpikedViT.from_bundle(path).logits(images), ref)
    with pytest.raises(BundleError, match="SpikedViT.from_bundle"):
        NumpySpikingViT.from_bundle(path)


def test_converted_model_approaches_the_ann_as_t_grows(ann):
    params = convert(ann, torch.rand((32, 1, 8, 8), generator=torch.Generator().manual_seed(5)), 1.15, 40, percentile=100.0)
    images = np.random.default_rng(6).random((16, 1, 8, 8)).astype(np.float32)
    with torch.no_grad():
        want = ann(torch.from_numpy(images)).numpy()
    coarse = SpikedViT(with_phase(params, 2.0, 3)).logits(images)
    fine = SpikedViT(with_phase(params, 1.03, 300)).logits(images)
    assert np.abs(fine - want).mean() < np.abs(coarse - want).mean()
    assert np.corrcoef(fine.ravel(), want.ravel())[0, 1] > 0.99


def test_only_ann_checkpoints_convert():
    model = SpikingViT(ModelConfig(attention="ssa", timesteps=2, image_size=8, patch=4, embed_dim=8, depth=1, heads=2))
    with pytest.raises(ConfigError, match="--attention ann"):
        convert(model, torch.rand((2, 1, 8, 8)), 1.15, 8)


def test_spiked_command_converts_and_evaluates_a_grid(tmp_path):
    """`ssa spiked` on a tiny ann run of synthetic IDX data: θ per point, one grid row per (T, B), bundles."""
    import json

    from click.testing import CliRunner
    from ssa.cli import main
    from ssa.model.datasets import load_dataset
    from ssa_quantize.training import TrainConfig, train
    from test_datasets import write_mnist_like

    write_mnist_like(tmp_path / "data", n_train=40, n_test=12)
    data = load_dataset("fashion-mnist", tmp_path / "data")
    cfg = ModelConfig(attention="ann", timesteps=1, image_size=28, patch=7, embed_dim=8, depth=1, heads=2)
    train(tmp_path / "ann", cfg, TrainConfig(epochs=1, batch_size=20, amp=False), data, torch.device("cpu"))
    result = CliRunner().invoke(main, ["spiked", "--checkpoint", str(tmp_path / "ann"), "--data-dir", str(tmp_path / "data"),
                                       "--timesteps", "4", "--timesteps", "6", "--base", "2.0", "--calibration", "10",
                                       "--select-on", "5", "--bundles", "--out", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    summary = json.loads((tmp_path / "out" / "spiked.json").read_text())
    assert [(g["timesteps"], g["base"], g["total"]) for g in summary["grid"]] == [(4, 2.0, 12), (6, 2.0, 12)]
    assert all(0 <= g["train_heldout_accuracy"] <= 1 for g in summary["grid"])
    vit = SpikedViT.from_bundle(tmp_path / "out" / "bundle_T6_B2.0.npz")
    assert vit.p.timesteps == 6 and vit.p.theta == summary["theta"]
    only = CliRunner().invoke(main, ["spiked", "--checkpoint", str(tmp_path / "ann"), "--data-dir", str(tmp_path / "data"),
                                     "--timesteps", "4", "--base", "2.0", "--calibration", "10", "--select-on", "5",
                                     "--no-test", "--out", str(tmp_path / "sel")])
    assert only.exit_code == 0, only.output
    row = json.loads((tmp_path / "sel" / "spiked.json").read_text())["grid"][0]
    assert "accuracy" not in row and row["train_heldout_accuracy"] == summary["grid"][0]["train_heldout_accuracy"]


def test_bundle_with_bad_phase_parameters_is_refused(ann, tmp_path):
    params = convert(ann, torch.rand((4, 1, 8, 8)), 1.5, 4)
    path = write_spiked_bundle(params, ann.config.to_dict(), tmp_path / "s.npz", dataset="fashion-mnist",
                               percentile=99.9, calibration_images=4)
    from ssa.model.bundle import load_bundle, save_bundle

    bundle = load_bundle(path)
    manifest = {k: v for k, v in bundle.manifest.items() if k not in ("schema", "schema_version", "checksums")}
    manifest["spiked"] = dict(manifest["spiked"], base=3.0)
    bad = save_bundle(tmp_path / "bad.npz", manifest, bundle.arrays)
    with pytest.raises(BundleError, match=r"spiked.base=3.0 is outside"):
        SpikedViT.from_bundle(bad)
    del manifest["spiked"]
    with pytest.raises(BundleError, match="not a SpikedAttention bundle"):
        SpikedViT.from_bundle(save_bundle(tmp_path / "none.npz", manifest, bundle.arrays))
