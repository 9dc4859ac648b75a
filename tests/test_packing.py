"""Stream packing: exact round trips for every shape, bit order and padding rules of spec section 5."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ssa.errors import StreamError
from ssa.contract.packing import (
    pack_input_stream, pack_output_stream, pack_rows, stream_word_counts,
    unpack_input_stream, unpack_output_stream, unpack_rows, words_per_row,
)


@settings(max_examples=60, deadline=None)
@given(t=st.integers(1, 4), blocks=st.integers(1, 3), n=st.integers(1, 9), dk=st.integers(1, 256), seed=st.integers(0, 2**32 - 1))
def test_input_and_output_streams_round_trip(t, blocks, n, dk, seed):
    g = np.random.default_rng(seed)
    q, k, v = ((g.random((t, blocks, n, dk)) < 0.5).astype(np.uint8) for _ in range(3))
    words = pack_input_stream(q, k, v)
    assert words.dtype == np.dtype("<u8") and words.size == stream_word_counts(blocks, t, n, dk)[0]
    for a, b in zip(unpack_input_stream(words, blocks, t, n, dk), (q, k, v)):
        np.testing.assert_array_equal(a, b)
    out = pack_output_stream(q)
    assert out.size == stream_word_counts(blocks, t, n, dk)[1]
    np.testing.assert_array_equal(unpack_output_stream(out, blocks, t, n, dk), q)


def test_bit_order_is_lsb_first_little_endian():
    row = np.zeros(70, np.uint8)
    row[[0, 3, 63, 64, 69]] = 1
    words = pack_rows(row)
    assert words.tolist() == [(1 << 0) | (1 << 3) | (1 << 63), (1 << 0) | (1 << 5)]
    assert words.tobytes()[:1] == bytes([0b1001])  # byte 0 of word 0 holds d = 0..7
    assert words_per_row(64) == 1 and words_per_row(65) == 2


def test_stream_order_is_block_time_matrix_row():
    t, blocks, n, dk = 2, 2, 3, 5
    q, k, v = (np.zeros((t, blocks, n, dk), np.uint8) for _ in range(3))
    k[1, 0, 2, 4] = 1  # time 1, block 0, matrix K, row 2, bit 4
    words = pack_input_stream(q, k, v)
    index = ((0 * t + 1) * 3 + 1) * n + 2
    assert np.flatnonzero(words).tolist() == [index] and words[index] == 1 << 4


def test_nonzero_padding_is_rejected():
    words = pack_rows(np.ones((2, 10), np.uint8))
    words[1, 0] |= np.uint64(1 << 12)
    with pytest.raises(StreamError, match="padding"):
        unpack_rows(words, 10)


def test_wrong_word_count_is_rejected():
    with pytest.raises(StreamError, match="expected 24"):
        unpack_output_stream(np.zeros(23, np.uint64), 1, 2, 3, 64 * 4)
