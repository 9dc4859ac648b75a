"""Numpy inference of a bundle agrees with the torch model's hardware-LFSR evaluation.

Tolerance: attention spikes are identical (checked block by block); the float32 parts
(integer matmuls, folded BN, LIF) are the same IEEE operations in the same order, so every spike
of the network agrees; only the head's mean and matmul may sum in another order, so logits agree
to 1e-5 relative and the predictions exactly. The same holds for a model trained with the encoders'
gain (contract v2), exported by `ssa export`'s writer: the gain reaches every attention block.
"""
from dataclasses import replace

import numpy as np
import pytest

from extras import require

torch = require("torch")

from ssa.model.bundle import load_bundle, save_bundle  # noqa: E402
from ssa.errors import BundleError, ImageError, ShapeError  # noqa: E402
from ssa.model import SpikingViT as NumpyViT  # noqa: E402
from ssa_quantize.attention import LfsrSampler  # noqa: E402
from ssa_quantize.export import bundle_arrays, write_bundle  # noqa: E402
from tiny_models import assert_runtime_matches_torch, tiny_config, tiny_trained  # noqa: E402

SEED = 11


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """A tiny model with a few training steps (so BN statistics and weights are not trivial); its manifest
    has no contract_version (a v1 bundle) and no gain."""
    cfg = tiny_config("ssa")
    model = tiny_trained(cfg)
    path = save_bundle(tmp_path_factory.mktemp("bundle") / "tiny.npz",
                       {"model": cfg.to_dict(), "seed": SEED, "neuron": {"spikformer_attention": {"scale": 0.125, "v_threshold": 0.5}}},
                       bundle_arrays(model))
    return model, path


@pytest.fixture(scope="module")
def gain_trained(tmp_path_factory):
    """The tiny model trained with encoder gain 2^1 (contract v2), written by the export's bundle writer."""
    model = tiny_trained(replace(tiny_config("ssa"), ssa_gain_log2=1))
    return model, write_bundle(model, tmp_path_factory.mktemp("gain") / "gain.npz", seed=SEED, dataset="mnist")


BOTH = pytest.mark.parametrize("models", ["trained", "gain_trained"])


@BOTH
def test_numpy_logits_match_torch_lfsr_evaluation(models, request):
    model, path = request.getfixturevalue(models)
    assert_runtime_matches_torch(model, path, SEED, first_index=40)


def test_the_gain_reaches_the_logits(gain_trained, tmp_path):
    """The same weights with the gain set to 0 in the manifest give other logits and predictions (gain 0 is contract v1)."""
    _, path = gain_trained
    bundle = load_bundle(path)
    manifest = {**bundle.manifest, "model": {**bundle.manifest["model"], "ssa_gain_log2": 0},
                "ssa": {**bundle.manifest["ssa"], "gain_log2": 0}}
    ungained = save_bundle(tmp_path / "g0.npz", manifest, bundle.arrays)
    images = np.random.default_rng(6).random((4, 1, 8, 8)).astype(np.float32)
    gained, plain = NumpyViT.from_bundle(path).logits(images), NumpyViT.from_bundle(ungained).logits(images)
    assert np.abs(gained - plain).max() > 0.1 and (gained.argmax(1) != plain.argmax(1)).any()


@BOTH
def test_attention_blocks_are_identical_to_torch(models, request, monkeypatch):
    """Record every attention call on both sides: inputs, seeds, gains and outputs must be equal bit for bit."""
    model, path = request.getfixturevalue(models)
    gain = model.config.ssa_gain_log2
    images = np.random.default_rng(4).random((3, 1, 8, 8)).astype(np.float32)
    torch_calls, numpy_calls = [], []
    import ssa_quantize.attention as attention

    real = attention.lfsr_attention

    def spy(q, k, v, seed, threads=1, gain_log2=0):
        out = real(q, k, v, seed=seed, threads=threads, gain_log2=gain_log2)
        torch_calls.append((q.copy(), (seed, gain_log2), out.copy()))
        return out

    monkeypatch.setattr(attention, "lfsr_attention", spy)
    with torch.no_grad():
        model(torch.from_numpy(images), LfsrSampler(seed=SEED, first_index=0))

    class Recorder:
        def run(self, q, k, v, config):
            from ssa.backends.emulator import run

            out = run(q, k, v, config)
            numpy_calls.append((q.copy(), (config.seed, config.gain_log2), out.copy()))
            return out

    NumpyViT.from_bundle(path, Recorder()).logits(images, first_index=0)
    assert len(torch_calls) == len(numpy_calls) == 2 and 0 < np.mean([out.mean() for *_, out in numpy_calls]) < 1
    for (tq, tseed, tout), (nq, nseed, nout) in zip(torch_calls, numpy_calls):
        assert tseed == nseed and nseed[1] == gain
        np.testing.assert_array_equal(tq, nq)
        np.testing.assert_array_equal(tout, nout)


def test_csim_backend_gives_the_same_predictions(trained):
    from ssa.backends.csim import CSimBackend

    _, path = trained
    images = np.random.default_rng(5).random((2, 1, 8, 8)).astype(np.float32)
    ref = NumpyViT.from_bundle(path).logits(images)
    np.testing.assert_array_equal(NumpyViT.from_bundle(path, CSimBackend()).logits(images), ref)


def test_bad_images_are_rejected(trained):
    _, path = trained
    vit = NumpyViT.from_bundle(path)
    with pytest.raises(ShapeError, match=r"\[B, 1, 8, 8\]"):
        vit.logits(np.zeros((2, 1, 9, 9), np.float32))
    with pytest.raises(ImageError, match="divide uint8 images by 255"):
        vit.logits(np.full((1, 1, 8, 8), 255, np.float32))
    with pytest.raises(ImageError, match="NaN"):
        vit.logits(np.full((1, 1, 8, 8), np.nan, np.float32))


@pytest.mark.parametrize("seed", [-1, 2**32, "3"])
def test_bundle_with_invalid_seed(tmp_path, trained, seed):
    model, _ = trained
    path = save_bundle(tmp_path / "s.npz", {"model": model.config.to_dict(), "seed": seed}, bundle_arrays(model))
    with pytest.raises(BundleError, match="invalid seed"):
        NumpyViT.from_bundle(path)


def test_bundle_without_model_section(tmp_path):
    path = save_bundle(tmp_path / "x.npz", {"seed": 1}, {"a": np.zeros(2, np.float32)})
    with pytest.raises(BundleError, match="lacks a complete 'model' section"):
        NumpyViT.from_bundle(path)
