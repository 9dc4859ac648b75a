"""LIF neuron, surrogate gradient, straight-through Bernoulli sampling and input coding."""
import numpy as np
import pytest

from extras import require

torch = require("torch")
require("brevitas")

from ssa.model.coding import encode_pixels
from ssa_quantize.neurons import MultiStepLIF, bernoulli_st, heaviside  # noqa: E402


def test_lif_follows_charge_fire_hard_reset_equations():
    lif = MultiStepLIF(tau=2.0, v_threshold=1.0)
    x = torch.tensor([1.5, 1.5, 0.0, 2.0, 4.0]).reshape(5, 1)
    # H = V + (X - V)/2: 0.75 (no spike), 1.125 (spike, V=0), 0 (no), 1.0 (spike at threshold), 2.0 (spike)
    assert lif(x).flatten().tolist() == [0.0, 1.0, 0.0, 1.0, 1.0]


def test_lif_matches_numpy_float32_recurrence():
    x = torch.randn(6, 3, 7) * 2
    v = np.zeros((3, 7), np.float32)
    expected = []
    for x_t in x.numpy():
        h = v + (x_t - v) / np.float32(2.0)
        s = (h >= np.float32(1.0)).astype(np.float32)
        v = h * (np.float32(1) - s)
        expected.append(s)
    assert np.array_equal(MultiStepLIF()(x).numpy(), np.stack(expected))


def test_surrogate_gradient_is_atan_shaped():
    x = torch.tensor([-1.0, 0.0, 1.0], requires_grad=True)
    heaviside(x).sum().backward()
    # alpha/2 / (1 + (pi/2 alpha x)^2) with alpha = 2: 1 at x = 0, symmetric, smaller away from 0
    assert x.grad[1].item() == pytest.approx(1.0)
    assert x.grad[0].item() == pytest.approx(x.grad[2].item())
    assert 0 < x.grad[0].item() < 0.1


def test_gradient_flows_through_lif_over_time():
    x = torch.full((4, 2, 3), 0.9, requires_grad=True)
    MultiStepLIF()(x).sum().backward()
    assert torch.all(x.grad[:-1] != 0)


def test_bernoulli_st_samples_rate_and_passes_gradient_unchanged():
    torch.manual_seed(0)
    p = torch.full((20000,), 0.3, requires_grad=True)
    s = bernoulli_st(p)
    assert set(s.unique().tolist()) <= {0.0, 1.0}
    assert s.mean().item() == pytest.approx(0.3, abs=0.02)
    (s * torch.arange(20000.0)).sum().backward()
    assert torch.equal(p.grad, torch.arange(20000.0))


def test_numpy_pixel_coding_is_exact_at_endpoints_and_batch_independent():
    images = np.random.default_rng(1).random((5, 1, 4, 4)).astype(np.float32)
    images[0] = 0.0
    images[1] = 1.0
    whole = encode_pixels(images, 6, seed=9, first_index=0)
    assert whole.shape == (6, 5, 1, 4, 4) and whole.dtype == np.uint8
    assert whole[:, 0].max() == 0 and whole[:, 1].min() == 1
    tail = encode_pixels(images[3:], 6, seed=9, first_index=3)
    assert np.array_equal(whole[:, 3:], tail)
    assert not np.array_equal(whole, encode_pixels(images, 6, seed=10, first_index=0))
