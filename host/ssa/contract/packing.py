"""AXI-Stream packing of spike rows into 64-bit words (docs/spec.md section 5).

A token row of D_K spikes becomes W = ceil(D_K/64) little-endian words, bit d of the row at
bit d mod 64 of word d // 64, padding bits zero.
"""
from __future__ import annotations

import numpy as np

from ssa.errors import StreamError

WORD_BITS = 64


def words_per_row(dk: int) -> int:
    """64-bit words that hold one row of dk spikes."""
    return (dk + WORD_BITS - 1) // WORD_BITS


def pack_rows(x: np.ndarray) -> np.ndarray:
    """Pack uint8 spikes [..., D_K] into uint64 words [..., W]."""
    dk = x.shape[-1]
    w = words_per_row(dk)
    padded = np.zeros(x.shape[:-1] + (w * WORD_BITS,), dtype=np.uint8)
    padded[..., :dk] = x
    packed = np.packbits(padded, axis=-1, bitorder="little")
    return np.ascontiguousarray(packed).view("<u8").reshape(x.shape[:-1] + (w,))


def unpack_rows(words: np.ndarray, dk: int) -> np.ndarray:
    """Unpack uint64 words [..., W] into uint8 spikes [..., D_K]; padding bits must be zero."""
    w = words_per_row(dk)
    if words.shape[-1] != w:
        raise StreamError(f"rows of D_K={dk} take {w} word(s), got {words.shape[-1]}")
    as_bytes = np.ascontiguousarray(words, dtype="<u8").view(np.uint8)
    bits = np.unpackbits(as_bytes, axis=-1, bitorder="little")
    if bits[..., dk:].any():
        raise StreamError(f"non-zero padding bits above D_K={dk}: the stream does not hold rows of D_K={dk}")
    return np.ascontiguousarray(bits[..., :dk])


def pack_input_stream(q: np.ndarray, k: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Input words of one kernel call from Q, K, V shaped [T, blocks, N, D_K].

    Order: block, time step, matrix (Q, K, V), token row, word.
    """
    stacked = np.stack([q, k, v], axis=2)  # [T, blocks, 3, N, D]
    ordered = stacked.transpose(1, 0, 2, 3, 4)  # [blocks, T, 3, N, D]
    return pack_rows(ordered).reshape(-1)


def unpack_input_stream(words: np.ndarray, blocks: int, t: int, n: int, dk: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Inverse of pack_input_stream: Q, K, V shaped [T, blocks, N, D_K]."""
    w = words_per_row(dk)
    expected = blocks * t * 3 * n * w
    if words.size != expected:
        raise StreamError(f"input stream has {words.size} words, expected {expected} for blocks={blocks}, T={t}, N={n}, D_K={dk}")
    spikes = unpack_rows(words.reshape(blocks, t, 3, n, w), dk).transpose(1, 0, 2, 3, 4)
    return spikes[:, :, 0], spikes[:, :, 1], spikes[:, :, 2]


def pack_output_stream(attn: np.ndarray) -> np.ndarray:
    """Output words of one kernel call from Attn shaped [T, blocks, N, D_K]."""
    return pack_rows(attn.transpose(1, 0, 2, 3)).reshape(-1)


def unpack_output_stream(words: np.ndarray, blocks: int, t: int, n: int, dk: int) -> np.ndarray:
    """Attn spikes [T, blocks, N, D_K] from the kernel's output words."""
    w = words_per_row(dk)
    expected = blocks * t * n * w
    if words.size != expected:
        raise StreamError(f"output stream has {words.size} words, expected {expected} for blocks={blocks}, T={t}, N={n}, D_K={dk}")
    return unpack_rows(words.reshape(blocks, t, n, w), dk).transpose(1, 0, 2, 3)


def stream_word_counts(blocks: int, t: int, n: int, dk: int) -> tuple[int, int]:
    """(input words, output words) of one kernel call."""
    w = words_per_row(dk)
    return blocks * t * 3 * n * w, blocks * t * n * w
