"""Property tests: every bad bundle (manifest field, array, .npy header, zip entry, corrupted or truncated
bytes) gives a one-line BundleError naming the fix, or loads to exactly the model the manifest describes;
loading keeps memory bounded by the declared model size, also for crafted decompression bombs."""
import io
import json
import math
import re
import struct
import tempfile
import zipfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from corruption import KINDS as CORRUPTIONS, corrupt
from memory import peak_bytes

from ssa.errors import BundleError
from ssa.model import SpikingViT
from ssa.model.bundle import MANIFEST_KEY, array_digest, load_bundle, save_bundle
from ssa.model.schema import ModelSpec, expected_arrays

FIX = re.compile(r"ssa export|re-download|upgrade ssa-fpga|pass the path|ssa evaluate")
FAST = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
TINY = {"attention": "ssa", "timesteps": 2, "image_size": 8, "channels": 1, "patch": 4, "embed_dim": 8, "depth": 2,
        "heads": 2, "mlp_ratio": 2, "classes": 3, "tau": 2.0, "v_threshold": 1.0}
IMAGE = np.random.default_rng(5).random((1, 1, 8, 8)).astype(np.float32)


def tiny_manifest() -> dict:
    """A manifest shaped like ssa_quantize.export.write_bundle's, for the TINY model."""
    return {"contract_version": 1, "model": dict(TINY), "seed": 7, "dataset": "mnist", "accuracy": {},
            "ssa": {"n": 4, "dk": 4, "t": 2, "mode": "lfsr", "seed": 7},
            "neuron": {"kind": "lif", "tau": 2.0, "v_threshold": 1.0, "v_reset": 0.0,
                       "spikformer_attention": {"scale": 0.125, "v_threshold": 0.5}}}


def tiny_arrays() -> dict[str, np.ndarray]:
    """Random arrays of exactly the dtypes and shapes the schema names (positive scales and variances)."""
    g = np.random.default_rng(0)
    out = {}
    for name, (dtype, shape) in ModelSpec.from_manifest(tiny_manifest()).arrays().items():
        if dtype == np.int8:
            out[name] = g.integers(-127, 128, shape).astype(np.int8)
        elif name.endswith(("weight_scale", "bn_eps", "bn_var")):
            out[name] = g.uniform(0.01, 0.1, shape).astype(np.float32)
        else:
            out[name] = g.normal(0, 1, shape).astype(np.float32)
    return out


MANIFEST, ARRAYS = tiny_manifest(), tiny_arrays()


def write(tmp: Path, manifest: dict, arrays: dict, name: str = "b.npz") -> Path:
    return save_bundle(tmp / name, manifest, arrays)


def expect_error_or_model(path: Path) -> SpikingViT | None:
    """The model, or None after a BundleError whose message is one line naming the fix; any other exception fails."""
    try:
        model = SpikingViT.from_bundle(path)
    except BundleError as exc:
        message = str(exc)
        assert "\n" not in message and "allow_pickle" not in message, message
        assert FIX.search(message), f"message names no fix: {message}"
        return None
    logits = model.logits(IMAGE)
    assert logits.shape == (1, model.spec.classes) and np.isfinite(logits).all()
    return model


@pytest.fixture(scope="module")
def valid(tmp_path_factory):
    path = write(tmp_path_factory.mktemp("valid"), MANIFEST, ARRAYS)
    return path, SpikingViT.from_bundle(path).logits(IMAGE)


def test_valid_tiny_bundle_loads(valid):
    path, logits = valid
    assert expect_error_or_model(path) is not None and logits.shape == (1, 3)


# ---------------------------------------------------------------- manifest fields
JSON_VALUES = st.one_of(
    st.none(), st.booleans(), st.integers(-2, 20), st.integers(), st.sampled_from([0, -1, 3, 14, 16, 10**6, 10**18, 2**32]),
    st.floats(allow_nan=True, allow_infinity=True), st.sampled_from([0.0, -2.0, 1e30, 1e-9, 0.5, 3.0]),
    st.text(max_size=5), st.sampled_from(["ssa", "spikformer", "ann", "lfsr", "ideal"]),
    st.lists(st.integers(0, 3), max_size=3), st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
)
FIELDS = ([("model", key) for key in (*TINY, "ssa_gain_log2")] + [("ssa", key) for key in ("n", "dk", "t", "mode", "seed", "gain_log2")]
          + [("neuron", "tau"), ("neuron", "v_threshold"), ("neuron", "spikformer_attention", "scale"),
             ("neuron", "spikformer_attention", "v_threshold"), ("seed",), ("contract_version",), ("schema_version",),
             ("schema",), ("checksums",), ("model",), ("ssa",), ("neuron",), ("dataset",)])


def edit(manifest: dict, path: tuple, value) -> dict:
    out = json.loads(json.dumps(manifest))
    node = out
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    return out


def write_raw_manifest(path: Path, manifest_bytes: bytes, arrays: dict) -> Path:
    np.savez_compressed(path, **{MANIFEST_KEY: np.frombuffer(manifest_bytes, np.uint8)}, **arrays)
    return path


@FAST
@given(field=st.sampled_from(FIELDS), value=JSON_VALUES)
def test_manifest_field_values(field, value):
    manifest = edit(MANIFEST, field, value)
    with tempfile.TemporaryDirectory() as tmp:
        path = write(Path(tmp), manifest, ARRAYS)
        if field in (("schema_version",), ("schema",), ("checksums",)):  # save_bundle writes these: edit the file
            full = edit(_stored(path), field, value)
            path = write_raw_manifest(Path(tmp) / "raw.npz", json.dumps(full).encode(), ARRAYS)
        model = expect_error_or_model(path)
    if model is not None:  # accepted: the runtime uses exactly the manifest's (valid) values
        spec = ModelSpec.from_manifest(manifest)
        for key in TINY:
            assert getattr(model.spec, key) == manifest["model"][key]
        assert model.spec == spec and model.seed == manifest.get("seed", 0)
        assert 1 <= spec.tau and math.isfinite(spec.v_threshold) and spec.timesteps <= 1024


def _stored(path: Path) -> dict:
    with np.load(path, allow_pickle=False) as npz:
        return json.loads(npz[MANIFEST_KEY].tobytes())


@FAST
@given(text=st.one_of(st.binary(max_size=40), st.text(max_size=40).map(str.encode),
                      st.integers(1, 5000).map(lambda d: b"[" * d + b"]" * d),
                      st.sampled_from([b"[]", b"null", b"{}", b'{"schema": "ssa-bundle", "schema_version": 1, "checksums": []}',
                                       b'{"schema": "ssa-bundle", "schema_version": 1, "checksums": null}',
                                       b'{"schema": "ssa-bundle", "schema_version": 1e400}', b"9" * 5000])))
def test_manifest_bytes(text):
    with tempfile.TemporaryDirectory() as tmp:
        assert expect_error_or_model(write_raw_manifest(Path(tmp) / "m.npz", text, ARRAYS)) is None


# ---------------------------------------------------------------- arrays (checksums recomputed)
@FAST
@given(name=st.sampled_from(sorted(ARRAYS)),
       change=st.sampled_from(["int64", "float64", "float16", "int8", "bool", "big-endian", "drop", "extra", "shape+1",
                               "shape-1", "transpose", "scalar", "nan", "inf", "zero", "negative"]))
def test_array_changes(name, change):
    arrays = dict(ARRAYS)
    a = arrays[name]
    changed = {
        "int64": lambda: a.astype(np.int64), "float64": lambda: a.astype(np.float64), "float16": lambda: a.astype(np.float16),
        "int8": lambda: a.astype(np.int8), "bool": lambda: a != 0, "big-endian": lambda: a.astype(a.dtype.newbyteorder(">")),
        "shape+1": lambda: np.resize(a, (a.shape[0] + 1,) + a.shape[1:]), "shape-1": lambda: a[:-1],
        "transpose": lambda: a.T if a.ndim == 2 and a.shape[0] != a.shape[1] else a[None],
        "scalar": lambda: a.reshape(-1)[0], "nan": lambda: np.where(np.arange(a.size).reshape(a.shape) == 0, np.nan, a).astype(a.dtype) if a.dtype.kind == "f" else a.astype(np.float32) * np.nan,
        "inf": lambda: np.full_like(a, np.inf, dtype=np.float32), "zero": lambda: np.zeros_like(a), "negative": lambda: -np.abs(a) - 1,
    }
    if change == "drop":
        del arrays[name]
    elif change == "extra":
        arrays["layers.9.q.unit.weight"] = a
    else:
        arrays[name] = changed[change]()
    with tempfile.TemporaryDirectory() as tmp:
        model = expect_error_or_model(write(Path(tmp), MANIFEST, arrays))
    no_change = a.dtype == np.int8 and change in ("int8", "big-endian")
    allowed = (no_change or (change == "zero" and not name.endswith(("weight_scale", "bn_eps")))
               or (change == "negative" and not name.endswith(("weight_scale", "bn_eps", "bn_var"))))
    assert (model is not None) == allowed, (name, change)


# ---------------------------------------------------------------- .npy headers and zip entries, crafted by hand
def npy_bytes(header: str, payload: bytes = b"", version: tuple[int, int] = (1, 0), pad: int = 0) -> bytes:
    text = (header + " " * pad + "\n").encode()
    length = struct.pack("<H", len(text)) if version[0] == 1 else struct.pack("<I", len(text))
    return b"\x93NUMPY" + bytes(version) + length + text + payload


def zip_bytes(entries: list[tuple[str, bytes]], method: int = zipfile.ZIP_DEFLATED) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", method) as zf:
        for name, data in entries:
            zf.writestr(name, data)
    return buf.getvalue()


def manifest_entry(checksums: dict) -> tuple[str, bytes]:
    blob = json.dumps({"schema": "ssa-bundle", "schema_version": 1, "checksums": checksums, **MANIFEST}).encode()
    return f"{MANIFEST_KEY}.npy", npy_bytes(f"{{'descr': '|u1', 'fortran_order': False, 'shape': ({len(blob)},), }}", blob)


def valid_entries() -> list[tuple[str, bytes]]:
    entries = [manifest_entry({name: array_digest(a) for name, a in ARRAYS.items()})]
    for name, a in ARRAYS.items():
        buf = io.BytesIO()
        np.save(buf, a)
        entries.append((f"{name}.npy", buf.getvalue()))
    return entries


HEADERS = st.one_of(
    st.sampled_from([
        "{'descr': '<f4', 'fortran_order': False, 'shape': (10000000000000,), }",  # 4e13 bytes declared
        "{'descr': '<f4', 'fortran_order': False, 'shape': (-5,), }",
        "{'descr': '|O', 'fortran_order': False, 'shape': (1,), }",
        "{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (8,), }",
        "{'descr': '<U4', 'fortran_order': False, 'shape': (8,), }",
        "{'descr': '<f4', 'fortran_order': True, 'shape': (8,), }",
        "{'descr': '<f4', 'shape': (8,), }", "not a dict", "{'descr': '<f4', 'fortran_order': False, 'shape': 'x', }",
        "{'descr': '<f4', 'fortran_order': False, 'shape': (" + "(" * 300 + ")" * 300 + "), }",
    ]),
    st.text(max_size=60),
)


@FAST
@given(target=st.sampled_from(["patch.scale", "head.bias", "layers.1.mlp2.unit.weight"]), header=HEADERS,
       version=st.sampled_from([(1, 0), (2, 0), (3, 0), (9, 9)]), pad=st.sampled_from([0, 10, 5000, 70000 - 200]),
       payload=st.binary(max_size=64), raw=st.booleans())
def test_crafted_npy_headers(target, header, version, pad, payload, raw):
    entries = [(name, (payload if raw else npy_bytes(header, payload, version, pad if version[0] != 1 else min(pad, 60000))))
               if name == f"{target}.npy" else (name, data) for name, data in valid_entries()]
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "c.npz"
        path.write_bytes(zip_bytes(entries))
        assert expect_error_or_model(path) is None


@pytest.mark.filterwarnings("ignore:Duplicate name")
@FAST
@given(change=st.sampled_from(["duplicate", "directory", "not-npy", "stored", "bzip2", "lzma", "empty", "no-manifest",
                               "checksums-list", "checksums-null", "checksums-int", "manifest-float"]))
def test_crafted_zip_entries(change):
    entries = valid_entries()
    method = zipfile.ZIP_DEFLATED
    if change == "duplicate":
        entries.append(entries[3])
    elif change == "directory":
        entries.append(("dir/", b""))
    elif change == "not-npy":
        entries.append(("notes.txt", b"hello"))
    elif change in ("stored", "bzip2", "lzma"):
        method = {"stored": zipfile.ZIP_STORED, "bzip2": zipfile.ZIP_BZIP2, "lzma": zipfile.ZIP_LZMA}[change]
    elif change == "empty":
        entries = []
    elif change == "no-manifest":
        entries = entries[1:]
    elif change.startswith("checksums"):
        value = {"checksums-list": [], "checksums-null": None, "checksums-int": 3}[change]
        blob = json.dumps({"schema": "ssa-bundle", "schema_version": 1, **MANIFEST, "checksums": value}).encode()
        entries[0] = (entries[0][0], npy_bytes(f"{{'descr': '|u1', 'fortran_order': False, 'shape': ({len(blob)},), }}", blob))
    elif change == "manifest-float":
        entries[0] = (entries[0][0], npy_bytes("{'descr': '<f8', 'fortran_order': False, 'shape': (4,), }", bytes(32)))
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "z.npz"
        path.write_bytes(zip_bytes(entries, method))
        model = expect_error_or_model(path)
    assert (model is not None) == (change == "stored")  # an uncompressed archive is still a valid bundle


# ---------------------------------------------------------------- corrupted and truncated bytes
@settings(max_examples=120, deadline=None)
@given(data=st.data())
def test_corrupted_bytes(valid, data):
    path, logits = valid
    blob = corrupt(path.read_bytes(), data, data.draw(st.sampled_from(CORRUPTIONS)))
    with tempfile.TemporaryDirectory() as tmp:
        bad = Path(tmp) / "x.npz"
        bad.write_bytes(bytes(blob))
        model = expect_error_or_model(bad)
    if model is not None:  # a change the archive format ignores (e.g. bytes after the end): the same model
        np.testing.assert_array_equal(model.logits(IMAGE), logits)


@pytest.mark.parametrize("make,match", [
    (lambda blob: b"#!junk\n" + blob, "bytes before the archive"),
    (lambda blob: zip_bytes([(n, npy_bytes("{'descr': '<f4', 'fortran_order': False, 'shape': (8,), }", bytes(32), pad=5000))
                             if n == "patch.scale.npy" else (n, d) for n, d in valid_entries()]), "more than the 4096"),
    (lambda blob: zip_bytes([(n, b"raw bytes, not an array") if n == "head.bias.npy" else (n, d) for n, d in valid_entries()]),
     "'head.bias' is not a .npy array"),
])
def test_issue_examples_name_the_problem(valid, tmp_path, make, match):
    path = tmp_path / "bad.npz"
    path.write_bytes(make(valid[0].read_bytes()))
    with pytest.raises(BundleError, match=match) as info:
        SpikingViT.from_bundle(path)
    assert "pickle" not in str(info.value)


# ---------------------------------------------------------------- contract versions and the encoder gain (v2)
ABSENT = object()


def versioned(version=2, gain=ABSENT, attention="ssa", ssa_gain=ABSENT) -> dict:
    """MANIFEST with `contract_version`, `model.ssa_gain_log2`, `model.attention` and `ssa.gain_log2` (ABSENT: no key)."""
    manifest = edit(MANIFEST, ("model", "attention"), attention)
    for path, value in ((("contract_version",), version), (("model", "ssa_gain_log2"), gain), (("ssa", "gain_log2"), ssa_gain)):
        manifest = edit(manifest, path, value)
        if value is ABSENT:
            node = manifest if len(path) == 1 else manifest[path[0]]
            del node[path[-1]]
    return manifest


@pytest.mark.parametrize("fields,version,gain", [
    (dict(version=ABSENT), 1, 0), (dict(version=1), 1, 0), (dict(version=1, gain=0, ssa_gain=0), 1, 0),
    (dict(version=2), 2, 0), (dict(gain=0), 2, 0), (dict(gain=1, ssa_gain=1), 2, 1), (dict(gain=4), 2, 4),
    (dict(gain=0, attention="spikformer"), 2, 0),
])
def test_v1_and_v2_bundles_load_with_their_gain(tmp_path, fields, version, gain):
    model = expect_error_or_model(write(tmp_path, versioned(**fields), ARRAYS))
    assert model is not None
    assert (model.spec.contract_version, model.spec.ssa_gain_log2, model.block_config(0).gain_log2) == (version, gain, gain)


@pytest.mark.parametrize("fields,match", [
    (dict(gain=5), r"model.ssa_gain_log2=5 is outside 0..4"),
    (dict(gain=-1), r"model.ssa_gain_log2=-1 is outside 0..4"),
    (dict(gain=1.0), r"model.ssa_gain_log2 must be an integer, got 1.0"),
    (dict(gain="1"), r"model.ssa_gain_log2 must be an integer, got '1'"),
    (dict(gain=True), r"model.ssa_gain_log2 must be an integer, got True"),
    (dict(gain=None), r"model.ssa_gain_log2 must be an integer, got None"),
    (dict(gain=1, attention="spikformer"), r"ssa_gain_log2=1 is the SSA encoders' gain, but model.attention is 'spikformer'"),
    (dict(version=1, gain=1), r"ssa_gain_log2=1 needs contract_version 2 \(v1 has no encoder gain\)"),
    (dict(version=ABSENT, gain=2), r"ssa_gain_log2=2 needs contract_version 2"),
    (dict(gain=1, ssa_gain=0), r"ssa.gain_log2=0 disagrees with the model \(it implies 1\)"),
    (dict(version=3), r"contract_version=3, this runtime implements versions 1, 2"),
    (dict(version=0), r"contract_version=0"), (dict(version=2.0), r"contract_version=2.0"), (dict(version="2"), r"contract_version='2'"),
])
def test_bad_gains_and_contract_versions_name_the_fix(tmp_path, fields, match):
    path = write(tmp_path, versioned(**fields), ARRAYS)
    with pytest.raises(BundleError, match=match):
        SpikingViT.from_bundle(path)
    assert expect_error_or_model(path) is None  # one line, naming the fix


# ---------------------------------------------------------------- memory
def bomb_zip(path: Path, header: str, payload_zeros: int) -> Path:
    """A bundle whose one array member is a .npy header followed by `payload_zeros` zero bytes, deflated."""
    entries = valid_entries()
    head = npy_bytes(header)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in entries:
            if name == "pos_embedding.npy":
                info = zipfile.ZipInfo(name)
                info.compress_type = zipfile.ZIP_DEFLATED
                with zf.open(info, "w", force_zip64=True) as f:
                    f.write(head)
                    zeros = bytes(1 << 20)
                    for _ in range(payload_zeros >> 20):
                        f.write(zeros)
            else:
                zf.writestr(name, data)
    path.write_bytes(buf.getvalue())
    return path


MEMORY: dict[str, int] = {}


def test_memory_of_a_valid_load_is_a_small_multiple_of_the_model(valid):
    path, _ = valid
    declared = sum(a.nbytes for a in ARRAYS.values())
    peak, bundle = peak_bytes(lambda: load_bundle(path, expect=expected_arrays))
    MEMORY["valid tiny bundle"] = peak
    assert not isinstance(bundle, Exception) and peak <= 4 * declared + (1 << 20), (peak, declared)


@pytest.mark.parametrize("expect", [expected_arrays, None])
@pytest.mark.parametrize("header,zeros", [
    ("{'descr': '<f4', 'fortran_order': False, 'shape': (10000000000000,), }", 64 << 20),  # claims 4e13 bytes
    ("{'descr': '<f4', 'fortran_order': False, 'shape': (4, 8), }", 64 << 20),  # right header, 64 MiB after it
])
def test_crafted_bombs_are_refused_before_decompressing(tmp_path, expect, header, zeros):
    path = bomb_zip(tmp_path / "bomb.npz", header, zeros)
    assert path.stat().st_size < 1 << 20  # a small file that expands to 64 MiB
    peak, result = peak_bytes(lambda: load_bundle(path, expect=expect))
    MEMORY[f"bomb {header[31:60]} expect={expect is not None}"] = peak
    assert isinstance(result, BundleError) and FIX.search(str(result)), result
    assert peak < 2 << 20, peak  # nothing near the 64 MiB payload, let alone 4e13 bytes


def test_shipped_bundle_memory():
    from importlib.resources import files

    path = Path(str(files("ssa").joinpath("data", "ssa_fashion_mnist_t10.npz")))
    with zipfile.ZipFile(path) as zf:
        declared = sum(i.file_size for i in zf.infolist())
    peak, bundle = peak_bytes(lambda: load_bundle(path, expect=expected_arrays))
    MEMORY["shipped bundle (declared %d bytes)" % declared] = peak
    print("peak memory of the loaders (bytes):", MEMORY)
    assert not isinstance(bundle, Exception) and peak <= 3 * declared, (peak, declared)


# ---------------------------------------------------------------- SpikedAttention bundles (ssa.model.spiked)
def spiked_manifest() -> dict:
    """A manifest shaped like ssa_quantize.spiked.write_spiked_bundle's, for the TINY geometry."""
    from ssa.model.spiked import theta_names

    theta = {name: 1.0 + 0.1 * i for i, name in enumerate(theta_names(TINY["depth"]))}
    return {"contract_version": 1, "model": dict(TINY, attention="spikedattention", timesteps=6), "dataset": "mnist",
            "accuracy": {}, "spiked": {"base": 1.5, "timesteps": 6, "theta": theta, "source": "ann", "percentile": 99.9,
                                       "calibration_images": 4}}


SPIKED_MANIFEST = spiked_manifest()
SPIKED_ARRAYS = {k: v for k, v in ARRAYS.items() if not k.rsplit(".", 1)[-1].startswith("bn_")}
SPIKED_FIELDS = ([("model", key) for key in TINY] + [("spiked", key) for key in ("base", "timesteps", "theta")]
                 + [("spiked", "theta", "patch"), ("spiked", "theta", "layers.1.res2"), ("spiked", "theta", "layers.7.q"),
                    ("spiked",), ("model",)])


def expect_spiked_error_or_model(path: Path):
    """The SpikedAttention model, or None after a one-line BundleError naming the fix; any other exception fails."""
    from ssa.model.spiked import SpikedViT

    try:
        model = SpikedViT.from_bundle(path)
    except BundleError as exc:
        message = str(exc)
        assert "\n" not in message and re.search(r"ssa spiked|SpikingViT", message), message
        return None
    logits = model.logits(IMAGE)
    assert logits.shape == (1, TINY["classes"]) and np.isfinite(logits).all()
    return model


def test_valid_spiked_bundle_loads(tmp_path):
    model = expect_spiked_error_or_model(write(tmp_path, SPIKED_MANIFEST, SPIKED_ARRAYS))
    assert model is not None and (model.p.base, model.p.timesteps) == (1.5, 6)
    assert model.p.theta == SPIKED_MANIFEST["spiked"]["theta"]


@FAST
@given(field=st.sampled_from(SPIKED_FIELDS), value=JSON_VALUES)
def test_spiked_manifest_field_values(field, value):
    manifest = edit(SPIKED_MANIFEST, field, value)
    with tempfile.TemporaryDirectory() as tmp:
        model = expect_spiked_error_or_model(write(Path(tmp), manifest, SPIKED_ARRAYS))
    if model is not None:  # accepted: exactly the manifest's (valid) values
        spk = manifest["spiked"]
        assert (model.p.base, model.p.timesteps, model.p.theta) == (spk["base"], spk["timesteps"], spk["theta"])
        assert 1 < model.p.base <= 2 and all(math.isfinite(t) and t > 0 for t in model.p.theta.values())
        assert (model.p.patch, model.p.heads, model.p.depth) == tuple(manifest["model"][k] for k in ("patch", "heads", "depth"))


@FAST
@given(name=st.sampled_from(sorted(SPIKED_ARRAYS)),
       change=st.sampled_from(["float64", "int8", "drop", "extra", "shape+1", "scalar", "nan", "negative"]))
def test_spiked_array_changes(name, change):
    arrays, a = dict(SPIKED_ARRAYS), SPIKED_ARRAYS[name]
    if change == "drop":
        del arrays[name]
    elif change == "extra":
        arrays["layers.0.q.unit.bn_var"] = a
    else:
        arrays[name] = {"float64": lambda: a.astype(np.float64), "int8": lambda: a.astype(np.int8),
                        "shape+1": lambda: np.resize(a, (a.shape[0] + 1,) + a.shape[1:]), "scalar": lambda: a.reshape(-1)[0],
                        "nan": lambda: np.full_like(a, np.nan, dtype=np.float32), "negative": lambda: -np.abs(a) - 1}[change]()
    with tempfile.TemporaryDirectory() as tmp:
        model = expect_spiked_error_or_model(write(Path(tmp), SPIKED_MANIFEST, arrays))
    allowed = (a.dtype == np.int8 and change == "int8") or (change == "negative" and not name.endswith("weight_scale"))
    assert (model is not None) == allowed, (name, change)
