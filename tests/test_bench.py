"""`ssa bench --quick` end to end: every row is present, bit-exact rows agree, outputs are written."""
import json
import os

import pytest
from click.testing import CliRunner

from extras import require

require("torch")  # the bench times the torch backend and the PyTorch baselines
require("matplotlib")  # and plots the growth sweeps

from ssa.cli import main  # noqa: E402
from ssa.cli.bench import bench  # noqa: E402

BIT_EXACT = {"reference", "fast", "torch", "csim", "torch-compiled"}
BASELINES = {"plain-torch-ssa", "ann-attention"}


def test_quick_bench_writes_every_row(tmp_path):
    threads = min(2, os.cpu_count() or 1)
    result = CliRunner().invoke(bench, ["--quick", "--threads", str(threads), "--device", "cpu", "--out", str(tmp_path), "--no-progress"])
    assert result.exit_code == 0, result.output
    report = json.loads((tmp_path / "bench.json").read_text())
    rows = report["rows"]
    by_case = {}
    for r in rows:
        by_case.setdefault((r["n"], r["blocks"]), set()).add((r["impl"], r["threads"]))
    assert len(by_case) == 2  # one N, single block and batched
    csim_skipped = any(s.startswith("csim") for s in report["skipped"])
    for (n, blocks), impls in by_case.items():
        names = {name for name, _ in impls}
        assert {"reference", "fast", "torch"} | BASELINES <= names
        assert ("csim" in names) != csim_skipped
        if blocks > 1:
            assert ("fast", 1) in impls and ("fast", threads) in impls  # 1 vs 2 cores
    for r in rows:
        assert r["us_per_block"] > 0 and r["blocks_per_s"] > 0
        if r["impl"] in BIT_EXACT:
            assert r["bit_exact"] is True, r
        else:
            assert r["impl"] in BASELINES and r["bit_exact"] is None
        assert r["speedup_vs_plain"] > 0
    assert set(report["sweeps"]) == {"n", "t"}
    assert any(name.startswith("fast") for name in report["sweeps"]["n"]["series"])
    assert (tmp_path / "bench.md").read_text().count("| fast |") >= 3
    assert (tmp_path / "bench_growth.png").stat().st_size > 1000
    assert "× plain torch SSA" in result.output
    floor = report["meta"]["floor"]  # the CPU's floor, and every one-thread CPU row against it
    assert floor["ns_per_pair"] > 0 and floor["ns_per_draw"] > 0 and "Floor of this CPU" in result.output
    for r in rows:
        assert r["speedup_vs_paper_cpu"] == pytest.approx(2672.0 / r["us_per_block"])
        assert (r["vs_floor"] is not None) == (r["threads"] == 1)
        if r["vs_floor"] is not None:
            block_floor = floor["block_us"][f"{r['n']},{r['dk']},{r['t']}"]
            assert r["vs_floor"] == pytest.approx(r["us_per_block"] / block_floor)


def test_cuda_device_without_cuda_is_a_clear_error(tmp_path):
    import torch

    if torch.cuda.is_available():
        pytest.skip("needs a machine without CUDA")
    result = CliRunner().invoke(main, ["bench", "--quick", "--device", "cuda", "--out", str(tmp_path)])
    assert result.exit_code == 1 and "Error: BackendError: --device cuda but torch.cuda.is_available() is False" in result.output
    assert not (tmp_path / "bench.json").exists()
