"""Golden vectors: one kernel call (config, input stream, expected output stream) in a text file.

The same files are read by the Python tests, the HLS C-simulation testbench (hls/tb_ssa.cpp) and
the board tests. Format (one item per line, '#' lines are comments)::

    # SSA golden vector, contract v2
    name <identifier>
    config n=<N> dk=<D_K> t=<T> seed=<seed> blocks=<blocks> gain=<gain_log2>
    in <word count>
    <16 hex digits>          one input word per line; TLAST is on the last one
    out <word count>
    <16 hex digits>          one expected output word per line; TLAST on the last one
    end

Regenerate with ``python -m ssa.contract.vectors tests/vectors`` (rewrites every file from the emulator).
"""
from __future__ import annotations

import argparse
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ssa.backends.emulator import run
from ssa.contract.config import CONTRACT_VERSION, SSAConfig
from ssa.contract.packing import pack_input_stream, pack_output_stream
from ssa.errors import VectorFormatError


@dataclass(frozen=True)
class GoldenVector:
    """One kernel call and its expected output."""

    name: str
    config: SSAConfig
    blocks: int
    words_in: np.ndarray
    words_out: np.ndarray


def make_vector(name: str, q: np.ndarray, k: np.ndarray, v: np.ndarray, seed: int, gain_log2: int = 0) -> GoldenVector:
    """Vector from spikes shaped [T, blocks, N, D_K], expected output from the emulator."""
    t, blocks, n, dk = q.shape
    config = SSAConfig(n=n, dk=dk, t=t, seed=seed, gain_log2=gain_log2)
    attn = run(q.reshape(t, 1, blocks, n, dk), k.reshape(t, 1, blocks, n, dk), v.reshape(t, 1, blocks, n, dk), config)
    return GoldenVector(name, config, blocks, pack_input_stream(q, k, v), pack_output_stream(attn.reshape(t, blocks, n, dk)))


def write_vector(vec: GoldenVector, path: Path) -> None:
    """Write one vector file."""
    c = vec.config
    lines = [f"# SSA golden vector, contract v{CONTRACT_VERSION}", f"name {vec.name}",
             f"config n={c.n} dk={c.dk} t={c.t} seed={c.seed} blocks={vec.blocks} gain={c.gain_log2}", f"in {vec.words_in.size}"]
    lines += [f"{int(w):016x}" for w in vec.words_in]
    lines.append(f"out {vec.words_out.size}")
    lines += [f"{int(w):016x}" for w in vec.words_out]
    lines.append("end")
    path.write_text("\n".join(lines) + "\n")


def read_vector(path: Path) -> GoldenVector:
    """Read one vector file, raising VectorFormatError on anything malformed (a v1 file has no gain: 0)."""
    lines = [ln.strip() for ln in Path(path).read_text().splitlines() if ln.strip() and not ln.startswith("#")]
    try:
        it = iter(lines)
        name = _expect(next(it), "name")
        fields = dict(item.split("=") for item in _expect(next(it), "config").split())
        config = SSAConfig(n=int(fields["n"]), dk=int(fields["dk"]), t=int(fields["t"]), seed=int(fields["seed"]),
                           gain_log2=int(fields.get("gain", 0)))
        blocks = int(fields["blocks"])
        words_in = _read_words(it, int(_expect(next(it), "in")))
        words_out = _read_words(it, int(_expect(next(it), "out")))
        if next(it) != "end":
            raise VectorFormatError("missing 'end' line")
    except (StopIteration, KeyError, ValueError) as exc:
        raise VectorFormatError(f"{path}: not a golden vector file ({exc!r}); regenerate it with python -m ssa.contract.vectors") from exc
    return GoldenVector(name, config, blocks, words_in, words_out)


def _expect(line: str, key: str) -> str:
    head, _, rest = line.partition(" ")
    if head != key:
        raise VectorFormatError(f"expected a '{key}' line, got {line[:40]!r}")
    return rest


def _read_words(it, count: int) -> np.ndarray:
    return np.array([int(next(it), 16) for _ in range(count)], dtype=np.uint64)


def standard_cases() -> list[tuple[str, np.ndarray, np.ndarray, np.ndarray, int, int]]:
    """The committed vectors: (name, Q, K, V shaped [T, blocks, N, D_K], seed, gain_log2)."""
    def rand(shape, density, seed):
        g = np.random.default_rng(seed)
        return [(g.random(shape) < density).astype(np.uint8) for _ in range(3)]

    cases = []
    for name, shape, density, seed, gain in [
        ("n1_dk1_t1", (1, 1, 1, 1), 0.5, 0, 0),
        ("n1_dk8_t4", (4, 1, 1, 8), 0.6, 7, 0),
        ("n4_dk8_t3", (3, 1, 4, 8), 0.5, 1, 0),
        ("n5_dk13_t6_odd", (6, 1, 5, 13), 0.4, 99, 0),
        ("n16_dk64_t10", (10, 1, 16, 64), 0.3, 42, 0),
        ("n16_dk64_t10_dense", (10, 1, 16, 64), 0.9, 3, 0),
        ("n7_dk100_t2_multiword", (2, 1, 7, 100), 0.5, 5, 0),
        ("n3_dk256_t2_dkmax", (2, 1, 3, 256), 0.5, 6, 0),
        ("n8_dk32_t4_blocks3", (4, 3, 8, 32), 0.4, 2**32 - 2, 0),
        ("n32_dk64_t32_kernelmax", (32, 1, 32, 64), 0.25, 123456789, 0),
        ("n8_dk16_t4_gain1", (4, 1, 8, 16), 0.3, 21, 1),
        ("n16_dk64_t10_gain2", (10, 1, 16, 64), 0.3, 42, 2),
        ("n5_dk13_t6_gain3_odd", (6, 1, 5, 13), 0.4, 99, 3),
        ("n8_dk32_t4_blocks3_gain4", (4, 3, 8, 32), 0.2, 2**32 - 2, 4),
        ("n40_dk64_t3_gain1_tiled", (3, 1, 40, 64), 0.25, 7, 1),
    ]:
        cases.append((name, *rand(shape, density, seed), seed, gain))
    zeros = np.zeros((3, 1, 8, 16), dtype=np.uint8)
    ones = np.ones((3, 1, 8, 16), dtype=np.uint8)
    cases.append(("n8_dk16_t3_all_zero", zeros, zeros, zeros, 11, 0))
    cases.append(("n8_dk16_t3_all_one", ones, ones, ones, 12, 0))
    return cases


def main(argv: list[str] | None = None) -> None:
    """Regenerate the committed golden vectors."""
    parser = argparse.ArgumentParser(description="Regenerate SSA golden vectors from the reference emulator.")
    parser.add_argument("out_dir", type=Path)
    args = parser.parse_args(argv)
    args.out_dir.mkdir(parents=True, exist_ok=True)
    for name, q, k, v, seed, gain in standard_cases():
        write_vector(make_vector(name, q, k, v, seed, gain), args.out_dir / f"{name}.txt")
        print(f"wrote {args.out_dir / (name + '.txt')}")


if __name__ == "__main__":
    main()
