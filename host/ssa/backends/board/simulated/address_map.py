"""The simulated board's address map: where PYNQ finds the DMA, the kernel, the SLCR clocks and DDR."""
from __future__ import annotations

SSA_VLNV = "xilinx.com:hls:ssa_top:1.0"
DMA_BASE, SSA_BASE, IP_RANGE = 0x4040_0000, 0x43C0_0000, 0x1_0000
SLCR_BASE, SLCR_RANGE = 0xF800_0000, 0x1000
DDR_BASE = 0x1000_0000  # where the double's CMA-like allocations start

# PG021 simple-mode register map of one channel (MM2S at 0x00, S2MM at 0x30).
DMA_REGISTERS = {
    "MM2S_DMACR": 0x00, "MM2S_DMASR": 0x04, "MM2S_SA": 0x18, "MM2S_SA_MSB": 0x1C, "MM2S_LENGTH": 0x28,
    "S2MM_DMACR": 0x30, "S2MM_DMASR": 0x34, "S2MM_DA": 0x48, "S2MM_DA_MSB": 0x4C, "S2MM_LENGTH": 0x58,
}
