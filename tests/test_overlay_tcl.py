"""The Vivado / Vitis HLS Tcl run under tclsh with recording stubs (tests/tcl_stubs/).

No Xilinx tool runs here: every tool command is a stand-in that records what the script asked for
and fails the way the tool would on an unknown IP, parameter or pin. The tests check the design the
scripts describe (part, board, cells, DMA configuration, connections, clocks) and that they fail on
syntax errors, missing cells, timing violations and unfinished runs.
"""
from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
OVERLAY = REPO / "overlay"
HLS = REPO / "hls"
RUNNER = REPO / "tests" / "tcl_stubs" / "run_stubbed.tcl"
PYNQ_Z2 = "tul.com.tw:pynq-z2:part0:1.0"
PYNQ_Z1 = "www.digilentinc.com:pynq-z1:part0:1.0"
SSA_VLNV = "xilinx.com:hls:ssa_top:1.0"
COMPONENT_XML = (
    "<spirit:component><spirit:vendor>{0}</spirit:vendor><spirit:library>{1}</spirit:library>"
    "<spirit:name>{2}</spirit:name><spirit:version>{3}</spirit:version></spirit:component>\n"
)


@dataclass
class TclRun:
    """Exit code, output and the stub report of one stubbed tclsh run."""

    returncode: int
    stdout: str
    stderr: str
    records: list[list[str]]

    def facts(self, kind: str) -> list[tuple[str, ...]]:
        return [tuple(r[1:]) for r in self.records if r[0] == kind]

    def calls(self, command: str) -> list[str]:
        return [r[2] for r in self.records if r[0] == "call" and r[1] == command]

    def config(self, cell: str) -> dict[str, str]:
        return {key: value for c, key, value in self.facts("config") if c == cell}


def run_tcl(tool: str, script: Path, args: list[str], cwd: Path, **knobs: str) -> TclRun:
    """Run `script` under tclsh with the `tool` stubs (vivado or vitis_hls), as that tool would."""
    report = cwd / f"{script.stem}.report"
    source = ["-mode", "batch", "-source"] if tool == "vivado" else ["-f"]
    done = subprocess.run(
        [*stub_command(tool, report), *source, str(script), "-tclargs", *args],
        cwd=cwd, env=stub_env(**knobs), capture_output=True, text=True, timeout=60,
    )
    return TclRun(done.returncode, done.stdout, done.stderr, read_report(report))


def stub_command(tool: str, report: Path) -> list[str]:
    """The command line that stands in for the `tool` executable."""
    tclsh = shutil.which("tclsh")
    assert tclsh, "tclsh is required for the Tcl tests (Debian: apt-get install tcl)"
    return [tclsh, str(RUNNER), tool, str(report)]


def stub_env(**knobs: str) -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith("STUB_")} | knobs


def read_report(report: Path) -> list[list[str]]:
    lines = report.read_text().splitlines() if report.exists() else []
    return [line.split("\t") for line in lines if line]


def write_ip_repo(root: Path, vlnv: str = SSA_VLNV) -> Path:
    """An IP repository holding only the component.xml of `vlnv` (what update_ip_catalog reads)."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "component.xml").write_text(COMPONENT_XML.format(*vlnv.split(":")))
    return root


def build_overlay(tmp: Path, *args: str, overlay: Path = OVERLAY, repo: Path | None = None, **knobs: str) -> TclRun:
    repo = repo or write_ip_repo(tmp / "ip")
    argv = ["-ip_repo", str(repo), "-out", str(tmp / "out"), "-proj_dir", str(tmp / "proj"), *args]
    return run_tcl("vivado", overlay / "build_overlay.tcl", argv, tmp, **knobs)


def test_overlay_describes_the_ssa_design(tmp_path: Path) -> None:
    run = build_overlay(tmp_path, STUB_BOARDS=f"{PYNQ_Z2} {PYNQ_Z1}")
    assert run.returncode == 0, run.stderr
    assert run.facts("part") == [("xc7z020clg400-1",)]
    assert run.facts("board_part") == [(PYNQ_Z2,)]
    cells = dict(run.facts("cell"))
    assert cells["processing_system7_0"].startswith("xilinx.com:ip:processing_system7:")
    assert cells["axi_dma_0"] == "xilinx.com:ip:axi_dma:7.1"
    assert cells["ssa_top_0"] == SSA_VLNV

    dma = run.config("axi_dma_0")
    assert dma["c_include_sg"] == "0" and dma["c_sg_length_width"] == "26"
    for width in ("c_m_axi_mm2s_data_width", "c_m_axis_mm2s_tdata_width", "c_m_axi_s2mm_data_width", "c_s_axis_s2mm_tdata_width"):
        assert dma[width] == "64", width
    ps = run.config("processing_system7_0")
    assert ps["PCW_USE_S_AXI_HP0"] == "1" and ps["PCW_S_AXI_HP0_DATA_WIDTH"] == "64"
    assert ps["PCW_FPGA0_PERIPHERAL_FREQMHZ"] == "100"

    links = {frozenset(pair) for pair in run.facts("intf_net")}
    assert frozenset({"/axi_dma_0/M_AXIS_MM2S", "/ssa_top_0/in_stream"}) in links
    assert frozenset({"/ssa_top_0/out_stream", "/axi_dma_0/S_AXIS_S2MM"}) in links
    assert frozenset({"/ctrl_interconnect/M01_AXI", "/ssa_top_0/s_axi_control"}) in links
    assert frozenset({"/processing_system7_0/M_AXI_GP0", "/ctrl_interconnect/S00_AXI"}) in links
    assert frozenset({"/mem_interconnect/M00_AXI", "/processing_system7_0/S_AXI_HP0"}) in links
    clocked = {sink for source, sink in run.facts("net") if source == "/processing_system7_0/FCLK_CLK0"}
    assert {"/ssa_top_0/ap_clk", "/axi_dma_0/m_axi_mm2s_aclk", "/axi_dma_0/m_axi_s2mm_aclk"} <= clocked
    assert ("/rst_ps7_0/peripheral_aresetn", "/ssa_top_0/ap_rst_n") in run.facts("net")
    assert run.facts("validated") == [("ssa",)]

    assert [t for (t,) in run.facts("wait_timeout")] == ["240", "240"], "every run wait has a timeout"
    out = tmp_path / "out"
    assert (out / "ssa.bit").is_file() and (out / "ssa.hwh").is_file()
    assert (out / "ssa.hwh").read_text() == "<EDKSYSTEM/>\n", "the hw_handoff copy of the block design"


def test_pynq_z1_and_clock_option(tmp_path: Path) -> None:
    run = build_overlay(tmp_path, "-board", "pynq-z1", "-fclk_mhz", "200", STUB_BOARDS=PYNQ_Z1)
    assert run.returncode == 0, run.stderr
    assert run.facts("board_part") == [(PYNQ_Z1,)]
    assert run.config("processing_system7_0")["PCW_FPGA0_PERIPHERAL_FREQMHZ"] == "200"


def test_bare_part_fallback_is_announced(tmp_path: Path) -> None:
    run = build_overlay(tmp_path, STUB_BOARDS="")
    assert run.returncode == 0, run.stderr
    assert run.facts("board_part") == []
    assert run.facts("automation") == [("processing_system7_0", "apply_board_preset", "0")]
    assert "board files for tul.com.tw:pynq-z2:part0:1.0 are not installed" in run.stdout
    assert (tmp_path / "out" / "ssa.bit").is_file()


@pytest.mark.parametrize("knob", ["STUB_WNS", "STUB_WHS"])
def test_negative_slack_fails_before_the_bitstream(tmp_path: Path, knob: str) -> None:
    run = build_overlay(tmp_path, STUB_BOARDS=PYNQ_Z2, **{knob: "-0.087"})
    assert run.returncode != 0
    assert "timing not met at 100 MHz" in run.stderr
    assert not (tmp_path / "out" / "ssa.bit").exists()


def test_unfinished_run_fails(tmp_path: Path) -> None:
    run = build_overlay(tmp_path, STUB_BOARDS=PYNQ_Z2, STUB_PROGRESS_impl_1="57%")
    assert run.returncode != 0
    assert "impl_1 did not complete" in run.stderr
    assert not (tmp_path / "out" / "ssa.bit").exists()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["-board", "zedboard"], "-board zedboard is unknown"),
        (["-fclk_mhz", "fast"], "-fclk_mhz must be a positive integer"),
        (["-jbos", "4"], "unknown option -jbos"),
    ],
)
def test_bad_options_are_refused(tmp_path: Path, args: list[str], message: str) -> None:
    run = build_overlay(tmp_path, *args, STUB_BOARDS=PYNQ_Z2)
    assert run.returncode != 0 and message in run.stderr


def test_missing_ip_repository_says_how_to_build_it(tmp_path: Path) -> None:
    run = build_overlay(tmp_path, repo=tmp_path / "nowhere", STUB_BOARDS=PYNQ_Z2)
    assert run.returncode != 0 and "hls/run_hls.tcl" in run.stderr


def test_ip_repository_without_the_ssa_kernel_fails(tmp_path: Path) -> None:
    repo = write_ip_repo(tmp_path / "other", "xilinx.com:hls:other_top:1.0")
    run = build_overlay(tmp_path, repo=repo, STUB_BOARDS=PYNQ_Z2)
    assert run.returncode != 0 and f"IP definition not found for VLNV: {SSA_VLNV}" in run.stderr


def _drop_line(pattern: str):
    def edit(text: str) -> str:
        lines = text.splitlines(keepends=True)
        kept = [line for line in lines if not re.search(pattern, line)]
        assert len(kept) == len(lines) - 1, f"mutation {pattern!r} must remove exactly one line"
        return "".join(kept)
    return edit


def _replace(old: str, new: str):
    def edit(text: str) -> str:
        assert text.count(old) == 1, f"mutation target {old!r} must occur once"
        return text.replace(old, new)
    return edit


MUTATIONS = {
    # A cell that is never instantiated: its handle becomes Vivado's empty lookup result.
    "dma cell missing": (
        "ssa_bd.tcl", _replace("[create_bd_cell -type ip -vlnv xilinx.com:ip:axi_dma:7.1 axi_dma_0]", "[get_bd_cells axi_dma_0]"),
        "No cells found that match 'axi_dma_0'",
    ),
    "ssa cell missing": (
        "ssa_bd.tcl", _replace("[create_bd_cell -type ip -vlnv $hls_vlnv ssa_top_0]", "[get_bd_cells ssa_top_0]"),
        "ssa_top_0/s_axi_control does not exist",
    ),
    "ps7 cell missing": (
        "ssa_bd.tcl", _replace("[create_bd_cell -type ip -vlnv xilinx.com:ip:processing_system7:5.5 processing_system7_0]", "[get_bd_cells processing_system7_0]"),
        "No cells found that match 'processing_system7_0'",
    ),
    "brace broken": ("ssa_bd.tcl", _replace("    save_bd_design\n}", "    save_bd_design\n"), "missing close-brace"),
    "scatter gather left on": ("ssa_bd.tcl", _drop_line(r"CONFIG.c_include_sg \{0\}"), "/axi_dma_0/M_AXI_SG"),
    "parameter misspelled": ("ssa_bd.tcl", _replace("c_sg_length_width {26}", "c_sg_lenght_width {26}"), "CONFIG.c_sg_lenght_width does not exist"),
    "stream unconnected": ("ssa_bd.tcl", _drop_line(r"stream_pin \$ssa Master"), "/ssa_top_0/out_stream"),
}


@pytest.mark.parametrize("name", sorted(MUTATIONS))
def test_mutated_scripts_fail(tmp_path: Path, name: str) -> None:
    """Each mutation of a copy of overlay/ must make the stubbed build (or its checks) fail."""
    target, edit, message = MUTATIONS[name]
    copy = tmp_path / "overlay"
    shutil.copytree(OVERLAY, copy, ignore=shutil.ignore_patterns("build"))
    path = copy / target
    path.write_text(edit(path.read_text()))
    run = build_overlay(tmp_path, overlay=copy, STUB_BOARDS=PYNQ_Z2)
    assert run.returncode != 0
    assert message in run.stderr


def test_overlay_tcl_stays_within_tcl_8_5() -> None:
    """Vivado's embedded Tcl may be 8.5: no 8.6-only commands in overlay/*.tcl, ASCII only."""
    for script in OVERLAY.glob("*.tcl"):
        assert script.read_bytes().isascii(), f"{script.name} has non-ASCII characters"
        code = "\n".join(line.split("#", 1)[0] for line in script.read_text().splitlines())
        for command in ("lmap", "try", "throw", "tailcall", "coroutine", "yield"):
            assert not re.search(rf"(^|[\[;{{\s]){command}\s", code), f"{script.name} uses {command} (Tcl 8.6 only)"


# ------------------------------------------------------------------------------------------------
# hls/run_hls.tcl and the Makefile that chains it to Vivado


def run_hls(tmp: Path, *args: str, hls: Path = HLS) -> TclRun:
    return run_tcl("vitis_hls", hls / "run_hls.tcl", [f"vectors={REPO / 'tests' / 'vectors'}", *args], tmp)


def test_hls_flow_targets_the_pynq_part_at_200_mhz(tmp_path: Path) -> None:
    run = run_hls(tmp_path)
    assert run.returncode == 0, run.stderr
    assert run.facts("part") == [("xc7z020clg400-1",)]
    assert run.facts("clock_period") == [("5.000",)], "200 MHz"
    assert run.facts("flow_target") == [("vivado",)]
    assert [s for (s,) in run.facts("step")] == ["csim", "csynth", "cosim", "export"]
    assert run.facts("top") == [("ssa_top",)] and ("tb_ssa.cpp",) in run.facts("testbench")
    assert run.facts("export_format") == [("ip_catalog",)]
    assert run.facts("export_vlnv") == [(SSA_VLNV,)], "the VLNV overlay/ssa_bd.tcl instantiates"
    assert (tmp_path / "ssa_hls_prj" / "sol1" / "impl" / "ip" / "component.xml").is_file()


HLS_MUTATIONS = {
    "brace broken": (_replace("    csynth_design\n}", "    csynth_design\n"), "missing close-brace"),
    "csynth dropped": (_drop_line(r"^\s*csynth_design\s*$"), "cosim_design: run csynth_design first"),
    "source misnamed": (_replace("foreach source {ssa_top.cpp ", "foreach source {ssa_top_v2.cpp "), "Cannot find source file"),
}


@pytest.mark.parametrize("name", sorted(HLS_MUTATIONS))
def test_mutated_hls_script_fails(tmp_path: Path, name: str) -> None:
    edit, message = HLS_MUTATIONS[name]
    copy = tmp_path / "hls"
    shutil.copytree(HLS, copy, ignore=shutil.ignore_patterns("__pycache__", "csim"))
    script = copy / "run_hls.tcl"
    script.write_text(edit(script.read_text()))
    run = run_hls(tmp_path, hls=copy)
    assert run.returncode != 0
    assert message in run.stderr
    assert not (tmp_path / "ssa_hls_prj" / "sol1" / "impl" / "ip" / "component.xml").exists()


def test_make_chains_hls_export_into_the_overlay_build(tmp_path: Path) -> None:
    """`make -C overlay` with both tools stubbed: the exported IP is the one Vivado instantiates."""
    make = shutil.which("make")
    if make is None:
        pytest.skip("make is not installed (apt-get install make); the Tcl itself is tested above")
    build = tmp_path / "build"
    tools = [f"VIVADO={shlex.join(stub_command('vivado', tmp_path / 'vivado.report'))}",
             f"VITIS_HLS={shlex.join(stub_command('vitis_hls', tmp_path / 'hls.report'))}",
             f"BUILD={build}", f"HLS_ARGS=vectors={REPO / 'tests' / 'vectors'}"]
    env = stub_env(STUB_BOARDS=PYNQ_Z2)
    done = subprocess.run([make, "-C", str(OVERLAY), *tools], env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    assert (build / "ssa.bit").is_file() and (build / "ssa.hwh").is_file()
    vivado = read_report(tmp_path / "vivado.report")
    exported = [r[1] for r in read_report(tmp_path / "hls.report") if r[0] == "export_vlnv"]
    assert exported == [SSA_VLNV]
    assert ["repo_ip", SSA_VLNV] in vivado and ["cell", "ssa_top_0", SSA_VLNV] in vivado
    up_to_date = subprocess.run([make, "-q", "-C", str(OVERLAY), *tools], env=env, capture_output=True, timeout=60)
    assert up_to_date.returncode == 0, "a second make has nothing to do"


def test_make_passes_the_kernel_parameters_and_rebuilds_when_they_change(tmp_path: Path) -> None:
    """N_TILE, N_LIMIT, DK_MAX, T_MAX reach run_hls.tcl as -DSSA_...; changing one re-runs the HLS export."""
    make = shutil.which("make")
    if make is None:
        pytest.skip("make is not installed (apt-get install make); the Tcl itself is tested above")
    build = tmp_path / "build"

    def run_make(report: str, *params: str, question: bool = False) -> subprocess.CompletedProcess:
        tools = [f"VIVADO={shlex.join(stub_command('vivado', tmp_path / 'vivado.report'))}",
                 f"VITIS_HLS={shlex.join(stub_command('vitis_hls', tmp_path / report))}",
                 f"BUILD={build}", f"HLS_ARGS=vectors={REPO / 'tests' / 'vectors'}", *params]
        return subprocess.run([make, *(["-q"] if question else []), "-C", str(OVERLAY), *tools],
                              env=stub_env(STUB_BOARDS=PYNQ_Z2), capture_output=True, text=True, timeout=120)

    def cflags(report: str) -> list[str]:
        return [r[2] for r in read_report(tmp_path / report) if r[:2] == ["call", "add_files"] and "ssa_top.cpp" in r[2]]

    first = run_make("default.report")
    assert first.returncode == 0, first.stdout + first.stderr
    assert cflags("default.report") and all("-DSSA_N_TILE=32 -DSSA_N_LIMIT=256 -DSSA_DK_MAX=64 -DSSA_T_MAX=32" in c
                                            for c in cflags("default.report"))
    assert run_make("default.report", question=True).returncode == 0, "same parameters: nothing to do"
    tile16 = run_make("tile16.report", "N_TILE=16", "T_MAX=16")
    assert tile16.returncode == 0, tile16.stdout + tile16.stderr
    assert all("-DSSA_N_TILE=16 -DSSA_N_LIMIT=256 -DSSA_DK_MAX=64 -DSSA_T_MAX=16" in c for c in cflags("tile16.report"))
    assert cflags("tile16.report"), "another N_TILE re-ran the HLS export"
