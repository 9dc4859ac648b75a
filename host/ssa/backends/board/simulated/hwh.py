"""The overlay files of the simulated board: a placeholder .bit and a minimal .hwh that PYNQ's own parser reads."""
from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

from ssa.backends.board.simulated.address_map import (
    DMA_BASE,
    DMA_REGISTERS,
    IP_RANGE,
    SSA_BASE,
    SSA_VLNV,
)
from ssa.contract.registers import REGISTER_OFFSETS


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
