"""Deployment bundles: one .npz holding named integer/float arrays and a JSON manifest.

The manifest is stored inside the archive as the uint8 array `__manifest__` (UTF-8 JSON), so a
bundle is a single file. It records the schema name and version and a sha256 of every array
(dtype, shape and bytes).

Loading is header-first (docs/bundle.md, "Validation"): the zip directory, the manifest and every
array's .npy header are read and checked, and an optional schema (`expect`, e.g.
ssa.model.schema.expected_arrays) turns the manifest into the exact dtype and shape of every
array, before any array payload is decompressed. The payloads are then read with
`allow_pickle=False`, never more bytes than their headers declare, and their checksums verified.
Nothing is ever unpickled; every failure is a BundleError that says what is wrong and what to do.
"""
from __future__ import annotations

import hashlib
import io
import json
import re
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, Callable, Mapping

import numpy as np
from numpy.lib import format as npy

from ssa.errors import BundleError

SCHEMA = "ssa-bundle"
SCHEMA_VERSION = 1
MANIFEST_KEY = "__manifest__"
#: Largest manifest (JSON bytes), .npy header and member count a bundle may have.
MANIFEST_MAX_BYTES = 1 << 20
HEADER_MAX_BYTES = 4096
MEMBERS_MAX = 4096
#: Largest total of array bytes a bundle may declare when no schema bounds it.
ARRAYS_MAX_BYTES = 1 << 30
#: Array kinds a bundle may hold: bool, signed/unsigned integers, floats.
ARRAY_KINDS = "biuf"
FIX = "re-export it with `ssa export` (SpikedAttention: `ssa spiked --bundles`) or re-download it"
#: What a malformed zip stream or .npy header can raise inside zipfile, zlib and numpy.lib.format.
_READ_ERRORS = (ValueError, EOFError, OSError, zlib.error, zipfile.BadZipFile, NotImplementedError, RecursionError, SyntaxError)
_DIGEST = re.compile(r"[0-9a-f]{64}")

#: A schema: manifest -> {array name: (dtype, shape)}; raises BundleError for a bad manifest.
Expect = Callable[[dict[str, Any]], Mapping[str, tuple[np.dtype, tuple[int, ...]]]]


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


@dataclass(frozen=True)
class Header:
    """One array member's .npy header."""

    dtype: np.dtype
    shape: tuple[int, ...]

    @property
    def nbytes(self) -> int:
        return self.dtype.itemsize * int(np.prod(self.shape, dtype=object))


def array_digest(a: np.ndarray) -> str:
    """sha256 over dtype, shape and the C-ordered bytes of an array."""
    h = hashlib.sha256(f"{a.dtype.str}|{a.shape}|".encode())
    h.update(np.ascontiguousarray(a).reshape(-1).view(np.uint8))
    return h.hexdigest()


def save_bundle(path: str | Path, manifest: Mapping[str, Any], arrays: Mapping[str, np.ndarray]) -> Path:
    """Write a bundle; `manifest` is model metadata (JSON-serialisable), checksums are added here."""
    for name, a in arrays.items():
        if name == MANIFEST_KEY or a.dtype.kind not in ARRAY_KINDS:
            raise BundleError(f"array {name!r} cannot be stored (reserved name, or dtype {a.dtype} is not bool, integer or float)")
    full = dict(manifest)
    full.update(schema=SCHEMA, schema_version=SCHEMA_VERSION,
                checksums={name: array_digest(a) for name, a in sorted(arrays.items())})
    blob = np.frombuffer(json.dumps(full, indent=1, sort_keys=True).encode(), dtype=np.uint8)
    path = Path(path)
    with path.open("wb") as f:
        np.savez_compressed(f, **{MANIFEST_KEY: blob}, **arrays)
    return path


def load_bundle(path: str | Path, expect: Expect | None = None, max_bytes: int = ARRAYS_MAX_BYTES) -> Bundle:
    """Read and verify a bundle header-first, raising BundleError with the reason and the fix.

    expect: a schema that maps the manifest to every array's (dtype, shape); checked against the
    .npy headers before any payload is read. max_bytes: cap on the arrays' total declared size.
    """
    path = Path(path)
    if not path.is_file():
        raise BundleError(f"no bundle at {path}: pass the path of an .npz written by `ssa export`")
    with path.open("rb") as f:
        start = f.read(4)
    if start != b"PK\x03\x04":
        raise BundleError(f"{path} is not a readable .npz archive: it does not start with a zip header (another format, "
                          f"or bytes before the archive); {FIX}")
    try:
        with zipfile.ZipFile(path) as zf:
            return _load(path, zf, expect, max_bytes)
    except BundleError:
        raise
    except _READ_ERRORS as exc:
        raise BundleError(f"{path} is not a readable .npz archive (truncated or corrupt: {type(exc).__name__}: {exc}); {FIX}") from None


def _load(path: Path, zf: zipfile.ZipFile, expect: Expect | None, max_bytes: int) -> Bundle:
    members = _members(path, zf)
    manifest_info = members.pop(MANIFEST_KEY, None)
    if manifest_info is None:
        raise BundleError(f"{path} is an .npz without an SSA manifest: not a bundle written by `ssa export`")
    headers = {name: _read_header(path, zf, info, name) for name, info in members.items()}
    manifest = _read_manifest(path, zf, manifest_info)
    if set(manifest["checksums"]) != set(headers):
        raise BundleError(f"{path}: arrays {sorted(set(manifest['checksums']) ^ set(headers))[:8]} do not match the manifest's checksums (corrupt bundle); {FIX}")
    if expect is not None:
        try:
            expected = expect(manifest)
        except BundleError as exc:
            raise BundleError(f"{path}: {exc}") from None
        _check_expected(path, headers, expected)
    total = sum(h.nbytes for h in headers.values())
    if total > max_bytes:
        raise BundleError(f"{path}: its arrays declare {total} bytes, more than the {max_bytes} a bundle may hold; {FIX}")
    arrays = {name: _read_array(path, zf, members[name], name, headers[name]) for name in headers}
    for name, digest in manifest["checksums"].items():
        if array_digest(arrays[name]) != digest:
            raise BundleError(f"{path}: checksum mismatch for array {name!r} (corrupt bundle); {FIX}")
    return Bundle(manifest, arrays)


def _members(path: Path, zf: zipfile.ZipFile) -> dict[str, zipfile.ZipInfo]:
    """Array name -> zip entry, after checking names, compression, encryption and count."""
    infos = zf.infolist()
    if len(infos) > MEMBERS_MAX:
        raise BundleError(f"{path} holds {len(infos)} entries, more than the {MEMBERS_MAX} a bundle may have; {FIX}")
    members: dict[str, zipfile.ZipInfo] = {}
    for info in infos:
        name = info.filename[:-4] if info.filename.endswith(".npy") else None
        if not name or info.is_dir():
            raise BundleError(f"{path}: entry {info.filename!r} is not a .npy array; a bundle holds only arrays. {FIX}")
        if name in members:
            raise BundleError(f"{path}: array {name!r} appears twice in the archive (corrupt bundle); {FIX}")
        if info.flag_bits & 0x1 or info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
            raise BundleError(f"{path}: entry {info.filename!r} is encrypted or uses compression method {info.compress_type}; "
                              f"bundles are stored or deflated (numpy.savez_compressed). {FIX}")
        members[name] = info
    return members


def _read_header(path: Path, zf: zipfile.ZipFile, info: zipfile.ZipInfo, name: str) -> Header:
    """The .npy header of one member (only its first bytes are decompressed)."""
    with zf.open(info) as f:
        header = _parse_header(path, f, name)
    if not header.nbytes <= info.file_size <= header.nbytes + HEADER_MAX_BYTES + 16:
        raise BundleError(f"{path}: array {name!r} declares {header.nbytes} bytes but its zip entry holds {info.file_size} (corrupt bundle); {FIX}")
    return header


def _parse_header(path: Path, f: IO[bytes], name: str) -> Header:
    """Magic, version and header length checked here; the header dict parsed by numpy.lib.format."""
    preamble = f.read(8)
    if len(preamble) < 8 or preamble[:6] != npy.MAGIC_PREFIX:
        raise BundleError(f"{path}: member {name!r} is not a .npy array (raw bytes or another format); {FIX}")
    version = (preamble[6], preamble[7])
    if version not in ((1, 0), (2, 0)):
        raise BundleError(f"{path}: array {name!r} is .npy format {version}; bundles use 1.0 or 2.0. {FIX}")
    size_field = f.read(2 if version == (1, 0) else 4)
    length = int.from_bytes(size_field, "little")
    if len(size_field) < (2 if version == (1, 0) else 4) or length > HEADER_MAX_BYTES:
        raise BundleError(f"{path}: array {name!r} has a .npy header of {length} bytes, more than the "
                          f"{HEADER_MAX_BYTES} a bundle's headers may have (corrupt bundle); {FIX}")
    raw = io.BytesIO(preamble + size_field + f.read(length))
    npy.read_magic(raw)
    try:
        reader = npy.read_array_header_1_0 if version == (1, 0) else npy.read_array_header_2_0
        shape, _, dtype = reader(raw)  # length checked above (numpy < 1.24 has no max_header_size)
    except Exception as exc:  # numpy parses the (≤ 4 KiB) header text with ast and tokenize, which raise many types
        reason = (str(exc).splitlines() or [type(exc).__name__])[0][:200]
        raise BundleError(f"{path}: array {name!r} has an unreadable .npy header ({reason}); {FIX}") from None
    if dtype.kind not in ARRAY_KINDS or dtype.fields is not None or dtype.subdtype is not None:
        raise BundleError(f"{path}: array {name!r} has dtype {dtype}; bundles hold only bool, integer and float arrays "
                          f"(never pickled objects). {FIX}")
    if any(n < 0 for n in shape):
        raise BundleError(f"{path}: array {name!r} has a negative dimension in its shape {shape}; {FIX}")
    return Header(dtype, tuple(int(n) for n in shape))


def _read_array(path: Path, zf: zipfile.ZipFile, info: zipfile.ZipInfo, name: str, header: Header) -> np.ndarray:
    """The payload of one member, exactly as many bytes as its checked header declares."""
    with zf.open(info) as f:
        array = npy.read_array(f, allow_pickle=False)  # its header was checked by _parse_header
        if f.read(1):
            raise BundleError(f"{path}: array {name!r} has data after its declared {header.nbytes} bytes (corrupt bundle); {FIX}")
    return array


def _read_manifest(path: Path, zf: zipfile.ZipFile, info: zipfile.ZipInfo) -> dict[str, Any]:
    header = _read_header(path, zf, info, MANIFEST_KEY)
    if header.dtype != np.uint8 or len(header.shape) != 1 or header.nbytes > MANIFEST_MAX_BYTES:
        raise BundleError(f"{path}: the manifest must be a uint8 vector of at most {MANIFEST_MAX_BYTES} bytes, "
                          f"got {header.dtype} {header.shape}; {FIX}")
    blob = _read_array(path, zf, info, MANIFEST_KEY, header)
    try:
        manifest = json.loads(blob.tobytes().decode())
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise BundleError(f"{path}: the manifest is not valid JSON (corrupt bundle: {type(exc).__name__}); {FIX}") from None
    _check_container(path, manifest)
    return manifest


def _check_container(path: Path, manifest: Any) -> None:
    """The fields save_bundle writes: schema, schema_version, checksums."""
    if not isinstance(manifest, dict) or manifest.get("schema") != SCHEMA:
        raise BundleError(f"{path}: manifest schema is not {SCHEMA!r}: a foreign file, not a bundle written by `ssa export`")
    version = manifest.get("schema_version")
    if type(version) is not int or version != SCHEMA_VERSION:
        hint = "upgrade ssa-fpga" if type(version) is int and version > SCHEMA_VERSION else "re-export it with `ssa export`"
        raise BundleError(f"{path}: bundle schema version {version!r}, this runtime reads {SCHEMA_VERSION}; {hint}")
    checksums = manifest.get("checksums")
    if not isinstance(checksums, dict) or not all(isinstance(d, str) and _DIGEST.fullmatch(d) for d in checksums.values()):
        raise BundleError(f"{path}: manifest 'checksums' must map every array name to a sha256 hex digest; {FIX}")


def _check_expected(path: Path, headers: Mapping[str, Header], expected: Mapping[str, tuple[np.dtype, tuple[int, ...]]]) -> None:
    """Every array the schema expects is present with its dtype and shape, and nothing else."""
    missing, extra = sorted(set(expected) - set(headers)), sorted(set(headers) - set(expected))
    if missing or extra:
        raise BundleError(f"{path}: the manifest's model does not match the arrays: missing {missing[:6]}, "
                          f"unexpected {extra[:6]} ({len(missing)} and {len(extra)}); {FIX}")
    for name, (dtype, shape) in expected.items():
        got = headers[name]
        if got.dtype != np.dtype(dtype) or got.shape != tuple(shape):
            raise BundleError(f"{path}: array {name!r} is {got.dtype} {list(got.shape)} but the manifest's model needs "
                              f"{np.dtype(dtype)} {list(shape)}; {FIX}")
