"""Per-stage timing of the board path, like FINN's throughput_test: pack, run (DMA + kernel), unpack."""
from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from ssa.contract.config import SSAConfig
from ssa.contract.packing import (
    pack_input_stream,
    stream_word_counts,
    unpack_output_stream,
)
from ssa.contract.spikes import check_block_inputs


@dataclass(frozen=True)
class StageTimes:
    """Median seconds of each stage for one kernel call of `blocks` blocks."""

    blocks: int
    pack_s: float
    run_s: float
    unpack_s: float

    @property
    def total_s(self) -> float:
        return self.pack_s + self.run_s + self.unpack_s

    def rows(self) -> list[tuple[str, float, float]]:
        """(stage, µs per call, µs per block) for printing."""
        stages = [("pack", self.pack_s), ("DMA + kernel", self.run_s), ("unpack", self.unpack_s), ("total", self.total_s)]
        return [(name, s * 1e6, s * 1e6 / self.blocks) for name, s in stages]


def stage_times(backend, q: np.ndarray, k: np.ndarray, v: np.ndarray, config: SSAConfig, repeats: int = 5) -> StageTimes:
    """Time each stage of one call of the `pynq` backend (`backend.board`) over the blocks of q, k, v."""
    q4, k4, v4, _ = check_block_inputs(q, k, v, config)
    blocks = q4.shape[1]
    out_words = stream_word_counts(blocks, config.t, config.n, config.dk)[1]
    pack, run, unpack = [], [], []
    for _ in range(repeats):
        t0 = time.perf_counter()
        words = pack_input_stream(q4, k4, v4)
        t1 = time.perf_counter()
        out = backend.board.call(words, out_words, n=config.n, dk=config.dk, t_steps=config.t, seed=config.seed, blocks=blocks,
                                 gain_log2=config.gain_log2)
        t2 = time.perf_counter()
        unpack_output_stream(out, blocks, config.t, config.n, config.dk)
        t3 = time.perf_counter()
        pack.append(t1 - t0)
        run.append(t2 - t1)
        unpack.append(t3 - t2)
    return StageTimes(blocks, float(np.median(pack)), float(np.median(run)), float(np.median(unpack)))
