"""Fast CPU backend: the contract's LFSR mode on bit-packed spikes, compiled with numba.

Same spikes as the reference emulator (`ssa.backends.emulator.run`), bit for bit. Each token row is packed
into 64-bit words (eight 0/1 bytes at a time), the SAU counters are popcounts of ANDed words, the
row adders popcounts of a packed score row against bit-packed columns of V (rows packed, then
64x64 bit transposes); encoder outputs are built as words of 64 comparisons, in loops LLVM
vectorises, and the generators step in the draw order of docs/spec.md section 4. Blocks run in
parallel threads (numba prange) when there are several. The kernels are plain numba functions
(types inferred by numba); their seeding and stepping mirror `ssa.contract.prng`, which the tests check.

numba is an optional dependency (`pip install ssa-fpga[fast]`); importing this module without it
works, running it raises BackendError. Ideal mode is not a hardware contract and is delegated to
the reference emulator.
"""
from __future__ import annotations

import numpy as np

from ssa.backends import emulator
from ssa.contract import prng
from ssa.contract.config import SSAConfig, check_config
from ssa.contract.spikes import check_block_inputs
from ssa.errors import BackendError

INSTALL_HINT = "pip install ssa-fpga[fast]"
_CHUNK = np.dtype("<u8")
_SPIKE_CHARS = "?B"  # numpy type characters of bool and uint8, the spike dtypes of ssa.contract.spikes

try:
    import numba
except ImportError as _exc:  # the board runtime works without numba; run() says how to install it
    numba = None
    _NUMBA_MISSING = str(_exc)


def _jit(parallel: bool = False):
    """numba.njit with an on-disk cache; the identity when numba is missing (run() refuses then)."""
    if numba is None:
        return lambda f: f
    return numba.njit(cache=True, parallel=parallel, nogil=True)


_prange = numba.prange if numba is not None else range
_U1, _U13, _U16, _U17, _U5, _U56 = (np.uint64(s) for s in (1, 13, 16, 17, 5, 56))
_M32 = np.uint64(0xFFFFFFFF)
_M1, _M2, _M4, _H01 = (np.uint64(m) for m in (0x5555555555555555, 0x3333333333333333, 0x0F0F0F0F0F0F0F0F, 0x0101010101010101))
_FMIX_C1, _FMIX_C2 = np.uint64(0x85EBCA6B), np.uint64(0xC2B2AE35)
_GATHER8, _NOT_BIT0 = np.uint64(0x0102040810204080), np.uint64(0xFEFEFEFEFEFEFEFE)
#: _SPREAD8[b] holds bit m of b in byte m: one output chunk of 8 spikes per byte of a packed row.
_SPREAD8 = np.array([sum(((b >> m) & 1) << (8 * m) for m in range(8)) for b in range(256)], dtype=np.uint64)
_GOLDEN, _ZERO_STATE = np.uint64(prng.GOLDEN), np.uint64(prng.ZERO_STATE_REPLACEMENT)


@_jit()
def _popcount(x):  # numba scalar; LLVM turns this into POPCNT / vpshufb
    x = x - ((x >> _U1) & _M1)
    x = (x & _M2) + ((x >> np.uint64(2)) & _M2)
    x = (x + (x >> np.uint64(4))) & _M4
    return (x * _H01) >> _U56


@_jit()
def _fmix32(h):  # mirrors ssa.contract.prng.fmix32 on one uint64 holding 32 bits
    h ^= h >> _U16
    h = (h * _FMIX_C1) & _M32
    h ^= h >> _U13
    h = (h * _FMIX_C2) & _M32
    return h ^ (h >> _U16)


@_jit()
def _state0(mixed_seed, stream):  # mirrors ssa.contract.prng.initial_states
    state = _fmix32(mixed_seed ^ (((stream + _U1) * _GOLDEN) & _M32))
    return _ZERO_STATE if state == 0 else state


@_jit()
def _xorshift32(x):  # mirrors ssa.contract.prng.xorshift32
    x ^= (x << _U13) & _M32
    x ^= x >> _U17
    return x ^ ((x << _U5) & _M32)


@_jit()
def _pack_rows(x, words):
    """Pack rows of byte chunks x [R, C] (8 spikes per uint64) into word-major words [W, R].

    Bit d of a row lands at bit d%64 of word d//64: a chunk of eight 0/1 bytes times _GATHER8
    collects them in its top byte. Returns the OR of all chunks (a bit of _NOT_BIT0 set there
    means a non-binary spike).
    """
    rows, chunks = x.shape
    seen = np.uint64(0)
    for r in range(rows):
        for w in range(words.shape[0]):
            acc = np.uint64(0)
            for c in range(8 * w, min(chunks, 8 * w + 8)):
                seen |= x[r, c]
                acc |= ((x[r, c] * _GATHER8) >> _U56) << np.uint64(8 * (c & 7))
            words[w, r] = acc
    return seen


@_jit()
def _transpose64(a):
    """Transpose a 64x64 bit matrix in place: bit c of a[r] <-> bit r of a[c] (Hacker's Delight 7-3)."""
    j = 32
    m = np.uint64(0x00000000FFFFFFFF)
    while j != 0:
        uj = np.uint64(j)
        k = 0
        while k < 64:
            t = ((a[k] >> uj) ^ a[k + j]) & m
            a[k + j] ^= t
            a[k] ^= t << uj
            k = (k + j + 1) & ~j
        j >>= 1
        m ^= m << np.uint64(j)


@_jit()
def _pack_columns(x, rows, tile, words):
    """Pack the columns of byte chunks x [N, C] (spikes [N, D]) into word-major words [W_N, D] (bit j of column d).

    Rows are packed first (into rows [W_D, N]) and each 64x64 tile is bit-transposed.
    Returns the OR of all bytes read.
    """
    n = x.shape[0]
    dk = words.shape[1]
    seen = _pack_rows(x, rows)
    for jt in range(words.shape[0]):
        for w in range(rows.shape[0]):
            tile[:] = 0
            for r in range(64 * jt, min(n, 64 * jt + 64)):
                tile[r - 64 * jt] = rows[w, r]
            _transpose64(tile)
            for d in range(64 * w, min(dk, 64 * w + 64)):
                words[jt, d] = tile[d - 64 * w]
    return seen


@_jit()
def _scores(qp, kp, u, s, counts):
    """Packed S [W_N, N]: bit j%64 of s[j//64, i] is u[j] < popcount(Q_i & K_j) (eq. 5)."""
    wd, n = qp.shape
    for i in range(n):
        for w in range(s.shape[0]):
            j0 = 64 * w
            acc = np.uint64(0)
            if wd == 1:  # D_K <= 64: one popcount per counter, a loop LLVM vectorises
                qi = qp[0, i]
                for j in range(j0, min(n, j0 + 64)):
                    acc |= np.uint64(u[j] < _popcount(qi & kp[0, j])) << np.uint64(j - j0)
            else:  # counts over the words of the rows first, each loop vectorisable
                counts[:] = 0
                for x in range(wd):
                    qx = qp[x, i]
                    for j in range(j0, min(n, j0 + 64)):
                        counts[j - j0] += _popcount(qx & kp[x, j])
                for j in range(j0, min(n, j0 + 64)):
                    acc |= np.uint64(u[j] < counts[j - j0]) << np.uint64(j - j0)
            s[w, i] = acc


@_jit()
def _draw_outputs(ga, u, n):
    """Step every GA[i] D times (eq. 6 draw order): u[d, i] = (r * N) >> 16."""
    un = np.uint32(n)
    for d in range(u.shape[0]):
        for i in range(ga.shape[0]):
            x = ga[i]
            x = np.uint32(x ^ np.uint32(x << np.uint32(13)))
            x = np.uint32(x ^ np.uint32(x >> np.uint32(17)))
            x = np.uint32(x ^ np.uint32(x << np.uint32(5)))
            ga[i] = x
            u[d, i] = ((x >> np.uint32(16)) * un) >> np.uint32(16)


@_jit()
def _outputs(s, vt, u, out, tile, counts):
    """Attn rows of one time step (eq. 6) into out [N, C] (uint64 chunks of 8 output bytes).

    Per 64x64 tile: Attn columns d as bits over rows i (u[d, i] < popcount(S_i & Vcol_d)), one
    bit transpose into rows, then each byte of a row becomes 8 output bytes through _SPREAD8.
    """
    wn, n = s.shape
    dk = u.shape[0]
    chunks = out.shape[1]
    for it in range(0, n, 64):
        for dt in range(0, dk, 64):
            tile[:] = 0
            for d in range(dt, min(dk, dt + 64)):
                acc = np.uint64(0)
                if wn == 1:  # N <= 64: one popcount per row adder, a loop LLVM vectorises
                    vd = vt[0, d]
                    for i in range(it, min(n, it + 64)):
                        acc |= np.uint64(u[d, i] < _popcount(s[0, i] & vd)) << np.uint64(i - it)
                else:  # counts over the words of S rows first, each loop vectorisable
                    counts[:] = 0
                    for w in range(wn):
                        vd = vt[w, d]
                        for i in range(it, min(n, it + 64)):
                            counts[i - it] += _popcount(s[w, i] & vd)
                    for i in range(it, min(n, it + 64)):
                        acc |= np.uint64(u[d, i] < counts[i - it]) << np.uint64(i - it)
                tile[d - dt] = acc
            _transpose64(tile)
            for i in range(it, min(n, it + 64)):
                row = tile[i - it]
                for c in range(dt >> 3, min(chunks, (dt >> 3) + 8)):
                    out[i, c] = _SPREAD8[(row >> np.uint64(8 * (c & 7))) & np.uint64(255)]


@_jit()
def _block(q, k, v, b, seed, out, dk):
    """Block b of chunked [T, blocks, N, C] spikes into the chunked output out[:, b].

    Returns False if a spike was not 0/1.
    """
    t_steps, _, n, _ = q.shape
    wd = (dk + 63) >> 6
    wn = (n + 63) >> 6
    mixed = _fmix32((np.uint64(seed) + np.uint64(b)) & _M32)
    gs = np.empty(n, np.uint64)
    ga = np.empty(n, np.uint32)
    for j in range(n):
        gs[j] = _state0(mixed, np.uint64(2 * j))
        ga[j] = _state0(mixed, np.uint64(2 * j + 1))
    qp = np.empty((wd, n), np.uint64)
    kp = np.empty((wd, n), np.uint64)
    vp = np.empty((wd, n), np.uint64)
    vt = np.empty((wn, dk), np.uint64)
    tile = np.empty(64, np.uint64)
    s = np.empty((wn, n), np.uint64)
    us = np.empty(n, np.uint8)
    ua = np.empty((dk, n), np.uint8)
    counts = np.empty(64, np.uint64)
    seen = np.uint64(0)
    udk = np.uint64(dk)
    for t in range(t_steps):
        seen |= _pack_rows(q[t, b], qp) | _pack_rows(k[t, b], kp) | _pack_columns(v[t, b], vp, tile, vt)
        for j in range(n):  # GS[j] draws once per time step (eq. 5)
            gs[j] = _xorshift32(gs[j])
            us[j] = ((gs[j] >> _U16) * udk) >> _U16
        _scores(qp, kp, us, s, counts)
        _draw_outputs(ga, ua, n)
        _outputs(s, vt, ua, out[t, b], tile, counts)
    return (seen & _NOT_BIT0) == 0


@_jit()
def _run_serial(q, k, v, seed, out, dk):
    ok = True
    for b in range(q.shape[1]):
        ok &= _block(q, k, v, b, seed, out, dk)
    return ok


@_jit(parallel=True)
def _run_parallel(q, k, v, seed, out, dk):
    blocks = q.shape[1]
    ok = np.empty(blocks, np.bool_)
    for b in _prange(blocks):
        ok[b] = _block(q, k, v, b, seed, out, dk)
    return ok.all()


def require_numba() -> None:
    """Raise BackendError, saying how to install it, when numba is missing."""
    if numba is None:
        raise BackendError(f"the fast backend needs numba ({_NUMBA_MISSING}); install it with `{INSTALL_HINT}`")


def check_threads(threads: int | None) -> None:
    """Raise BackendError unless threads is None or 1 .. numba's thread count."""
    top = numba.config.NUMBA_NUM_THREADS
    if threads is not None and not 1 <= threads <= top:
        raise BackendError(f"threads={threads} is outside 1..{top} (numba's threads on this machine); pass a count in that range or None for all")


def run_blocks(q: np.ndarray, k: np.ndarray, v: np.ndarray, config: SSAConfig, threads: int | None) -> tuple[np.ndarray, bool]:
    """Attn (uint8 [T, blocks, N, D_K]) of valid C-contiguous spikes, and False if one was not 0/1."""
    qc, kc, vc = (_as_chunks(x, config) for x in (q, k, v))
    out = np.empty(qc.shape, dtype=_CHUNK)
    if qc.shape[1] == 1 or threads == 1:
        ok = _run_serial(qc, kc, vc, config.seed, out, config.dk)
    else:
        previous = numba.get_num_threads()
        numba.set_num_threads(threads or numba.config.NUMBA_NUM_THREADS)
        try:
            ok = _run_parallel(qc, kc, vc, config.seed, out, config.dk)
        finally:
            numba.set_num_threads(previous)
    attn = out.view(np.uint8)
    if config.dk % 8:
        attn = np.ascontiguousarray(attn[..., : config.dk])
    return attn, bool(ok)


def _fast_path_ok(q: object, k: object, v: object, config: SSAConfig) -> bool:
    """True when Q, K, V are C-contiguous bool/uint8 arrays of one shape that the config allows.

    Only then may the kernel read them directly (it still checks 0/1 values while packing);
    anything else goes through `check_block_inputs`, which converts or raises the shared errors.
    """
    shape = getattr(q, "shape", None)
    for x in (q, k, v):
        if type(x) is not np.ndarray or x.dtype.char not in _SPIKE_CHARS or not x.flags.c_contiguous or x.shape != shape:
            return False
    return len(shape) in (3, 5) and shape[0] == config.t and shape[-2] == config.n and shape[-1] == config.dk and q.size > 0  # type: ignore[arg-type, union-attr]


def _as_chunks(x: np.ndarray, config: SSAConfig) -> np.ndarray:
    """Valid spikes as little-endian uint64 chunks of 8 spikes [T, blocks, N, ceil(D_K/8)].

    A view when D_K is a multiple of 8, else a zero-padded copy.
    """
    x = x.reshape(config.t, -1, config.n, config.dk)
    if config.dk % 8:
        padded = np.zeros(x.shape[:-1] + (config.dk + 8 - config.dk % 8,), dtype=np.uint8)
        padded[..., : config.dk] = x
        x = padded
    return x.view(_CHUNK)


def run(q: np.ndarray, k: np.ndarray, v: np.ndarray, config: SSAConfig, threads: int | None = None) -> np.ndarray:
    """Attn spikes (uint8) shaped like q, identical to `ssa.backends.emulator.run`.

    threads: worker threads for batched calls (None: numba's default, all cores); a single
    block always runs on the calling thread.
    """
    config = check_config(config)
    if config.mode != "lfsr":
        return emulator.run(q, k, v, config)
    require_numba()
    check_threads(threads)
    shape = np.shape(q)
    if not _fast_path_ok(q, k, v, config):
        q, k, v, _ = check_block_inputs(q, k, v, config)
    out, ok = run_blocks(q, k, v, config, threads)
    if not ok:
        check_block_inputs(q, k, v, config)  # a value other than 0/1: raise the shared SpikeValueError
        raise BackendError("the fast kernel flagged a non-binary spike that the shared validation accepted; please report this")
    return out.reshape(shape)


class FastBackend:
    """`run(q, k, v, config)` on the numba kernel; `threads` bounds the workers of batched calls."""

    name = "fast"

    def __init__(self, threads: int | None = None) -> None:
        require_numba()
        check_threads(threads)
        self.threads = threads

    def run(self, q: np.ndarray, k: np.ndarray, v: np.ndarray, config: SSAConfig) -> np.ndarray:
        """Attn spikes shaped like q (see `ssa.backends.fast.run`)."""
        return run(q, k, v, config, self.threads)
