"""The `ssa` command line: one entry point, subcommands loaded lazily.

Subcommands live in their own modules so `ssa --help` stays fast and the board runtime never
imports torch; each entry below is "module:attribute" of a click command.
"""
from __future__ import annotations

import importlib

import click

from ssa.errors import SSAError

#: name -> ("module:attribute" of the click command, one-line help shown by `ssa --help`). The help
#: lives here so that listing the commands imports none of them (the training ones need torch).
SUBCOMMANDS: dict[str, tuple[str, str]] = {
    "emulate": ("ssa.cli.emulate:emulate", "One random block on the emulator; checks its spike rates."),
    "verify": ("ssa.cli.verify:verify", "Random blocks through two backends; exit 1 unless bit-exact."),
    "bench": ("ssa.cli.bench:bench", "Time every SSA implementation and the cost growth with N and T."),
    "notebooks": ("ssa.cli.notebooks:notebooks", "Copy the bundled Jupyter notebooks into a folder."),
    "demo": ("ssa.cli.demo:demo", "Classify Fashion-MNIST images with the bundled spiking ViT."),
    "energy": ("ssa.cli.energy:energy", "Energy of an attention block (the paper's Table II) or of a bundled model."),
    "train": ("ssa_quantize.cli:train", "Train a spiking ViT with SSA attention (train extra)."),
    "evaluate": ("ssa_quantize.cli:evaluate", "A checkpoint's test accuracy, ideal or lfsr (train extra)."),
    "export": ("ssa_quantize.cli:export", "A checkpoint's bundle and ONNX files (train extra)."),
    "spiked": ("ssa_quantize.cli:spiked", "Convert a trained ANN checkpoint to SpikedAttention, no training (train extra)."),
}


class TypedErrorGroup(click.Group):
    """A click group whose commands' typed errors (ssa.errors) end in one line, not a traceback."""

    def invoke(self, ctx: click.Context):
        """Run the subcommand; an SSAError becomes `Error: <Type>: <message>` and exit code 1."""
        try:
            return super().invoke(ctx)
        except SSAError as exc:
            raise click.ClickException(f"{type(exc).__name__}: {exc}") from exc


class LazyGroup(TypedErrorGroup):
    """A click group that imports a subcommand's module only when it is used."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(SUBCOMMANDS)

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        entry = SUBCOMMANDS.get(name)
        if entry is None:
            return None
        module, attr = entry[0].split(":")
        return getattr(importlib.import_module(module), attr)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """The command list of `ssa --help`, from SUBCOMMANDS alone (imports no command)."""
        with formatter.section("Commands"):
            formatter.write_dl([(name, SUBCOMMANDS[name][1]) for name in self.list_commands(ctx)])


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="ssa-fpga")
def main() -> None:
    """Stochastic Spiking Attention: emulate, verify, benchmark, train and deploy SSA blocks."""
