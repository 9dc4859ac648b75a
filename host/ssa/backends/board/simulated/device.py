"""The simulated Zynq-7000 as a PYNQ device: register access, allocation, overlay download."""
from __future__ import annotations

import struct
from pathlib import Path
from typing import TYPE_CHECKING

import pynq
from pynq.buffer import PynqBuffer
from pynq.metadata.runtime_metadata_parser import RuntimeMetadataParser
from pynq.ps import Clocks
from pynqmetadata.frontends import Metadata

from ssa.backends.board.simulated.address_map import (
    IP_RANGE,
    SLCR_BASE,
    SLCR_RANGE,
    SSA_VLNV,
)
from ssa.backends.board.simulated.dma import AxiDma, Faults
from ssa.backends.board.simulated.hwh import write_overlay
from ssa.backends.board.simulated.kernel import SsaKernelBlock
from ssa.backends.board.simulated.memory import BusError, Memory
from ssa.backends.csim import CSimKernel
from ssa.contract.registers import REGISTER_OFFSETS

if TYPE_CHECKING:
    from ssa.backends.board.backend import PynqBackend


class SimulatedBoard(pynq.Device):
    """A Zynq-7000 with the SSA overlay's PL, as a PYNQ device with register access."""

    def __init__(self, csim: CSimKernel, *, register_offsets: dict[str, int] = REGISTER_OFFSETS):
        super().__init__("ssa-board-double")
        self.name = "ssa-board-double"
        self.arch = "armv7l"  # Zynq-7000: PYNQ programs its clocks through the SLCR below
        self.capabilities = {"REGISTER_RW": True, "MEMORY_MAPPED": False, "CALLABLE": False}
        self.csim, self.register_offsets = csim, register_offsets
        self.memory = Memory()
        self.faults = Faults()
        self.transfers: list[tuple[str, int, int]] = []
        self.kernel_starts: list[dict[str, int]] = []
        self.downloads: list[str] = []
        self.slcr = bytearray(SLCR_RANGE)
        for offset, value in ((0x100, 26 << 12), (0x104, 21 << 12), (0x108, 20 << 12), (0x120, 2 << 8)):
            self.slcr[offset:offset + 4] = struct.pack("<I", value)  # ARM/DDR/IO PLL at 50 MHz x FDIV, CPU /2
        self.dma: AxiDma | None = None
        self.kernel: SsaKernelBlock | None = None
        self.blocks: dict[int, object] = {}

    # PYNQ Device interface ----------------------------------------------------------------------

    def get_bitfile_metadata(self, bitfile_name: str, partial: bool = False) -> RuntimeMetadataParser:
        """PYNQ's own .hwh parser, as EmbeddedDevice uses it (minus the XRT xclbin it synthesizes)."""
        return RuntimeMetadataParser(Metadata(input=Path(bitfile_name).with_suffix(".hwh")))

    def download(self, bitstream: object, parser: RuntimeMetadataParser | None = None) -> None:
        """'Program' the PL: instantiate the models of the IPs the .hwh describes at their addresses."""
        self.downloads.append(bitstream.bitfile_name)
        if hasattr(Clocks, "_real_instance"):
            del Clocks._real_instance  # PYNQ caches its clock driver per process; bind it to this device
        self.blocks, self.dma, self.kernel = {}, None, None
        for ip in parser.ip_dict.values():
            if ip["type"] == "xilinx.com:ip:axi_dma:7.1":
                self.dma = AxiDma(self, int(ip["parameters"]["c_sg_length_width"]))
                self.blocks[ip["phys_addr"]] = self.dma
            elif ip["type"] == SSA_VLNV:
                self.kernel = SsaKernelBlock(self, self.csim, self.register_offsets)
                self.blocks[ip["phys_addr"]] = self.kernel
        self.post_download(bitstream, parser, self.name)

    def allocate(self, shape: tuple[int, ...] | int, dtype: object, **kwargs: object) -> PynqBuffer:
        return self.memory.allocate(self, shape, dtype)

    def flush(self, bo: int, offset: int, ptr: int, size: int) -> None:
        self.memory.flush(bo, offset, size)

    def invalidate(self, bo: int, offset: int, ptr: int, size: int) -> None:
        self.memory.invalidate(bo, offset, size)

    def read_registers(self, address: int, length: int) -> bytes:
        data = b"".join(struct.pack("<I", self._read32(address + i)) for i in range(0, length, 4))
        self._advance()
        return data[:length]

    def write_registers(self, address: int, data: bytes) -> None:
        for i in range(0, len(data), 4):
            self._write32(address + i, struct.unpack("<I", data[i:i + 4])[0])
        self._advance()

    # Address decoding ---------------------------------------------------------------------------

    def _target(self, address: int) -> tuple[object | None, int]:
        for base, block in self.blocks.items():
            if base <= address < base + IP_RANGE:
                return block, address - base
        if SLCR_BASE <= address < SLCR_BASE + SLCR_RANGE:
            return "slcr", address - SLCR_BASE
        raise BusError(f"no register at 0x{address:08x}")

    def _read32(self, address: int) -> int:
        block, offset = self._target(address)
        if block == "slcr":
            return struct.unpack("<I", self.slcr[offset:offset + 4])[0]
        return block.read(offset)

    def _write32(self, address: int, value: int) -> None:
        block, offset = self._target(address)
        if block == "slcr":
            self.slcr[offset:offset + 4] = struct.pack("<I", value)
        else:
            block.write(offset, value)

    def _advance(self) -> None:
        if self.kernel is not None:
            self.kernel.advance()


def open_simulated_backend(directory: Path, timeout_s: float = 5.0) -> "PynqBackend":
    """The `pynq` backend on a simulated board whose kernel is the C-simulated HLS kernel."""
    from ssa.backends.board.backend import PynqBackend

    return PynqBackend(write_overlay(Path(directory)), device=SimulatedBoard(CSimKernel.build()), timeout_s=timeout_s)
