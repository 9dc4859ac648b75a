"""Fast CPU backend: the contract's LFSR mode in native code (`ssa._native`, C built at install).

Same spikes as the reference emulator (`ssa.backends.emulator.run`), bit for bit. The kernel packs
rows into 64-bit words, computes SAU counters and row adders as popcounts of ANDed words, steps the
generators in the draw order of docs/spec.md section 4 (8 row generators per AVX2 vector) and fuses
draw, compare and popcount; the config's encoder gain (contract v2) shifts each draw once, see
`host/ssa/_native/ssa_native.c`. Batched calls split their blocks into contiguous ranges, one per
thread (the C call releases the GIL).

Without the native library (no compiler at install) the backend says so once and runs the
emulator. Ideal mode is not a hardware contract and is delegated to the reference emulator.
"""
from __future__ import annotations

import warnings
from functools import lru_cache

import numpy as np

from ssa import _native
from ssa.backends import emulator
from ssa.contract.config import SSAConfig, check_config, check_int
from ssa.contract.spikes import SPIKE_DTYPES, check_block_inputs
from ssa.errors import BackendError

class NativeFallbackWarning(UserWarning):
    """The native kernel is missing: `fast` runs the numpy emulator."""


def native_kernel() -> _native.NativeKernel | None:
    """The native kernel, or None after a one-line notice that `fast` falls back to the emulator."""
    try:
        return _native.kernel()
    except _native.NativeUnavailable as exc:
        _notify_fallback(str(exc))
        return None


@lru_cache(maxsize=None)
def _notify_fallback(reason: str) -> None:
    warnings.warn(f"ssa fast backend: {reason}; running the numpy emulator instead", NativeFallbackWarning, stacklevel=4)


def check_threads(threads: int | None) -> None:
    """Raise a typed error unless threads is None or an integer 1 .. the cores of this machine."""
    top = _native.cpu_threads()
    if threads is not None and not 1 <= check_int("threads", threads) <= top:
        raise BackendError(f"threads={threads} is outside 1..{top} (the cores this process may use); pass a count in that range or None for all")


def run_blocks(kernel: _native.NativeKernel, q: np.ndarray, k: np.ndarray, v: np.ndarray, config: SSAConfig, threads: int | None) -> tuple[np.ndarray, bool]:
    """Attn (uint8, shaped like q) of C-contiguous bool/uint8 spikes laid out [T, blocks, N, D_K], and
    False if one was not 0/1."""
    out = np.empty(q.shape, np.uint8)
    blocks = q.size // (config.t * config.n * config.dk)
    workers = min(threads or _native.cpu_threads(), blocks)
    codes = _native.split_over_threads(lambda lo, hi: kernel.run(q, k, v, out, config, blocks, lo, hi), blocks, workers)
    return out, all(c == 0 for c in codes)


def _fast_path_ok(q: object, k: object, v: object, config: SSAConfig) -> bool:
    """True when Q, K, V are C-contiguous bool/uint8 arrays of one shape that the config allows.

    Only then may the kernel read them directly (it still checks 0/1 values while packing);
    anything else goes through `check_block_inputs`, which converts or raises the shared errors.
    """
    shape = getattr(q, "shape", None)
    for x in (q, k, v):
        if type(x) is not np.ndarray or x.dtype not in SPIKE_DTYPES or not x.flags.c_contiguous or x.shape != shape:
            return False
    return len(shape) in (3, 5) and shape[0] == config.t and shape[-2] == config.n and shape[-1] == config.dk and q.size > 0  # type: ignore[arg-type, union-attr]


def run(q: np.ndarray, k: np.ndarray, v: np.ndarray, config: SSAConfig, threads: int | None = None) -> np.ndarray:
    """Attn spikes (uint8) shaped like q, identical to `ssa.backends.emulator.run`.

    threads: worker threads for batched calls (None: all cores); a single block always runs on
    the calling thread.
    """
    check_threads(threads)
    return _run(native_kernel(), q, k, v, config, threads)


def _run(kernel: _native.NativeKernel | None, q: np.ndarray, k: np.ndarray, v: np.ndarray, config: SSAConfig, threads: int | None) -> np.ndarray:
    config = check_config(config)
    if kernel is None or config.mode != "lfsr":
        return emulator.run(q, k, v, config)
    shape = np.shape(q)
    if not _fast_path_ok(q, k, v, config):
        q, k, v, _ = check_block_inputs(q, k, v, config)
    out, ok = run_blocks(kernel, q, k, v, config, threads)
    if not ok:
        check_block_inputs(q, k, v, config)  # a value other than 0/1: raise the shared SpikeValueError
        raise BackendError("the native kernel flagged a non-binary spike that the shared validation accepted; please report this")
    return out.reshape(shape)


class FastBackend:
    """`run(q, k, v, config)` on the native kernel; `threads` bounds the workers of batched calls."""

    name = "fast"

    def __init__(self, threads: int | None = None) -> None:
        check_threads(threads)
        self.threads = threads
        self.kernel = native_kernel()

    @property
    def native(self) -> bool:
        """False when the native kernel is missing and the emulator runs instead."""
        return self.kernel is not None

    def run(self, q: np.ndarray, k: np.ndarray, v: np.ndarray, config: SSAConfig) -> np.ndarray:
        """Attn spikes shaped like q (see `ssa.backends.fast.run`)."""
        return _run(self.kernel, q, k, v, config, self.threads)
