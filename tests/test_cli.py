"""The `ssa` command line."""
import pytest
from click.testing import CliRunner

from ssa.cli import main


@pytest.mark.parametrize("gain", ["0", "3"])
def test_emulate_prints_rates_within_bounds(gain):
    result = CliRunner().invoke(main, ["emulate", "--n", "16", "--dk", "32", "--t", "20", "--seed", "3", "--density", "0.4",
                                       "--gain-log2", gain])
    assert result.exit_code == 0, result.output
    assert "S (eq. 5)" in result.output and "Attn (eq. 6)" in result.output and f"gain=2^{gain}" in result.output
    assert "OUT OF BOUNDS" not in result.output and result.output.count(" ok") == 2


def test_emulate_rejects_bad_config_with_a_clear_message():
    for args, message in ((["--n", "300"], "n=300 is outside the contract's range 1..256"),
                          (["--seed", "-1"], "seed=-1 is outside 0..4294967295")):
        result = CliRunner().invoke(main, ["emulate", *args])
        assert result.exit_code == 1, result.output  # a one-line CLI error, not a traceback
        assert f"Error: ConfigError: {message}" in result.output
    result = CliRunner().invoke(main, ["emulate", "--gain-log2", "5"])
    assert result.exit_code == 2 and "'--gain-log2': 5 is not in the range 0<=x<=4" in result.output


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


def test_verify_times_after_an_untimed_warm_up_and_keeps_error_types(monkeypatch):
    """The timing table excludes JIT compile / warm-up: the first call (two blocks) is not the timed one."""
    import ssa
    from ssa.backends import BACKENDS

    calls: list[int] = []

    class Recording:
        def run(self, q, k, v, config):
            calls.append(q.shape[1])
            return ssa.run(q, k, v, config)

    monkeypatch.setitem(BACKENDS, "recording", lambda **options: Recording())
    result = CliRunner().invoke(main, ["verify", "--backend", "recording", "--blocks", "5", "--n", "4", "--dk", "8", "--t", "2"])
    assert result.exit_code == 0, result.output
    assert calls == [2, 5] and "untimed warm-up" in result.output
    bad = CliRunner().invoke(main, ["verify", "--backend", "recording", "--n", "300"])
    assert bad.exit_code == 1 and "Error: ConfigError: n=300 is outside" in bad.output


def test_model_inference_runs_on_the_chosen_blas_threads(monkeypatch):
    """SpikingViT runs its matmuls inside threadpoolctl's limit (1 by default); None leaves BLAS alone."""
    import threadpoolctl

    import numpy as np

    from ssa.cli.demo import DEFAULT_BUNDLE, packaged
    from ssa.errors import ConfigError
    from ssa.model import SpikingViT
    from ssa.model.threads import DEFAULT_BLAS_THREADS, blas_threads

    seen: list[object] = []
    real = threadpoolctl.threadpool_limits
    monkeypatch.setattr(threadpoolctl, "threadpool_limits", lambda **kw: seen.append(kw) or real(**kw))
    model = SpikingViT.from_bundle(packaged(DEFAULT_BUNDLE))
    images = np.zeros((1, 1, 28, 28), np.float32)
    model.predict(images)
    assert DEFAULT_BLAS_THREADS == 1 and seen == [{"limits": 1, "user_api": "blas"}]
    model.blas_threads = None
    model.predict(images)
    assert len(seen) == 1
    for bad in (0, -1, 1.5, True, "2"):
        with pytest.raises(ConfigError, match="BLAS threads"):
            blas_threads(bad)  # type: ignore[arg-type]
