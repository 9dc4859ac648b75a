"""Energy of one attention block, counted operation by operation (45 nm CMOS, data in on-chip SRAM).

The method is the SSA paper's (Table II): count every arithmetic operation and every SRAM access of
a block, multiply each by its energy from one data table (`energy_45nm.json`, each entry with its
source), sum into processing and memory energy. Spiking kinds do their work once per time step and
scale with the spike rates of Q, K, V and S; the ANN has no time steps. numpy-free and board-safe.

Geometry, with H heads of N tokens and key width D_K (`Block`):

    pairs   = H·N²        attention scores S
    macs    = H·N²·D_K    (i, j, d) triples: one step of QKᵀ and one of S·V each
    outputs = H·N·D_K     Attn elements

Counting rules (the assumptions behind every number; docs/results.md "Energy" discusses them):

* Every operand an arithmetic unit takes from memory is one SRAM access of the operand's width
  (no reuse buffers); registers inside a unit (the SAU's S register and V shift register) are free.
* SRAM energy is proportional to the bits moved: an access of w bits costs w/64 of the table's
  64-bit access energy for the block's memory size (`Block.sram`).
* Spiking work is event-driven: an adder steps only for a 1 at its input, so a counter or
  accumulator costs (rate × count) adds; AND gates and comparators run every cycle.
* Accumulators are `Block.acc_bits` wide (8 fits the paper's Table II; 32 is the safe hardware value).

Adding an attention kind
------------------------
A kind is one function ``count(block: Block) -> Counts`` for the whole block (all heads, all time
steps), registered by name; `estimate(name, block)` then prices it and `ssa energy` lists it. Put
it next to `count_ann`, `count_spikformer` and `count_ssa` in this module, so every user of the
registry sees it::

    from ssa.cost.energy import Block, Counts, register

    @register("mykind", label="My attention", spiking=True)
    def count_mykind(b: Block) -> Counts:
        c = Counts()
        c.op("and1", b.macs)                 # op names are the keys of energy_45nm.json "ops"
        c.op(f"add{b.acc_bits}", b.macs * b.rates.qk)
        c.read(1, 2 * b.macs)                # SRAM accesses: width in bits, number of accesses
        c.write(1, b.outputs)
        return c.times(b.t)                  # per time step -> whole block

`b.rates` holds the spike rates (q, k, v, s and the coincidence rates qk = P(q∧k), sv = P(s∧v)).
An op missing from the table raises ConfigError when priced, so a new primitive is a new JSON entry.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import lru_cache
from importlib.resources import files
from pathlib import Path
from typing import Callable

from ssa.errors import ConfigError

TABLE_FILE = "energy_45nm.json"


@dataclass(frozen=True)
class EnergyTable:
    """Energies in pJ: `ops[name]` per operation, `sram[size]` = (pJ, word bits) per access."""

    ops: dict[str, float]
    sram: dict[str, tuple[float, int]]
    sources: dict[str, str]

    def op(self, name: str) -> float:
        try:
            return self.ops[name]
        except KeyError:
            raise ConfigError(f"operation {name!r} has no energy; add it to {TABLE_FILE} (known: {', '.join(sorted(self.ops))})") from None

    def sram_bit(self, size: str) -> float:
        """pJ per bit moved to or from an SRAM of `size`."""
        try:
            pj, bits = self.sram[size]
        except KeyError:
            raise ConfigError(f"SRAM size {size!r} has no energy; choose one of {', '.join(self.sram)} or add it to {TABLE_FILE}") from None
        return pj / bits


def load_table(path: str | Path | None = None) -> EnergyTable:
    """The energy table shipped with ssa (or another JSON file of the same form)."""
    text = Path(path).read_text() if path is not None else files("ssa.cost").joinpath(TABLE_FILE).read_text()
    try:
        raw = json.loads(text)
        ops = {k: float(v["pj"]) for k, v in raw["ops"].items()}
        sram = {k: (float(v["pj"]), int(v["word_bits"])) for k, v in raw["sram"].items()}
        sources = {k: v["source"] for part in ("ops", "sram") for k, v in raw[part].items()}
    except (ValueError, KeyError, TypeError) as exc:
        raise ConfigError(f"energy table {path or TABLE_FILE} is malformed ({exc!r}); every entry needs pj and source, SRAM entries word_bits") from exc
    return EnergyTable(ops, sram, sources)


@lru_cache(maxsize=1)
def default_table() -> EnergyTable:
    return load_table()


@dataclass
class Counts:
    """Operation counts and SRAM accesses (by width in bits) of some piece of work."""

    ops: dict[str, float] = field(default_factory=dict)
    reads: dict[int, float] = field(default_factory=dict)
    writes: dict[int, float] = field(default_factory=dict)

    def op(self, name: str, count: float) -> None:
        self.ops[name] = self.ops.get(name, 0.0) + float(count)

    def read(self, width: int, count: float) -> None:
        self.reads[width] = self.reads.get(width, 0.0) + float(count)

    def write(self, width: int, count: float) -> None:
        self.writes[width] = self.writes.get(width, 0.0) + float(count)

    def times(self, k: float) -> "Counts":
        """These counts repeated k times (e.g. per time step -> T steps)."""
        return Counts({n: c * k for n, c in self.ops.items()}, {w: c * k for w, c in self.reads.items()},
                      {w: c * k for w, c in self.writes.items()})

    def __add__(self, other: "Counts") -> "Counts":
        out = self.times(1)
        for n, c in other.ops.items():
            out.op(n, c)
        for w, c in other.reads.items():
            out.read(w, c)
        for w, c in other.writes.items():
            out.write(w, c)
        return out

    @property
    def bits_moved(self) -> float:
        return sum(w * c for part in (self.reads, self.writes) for w, c in part.items())


@dataclass(frozen=True)
class Energy:
    """Processing and memory energy in µJ, with the pJ of every operation for a breakdown."""

    processing_uj: float
    memory_uj: float
    by_op_pj: dict[str, float]

    @property
    def total_uj(self) -> float:
        return self.processing_uj + self.memory_uj

    def __add__(self, other: "Energy") -> "Energy":
        ops = dict(self.by_op_pj)
        for n, e in other.by_op_pj.items():
            ops[n] = ops.get(n, 0.0) + e
        return Energy(self.processing_uj + other.processing_uj, self.memory_uj + other.memory_uj, ops)


def price(counts: Counts, sram: str = "8KB", table: EnergyTable | None = None) -> Energy:
    """Energy of `counts` with all data in an SRAM of size `sram`."""
    table = table or default_table()
    by_op = {n: c * table.op(n) for n, c in counts.ops.items()}
    processing_pj, memory_pj = sum(by_op.values()), counts.bits_moved * table.sram_bit(sram)
    by_op[f"sram {sram}"] = memory_pj
    return Energy(processing_pj * 1e-6, memory_pj * 1e-6, by_op)


@dataclass(frozen=True)
class Rates:
    """Spike rates (probability of a 1 per element and time step) of one block's tensors.

    qk = P(q_id ∧ k_jd) over all (i, j, d); it defaults to q·k (independent spikes) but a measured
    value keeps the correlation of real queries and keys. s = P(S_ij) (SSA: E[S] = qk exactly),
    sv = P(S_ij ∧ V_jd), default s·v.
    """

    q: float = 0.1
    k: float = 0.1
    v: float = 0.1
    qk: float = None  # type: ignore[assignment]  # None: q·k
    s: float = None  # type: ignore[assignment]  # None: qk
    sv: float = None  # type: ignore[assignment]  # None: s·v

    def __post_init__(self) -> None:
        for name, default in (("qk", lambda: self.q * self.k), ("s", lambda: self.qk), ("sv", lambda: self.s * self.v)):
            if getattr(self, name) is None:
                object.__setattr__(self, name, default())
        for name in ("q", "k", "v", "qk", "s", "sv"):
            value = getattr(self, name)
            if not 0.0 <= value <= 1.0:
                raise ConfigError(f"spike rate {name}={value} is outside [0, 1]")

    @classmethod
    def uniform(cls, r: float) -> "Rates":
        """Every tensor at rate r, independent spikes."""
        return cls(r, r, r)


@dataclass(frozen=True)
class Block:
    """One attention block: H heads of N tokens, key width D_K, T time steps, spike rates, memory."""

    n: int
    dk: int
    heads: int = 1
    t: int = 1
    rates: Rates = field(default_factory=Rates)
    sram: str = "8KB"
    acc_bits: int = 8

    def __post_init__(self) -> None:
        for name in ("n", "dk", "heads", "t"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ConfigError(f"{name}={value!r} must be a positive integer")
        if self.acc_bits not in (8, 32):
            raise ConfigError(f"acc_bits={self.acc_bits} must be 8 or 32 (the widths of the table's adders)")

    @property
    def pairs(self) -> int:
        return self.heads * self.n * self.n

    @property
    def macs(self) -> int:
        return self.pairs * self.dk

    @property
    def outputs(self) -> int:
        return self.heads * self.n * self.dk


Counter = Callable[[Block], Counts]


@dataclass(frozen=True)
class Kind:
    name: str
    label: str
    spiking: bool
    count: Counter


KINDS: dict[str, Kind] = {}


def register(name: str, *, label: str, spiking: bool) -> Callable[[Counter], Counter]:
    """Decorator: register `count(block) -> Counts` as attention kind `name`."""

    def wrap(count: Counter) -> Counter:
        KINDS[name] = Kind(name, label, spiking, count)
        return count

    return wrap


def get_kind(name: str) -> Kind:
    try:
        return KINDS[name]
    except KeyError:
        raise ConfigError(f"unknown attention kind {name!r}; registered: {', '.join(KINDS)}") from None


def count(kind: str, block: Block) -> Counts:
    return get_kind(kind).count(block)


def estimate(kind: str, block: Block, table: EnergyTable | None = None) -> Energy:
    """Energy of one block of attention kind `kind`."""
    return price(count(kind, block), block.sram, table)


@register("ann", label="ANN (INT8 softmax attention)", spiking=False)
def count_ann(b: Block) -> Counts:
    """softmax(QKᵀ/√D_K)·V on INT8 operands: two MACs per (i, j, d), softmax per score; no T."""
    c, acc = Counts(), f"add{b.acc_bits}"
    c.op("mul8", 2 * b.macs)
    c.op(acc, 2 * b.macs)
    c.read(8, 4 * b.macs)  # both INT8 operands of every MAC
    # softmax per score: running max, x - max, exp by table look-up, Σ, × 1/Σ (scale 1/√D_K is a shift)
    c.op("cmp8", b.pairs)
    c.op("add8", b.pairs)
    c.op("add32", b.pairs)
    c.op("mul32", b.pairs)
    c.write(32, b.pairs)  # raw scores
    c.read(32, b.pairs)
    c.read(8, b.pairs)  # exp table
    c.write(8, b.pairs)  # INT8 probabilities (read back as MAC operands above)
    c.write(8, b.outputs)
    return c


@register("spikformer", label="Spikformer (integer QKᵀV)", spiking=True)
def count_spikformer(b: Block) -> Counts:
    """Per time step: S = QKᵀ by AND + count; (S·V) by an INT8 MAC for each V spike; LIF outputs."""
    c, r, acc = Counts(), b.rates, f"add{b.acc_bits}"
    c.op("and1", b.macs)
    c.op(acc, b.macs * r.qk)  # count the q∧k coincidences into the integer score
    c.read(1, 2 * b.macs)  # q and k bits
    c.write(8, b.pairs)  # integer scores
    c.op("mul8", b.macs * r.v)  # integer multiplier, zero-skipping on V
    c.op(acc, b.macs * r.v)
    c.read(1, b.macs)  # the v bit of every (i, j, d)
    c.read(8, b.macs * r.v)  # the score, for each V spike
    c.op(acc, b.outputs)  # LIF: integrate, threshold
    c.op("cmp8", b.outputs)
    c.read(b.acc_bits, b.outputs)  # membrane potential
    c.write(b.acc_bits, b.outputs)
    c.write(1, b.outputs)
    return c.times(b.t)


@register("ssa", label="SSA (stochastic spiking attention)", spiking=True)
def count_ssa(b: Block) -> Counts:
    """Per time step, the N×N SAU array of the paper (Fig. 2) with the generators of docs/spec.md §4."""
    c, r = Counts(), b.rates
    c.op("and1", 2 * b.macs)  # q∧k and S∧v in every SAU cycle
    c.op("add8", b.macs * r.qk)  # UINT8 counter steps on each coincidence
    c.op("add8", b.macs * r.sv)  # row adder: one add per S∧v one
    c.op("rng", b.heads * b.n * (1 + b.dk))  # GS per key column per step, GA per row per d_k
    c.op("cmp8", b.pairs + b.outputs)  # Bernoulli encoders of S and Attn
    c.read(1, 2 * b.macs)  # q and k bits into every SAU cycle (S and V stay in the SAU)
    c.write(1, b.outputs)
    return c.times(b.t)


def count_linear(tokens: int, d_in: int, d_out: int, t: int, activity: float | None, acc_bits: int = 8) -> Counts:
    """A QuantLinear layer (INT8 weights) on `tokens` rows.

    activity None: ANN, one INT8 MAC per weight and token, both operands read. Otherwise spiking:
    per time step one accumulate and one weight read per input event (activity = mean input value
    per element and step; a residual input of 2 is two events), then a LIF neuron per output.
    """
    c, acc = Counts(), f"add{acc_bits}"
    if activity is None:
        macs = tokens * d_in * d_out
        c.op("mul8", macs)
        c.op(acc, macs)
        c.read(8, 2 * macs)
        c.write(8, tokens * d_out)
        return c
    events = tokens * d_in * d_out * activity
    c.op(acc, events)
    c.read(8, events)  # the weight of each event
    c.read(1, tokens * d_in)  # input spikes
    c.op(acc, tokens * d_out)  # LIF: integrate, threshold
    c.op("cmp8", tokens * d_out)
    c.read(acc_bits, tokens * d_out)
    c.write(acc_bits, tokens * d_out)
    c.write(1, tokens * d_out)
    return c.times(t)


#: The paper's FPGA figures (Table III): SSA block on a Zynq-7000 at 200 MHz.
PAPER_FPGA_POWER_W = 1.47
PAPER_FPGA_LATENCY_US = 3.3
#: FCLK_CLK0 of the overlay (overlay/build_overlay.tcl -fclk_mhz default).
OVERLAY_CLOCK_MHZ = 100.0


@dataclass(frozen=True)
class FpgaEnergy:
    """Energy per block implied by a power and a latency: derived, not measured."""

    label: str
    power_w: float
    latency_us: float

    @property
    def energy_uj(self) -> float:
        return self.power_w * self.latency_us


def fpga_energies(n: int, dk: int, t: int, clock_mhz: float = OVERLAY_CLOCK_MHZ,
                  power_w: float = PAPER_FPGA_POWER_W) -> list[FpgaEnergy]:
    """The paper's 1.47 W × 3.3 µs and the latency model's block at `clock_mhz` at the same power."""
    from ssa.cost.latency import estimate as latency

    est = latency(n, dk, t, clock_mhz=clock_mhz)
    return [
        FpgaEnergy("paper FPGA (Table III: 1.47 W x 3.3 us, 200 MHz)", PAPER_FPGA_POWER_W, PAPER_FPGA_LATENCY_US),
        FpgaEnergy(f"latency model, SAU array N={n} D_K={dk} T={t} at {clock_mhz:g} MHz, {power_w} W", power_w, est.array_us),
        FpgaEnergy(f"latency model, block incl. stream transfers at {clock_mhz:g} MHz, {power_w} W", power_w, est.end_to_end_us),
    ]


# The rival attentions count in their own module; importing it registers them (it needs the names above).
import ssa.cost.energy_rivals  # noqa: E402,F401
