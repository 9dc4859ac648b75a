"""The `ssa` command line."""
from click.testing import CliRunner

from ssa.cli import main


def test_emulate_prints_rates_within_bounds():
    result = CliRunner().invoke(main, ["emulate", "--n", "16", "--dk", "32", "--t", "20", "--seed", "3", "--density", "0.4"])
    assert result.exit_code == 0, result.output
    assert "S (eq. 5)" in result.output and "Attn (eq. 6)" in result.output
    assert "OUT OF BOUNDS" not in result.output and result.output.count(" ok") == 2


def test_emulate_rejects_bad_config_with_a_clear_message():
    for args, message in ((["--n", "300"], "n=300 is outside the contract's range 1..256"),
                          (["--seed", "-1"], "seed=-1 is outside 0..4294967295")):
        result = CliRunner().invoke(main, ["emulate", *args])
        assert result.exit_code == 1, result.output  # a one-line CLI error, not a traceback
        assert f"Error: ConfigError: {message}" in result.output


def test_help_lists_subcommands():
    result = CliRunner().invoke(main, ["--help"])
    assert result.exit_code == 0 and "emulate" in result.output


def test_notebooks_are_shipped_and_copied(tmp_path):
    runner = CliRunner()
    result = runner.invoke(main, ["notebooks", str(tmp_path)])
    assert result.exit_code == 0, result.output
    names = sorted(p.name for p in tmp_path.glob("*.ipynb"))
    assert names == ["01_emulation_quickstart.ipynb", "02_train_quantize_export.ipynb", "03_pynq_board.ipynb"]
    again = runner.invoke(main, ["notebooks", str(tmp_path)])
    assert again.exit_code != 0 and "--force" in again.output
