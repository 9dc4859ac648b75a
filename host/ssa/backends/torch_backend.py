"""PyTorch backend: the contract's LFSR mode on CPU or CUDA tensors, bit-exact with the emulator.

For batched model evaluation on GPUs. The two counter stages are float matrix products (sums of
0/1 products up to 256 are exact in float16 and float32, whatever the accumulation order), the
encoders integer comparisons. The gain g of contract v2 (spike iff u < count << g) is applied as
u >> g < count, the same test for integers, folded into the shift that makes u: the counts stay as
they are and nothing else changes. The generators are not stepped one draw at a time: xorshift32 is
linear over GF(2), so the state after m steps is the XOR of A^m applied to each byte of the
initial state; tables of A^m on every byte value (built once per length on the host with
`ssa.contract.prng.xorshift32`) give all draws of a generator in four gathers. Seeding is int64 arithmetic
on values below 2^32; draws are int32 holding uint32 bits, masked after every right shift (torch
shifts signed integers arithmetically).

`run_torch` takes and returns tensors (no host copies); `TorchBackend.run` takes numpy arrays.
"""
from __future__ import annotations

from typing import Callable

import numpy as np

from ssa.backends import emulator
from ssa.contract import prng
from ssa.contract.config import SSAConfig, check_config
from ssa.contract.spikes import check_block_inputs, check_block_shapes
from ssa.errors import BackendError, ConfigError, SpikeDTypeError, SpikeValueError

try:
    import torch
except ImportError as _exc:  # the board runtime works without torch; the backend says what to install
    torch = None
    _TORCH_MISSING = str(_exc)

INSTALL_HINT = "pip install torch (or ssa-fpga[train])"
MASK32 = 0xFFFFFFFF
#: Largest number of generator draws materialised at once (int32 elements), to bound memory.
DRAW_CHUNK = 1 << 25
#: Longest jump table (steps): 4 x 256 x TABLE_STEPS int32, 16 MiB.
TABLE_STEPS = 4096


def require_torch() -> None:
    """Raise BackendError, saying how to install it, when torch is missing."""
    if torch is None:
        raise BackendError(f"the torch backend needs PyTorch ({_TORCH_MISSING}); install it with `{INSTALL_HINT}`")


def _mul32(x: "torch.Tensor", c: int) -> "torch.Tensor":
    """(x * c) mod 2^32 for int64 x < 2^32, in two 16-bit halves so nothing overflows int64."""
    lo, hi = c & 0xFFFF, c >> 16
    return (x * lo + (((x * hi) & 0xFFFF) << 16)) & MASK32


def _fmix32(h: "torch.Tensor") -> "torch.Tensor":
    """MurmurHash3's finaliser on int64 tensors holding 32-bit values (mirrors ssa.contract.prng.fmix32)."""
    h = h ^ (h >> 16)
    h = _mul32(h, 0x85EBCA6B)
    h = h ^ (h >> 13)
    h = _mul32(h, 0xC2B2AE35)
    return h ^ (h >> 16)


def initial_states(seed: int, blocks: int, streams: "torch.Tensor") -> "torch.Tensor":
    """state0(seed + b, g) as int64 [blocks, len(streams)] (mirrors ssa.contract.prng.initial_states)."""
    block_seed = (torch.arange(blocks, dtype=torch.int64, device=streams.device) + seed) & MASK32
    ids = _mul32(streams + 1, prng.GOLDEN)
    state = _fmix32(_fmix32(block_seed)[:, None] ^ ids[None, :])
    return torch.where(state == 0, torch.full_like(state, prng.ZERO_STATE_REPLACEMENT), state)


def _jump_tables_host(steps: int) -> np.ndarray:
    """int32 [4, 256, steps]: entry [k, v, m-1] is xorshift32 stepped m times from v << 8k.

    By linearity over GF(2), m steps from x are the XOR over k of entry [k, byte k of x, m-1].
    Entries are the uint32 states' bits reinterpreted as int32.
    """
    basis = np.left_shift(np.uint32(1), np.arange(32, dtype=np.uint32))  # unit vectors e_b
    images = np.empty((32, steps), dtype=np.uint32)
    for m in range(steps):
        basis = prng.xorshift32(basis)
        images[:, m] = basis
    values = np.arange(256, dtype=np.uint32)
    tables = np.zeros((4, 256, steps), dtype=np.uint32)
    for k in range(4):
        for bit in range(8):
            has_bit = ((values >> np.uint32(bit)) & np.uint32(1)).astype(bool)
            tables[k, has_bit] ^= images[8 * k + bit]
    return tables.view(np.int32)


#: Per device: (full states, their 16 high bits) for the longest table asked for so far.
_DEVICE_TABLES: dict[str, tuple["torch.Tensor", "torch.Tensor"]] = {}


def _jump_tables(steps: int, device: "torch.device") -> tuple["torch.Tensor", "torch.Tensor"]:
    """The first `steps` columns of the jump tables on device: full states and 16 high bits.

    Column m-1 does not depend on the table length, so one table per device serves all shorter
    requests; it grows to at most TABLE_STEPS columns.
    """
    cached = _DEVICE_TABLES.get(str(device))
    if cached is None or cached[0].shape[-1] < steps:
        full = torch.from_numpy(_jump_tables_host(steps)).to(device)
        cached = _DEVICE_TABLES[str(device)] = (full, (full >> 16) & 0xFFFF)  # XOR commutes with taking bits
    return cached[0][:, :, :steps], cached[1][:, :, :steps]


def _draw_chunk(state: "torch.Tensor", full: "torch.Tensor", high: "torch.Tensor", normaliser: int, gain_log2: int, dtype: "torch.dtype") -> tuple["torch.Tensor", "torch.Tensor"]:
    """u >> gain_log2, u = (r * normaliser) >> 16, of the next high.shape[-1] draws of int32 states [G], and the last state."""
    index = [((state >> (8 * k)) & 0xFF).long() for k in range(4)]
    r = high[0, index[0]] ^ high[1, index[1]] ^ high[2, index[2]] ^ high[3, index[3]]
    last = full[0, index[0], -1] ^ full[1, index[1], -1] ^ full[2, index[2], -1] ^ full[3, index[3], -1]
    return ((r * normaliser) >> (16 + gain_log2)).to(dtype), last


def _encode(u_s: "torch.Tensor", u_a: "torch.Tensor", q: "torch.Tensor", k: "torch.Tensor", v: "torch.Tensor") -> "torch.Tensor":
    """Eq. 5 and 6 given the draws: u_s [T, blocks, j], u_a [T, blocks, i, d], spikes [T, blocks, N, D]."""
    ftype = u_s.dtype
    qf, kf, vf = (x.to(ftype) for x in (q, k, v))
    counts = torch.matmul(qf, kf.transpose(-1, -2))  # [T, blocks, i, j]
    s = (u_s[:, :, None, :] < counts).to(ftype)
    a = torch.matmul(s, vf)  # [T, blocks, i, d]
    return (u_a < a).to(torch.uint8)


class _Kernels:
    """The tensor functions of one run: eager, or compiled once per process with torch.compile."""

    _compiled: "_Kernels | None" = None

    def __init__(self, draw_chunk: Callable[..., tuple["torch.Tensor", "torch.Tensor"]], encode: Callable[..., "torch.Tensor"]) -> None:
        self.draw_chunk = draw_chunk
        self.encode = encode

    @classmethod
    def get(cls, compiled: bool) -> "_Kernels":
        if not compiled:
            return cls(_draw_chunk, _encode)
        if cls._compiled is None:
            cls._compiled = cls(torch.compile(_draw_chunk), torch.compile(_encode))
        return cls._compiled


def _draws(states: "torch.Tensor", count: int, normaliser: int, gain_log2: int, dtype: "torch.dtype", kernels: _Kernels) -> "torch.Tensor":
    """u >> gain_log2, u = (r * normaliser) >> 16, of draws 1 .. count of every generator, [G, count] of dtype.

    states: int64 [G] initial states. Draws come in chunks of at most TABLE_STEPS steps and
    DRAW_CHUNK elements; the last state of a chunk starts the next. int32 arithmetic with masks.
    """
    generators = states.shape[0]
    steps = max(1, min(count, TABLE_STEPS, DRAW_CHUNK // generators))
    full, high = _jump_tables(steps, states.device)
    chunks = []
    state = torch.where(states >= 2**31, states - 2**32, states).to(torch.int32)  # the uint32 bits as int32
    for m0 in range(0, count, steps):
        width = min(steps, count - m0)
        u, state = kernels.draw_chunk(state, full[:, :, :width], high[:, :, :width], normaliser, gain_log2, dtype)
        chunks.append(u)
    return chunks[0] if len(chunks) == 1 else torch.cat(chunks, dim=1)


def _check_tensors(q: object, k: object, v: object, config: SSAConfig) -> tuple[int, ...]:
    """Validate spike tensors like ssa.contract.spikes.check_block_inputs; return the batch shape."""
    tensors = (("q", q), ("k", k), ("v", v))
    for name, x in tensors:
        if not isinstance(x, torch.Tensor):
            raise SpikeDTypeError(f"{name} must be a torch tensor of bool or uint8, got {type(x).__name__}")
        if x.dtype not in (torch.bool, torch.uint8):
            raise SpikeDTypeError(f"{name} has dtype {x.dtype}; spikes must be torch.bool or torch.uint8 (convert with `(x > 0).to(torch.uint8)` only if that is what you mean)")
        if x.dtype == torch.uint8 and x.numel() and bool((x > 1).any()):
            bad = int((x > 1).sum())
            raise SpikeValueError(f"{name} holds {bad} value(s) other than 0 and 1; spikes must be binary")
    return check_block_shapes({name: tuple(x.shape) for name, x in tensors}, config)  # type: ignore[union-attr]


def _matmul_dtype(device: "torch.device") -> "torch.dtype":
    """float16 on GPUs (tensor cores), float32 on CPUs: both count 0/1 products up to 2048 exactly."""
    return torch.float32 if device.type == "cpu" else torch.float16


def _simulate(q: "torch.Tensor", k: "torch.Tensor", v: "torch.Tensor", config: SSAConfig, compiled: bool = False) -> "torch.Tensor":
    """Attn (uint8 [T, blocks, N, D]) of spikes [T, blocks, N, D] on their device."""
    t_steps, blocks, n, dk = q.shape
    kernels = _Kernels.get(compiled)
    ftype = _matmul_dtype(q.device)
    ids = torch.arange(n, dtype=torch.int64, device=q.device)
    gs = initial_states(config.seed, blocks, 2 * ids).reshape(-1)  # GS[j], stream 2j
    ga = initial_states(config.seed, blocks, 2 * ids + 1).reshape(-1)  # GA[i], stream 2i+1
    gain = config.gain_log2
    u_s = _draws(gs, t_steps, dk, gain, ftype, kernels).reshape(blocks, n, t_steps).permute(2, 0, 1)  # [T, blocks, j]
    u_a = _draws(ga, t_steps * dk, n, gain, ftype, kernels).reshape(blocks, n, t_steps, dk).permute(2, 0, 1, 3)  # [T, blocks, i, d]
    return kernels.encode(u_s, u_a, q, k, v)


def run_torch(
    q: "torch.Tensor", k: "torch.Tensor", v: "torch.Tensor", config: SSAConfig,
    device: "str | torch.device | None" = None, compiled: bool = False,
) -> "torch.Tensor":
    """Attn spikes as a torch uint8 tensor shaped like q, identical to `ssa.backends.emulator.run`.

    q, k, v: bool or uint8 tensors [T, N, D_K] or [T, B, H, N, D_K]; device: where to compute
    (default: q's device); compiled: fuse the elementwise work with torch.compile (worth it on
    GPUs for large batches; the first call of each shape compiles). Only `lfsr` mode: ideal mode
    draws numpy's PCG64 stream, use `ssa.run` for it.
    """
    require_torch()
    config = check_config(config)
    if config.mode != "lfsr":
        raise ConfigError(f"the torch backend implements mode='lfsr' only, got {config.mode!r}; use ssa.run for ideal mode")
    _check_tensors(q, k, v, config)
    target = torch.device(device) if device is not None else q.device
    shape = q.shape
    q4, k4, v4 = (x.to(target).reshape(config.t, -1, config.n, config.dk) for x in (q, k, v))
    with torch.no_grad():
        return _simulate(q4, k4, v4, config, compiled).reshape(shape)


class TorchBackend:
    """`run(q, k, v, config)` on numpy arrays, computed with torch on `device` ("cpu" or "cuda").

    compiled=True fuses the elementwise work with torch.compile (see `run_torch`).
    """

    name = "torch"

    def __init__(self, device: str = "cpu", compiled: bool = False) -> None:
        require_torch()
        if str(device).startswith("cuda") and not torch.cuda.is_available():
            raise BackendError(f"device={device!r} but torch.cuda.is_available() is False; use device='cpu' or a machine with a CUDA GPU")
        self.device = torch.device(device)
        self.compiled = compiled

    def run(self, q: np.ndarray, k: np.ndarray, v: np.ndarray, config: SSAConfig) -> np.ndarray:
        """Attn spikes (uint8 numpy) shaped like q; ideal mode runs on the reference emulator."""
        config = check_config(config)
        if config.mode != "lfsr":
            return emulator.run(q, k, v, config)
        q4, k4, v4, _ = check_block_inputs(q, k, v, config)
        tensors = (torch.from_numpy(x).to(self.device) for x in (q4, k4, v4))
        with torch.no_grad():
            attn = _simulate(*tensors, config, self.compiled)
        return attn.cpu().numpy().reshape(np.shape(q))
