"""The numba backend (ssa.backends.fast) agrees bit for bit with the reference emulator."""
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("numba", reason="the fast backend needs numba (pip install ssa-fpga[fast])")

from ssa import SSAConfig, run  # noqa: E402
from ssa.contract import prng  # noqa: E402
from ssa.backends import fast  # noqa: E402
from ssa.errors import BackendError, ShapeError, SpikeDTypeError, SpikeValueError  # noqa: E402
from ssa.contract.packing import pack_output_stream, unpack_input_stream  # noqa: E402
from ssa.contract.vectors import read_vector  # noqa: E402
import random_blocks  # noqa: E402

CASES = 300
VECTORS = sorted((Path(__file__).parent / "vectors").glob("*.txt"))


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


def test_seeding_mirrors_ssa_prng():
    streams = np.arange(600, dtype=np.uint32)
    for seed in (0, 1, 2**31, 2**32 - 1):
        mixed = fast._fmix32(np.uint64(seed))
        got = [fast._state0(mixed, np.uint64(g)) for g in streams]
        np.testing.assert_array_equal(np.array(got, dtype=np.uint64), prng.initial_states(np.uint32(seed), streams))
    states = prng.initial_states(np.uint32(9), streams)
    stepped = [fast._xorshift32(np.uint64(x)) for x in states]
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


def test_missing_numba_names_the_extra(monkeypatch):
    monkeypatch.setattr(fast, "numba", None)
    monkeypatch.setattr(fast, "_NUMBA_MISSING", "No module named 'numba'", raising=False)
    with pytest.raises(BackendError, match=r"pip install ssa-fpga\[fast\]"):
        fast.FastBackend()


@pytest.mark.parametrize("threads", [0, 10_000])
def test_thread_count_must_be_available(threads):
    with pytest.raises(BackendError, match=f"threads={threads} is outside"):
        fast.FastBackend(threads=threads)
