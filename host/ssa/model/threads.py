"""Threads of the numpy runtime's matmuls, chosen on purpose rather than left to the BLAS library.

`SpikingViT.blas_threads` bounds both the native spike × weight products (their rows split over
that many threads) and, where the native kernel is missing, the BLAS products.

The model's matmuls are small ([T·B·N, 128] × [128, 512] at most for the bundled model), so a BLAS
that starts one thread per core spends more time waking and joining threads than multiplying, and
on a busy machine its threads fight every other process for the cores (docs/results.md has the
figures). The runtime therefore runs
its matmuls on one thread unless told otherwise; parallelism belongs to the caller (several
processes, or the attention backend's own threads). `ssa demo --threads` measures both choices.
"""
from __future__ import annotations

import contextlib
from typing import ContextManager

from ssa.errors import ConfigError

#: BLAS threads of SpikingViT inference unless set otherwise (None: the BLAS library's own default).
DEFAULT_BLAS_THREADS = 1


def blas_threads(threads: int | None) -> ContextManager[object]:
    """A context in which BLAS (OpenBLAS, MKL, BLIS) uses `threads` threads; None changes nothing."""
    if threads is None:
        return contextlib.nullcontext()
    if isinstance(threads, bool) or not isinstance(threads, int) or threads < 1:
        raise ConfigError(f"BLAS threads={threads!r} must be a positive integer (or None for the library default)")
    from threadpoolctl import threadpool_limits

    return threadpool_limits(limits=threads, user_api="blas")
