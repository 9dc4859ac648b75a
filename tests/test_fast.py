"""The native backend (ssa.backends.fast) agrees bit for bit with the reference emulator, on every
path of the kernel this CPU runs (portable scalar C and AVX2), at every encoder gain (contract v2)."""
from dataclasses import replace

import numpy as np
import pytest

from ssa import SSAConfig, _native, run
from ssa.backends import fast
from ssa.contract import prng
from ssa.contract.config import CONTRACT_VERSION, GAIN_LOG2_MAX
from ssa.contract.vectors import read_vector
from ssa.errors import BackendError, ShapeError, SpikeDTypeError, SpikeValueError
import random_blocks
from golden import IDS, VECTORS, assert_reproduces, golden_blocks

try:
    ISAS = _native.available_isas()
except _native.NativeUnavailable as exc:  # CI builds it: a skip there fails (conftest)
    pytest.skip(f"the native kernel was not built: {exc}", allow_module_level=True)

CASES = 300
GAIN_CASES = 80


@pytest.fixture(params=ISAS, autouse=True)
def isa(request, monkeypatch):
    """Every test runs on each kernel path this CPU has."""
    monkeypatch.setenv("SSA_NATIVE_ISA", request.param)
    return request.param


def random_case(index: int):
    return random_blocks.random_case(index, 1000, [1, 2, 7, 31, 63, 64, 65, 100, 130], [1, 8, 9, 63, 64, 65, 127, 128, 200])


@pytest.mark.parametrize("index", range(CASES))
def test_random_configurations_match_the_emulator(index):
    config, q, k, v = random_case(index)
    got = fast.run(q, k, v, config)
    assert got.dtype == np.uint8 and got.shape == q.shape
    np.testing.assert_array_equal(got, run(q, k, v, config))


@pytest.mark.parametrize("index", range(CASES, CASES + GAIN_CASES))
def test_random_configurations_with_gain_match_the_emulator(index):
    config, q, k, v = random_case(index)
    config = replace(config, gain_log2=1 + index % GAIN_LOG2_MAX)
    np.testing.assert_array_equal(fast.run(q, k, v, config), run(q, k, v, config))


@pytest.mark.parametrize("gain", range(GAIN_LOG2_MAX + 1))
@pytest.mark.parametrize("n, dk", [(7, 13), (64, 64), (100, 70), (256, 256)])
def test_every_gain_on_every_kernel_instance(n, dk, gain):
    """Batched [T, B, H, N, D] blocks on both eq.-6 instances (N <= 64 in one word, N > 64 in several)."""
    g = np.random.default_rng(n * dk + gain)
    q, k, v = ((g.random((2, 2, 3, n, dk)) < density).astype(np.uint8) for density in (0.15, 0.2, 0.3))
    config = SSAConfig(n, dk, 2, seed=2**32 - 3, gain_log2=gain)
    got = fast.run(q, k, v, config)
    np.testing.assert_array_equal(got, run(q, k, v, config))
    assert 0 < got.mean() < 1  # neither encoder trivially silent nor saturated everywhere


@pytest.mark.parametrize("path", VECTORS, ids=IDS)
def test_golden_vectors(path):
    vec, q, k, v = golden_blocks(path)
    assert_reproduces(vec, fast.run(q, k, v, vec.config))


def test_golden_vectors_include_every_gain():
    assert {read_vector(path).config.gain_log2 for path in VECTORS} == set(range(GAIN_LOG2_MAX + 1))


@pytest.mark.parametrize("path", VECTORS, ids=IDS)
def test_golden_vectors_on_the_numpy_fallback(path):
    vec, q, k, v = golden_blocks(path)
    assert_reproduces(vec, fast._run(None, q, k, v, vec.config, None))


@pytest.mark.parametrize("threads", [1, 2, None])
def test_thread_counts_give_the_same_spikes(threads):
    g = np.random.default_rng(5)
    q, k, v = ((g.random((3, 4, 3, 20, 24)) < 0.4).astype(np.uint8) for _ in range(3))
    config = SSAConfig(20, 24, 3, seed=2**32 - 5)
    np.testing.assert_array_equal(fast.FastBackend(threads=threads).run(q, k, v, config), run(q, k, v, config))


def test_seeding_mirrors_ssa_prng(isa):
    kernel = _native.kernel()
    assert kernel.isa == isa
    streams = np.arange(600, dtype=np.uint32)
    for seed in (0, 1, 2**31, 2**32 - 1):
        got = [kernel.initial_state(seed, int(g)) for g in streams]
        np.testing.assert_array_equal(np.array(got, dtype=np.uint64), prng.initial_states(np.uint32(seed), streams))
    states = prng.initial_states(np.uint32(9), streams)
    stepped = [kernel.xorshift32(int(x)) for x in states]
    np.testing.assert_array_equal(np.array(stepped, dtype=np.uint64), prng.xorshift32(states))


def test_bool_and_non_contiguous_inputs():
    g = np.random.default_rng(6)
    q, k, v = ((g.random((2, 9, 13)) < 0.5) for _ in range(3))
    config = SSAConfig(9, 13, 2, seed=4)
    np.testing.assert_array_equal(fast.run(q, k, v, config), run(q, k, v, config))
    qt, kt, vt = (np.asfortranarray(x.astype(np.uint8)) for x in (q, k, v))
    np.testing.assert_array_equal(fast.run(qt, kt, vt, config), run(q, k, v, config))


@pytest.mark.parametrize("gain", [0, 2, GAIN_LOG2_MAX])
def test_ideal_mode_is_the_emulators(gain):
    g = np.random.default_rng(7)
    q, k, v = ((g.random((2, 2, 3, 5, 6)) < 0.3).astype(np.uint8) for _ in range(3))
    config = SSAConfig(5, 6, 2, seed=3, mode="ideal", gain_log2=gain)
    np.testing.assert_array_equal(fast.run(q, k, v, config), run(q, k, v, config))


def test_library_implements_this_contract_and_refuses_other_gains(isa):
    kernel = _native.kernel()
    assert kernel.lib.ssa_contract_version() == CONTRACT_VERSION
    x = np.zeros((1, 4, 8), np.uint8)
    out = np.empty_like(x)
    for gain, rc in ((0, 0), (GAIN_LOG2_MAX, 0), (GAIN_LOG2_MAX + 1, -1), (-1, -1)):
        assert kernel.lib.ssa_run(x.ctypes.data, x.ctypes.data, x.ctypes.data, out.ctypes.data, 1, 1, 4, 8, 0, gain, 0, 1, kernel.code) == rc


def test_library_of_another_contract_version_is_refused(monkeypatch):
    monkeypatch.setattr(_native, "CONTRACT_VERSION", CONTRACT_VERSION + 1)
    _native._load.cache_clear()
    try:
        with pytest.raises(_native.NativeUnavailable, match=f"implements contract {CONTRACT_VERSION}, this package {CONTRACT_VERSION + 1}.*reinstall"):
            _native.kernel()
    finally:
        _native._load.cache_clear()


@pytest.mark.parametrize("contiguous", [True, False])
def test_non_binary_spike_raises_the_shared_error(contiguous):
    q = np.zeros((2, 4, 16), np.uint8)
    q[1, 2, 9] = 2
    if not contiguous:
        q = np.asfortranarray(q)
    with pytest.raises(SpikeValueError, match="other than 0 and 1"):
        fast.run(q, np.zeros_like(q), np.zeros_like(q), SSAConfig(4, 16, 2))


def test_shape_and_dtype_errors_are_the_shared_ones():
    z = np.zeros((2, 4, 8), np.uint8)
    with pytest.raises(ShapeError, match="config says"):
        fast.run(z, z, z, SSAConfig(5, 8, 2))
    with pytest.raises(ShapeError, match="same shape"):
        fast.run(z, z[:, :3], z, SSAConfig(4, 8, 2))
    with pytest.raises(SpikeDTypeError, match="dtype float32"):
        fast.run(z.astype(np.float32), z, z, SSAConfig(4, 8, 2))
    with pytest.raises(SpikeDTypeError, match="numpy array"):
        fast.run(z.tolist(), z, z, SSAConfig(4, 8, 2))


def test_missing_native_kernel_falls_back_to_the_emulator_with_a_notice(monkeypatch):
    monkeypatch.setattr(_native, "library_path", lambda: None)
    _native._load.cache_clear()
    fast._notify_fallback.cache_clear()
    try:
        with pytest.warns(fast.NativeFallbackWarning, match="not built when ssa-fpga was installed.*running the numpy emulator") as notices:
            backend = fast.FastBackend()
        assert not backend.native and len(notices) == 1 and "\n" not in str(notices[0].message)
        g = np.random.default_rng(8)
        q, k, v = ((g.random((2, 2, 3, 6, 10)) < 0.5).astype(np.uint8) for _ in range(3))
        for gain in (0, 2):
            config = SSAConfig(6, 10, 2, seed=11, gain_log2=gain)
            np.testing.assert_array_equal(backend.run(q, k, v, config), run(q, k, v, config))
    finally:
        _native._load.cache_clear()
        fast._notify_fallback.cache_clear()


def test_unavailable_path_is_a_clear_error(monkeypatch):
    monkeypatch.setenv("SSA_NATIVE_ISA", "avx9")
    with pytest.raises(BackendError, match="'avx9' does not run on this CPU"):
        _native.kernel()


@pytest.mark.parametrize("threads", [0, 10_000])
def test_thread_count_must_be_available(threads):
    with pytest.raises(BackendError, match=f"threads={threads} is outside"):
        fast.FastBackend(threads=threads)


def test_batched_calls_work_in_a_forked_child_after_the_parent_used_the_threads():
    import multiprocessing

    g = np.random.default_rng(9)
    q, k, v = ((g.random((2, 4, 2, 6, 8)) < 0.5).astype(np.uint8) for _ in range(3))
    config = SSAConfig(6, 8, 2, seed=3)
    want = fast.FastBackend(threads=2).run(q, k, v, config)  # starts the parent's worker threads
    with multiprocessing.get_context("fork").Pool(1) as children:
        got = children.apply_async(fast.run, (q, k, v, config, 2)).get(timeout=60)
    np.testing.assert_array_equal(got, want)
