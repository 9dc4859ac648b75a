"""Driving the SSA kernel as the board does, shared by the csim and pynq backends.

A batch of blocks is validated once against the kernel's probed parameters, split into kernel calls
of whole blocks that fit one DMA transfer, the `blocks` register and (where the caller has a
deadline) a cycle budget from the latency model of the probed build (tiled blocks of large N take
(N / N_TILE)^2 times the array cycles of one tile), packed into stream words, sent, and the output
words unpacked. Call c starts at seed + its first block index (docs/spec.md section 6).
"""
from __future__ import annotations

from typing import Callable

import numpy as np

from ssa.contract.config import Limits, SSAConfig, check_config
from ssa.contract.packing import (
    pack_input_stream,
    stream_word_counts,
    unpack_output_stream,
)
from ssa.contract.prng import offset_seed
from ssa.contract.registers import BLOCKS_MAX
from ssa.cost.latency import estimate
from ssa.contract.spikes import check_block_inputs
from ssa.errors import ConfigError

#: Largest simple-mode AXI DMA transfer with c_sg_length_width = 26.
DMA_MAX_BYTES = 2**26 - 1

#: call(words_in, blocks, seed) -> output words of one kernel call.
KernelCall = Callable[[np.ndarray, int, int], np.ndarray]


def blocks_per_call(config: SSAConfig, max_bytes: int = DMA_MAX_BYTES) -> int:
    """Most whole blocks one kernel call can carry within `max_bytes` of input (ConfigError if none fits)."""
    block_bytes = 8 * stream_word_counts(1, config.t, config.n, config.dk)[0]
    if block_bytes > max_bytes:
        raise ConfigError(
            f"one block (N={config.n}, D_K={config.dk}, T={config.t}) needs {block_bytes} input bytes, over the "
            f"{max_bytes}-byte transfer limit; use fewer time steps or an overlay whose DMA has c_sg_length_width = 26"
        )
    return min(BLOCKS_MAX, max_bytes // block_bytes)


def blocks_within_cycles(config: SSAConfig, limits: Limits, max_cycles: int) -> int:
    """Most blocks one call may carry so that the modelled kernel time stays within `max_cycles` (at least 1)."""
    one = estimate(config.n, config.dk, config.t, limits=limits)
    two = estimate(config.n, config.dk, config.t, blocks=2, limits=limits)
    per_block = two.kernel_cycles - one.kernel_cycles
    return max(1, min(BLOCKS_MAX, 1 + (max_cycles - one.kernel_cycles) // per_block))


def run_on_kernel(q: np.ndarray, k: np.ndarray, v: np.ndarray, config: SSAConfig, *, limits: Limits, where: str,
                  call: KernelCall, max_bytes: int = DMA_MAX_BYTES, max_call_cycles: int | None = None) -> np.ndarray:
    """Attn spikes shaped like q, computed by kernel calls of at most `max_bytes` of input each and,
    if given, at most `max_call_cycles` kernel clocks each (by the latency model of `limits`).

    The configuration (sizes and gain) is checked against `limits` before any call: `call` runs
    `config.gain_log2` only on a kernel whose limits allow it."""
    config = check_config(config)
    if config.mode != "lfsr":
        raise ConfigError(f"{where} is the hardware kernel, which only has mode='lfsr' (got {config.mode!r}); "
                          "use the emulator (ssa.run) for mode='ideal'")
    q4, k4, v4, _ = check_block_inputs(q, k, v, config)
    limits.check(config.n, config.dk, config.t, where)
    limits.check_gain(config.gain_log2, where)  # a contract-v1 kernel has no gain (gain_log2_max 0)
    step = blocks_per_call(config, max_bytes)
    if max_call_cycles is not None:
        step = min(step, blocks_within_cycles(config, limits, max_call_cycles))
    attn = np.empty_like(q4)
    total = q4.shape[1]
    for first in range(0, total, step):
        part = slice(first, min(first + step, total))
        blocks = part.stop - first
        words = call(pack_input_stream(q4[:, part], k4[:, part], v4[:, part]), blocks, offset_seed(config.seed, first))
        attn[:, part] = unpack_output_stream(words, blocks, config.t, config.n, config.dk)
    return attn.reshape(np.shape(q))
