"""Stochastic Spiking Attention (SSA): the runtime that runs on laptops and on PYNQ boards.

Importing this package needs numpy alone. The contract all backends implement is docs/spec.md.

Public API (everything else is internal and may move):

- ``ssa.run(q, k, v, config)`` / ``ssa.run_with_scores`` — the reference emulator on time-first
  spike tensors ``[T, N, D_K]`` or ``[T, B, H, N, D_K]``; ``ssa.SSAConfig``, ``ssa.Limits`` and the
  contract constants ``CONTRACT_VERSION``, ``CONTRACT_LIMITS``, ``DEFAULT_KERNEL_LIMITS``,
  ``GAIN_LOG2_MAX`` (the encoders' largest gain exponent, ``SSAConfig(..., gain_log2=g)``).
- ``ssa.backends.get_backend(name, **options)`` / ``ssa.backends.available_backends()`` — the same
  ``run`` on ``emulate``, ``fast``, ``torch``, ``csim`` or ``pynq``.
- ``ssa.model.SpikingViT.from_bundle(path, backend)`` — numpy inference of a trained model;
  ``ssa.model.spiked.SpikedViT.from_bundle(path)`` for a converted SpikedAttention bundle.
- ``ssa.model.maps.record`` and ``ssa.plots`` — attention maps, rollout, firing rates and plots.
- ``ssa.cost.energy.estimate`` / ``ssa.cost.energy.register`` — energy of an attention block.
- The typed errors, all subclasses of ``ssa.SSAError`` (``ssa.errors``).
- The ``ssa`` command (``ssa --help``).

Subpackages: ``contract`` (what every backend shares), ``backends`` (the implementations),
``model`` (the ViT runtime), ``cost`` (latency, throughput, resources, energy, benchmarks),
``cli`` (the commands).
"""
from ssa.backends.emulator import run, run_with_scores
from ssa.contract.config import (
    CONTRACT_LIMITS,
    CONTRACT_VERSION,
    DEFAULT_KERNEL_LIMITS,
    GAIN_LOG2_MAX,
    Limits,
    SSAConfig,
)
from ssa.errors import (
    BackendError,
    BundleError,
    ConfigError,
    DMAError,
    KernelTimeoutError,
    OverlayError,
    ShapeError,
    SpikeDTypeError,
    SpikeValueError,
    SSAError,
    StreamError,
)

__all__ = [
    "CONTRACT_LIMITS", "CONTRACT_VERSION", "DEFAULT_KERNEL_LIMITS", "GAIN_LOG2_MAX", "Limits", "SSAConfig",
    "run", "run_with_scores", "BackendError", "BundleError", "ConfigError", "DMAError",
    "KernelTimeoutError", "OverlayError", "ShapeError", "SpikeDTypeError",
    "SpikeValueError", "SSAError", "StreamError",
]
__version__ = "0.1.0"
