"""Multi-step LIF neurons (binary and ternary) with a surrogate gradient, A²OS²A's ReLU path, and pixel coding (Bernoulli, direct).

LIF convention (same as spikingjelly's ``LIFNode`` with ``decay_input=True``, ``v_reset=0``,
``detach_reset=False``; snnTorch's ``Leaky`` with ``beta = 1 - 1/tau`` differs by scaling the input
by ``1/tau``). Tensors are time-first ``[T, ...]``; for each step ``t`` with ``V[-1] = 0``::

    H[t] = V[t-1] + (X[t] - V[t-1]) / tau          charge (decay_input)
    S[t] = 1 if H[t] >= v_threshold else 0          Heaviside forward
    V[t] = H[t] * (1 - S[t])                         hard reset to v_reset = 0

Defaults: ``tau = 2``, ``v_threshold = 1`` (spikingjelly's). Backward replaces dS/dH by a surrogate
of ``x = H - v_threshold`` (:data:`SURROGATES`; training only, the forward is the same for all):

* ``atan`` (default, spikingjelly's ``surrogate.ATan``): ``alpha / 2 / (1 + (pi/2 * alpha * x)^2)``, ``alpha = 2``;
* ``sigmoid`` (spikingjelly's ``surrogate.Sigmoid``): ``alpha * sg(alpha x) * (1 - sg(alpha x))``;
* ``rect``: ``alpha`` where ``|x| < 1 / (2 alpha)``, else 0 (a box of area 1).

Every forward operation is one float32 IEEE operation in this order, so a numpy runtime reproduces
the spikes exactly.
"""
from __future__ import annotations

import math

import torch
from torch import nn

from ssa.errors import ConfigError

from .names import ATAN_ALPHA, SURROGATES



def surrogate_backward(grad: torch.Tensor, x: torch.Tensor, shape: str, alpha: float) -> torch.Tensor:
    """``grad · d(spike)/dx`` for surrogate ``shape`` of sharpness ``alpha`` (atan: spikingjelly's operation order)."""
    if shape == "atan":
        return grad * (alpha / 2) / (1 + (math.pi / 2 * alpha * x) ** 2)
    if shape == "sigmoid":
        sg = torch.sigmoid(alpha * x)
        return grad * alpha * sg * (1 - sg)
    if shape == "rect":
        return grad * (x.abs() < 1 / (2 * alpha)).to(x.dtype) * alpha
    raise ConfigError(f"surrogate={shape!r} is unknown; use one of {', '.join(SURROGATES)}")


class HeavisideSurrogate(torch.autograd.Function):
    """Heaviside step ``x >= 0`` forward, surrogate gradient backward."""

    @staticmethod
    def forward(ctx, x: torch.Tensor, alpha: float, shape: str) -> torch.Tensor:  # type: ignore[override]
        ctx.save_for_backward(x)
        ctx.alpha, ctx.shape = alpha, shape
        return (x >= 0).to(x.dtype)

    @staticmethod
    def backward(ctx, grad: torch.Tensor) -> tuple[torch.Tensor, None, None]:  # type: ignore[override]
        (x,) = ctx.saved_tensors
        return surrogate_backward(grad, x, ctx.shape, ctx.alpha), None, None


def heaviside(x: torch.Tensor, alpha: float = ATAN_ALPHA, shape: str = "atan") -> torch.Tensor:
    """Spike where ``x >= 0``; differentiable through the surrogate ``shape`` (:data:`SURROGATES`)."""
    return HeavisideSurrogate.apply(x, alpha, shape)


class MultiStepLIF(nn.Module):
    """Layer of LIF neurons over a time-first input ``[T, ...]`` (equations in the module docstring)."""

    def __init__(self, tau: float = 2.0, v_threshold: float = 1.0, alpha: float = ATAN_ALPHA, surrogate: str = "atan") -> None:
        super().__init__()
        if surrogate not in SURROGATES:
            raise ConfigError(f"surrogate={surrogate!r} is unknown; use one of {', '.join(SURROGATES)}")
        self.tau = float(tau)
        self.v_threshold = float(v_threshold)
        self.alpha = float(alpha)
        self.surrogate = surrogate

    def fire(self, h: torch.Tensor) -> torch.Tensor:
        """Spikes of the charged potential ``h`` (0 or 1)."""
        return heaviside(h - self.v_threshold, self.alpha, self.surrogate)

    def kept(self, s: torch.Tensor) -> torch.Tensor:
        """Share of the potential kept after spikes ``s`` (hard reset to 0 where one fired)."""
        return 1 - s

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x.float()
        v = torch.zeros_like(x[0])
        spikes = []
        for x_t in x:
            h = v + (x_t - v) / self.tau
            s = self.fire(h)
            v = h * self.kept(s)
            spikes.append(s)
        return torch.stack(spikes)

    def extra_repr(self) -> str:
        return f"tau={self.tau}, v_threshold={self.v_threshold}, v_reset=0, surrogate={self.surrogate}(alpha={self.alpha})"


class MultiStepTernaryLIF(MultiStepLIF):
    """LIF whose spikes are ternary (−1, 0, +1), A²OS²A's V neuron (Guo et al. 2025).

    Same charge and hard reset as :class:`MultiStepLIF`, with a symmetric threshold::

        H[t] = V[t-1] + (X[t] - V[t-1]) / tau
        S[t] = +1 if H[t] >= v_threshold, -1 if -H[t] >= v_threshold, else 0
        V[t] = H[t] * (1 - |S[t]|)

    Backward: the sum of the two surrogates (of ``H - thr`` and of ``-H - thr``), of the model's shape.
    """

    def fire(self, h: torch.Tensor) -> torch.Tensor:
        """+1 above the threshold, -1 below its negative, else 0."""
        return (heaviside(h - self.v_threshold, self.alpha, self.surrogate)
                - heaviside(-h - self.v_threshold, self.alpha, self.surrogate))

    def kept(self, s: torch.Tensor) -> torch.Tensor:
        return 1 - s.abs()

    def extra_repr(self) -> str:
        return f"tau={self.tau}, v_threshold=±{self.v_threshold}, v_reset=0, surrogate={self.surrogate}(alpha={self.alpha})"


class ReLUPath(nn.Module):
    """A²OS²A's K path: ``max(x, 0)`` per time step, real-valued (no spike, no quantisation)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.relu(x.float())


class BernoulliST(torch.autograd.Function):
    """Bernoulli sample of probabilities ``p`` forward, straight-through (identity) gradient backward.

    ``E[sample] = p``, so passing the gradient to ``p`` unchanged is the expectation gradient.
    """

    @staticmethod
    def forward(ctx, p: torch.Tensor) -> torch.Tensor:  # type: ignore[override]
        return (torch.rand_like(p) < p).to(p.dtype)

    @staticmethod
    def backward(ctx, grad: torch.Tensor) -> torch.Tensor:  # type: ignore[override]
        return grad


def bernoulli_st(p: torch.Tensor) -> torch.Tensor:
    """Spikes with ``P(1) = p`` (torch RNG) and a straight-through expectation gradient."""
    return BernoulliST.apply(p)


def encode_pixels_torch(images: torch.Tensor, timesteps: int) -> torch.Tensor:
    """Bernoulli coding of pixels in [0, 1]: ``[B, ...] -> [T, B, ...]`` spikes using torch's RNG."""
    u = torch.rand((timesteps,) + tuple(images.shape), device=images.device)
    return (u < images.float()).float()


def direct_levels_torch(images: torch.Tensor, timesteps: int) -> torch.Tensor:
    """Direct coding: 8-bit pixel levels ``round(255·x)`` (float32 integers) repeated over T, ``[T, B, ...]``.

    Same values as :func:`ssa.model.coding.encode_direct`; integers keep the first matmul an exact sum.
    """
    levels = torch.round(images.float() * 255.0)
    return levels.unsqueeze(0).expand((timesteps,) + tuple(levels.shape))


