"""Export: ONNX of the INT8 units reproduces torch; the bundle (contract v2, with the encoders' gain) round-trips
through the runtime's reader."""
from dataclasses import replace

import numpy as np
import pytest

from extras import require

torch = require("torch")
require("brevitas")
ort = require("onnxruntime")
require("onnxoptimizer")  # Brevitas' ONNX export needs it

from ssa.contract.config import CONTRACT_VERSION, GAIN_LOG2_MAX  # noqa: E402
from ssa.model import SpikingViT as NumpyViT  # noqa: E402
from ssa.model.bundle import load_bundle  # noqa: E402
from ssa.model.schema import expected_arrays  # noqa: E402
from ssa_quantize.export import export_onnx, linear_units, write_bundle  # noqa: E402
from ssa_quantize.model import ModelConfig, SpikingViT  # noqa: E402


@pytest.fixture(scope="module")
def model() -> SpikingViT:
    torch.manual_seed(0)
    m = SpikingViT(ModelConfig(timesteps=2, embed_dim=16, depth=1, heads=2, mlp_ratio=2))
    with torch.no_grad():  # non-trivial BN statistics
        for unit in linear_units(m).values():
            unit.bn.running_mean.uniform_(-1, 1)
            unit.bn.running_var.uniform_(0.5, 2)
            unit.bn.weight.uniform_(0.5, 1.5)
            unit.bn.bias.uniform_(-0.5, 0.5)
    return m.eval()


@pytest.mark.parametrize("fmt", ["qcdq"])
def test_onnx_units_reproduce_torch(model, tmp_path, fmt):
    paths = export_onnx(model, tmp_path, fmt)
    units = linear_units(model)
    assert set(paths) == set(units)
    assert not any(m.training for m in model.modules())  # exporting leaves the model in eval mode
    options = ort.SessionOptions()
    options.log_severity_level = 3
    for name, path in paths.items():
        unit = units[name]
        x = (torch.rand(7, unit.linear.in_features) < 0.4).float() * 2  # spike counts 0/2
        session = ort.InferenceSession(str(path), options)
        got = session.run(None, {"x": x.numpy()})[0]
        with torch.no_grad():
            expected = unit.brevitas_forward(x).numpy()
            folded = unit(x).numpy()
        np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-5)
        np.testing.assert_allclose(folded, expected, rtol=1e-5, atol=1e-5)


def test_qonnx_export_writes_quant_nodes(model, tmp_path):
    onnx = require("onnx")
    paths = export_onnx(model, tmp_path, "qonnx")
    ops = {n.op_type for n in onnx.load(str(paths["patch"])).graph.node}
    assert "Quant" in ops


def test_bundle_round_trip_and_integer_weights(model, tmp_path):
    path = write_bundle(model, tmp_path / "b.npz", seed=7, dataset="fashion-mnist", accuracy={"lfsr": {"accuracy": 0.5}})
    bundle = load_bundle(path)
    manifest, arrays = bundle.manifest, bundle.arrays
    assert manifest["ssa"] == {**manifest["ssa"], "n": 16, "dk": 8, "t": 2, "mode": "lfsr", "seed": 7, "gain_log2": 0}
    assert manifest["contract_version"] == CONTRACT_VERSION == 2 and manifest["model"]["ssa_gain_log2"] == 0
    assert manifest["accuracy"] == {"lfsr": {"accuracy": 0.5}} and manifest["model"]["embed_dim"] == 16
    unit = linear_units(model)["layers.0.q.unit"]
    weight = arrays["layers.0.q.unit.weight"]
    assert weight.dtype == np.int8 and np.abs(weight.astype(int)).max() <= 127
    x = (np.random.default_rng(0).random((5, 16)) < 0.5).astype(np.float32)
    sums = x @ weight.T.astype(np.float32)  # exact integer sums
    numpy_out = sums * arrays["layers.0.q.unit.scale"] + arrays["layers.0.q.unit.bias"]
    with torch.no_grad():
        assert np.array_equal(numpy_out, unit(torch.from_numpy(x)).numpy())


@pytest.mark.parametrize("gain", [1, GAIN_LOG2_MAX])
def test_gain_model_exports_a_contract_v2_bundle(model, tmp_path, gain):
    """A model trained with --ssa-gain-log2 exports; the runtime runs its attention with that gain."""
    gained = SpikingViT(replace(model.config, ssa_gain_log2=gain))
    gained.load_state_dict(model.state_dict())
    path = write_bundle(gained, tmp_path / "g.npz", seed=7, dataset="fashion-mnist")
    manifest = load_bundle(path, expect=expected_arrays).manifest
    assert (manifest["contract_version"], manifest["model"]["ssa_gain_log2"], manifest["ssa"]["gain_log2"]) == (2, gain, gain)
    vit = NumpyViT.from_bundle(path)
    assert vit.spec.ssa_gain_log2 == gain and vit.block_config(seed=3).gain_log2 == gain
