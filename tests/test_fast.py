"""The native backend (ssa.backends.fast) agrees bit for bit with the reference emulator, on every
path of the kernel this CPU runs (portable scalar C and AVX2)."""
from pathlib import Path

import numpy as np
import pytest

from ssa import SSAConfig, _native, run
from ssa.backends import fast
from ssa.contract import prng
from ssa.contract.packing import pack_output_stream, unpack_input_stream
from ssa.contract.vectors import read_vector
from ssa.errors import BackendError, ShapeError, SpikeDTypeError, SpikeValueError
import random_blocks

try:
    ISAS = _native.available_isas()
except _native.NativeUnavailable as exc:  # CI builds it: a skip there fails (conftest)
    pytest.skip(f"the native kernel was not built: {exc}", allow_module_level=True)

CASES = 300
VECTORS = sorted((Path(__file__).parent / "vectors").glob("*.txt"))


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


@pytest.mark.parametrize("path", VECTORS, ids=[p.stem for p in VECTORS])
def test_golden_vectors(path):
    vec = read_vector(path)
    c = vec.config
    q, k, v = unpack_input_stream(vec.words_in, vec.blocks, c.t, c.n, c.dk)
    attn = fast.run(q[:, None], k[:, None], v[:, None], c)
    np.testing.assert_array_equal(pack_output_stream(attn[:, 0]), vec.words_out)


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


def test_ideal_mode_is_the_emulators():
    g = np.random.default_rng(7)
    q, k, v = ((g.random((2, 5, 6)) < 0.5).astype(np.uint8) for _ in range(3))
    config = SSAConfig(5, 6, 2, seed=3, mode="ideal")
    np.testing.assert_array_equal(fast.run(q, k, v, config), run(q, k, v, config))


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
        config = SSAConfig(6, 10, 2, seed=11)
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
