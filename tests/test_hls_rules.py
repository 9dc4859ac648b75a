"""The HLS kernel sources stay synthesizable by construction.

A small static checker scans the kernel code (hls/*.h and hls/ssa_top.cpp; not the testbench, not
the C-simulation shims in hls/csim/) for what Vitis HLS cannot synthesize or what breaks the
II=1 design: heap use, STL containers, exceptions, recursion, unbounded loops, runtime loop bounds
without LOOP_TRIPCOUNT, floating point, stray includes, and `#ifndef __SYNTHESIS__` used for more
than diagnostics. The checker is itself tested on bad snippets so a regression cannot slip past it.
"""
from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from toolchain import require_csim_toolchain

HLS = Path(__file__).resolve().parents[1] / "hls"
KERNEL_FILES = sorted(HLS.glob("*.h")) + [HLS / "ssa_top.cpp"]

ALLOWED_SYSTEM_INCLUDES = {"ap_int.h", "ap_axi_sdata.h", "hls_stream.h", "ap_shift_reg.h"}
FORBIDDEN = {
    r"\bnew\b": "heap allocation (new)",
    r"\bdelete\b": "heap deallocation (delete)",
    r"\b(malloc|calloc|realloc|free)\s*\(": "heap allocation (malloc/free)",
    r"\bstd::(vector|map|unordered_map|set|unordered_set|list|deque|string|array|queue|stack)\b": "STL container",
    r"\b(throw|try|catch)\b": "C++ exception",
    r"\b(while|do)\b": "while/do loop (use a bounded for loop)",
    r"\bgoto\b": "goto",
    r"\b(float|double)\b": "floating point (the contract is integer-only)",
}
DIAGNOSTIC_LINE = re.compile(r"^\s*(std::)?(printf|fprintf|puts|cout|cerr|assert)\b|^\s*$|^\s*[{}]\s*$")
NOT_FUNCTIONS = {"if", "for", "while", "switch", "catch", "return", "sizeof"}


def strip_comments_and_strings(text: str) -> str:
    """Blank out comments and string/char literals, keeping line structure and preprocessor lines."""
    pattern = re.compile(r'//[^\n]*|/\*.*?\*/|"(\\.|[^"\\\n])*"|\'(\\.|[^\'\\\n])*\'', re.S)
    return pattern.sub(lambda m: re.sub(r"[^\n]", " ", m.group(0)) if m.group(0).startswith("/") else '""', text)


def matching_brace(text: str, open_at: int) -> int:
    """Index of the brace closing the one at open_at."""
    depth = 0
    for pos in range(open_at, len(text)):
        depth += {"{": 1, "}": -1}.get(text[pos], 0)
        if depth == 0:
            return pos
    raise ValueError("unbalanced braces")


def loop_body(text: str, header_end: int) -> str:
    """The body of the loop whose header ends at header_end (a braced block or one statement)."""
    start = len(text) - len(text[header_end:].lstrip())
    if text[start] == "{":
        return text[start:matching_brace(text, start) + 1]
    return text[start:text.index(";", start) + 1]


def header_end(text: str, open_paren: int) -> int:
    depth = 0
    for pos in range(open_paren, len(text)):
        depth += {"(": 1, ")": -1}.get(text[pos], 0)
        if depth == 0:
            return pos + 1
    raise ValueError("unbalanced parentheses")


def is_compile_time(bound: str) -> bool:
    """A loop bound built from literals and ALL_CAPS constants only."""
    names = re.findall(r"[A-Za-z_]\w*", bound)
    return all(name.isupper() or name in ("ssa",) for name in names)


def check_loops(code: str) -> list[str]:
    problems = []
    for match in re.finditer(r"\bfor\s*\(", code):
        end = header_end(code, match.end() - 1)
        header = code[match.end():end - 1]
        line = code.count("\n", 0, match.start()) + 1
        parts = header.split(";")
        if len(parts) != 3 or not re.search(r"<=?", parts[1]):
            problems.append(f"line {line}: loop 'for ({header.strip()})' has no '<' bound")
            continue
        bound = re.split(r"<=?", parts[1], maxsplit=1)[1]
        body = loop_body(code, end)
        own = body.split("for", 1)[0]  # pragmas of this loop come before any nested loop
        if not is_compile_time(bound) and "LOOP_TRIPCOUNT" not in own:
            problems.append(f"line {line}: loop bound '{bound.strip()}' is a runtime value and the loop has no LOOP_TRIPCOUNT")
    return problems


def check_recursion(code: str) -> list[str]:
    problems = []
    for match in re.finditer(r"\b([A-Za-z_]\w*)\s*\(", code):
        name = match.group(1)
        if name in NOT_FUNCTIONS:
            continue
        end = header_end(code, match.end() - 1)
        rest = code[end:]
        after = re.match(r"\s*(const\s*)?(noexcept\s*)?\{", rest)
        if after is None:
            continue
        brace = end + after.end() - 1
        body = code[brace + 1:matching_brace(code, brace)]
        if re.search(rf"\b{re.escape(name)}\s*\(", body):
            line = code.count("\n", 0, match.start()) + 1
            problems.append(f"line {line}: function '{name}' calls itself (recursion)")
    return problems


def check_synthesis_guards(raw: str) -> list[str]:
    """`#ifndef __SYNTHESIS__` blocks may only hold diagnostics (printf, assert, ...)."""
    problems = []
    for match in re.finditer(r"#\s*(ifndef\s+__SYNTHESIS__|if\s+!\s*defined\s*\(\s*__SYNTHESIS__\s*\))(.*?)#\s*endif", raw, re.S):
        for text in match.group(2).splitlines():
            if text.strip() and not text.strip().startswith("//") and not DIAGNOSTIC_LINE.match(text):
                line = raw.count("\n", 0, match.start()) + 1
                problems.append(f"line {line}: '#ifndef __SYNTHESIS__' holds non-diagnostic code: {text.strip()!r}")
    return problems


def check_kernel_source(raw: str) -> list[str]:
    """Every rule violation in one kernel source file's text."""
    code = strip_comments_and_strings(raw)
    problems = []
    for pattern, what in FORBIDDEN.items():
        for match in re.finditer(pattern, code):
            problems.append(f"line {code.count(chr(10), 0, match.start()) + 1}: {what}: {match.group(0)!r}")
    for match in re.finditer(r'#\s*include\s*<([^>]+)>', code):
        if match.group(1) not in ALLOWED_SYSTEM_INCLUDES:
            problems.append(f"include <{match.group(1)}> is not an HLS header (allowed: {sorted(ALLOWED_SYSTEM_INCLUDES)})")
    return problems + check_loops(code) + check_recursion(code) + check_synthesis_guards(raw)


@pytest.mark.parametrize("path", KERNEL_FILES, ids=lambda p: p.name)
def test_kernel_source_follows_hls_rules(path):
    assert check_kernel_source(path.read_text()) == []


def test_kernel_files_are_found():
    names = {p.name for p in KERNEL_FILES}
    assert {"ssa_top.cpp", "ssa_params.h", "ssa_prng.h", "ssa_encoder.h", "ssa_sau.h", "ssa_packing.h"} <= names


GOOD = """
#include <ap_int.h>
#include "ssa_params.h"
// new, malloc and while in a comment are fine; so is "throw" in a string
int f(int n, int a[N_MAX]) {
  int s = 0;
  for (int i = 0; i < N_MAX; ++i) {
#pragma HLS UNROLL
    s += a[i];
  }
  for (int i = 0; i < n; ++i) {
#pragma HLS LOOP_TRIPCOUNT min=1 max=N_MAX
    s += 1;
  }
#ifndef __SYNTHESIS__
  printf("s=%d", s);
#endif
  return s;
}
"""

BAD = {
    "heap allocation (new)": "int* f() { return new int[4]; }",
    "heap allocation (malloc/free)": "void f() { void* p = malloc(4); }",
    "STL container": "std::vector<int> v;",
    "C++ exception": "void f() { throw 1; }",
    "while/do loop": "void f(int n) { while (n) { n--; } }",
    "floating point": "double x;",
    "is not an HLS header": "#include <vector>",
    "has no '<' bound": "void f() { for (int i = 0; ; ++i) { } }",
    "no LOOP_TRIPCOUNT": "void f(int n) { for (int i = 0; i < n; ++i) {\n#pragma HLS PIPELINE II=1\n } }",
    "calls itself": "int g(int n) { return n ? g(n - 1) : 0; }",
    "non-diagnostic code": "#ifndef __SYNTHESIS__\nx = 1;\n#endif",
}


def test_checker_accepts_good_snippet():
    assert check_kernel_source(GOOD) == []


@pytest.mark.parametrize("rule,snippet", BAD.items(), ids=list(BAD))
def test_checker_catches_bad_snippet(rule, snippet):
    problems = check_kernel_source(snippet)
    assert any(rule in p for p in problems), problems


def test_tripcount_of_outer_loop_does_not_cover_inner_runtime_loop():
    snippet = """void f(int n, int m) {
      for (int i = 0; i < n; ++i) {
    #pragma HLS LOOP_TRIPCOUNT max=4
        for (int j = 0; j < m; ++j) { }
      }
    }"""
    problems = check_kernel_source(snippet)
    assert len(problems) == 1 and "'m'" in problems[0]


@pytest.mark.parametrize("compiler", ["default", "clang++"])
def test_kernel_compiles_as_cpp14_without_warnings(monkeypatch, compiler):
    """Vitis HLS's front end defaults to C++14: the kernel must not need C++17, nor warn (with $CXX or
    g++, and with clang++), on the default array and a 16 x 16 one."""
    from ssa.backends import csim

    if compiler == "clang++":
        if shutil.which("clang++") is None:
            pytest.skip("clang++ is not installed (apt-get install clang)")
        monkeypatch.setenv("CXX", "clang++")
    require_csim_toolchain()
    command, ap_types = csim.find_compiler(), csim.ap_types_dir()
    for n_tile in (32, 16):
        argv = [*command, "-std=c++14", "-fsyntax-only", "-Wall", "-Wextra", "-Wno-unknown-pragmas", "-Wno-unused-label",
                f"-DSSA_N_TILE={n_tile}", f"-I{HLS / 'csim'}", "-isystem", str(ap_types), str(HLS / "ssa_top.cpp")]
        done = subprocess.run(argv, capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr
        assert "warning" not in done.stderr, done.stderr


def top_arguments(code: str) -> list[str]:
    """Names of ssa_top's arguments in its definition in hls/ssa_top.cpp, in order."""
    header = re.search(r"\bvoid\s+ssa_top\s*\(([^)]*)\)\s*\{", code, re.S)
    assert header, "no definition of ssa_top"
    return [re.findall(r"\w+", argument)[-1] for argument in header.group(1).split(",")]


def test_top_arguments_follow_the_register_map():
    """Every register argument of ssa_top sits on s_axilite bundle `control`, in the order of the spec's
    register map (Vitis assigns offsets in argument order): v2's `gain_log2` comes last, after `tile`,
    so no v1 register moved. The streams are axis, and the declaration matches the definition."""
    from ssa.contract.registers import REGISTER_OFFSETS

    source = strip_comments_and_strings((HLS / "ssa_top.cpp").read_text())
    arguments = top_arguments(source)
    assert arguments[:2] == ["in_stream", "out_stream"]
    registers = [name for name, offset in sorted(REGISTER_OFFSETS.items(), key=lambda item: item[1])
                 if offset >= 0x10 and not name.endswith("_ctrl")]
    assert arguments[2:] == registers and registers[-1] == "gain_log2"
    for name in arguments:
        mode = "axis" if name.endswith("_stream") else "s_axilite"
        bundle = "" if mode == "axis" else r"\s+bundle=control"
        assert re.search(rf"#pragma HLS INTERFACE mode={mode} port={name}{bundle}\s*$", source, re.M), name
    declaration = strip_comments_and_strings((HLS / "ssa_top.h").read_text()).replace(";", " {")
    assert top_arguments(declaration) == arguments
