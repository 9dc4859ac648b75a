"""Property tests of the Python API: any value for a config, its fields, a backend name or option, spikes,
images or a model's arguments gives a one-line typed error from ssa.errors naming the fix, or the correct result."""
import operator
import re
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import ssa
from ssa.backends import BACKENDS, get_backend
from ssa.errors import ConfigError, ImageError, ShapeError, SpikeDTypeError, SpikeValueError, SSAError

FIX = re.compile(r"use one of|choose|pass|build one with|must|known backends|divide|convert|make them agree|does not take")
FAST = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
ANY = st.one_of(
    st.none(), st.booleans(), st.integers(), st.integers(-3, 40), st.floats(allow_nan=True), st.text(max_size=6),
    st.binary(max_size=4), st.lists(st.integers(0, 3), max_size=3), st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
    st.sampled_from([np.int64(4), np.uint8(3), np.float32(2.0), np.array([3]), np.array([3.5]), np.array(3), np.True_, "lfsr", "ideal", 2**32, -1, 0, 1024, 1025]),
)
SPIKES = np.random.default_rng(0).integers(0, 2, (2, 3, 4)).astype(np.uint8)
GOOD = ssa.SSAConfig(n=3, dk=4, t=2, seed=5)


def expect(errors, fn):
    """fn()'s result, or None after one of `errors` (all SSAError) with a one-line message naming the fix."""
    try:
        return fn()
    except errors as exc:
        assert isinstance(exc, SSAError) and "\n" not in str(exc) and FIX.search(str(exc)), repr(exc)
        return None


@FAST
@given(config=st.one_of(ANY, st.just(GOOD), st.just(ssa.SSAConfig(3, 4, 3)), st.builds(dict, n=st.just(3), dk=st.just(4), t=st.just(2))))
def test_run_config(config):
    got = expect((ConfigError, ShapeError), lambda: ssa.run(SPIKES, SPIKES, SPIKES, config))
    assert (got is not None) == (config is GOOD)
    if got is not None:
        np.testing.assert_array_equal(got, ssa.run(SPIKES, SPIKES, SPIKES, ssa.SSAConfig(3, 4, 2, 5)))


@FAST
@given(field=st.sampled_from(["n", "dk", "t", "seed", "mode"]), value=ANY)
def test_config_fields(field, value):
    fields = {"n": 3, "dk": 4, "t": 2, "seed": 0, "mode": "lfsr", field: value}
    config = expect(ConfigError, lambda: ssa.SSAConfig(**fields))
    if config is not None:  # accepted: exactly the value given, as a plain int or a known mode, inside the contract
        got = getattr(config, field)
        assert got == value and type(got) is (str if field == "mode" else int) and not isinstance(value, (bool, float))
        assert field == "mode" or 0 <= got <= {"n": 256, "dk": 256, "t": 1024, "seed": 2**32 - 1}[field]


@FAST
@given(name=st.one_of(ANY, st.sampled_from(["emulate", "EMULATE", " emulate", "gpu", ""])),
       options=st.dictionaries(st.sampled_from(["threads", "device", "bitstream", "x"]), ANY, max_size=2))
def test_backend_names_and_options(name, options):
    try:
        hash(name)
        known = name in BACKENDS
    except TypeError:
        known = False
    if known and name != "emulate":  # other real backends build compilers or need a board: not generated here
        return
    backend = expect(ConfigError, lambda: get_backend(name, **options))
    assert (backend is not None) == (name == "emulate" and not options)
    if backend is not None:
        np.testing.assert_array_equal(backend.run(SPIKES, SPIKES, SPIKES, GOOD), ssa.run(SPIKES, SPIKES, SPIKES, GOOD))


@FAST
@given(q=st.one_of(ANY, st.sampled_from(["float", "int64", "two", "bool", "shape", "list"])))
def test_spike_arguments(q):
    arrays = {"float": SPIKES.astype(np.float32), "int64": SPIKES.astype(np.int64), "two": SPIKES * 2,
              "bool": SPIKES.astype(bool), "shape": SPIKES[:, :2], "list": SPIKES.tolist()}
    q = arrays.get(q, q) if isinstance(q, str) else q
    got = expect((SpikeDTypeError, SpikeValueError, ShapeError), lambda: ssa.run(q, SPIKES, SPIKES, GOOD))
    assert (got is not None) == (isinstance(q, np.ndarray) and q.dtype == bool)


@pytest.fixture(scope="module")
def model():
    from importlib.resources import files

    from ssa.model import SpikingViT

    return SpikingViT.from_bundle(Path(str(files("ssa").joinpath("data", "ssa_fashion_mnist_t10.npz"))))


IMAGE = np.random.default_rng(1).random((1, 1, 28, 28)).astype(np.float32)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(images=st.one_of(ANY, st.sampled_from(["nan", "255", "27", "ok", "list", "strings", "3d"])),
       first_index=st.one_of(st.just(0), ANY))
def test_model_arguments(model, images, first_index):
    cases = {"nan": IMAGE * np.nan, "255": IMAGE * 255, "27": IMAGE[..., :27, :27], "ok": IMAGE, "list": IMAGE.tolist(),
             "strings": [["a"]], "3d": IMAGE[:, 0]}
    images = cases.get(images, images) if isinstance(images, str) else images
    got = expect((ConfigError, ImageError, ShapeError), lambda: model.encode(images, first_index))
    ok = index_or_none(first_index) is not None and first_index >= 0 and isinstance(images, (np.ndarray, list)) and np.asarray(images).shape[-2:] == (28, 28) \
        and np.isfinite(np.asarray(images, dtype=np.float32)).all() and np.asarray(images).max() <= 1
    assert (got is not None) == ok
    if got is not None:
        np.testing.assert_array_equal(got, model.encode(IMAGE, index_or_none(first_index)))


def index_or_none(value) -> int | None:
    """value as an int if Python would use it as an index (bools excluded), else None."""
    try:
        return None if isinstance(value, (bool, np.bool_)) else operator.index(value)
    except TypeError:
        return None


@pytest.mark.parametrize("backend", [3, object(), "gpu", ["emulate"]])
def test_model_backend_argument(backend):
    from importlib.resources import files

    from ssa.model import SpikingViT

    path = Path(str(files("ssa").joinpath("data", "ssa_fashion_mnist_t10.npz")))
    assert expect(ConfigError, lambda: SpikingViT.from_bundle(path, backend)) is None
