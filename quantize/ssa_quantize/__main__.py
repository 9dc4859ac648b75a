"""``python -m ssa_quantize {train,evaluate,export}`` (the same commands the ``ssa`` CLI wires in)."""
import click

from ssa.cli import TypedErrorGroup

from .cli import evaluate, export, train


@click.group(cls=TypedErrorGroup)
def main() -> None:
    """Training, evaluation and export of spiking ViTs with SSA attention."""


main.add_command(train)
main.add_command(evaluate)
main.add_command(export)

if __name__ == "__main__":
    main()
