"""The native SSA kernel (`ssa_native.c`, compiled at install by setup.py) through ctypes.

`kernel()` returns the loaded kernel or raises NativeUnavailable saying why (not built, does not
load, another contract version). Its paths: `scalar` (portable C) and `avx2` (x86-64 with AVX2),
the best one the CPU runs (found once per process); SSA_NATIVE_ISA=scalar|avx2 forces one (tests, bench).
Besides SSA blocks (the `fast` backend) it serves the numpy runtime's exact spike x weight
products and LIF, and the floor micro-benchmarks of `ssa bench`. numpy arrays are passed as raw
pointers: `run` takes C-contiguous bool/uint8 arrays (dtype and layout checked by its caller; the kernel
flags any byte that is not 0/1), the others convert.
"""
from __future__ import annotations

import ctypes
import importlib.machinery
import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Callable

import numpy as np

from ssa.contract.config import CONTRACT_VERSION, SSAConfig
from ssa.errors import BackendError

ISAS = ("scalar", "avx2")  # index = the C library's isa code
REBUILD_HINT = "install a C compiler (e.g. `apt install gcc`) and reinstall ssa-fpga (`pip install --force-reinstall --no-deps .`)"


class NativeUnavailable(BackendError):
    """The native kernel was not built or cannot be loaded here."""


@dataclass(frozen=True)
class NativeKernel:
    """The loaded library and the path (`scalar` / `avx2`) its calls use."""

    lib: ctypes.CDLL
    isa: str
    code: int  # the library's number of this path (its index in ISAS)

    def run(self, q: np.ndarray, k: np.ndarray, v: np.ndarray, out: np.ndarray, config: SSAConfig, blocks: int, first: int, last: int) -> int:
        """Blocks [first, last) of C-contiguous 0/1 byte arrays laid out [T, blocks, N, D_K] (any shape
        with that memory layout) into out, with the config's encoder gain; returns 0, or 1 if an input
        byte was not 0/1."""
        rc = self.lib.ssa_run(_address(q), _address(k), _address(v), _address(out), config.t, blocks, config.n, config.dk,
                              config.seed, config.gain_log2, first, last, self.code)
        if rc < 0:
            raise BackendError(f"the native kernel refused {config} with {blocks} blocks on path {self.isa}; please report this")
        return rc

    def spike_linear(self, x: np.ndarray, wt: np.ndarray, threads: int | None = None) -> np.ndarray | None:
        """x @ wt for C-contiguous float32 x [rows, K] holding small integers and wt [K, O] holding
        integers, visiting only non-zero inputs (exact); rows split over `threads` (None: all cores).
        None when the kernel does not take these sizes (O not a multiple of 64 on AVX2)."""
        x, wt = (np.ascontiguousarray(a, dtype=np.float32) for a in (x, wt))
        rows, kdim = x.shape
        odim = wt.shape[1]
        if wt.shape[0] != kdim:
            raise BackendError(f"spike_linear: x has {kdim} columns but wt {wt.shape[0]} rows")
        y = np.empty((rows, odim), np.float32)
        if rows == 0:
            return y
        addr_x, addr_w, addr_y = _address(x), _address(wt), _address(y)

        def part(lo: int, hi: int) -> int:
            return self.lib.ssa_spike_linear(addr_x + 4 * lo * kdim, addr_w, addr_y + 4 * lo * odim, hi - lo, kdim, odim, self.code)

        workers = max(1, min(threads or cpu_threads(), rows // 256))
        return y if all(c == 0 for c in split_over_threads(part, rows, workers)) else None

    def lif(self, x: np.ndarray, tau: float, v_threshold: float) -> np.ndarray | None:
        """Multi-step LIF spikes of float32 x [T, ...] (`ssa.model.coding.lif_multistep`'s float32
        operations, bit for bit), or None where the C compiler's float is not plain float32."""
        x = np.ascontiguousarray(x, dtype=np.float32)
        out = np.empty_like(x)
        if x.size == 0:
            return out
        steps = x.shape[0]
        rc = self.lib.ssa_lif(_address(x), _address(out), steps, x.size // steps, tau, v_threshold, self.code)
        return out if rc == 0 else None

    def initial_state(self, block_seed: int, stream: int) -> int:
        """state0(block_seed, stream) as the kernel computes it (docs/spec.md §4)."""
        return int(self.lib.ssa_state0(block_seed, stream))

    def xorshift32(self, x: int) -> int:
        """One generator step as the kernel computes it."""
        return int(self.lib.ssa_xorshift32(x))

    def floor_pairs(self, reps: int) -> int:
        """reps x 4096 AND + popcount + compare pairs (the floor micro-benchmark); a checksum."""
        return int(self.lib.ssa_floor_pairs(self.code, reps))

    def floor_draws(self, reps: int) -> int:
        """reps x 32 xorshift32 draws (the floor micro-benchmark); a checksum."""
        return int(self.lib.ssa_floor_draws(self.code, reps))


def cpu_threads() -> int:
    """Cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def pool() -> ThreadPoolExecutor:
    """Worker threads shared by the native calls (each ctypes call releases the GIL); a forked
    child gets its own (the parent's threads do not exist there)."""
    return _pool_of(os.getpid())


@lru_cache(maxsize=None)
def _pool_of(pid: int) -> ThreadPoolExecutor:
    return ThreadPoolExecutor(max_workers=cpu_threads(), thread_name_prefix=f"ssa-native-{pid}")


def _address(x: np.ndarray) -> int:
    """Address of an array's first byte (from_buffer is the cheapest way, for writable arrays)."""
    if x.flags.writeable and x.size:
        return ctypes.addressof(ctypes.c_char.from_buffer(x))
    return x.ctypes.data


FLOOR_PAIRS_PER_REP = 4096
FLOOR_DRAWS_PER_REP = 32


def library_path() -> Path | None:
    """The built library next to this file, or None when the install did not build it."""
    here = Path(__file__).parent
    for suffix in importlib.machinery.EXTENSION_SUFFIXES:
        path = here / f"_ssa_native{suffix}"
        if path.is_file():
            return path
    return None


def _declare(lib: ctypes.CDLL) -> None:
    i64, u32, ptr = ctypes.c_int64, ctypes.c_uint32, ctypes.c_void_p
    lib.ssa_run.argtypes = [ptr, ptr, ptr, ptr, i64, i64, i64, i64, u32, ctypes.c_int, i64, i64, ctypes.c_int]
    lib.ssa_run.restype = ctypes.c_int
    lib.ssa_isa_available.argtypes = [ctypes.c_int]
    lib.ssa_isa_available.restype = ctypes.c_int
    lib.ssa_contract_version.restype = ctypes.c_int
    lib.ssa_state0.argtypes = [u32, u32]
    lib.ssa_state0.restype = u32
    lib.ssa_xorshift32.argtypes = [u32]
    lib.ssa_xorshift32.restype = u32
    lib.ssa_spike_linear.argtypes = [ptr, ptr, ptr, i64, i64, i64, ctypes.c_int]
    lib.ssa_spike_linear.restype = ctypes.c_int
    lib.ssa_lif.argtypes = [ptr, ptr, i64, i64, ctypes.c_float, ctypes.c_float, ctypes.c_int]
    lib.ssa_lif.restype = ctypes.c_int
    for name in ("ssa_floor_pairs", "ssa_floor_draws"):
        getattr(lib, name).argtypes = [ctypes.c_int, i64]
        getattr(lib, name).restype = ctypes.c_uint64


@lru_cache(maxsize=None)
def _load() -> tuple[ctypes.CDLL, Path]:
    path = library_path()
    if path is None:
        raise NativeUnavailable(f"the native SSA kernel was not built when ssa-fpga was installed; {REBUILD_HINT}")
    try:
        lib = ctypes.CDLL(str(path))
        _declare(lib)
    except (OSError, AttributeError) as exc:
        raise NativeUnavailable(f"the native SSA kernel {path} does not load ({exc}); {REBUILD_HINT}") from exc
    version = lib.ssa_contract_version()
    if version != CONTRACT_VERSION:
        raise NativeUnavailable(f"the native SSA kernel {path} implements contract {version}, this package {CONTRACT_VERSION}; {REBUILD_HINT}")
    return lib, path


@lru_cache(maxsize=None)
def available_isas() -> tuple[str, ...]:
    """Paths of the kernel this CPU runs, best last (NativeUnavailable without the library)."""
    lib, _ = _load()
    return tuple(name for code, name in enumerate(ISAS) if lib.ssa_isa_available(code))


def kernel(isa: str | None = None) -> NativeKernel:
    """The native kernel on path `isa` (default: SSA_NATIVE_ISA, else the best this CPU runs)."""
    lib, _ = _load()
    runnable = available_isas()
    isa = isa or os.environ.get("SSA_NATIVE_ISA") or runnable[-1]
    if isa not in runnable:
        raise BackendError(f"native kernel path {isa!r} does not run on this CPU; choose one of {', '.join(runnable)}")
    return NativeKernel(lib, isa, ISAS.index(isa))


def split_over_threads(call: Callable[[int, int], int], count: int, workers: int) -> list[int]:
    """call(lo, hi) over contiguous parts of range(count), on `workers` pool threads (the calling
    thread alone for one); the return codes in order."""
    if workers <= 1:
        return [call(0, count)]
    bounds = np.linspace(0, count, workers + 1).astype(int)
    return [c.result() for c in [pool().submit(call, int(lo), int(hi)) for lo, hi in zip(bounds[:-1], bounds[1:])]]
