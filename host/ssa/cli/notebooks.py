"""`ssa notebooks DEST`: copy the bundled Jupyter notebooks (e.g. into the PYNQ board's Jupyter tree)."""
from __future__ import annotations

import shutil
from importlib.resources import files
from pathlib import Path

import click

from ssa.cli.params import OutputDir


@click.command()
@click.argument("dest", type=OutputDir())
@click.option("--force", is_flag=True, help="overwrite notebooks that already exist in DEST")
def notebooks(dest: Path, force: bool) -> None:
    """Copy the notebooks 01 (laptop), 02 (workstation) and 03 (PYNQ board) into DEST (created if missing)."""
    for source in sorted(files("ssa.notebooks").iterdir(), key=lambda p: p.name):
        if not source.name.endswith(".ipynb"):
            continue
        target = dest / source.name
        if target.exists() and not force:
            raise click.ClickException(f"{target} exists; pass --force to overwrite it")
        try:
            with source.open("rb") as src, target.open("wb") as out:
                shutil.copyfileobj(src, out)
        except OSError as exc:
            raise click.ClickException(f"{type(exc).__name__}: cannot write {target}: {exc.strerror or exc}") from exc
        click.echo(f"copied {target}")
