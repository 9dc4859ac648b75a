"""Random numbers of the contract (docs/spec.md section 4): xorshift32 generators seeded by fmix32.

All functions work on numpy uint32 arrays so that many generators step together; the
sequence of one generator is exactly the hardware's.
"""
from __future__ import annotations

import numpy as np

MASK32 = np.uint64(0xFFFFFFFF)
GOLDEN = 0x9E3779B9
ZERO_STATE_REPLACEMENT = 0x6D2B79F5


def _mul32(x: np.ndarray, c: int) -> np.ndarray:
    return ((x.astype(np.uint64) * np.uint64(c)) & MASK32).astype(np.uint32)


def fmix32(h: np.ndarray | int) -> np.ndarray:
    """MurmurHash3's 32-bit finaliser, elementwise."""
    h = np.asarray(h, dtype=np.uint32)
    h = h ^ (h >> np.uint32(16))
    h = _mul32(h, 0x85EBCA6B)
    h = h ^ (h >> np.uint32(13))
    h = _mul32(h, 0xC2B2AE35)
    return h ^ (h >> np.uint32(16))


def offset_seed(seed: int, blocks: int) -> int:
    """Seed of the call whose first block is block `blocks` of a batch with seed `seed` (spec section 6)."""
    return (seed + blocks) % 2**32


def block_seeds(seed: int, blocks: int) -> np.ndarray:
    """Seeds of blocks 0..blocks-1 of one call: (seed + b) mod 2^32."""
    return ((np.uint64(seed) + np.arange(blocks, dtype=np.uint64)) & MASK32).astype(np.uint32)


def initial_states(block_seed: np.ndarray, stream: np.ndarray) -> np.ndarray:
    """state0(block_seed, g) for broadcastable arrays of block seeds and stream ids."""
    ids = _mul32(np.asarray(stream, dtype=np.uint32) + np.uint32(1), GOLDEN)
    state = fmix32(fmix32(block_seed) ^ ids)
    return np.where(state == 0, np.uint32(ZERO_STATE_REPLACEMENT), state).astype(np.uint32)


def score_stream_ids(n: int) -> np.ndarray:
    """Stream ids of the eq.-5 generators GS[j], one per key column j."""
    return 2 * np.arange(n, dtype=np.uint32)


def output_stream_ids(n: int) -> np.ndarray:
    """Stream ids of the eq.-6 generators GA[i], one per query row i."""
    return 2 * np.arange(n, dtype=np.uint32) + np.uint32(1)


def xorshift32(x: np.ndarray) -> np.ndarray:
    """One step of every generator in x (shifts 13, 17, 5)."""
    x = x ^ (x << np.uint32(13))
    x = x ^ (x >> np.uint32(17))
    return x ^ (x << np.uint32(5))


def draw16(states: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Step every generator once; return (new states, their 16 high bits as uint32)."""
    states = xorshift32(states)
    return states, states >> np.uint32(16)


def layer_seed(seed: int, layer: int) -> int:
    """Seed of the attention blocks of encoder layer `layer` in a model run with user seed `seed`.

    fmix32((seed + 0x9E3779B9·(layer+1)) mod 2^32); blocks of that layer then use
    layer_seed + (image_in_batch · heads + head), as in docs/spec.md section 6.
    """
    mixed = fmix32(np.uint32((seed + GOLDEN * (layer + 1)) & 0xFFFFFFFF))
    return int(mixed)


def model_call_seed(seed: int, layer: int, first_image: int, heads: int) -> int:
    """Call seed of encoder layer `layer` for a batch starting at data-set image `first_image`.

    Blocks are (image, head) row-major, so the image's spikes do not depend on its batch.
    """
    return offset_seed(layer_seed(seed, layer), first_image * heads)
