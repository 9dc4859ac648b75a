"""Presets and recipe levers (issue 17): paper-shaped bundles run bit-exactly in the numpy runtime for
both input codings, every lever changes what it should and nothing else, and the CLI trains with all
of them on for a few batches."""
import json

import numpy as np
import pytest
from extras import require

torch = require("torch")
require("brevitas")

from click.testing import CliRunner  # noqa: E402

from ssa.errors import BundleError, CheckpointError, ConfigError  # noqa: E402
from ssa.model import SpikingViT as NumpyViT  # noqa: E402
from ssa.model.bundle import load_bundle, save_bundle  # noqa: E402
from ssa.model.coding import encode_direct, pad_images  # noqa: E402
from ssa.model.datasets import load_dataset  # noqa: E402
from ssa_quantize.attention import AttentionCore, LfsrSampler, TorchSampler, ssa_expectation  # noqa: E402
from ssa_quantize.cli import evaluate as evaluate_command, export as export_command, train as train_command  # noqa: E402
from ssa_quantize.export import bundle_arrays, write_bundle  # noqa: E402
from ssa_quantize.model import ModelConfig, SpikingViT  # noqa: E402
from ssa_quantize.neurons import direct_levels_torch, heaviside  # noqa: E402
from ssa_quantize.training import (TrainConfig, init_from_checkpoint, load_checkpoint, random_crop,  # noqa: E402
                                   save_checkpoint, train, training_loss)

from test_datasets import write_mnist_like  # noqa: E402
from test_quantize_training import synthetic  # noqa: E402

SEED = 5


def test_presets():
    paper = ModelConfig.from_preset("paper", 28)
    assert (paper.pad, paper.padded_size, paper.patch, paper.tokens) == (2, 32, 4, 64)
    assert (paper.embed_dim, paper.depth, paper.heads, paper.head_dim, paper.mlp_ratio) == (512, 6, 8, 64, 4)
    assert ModelConfig.from_preset("paper", 32).pad == 0  # CIFAR-10 is already 32x32
    small = ModelConfig.from_preset("small", 28)
    assert small == ModelConfig(preset="small")  # today's model: the bundled demo's configuration
    assert ModelConfig.from_preset("small", 32).patch == 8
    assert ModelConfig.from_preset("paper", 28, depth=2, embed_dim=None).depth == 2  # None = keep the preset's
    with pytest.raises(ConfigError, match="padded evenly"):
        ModelConfig.from_preset("paper", 29)
    with pytest.raises(ConfigError, match="preset"):
        ModelConfig.from_preset("huge", 28)
    with pytest.raises(ConfigError, match="input_coding"):
        ModelConfig(input_coding="poisson")
    with pytest.raises(ConfigError, match="exact float32 sum"):
        ModelConfig(input_coding="direct", image_size=32, channels=3, patch=16)


def test_direct_coding_levels_agree_between_torch_and_numpy():
    images = np.random.default_rng(0).integers(0, 256, (3, 1, 28, 28)).astype(np.float32) / np.float32(255)
    padded = pad_images(images, 2)
    assert padded.shape == (3, 1, 32, 32) and not padded[..., :2, :].any() and not padded[..., :, -2:].any()
    levels = encode_direct(padded, 4)
    assert levels.dtype == np.float32 and levels.shape == (4, 3, 1, 32, 32)
    assert np.array_equal(levels[2, :, :, 2:30, 2:30], np.rint(images * 255))
    model = SpikingViT(ModelConfig(input_coding="direct", pad=2, patch=4, timesteps=4, embed_dim=16, depth=1, heads=2))
    assert np.array_equal(model.encode(torch.from_numpy(images), TorchSampler()).numpy(), levels)
    assert np.array_equal(direct_levels_torch(torch.from_numpy(padded), 4).numpy(), levels)


def paper_shaped(coding: str) -> SpikingViT:
    """The paper preset's input path and block (pad 2, patch 4: N = 64; one head of D_K = 64) at depth 1
    and T = 3, trained for a few steps so BatchNorm statistics and spike rates are not trivial."""
    torch.manual_seed(1)
    cfg = ModelConfig.from_preset("paper", 28, timesteps=3, embed_dim=64, heads=1, depth=1, mlp_ratio=1,
                                  input_coding=coding, v_threshold=0.3)  # low threshold: Q, K, V fire often
    assert (cfg.tokens, cfg.head_dim) == (64, 64)
    model = SpikingViT(cfg)
    opt = torch.optim.Adam(model.parameters(), lr=3e-3)
    split = synthetic(16)
    x, y = torch.from_numpy(split.images).float() / 255, torch.from_numpy(split.labels)
    for _ in range(3):
        loss = torch.nn.functional.cross_entropy(model(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
    return model.eval()


@pytest.mark.parametrize("coding", ["bernoulli", "direct"])
def test_paper_shaped_bundle_runs_bit_exactly_in_numpy(tmp_path, coding):
    model = paper_shaped(coding)
    path = write_bundle(model, tmp_path / "paper.npz", seed=SEED, dataset="fashion-mnist")
    manifest = load_bundle(path).manifest
    assert manifest["model"]["pad"] == 2 and manifest["model"]["preset"] == "paper"
    assert manifest["model"]["input_coding"] == manifest["input_coding"]["kind"] == coding
    assert manifest["ssa"]["n"] == 64 and manifest["ssa"]["dk"] == 64
    assert manifest["ssa"]["fits_default_kernel"] is True  # N = 64 runs tiled on the default build (N_LIMIT = 256)

    calls = []

    class Recorder:
        def run(self, q, k, v, config):
            from ssa.backends.emulator import run

            calls.append((q.mean(), config.n, config.dk))
            return run(q, k, v, config)

    images = synthetic(4, seed=3).images.astype(np.float32) / np.float32(255)
    vit = NumpyViT.from_bundle(path, Recorder())
    assert vit.tokens == 64
    got = vit.logits(images, first_index=7)
    with torch.no_grad():
        want = model(torch.from_numpy(images), LfsrSampler(seed=SEED, first_index=7)).numpy()
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)
    np.testing.assert_array_equal(got.argmax(1), want.argmax(1))
    assert [(n, dk) for _, n, dk in calls] == [(64, 64)] and 0 < calls[0][0] < 1  # Q spikes, not all 0 or 1


def test_runtime_refuses_an_unknown_input_coding(tmp_path):
    model = SpikingViT(ModelConfig(timesteps=2, embed_dim=16, depth=1, heads=2))
    cfg = {**model.config.to_dict(), "input_coding": "temporal"}
    path = save_bundle(tmp_path / "x.npz", {"model": cfg, "seed": 0}, bundle_arrays(model))
    with pytest.raises(BundleError, match="input_coding='temporal'"):
        NumpyViT.from_bundle(path)


def test_expectation_gradient_keeps_the_sampled_forward():
    g = torch.Generator().manual_seed(0)
    q, k, v = ((torch.rand((2, 1, 2, 8, 4), generator=g) < 0.5).float().requires_grad_() for _ in range(3))
    weight = torch.randn((2, 1, 2, 8, 4), generator=g)
    outs, grads = {}, {}
    for mode in ("ste-draw", "expectation"):
        core = AttentionCore("ssa", 0, ssa_grad=mode).train()
        torch.manual_seed(3)
        out = core(q, k, v, TorchSampler())
        assert core.rate is not None and core.rate.item() == pytest.approx(out.mean().item())
        (out * weight).sum().backward()
        outs[mode], grads[mode] = out.detach(), [x.grad.clone() for x in (q, k, v)]
        for x in (q, k, v):
            x.grad = None
    assert torch.equal(outs["ste-draw"], outs["expectation"])  # same draws, same spikes
    (ssa_expectation(q, k, v) * weight).sum().backward()
    for got, want in zip(grads["expectation"], (q.grad, k.grad, v.grad)):
        torch.testing.assert_close(got, want)
    assert not torch.allclose(grads["ste-draw"][2], grads["expectation"][2])  # dAttn/dV: sampled S vs E[S]


def test_encoder_gain_multiplies_both_rates_in_training_and_on_the_lfsr_path():
    # D_K = 4 with one shared 1: Q K^T / D_K = 1/4 for every pair; V all ones: S V / N = M, the row mean of S (N = 8)
    q = torch.zeros((4000, 1, 1, 8, 4))
    q[..., 0] = 1
    k, v = q.clone(), torch.ones_like(q)
    # P(Attn) = E[min(1, 2^g M)], M ~ Binomial(8, min(1, 2^g / 4)) / 8:
    # g = 0: 1/4; g = 1: (163 + 58) / 256 (sum over the binomial); g = 2: S = 1, so Attn = 1 exactly.
    want = {0: 0.25, 1: 221 / 256, 2: 1.0}
    for g, p in want.items():
        torch.manual_seed(g)
        rate = TorchSampler().ssa(0, q, k, v, g).mean().item()
        # 128 000 draws in 32 000 rows sharing M: sd < 0.0015, so 0.008 is over 5 sd
        assert abs(rate - p) < 0.008 if g < 2 else rate == p, (g, rate)
        # the hardware-exact path (contract v2 encoders) has the same rates: over T = 1024 steps (rows of a step
        # share their draws) sd < 0.008, so 0.03 is about 4 sd
        lfsr = LfsrSampler(seed=g).ssa(0, q[:1024], k[:1024], v[:1024], g).mean().item()
        assert abs(lfsr - p) < 0.03 if g < 2 else lfsr == p, (g, lfsr)
    torch.testing.assert_close(ssa_expectation(q, k, v, 1), torch.ones_like(q))
    for bad in (dict(ssa_gain_log2=5), dict(ssa_gain_log2=-1), dict(ssa_gain_log2=1.0), dict(ssa_gain_log2=1, attention="spikformer")):
        with pytest.raises(ConfigError, match="ssa_gain_log2"):
            ModelConfig(**bad)


@pytest.mark.parametrize("shape,peak", [("atan", 1.0), ("sigmoid", 0.5), ("rect", 2.0)])
def test_surrogate_shapes_have_unit_area(shape, peak):
    x = torch.linspace(-30, 30, 600001, requires_grad=True)
    spikes = heaviside(x, 2.0, shape)
    assert torch.equal(spikes, (x >= 0).float())
    spikes.sum().backward()
    assert x.grad[300000].item() == pytest.approx(peak)
    assert (x.grad.sum() * 1e-4).item() == pytest.approx(1.0, abs=0.02)  # each shape is a smoothed delta


def test_random_crop_is_a_shifted_window_of_the_padded_image():
    images = torch.rand((6, 2, 5, 7))
    assert torch.equal(random_crop(images, 0), images)
    torch.manual_seed(0)
    out = random_crop(images, 2)
    padded = torch.nn.functional.pad(images, (2,) * 4)
    for b in range(6):
        windows = [(dy, dx) for dy in range(5) for dx in range(5) if torch.equal(out[b], padded[b, :, dy:dy + 5, dx:dx + 7])]
        assert windows
    assert any(not torch.equal(out[b], images[b]) for b in range(6))


def test_training_loss_terms():
    model = SpikingViT(ModelConfig(timesteps=2, embed_dim=16, depth=2, heads=2)).train()
    x = torch.rand((4, 1, 28, 28))
    logits, y = model(x), torch.tensor([0, 1, 2, 3])
    base = TrainConfig()
    ce = torch.nn.functional.cross_entropy(logits, y)
    assert training_loss(model, logits, y, base, None).item() == pytest.approx(ce.item())
    assert training_loss(model, logits, y, TrainConfig(distill_weight=1.0), logits.detach()).item() == pytest.approx(0, abs=1e-6)
    rates = model.attention_rates()
    assert len(rates) == 2
    reg = TrainConfig(rate_reg=10.0, rate_target=0.5)
    want = ce + 10.0 * torch.stack([(r - 0.5) ** 2 for r in rates]).mean()
    assert training_loss(model, logits, y, reg, None).item() == pytest.approx(want.item())
    with pytest.raises(ConfigError):
        TrainConfig(distill_weight=2.0)


def test_init_from_an_ann_checkpoint(tmp_path):
    from test_quantize_training import tiny_dataset

    size = dict(classes=2, embed_dim=16, depth=1, heads=2, mlp_ratio=2)
    train(tmp_path / "ann", ModelConfig(attention="ann", **size), TrainConfig(epochs=1, batch_size=32, amp=False),
          tiny_dataset(), torch.device("cpu"))
    ann = load_checkpoint(tmp_path / "ann" / "checkpoint.pt")["model"]
    student = SpikingViT(ModelConfig(attention="ssa", timesteps=2, input_coding="direct", **size))
    info = init_from_checkpoint(student, tmp_path / "ann" / "checkpoint.pt")
    own = student.state_dict()
    assert info["init_copied"] == len(own) and info["init_skipped"]  # everything mapped; ReLU ranges skipped
    for key in ("patch.linear.weight", "layers.0.mlp1.unit.bn.weight", "pos", "head.bias"):
        assert torch.equal(own[key], ann[key])
    torch.testing.assert_close(own["patch.bn.running_mean"], ann["patch.bn.running_mean"] * 255)  # direct levels
    torch.testing.assert_close(own["patch.bn.running_var"], ann["patch.bn.running_var"] * 255**2)
    with pytest.raises(CheckpointError, match="embed_dim: 16 vs 32"):
        init_from_checkpoint(SpikingViT(ModelConfig(**{**size, "embed_dim": 32})), tmp_path / "ann")  # a run folder


def test_checkpoints_from_before_the_new_options_still_resume(tmp_path):
    from test_quantize_training import tiny_dataset

    model_config, data = ModelConfig(classes=2, timesteps=2, embed_dim=16, depth=1, heads=2, mlp_ratio=2), tiny_dataset()
    config = TrainConfig(epochs=2, batch_size=32, amp=False)
    assert len(train(tmp_path, model_config, config, data, torch.device("cpu"), max_minutes=1e-9)["epochs"]) == 1
    path = tmp_path / "checkpoint.pt"
    state = load_checkpoint(path)
    for key in ("pad", "input_coding", "surrogate", "surrogate_alpha", "ssa_grad", "preset", "ssa_gain_log2"):
        del state["model_config"][key]
    for key in ("label_smoothing", "crop_padding", "rate_reg", "rate_target", "init_from", "distill_from",
                "distill_weight", "distill_temperature"):
        del state["train_config"][key]
    save_checkpoint(path, state)
    log = train(tmp_path, model_config, config, data, torch.device("cpu"))
    assert log["finished"] and len(log["epochs"]) == 2


def test_cli_trains_with_every_lever_on(tmp_path):
    """A few batches each: ANN teacher at the paper preset's input path, then SSA initialised and distilled from it."""
    data_dir = tmp_path / "data"
    write_mnist_like(data_dir, n_train=16, n_test=4)
    common = ["--dataset", "mnist", "--data-dir", str(data_dir), "--preset", "paper", "--embed-dim", "16",
              "--heads", "2", "--depth", "1", "--mlp-ratio", "1", "--epochs", "1", "--batch-size", "8", "--device", "cpu"]
    runner = CliRunner()
    result = runner.invoke(train_command, [*common, "--attention", "ann", "--out", str(tmp_path / "ann")])
    assert result.exit_code == 0, result.output
    levers = ["--attention", "ssa", "--timesteps", "2", "--input-coding", "direct", "--ssa-grad", "expectation",
              "--ssa-gain-log2", "1", "--surrogate", "sigmoid", "--surrogate-alpha", "4", "--tau", "1.5", "--v-threshold", "0.8",
              "--label-smoothing", "0.1", "--crop-padding", "2", "--warmup-fraction", "0.5", "--rate-reg", "1",
              "--init-from", str(tmp_path / "ann"), "--distill-from", str(tmp_path / "ann"), "--distill-weight", "0.7",
              "--distill-temperature", "3", "--seed", "4", "--out", str(tmp_path / "ssa")]
    result = runner.invoke(train_command, [*common, *levers])
    assert result.exit_code == 0, result.output
    log = json.loads((tmp_path / "ssa" / "log.json").read_text())
    assert log["model_config"]["preset"] == "paper" and log["model_config"]["pad"] == 2
    assert log["model_config"]["input_coding"] == "direct" and log["model_config"]["tau"] == 1.5
    assert log["model_config"]["ssa_gain_log2"] == 1
    assert log["train_config"]["distill_weight"] == 0.7 and log["train_config"]["seed"] == 4
    assert log["init_copied"] > 0 and np.isfinite(log["epochs"][0]["train_loss"])
    assert 0 <= log["epochs"][0]["attention_rate"] <= 1
    # the gain model evaluates hardware-exactly and exports; the numpy runtime predicts exactly what `evaluate` counted
    ssa_run, data = tmp_path / "ssa", ["--data-dir", str(data_dir)]
    result = runner.invoke(evaluate_command, ["--checkpoint", str(ssa_run), "--mode", "lfsr", "--seed", "3", "--device", "cpu",
                                              *data, "--output", str(ssa_run / "eval_lfsr.json")])
    assert result.exit_code == 0, result.output
    evaluation = json.loads((ssa_run / "eval_lfsr.json").read_text())
    result = runner.invoke(export_command, ["--checkpoint", str(ssa_run), "--out", str(tmp_path / "bundle"), "--seed", "3",
                                            "--onnx", "none", "--evaluation", str(ssa_run / "eval_lfsr.json")])
    assert result.exit_code == 0, result.output
    vit = NumpyViT.from_bundle(tmp_path / "bundle" / "bundle.npz")
    assert (vit.spec.contract_version, vit.spec.ssa_gain_log2) == (2, 1)
    test = load_dataset("mnist", data_dir).test
    predicted = vit.predict(test.images.astype(np.float32) / np.float32(255))
    assert int((predicted == test.labels).sum()) == evaluation["correct"] and evaluation["total"] == 4
    result = runner.invoke(train_command, [*common, "--attention", "ssa", "--embed-dim", "32",
                                           "--init-from", str(tmp_path / "ann"), "--out", str(tmp_path / "bad")])
    assert result.exit_code != 0 and "geometry differs" in str(result.exception)


def test_report_pools_seeds_into_rows(tmp_path, capsys):
    from ssa_quantize.report import main, table

    def run(name: str, accuracy: float, rate: float | None = None, evals: dict | None = None) -> None:
        folder = tmp_path / name
        folder.mkdir()
        epoch = {"epoch": 1, "train_accuracy": 0.9, "train_seconds": 10.0, "test_accuracy_ideal": accuracy}
        if rate is not None:
            epoch["attention_rate"] = rate
        log = {"train_config": {"epochs": 2}, "train_images": 20000, "epochs": [epoch]}
        (folder / "log.json").write_text(json.dumps(log))
        for mode, acc in (evals or {}).items():
            (folder / f"eval_{mode}.json").write_text(json.dumps({"accuracy": acc, "total": 500}))

    run("abl-direct-s0", 0.80, 0.02)
    run("abl-direct-s1", 0.82, 0.04)
    run("paper-ssa-t10", 0.9, 0.01, {"ideal": 0.9, "lfsr": 0.89})
    text = table(tmp_path)
    assert "| abl-direct | 2 | 1 of 2 | 20000 | 81.00 ± 1.41 | 90.00 ± 0.00 | 0.0300 ± 0.0141 | 10.0 | – |" in text
    assert "ideal 90.00 on 500; lfsr 89.00 on 500" in text
    main([str(tmp_path), "--output", str(tmp_path / "t.md")])
    assert (tmp_path / "t.md").read_text() == text == capsys.readouterr().out
