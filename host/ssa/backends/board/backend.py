"""The `pynq` backend: SSA blocks on a PYNQ-Z2/Z1 through the overlay built in overlay/.

Same interface as the other backends (`run(q, k, v, config)` on [T, N, D_K] or [T, B, H, N, D_K]
spikes, mode "lfsr"; a `config.gain_log2` other than 0 only on an overlay whose kernel has that
register, contract v2). PYNQ is imported only when a backend is created (`ssa.backends.board.driver`),
so this module and `import ssa` work on machines without it.

A batch of B·H blocks becomes as few kernel calls as the DMA transfer limit (2^26 − 1 bytes with the
overlay's 26-bit length registers), the buffer cap and the 16-bit `blocks` register allow; call c
starts at block k_c and gets seed + k_c, so the split is invisible in the output (spec section 6).
"""
from __future__ import annotations

import importlib
import importlib.util
import os
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np

from ssa.backends.kernel_calls import run_on_kernel
from ssa.contract.config import Limits, SSAConfig
from ssa.contract.packing import stream_word_counts
from ssa.errors import BackendError, ConfigError, OverlayError

BITSTREAM_NAME = "ssa.bit"
#: Environment variable naming the overlay's .bit (its .hwh lies beside it).
BITSTREAM_ENV = "SSA_BITSTREAM"
DEFAULT_TIMEOUT_S = 5.0
#: Cap of each DMA buffer (input and output): bounds the physically contiguous memory one backend holds.
DEFAULT_MAX_BUFFER_BYTES = 32 * 2**20
BUILD_HINT = (
    "build it with `make -C overlay` (Vivado/Vitis HLS 2024.1, see overlay/README.md) and copy "
    "ssa.bit and ssa.hwh side by side to the board, then pass the .bit path (PynqBackend(bitstream=...), "
    f"`--bitstream`, or ${BITSTREAM_ENV}) or put both in <pynq package>/overlays/ssa/"
)


def pynq_overlay_dir() -> Path | None:
    """<pynq>/overlays/ssa, where PYNQ keeps installed overlays (None without PYNQ)."""
    try:
        spec = importlib.util.find_spec("pynq")
    except (ImportError, ValueError):  # a broken or blocked pynq
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(list(spec.submodule_search_locations)[0]) / "overlays" / "ssa"


def find_bitstream(path: str | os.PathLike[str] | None = None) -> Path:
    """The overlay's .bit: `path`, else $SSA_BITSTREAM, else ./ssa.bit or <pynq>/overlays/ssa/ssa.bit.

    Raises OverlayError when the .bit or the .hwh beside it is missing.
    """
    if path is None and os.environ.get(BITSTREAM_ENV):
        path = os.environ[BITSTREAM_ENV]
    if path is not None:
        candidates = [Path(path)]
    else:
        installed = pynq_overlay_dir()
        candidates = [Path.cwd() / BITSTREAM_NAME] + ([installed / BITSTREAM_NAME] if installed else [])
    for bit in candidates:
        if bit.is_file():
            hwh = bit.with_suffix(".hwh")
            if not hwh.is_file():
                raise OverlayError(f"{bit} has no {hwh.name} beside it: PYNQ needs both; copy the ssa.hwh of the same build next to it")
            return bit.resolve()
    raise OverlayError(f"no SSA overlay bitstream at {', '.join(map(str, candidates))}: {BUILD_HINT}")


def load_pynq_driver() -> ModuleType:
    """`ssa.backends.board.driver` (BackendError saying how to install PYNQ when it is missing)."""
    try:
        return importlib.import_module("ssa.backends.board.driver")
    except ImportError as exc:
        raise BackendError(
            f"the pynq backend needs PYNQ ({exc}): on a PYNQ-Z2/Z1 running a PYNQ 3.x image, "
            "`pip install ssa-fpga[board]`; on other machines use the emulate or csim backends"
        ) from exc


class PynqBackend:
    """Runs SSA blocks on the FPGA of a PYNQ board (bit-exact with the emulator)."""

    name = "pynq"

    def __init__(self, bitstream: str | os.PathLike[str] | None = None, *, timeout_s: float = DEFAULT_TIMEOUT_S,
                 max_buffer_bytes: int = DEFAULT_MAX_BUFFER_BYTES, device: Any = None, download: bool = True):
        """Load the overlay (`bitstream`, see find_bitstream) and probe its kernel.

        `timeout_s` bounds every wait of one call; `device` is PYNQ's device (default: this board's);
        `download=False` uses the overlay already loaded in the PL.
        """
        if timeout_s <= 0 or max_buffer_bytes < 8:
            raise ConfigError(f"timeout_s ({timeout_s}) must be positive and max_buffer_bytes ({max_buffer_bytes}) at least 8")
        driver = load_pynq_driver()
        self.overlay = driver.SSAOverlay(find_bitstream(bitstream), device=device, download=download, timeout_s=timeout_s)
        self.board = driver.BoardKernel(self.overlay, timeout_s)
        self.max_buffer_bytes = max_buffer_bytes

    @property
    def limits(self) -> Limits:
        """The synthesized maxima the kernel reported in its probe call."""
        return self.board.limits

    def run(self, q: np.ndarray, k: np.ndarray, v: np.ndarray, config: SSAConfig) -> np.ndarray:
        """Attn spikes (uint8) shaped like q: [T, N, D_K] or [T, B, H, N, D_K]."""
        def call(words: np.ndarray, blocks: int, seed: int) -> np.ndarray:
            out_words = stream_word_counts(blocks, config.t, config.n, config.dk)[1]
            return self.board.call(words, out_words, n=config.n, dk=config.dk, t_steps=config.t, seed=seed, blocks=blocks,
                                   gain_log2=config.gain_log2)

        max_bytes = min(self.board.max_transfer_bytes, self.max_buffer_bytes)
        return run_on_kernel(q, k, v, config, limits=self.limits, where="the board's kernel", call=call, max_bytes=max_bytes,
                             max_call_cycles=self.board.call_cycle_budget())

    def close(self) -> None:
        """Free the DMA buffers (the overlay stays loaded)."""
        self.board.close()
