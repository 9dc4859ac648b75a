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
  registers and the bytes MM2S streams to the C-simulated kernel (`ssa.backends.csim.CSimKernel.call`)
  and what it returns, TLAST included, to S2MM. Older overlays are register maps with names left
  out (`register_offsets` of `write_overlay` and `SimulatedBoard`): without `tile` an untiled kernel,
  without `gain_log2` a contract-v1 kernel (`info` version 1, encoders without gain);
- the SLCR clock registers PYNQ programs from the .hwh, as plain memory.

Time advances on every register access (each poll of the driver). Simplifications: one MM2S
transfer holds a call's whole input (the driver never splits one), and a kernel that ran out of
input stalls for good. Faults (`Faults`) inject DMA error bits, a stalled kernel, a missing TLAST
and a truncated output.
"""
from __future__ import annotations

from ssa.backends.board.simulated.device import SimulatedBoard, open_simulated_backend
from ssa.backends.board.simulated.dma import Faults
from ssa.backends.board.simulated.hwh import write_overlay

__all__ = ["Faults", "SimulatedBoard", "open_simulated_backend", "write_overlay"]
