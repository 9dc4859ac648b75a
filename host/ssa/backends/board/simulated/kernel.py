"""The SSA kernel's AXI-Lite block (ap_ctrl_hs) around the C-simulated kernel.

A register map without `gain_log2` models a kernel built before contract v2: its `info` word reports
version 1 and its encoders run with gain 0 (which is version 1 bit for bit).
"""
from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from ssa.backends.csim import CSimKernel
from ssa.contract.registers import (
    CTRL_AP_DONE,
    CTRL_AP_IDLE,
    CTRL_AP_READY,
    CTRL_AP_START,
    encode_info,
)
from ssa.errors import StreamError

if TYPE_CHECKING:
    from ssa.backends.board.simulated.device import SimulatedBoard


#: Argument registers ssa_top reads at ap_start; `gain_log2` only where the register map has it.
ARGUMENTS = ("n", "dk", "t_steps", "seed", "blocks", "gain_log2")
#: The `info` version field of a kernel without the `gain_log2` register.
V1 = 1


class SsaKernelBlock:
    """ap_ctrl_hs registers of ssa_top around the C-simulated kernel (a v1 kernel without `gain_log2`)."""

    def __init__(self, board: "SimulatedBoard", csim: CSimKernel, offsets: dict[str, int]):
        self.board, self.csim = board, csim
        self.arguments = tuple(name for name in ARGUMENTS if name in offsets)
        self.version_1 = "gain_log2" not in offsets
        self.by_offset = {offset: name for name, offset in offsets.items()}
        self.values = {name: 0 for name in offsets}
        self.running = self.done = self.stalled = False
        self.valid = {"status": False, "info": False, "tile": False}
        self.args: dict[str, int] = {}
        self.tried_without_input = False
        self.output: tuple[np.ndarray, np.ndarray] | None = None  # words and TLAST not yet taken by S2MM
        self.result_regs: tuple[int, int, int] | None = None

    def read(self, offset: int) -> int:
        name = self.by_offset.get(offset)
        if name == "CTRL":
            value = (CTRL_AP_START if self.running else CTRL_AP_IDLE) | (CTRL_AP_DONE | CTRL_AP_READY if self.done else 0)
            self.done = False  # clear on read
            return value
        if name in ("status_ctrl", "info_ctrl", "tile_ctrl"):
            which = name[:-5]
            value, self.valid[which] = int(self.valid[which]), False  # ap_vld clears on read
            return value
        return self.values.get(name, 0) if name else 0

    def write(self, offset: int, value: int) -> None:
        name = self.by_offset.get(offset)
        if name == "CTRL":
            if value & CTRL_AP_START and not self.running:
                self.running = True
                self.args = {k: self.values[k] for k in self.arguments}
                self.tried_without_input, self.output, self.result_regs = False, None, None
                self.board.kernel_starts.append(dict(self.args))
        elif name in (*self.arguments, "GIER", "IP_IER"):
            self.values[name] = value

    def advance(self) -> None:
        """Run the kernel as far as its input and the S2MM channel allow."""
        if not self.running or self.stalled or self.board.faults.stall_kernel:
            return
        dma = self.board.dma
        if self.result_regs is None:
            if dma.stream is None and self.tried_without_input:
                return  # still waiting for MM2S
            words = dma.stream if dma.stream is not None else np.zeros(0, np.uint64)
            self.tried_without_input = True
            last = np.zeros(words.size, bool)
            last[-1:] = True  # MM2S sets TLAST on the final beat of its transfer
            try:
                result = self.csim.call(words, last, **{"gain_log2": 0, **self.args})
            except StreamError:
                if words.size:  # it read every word and waits for more, forever
                    dma.stream = None
                    dma.mm2s.complete()
                    self.stalled = True
                return
            if words.size and result.words_read == words.size:
                dma.stream = None
                dma.mm2s.complete()
            self.output = self._faulty(result.words_out, result.last_out)
            info = encode_info(self.csim.limits, version=V1) if self.version_1 else result.info
            self.result_regs = (result.status, info, result.tile)
        if self.output is not None and self.output[0].size:
            taken = dma.accept(*self.output)
            self.output = (self.output[0][taken:], self.output[1][taken:])
        if self.output is not None and self.output[0].size == 0:
            self.values["status"], self.values["info"], self.values["tile"] = self.result_regs
            self.valid = {"status": True, "info": True, "tile": True}
            self.running, self.done, self.output = False, True, None

    def _faulty(self, words: np.ndarray, last: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        faults = self.board.faults
        words, last = words.copy(), last.copy()
        if faults.truncate_output and words.size:
            words, last = words[: -faults.truncate_output], last[: -faults.truncate_output]
            last[-1:] = True
        if faults.drop_tlast:
            last[:] = False
        return words, last
