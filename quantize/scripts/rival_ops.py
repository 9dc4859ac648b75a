"""Operations and energy per attention block of the reduced-budget models (docs/results.md, rivals section).

Measures the spike rates of each trained model's attention inputs on test images (all layers and
heads pooled), then counts one block (all heads of one layer, one image) with
``ssa.cost.energy`` (ann, spikformer, ssa) and ``ssa.cost.energy_rivals`` (a2os2a,
spikedattention) and prints a markdown table.

    python quantize/scripts/rival_ops.py --runs RUNS --images 500 --spiked-t 10 --spiked-base 1.3
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import torch
from ssa.cost.energy import Block, Rates, count, estimate
from ssa.model.datasets import load_dataset
from ssa.model.spiked import NumpyOps, SpikedViT
from ssa_quantize.spiked import convert
from ssa_quantize.training import load_checkpoint, model_from_checkpoint


def spiking_rates(run: Path, images: torch.Tensor) -> dict[str, float]:
    """Mean of Q spikes, K > 0, V ≠ 0 over all layers, heads and steps (torch ideal sampling)."""
    model = model_from_checkpoint(load_checkpoint(run / "checkpoint.pt"))
    seen: dict[str, list[float]] = {"q": [], "k": [], "v": []}
    hooks = [getattr(layer, part).register_forward_hook(lambda m, i, o, p=part: seen[p].append(float((o != 0).float().mean())))
             for layer in model.layers for part in "qkv"]
    torch.manual_seed(0)
    with torch.no_grad():
        model(images)
    for h in hooks:
        h.remove()
    return {p: float(np.mean(v)) for p, v in seen.items()}


class CountingOps(NumpyOps):
    """NumpyOps that records the fraction of neurons firing at the inputs of both trace matmuls."""

    def __init__(self) -> None:
        self.fired: list[tuple[float, float]] = []
        self.timesteps = 0

    def trace_matmul(self, ta, tb, base, timesteps):  # type: ignore[override]
        self.fired.append((float((ta < timesteps).mean()), float((tb < timesteps).mean())))
        return super().trace_matmul(ta, tb, base, timesteps)


def total(ops: dict[str, float], prefixes: tuple[str, ...]) -> float:
    """Sum of the counts of every operation whose name starts with one of ``prefixes``."""
    return sum(v for k, v in ops.items() if k.startswith(prefixes))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=Path, required=True)
    ap.add_argument("--images", type=int, default=500)
    ap.add_argument("--spiked-t", type=int, default=10)
    ap.add_argument("--spiked-base", type=float, default=1.3)
    ap.add_argument("--t", type=int, default=4, help="T of the trained spiking runs")
    args = ap.parse_args()
    data = load_dataset("fashion-mnist")
    x = torch.from_numpy(data.test.images[: args.images]).float() / 255.0
    ann = model_from_checkpoint(load_checkpoint(args.runs / "ann-T1" / "checkpoint.pt"))
    cfg = ann.config
    n, dk, h = cfg.tokens, cfg.head_dim, cfg.heads
    rates = {"ann": None}
    for kind in ("spikformer", "ssa", "a2os2a"):
        run = args.runs / f"{kind}-T{args.t}"
        rates[kind] = spiking_rates(run, x) if (run / "checkpoint.pt").is_file() else None
    params = convert(ann, torch.from_numpy(data.train.images[:512]).float() / 255.0, args.spiked_base, args.spiked_t)
    ops = CountingOps()
    SpikedViT(params, ops).logits(x.numpy())
    qk = np.mean([f for i, f in enumerate(ops.fired) if i % 2 == 0], axis=0)
    pv = np.mean([f for i, f in enumerate(ops.fired) if i % 2 == 1], axis=0)
    rates["spikedattention"] = {"q": qk[0], "k": qk[1], "p": pv[0], "v": pv[1]}
    print(json.dumps({k: v and {kk: round(float(vv), 4) for kk, vv in v.items()} for k, v in rates.items()}))
    print(f"\nOne block: H={h}, N={n}, D_K={dk}; spiking T={args.t}, SpikedAttention T={args.spiked_t}, B={args.spiked_base}\n")
    print("| kind | rates used | ANDs | adds | multiplies | exponentials | compares | energy / block (µJ, 45 nm, 8 KB SRAM) |")
    print("|---|---|---:|---:|---:|---:|---:|---:|")
    for kind, r in rates.items():
        if kind != "ann" and r is None:
            print(f"| {kind} | not run | | | | | | |")
            continue
        if kind == "ann":
            block, used = Block(n, dk, heads=h, t=1), "–"
        elif kind == "spikedattention":
            block = Block(n, dk, heads=h, t=args.spiked_t, rates=Rates(r["q"], r["k"], r["v"], s=r["p"]))
            used = f"fired q {r['q']:.3f}, k {r['k']:.3f}, p {r['p']:.3f}, v {r['v']:.3f}"
        else:
            block = Block(n, dk, heads=h, t=args.t, rates=Rates(r["q"], r["k"], r["v"]))
            used = f"q {r['q']:.3f}, k {r['k']:.3f}, v {r['v']:.3f}"
        c = count(kind, block).ops
        ands, adds, muls, cmps = (total(c, names) for names in (("and",), ("add", "fadd"), ("mul", "fmul"), ("cmp",)))
        exps = block.pairs if kind == "ann" else 0
        print(f"| {kind} | {used} | {ands:,.0f} | {adds:,.0f} | {muls:,.0f} | {exps:,} | {cmps:,.0f} | "
              f"{estimate(kind, block).total_uj:.4f} |")


if __name__ == "__main__":
    main()
