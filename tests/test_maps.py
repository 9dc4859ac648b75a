"""Attention maps, rollout and firing rates of the runtime model (ssa.model.maps), their plots, `ssa demo --plot`."""
import importlib.util
import json
from pathlib import Path

import numpy as np
import pytest
from extras import require
from click.testing import CliRunner

from ssa import plots
from ssa.backends.emulator import run, run_with_scores
from ssa.cli import main
from ssa.cli.demo import DEFAULT_BUNDLE, load_images, packaged
from ssa.cli.demo_plot import confusion_matrix
from ssa.errors import ConfigError
from ssa.model import SpikingViT
from ssa.model.maps import RATE_NAMES, record, rollout

matplotlib = require("matplotlib")
matplotlib.use("Agg")
ROOT = Path(__file__).resolve().parents[1]
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def bundled():
    model = SpikingViT.from_bundle(packaged(DEFAULT_BUNDLE))
    images, labels, _ = load_images(None, 4)
    return model, images, labels


def assert_png(path: Path) -> None:
    assert path.read_bytes()[:8] == PNG_MAGIC
    image = matplotlib.image.imread(path)
    assert image.shape[0] > 100 and image.shape[1] > 100 and image[..., :3].std() > 0.05  # not blank


def test_rollout_rows_are_distributions():
    rng = np.random.default_rng(0)
    scores = rng.random((3, 2, 5, 5))
    scores[1, 0, 2] = 0  # a silent query row keeps its own token
    r = rollout(scores)
    assert r.shape == (2, 5, 5) and (r >= 0).all()
    np.testing.assert_allclose(r.sum(axis=-1), 1, atol=1e-12)
    np.testing.assert_array_equal(rollout(scores, residual=1.0), np.broadcast_to(np.eye(5), (2, 5, 5)))
    one = rollout(scores[:1], residual=0.0)
    np.testing.assert_allclose(one, scores[0] / scores[0].sum(-1, keepdims=True))
    with pytest.raises(ConfigError, match="residual"):
        rollout(scores, residual=1.5)


def test_record_scores_are_the_blocks_own_s(bundled):
    """Recording leaves the logits unchanged and its lfsr scores are exactly mean_t S of every block the model ran."""
    model, images, _ = bundled
    calls = []

    class Spy:
        def run(self, q, k, v, config):
            calls.append((q, k, v, config))
            return run(q, k, v, config)

    spied = SpikingViT.from_bundle(packaged(DEFAULT_BUNDLE), Spy())
    rec = record(spied, images, first_index=0, batch=3)
    assert rec.scores.shape == (model.depth, 4, model.heads, 16, 16) == rec.expected.shape
    assert 0 <= rec.scores.min() and rec.scores.max() <= 1 and rec.scores.max() > 0
    np.testing.assert_array_equal(rec.logits, np.concatenate([model.logits(images[:3]), model.logits(images[3:], first_index=3)]))
    assert len(calls) == 2 * model.depth  # batches of 3 and 1 images
    for layer in range(model.depth):
        q, k, v, config = calls[layer]  # first batch
        np.testing.assert_array_equal(rec.scores[layer, :3], run_with_scores(q, k, v, config)[1].mean(axis=0, dtype=np.float32))
        counts = q.astype(np.int32) @ k.astype(np.int32).swapaxes(-1, -2)
        assert config.gain_log2 == 2  # E[S | Q, K] = min(1, 2^g c / D_K) with the bundle's gain
        np.testing.assert_allclose(rec.expected[layer, :3], np.minimum(1, counts * 4 / 16).mean(0), rtol=1e-6)
    assert set(rec.rates) == set(RATE_NAMES)
    for name, r in rec.rates.items():
        assert r.shape == (model.depth,) and ((0 < r) & (r < 1)).all(), name
    np.testing.assert_allclose(rec.rates["s"], rec.scores.mean(axis=(1, 2, 3, 4)), rtol=1e-5)
    q0 = np.concatenate([calls[0][0], calls[model.depth][0]], axis=1)
    assert rec.rates["q"][0] == pytest.approx(q0.mean())


def test_record_rejects_bad_options(bundled):
    model, images, _ = bundled
    with pytest.raises(ConfigError, match="mode"):
        record(model, images, mode="exact")
    with pytest.raises(ConfigError, match="batch"):
        record(model, images, batch=0)


def test_ideal_map_approaches_the_expectation(bundled):
    """mean_t S − mean_t E[S | Q, K] is a mean of T independent zero-mean terms: 16× the steps, about 4× less error."""
    _, images, _ = bundled
    errors = {}
    for steps in (10, 160):
        model = SpikingViT.from_bundle(packaged(DEFAULT_BUNDLE))
        model.timesteps = steps
        rec = record(model, images[:2], mode="ideal")
        errors[steps] = float(np.abs(rec.scores - rec.expected).mean())
    assert errors[160] < errors[10] / 2.5, errors


def test_spikformer_bundle_maps(tmp_path):
    """A tiny spikformer bundle exported from the torch model: scores are its mean_t Q·Kᵀ / D_K."""
    torch = require("torch")
    from ssa.model.bundle import save_bundle
    from ssa_quantize.export import bundle_arrays
    from ssa_quantize.model import ModelConfig
    from ssa_quantize.model import SpikingViT as TorchViT

    torch.manual_seed(0)
    cfg = ModelConfig(attention="spikformer", timesteps=4, image_size=8, patch=4, embed_dim=16, depth=2, heads=2)
    net = TorchViT(cfg)
    for module in net.modules():  # calibrate BatchNorm on random images so the untrained model spikes
        if isinstance(module, torch.nn.modules.batchnorm._BatchNorm):
            module.momentum = None
    with torch.no_grad():
        for _ in range(3):
            net(torch.rand(16, 1, 8, 8))
    net.eval()
    path = save_bundle(tmp_path / "spikformer.npz", {"model": cfg.to_dict(), "seed": 3,
                                                     "neuron": {"spikformer_attention": {"scale": 0.125, "v_threshold": 0.5}}},
                       bundle_arrays(net))
    model = SpikingViT.from_bundle(path)
    images = np.random.default_rng(1).random((3, 1, 8, 8)).astype(np.float32)
    seen = {}
    model.recorder = lambda name, layer, x: seen.setdefault((layer, name), x)
    model.logits(images)
    model.recorder = None
    rec = record(model, images)
    assert rec.attention == "spikformer" and rec.scores.shape == (2, 3, 2, 4, 4) and rec.grid == 2
    q, k = seen[1, "q"], seen[1, "k"]
    np.testing.assert_allclose(rec.scores[1], (q @ k.swapaxes(-1, -2)).mean(0) / 8, rtol=1e-6)
    np.testing.assert_array_equal(rec.scores, rec.expected)
    assert np.isnan(rec.rates["s"]).all() and (rec.rates["q"] > 0).all() and rec.scores.max() > 0
    fig = plots.attention_maps([images[0, 0]], [{"layer 2, query 0": rec.on_grid(rec.head_mean()[1, 0, 0]),
                                                  "rollout": rec.on_grid(rec.rollout()[0].mean(0))}],
                                query={"layer 2, query 0": 0}, labels={"layer 2, query 0": "mean over T of Q·Kᵀ / D_K", "rollout": "rollout weight"})
    fig.savefig(tmp_path / "spikformer.png")
    assert_png(tmp_path / "spikformer.png")


def test_plot_functions_write_pngs(bundled, tmp_path):
    model, images, labels = bundled
    images, labels = images[:2], labels[:2]
    rec = record(model, images)
    figures = {
        "maps": plots.attention_maps([images[b, 0] for b in range(2)],
                                     [{"query 5": rec.on_grid(rec.head_mean()[0, b, 5]), "rollout": rec.on_grid(rec.rollout()[b].mean(0))} for b in range(2)],
                                     ["a", "b"], query={"query 5": 5}, labels="score"),
        "rates": plots.firing_rates(rec.rates),
        "accuracy": plots.accuracy_vs_timesteps({"ssa (lfsr)": {4: 0.84, 8: 0.848, 10: 0.851}}, {"ann": 0.89}),
        "stages": plots.stage_bars([("pack", 10.0), ("DMA + kernel", 40.0), ("unpack", 5.0)], reference=("latency model", 4.2)),
        "seeds": plots.seeded_rows({"bernoulli": [0.75, 0.76, 0.74], "direct": [0.78, 0.79, 0.8]}, {"ann": 0.84}),
        "summary": plots.demo_summary(confusion_matrix(labels, rec.logits.argmax(1), 10), [str(c) for c in range(10)], images[:, 0],
                                      labels, rec.logits.argmax(1), (images[0, 0], rec.on_grid(rec.rollout()[0].mean(0)), "rollout")),
    }
    for name, fig in figures.items():
        fig.savefig(tmp_path / f"{name}.png")
        assert_png(tmp_path / f"{name}.png")


def test_confusion_matrix_counts():
    counts = confusion_matrix(np.array([0, 0, 1, 2, 2, 2]), np.array([0, 1, 1, 2, 2, 0]), 3)
    np.testing.assert_array_equal(counts, [[1, 1, 0], [0, 1, 0], [1, 0, 2]])


def test_accuracy_curves_read_the_committed_logs():
    spec = importlib.util.spec_from_file_location("make_figures", ROOT / "docs" / "figures" / "make_figures.py")
    figures = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(figures)
    curves, references = figures.accuracy_curves()
    assert set(curves) == {"ssa (ideal)", "ssa (lfsr)", "spikformer (deterministic attention)"}
    assert all(set(c) == {4, 8, 10} for c in curves.values())
    assert (curves["ssa (lfsr)"][10], curves["ssa (ideal)"][10]) == (0.8508, 0.8526)  # docs/results.md's table
    ann = json.loads((ROOT / "quantize/results/fashion-mnist/ann-T1/log.json").read_text())["epochs"][-1]["test_accuracy_ideal"]
    assert list(references.values()) == [ann]
    # the bound: lfsr and ideal differ by at most 0.21 points at every T
    assert max(abs(curves["ssa (lfsr)"][t] - curves["ssa (ideal)"][t]) for t in (4, 8, 10)) <= 0.0021 + 1e-12


def test_demo_writes_its_summary_plot(tmp_path):
    out = tmp_path / "plots" / "demo.png"
    refused = CliRunner().invoke(main, ["demo", "--count", "12", "--check", "0", "--plot", str(out)])
    assert refused.exit_code == 2 and "does not exist" in refused.output  # checked before any work
    out.parent.mkdir()
    result = CliRunner().invoke(main, ["demo", "--count", "12", "--batch", "6", "--check", "0", "--plot", str(out)])
    assert result.exit_code == 0, result.output
    assert f"summary plot: {out}" in result.output
    assert_png(out)
