"""The AXI DMA in simple mode (PG021 registers) and the faults a test can inject into the board."""
from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from ssa.backends.board.simulated.memory import BusError

if TYPE_CHECKING:
    from ssa.backends.board.simulated.device import SimulatedBoard

RS, RESET = 0x1, 0x4
HALTED, IDLE, INT_ERR, SLV_ERR, DEC_ERR = 0x1, 0x2, 0x10, 0x20, 0x40
IOC_IRQ, ERR_IRQ = 0x1000, 0x4000



@dataclass
class Faults:
    """Faults a test can inject into the double."""

    dma_error: tuple[str, int] | None = None  # (channel "MM2S"/"S2MM", DMASR error bits) on its next transfer
    stall_kernel: bool = False  # the kernel never accepts input or finishes
    drop_tlast: bool = False  # the kernel's output stream carries no TLAST
    truncate_output: int = 0  # the kernel drops this many final output words (TLAST on the new last one)
    dead_dma: bool = False  # the DMA never leaves the halted state (no clock, held in reset)
    flip_input_bit: int | None = None  # this bit of the first MM2S word is corrupted on its way


@dataclass
class Channel:
    """One DMA channel's registers and transfer state."""

    name: str
    dmacr: int = 0x0001_0000
    dmasr: int = HALTED
    address: int = 0
    address_msb: int = 0
    length: int = 0
    busy: bool = False
    written: int = 0  # S2MM: bytes written in this transfer

    def complete(self, length: int | None = None) -> None:
        self.busy = False
        self.dmasr |= IDLE | IOC_IRQ
        if length is not None:
            self.length = length

    def fail(self, bits: int) -> None:
        self.busy = False
        self.dmacr &= ~RS
        self.dmasr |= bits | ERR_IRQ | HALTED


class AxiDma:
    """PG021 AXI DMA in simple mode, LENGTH registers `length_width` bits wide."""

    def __init__(self, board: "SimulatedBoard", length_width: int):
        self.board = board
        self.mask = (1 << length_width) - 1
        self.mm2s, self.s2mm = Channel("MM2S"), Channel("S2MM")
        self.stream: np.ndarray | None = None  # MM2S words not yet taken by the kernel
        self.resets = 0  # soft resets (DMACR.Reset) so far

    def reset(self) -> None:
        self.mm2s, self.s2mm = Channel("MM2S"), Channel("S2MM")
        self.stream = None
        self.resets += 1

    def _channel(self, offset: int) -> tuple[Channel, int]:
        return (self.mm2s, offset) if offset < 0x30 else (self.s2mm, offset - 0x30)

    def read(self, offset: int) -> int:
        channel, reg = self._channel(offset)
        return {0x00: channel.dmacr, 0x04: channel.dmasr, 0x18: channel.address, 0x1C: channel.address_msb,
                0x28: channel.length}.get(reg, 0)

    def write(self, offset: int, value: int) -> None:
        channel, reg = self._channel(offset)
        if reg == 0x00:
            if value & RESET:
                self.reset()  # resets both channels; the bit self-clears
                return
            channel.dmacr = value
            if value & RS and not channel.dmasr & (INT_ERR | SLV_ERR | DEC_ERR) and not self.board.faults.dead_dma:
                channel.dmasr &= ~HALTED
            elif not value & RS and not channel.busy:
                channel.dmasr |= HALTED
        elif reg == 0x04:
            channel.dmasr &= ~(value & (IOC_IRQ | ERR_IRQ | 0x2000))  # interrupt bits: write 1 to clear
        elif reg == 0x18:
            channel.address = value
        elif reg == 0x1C:
            channel.address_msb = value
        elif reg == 0x28:
            self._start(channel, value & self.mask)

    def _start(self, channel: Channel, length: int) -> None:
        if not channel.dmacr & RS or channel.dmasr & HALTED:
            return  # a halted channel ignores LENGTH
        self.board.transfers.append((channel.name, channel.address, length))
        channel.busy, channel.written = True, 0
        channel.dmasr &= ~IDLE
        fault = self.board.faults.dma_error
        if fault and fault[0] == channel.name:
            self.board.faults.dma_error = None
            channel.fail(fault[1])
        elif length == 0:
            channel.fail(INT_ERR)
        elif channel is self.mm2s:
            try:
                data = self.board.memory.dram(channel.address, length)
            except BusError:
                channel.fail(DEC_ERR)
                return
            self.stream = np.frombuffer(data.tobytes()[: length // 8 * 8], "<u8").copy()
            flip = self.board.faults.flip_input_bit
            if flip is not None and self.stream.size:
                self.stream[0] ^= np.uint64(1 << flip)
        else:
            channel.length = length  # capacity until TLAST, then the bytes written

    def accept(self, words: np.ndarray, last: np.ndarray) -> int:
        """S2MM takes output words until TLAST or its buffer is full; returns how many it took."""
        channel = self.s2mm
        if not channel.busy:
            return 0
        for i, (word, tlast) in enumerate(zip(words, last)):
            if channel.written + 8 > channel.length:
                channel.fail(INT_ERR)  # packet longer than the receive buffer
                return i
            try:
                self.board.memory.dram(channel.address + channel.written, 8)[:] = np.frombuffer(struct.pack("<Q", int(word)), np.uint8)
            except BusError:
                channel.fail(DEC_ERR)
                return i
            channel.written += 8
            if tlast:
                channel.complete(length=channel.written)
                return i + 1
        return len(words)
