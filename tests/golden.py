"""The committed golden vectors (tests/vectors/*.txt) as blocks a software backend runs, and the check of its output."""
from pathlib import Path

import numpy as np

from ssa.contract.packing import pack_output_stream, unpack_input_stream
from ssa.contract.vectors import GoldenVector, read_vector

VECTORS = sorted((Path(__file__).parent / "vectors").glob("*.txt"))
IDS = [p.stem for p in VECTORS]


def golden_blocks(path: Path) -> tuple[GoldenVector, np.ndarray, np.ndarray, np.ndarray]:
    """A vector and its Q, K, V shaped [T, 1, blocks, N, D_K] (one batch of `blocks` heads)."""
    vec = read_vector(path)
    c = vec.config
    q, k, v = unpack_input_stream(vec.words_in, vec.blocks, c.t, c.n, c.dk)
    return vec, q[:, None], k[:, None], v[:, None]


def assert_reproduces(vec: GoldenVector, attn: np.ndarray) -> None:
    """Attn spikes [T, 1, blocks, N, D_K] pack to exactly the vector's expected output words."""
    np.testing.assert_array_equal(pack_output_stream(np.asarray(attn)[:, 0]), vec.words_out)
