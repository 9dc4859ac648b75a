"""Deployment bundles: one .npz holding named integer/float arrays and a JSON manifest.

The manifest is stored inside the archive as the uint8 array `__manifest__` (UTF-8 JSON), so a
bundle is a single file. It records the schema name and version and a sha256 of every array
(dtype, shape and bytes). Loading never unpickles (`allow_pickle=False`) and checks everything
before returning, so a corrupt, truncated, foreign or future bundle fails with a BundleError that
says what is wrong, never deep inside numpy. docs/bundle.md describes the model-level contents.
"""
from __future__ import annotations

import hashlib
import json
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

import numpy as np

from ssa.errors import BundleError

SCHEMA = "ssa-bundle"
SCHEMA_VERSION = 1
MANIFEST_KEY = "__manifest__"


@dataclass(frozen=True)
class Bundle:
    """A loaded, verified bundle."""

    manifest: dict[str, Any]
    arrays: dict[str, np.ndarray]

    def __getitem__(self, name: str) -> np.ndarray:
        try:
            return self.arrays[name]
        except KeyError:
            raise BundleError(f"bundle has no array {name!r}; it holds {sorted(self.arrays)[:8]}…") from None


def array_digest(a: np.ndarray) -> str:
    """sha256 over dtype, shape and the C-ordered bytes of an array."""
    h = hashlib.sha256(f"{a.dtype.str}|{a.shape}|".encode())
    h.update(np.ascontiguousarray(a).tobytes())
    return h.hexdigest()


def save_bundle(path: str | Path, manifest: Mapping[str, Any], arrays: Mapping[str, np.ndarray]) -> Path:
    """Write a bundle; `manifest` is model metadata (JSON-serialisable), checksums are added here."""
    for name, a in arrays.items():
        if name == MANIFEST_KEY or a.dtype == object:
            raise BundleError(f"array {name!r} cannot be stored (reserved name or object dtype)")
    full = dict(manifest)
    full.update(schema=SCHEMA, schema_version=SCHEMA_VERSION,
                checksums={name: array_digest(a) for name, a in sorted(arrays.items())})
    blob = np.frombuffer(json.dumps(full, indent=1, sort_keys=True).encode(), dtype=np.uint8)
    path = Path(path)
    with path.open("wb") as f:
        np.savez_compressed(f, **{MANIFEST_KEY: blob}, **arrays)
    return path


def load_bundle(path: str | Path) -> Bundle:
    """Read and verify a bundle, raising BundleError with the reason and the fix."""
    path = Path(path)
    if not path.is_file():
        raise BundleError(f"no bundle at {path}: pass the path of an .npz written by `ssa export`")
    if not zipfile.is_zipfile(path):
        raise BundleError(f"{path} is not a readable .npz archive (truncated, corrupt or another format)")
    try:
        with np.load(path, allow_pickle=False) as npz:
            arrays = {name: npz[name] for name in npz.files}
    except ValueError as exc:  # object arrays need pickle: refuse them
        raise BundleError(f"{path} holds pickled objects; bundles never do, so it is not ours: {exc}") from exc
    except (zipfile.BadZipFile, EOFError, OSError) as exc:
        raise BundleError(f"{path} is not a readable .npz archive (truncated or corrupt?): {exc}") from exc
    blob = arrays.pop(MANIFEST_KEY, None)
    if blob is None:
        raise BundleError(f"{path} is an .npz without an SSA manifest: not a bundle written by `ssa export`")
    try:
        manifest = json.loads(blob.tobytes().decode())
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise BundleError(f"{path}: the manifest is not valid JSON (corrupt bundle): {exc}") from exc
    _check_manifest(path, manifest, arrays)
    return Bundle(manifest, arrays)


def _check_manifest(path: Path, manifest: Any, arrays: dict[str, np.ndarray]) -> None:
    if not isinstance(manifest, dict) or manifest.get("schema") != SCHEMA:
        raise BundleError(f"{path}: manifest schema is not {SCHEMA!r}: a foreign file")
    version = manifest.get("schema_version")
    if version != SCHEMA_VERSION:
        hint = "upgrade ssa-fpga" if isinstance(version, int) and version > SCHEMA_VERSION else "re-export it with `ssa export`"
        raise BundleError(f"{path}: bundle schema version {version!r}, this runtime reads {SCHEMA_VERSION}; {hint}")
    checksums = manifest.get("checksums", {})
    if set(checksums) != set(arrays):
        raise BundleError(f"{path}: arrays {sorted(set(checksums) ^ set(arrays))} do not match the manifest (corrupt bundle)")
    for name, digest in checksums.items():
        if array_digest(arrays[name]) != digest:
            raise BundleError(f"{path}: checksum mismatch for array {name!r} (corrupt bundle); re-export or re-download it")
