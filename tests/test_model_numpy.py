"""Numpy inference of a bundle agrees with the torch model's hardware-LFSR evaluation.

Tolerance: attention spikes are identical (checked block by block); the float32 parts
(integer matmuls, folded BN, LIF) are the same IEEE operations in the same order, so every spike
of the network agrees; only the head's mean and matmul may sum in another order, so logits agree
to 1e-5 relative and the predictions exactly.
"""
import numpy as np
import pytest

from extras import require

torch = require("torch")

from ssa.model.bundle import save_bundle  # noqa: E402
from ssa.errors import BundleError, ImageError, ShapeError  # noqa: E402
from ssa.model import SpikingViT as NumpyViT  # noqa: E402
from ssa_quantize.attention import LfsrSampler  # noqa: E402
from ssa_quantize.export import bundle_arrays  # noqa: E402
from tiny_models import assert_runtime_matches_torch, tiny_config, tiny_trained  # noqa: E402

SEED = 11


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """A tiny model with a few training steps (so BN statistics and weights are not trivial)."""
    cfg = tiny_config("ssa")
    model = tiny_trained(cfg)
    path = save_bundle(tmp_path_factory.mktemp("bundle") / "tiny.npz",
                       {"model": cfg.to_dict(), "seed": SEED, "neuron": {"spikformer_attention": {"scale": 0.125, "v_threshold": 0.5}}},
                       bundle_arrays(model))
    return model, path


def test_numpy_logits_match_torch_lfsr_evaluation(trained):
    model, path = trained
    assert_runtime_matches_torch(model, path, SEED, first_index=40)


def test_attention_blocks_are_identical_to_torch(trained, monkeypatch):
    """Record every attention call on both sides: inputs and outputs must be equal bit for bit."""
    model, path = trained
    images = np.random.default_rng(4).random((3, 1, 8, 8)).astype(np.float32)
    torch_calls, numpy_calls = [], []
    import ssa_quantize.attention as attention

    real = attention.lfsr_attention

    def spy(q, k, v, seed, threads=1):
        out = real(q, k, v, seed=seed, threads=threads)
        torch_calls.append((q.copy(), seed, out.copy()))
        return out

    monkeypatch.setattr(attention, "lfsr_attention", spy)
    with torch.no_grad():
        model(torch.from_numpy(images), LfsrSampler(seed=SEED, first_index=0))

    class Recorder:
        def run(self, q, k, v, config):
            from ssa.backends.emulator import run

            out = run(q, k, v, config)
            numpy_calls.append((q.copy(), config.seed, out.copy()))
            return out

    NumpyViT.from_bundle(path, Recorder()).logits(images, first_index=0)
    assert len(torch_calls) == len(numpy_calls) == 2
    for (tq, tseed, tout), (nq, nseed, nout) in zip(torch_calls, numpy_calls):
        assert tseed == nseed
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
