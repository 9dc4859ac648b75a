"""Parameter types shared by the `ssa` commands: every value is checked before any work starts.

click's own FloatRange lets NaN through (every comparison with NaN is false) and click.Path accepts
"" (the current folder); these types close both holes and check that output folders are writable.
"""
from __future__ import annotations

import math
import os
import tempfile
from pathlib import Path
from typing import Any

import click

from ssa.contract.config import GAIN_LOG2_MAX


class FiniteFloat(click.FloatRange):
    """A float in [min, max] (bounds optional, open with min_open/max_open) that is neither NaN nor ±inf."""

    name = "finite float"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> float:
        number = click.FLOAT.convert(value, param, ctx)
        if not math.isfinite(number):
            self.fail(f"{value!r} is not a finite number", param, ctx)
        return super().convert(number, param, ctx)


#: A probability: a spike density in [0, 1].
PROBABILITY = FiniteFloat(0.0, 1.0)
#: The encoders' gain exponent g of contract v2 (docs/spec.md section 3): 0 .. GAIN_LOG2_MAX.
GAIN_LOG2 = click.IntRange(0, GAIN_LOG2_MAX)


class NonEmptyPath(click.Path):
    """click.Path that refuses an empty or blank string (which would silently mean the current folder)."""

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if isinstance(value, str) and not value.strip():
            self.fail("an empty path is not allowed; name a file or folder", param, ctx)
        return super().convert(value, param, ctx)


class OutputDir(NonEmptyPath):
    """A folder for results, created and probed for writing while the arguments are parsed (before any work)."""

    def __init__(self) -> None:
        super().__init__(file_okay=False, dir_okay=True, path_type=Path)

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Path:
        path = Path(super().convert(value, param, ctx))
        try:
            path.mkdir(parents=True, exist_ok=True)
            with tempfile.TemporaryFile(dir=path):
                pass
        except OSError as exc:
            self.fail(f"cannot write to folder {str(path)!r}: {exc.strerror or exc}", param, ctx)
        return path


class OutputFile(NonEmptyPath):
    """A file to write later: its folder must exist and be writable, and it must not be a folder."""

    def __init__(self) -> None:
        super().__init__(file_okay=True, dir_okay=False, path_type=Path)

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Path:
        path = Path(super().convert(value, param, ctx))
        folder = path.parent
        if not folder.is_dir():
            self.fail(f"folder {str(folder)!r} of {str(path)!r} does not exist", param, ctx)
        if not os.access(folder, os.W_OK) or (path.exists() and not os.access(path, os.W_OK)):
            self.fail(f"cannot write {str(path)!r}: permission denied", param, ctx)
        return path
