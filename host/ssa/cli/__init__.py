"""The `ssa` command line: one entry point, subcommands loaded lazily.

Subcommands live in their own modules so `ssa --help` stays fast and the board runtime never
imports torch; each entry below is "module:attribute" of a click command.
"""
from __future__ import annotations

import importlib

import click

from ssa.errors import SSAError

SUBCOMMANDS: dict[str, str] = {
    "emulate": "ssa.cli.emulate:emulate",
    "verify": "ssa.cli.verify:verify",
    "bench": "ssa.cli.bench:bench",
    "notebooks": "ssa.cli.notebooks:notebooks",
    "demo": "ssa.cli.demo:demo",
    "train": "ssa_quantize.cli:train",
    "evaluate": "ssa_quantize.cli:evaluate",
    "export": "ssa_quantize.cli:export",
    "spiked": "ssa_quantize.cli:spiked",
}


class LazyGroup(click.Group):
    """A click group that imports a subcommand's module only when it is used."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(SUBCOMMANDS)

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        target = SUBCOMMANDS.get(name)
        if target is None:
            return None
        module, attr = target.split(":")
        return getattr(importlib.import_module(module), attr)

    def invoke(self, ctx: click.Context):
        """Run the subcommand; the stack's typed errors become one-line CLI errors, not tracebacks."""
        try:
            return super().invoke(ctx)
        except SSAError as exc:
            raise click.ClickException(f"{type(exc).__name__}: {exc}") from exc


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="ssa-fpga")
def main() -> None:
    """Stochastic Spiking Attention: emulate, verify, benchmark, train and deploy SSA blocks."""
