"""`ssa demo`: the README's main job, on the bundled model and sample (and on a given test set)."""
import re

import numpy as np
from click.testing import CliRunner

from ssa.cli import main
from ssa.backends import get_backend
from ssa.model.bundle import load_bundle
from ssa.cli.demo import DEFAULT_BUNDLE, DEFAULT_SAMPLE, load_images, packaged
from ssa.model import SpikingViT
from test_datasets import write_mnist_like


def test_bundled_files_are_valid():
    bundle = load_bundle(packaged(DEFAULT_BUNDLE))
    assert bundle.manifest["model"]["attention"] == "ssa" and bundle.manifest["ssa"]["fits_default_kernel"]
    with np.load(packaged(DEFAULT_SAMPLE), allow_pickle=False) as npz:
        assert npz["images"].shape == (1000, 28, 28) and npz["labels"].shape == (1000,)


def test_demo_on_20_images_cross_checks_csim():
    result = CliRunner().invoke(main, ["demo", "--count", "20", "--batch", "10", "--check", "2"])
    assert result.exit_code == 0, result.output
    # Deterministic: the bundled model gets 18 of the first 20 bundled images right (881 of all 1000).
    assert "accuracy: 90.00% (18/20)" in result.output
    assert re.search(r"csim cross-check: 96 attention blocks of 2 images bit-exact", result.output)
    assert "images/s" in result.output and "FPGA estimate" in result.output


def test_demo_reads_a_full_test_set_directory(tmp_path):
    arrays = write_mnist_like(tmp_path, n_train=2, n_test=6)
    result = CliRunner().invoke(main, ["demo", "--count", "6", "--check", "0", "--test-set", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert f"Fashion-MNIST test set in {tmp_path}" in result.output
    images, _, _ = load_images(tmp_path, 6)
    np.testing.assert_array_equal(images[:, 0], arrays["t10k"][0].astype(np.float32) / np.float32(255))
    bad = CliRunner().invoke(main, ["demo", "--count", "1", "--test-set", str(tmp_path / "missing")])
    assert bad.exit_code == 1 and "--test-set" in bad.output and "t10k-images-idx3-ubyte" in bad.output


def test_demo_backends_give_identical_predictions():
    images, _, _ = load_images(None, 8)
    reference = SpikingViT.from_bundle(packaged(DEFAULT_BUNDLE)).predict(images, first_index=0)
    for backend in ("fast", "csim"):
        model = SpikingViT.from_bundle(packaged(DEFAULT_BUNDLE), get_backend(backend))
        np.testing.assert_array_equal(model.predict(images, first_index=0), reference)


def test_demo_errors_are_clear(tmp_path):
    result = CliRunner().invoke(main, ["demo", "--count", "2000"])
    assert result.exit_code != 0 and "exceeds the 1000 images" in result.output
    bad = tmp_path / "bad.npz"
    bad.write_text("not a bundle")
    result = CliRunner().invoke(main, ["demo", "--bundle", str(bad), "--count", "1"])
    assert result.exit_code == 1 and "BundleError" in result.output and "not a readable .npz archive" in result.output
    result = CliRunner().invoke(main, ["demo", "--backend", "nope", "--count", "1"])
    assert result.exit_code != 0 and "nope" in result.output


def test_timesteps_beyond_the_csim_build_skip_the_cross_check_with_a_note():
    """T = 40 exceeds the default C-simulation build (T ≤ 32): the demo runs, the cross-check says why it did not."""
    result = CliRunner().invoke(main, ["demo", "--timesteps", "40", "--count", "2", "--check", "1"])
    assert result.exit_code == 0, result.output
    assert "csim cross-check skipped: blocks N=16 D_K=16 T=40 exceed the C-simulated kernel build" in result.output
    assert "--check 0 leaves it out" in result.output and "accuracy:" in result.output
    assert "needs a kernel built with larger maxima than the default" in result.output
