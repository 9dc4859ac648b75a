"""``python -m ssa_quantize {train,evaluate,export,spiked}`` (the same commands the ``ssa`` CLI wires in)."""
import click

from ssa.cli import TypedErrorGroup

from .cli import evaluate, export, spiked, train


@click.group(cls=TypedErrorGroup)
def main() -> None:
    """Training, evaluation and export of spiking ViTs with SSA attention."""


main.add_command(train)
main.add_command(evaluate)
main.add_command(export)
main.add_command(spiked)

if __name__ == "__main__":
    main()
