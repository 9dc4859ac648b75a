"""Bundle container: exact round trip and clear errors for corrupt, truncated, foreign or future files."""
import json
import zipfile
from pathlib import Path

import numpy as np
import pytest

from ssa.model.bundle import SCHEMA_VERSION, load_bundle, save_bundle
from ssa.model.schema import ModelSpec, expected_arrays
from ssa.errors import BundleError


@pytest.fixture
def arrays():
    g = np.random.default_rng(0)
    return {"w_int": g.integers(-127, 128, (16, 8)).astype(np.int8), "scale": np.float32([0.01, 0.02]), "lif_tau": np.float32(2.0)}


def test_round_trip_is_exact(tmp_path, arrays):
    p = save_bundle(tmp_path / "m.npz", {"model": {"depth": 6}, "seed": 3}, arrays)
    b = load_bundle(p)
    assert b.manifest["model"] == {"depth": 6} and b.manifest["schema_version"] == SCHEMA_VERSION
    assert set(b.arrays) == set(arrays)
    for name, a in arrays.items():
        assert b[name].dtype == a.dtype
        np.testing.assert_array_equal(b[name], a)
    with pytest.raises(BundleError, match="no array 'nope'"):
        b["nope"]


def test_missing_file(tmp_path):
    with pytest.raises(BundleError, match="no bundle at"):
        load_bundle(tmp_path / "absent.npz")


def test_truncated_file(tmp_path, arrays):
    p = save_bundle(tmp_path / "m.npz", {}, arrays)
    p.write_bytes(p.read_bytes()[: p.stat().st_size // 2])
    with pytest.raises(BundleError, match="truncated"):
        load_bundle(p)


def test_not_an_archive(tmp_path):
    p = tmp_path / "m.npz"
    p.write_text("hello")
    with pytest.raises(BundleError, match="not a readable .npz"):
        load_bundle(p)


def test_foreign_npz_without_manifest(tmp_path):
    p = tmp_path / "foreign.npz"
    np.savez(p, x=np.zeros(3))
    with pytest.raises(BundleError, match="without an SSA manifest"):
        load_bundle(p)


def test_pickled_objects_are_refused(tmp_path):
    p = tmp_path / "evil.npz"
    np.savez(p, __manifest__=np.frombuffer(b"{}", np.uint8), x=np.array([{"a": 1}], dtype=object))
    with pytest.raises(BundleError, match="pickled objects"):
        load_bundle(p)


def rewrite_manifest(path, edit):
    with np.load(path, allow_pickle=False) as npz:
        data = {k: npz[k] for k in npz.files}
    manifest = json.loads(data["__manifest__"].tobytes())
    edit(manifest)
    data["__manifest__"] = np.frombuffer(json.dumps(manifest).encode(), np.uint8)
    np.savez(path, **data)


@pytest.mark.parametrize("edit,match", [
    (lambda m: m.update(schema="other"), "foreign file"),
    (lambda m: m.update(schema_version=SCHEMA_VERSION + 1), "upgrade ssa-fpga"),
    (lambda m: m.update(schema_version=0), "re-export"),
    (lambda m: m["checksums"].update(w_int="0" * 64), "checksum mismatch for array 'w_int'"),
    (lambda m: m["checksums"].pop("scale"), "do not match the manifest"),
])
def test_manifest_problems(tmp_path, arrays, edit, match):
    p = save_bundle(tmp_path / "m.npz", {}, arrays)
    rewrite_manifest(p, edit)
    with pytest.raises(BundleError, match=match):
        load_bundle(p)


def test_corrupt_manifest_json(tmp_path, arrays):
    p = save_bundle(tmp_path / "m.npz", {}, arrays)
    with np.load(p) as npz:
        data = {k: npz[k] for k in npz.files}
    data["__manifest__"] = np.frombuffer(b"{not json", np.uint8)
    np.savez(p, **data)
    with pytest.raises(BundleError, match="not valid JSON"):
        load_bundle(p)


def test_flipped_weight_byte_is_detected(tmp_path, arrays):
    p = save_bundle(tmp_path / "m.npz", {}, arrays)
    with np.load(p) as npz:
        data = {k: npz[k] for k in npz.files}
    data["w_int"] = data["w_int"].copy()
    data["w_int"][0, 0] ^= 1
    np.savez(p, **data)
    with pytest.raises(BundleError, match="checksum mismatch"):
        load_bundle(p)
    assert zipfile.is_zipfile(p)


def test_shipped_bundle_is_contract_v2_with_the_recipe():
    """The packaged demo bundle: contract_version 2, direct input coding, encoder gain 2^2 (docs/results.md);
    contract-1 bundles still load (tests/test_bad_bundles.py, and test_model_numpy.py runs one end to end)."""
    from importlib.resources import files

    bundle = load_bundle(Path(str(files("ssa").joinpath("data", "ssa_fashion_mnist_t10.npz"))), expect=expected_arrays)
    spec = ModelSpec.from_manifest(bundle.manifest)
    assert (spec.contract_version, spec.ssa_gain_log2, spec.input_coding) == (2, 2, "direct")
    assert bundle.manifest["ssa"]["gain_log2"] == 2
