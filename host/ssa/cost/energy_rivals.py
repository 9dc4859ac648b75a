"""Operation counts of one attention block for the rival spiking attentions: A²OS²A and SpikedAttention.

Plain functions of the block geometry (H heads, N tokens, key width D_K, T steps) and measured
activity; each returns :class:`Counts` (``ops``: name → count, names of ``energy_45nm.json``;
``reads`` / ``writes``: operand width in bits → SRAM accesses), registered as the kinds
``a2os2a`` and ``spikedattention`` of ``ssa.cost.energy`` (which imports this module); the counting rules are the same as there
(every operand read from SRAM is one access of its width, event-driven adders step only on events,
comparators run every step). docs/rivals.md discusses them.

Geometry: ``pairs = H·N²``, ``macs = H·N²·D_K``, ``outputs = H·N·D_K``.
"""
from __future__ import annotations

from ssa.cost.energy import Block, Counts, register
from ssa.errors import ConfigError


def _geometry(n: int, dk: int, heads: int, t: int) -> tuple[int, int, int]:
    for name, value in (("n", n), ("dk", dk), ("heads", heads), ("t", t)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ConfigError(f"{name}={value!r} must be a positive integer")
    return heads * n * n, heads * n * n * dk, heads * n * dk


def _rate(name: str, value: float) -> float:
    if not 0.0 <= value <= 1.0:
        raise ConfigError(f"{name}={value} is outside [0, 1]")
    return float(value)


def count_a2os2a(n: int, dk: int, heads: int = 1, t: int = 1, *, q: float = 0.1, k_nonzero: float = 0.5,
                 v_nonzero: float = 0.1, acc_bits: int = 8) -> Counts:
    """A²OS²A, ``LIF((Q Kᵀ) V)`` per time step: additions only.

    ``q``: rate of Q spikes; ``k_nonzero``: fraction of K (ReLU) values > 0; ``v_nonzero``: rate of
    ±1 V spikes. K is counted as 8-bit fixed point (the stack's model keeps it float32) and the
    scores in ``acc_bits`` accumulators. Per step: for each (i, j, d) with q = 1 and k > 0 one add of
    k into S_ij; for each (i, j, d) with v ≠ 0 one add or subtract of S_ij; a LIF per output.
    No multiplication, no exponential, no AND.
    """
    pairs, macs, outputs = _geometry(n, dk, heads, t)
    q, k_nonzero, v_nonzero = _rate("q", q), _rate("k_nonzero", k_nonzero), _rate("v_nonzero", v_nonzero)
    c, acc = Counts(), f"add{acc_bits}"
    c.op(acc, macs * q * k_nonzero)
    c.read(1, macs)  # q bit of every (i, j, d)
    c.read(8, macs * q)  # the K value on each Q spike
    c.write(acc_bits, pairs)  # scores
    c.op(acc, macs * v_nonzero)  # ± S_ij for each nonzero V
    c.read(2, macs)  # the ternary v of every (i, j, d)
    c.read(acc_bits, macs * v_nonzero)  # S_ij on each V event
    c.op(acc, outputs)  # LIF: integrate, threshold
    c.op("cmp8", outputs)
    c.read(acc_bits, outputs)
    c.write(acc_bits, outputs)
    c.write(1, outputs)
    return c.times(t)


def count_spikedattention(n: int, dk: int, heads: int = 1, t: int = 8, *, q: float = 0.5, k: float = 0.5,
                          v: float = 0.5, p: float = 0.5, acc_bits: int = 8) -> Counts:
    """SpikedAttention over a whole ``T``-step window (each neuron fires at most once per block).

    ``q``, ``k``, ``v``: fraction of Q, K, V neurons that fire in the window; ``p``: fraction of WOSS
    outputs that fire (not pushed past T − 1). Counted:

    * trace-driven Q Kᵀ and P·V: one accumulate per pair of spikes that both fire (the later adds the
      earlier's local memory), a trace write into local memory per spike, and per step a ×B of every
      score / output potential (``mul32``; a shift when B = 2) with its threshold compare;
    * WOSS: per score the winner compare and one subtraction (max − z), the firing compare every step,
      one add of its trace into the row's denominator neuron, whose firing time gives the shift;
    * no exponential, no AND; the global trace itself is one multiply per step (negligible, not counted).
    """
    pairs, macs, outputs = _geometry(n, dk, heads, t)
    q, k, v, p = (_rate(nm, x) for nm, x in (("q", q), ("k", k), ("v", v), ("p", p)))
    c, acc = Counts(), f"add{acc_bits}"
    rows = heads * n
    # (spikes of operand a, spikes of operand b, coincident pairs, output potentials): Q Kᵀ, then P·V
    for spikes, coincident, outs in ((outputs * (q + k), macs * q * k, pairs), (pairs * p + outputs * v, macs * p * v, outputs)):
        c.op(acc, coincident)  # one add per pair of spikes that both fire
        c.read(acc_bits, coincident)  # the earlier spike's local memory
        c.write(acc_bits, spikes)  # the trace written into local memory at each spike
        c.op("mul32", outs * t)  # potential × B per step
        c.op("cmp8", outs * t)  # threshold compare per step
    c.op("cmp8", pairs)  # winner (row max)
    c.op(acc, pairs)  # max − z
    c.op("cmp8", pairs * t)  # WOSS neurons' firing compare per step
    c.op(acc, pairs * p)  # denominator: add the trace of each WOSS spike
    c.op("cmp8", rows * t)  # denominator neuron: its firing time is the shift
    c.write(1, pairs * t + outputs * t)  # spikes out (one bit per neuron and step)
    return c


@register("a2os2a", label="A²OS²A (binary Q, ReLU K, ternary V; additions only)", spiking=True)
def _a2os2a(b: Block) -> Counts:
    """Rates: q → ``rates.q``, nonzero K → ``rates.k``, nonzero V → ``rates.v``."""
    r = b.rates
    return count_a2os2a(b.n, b.dk, b.heads, b.t, q=r.q, k_nonzero=r.k, v_nonzero=r.v, acc_bits=b.acc_bits)


@register("spikedattention", label="SpikedAttention (phase coding, trace matmul, WOSS)", spiking=True)
def _spiked(b: Block) -> Counts:
    """Rates: q, k, v → ``rates.q/k/v``; WOSS spikes p → ``rates.s``."""
    r = b.rates
    return count_spikedattention(b.n, b.dk, b.heads, b.t, q=r.q, k=r.k, v=r.v, p=r.s, acc_bits=b.acc_bits)
