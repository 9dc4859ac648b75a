"""Validation of spike tensors shared by every backend."""
from __future__ import annotations

import numpy as np

from ssa.contract.config import SSAConfig
from ssa.errors import ShapeError, SpikeDTypeError, SpikeValueError

SPIKE_DTYPES = (np.dtype(np.bool_), np.dtype(np.uint8))


def as_spikes(name: str, x: object) -> np.ndarray:
    """Return x as a C-contiguous uint8 array after checking type, dtype and 0/1 values."""
    if not isinstance(x, np.ndarray):
        raise SpikeDTypeError(f"{name} must be a numpy array of bool or uint8, got {type(x).__name__}")
    if x.dtype not in SPIKE_DTYPES:
        raise SpikeDTypeError(
            f"{name} has dtype {x.dtype}; spikes must be bool or uint8 (convert with "
            f"`(x > 0).astype(np.uint8)` only if that is what you mean)"
        )
    x = np.ascontiguousarray(x, dtype=np.uint8)
    if x.size and x.max() > 1:
        bad = int(np.count_nonzero(x > 1))
        raise SpikeValueError(f"{name} holds {bad} value(s) other than 0 and 1; spikes must be binary")
    return x


def check_block_shapes(shapes: dict[str, tuple[int, ...]], config: SSAConfig) -> tuple[int, ...]:
    """Check the shapes of Q, K, V (any array library) against config; return the batch shape."""
    shape = shapes["q"]
    if len(shape) not in (3, 5):
        raise ShapeError(f"q must be [T, N, D_K] or [T, B, H, N, D_K] (time first), got shape {shape}")
    for name in ("k", "v"):
        if shapes[name] != shape:
            raise ShapeError(f"{name} has shape {shapes[name]} but q has {shape}; Q, K and V must have the same shape")
    expected = {"T (axis 0)": (shape[0], config.t), "N (axis -2)": (shape[-2], config.n), "D_K (axis -1)": (shape[-1], config.dk)}
    for label, (got, want) in expected.items():
        if got != want:
            raise ShapeError(f"spikes have {label} = {got} but the config says {want}; make them agree")
    batch = tuple(shape[1:-2])
    if batch and int(np.prod(batch, dtype=np.int64)) == 0:
        raise ShapeError(f"batch shape {batch} holds no block; B and H must be at least 1")
    return batch


def check_block_inputs(q: object, k: object, v: object, config: SSAConfig) -> tuple[np.ndarray, np.ndarray, np.ndarray, tuple[int, ...]]:
    """Validate Q, K, V against config.

    Returns Q, K, V reshaped to [T, blocks, N, D_K] (uint8) and the batch shape ((), or (B, H)).
    """
    arrays = {name: as_spikes(name, x) for name, x in (("q", q), ("k", k), ("v", v))}
    batch = check_block_shapes({name: x.shape for name, x in arrays.items()}, config)
    blocks = int(np.prod(batch, dtype=np.int64)) if batch else 1
    flat = [x.reshape(config.t, blocks, config.n, config.dk) for x in arrays.values()]
    return flat[0], flat[1], flat[2], batch
