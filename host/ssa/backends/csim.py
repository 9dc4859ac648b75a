"""C-simulation backend: the HLS kernel (hls/) compiled by g++ and called through ctypes.

The kernel sources come from the `ssa._hls` package (the hls/ folder, also inside a wheel), the
Xilinx ap_int headers from the installed hls4ml package, and `hls/csim/` supplies our own
`hls_stream.h` / `ap_axi_sdata.h` stand-ins. Each build (sources + compiler + flags + maxima) is
compiled once into a uniquely named shared library in a cache directory and reused.

`CSimKernel.call` is the raw kernel, exactly what the board sees (registers, words and TLAST in,
words, TLAST, status and info out); `CSimBackend.run` drives it the way the board driver does.
"""
from __future__ import annotations

import ctypes
import hashlib
import importlib.resources
import importlib.util
import os
import shlex
import shutil
import subprocess
import tempfile
import threading
from functools import partial
from pathlib import Path
from typing import NamedTuple

import numpy as np

from ssa.backends.kernel_calls import run_on_kernel
from ssa.contract.config import DEFAULT_KERNEL_LIMITS, Limits, SSAConfig, check_int
from ssa.contract.packing import stream_word_counts
from ssa.contract.registers import BLOCKS_MAX, check_status, check_version, decode_info
from ssa.errors import BackendError, ConfigError, StreamError

#: Flags of the shared library (g++ and clang++).
LIBRARY_FLAGS = ("-O2", "-std=c++17", "-fPIC", "-shared", "-pthread", "-Wno-unknown-pragmas")
#: g++ only: no STB_GNU_UNIQUE symbols, so a rebuilt library can be loaded beside an old one (clang++
#: never emits them and rejects the flag).
GCC_LIBRARY_FLAGS = ("-fno-gnu-unique",)
#: Flags of the stand-alone testbench executable (hls/tb_ssa.cpp).
TESTBENCH_FLAGS = ("-O2", "-std=c++17", "-pthread", "-Wno-unknown-pragmas")
COMPILE_TIMEOUT_S = 600
REGISTER_MAX = 2**32 - 1
#: The kernel's input registers in the order of ssa_csim_call's arguments (hls/csim/ssa_bridge.cpp).
INPUT_REGISTERS = ("n", "dk", "t_steps", "seed", "blocks", "gain_log2")

# Return codes of ssa_csim_call (hls/csim/ssa_bridge.cpp).
_OK, _INPUT_EXHAUSTED, _OUTPUT_OVERFLOW, _THREAD_FAILED, _KERNEL_EXCEPTION = range(5)


class KernelResult(NamedTuple):
    """What one kernel call returns, as the board would see it."""

    words_out: np.ndarray  # uint64, every word the kernel wrote to its output stream
    last_out: np.ndarray  # bool, TLAST of each output word
    status: int  # the `status` register (docs/spec.md §7)
    info: int  # the `info` register
    tile: int  # the `tile` register (N_TILE - 1)
    words_read: int  # input words the kernel consumed (the rest would stay in the MM2S DMA)


# ---------------------------------------------------------------------------------------------
# Locating sources, headers and the compiler


#: Files a C-simulation build needs from package ssa._hls (the hls/ folder).
REQUIRED_SOURCES = ("ssa_top.cpp", "tb_ssa.cpp", "csim/ssa_bridge.cpp", "csim/hls_stream.h", "csim/ap_axi_sdata.h")


def hls_source_dir() -> Path:
    """The kernel sources: the hls/ folder, shipped as package `ssa._hls`."""
    root = importlib.resources.files("ssa._hls")
    if not isinstance(root, Path):
        raise BackendError(f"the HLS sources of package ssa._hls are not a directory on disk ({root}); install ssa-fpga unzipped")
    missing = [name for name in REQUIRED_SOURCES if not (root / name).is_file()]
    if missing:
        raise BackendError(f"the HLS sources in {root} lack {', '.join(missing)}; reinstall ssa-fpga "
                           "(its package data must include hls/*.h, *.cpp and hls/csim/*)")
    return root


def ap_types_dir() -> Path:
    """Xilinx's Apache-2.0 ap_int headers from the installed hls4ml package (never copied here)."""
    spec = importlib.util.find_spec("hls4ml")
    if spec is None or not spec.submodule_search_locations:
        raise BackendError("C-simulation needs the ap_int headers that ship with hls4ml: pip install ssa-fpga[csim]")
    path = Path(list(spec.submodule_search_locations)[0]) / "templates" / "vivado" / "ap_types"
    if not (path / "ap_int.h").is_file():
        raise BackendError(f"hls4ml is installed but {path / 'ap_int.h'} is missing; reinstall it: pip install ssa-fpga[csim]")
    return path


def find_compiler() -> list[str]:
    """The C++ compiler command: $CXX, else g++, else c++."""
    env = os.environ.get("CXX", "").strip()
    command = shlex.split(env) if env else [name for name in ("g++", "c++") if shutil.which(name)][:1]
    if not command or shutil.which(command[0]) is None:
        where = f"CXX={env!r} is not an executable" if env else "neither g++ nor c++ is on PATH"
        raise BackendError(f"C-simulation needs a C++17 compiler: {where}; install g++ (apt install g++) or set CXX")
    return command


def cache_dir() -> Path:
    """Where builds are kept: $SSA_CACHE_DIR, default ~/.cache/ssa/csim (created; BackendError if it cannot be)."""
    env = os.environ.get("SSA_CACHE_DIR", "")
    path = Path(env) if env.strip() else Path.home() / ".cache" / "ssa" / "csim"
    where = f"SSA_CACHE_DIR={env!r}" if env.strip() else f"the C-simulation cache {path}"
    if path.exists() and not path.is_dir():
        raise BackendError(f"{where} is a file, not a folder; point SSA_CACHE_DIR at a writable folder")
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise BackendError(f"cannot create {where}: {exc.strerror or exc}; point SSA_CACHE_DIR at a writable folder") from exc
    if not os.access(path, os.W_OK | os.X_OK):
        raise BackendError(f"{where} is not writable; point SSA_CACHE_DIR at a writable folder")
    return path


_compiler_ids: dict[tuple[str, ...], str] = {}


def _compiler_id(command: list[str]) -> str:
    key = tuple(command)
    if key not in _compiler_ids:
        try:
            done = subprocess.run([*command, "--version"], capture_output=True, text=True, timeout=60)
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise BackendError(f"cannot run the C++ compiler {shlex.join(command)}: {exc}; fix CXX or install g++") from exc
        _compiler_ids[key] = done.stdout.splitlines()[0] if done.stdout else shlex.join(command)
    return _compiler_ids[key]


def is_clang(command: list[str]) -> bool:
    """Whether the compiler is clang++ (its --version names clang), not g++."""
    return "clang" in _compiler_id(command).lower()


def _build_key(command: list[str], flags: list[str], root: Path) -> str:
    digest = hashlib.sha256()
    for part in (*command, _compiler_id(command), *flags):
        digest.update(part.encode() + b"\0")
    for path in sorted(p for p in root.rglob("*") if p.suffix in (".h", ".cpp")):
        digest.update(path.relative_to(root).as_posix().encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()[:20]


def _limit_defines(limits: Limits) -> list[str]:
    return [f"-DSSA_N_TILE={limits.array}", f"-DSSA_N_LIMIT={limits.n_max}", f"-DSSA_DK_MAX={limits.dk_max}",
            f"-DSSA_T_MAX={limits.t_max}"]


def _compile(prefix: str, flags: tuple[str, ...], sources: tuple[str, ...], limits: Limits) -> Path:
    """Compile sources (relative to hls/) into cache_dir()/<prefix>_<hash>, unless already there."""
    root, command = hls_source_dir(), find_compiler()
    if "-shared" in flags and not is_clang(command):
        flags = (*flags, *GCC_LIBRARY_FLAGS)
    all_flags = [*flags, *_limit_defines(limits), f"-I{root / 'csim'}", "-isystem", str(ap_types_dir())]
    target = cache_dir() / f"{prefix}_{_build_key(command, all_flags, root)}{'.so' if '-shared' in flags else ''}"
    if target.is_file():
        return target
    try:
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{prefix}_")
    except OSError as exc:
        raise BackendError(f"cannot write a C-simulation build into {target.parent}: {exc.strerror or exc}; "
                           "point SSA_CACHE_DIR at a writable folder") from exc
    os.close(fd)
    argv = [*command, *all_flags, *(str(root / s) for s in sources), "-o", tmp]
    try:
        done = subprocess.run(argv, capture_output=True, text=True, timeout=COMPILE_TIMEOUT_S)
        if done.returncode != 0:
            raise BackendError(f"compiling the HLS kernel failed ({shlex.join(argv)}):\n{done.stderr[-4000:]}")
        os.replace(tmp, target)  # atomic: concurrent builds of the same key are harmless
    except subprocess.TimeoutExpired as exc:
        raise BackendError(f"compiling the HLS kernel took over {COMPILE_TIMEOUT_S} s: {shlex.join(argv)}") from exc
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return target


def build_library(limits: Limits = DEFAULT_KERNEL_LIMITS) -> Path:
    """The shared library of ssa_top plus the C bridge for these maxima (cached)."""
    return _compile("ssa_csim", LIBRARY_FLAGS, ("ssa_top.cpp", "csim/ssa_bridge.cpp"), limits)


def build_testbench(limits: Limits = DEFAULT_KERNEL_LIMITS) -> Path:
    """The C-simulation testbench executable hls/tb_ssa.cpp for these maxima (cached)."""
    return _compile("tb_ssa", TESTBENCH_FLAGS, ("tb_ssa.cpp", "ssa_top.cpp"), limits)


# ---------------------------------------------------------------------------------------------
# The raw kernel


def _register(name: str, value: object) -> int:
    value = check_int(name, value)
    if not 0 <= value <= REGISTER_MAX:
        raise ConfigError(f"register {name}={value} does not fit a 32-bit AXI-Lite register (0..{REGISTER_MAX})")
    return value


class CSimKernel:
    """One C-simulated kernel build, called like the board's IP (one call at a time)."""

    _built: dict[Path, "CSimKernel"] = {}
    _built_lock = threading.Lock()

    def __init__(self, library: Path):
        self.library = library
        self._lib = ctypes.CDLL(str(library))
        u64p, u8p, u32p = (ctypes.POINTER(t) for t in (ctypes.c_uint64, ctypes.c_uint8, ctypes.c_uint32))
        self._call = self._lib.ssa_csim_call
        self._call.restype = ctypes.c_int
        self._call.argtypes = [u64p, u8p, ctypes.c_uint64, u64p, u8p, ctypes.c_uint64,
                               u64p, u64p, *[ctypes.c_uint32] * len(INPUT_REGISTERS), u32p, u32p, u32p]
        self._lock = threading.Lock()  # the kernel has state (like the hardware): one call at a time
        probe_regs = dict.fromkeys(INPUT_REGISTERS, 0) | dict(n=1, dk=1, t_steps=1)  # blocks = 0
        probe = self._run(np.zeros(0, np.uint64), np.zeros(0, np.uint8), probe_regs, 0)
        if probe.status != 0 or probe.words_out.size or probe.words_read:
            raise BackendError(f"{library}: a probe call (blocks=0) must give status 0 and no stream traffic, got {probe}")
        self.limits, version = decode_info(probe.info, probe.tile)
        check_version(version, f"the C-simulated kernel {library.name}")

    @classmethod
    def build(cls, limits: Limits = DEFAULT_KERNEL_LIMITS) -> "CSimKernel":
        """Compile (or reuse) the kernel with these parameters (n_tile None: untiled) and load it."""
        library = build_library(limits)
        with cls._built_lock:
            if library not in cls._built:
                kernel = cls(library)
                if kernel.limits != limits.tiled():
                    raise BackendError(f"{library} reports maxima {kernel.limits} but was built for {limits}")
                cls._built[library] = kernel
            return cls._built[library]

    def call(self, words_in: np.ndarray, last_in: np.ndarray, *, n: int, dk: int, t_steps: int, seed: int,
             blocks: int, gain_log2: int = 0) -> KernelResult:
        """Write the registers, stream words_in (TLAST from last_in) through ssa_top, return what came out.

        `gain_log2` is the contract-v2 register (0: the v1 encoders). Raises StreamError if the kernel
        reads past the last input word: on the board that read never completes (a DMA stall or a
        transfer shorter than the registers announce).
        """
        values = dict(n=n, dk=dk, t_steps=t_steps, seed=seed, blocks=blocks, gain_log2=gain_log2)
        regs = {name: _register(name, values[name]) for name in INPUT_REGISTERS}
        words, last = _as_stream(words_in, last_in)
        # A run that reads all its input writes a third as many words; a short one stalls earlier.
        return self._run(words, last, regs, min(self._output_words(regs), words.size // 3))

    def _run(self, words: np.ndarray, last: np.ndarray, regs: dict[str, int], capacity: int) -> KernelResult:
        words_out, last_out = np.zeros(capacity, np.uint64), np.zeros(capacity, np.uint8)
        n_out, n_read = ctypes.c_uint64(), ctypes.c_uint64()
        status, info, tile = ctypes.c_uint32(), ctypes.c_uint32(), ctypes.c_uint32()
        with self._lock:
            code = self._call(_ptr(words, ctypes.c_uint64), _ptr(last, ctypes.c_uint8), words.size,
                              _ptr(words_out, ctypes.c_uint64), _ptr(last_out, ctypes.c_uint8), capacity,
                              ctypes.byref(n_out), ctypes.byref(n_read), *(regs[name] for name in INPUT_REGISTERS),
                              ctypes.byref(status), ctypes.byref(info), ctypes.byref(tile))
        if code == _INPUT_EXHAUSTED:
            raise StreamError(
                f"the kernel ran out of input: it read all {words.size} words and waited for more "
                f"(registers {_describe(regs)} need {stream_word_counts(regs['blocks'], regs['t_steps'], regs['n'], regs['dk'])[0]}); "
                "on the board this is a DMA stall: send the whole stream of the configured blocks"
            )
        if code == _OUTPUT_OVERFLOW:
            raise BackendError(f"the kernel wrote {n_out.value} output words, more than the {capacity} its registers imply ({_describe(regs)})")
        if code != _OK:
            raise BackendError(f"the C-simulated kernel failed (bridge code {code}) for {_describe(regs)}; rebuild it or report a bug")
        count = int(n_out.value)
        return KernelResult(words_out[:count], last_out[:count].astype(bool), int(status.value), int(info.value),
                            int(tile.value), int(n_read.value))

    def _output_words(self, regs: dict[str, int]) -> int:
        """Output words of a call with these registers: none when the kernel will refuse them."""
        n, dk, t, blocks = regs["n"], regs["dk"], regs["t_steps"], regs["blocks"]
        if blocks > BLOCKS_MAX or regs["gain_log2"] > self.limits.gain_log2_max:
            return 0
        if not (1 <= n <= self.limits.n_max and 1 <= dk <= self.limits.dk_max and 1 <= t <= self.limits.t_max):
            return 0
        return stream_word_counts(blocks, t, n, dk)[1]


def _as_stream(words_in: np.ndarray, last_in: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    if not isinstance(words_in, np.ndarray) or words_in.ndim != 1 or words_in.dtype != np.uint64:
        raise StreamError(f"words_in must be a 1-D numpy uint64 array, got {getattr(words_in, 'dtype', type(words_in).__name__)} "
                          f"of shape {getattr(words_in, 'shape', None)}")
    if not isinstance(last_in, np.ndarray) or last_in.dtype != np.bool_ or last_in.shape != words_in.shape:
        raise StreamError(f"last_in must be a numpy bool array shaped like words_in {words_in.shape}, "
                          f"got {getattr(last_in, 'dtype', type(last_in).__name__)} of shape {getattr(last_in, 'shape', None)}")
    return np.ascontiguousarray(words_in), np.ascontiguousarray(last_in, dtype=np.uint8)


def _ptr(array: np.ndarray, ctype: type) -> ctypes._Pointer:
    return array.ctypes.data_as(ctypes.POINTER(ctype))


def _describe(regs: dict[str, int]) -> str:
    return ", ".join(f"{k}={v}" for k, v in regs.items())


# ---------------------------------------------------------------------------------------------
# The backend


class CSimBackend:
    """Runs SSA blocks on the C-simulated kernel, driving it exactly as the board driver will."""

    name = "csim"

    def __init__(self, limits: Limits = DEFAULT_KERNEL_LIMITS):
        self.kernel = CSimKernel.build(limits)

    @property
    def limits(self) -> Limits:
        """The maxima the kernel reported in its probe call."""
        return self.kernel.limits

    def run(self, q: np.ndarray, k: np.ndarray, v: np.ndarray, config: SSAConfig) -> np.ndarray:
        """Attn spikes (uint8) shaped like q: [T, N, D_K] or [T, B, H, N, D_K]."""
        call = partial(self._call, config)
        return run_on_kernel(q, k, v, config, limits=self.limits, where="the C-simulated kernel", call=call)

    def _call(self, config: SSAConfig, words: np.ndarray, blocks: int, seed: int) -> np.ndarray:
        """One kernel call; checks status, words read and TLAST exactly as the board driver must."""
        last = np.zeros(words.size, bool)
        last[-1] = True
        result = self.kernel.call(words, last, n=config.n, dk=config.dk, t_steps=config.t,
                                  seed=seed, blocks=blocks, gain_log2=config.gain_log2)
        check_status(result.status, "csim kernel")
        if result.words_read != words.size:
            raise StreamError(f"the kernel read {result.words_read} of {words.size} input words; the rest would stall the DMA")
        expected = stream_word_counts(blocks, config.t, config.n, config.dk)[1]
        if result.words_out.size != expected:
            raise StreamError(f"the kernel wrote {result.words_out.size} output words, expected {expected}")
        tlast = np.flatnonzero(result.last_out)
        if tlast.tolist() != [expected - 1]:
            raise StreamError(f"output TLAST is set on words {tlast.tolist()[:8]} of {expected}; it must be on the final word only")
        return result.words_out
