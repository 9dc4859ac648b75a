"""DDR behind a non-coherent CPU cache: a buffer's CPU view and its DDR copy are separate."""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from pynq.buffer import PynqBuffer

from ssa.backends.board.simulated.address_map import DDR_BASE

if TYPE_CHECKING:
    from ssa.backends.board.simulated.device import SimulatedBoard


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
