"""Property tests: every `ssa` command given a bad argument ends in ONE line, `Error: ...`, exit code
1 or 2, and no traceback. The line is either click's usage error (an option's type or range) or
`Error: <Type>: <message>` with a type from ssa.errors; nothing runs before the arguments are checked.

Arguments are generated per option (NaN, ±inf, negative, zero, huge, non-numeric, empty and blank
strings, paths that are files, folders or lie under a file); each example runs in process through
click's CliRunner, so the whole file takes seconds. Commands of the train extra are included: without
it they must end in `Error: MissingExtraError: ... pip install -e ".[train]"`.
"""
from __future__ import annotations

import re
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import ssa.errors
from ssa.cli import SUBCOMMANDS, main

TYPED_ERRORS = {name for name, value in vars(ssa.errors).items() if isinstance(value, type) and issubclass(value, ssa.errors.SSAError)}
#: Hypothesis budget per command: enough to reach every option and class of bad value, seconds in all.
EXAMPLES = 40

# ---------------------------------------------------------------------------------------------
# Bad values, by kind

NOT_NUMBERS = st.sampled_from(["", " ", "abc", "1e", "0x", "--", "½", "1,5", "None"])
NON_FINITE = st.sampled_from(["nan", "NaN", "-nan", "inf", "-inf", "Infinity", "1e999"])
HUGE_INTS = st.integers(min_value=10**6, max_value=10**30)
NEGATIVE_INTS = st.integers(max_value=-1)


def ints_outside(low: int | None, high: int | None) -> st.SearchStrategy[str]:
    """Integers (as text) below `low` or above `high`, and text that is no integer at all."""
    bad = [NOT_NUMBERS, st.sampled_from(["1.5", "2.0", "1e3"])]
    if low is not None:
        bad.append(st.integers(max_value=low - 1))
    if high is not None:
        bad.append(st.integers(min_value=high + 1, max_value=max(high + 1, 10**30)))
    return st.one_of(*bad).map(str)


def floats_outside(low: float | None, high: float | None, open_low: bool = False) -> st.SearchStrategy[str]:
    """Floats (as text) outside [low, high] (or (low, high]), NaN, ±inf and non-numbers."""
    bad = [NOT_NUMBERS, NON_FINITE]
    if low is not None:
        below = st.floats(max_value=low, exclude_max=not open_low, allow_nan=False, allow_infinity=False)
        bad.append(below.map(repr))
    if high is not None:
        bad.append(st.floats(min_value=high, exclude_min=True, allow_nan=False, allow_infinity=False).map(repr))
    return st.one_of(*bad)


@pytest.fixture(scope="module")
def places(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """Paths that must be refused where a folder (or a file) is expected."""
    root = tmp_path_factory.mktemp("bad_cli")
    (root / "a_file").write_text("not a folder\n")
    (root / "a_folder").mkdir()
    return {"empty": "", "blank": "   ", "file": str(root / "a_file"), "under_a_file": str(root / "a_file" / "sub"),
            "folder": str(root / "a_folder"), "missing": str(root / "missing" / "x")}


def paths(places: dict[str, str], *kinds: str) -> st.SearchStrategy[str]:
    return st.sampled_from([places[kind] for kind in kinds])


# ---------------------------------------------------------------------------------------------
# Bad arguments of each command: (option, strategy of bad values)


def bad_arguments(command: str, places: dict[str, str]) -> list[tuple[str, st.SearchStrategy[str]]]:
    probability = floats_outside(0.0, 1.0)
    size = ints_outside(1, 256)
    block = [("--n", size), ("--dk", size), ("--t", ints_outside(1, 1024)), ("--seed", ints_outside(0, 2**32 - 1)),
             ("--gain-log2", ints_outside(0, 4))]
    unknown_backend = st.sampled_from(["", "gpu", "EMULATE", "emulate ", "pynq2", "../csim"])
    folder_out = paths(places, "empty", "blank", "file", "under_a_file")
    return {
        "emulate": [*block, ("--density", probability), ("--mode", st.sampled_from(["", "LFSR", "exact", "ideal2"]))],
        "verify": [*block, ("--density", probability), ("--blocks", ints_outside(1, 65535)),
                   ("--backend", unknown_backend), ("--against", unknown_backend), ("--bitstream", paths(places, "empty", "blank"))],
        "bench": [("--out", folder_out), ("--threads", ints_outside(1, 1024)), ("--cpu-batch", ints_outside(2, 1024)),
                  ("--cuda-batch", ints_outside(2, 8192)), ("--device", st.sampled_from(["", "gpu", "cuda:0", "tpu"]))],
        "notebooks": [("", folder_out)],
        "energy": [("--count", ints_outside(1, 1000)), ("--backend", unknown_backend), ("--sram", st.sampled_from(["", "16KB", "8kb"])),
                   ("--bundle", paths(places, "blank", "folder", "missing", "file")),
                   ("--chart", paths(places, "empty", "blank", "folder", "under_a_file"))],
        "demo": [("--count", ints_outside(1, None)), ("--timesteps", ints_outside(1, 1024)), ("--batch", ints_outside(1, None)),
                 ("--check", ints_outside(0, None)), ("--threads", ints_outside(1, 1024)), ("--backend", unknown_backend),
                 ("--bundle", paths(places, "empty", "blank", "folder", "missing", "file")),
                 ("--test-set", paths(places, "empty", "blank", "file", "missing"))],
        "train": [("--out", folder_out), ("--timesteps", ints_outside(1, 1024)), ("--lr", floats_outside(0.0, None, open_low=True)),
                  ("--weight-decay", floats_outside(0.0, None)), ("--max-minutes", floats_outside(0.0, None, open_low=True)),
                  ("--epochs", ints_outside(1, 100_000)), ("--seed", ints_outside(0, 2**32 - 1)), ("--ssa-gain-log2", ints_outside(0, 4)),
                  ("--embed-dim", ints_outside(1, 8192)), ("--depth", ints_outside(1, 128)), ("--batch-size", ints_outside(1, 65536)),
                  ("--dataset", st.sampled_from(["", "imagenet", "MNIST"])), ("--attention", st.sampled_from(["", "softmax", "SSA"])),
                  ("--data-dir", paths(places, "empty", "blank", "file"))],
        "evaluate": [("--checkpoint", paths(places, "empty", "blank", "file", "missing")), ("--mode", st.sampled_from(["", "exact"])),
                     ("--output", paths(places, "empty", "blank", "folder", "under_a_file")), ("--limit", ints_outside(1, None)),
                     ("--threads", ints_outside(1, 1024)), ("--seed", ints_outside(0, 2**32 - 1))],
        "spiked": [("--checkpoint", paths(places, "empty", "blank", "file", "missing")), ("--out", folder_out),
                   ("--timesteps", ints_outside(1, 1024)), ("--base", floats_outside(1.0, 2.0, open_low=True)),
                   ("--percentile", floats_outside(0.0, 100.0, open_low=True)), ("--backend", st.sampled_from(["", "cuda", "NUMPY"]))],
        "export": [("--checkpoint", paths(places, "empty", "blank", "file", "missing")), ("--out", folder_out),
                   ("--onnx", st.sampled_from(["", "onnx", "QCDQ"])), ("--evaluation", paths(places, "empty", "folder", "missing")),
                   ("--seed", ints_outside(0, 2**32 - 1))],
    }[command]


#: Arguments a command needs besides the bad one (valid, pointing at nothing that exists).
REQUIRED = {"train": ["--out", "{ok_dir}/run"], "evaluate": ["--checkpoint", "{ok_dir}/none"],
            "export": ["--checkpoint", "{ok_dir}/none", "--out", "{ok_dir}/bundle"],
            "spiked": ["--checkpoint", "{ok_dir}/none", "--out", "{ok_dir}/spiked"], "notebooks": []}


def assert_one_line_error(args: list[str], exit_code: int, output: str, exception: BaseException | None) -> None:
    where = f"ssa {' '.join(map(repr, args))} gave exit {exit_code}:\n{output}"
    assert isinstance(exception, SystemExit), f"{where}\n{exception!r}"  # anything else is a traceback
    assert exit_code in (1, 2), where
    assert "Traceback" not in output, where
    lines = [line for line in output.splitlines() if line.strip()]
    assert lines and lines[-1].startswith("Error: "), where
    assert sum(line.startswith("Error:") for line in lines) == 1, where
    if exit_code == 1:  # not a usage error: the stack's own typed error, or a checked file operation
        typed = re.match(r"Error: (\w+): ", lines[-1])
        assert typed and (typed.group(1) in TYPED_ERRORS or typed.group(1).endswith("Error")), where


@pytest.mark.parametrize("command", sorted(SUBCOMMANDS))
def test_bad_arguments_give_one_typed_line(command: str, places: dict[str, str], tmp_path_factory: pytest.TempPathFactory) -> None:
    ok_dir = tmp_path_factory.mktemp(f"ok_{command}")
    options = bad_arguments(command, places)
    required = [a.format(ok_dir=ok_dir) for a in REQUIRED.get(command, [])]

    @settings(max_examples=EXAMPLES, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
    @given(st.sampled_from(options).flatmap(lambda pair: st.tuples(st.just(pair[0]), pair[1])))
    def check(option_value: tuple[str, str]) -> None:
        option, value = option_value
        if command == "notebooks":
            args = [command, value]
        else:
            args = [command, *required, f"{option}={value}"]  # `=` keeps "-5" and "" values attached
        result = CliRunner().invoke(main, args, catch_exceptions=True)
        assert_one_line_error(args, result.exit_code, result.output, result.exception)

    check()


def test_help_lists_every_command_without_importing_them() -> None:
    """`ssa --help` comes from SUBCOMMANDS alone (no torch); every command's --help works too."""
    result = CliRunner().invoke(main, ["--help"])
    assert result.exit_code == 0
    for name, (_, summary) in SUBCOMMANDS.items():
        assert re.search(rf"^\s+{name}\s+{re.escape(summary.split()[0])}", result.output, re.M), result.output
        sub = CliRunner().invoke(main, [name, "--help"])
        assert sub.exit_code == 0 and f" {name} [OPTIONS]" in sub.output, sub.output


def test_listing_and_help_import_neither_torch_nor_brevitas() -> None:
    """In a fresh interpreter: `ssa --help` and `ssa train --help` import no torch, Brevitas or numba."""
    import subprocess
    import sys

    script = ("import sys; from click.testing import CliRunner; from ssa.cli import main\n"
              "for args in (['--help'], ['train', '--help'], ['evaluate', '--help'], ['export', '--help'], ['demo', '--help']):\n"
              "    assert CliRunner().invoke(main, args).exit_code == 0, args\n"
              "print(sorted(m for m in ('torch', 'brevitas', 'numba', 'matplotlib', 'onnx') if m in sys.modules))")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]", done.stdout


def test_training_commands_name_the_train_extra_when_it_is_missing(tmp_path: Path) -> None:
    """With torch unimportable, train / evaluate / export end in one line naming pip install -e ".[train]"."""
    import subprocess
    import sys

    script = ("import sys; sys.modules['torch'] = None; sys.modules['brevitas'] = None\n"
              "from click.testing import CliRunner; from ssa.cli import main\n"
              f"for args in (['train', '--out', {str(tmp_path / 'run')!r}], ['evaluate', '--checkpoint', {str(tmp_path)!r}],\n"
              f"             ['export', '--checkpoint', {str(tmp_path)!r}, '--out', {str(tmp_path / 'b')!r}]):\n"
              "    r = CliRunner().invoke(main, args)\n"
              "    print(r.exit_code, type(r.exception).__name__, r.output.strip().splitlines()[-1])\n")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.strip().splitlines()
    assert len(lines) == 3, done.stdout
    for line, command in zip(lines, ("train", "evaluate", "export")):
        assert line.startswith(f"1 SystemExit Error: MissingExtraError: `ssa {command}` needs the train extra"), line
        assert 'pip install -e ".[train]"' in line, line
