"""`ssa notebooks DEST`: copy the bundled Jupyter notebooks (e.g. into the PYNQ board's Jupyter tree)."""
from __future__ import annotations

import shutil
from importlib.resources import files
from pathlib import Path

import click


@click.command()
@click.argument("dest", type=click.Path(file_okay=False, path_type=Path))
@click.option("--force", is_flag=True, help="overwrite notebooks that already exist in DEST")
def notebooks(dest: Path, force: bool) -> None:
    """Copy the notebooks 01 (laptop), 02 (workstation) and 03 (PYNQ board) into DEST."""
    dest.mkdir(parents=True, exist_ok=True)
    for source in sorted(files("ssa.notebooks").iterdir(), key=lambda p: p.name):
        if not source.name.endswith(".ipynb"):
            continue
        target = dest / source.name
        if target.exists() and not force:
            raise click.ClickException(f"{target} exists; pass --force to overwrite it")
        with source.open("rb") as src, target.open("wb") as out:
            shutil.copyfileobj(src, out)
        click.echo(f"copied {target}")
