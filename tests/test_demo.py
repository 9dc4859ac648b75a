"""`ssa demo`: the README's main job, on the bundled model and sample (and on a given test set)."""
import re

import numpy as np
from click.testing import CliRunner

from ssa.cli import main
from ssa.commands_demo import DEFAULT_BUNDLE, DEFAULT_SAMPLE, packaged
from ssa.bundle import load_bundle
from test_datasets import write_mnist_like


def test_bundled_files_are_valid():
    bundle = load_bundle(packaged(DEFAULT_BUNDLE))
    assert bundle.manifest["model"]["attention"] == "ssa" and bundle.manifest["ssa"]["fits_default_kernel"]
    with np.load(packaged(DEFAULT_SAMPLE), allow_pickle=False) as npz:
        assert npz["images"].shape == (1000, 28, 28) and npz["labels"].shape == (1000,)


def test_demo_on_20_images_cross_checks_csim():
    result = CliRunner().invoke(main, ["demo", "--count", "20", "--batch", "10", "--check", "2"])
    assert result.exit_code == 0, result.output
    accuracy = float(re.search(r"accuracy: ([\d.]+)%", result.output).group(1))
    assert 50 <= accuracy <= 100  # a trained 10-class model, far above chance on its own test data
    assert re.search(r"csim cross-check: 96 attention blocks of 2 images bit-exact", result.output)
    assert "images/s" in result.output and "FPGA estimate" in result.output


def test_demo_backends_agree_and_full_test_set_option(tmp_path):
    write_mnist_like(tmp_path, n_train=2, n_test=6)
    outputs = []
    for backend in ("emulate", "fast"):
        result = CliRunner().invoke(main, ["demo", "--count", "6", "--check", "0", "--backend", backend, "--test-set", str(tmp_path)])
        assert result.exit_code == 0, result.output
        outputs.append(re.search(r"accuracy: .*", result.output).group(0))
    assert outputs[0] == outputs[1]


def test_demo_errors_are_clear(tmp_path):
    result = CliRunner().invoke(main, ["demo", "--count", "2000"])
    assert result.exit_code != 0 and "exceeds the 1000 images" in result.output
    bad = tmp_path / "bad.npz"
    bad.write_text("not a bundle")
    result = CliRunner().invoke(main, ["demo", "--bundle", str(bad), "--count", "1"])
    assert result.exit_code != 0 and "not a readable .npz archive" in result.output
    result = CliRunner().invoke(main, ["demo", "--backend", "nope", "--count", "1"])
    assert result.exit_code != 0 and "nope" in result.output
