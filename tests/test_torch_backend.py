"""The torch backend (ssa.backends.torch_backend) agrees bit for bit with the reference emulator, at
every encoder gain (contract v2)."""
from dataclasses import replace

import numpy as np
import pytest

from extras import require

torch = require("torch")  # the torch backend needs PyTorch

from ssa import SSAConfig, run  # noqa: E402
from ssa.contract import prng  # noqa: E402
from ssa.contract.config import GAIN_LOG2_MAX  # noqa: E402
from ssa.backends import torch_backend as tb  # noqa: E402
from ssa.errors import BackendError, ConfigError, ShapeError, SpikeDTypeError, SpikeValueError  # noqa: E402
import random_blocks  # noqa: E402
from golden import IDS, VECTORS, assert_reproduces, golden_blocks  # noqa: E402

CASES = 300
GAIN_CASES = 60
CUDA = pytest.mark.skipif(not torch.cuda.is_available(), reason="torch.cuda.is_available() is False on this machine")


def random_case(index: int):
    """Random case `index`; those from CASES on have gains 1 .. GAIN_LOG2_MAX in turn."""
    config, q, k, v = random_blocks.random_case(index, 2000, [1, 2, 7, 33, 64, 65, 129, 256], [1, 8, 9, 64, 65, 128, 256])
    return (replace(config, gain_log2=1 + index % GAIN_LOG2_MAX) if index >= CASES else config), q, k, v


@pytest.mark.parametrize("index", range(CASES + GAIN_CASES))
def test_random_configurations_match_the_emulator_on_cpu(index):
    config, q, k, v = random_case(index)
    got = tb.TorchBackend("cpu").run(q, k, v, config)
    assert got.dtype == np.uint8 and got.shape == q.shape
    np.testing.assert_array_equal(got, run(q, k, v, config))


@CUDA
@pytest.mark.parametrize("index", range(0, CASES + GAIN_CASES, 3))
def test_random_configurations_match_the_emulator_on_cuda(index):
    config, q, k, v = random_case(index)
    np.testing.assert_array_equal(tb.TorchBackend("cuda").run(q, k, v, config), run(q, k, v, config))


@CUDA
@pytest.mark.parametrize("index", [0, 4, 10, CASES + 1, CASES + 2])
def test_compiled_kernels_match_the_emulator_on_cuda(index):
    config, q, k, v = random_case(index)
    np.testing.assert_array_equal(tb.TorchBackend("cuda", compiled=True).run(q, k, v, config), run(q, k, v, config))


@pytest.mark.parametrize("device", ["cpu", pytest.param("cuda", marks=CUDA)])
@pytest.mark.parametrize("path", VECTORS, ids=IDS)
def test_golden_vectors(path, device):
    vec, q, k, v = golden_blocks(path)
    assert_reproduces(vec, tb.TorchBackend(device).run(q, k, v, vec.config))


@pytest.mark.parametrize("device", ["cpu", pytest.param("cuda", marks=CUDA)])
def test_run_torch_takes_and_returns_tensors(device):
    config, q, k, v = random_case(7)
    qt, kt, vt = (torch.from_numpy(x).to(device) for x in (q, k, v))
    got = tb.run_torch(qt.bool(), kt, vt, config)
    assert isinstance(got, torch.Tensor) and got.dtype == torch.uint8 and got.device.type == device
    assert tuple(got.shape) == q.shape
    np.testing.assert_array_equal(got.cpu().numpy(), run(q, k, v, config))


@pytest.mark.parametrize("gain", [0, 3])
def test_draws_in_chunks_continue_the_streams(monkeypatch, gain):
    """Draws split over several jump tables and chunks give the same spikes as one table."""
    g = np.random.default_rng(3)
    q, k, v = ((g.random((6, 2, 1, 9, 10)) < 0.3).astype(np.uint8) for _ in range(3))
    config = SSAConfig(9, 10, 6, seed=2**32 - 1, gain_log2=gain)
    monkeypatch.setattr(tb, "TABLE_STEPS", 7)
    monkeypatch.setattr(tb, "DRAW_CHUNK", 100)
    np.testing.assert_array_equal(tb.TorchBackend("cpu").run(q, k, v, config), run(q, k, v, config))


def test_initial_states_mirror_ssa_prng():
    streams = np.arange(513, dtype=np.uint32)
    for seed in (0, 7, 2**32 - 3):
        expected = prng.initial_states(prng.block_seeds(seed, 4)[:, None], streams[None, :])
        got = tb.initial_states(seed, 4, torch.from_numpy(streams.astype(np.int64)))
        np.testing.assert_array_equal(got.numpy(), expected.astype(np.int64))


def test_jump_tables_equal_stepping_the_generator():
    states = prng.initial_states(np.uint32(11), np.arange(50, dtype=np.uint32))
    tables = tb._jump_tables_host(20).view(np.uint32)
    jumped = np.zeros((50, 20), np.uint32)
    for byte in range(4):
        jumped ^= tables[byte, (states >> np.uint32(8 * byte)) & np.uint32(0xFF)]
    x = states
    for m in range(20):
        x = prng.xorshift32(x)
        np.testing.assert_array_equal(jumped[:, m], x)


@pytest.mark.parametrize("gain", [0, 2, GAIN_LOG2_MAX])
def test_ideal_mode(gain):
    config, q, k, v = random_case(1)
    ideal = SSAConfig(config.n, config.dk, config.t, seed=1, mode="ideal", gain_log2=gain)
    np.testing.assert_array_equal(tb.TorchBackend("cpu").run(q, k, v, ideal), run(q, k, v, ideal))
    with pytest.raises(ConfigError, match="lfsr"):
        tb.run_torch(*(torch.from_numpy(x) for x in (q, k, v)), ideal)


def test_numpy_path_raises_the_shared_errors():
    z = np.zeros((2, 4, 8), np.uint8)
    backend = tb.TorchBackend("cpu")
    with pytest.raises(ShapeError, match="config says"):
        backend.run(z, z, z, SSAConfig(5, 8, 2))
    with pytest.raises(SpikeDTypeError, match="dtype float32"):
        backend.run(z.astype(np.float32), z, z, SSAConfig(4, 8, 2))
    bad = z.copy()
    bad[0, 0, 0] = 3
    with pytest.raises(SpikeValueError, match="other than 0 and 1"):
        backend.run(bad, z, z, SSAConfig(4, 8, 2))


def test_tensor_path_raises_the_shared_errors():
    z = torch.zeros((2, 4, 8), dtype=torch.uint8)
    config = SSAConfig(4, 8, 2)
    with pytest.raises(SpikeDTypeError, match="torch.float32"):
        tb.run_torch(z.float(), z, z, config)
    with pytest.raises(SpikeDTypeError, match="torch tensor"):
        tb.run_torch(z.numpy(), z, z, config)
    bad = z.clone()
    bad[1, 2, 3] = 2
    with pytest.raises(SpikeValueError, match="other than 0 and 1"):
        tb.run_torch(z, bad, z, config)
    with pytest.raises(ShapeError, match="same shape"):
        tb.run_torch(z, z[:, :3], z, config)
    with pytest.raises(ShapeError, match="config says"):
        tb.run_torch(z, z, z, SSAConfig(4, 8, 3))
    with pytest.raises(ShapeError, match="time first"):
        tb.run_torch(z[0], z[0], z[0], config)


@pytest.mark.skipif(torch.cuda.is_available(), reason="needs a machine without CUDA")
def test_cuda_device_without_cuda_is_a_backend_error():
    with pytest.raises(BackendError, match="cuda.is_available"):
        tb.TorchBackend("cuda")
