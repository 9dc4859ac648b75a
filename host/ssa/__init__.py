"""Stochastic Spiking Attention (SSA): the runtime that runs on laptops and on PYNQ boards.

Importing this package needs numpy alone. The contract all backends implement is docs/spec.md.
"""
from ssa.backends.emulator import run, run_with_scores
from ssa.contract.config import (
    CONTRACT_LIMITS,
    CONTRACT_VERSION,
    DEFAULT_KERNEL_LIMITS,
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
    "CONTRACT_LIMITS", "CONTRACT_VERSION", "DEFAULT_KERNEL_LIMITS", "Limits", "SSAConfig",
    "run", "run_with_scores", "BackendError", "BundleError", "ConfigError", "DMAError",
    "KernelTimeoutError", "OverlayError", "ShapeError", "SpikeDTypeError",
    "SpikeValueError", "SSAError", "StreamError",
]
__version__ = "0.1.0"
