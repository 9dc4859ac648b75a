"""Every invalid input raises a typed error whose message says what to fix."""
import numpy as np
import pytest

from ssa import ConfigError, ShapeError, SpikeDTypeError, SpikeValueError, SSAConfig, run
from ssa.contract.config import DEFAULT_KERNEL_LIMITS, Limits


def spikes(shape=(2, 3, 4)):
    return np.zeros(shape, np.uint8)


def test_shape_mismatch_between_q_k_v():
    with pytest.raises(ShapeError, match="k has shape"):
        run(spikes(), spikes((2, 3, 5)), spikes(), SSAConfig(3, 4, 2))


@pytest.mark.parametrize("shape", [(3, 4), (2, 1, 3, 4), (1, 1, 1, 2, 3, 4)])
def test_wrong_rank(shape):
    x = spikes(shape)
    with pytest.raises(ShapeError, match=r"\[T, N, D_K\] or \[T, B, H, N, D_K\]"):
        run(x, x, x, SSAConfig(3, 4, 2))


@pytest.mark.parametrize("field,config", [("T", SSAConfig(3, 4, 5)), ("N", SSAConfig(7, 4, 2)), ("D_K", SSAConfig(3, 9, 2))])
def test_shape_disagrees_with_config(field, config):
    with pytest.raises(ShapeError, match=f"{field}.*config says"):
        run(spikes(), spikes(), spikes(), config)


def test_empty_batch():
    x = spikes((2, 0, 1, 3, 4))
    with pytest.raises(ShapeError, match="no block"):
        run(x, x, x, SSAConfig(3, 4, 2))


@pytest.mark.parametrize("dtype", [np.float32, np.int64, np.int8, np.uint16])
def test_wrong_dtype(dtype):
    x = spikes().astype(dtype)
    with pytest.raises(SpikeDTypeError, match="bool or uint8"):
        run(x, spikes(), spikes(), SSAConfig(3, 4, 2))


def test_not_an_array():
    with pytest.raises(SpikeDTypeError, match="numpy array"):
        run([[[0]]], spikes(), spikes(), SSAConfig(3, 4, 2))


def test_non_binary_values():
    x = spikes()
    x[0, 0, 0] = 2
    with pytest.raises(SpikeValueError, match="1 value.*other than 0 and 1"):
        run(spikes(), spikes(), x, SSAConfig(3, 4, 2))


@pytest.mark.parametrize("kwargs,match", [
    (dict(n=0, dk=4, t=2), "n=0 is outside the contract's range 1..256"),
    (dict(n=257, dk=4, t=2), "n=257"),
    (dict(n=3, dk=257, t=2), "dk=257"),
    (dict(n=3, dk=0, t=2), "dk=0"),
    (dict(n=3, dk=4, t=0), "t=0"),
    (dict(n=3, dk=4, t=1025), "t=1025"),
    (dict(n=3, dk=4, t=2, seed=-1), "seed=-1 is outside 0..4294967295"),
    (dict(n=3, dk=4, t=2, seed=2**32), "seed=4294967296"),
    (dict(n=3, dk=4, t=2, mode="exact"), "mode='exact' is unknown"),
    (dict(n=3.0, dk=4, t=2), "n must be an integer"),
    (dict(n=True, dk=4, t=2), "n must be an integer"),
    (dict(n=3, dk=4, t=2, gain_log2=5), "gain_log2=5 is outside the contract's range 0..4"),
    (dict(n=3, dk=4, t=2, gain_log2=-1), "gain_log2=-1"),
    (dict(n=3, dk=4, t=2, gain_log2=1.0), "gain_log2 must be an integer"),
    (dict(n=3, dk=4, t=2, gain_log2=True), "gain_log2 must be an integer"),
])
def test_config_out_of_range(kwargs, match):
    with pytest.raises(ConfigError, match=match):
        SSAConfig(**kwargs)


def test_a_v1_kernel_refuses_a_gain_and_names_the_fix():
    v1 = Limits(n_max=32, dk_max=64, t_max=32, gain_log2_max=0)
    v1.check_gain(0, "the kernel build")
    with pytest.raises(ConfigError, match="gain_log2=1 is outside the kernel build's range 0..0.*contract v1.*rebuild"):
        v1.check_gain(1, "the kernel build")


def test_kernel_limits_name_the_maximum_and_the_fix():
    with pytest.raises(ConfigError, match="dk=65 is outside the kernel build's range 1..64.*rebuild"):
        DEFAULT_KERNEL_LIMITS.check(33, 65, 4, "the kernel build")
    with pytest.raises(ConfigError, match="n=33 is outside the kernel build's range 1..32.*rebuild"):
        Limits(n_max=32, dk_max=64, t_max=32).check(33, 16, 4, "the kernel build")


def test_array_cannot_be_larger_than_the_block():
    with pytest.raises(ConfigError, match="n_tile=64 must be 1..n_max=32"):
        Limits(n_max=32, dk_max=64, t_max=32, n_tile=64)
    assert Limits(n_max=32, dk_max=64, t_max=32).tiled().n_tile == 32


def test_errors_are_also_builtin_types():
    """Callers catching ValueError/TypeError keep working."""
    assert issubclass(ShapeError, ValueError) and issubclass(SpikeDTypeError, TypeError)
