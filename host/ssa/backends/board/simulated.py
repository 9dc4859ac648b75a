"""A simulated PYNQ board: the real driver (ssa.backends.board.backend / ssa.backends.board.driver) without a board.

Used by the board-less tests and by notebook 03 on a laptop (`open_simulated_backend`).

It sits where PYNQ meets the hardware, so PYNQ's own code runs unmodified above it: `Overlay` parses
a small .hwh written here with PYNQ's own metadata parser, `DefaultIP`/`MMIO` access registers
through the device's register interface (PYNQ's REGISTER_RW capability, the one its own mock devices
use), `pynq.lib.dma.DMA` programs the DMA registers, `pynq.allocate` returns `PynqBuffer`s whose
flush/invalidate call back into the device. Below that line the double models:

- DDR behind a non-coherent CPU cache: a buffer's CPU view and its DDR copy are separate; `flush`
  copies CPU -> DDR, `invalidate` DDR -> CPU, and the DMA only sees DDR;
- the AXI DMA in simple mode (PG021 registers MM2S/S2MM DMACR, DMASR, SA/DA, LENGTH): MM2S streams
  its buffer with TLAST on the last beat; S2MM writes up to LENGTH bytes and completes only on TLAST,
  LENGTH then reading back the bytes written; error bits halt the channel;
- the SSA kernel's AXI-Lite block (ap_ctrl_hs, clear-on-read ap_done and ap_vld), which hands the
  bytes MM2S streams to the C-simulated kernel (`ssa.backends.csim.CSimKernel.call`) and what it returns,
  TLAST included, to S2MM;
- the SLCR clock registers PYNQ programs from the .hwh, as plain memory.

Time advances on every register access (each poll of the driver). Simplifications: one MM2S
transfer holds a call's whole input (the driver never splits one), and a kernel that ran out of
input stalls for good. Faults (`Faults`) inject DMA error bits, a stalled kernel, a missing TLAST
and a truncated output.
"""
from __future__ import annotations

import struct
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pynq
from pynq.buffer import PynqBuffer
from pynq.metadata.runtime_metadata_parser import RuntimeMetadataParser
from pynq.ps import Clocks
from pynqmetadata.frontends import Metadata

from ssa.backends.csim import CSimKernel
from ssa.errors import StreamError
from ssa.contract.registers import CTRL_AP_DONE, CTRL_AP_IDLE, CTRL_AP_READY, CTRL_AP_START, REGISTER_OFFSETS

if TYPE_CHECKING:
    from ssa.backends.board.backend import PynqBackend

SSA_VLNV = "xilinx.com:hls:ssa_top:1.0"
DMA_BASE, SSA_BASE, IP_RANGE = 0x4040_0000, 0x43C0_0000, 0x1_0000
SLCR_BASE, SLCR_RANGE = 0xF800_0000, 0x1000
DDR_BASE = 0x1000_0000  # where the double's CMA-like allocations start

# PG021 simple-mode register map of one channel (MM2S at 0x00, S2MM at 0x30).
DMA_REGISTERS = {
    "MM2S_DMACR": 0x00, "MM2S_DMASR": 0x04, "MM2S_SA": 0x18, "MM2S_SA_MSB": 0x1C, "MM2S_LENGTH": 0x28,
    "S2MM_DMACR": 0x30, "S2MM_DMASR": 0x34, "S2MM_DA": 0x48, "S2MM_DA_MSB": 0x4C, "S2MM_LENGTH": 0x58,
}
RS, RESET = 0x1, 0x4
HALTED, IDLE, INT_ERR, SLV_ERR, DEC_ERR = 0x1, 0x2, 0x10, 0x20, 0x40
IOC_IRQ, ERR_IRQ = 0x1000, 0x4000


# ------------------------------------------------------------------------------------------------
# Overlay files


def write_overlay(directory: Path, *, kernel_vlnv: str = SSA_VLNV, sg_length_width: int = 26,
                  register_offsets: dict[str, int] = REGISTER_OFFSETS) -> Path:
    """Write ssa.bit (placeholder bytes: the double programs nothing) and a minimal ssa.hwh.

    The .hwh holds what PYNQ reads: the PS7 with its clock parameters and GP0 address map, the AXI
    DMA with the parameters overlay/ssa_bd.tcl sets, and the HLS IP with its register map.
    """
    directory.mkdir(parents=True, exist_ok=True)
    bit = directory / "ssa.bit"
    bit.write_bytes(b"board_double placeholder bitstream\n")
    bit.with_suffix(".hwh").write_bytes(_hwh(kernel_vlnv, sg_length_width, register_offsets))
    return bit


def _hwh(kernel_vlnv: str, sg_length_width: int, register_offsets: dict[str, int]) -> bytes:
    root = ET.Element("EDKSYSTEM", EDWVERSION="1.2", TIMESTAMP="board double", VIVADOVERSION="2024.1")
    ET.SubElement(root, "SYSTEMINFO", ARCH="zynq", DEVICE="7z020", NAME="ssa", PACKAGE="clg400", SPEEDGRADE="-1")
    ET.SubElement(root, "EXTERNALPORTS")
    ET.SubElement(root, "EXTERNALINTERFACES")
    modules = ET.SubElement(root, "MODULES")
    kernel = kernel_vlnv.split(":")[2] + "_0"

    ps = _module(modules, "processing_system7_0", "xilinx.com:ip:processing_system7:5.5", IS_PL="FALSE")
    clocks = {"PCW_USE_S_AXI_HP0": "1", "PCW_S_AXI_HP0_DATA_WIDTH": "64", "PCW_FPGA0_PERIPHERAL_FREQMHZ": "100"}
    for i in range(4):
        clocks |= {f"PCW_FPGA_FCLK{i}_ENABLE": str(int(i == 0)),
                   f"PCW_FCLK{i}_PERIPHERAL_DIVISOR0": "5" if i == 0 else "1",
                   f"PCW_FCLK{i}_PERIPHERAL_DIVISOR1": "2" if i == 0 else "1"}
    _parameters(ps, clocks)
    _interfaces(ps, [("M_AXI_GP0", "MASTER", "aximm"), ("S_AXI_HP0", "SLAVE", "aximm")])
    memory = ET.SubElement(ps, "MEMORYMAP")
    for instance, slave, base in (("axi_dma_0", "S_AXI_LITE", DMA_BASE), (kernel, "s_axi_control", SSA_BASE)):
        ET.SubElement(memory, "MEMRANGE", ADDRESSBLOCK="Reg", BASEVALUE=f"0x{base:08X}", HIGHVALUE=f"0x{base + IP_RANGE - 1:08X}",
                      INSTANCE=instance, MASTERBUSINTERFACE="M_AXI_GP0", MEMTYPE="REGISTER", SLAVEBUSINTERFACE=slave)

    dma = _module(modules, "axi_dma_0", "xilinx.com:ip:axi_dma:7.1")
    _registers(dma, "S_AXI_LITE", DMA_REGISTERS)
    _parameters(dma, {"c_include_sg": "0", "c_sg_length_width": str(sg_length_width), "c_micro_dma": "0",
                      "c_include_mm2s": "1", "c_include_s2mm": "1", "c_include_mm2s_dre": "0", "c_include_s2mm_dre": "0",
                      "c_m_axi_mm2s_data_width": "64", "c_m_axis_mm2s_tdata_width": "64",
                      "c_m_axi_s2mm_data_width": "64", "c_s_axis_s2mm_tdata_width": "64"})
    _interfaces(dma, [("S_AXI_LITE", "SLAVE", "aximm"), ("M_AXI_MM2S", "MASTER", "aximm"), ("M_AXI_S2MM", "MASTER", "aximm"),
                      ("M_AXIS_MM2S", "INITIATOR", "axis"), ("S_AXIS_S2MM", "TARGET", "axis")])

    ssa = _module(modules, kernel, kernel_vlnv)
    _registers(ssa, "s_axi_control", register_offsets)
    _interfaces(ssa, [("s_axi_control", "SLAVE", "aximm"), ("in_stream", "SLAVE", "axis"), ("out_stream", "MASTER", "axis")])
    return ET.tostring(root, encoding="UTF-8", xml_declaration=True)


def _module(parent: ET.Element, instance: str, vlnv: str, **extra: str) -> ET.Element:
    return ET.SubElement(parent, "MODULE", FULLNAME=f"/{instance}", INSTANCE=instance, IPTYPE="PERIPHERAL",
                         MODTYPE=vlnv.split(":")[2], VLNV=vlnv, **extra)


def _parameters(module: ET.Element, values: dict[str, str]) -> None:
    block = ET.SubElement(module, "PARAMETERS")
    for name, value in values.items():
        ET.SubElement(block, "PARAMETER", NAME=name, VALUE=value)


def _interfaces(module: ET.Element, interfaces: list[tuple[str, str, str]]) -> None:
    block = ET.SubElement(module, "BUSINTERFACES")
    for name, kind, protocol in interfaces:
        ET.SubElement(block, "BUSINTERFACE", NAME=name, TYPE=kind, VLNV=f"xilinx.com:interface:{protocol}:1.0")


def _registers(module: ET.Element, interface: str, offsets: dict[str, int]) -> None:
    blocks = ET.SubElement(module, "ADDRESSBLOCKS")
    block = ET.SubElement(blocks, "ADDRESSBLOCK", ACCESS="read-write", INTERFACE=interface, NAME="Reg",
                          RANGE=str(IP_RANGE), USAGE="register")
    registers = ET.SubElement(block, "REGISTERS")
    for name, offset in offsets.items():
        register = ET.SubElement(registers, "REGISTER", NAME=name)
        for key, value in (("ADDRESS_OFFSET", hex(offset)), ("SIZE", "32"), ("ACCESS", "read-write"), ("IS_ENABLED", "true")):
            ET.SubElement(register, "PROPERTY", NAME=key, VALUE=value)


# ------------------------------------------------------------------------------------------------
# Memory


@dataclass
class _Allocation:
    phys: int
    cpu: np.ndarray  # bytes the CPU sees (through its cache)
    ddr: np.ndarray  # bytes in DRAM, the only ones the DMA sees


class BusError(Exception):
    """An access the interconnect cannot route: the DMA turns it into DMADecErr."""


class Memory:
    """DDR with a non-coherent CPU cache in front, one region per allocation."""

    def __init__(self) -> None:
        self.allocations: dict[int, _Allocation] = {}
        self._next = DDR_BASE

    def allocate(self, device: "SimulatedBoard", shape: tuple[int, ...] | int, dtype: object) -> PynqBuffer:
        shape = (shape,) if isinstance(shape, int) else tuple(shape)
        nbytes = int(np.prod(shape, dtype=np.int64)) * np.dtype(dtype).itemsize
        handle = len(self.allocations) + 1
        region = _Allocation(self._next, np.zeros(nbytes, np.uint8), np.zeros(nbytes, np.uint8))
        self.allocations[handle] = region
        self._next += (nbytes + 4095) // 4096 * 4096 + 4096  # page aligned, with a guard page
        return PynqBuffer(shape, dtype, buffer=region.cpu, device=device, device_address=region.phys, bo=handle, coherent=False)

    def flush(self, handle: int, offset: int, nbytes: int) -> None:
        region = self.allocations[handle]
        region.ddr[offset:offset + nbytes] = region.cpu[offset:offset + nbytes]

    def invalidate(self, handle: int, offset: int, nbytes: int) -> None:
        region = self.allocations[handle]
        region.cpu[offset:offset + nbytes] = region.ddr[offset:offset + nbytes]

    def dram(self, phys: int, nbytes: int) -> np.ndarray:
        """A writable view of DRAM bytes [phys, phys + nbytes) inside one allocation."""
        for region in self.allocations.values():
            if region.phys <= phys and phys + nbytes <= region.phys + region.ddr.size:
                return region.ddr[phys - region.phys: phys - region.phys + nbytes]
        raise BusError(f"no memory at 0x{phys:08x}..0x{phys + nbytes:08x}")


# ------------------------------------------------------------------------------------------------
# The AXI DMA


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

    def reset(self) -> None:
        self.mm2s, self.s2mm = Channel("MM2S"), Channel("S2MM")
        self.stream = None

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


# ------------------------------------------------------------------------------------------------
# The SSA kernel's AXI-Lite block


class SsaKernelBlock:
    """ap_ctrl_hs registers of ssa_top around the C-simulated kernel."""

    def __init__(self, board: "SimulatedBoard", csim: CSimKernel, offsets: dict[str, int]):
        self.board, self.csim = board, csim
        self.by_offset = {offset: name for name, offset in offsets.items()}
        self.values = {name: 0 for name in offsets}
        self.running = self.done = self.stalled = False
        self.valid = {"status": False, "info": False}
        self.args: dict[str, int] = {}
        self.tried_without_input = False
        self.output: tuple[np.ndarray, np.ndarray] | None = None  # words and TLAST not yet taken by S2MM
        self.result_regs: tuple[int, int] | None = None

    def read(self, offset: int) -> int:
        name = self.by_offset.get(offset)
        if name == "CTRL":
            value = (CTRL_AP_START if self.running else CTRL_AP_IDLE) | (CTRL_AP_DONE | CTRL_AP_READY if self.done else 0)
            self.done = False  # clear on read
            return value
        if name in ("status_ctrl", "info_ctrl"):
            which = name[:-5]
            value, self.valid[which] = int(self.valid[which]), False  # ap_vld clears on read
            return value
        return self.values.get(name, 0) if name else 0

    def write(self, offset: int, value: int) -> None:
        name = self.by_offset.get(offset)
        if name == "CTRL":
            if value & CTRL_AP_START and not self.running:
                self.running = True
                self.args = {k: self.values[k] for k in ("n", "dk", "t_steps", "seed", "blocks")}
                self.tried_without_input, self.output, self.result_regs = False, None, None
                self.board.kernel_starts.append(dict(self.args))
        elif name in ("n", "dk", "t_steps", "seed", "blocks", "GIER", "IP_IER"):
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
                result = self.csim.call(words, last, n=self.args["n"], dk=self.args["dk"], t_steps=self.args["t_steps"],
                                        seed=self.args["seed"], blocks=self.args["blocks"])
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
            self.result_regs = (result.status, result.info)
        if self.output is not None and self.output[0].size:
            taken = dma.accept(*self.output)
            self.output = (self.output[0][taken:], self.output[1][taken:])
        if self.output is not None and self.output[0].size == 0:
            self.values["status"], self.values["info"] = self.result_regs
            self.valid = {"status": True, "info": True}
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


# ------------------------------------------------------------------------------------------------
# The device


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
