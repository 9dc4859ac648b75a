"""The native parts of the numpy runtime (ssa._native: spike x weight products of the linear layers,
multi-step LIF) are exact on every kernel path: the integer product, numpy's LIF bit for bit, and
the model's logits do not change."""
import numpy as np
import pytest

from ssa import _native
from ssa.cli.demo import DEFAULT_BUNDLE, load_images, packaged
from ssa.model import SpikingViT

try:
    ISAS = _native.available_isas()
except _native.NativeUnavailable as exc:  # CI builds it: a skip there fails (conftest)
    pytest.skip(f"the native kernel was not built: {exc}", allow_module_level=True)


@pytest.mark.parametrize("isa", ISAS)
@pytest.mark.parametrize("rows, kdim, odim, density, top", [(300, 128, 384, 0.3, 12), (257, 512, 128, 0.05, 1), (5, 49, 128, 1.0, 1),
                                                            (40, 7, 64, 0.5, 3), (17, 33, 16, 0.4, 2), (0, 8, 64, 0.5, 1)])
def test_spike_linear_is_the_exact_integer_product(isa, rows, kdim, odim, density, top):
    g = np.random.default_rng(rows + kdim + odim)
    x = (g.integers(1, top + 1, (rows, kdim)) * (g.random((rows, kdim)) < density)).astype(np.float32)
    w = g.integers(-128, 128, (kdim, odim)).astype(np.float32)
    got = _native.kernel(isa).spike_linear(x, w, threads=2)
    if got is None:  # the AVX2 path takes multiples of 64 outputs only; the caller uses BLAS then
        assert isa == "avx2" and odim % 64
        return
    np.testing.assert_array_equal(got, (x.astype(np.int64) @ w.astype(np.int64)).astype(np.float32))


def test_model_logits_are_the_same_with_and_without_the_native_products():
    images, _, _ = load_images(None, 6)
    model = SpikingViT.from_bundle(packaged(DEFAULT_BUNDLE))
    assert model.spike_kernel is not None
    native = model.logits(images, first_index=3)
    model.spike_kernel = None  # BLAS and numpy's LIF
    np.testing.assert_array_equal(model.logits(images, first_index=3), native)


@pytest.mark.parametrize("isa", ISAS)
@pytest.mark.parametrize("shape", [(10, 50, 16, 384), (3, 1037), (1, 5), (4, 0)])
def test_native_lif_is_the_numpy_lif_bit_for_bit(isa, shape):
    from ssa.model.coding import lif_multistep

    x = (np.random.default_rng(len(shape)).normal(size=shape) * 2).astype(np.float32)
    x.flat[::7] = 1.0  # exactly at the threshold after a step from rest: h = 0.5, then 1.0 on repeats
    for tau, vth in ((2.0, 1.0), (3.0, 0.5)):
        got = _native.kernel(isa).lif(x, tau, vth)
        assert got is not None
        np.testing.assert_array_equal(got, lif_multistep(x, tau, vth))
