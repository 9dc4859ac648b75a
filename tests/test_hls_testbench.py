"""The HLS C-simulation testbench (hls/tb_ssa.cpp, compiled by g++) passes every golden vector (gains
0..4 included; a v1 file without `gain=` still reads), and hls/run_hls.tcl drives Vitis HLS as
documented (checked in tclsh with stub Vitis commands)."""
from __future__ import annotations

import os
import re
import shutil
import subprocess
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from ssa.contract.config import DEFAULT_KERNEL_LIMITS, GAIN_LOG2_MAX, Limits
from ssa.contract.vectors import read_vector
from toolchain import require_csim_toolchain

ROOT = Path(__file__).resolve().parents[1]
VECTORS = sorted((ROOT / "tests" / "vectors").glob("*.txt"))
#: The default build (N_TILE 32), a 16 x 16 array, and one with DK_MAX=256 for the multi-word vectors (D_K > 64).
BUILDS = {"default": DEFAULT_KERNEL_LIMITS, "tile16": Limits(n_max=256, dk_max=64, t_max=32, n_tile=16),
          "dk256": Limits(n_max=32, dk_max=256, t_max=32)}
RUN_TIMEOUT_S = 120
#: The testbench's own checks before the vectors: the probe call and the refusal of gain_log2 = 5.
SELF_CHECKS = ("probe", "gain_range")


@pytest.fixture(scope="module")
def testbenches() -> dict[str, Path]:
    from ssa.backends import csim

    require_csim_toolchain()  # a compile error below fails the tests
    with ThreadPoolExecutor(max_workers=len(BUILDS)) as pool:
        return dict(zip(BUILDS, pool.map(csim.build_testbench, BUILDS.values()), strict=True))


def run_tb(exe: Path, *args: str, env: dict[str, str] | None = None) -> tuple[int, dict[str, str]]:
    """Exit status and {vector name: PASS/SKIP/FAIL line} of one testbench run."""
    done = subprocess.run([str(exe), *args], capture_output=True, text=True, timeout=RUN_TIMEOUT_S, env=env)
    lines = {m.group(2): m.group(0) for m in re.finditer(r"^(PASS|SKIP|FAIL) ([^:\s]+).*$", done.stdout, re.M)}
    return done.returncode, lines


def fits(limits: Limits, path: Path) -> bool:
    c = read_vector(path).config
    return c.n <= limits.n_max and c.dk <= limits.dk_max and c.t <= limits.t_max


@pytest.mark.parametrize("build", BUILDS)
def test_testbench_passes_every_vector_that_fits(testbenches, build):
    code, lines = run_tb(testbenches[build], *map(str, VECTORS))
    assert code == 0, lines
    for check in SELF_CHECKS:
        assert lines.pop(check).startswith("PASS")
    for path in VECTORS:
        name = read_vector(path).name
        expected = "PASS" if fits(BUILDS[build], path) else "SKIP"
        assert lines[name].startswith(expected), lines[name]


@pytest.mark.skipif(shutil.which("clang++") is None, reason="clang++ is not installed (apt-get install clang)")
def test_clang_testbench_passes_every_vector_that_fits(monkeypatch):
    """The testbench built with CXX=clang++ (default build) gives the same PASS/SKIP lines as g++'s."""
    from ssa.backends import csim

    monkeypatch.setenv("CXX", "clang++")
    require_csim_toolchain()
    assert csim.is_clang(csim.find_compiler())
    code, lines = run_tb(csim.build_testbench(DEFAULT_KERNEL_LIMITS), *map(str, VECTORS))
    assert code == 0, lines
    assert all(lines.pop(check).startswith("PASS") for check in SELF_CHECKS)
    for path in VECTORS:
        assert lines[read_vector(path).name].startswith("PASS" if fits(DEFAULT_KERNEL_LIMITS, path) else "SKIP")


@pytest.mark.parametrize("build", BUILDS)
def test_buffer_model_matches_the_kernels_own(testbenches, build):
    """ssa.cost.resources computes the block buffers' BRAM36 and ping-pong exactly as hls/ssa_params.h."""
    from ssa.cost import resources

    done = subprocess.run([str(testbenches[build]), str(VECTORS[0])], capture_output=True, text=True, timeout=RUN_TIMEOUT_S)
    banner = dict(re.findall(r"(\w+)=(\d+)", done.stdout.splitlines()[0]))
    limits = BUILDS[build]
    assert banner == {"N_TILE": str(limits.array), "N_LIMIT": str(limits.n_max), "DK_MAX": str(limits.dk_max),
                      "T_MAX": str(limits.t_max), "BUFFER_BRAM36": str(resources.buffer_bram36(limits)),
                      "PINGPONG": str(int(resources.pingpong(limits)))}


def test_every_vector_runs_on_some_build(testbenches):
    assert VECTORS, "no golden vectors in tests/vectors"
    passed = set()
    for exe in testbenches.values():
        passed |= {name for name, line in run_tb(exe, *map(str, VECTORS))[1].items() if line.startswith("PASS")}
    assert {read_vector(p).name for p in VECTORS} <= passed
    assert any(read_vector(p).config.dk > 64 for p in VECTORS), "no multi-word vector"
    assert {read_vector(p).config.gain_log2 for p in VECTORS} == set(range(GAIN_LOG2_MAX + 1)), "a gain without a vector"


def test_testbench_reads_vector_list_from_environment(testbenches):
    env = dict(os.environ, SSA_VECTORS=f"{VECTORS[0]}:{VECTORS[-1]}")
    code, lines = run_tb(testbenches["dk256"], env=env)
    assert code == 0 and len(lines) == len(SELF_CHECKS) + 2


def test_testbench_fails_on_a_wrong_expected_word(testbenches, tmp_path):
    source = ROOT / "tests" / "vectors" / "n4_dk8_t3.txt"
    text = source.read_text().splitlines()
    out_at = next(i for i, line in enumerate(text) if line.startswith("out "))
    text[out_at + 2] = f"{int(text[out_at + 2], 16) ^ 0x4:016x}"  # flip one expected Attn bit
    broken = tmp_path / "broken.txt"
    broken.write_text("\n".join(text) + "\n")
    code, lines = run_tb(testbenches["default"], str(broken))
    assert code == 1
    assert lines["n4_dk8_t3"].startswith("FAIL") and "output word 1" in lines["n4_dk8_t3"]


def edited_vector(tmp_path: Path, name: str, config_line: Callable[[str], str]) -> Path:
    """A copy of vector `name` whose config line is config_line(old line)."""
    text = (ROOT / "tests" / "vectors" / f"{name}.txt").read_text().splitlines()
    at = next(i for i, line in enumerate(text) if line.startswith("config "))
    text[at] = config_line(text[at])
    path = tmp_path / f"{name}_{len(list(tmp_path.iterdir()))}.txt"
    path.write_text("\n".join(text) + "\n")
    return path


def test_testbench_reads_the_gain_and_v1_vectors_without_it(testbenches, tmp_path):
    """A v1 vector (no `gain=` field) is gain 0 and passes; a gain vector with its gain dropped fails
    (the gain reaches the kernel); gains outside 0..4 and trailing junk are malformed vectors."""
    def drop(line: str) -> str:
        return re.sub(r" gain=\d+$", "", line)

    cases = {
        edited_vector(tmp_path, "n4_dk8_t3", drop): ("n4_dk8_t3", "PASS"),
        edited_vector(tmp_path, "n8_dk16_t4_gain1", drop): ("n8_dk16_t4_gain1", "FAIL"),
        edited_vector(tmp_path, "n8_dk16_t4_gain1", lambda line: line.replace("gain=1", "gain=5")): (None, "FAIL"),
        edited_vector(tmp_path, "n8_dk16_t4_gain1", lambda line: line + " extra=1"): (None, "FAIL"),
    }
    done = subprocess.run([str(testbenches["default"]), *map(str, cases)], capture_output=True, text=True, timeout=RUN_TIMEOUT_S)
    assert done.returncode == 1
    outcomes = dict(reversed(line.split(":")[0].split(" ", 1)) for line in done.stdout.splitlines()[1:-1])
    for path, (name, outcome) in cases.items():
        assert outcomes[name or str(path)] == outcome, done.stdout
    assert "gain=5 is outside the contract's 0..4" in done.stdout
    assert "malformed config line" in done.stdout and "extra=1" in done.stdout


def test_testbench_without_vectors_is_a_usage_error(testbenches):
    env = {k: v for k, v in os.environ.items() if k != "SSA_VECTORS"}
    assert run_tb(testbenches["default"], env=env)[0] == 2


# ---------------------------------------------------------------------------------------------
# hls/run_hls.tcl under tclsh, Vitis HLS commands stubbed: they print what they were called with.

STUB = r"""
foreach cmd {open_project set_top open_solution set_part create_clock csim_design csynth_design cosim_design export_design} {
    proc $cmd {args} [format {puts "CALL %s $args"} $cmd]
}
proc add_files {args} {
    set path [lindex [lsearch -inline -all -not -glob $args -*] 0]
    if {![file exists $path]} { puts "MISSING $path" }
    puts "CALL add_files $args"
}
set argv $::stub_argv
source $::script
"""


def run_tcl(tmp_path: Path, *args: str, pre: str = "") -> subprocess.CompletedProcess:
    tclsh = shutil.which("tclsh")
    if tclsh is None:
        pytest.skip("tclsh is not installed (apt install tcl)")
    stub = tmp_path / "stub.tcl"
    stub.write_text(pre + "\n" + f"set ::script {{{ROOT / 'hls' / 'run_hls.tcl'}}}\nset ::stub_argv {{{' '.join(args)}}}\n" + STUB)
    return subprocess.run([tclsh, str(stub)], capture_output=True, text=True, timeout=60, cwd=tmp_path)


def calls(output: str, command: str) -> list[str]:
    return [line[len(f"CALL {command} "):] for line in output.splitlines() if line.startswith(f"CALL {command}")]


def test_run_hls_tcl_default_flow(tmp_path):
    done = run_tcl(tmp_path)
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert "MISSING" not in out
    assert calls(out, "set_top") == ["ssa_top"]
    assert calls(out, "set_part") == ["xc7z020clg400-1"]
    assert calls(out, "create_clock") == ["-period 5.000 -name default"]
    sources = calls(out, "add_files")
    assert any("ssa_top.cpp" in s and "-DSSA_N_TILE=32 -DSSA_N_LIMIT=256 -DSSA_DK_MAX=64 -DSSA_T_MAX=32" in s for s in sources)
    assert any(s.startswith("-tb") and "tb_ssa.cpp" in s for s in sources)
    assert not any("/csim" in s for s in sources), "the C-sim shims must never reach Vitis"
    csim = calls(out, "csim_design")
    assert len(csim) == 1 and all(str(v) in csim[0] for v in VECTORS)
    assert calls(out, "csynth_design") == [""]
    assert len(calls(out, "cosim_design")) == 1 and "n4_dk8_t3.txt" in calls(out, "cosim_design")[0]
    export = calls(out, "export_design")
    assert len(export) == 1
    assert re.search(r"-format ip_catalog -vendor xilinx.com -library hls -ipname ssa_top -version 1.0", export[0])
    assert "contract v2" in export[0]  # the IP's description names the contract its kernel implements


def test_run_hls_tcl_takes_tclargs(tmp_path):
    done = run_tcl(tmp_path, "steps=csim,csynth", "n_tile=16", "n_limit=128", "dk_max=128", "t_max=8", "clock_mhz=125")
    assert done.returncode == 0, done.stderr
    assert calls(done.stdout, "create_clock") == ["-period 8.000 -name default"]
    assert any("-DSSA_N_TILE=16 -DSSA_N_LIMIT=128 -DSSA_DK_MAX=128 -DSSA_T_MAX=8" in s for s in calls(done.stdout, "add_files"))
    assert calls(done.stdout, "cosim_design") == [] and calls(done.stdout, "export_design") == []


def test_run_hls_tcl_takes_preset_variables(tmp_path):
    done = run_tcl(tmp_path, pre="set n_tile 8\nset steps csynth")
    assert done.returncode == 0, done.stderr
    assert any("-DSSA_N_TILE=8 -DSSA_N_LIMIT=256 " in s for s in calls(done.stdout, "add_files"))
    assert calls(done.stdout, "csim_design") == []


@pytest.mark.parametrize("arg,message", [("nmax=3", "unknown argument"), ("steps=csim,synth", "unknown step"),
                                         ("n_tile=lots", "must be an integer"), ("n_tile=300", "n_tile must be 1..n_limit"),
                                         ("n_max=32", "unknown argument")])
def test_run_hls_tcl_rejects_bad_arguments(tmp_path, arg, message):
    done = run_tcl(tmp_path, arg)
    assert done.returncode == 2 and message in done.stderr
    assert "CALL" not in done.stdout
