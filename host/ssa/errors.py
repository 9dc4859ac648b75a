"""Typed errors of the SSA stack. Every message says what to fix."""
from __future__ import annotations


class SSAError(Exception):
    """Base class of every error the SSA stack raises on purpose."""


class ConfigError(SSAError, ValueError):
    """A configuration value is outside the contract's or the kernel build's range."""


class ShapeError(SSAError, ValueError):
    """Spike tensors have the wrong rank or shape, or disagree with the configuration."""


class SpikeDTypeError(SSAError, TypeError):
    """Spike tensors must be numpy arrays of dtype bool or uint8."""


class SpikeValueError(SSAError, ValueError):
    """Spike tensors may only hold 0 and 1."""


class StreamError(SSAError, ValueError):
    """A packed AXI-Stream buffer has the wrong length, padding or TLAST framing."""


class BackendError(SSAError, RuntimeError):
    """A backend could not be built, loaded or run (compiler missing, kernel status set, ...)."""


class VectorFormatError(SSAError, ValueError):
    """A golden-vector file is malformed."""


class DatasetError(SSAError, ValueError):
    """A dataset is missing or its files are malformed (training, evaluation, `ssa demo --test-set`)."""


class CheckpointError(SSAError, ValueError):
    """A training checkpoint or model bundle is missing, corrupt or does not match its configuration."""


class ImageError(SSAError, ValueError):
    """Images for a model have pixel values outside [0, 1] or that are not finite."""


class BundleError(SSAError, ValueError):
    """A deployment bundle is missing, truncated, corrupt, of another schema version or not ours."""


class OverlayError(BackendError):
    """The overlay's .bit/.hwh are missing, or the overlay lacks the SSA kernel or its AXI DMA."""


class DMAError(BackendError):
    """The AXI DMA reported an error (DMASR error bits); the message names and explains each bit."""


class KernelTimeoutError(BackendError, TimeoutError):
    """The kernel or a DMA channel did not finish before its deadline; the message says which and why."""


class MissingExtraError(SSAError, ImportError):
    """A command needs an optional extra (train, csim, fast, board) that is not installed; the message names the pip line."""
