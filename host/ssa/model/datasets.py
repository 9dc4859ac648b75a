"""Local data-set loaders: MNIST and Fashion-MNIST (IDX, gzip or plain) and CIFAR-10 (python batches).

Nothing is downloaded. Fashion-MNIST defaults to the Debian package ``dataset-fashion-mnist``
(``/usr/share/datasets/fashion-mnist``); other sets need ``--data-dir``.

IDX files are read header first: magic, item count and image size are checked, then exactly the
bytes the header declares are read (gzip detected by its magic, not the file name) and any byte
after them is refused, so a corrupt, truncated, foreign or over-long (decompression-bomb) file is a
DatasetError and memory stays bounded by the declared size. Labels must be classes 0..9.

CIFAR-10's python format is a pickle. Pickles can run code, so the batches are read with a
restricted unpickler that resolves only the few globals a numpy array needs (``ndarray``,
``dtype``, ``_reconstruct`` and ``_codecs.encode`` limited to latin-1); anything else is refused.
Only point ``--data-dir`` at copies of the official tarball you trust regardless.
"""
from __future__ import annotations

import codecs
import gzip
import pickle
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import numpy as np

from ssa.errors import DatasetError

DATASETS = ("fashion-mnist", "mnist", "cifar10")
DEFAULT_DIRS = {"fashion-mnist": Path("/usr/share/datasets/fashion-mnist")}
PROVIDERS = {
    "fashion-mnist": "install the Debian package dataset-fashion-mnist or pass --data-dir with the four IDX files",
    "mnist": "pass --data-dir with the four MNIST IDX files (train-images-idx3-ubyte[.gz], ...)",
    "cifar10": "pass --data-dir with the extracted cifar-10-batches-py folder of the official python tarball",
}
IDX_IMAGES, IDX_LABELS = 0x00000803, 0x00000801
#: Shape of one image of each IDX data set, the most items one IDX file may declare, and the read chunk.
IDX_ITEM_SHAPES = {"fashion-mnist": (28, 28), "mnist": (28, 28)}
IDX_MAX_ITEMS = 1_000_000
IDX_CHUNK = 1 << 20
CLASSES = 10
CIFAR_BATCH = 10000
CIFAR_SHAPE = (3, 32, 32)
CIFAR_FIX = "replace it with the file from the official python tarball (cifar-10-python.tar.gz)"


@dataclass(frozen=True)
class Split:
    """Images ``[N, C, H, W]`` uint8 and labels ``[N]`` int64."""

    images: np.ndarray
    labels: np.ndarray

    def __len__(self) -> int:
        return len(self.labels)


@dataclass(frozen=True)
class Dataset:
    """Train and test splits of one data set."""

    name: str
    train: Split
    test: Split
    classes: int = CLASSES

    @property
    def image_shape(self) -> tuple[int, int, int]:
        c, h, w = self.train.images.shape[1:]
        return int(c), int(h), int(w)


def load_dataset(name: str, data_dir: str | Path | None = None) -> Dataset:
    """Load ``name`` (one of :data:`DATASETS`) from ``data_dir`` or its default location."""
    if name not in DATASETS:
        raise DatasetError(f"dataset {name!r} is unknown; use one of {', '.join(DATASETS)}")
    root = Path(data_dir) if data_dir is not None else DEFAULT_DIRS.get(name)
    if root is None or not root.is_dir():
        where = f"directory {root} does not exist" if root is not None else "no default location"
        raise DatasetError(f"{name}: {where}; {PROVIDERS[name]}")
    if name == "cifar10":
        return Dataset(name, *load_cifar10(root))
    return Dataset(name, load_idx_split(root, "train", name), load_idx_split(root, "t10k", name))


def _find(root: Path, stems: tuple[str, ...], name: str) -> Path:
    for stem in stems:
        for candidate in (root / stem, root / f"{stem}.gz"):
            if candidate.is_file():
                return candidate
    raise DatasetError(f"{name}: none of {', '.join(stems)} (optionally .gz) is in {root}; {PROVIDERS[name]}")


def read_idx(path: Path, magic: int, item_shape: tuple[int, ...] | None = None, max_items: int = IDX_MAX_ITEMS) -> np.ndarray:
    """Read one IDX file (big-endian header, unsigned bytes), gzip-compressed or not.

    Header first: the magic, the item count (at most max_items) and, when given, the shape of one
    item are checked before the data is read; then exactly the bytes the header declares are read,
    and any byte after them is an error, so memory stays bounded by the declared size.
    """
    try:
        with _open_idx(path) as f:
            return _read_idx(path, f, magic, item_shape, max_items)
    except (OSError, EOFError, zlib.error) as exc:  # gzip.BadGzipFile is an OSError
        raise DatasetError(f"{path} cannot be read ({exc!r}): the file is corrupt or truncated; "
                           f"replace it with an intact copy") from None


def _open_idx(path: Path) -> IO[bytes]:
    """A binary stream of the file's IDX bytes: gunzipped if the file starts with the gzip magic."""
    with open(path, "rb") as f:
        gzipped = f.read(2) == b"\x1f\x8b"
    return gzip.open(path, "rb") if gzipped else open(path, "rb")


def _read_at_most(f: IO[bytes], size: int) -> bytearray:
    """Up to `size` bytes, read in chunks (never more than the stream holds)."""
    data = bytearray()
    while len(data) < size:
        chunk = f.read(min(IDX_CHUNK, size - len(data)))
        if not chunk:
            break
        data += chunk
    return data


def _read_idx(path: Path, f: IO[bytes], magic: int, item_shape: tuple[int, ...] | None, max_items: int) -> np.ndarray:
    head = _read_at_most(f, 4)
    if len(head) < 4 or int.from_bytes(head, "big") != magic:
        raise DatasetError(f"{path} is not an IDX file with magic 0x{magic:08x}; replace it with an intact copy")
    ndim = head[3]
    raw = _read_at_most(f, 4 * ndim)
    if len(raw) < 4 * ndim:
        raise DatasetError(f"{path} ends inside its IDX header; the file is truncated: replace it with an intact copy")
    dims = [int.from_bytes(raw[4 * i : 4 * i + 4], "big") for i in range(ndim)]
    if item_shape is not None and tuple(dims[1:]) != item_shape:
        raise DatasetError(f"{path} holds items of shape {dims[1:]}, this data set's are {list(item_shape)}; "
                           f"the file belongs to another data set: replace it with the right one")
    if dims[0] > max_items:
        raise DatasetError(f"{path} declares {dims[0]} items, more than the {max_items} a data set file may hold; replace it with an intact copy")
    size = int(np.prod(dims, dtype=object))
    body = _read_at_most(f, size)
    if len(body) < size:
        raise DatasetError(f"{path} holds {len(body)} bytes of data but its header says {dims} ({size} bytes); "
                           f"the file is truncated: replace it with an intact copy")
    if f.read(1):
        raise DatasetError(f"{path} holds more data than its header's {dims} ({size} bytes); "
                           f"the file is not an intact IDX file: replace it with an intact copy")
    return np.frombuffer(body, dtype=np.uint8).reshape(dims)


def load_idx_split(root: Path, prefix: str, name: str) -> Split:
    """``{prefix}-images-idx3-ubyte`` and ``{prefix}-labels-idx1-ubyte`` (also the ``.idx3-`` spelling) of ``name``."""
    image_path = _find(root, (f"{prefix}-images-idx3-ubyte", f"{prefix}-images.idx3-ubyte"), name)
    label_path = _find(root, (f"{prefix}-labels-idx1-ubyte", f"{prefix}-labels.idx1-ubyte"), name)
    images = read_idx(image_path, IDX_IMAGES, IDX_ITEM_SHAPES.get(name))
    labels = read_idx(label_path, IDX_LABELS)
    if len(images) != len(labels):
        raise DatasetError(f"{root}: {len(images)} {prefix} images but {len(labels)} labels; the files do not belong together: replace them with a matching pair")
    return Split(images[:, None, :, :].copy(), check_labels(label_path, labels.astype(np.int64), CLASSES))


def check_labels(path: Path, labels: np.ndarray, classes: int) -> np.ndarray:
    """labels if every one is a class index 0..classes-1, else DatasetError."""
    if labels.size and (labels.min() < 0 or labels.max() >= classes):
        bad = int(np.count_nonzero((labels < 0) | (labels >= classes)))
        raise DatasetError(f"{path}: {bad} label(s) outside the {classes} classes 0..{classes - 1}; "
                           f"the labels are corrupt or of another data set: replace them with an intact copy")
    return labels


def _latin1_encode(text: str, encoding: str = "latin1") -> bytes:
    if encoding not in ("latin1", "latin-1"):
        raise DatasetError(f"CIFAR pickle asks for codec {encoding!r}; only latin-1 is allowed: {CIFAR_FIX}")
    return codecs.encode(text, "latin1")


def _numpy_reconstruct():
    """numpy's array-rebuilding helper (moved to ``numpy._core`` in numpy 2)."""
    core = getattr(np, "_core", None)
    if core is not None and hasattr(core, "multiarray"):
        return core.multiarray._reconstruct
    return np.core.multiarray._reconstruct


class _ArrayUnpickler(pickle.Unpickler):
    """Unpickler that only rebuilds dicts, lists, bytes and numpy arrays."""

    ALLOWED = {
        ("numpy", "ndarray"): np.ndarray,
        ("numpy", "dtype"): np.dtype,
    }

    def find_class(self, module: str, name: str):  # type: ignore[override]
        if (module, name) in self.ALLOWED:
            return self.ALLOWED[(module, name)]
        if module in ("numpy.core.multiarray", "numpy._core.multiarray") and name == "_reconstruct":
            return _numpy_reconstruct()
        if (module, name) == ("_codecs", "encode"):
            return _latin1_encode
        raise DatasetError(f"CIFAR batch refers to {module}.{name}, which a data batch never needs; refusing to unpickle it: {CIFAR_FIX}")


def read_cifar_batch(path: Path) -> Split:
    """One CIFAR-10 python batch: dict with ``data`` [n, 3072] uint8 and ``labels``."""
    try:
        with open(path, "rb") as f:
            batch = _ArrayUnpickler(f, encoding="bytes").load()
    except DatasetError:
        raise
    except Exception as exc:  # a corrupt pickle stream can fail in any of the unpickler's opcodes
        raise DatasetError(f"{path} is not a readable CIFAR-10 batch ({exc!r}); {CIFAR_FIX}") from None
    if not isinstance(batch, dict) or b"data" not in batch or b"labels" not in batch:
        raise DatasetError(f"{path} is not a CIFAR-10 batch (dict with b'data' and b'labels'); {CIFAR_FIX}")
    data = np.asarray(batch[b"data"], dtype=np.uint8)
    labels = np.asarray(batch[b"labels"], dtype=np.int64)
    if data.ndim != 2 or data.shape[1] != int(np.prod(CIFAR_SHAPE)) or len(data) != len(labels):
        raise DatasetError(f"{path}: data shape {data.shape} and {len(labels)} labels do not form a CIFAR-10 batch; {CIFAR_FIX}")
    return Split(data.reshape((-1,) + CIFAR_SHAPE), check_labels(path, labels, CLASSES))


def load_cifar10(root: Path) -> tuple[Split, Split]:
    """``data_batch_1..5`` and ``test_batch`` from ``root`` or ``root/cifar-10-batches-py``."""
    if (root / "cifar-10-batches-py").is_dir():
        root = root / "cifar-10-batches-py"
    paths = [root / f"data_batch_{i}" for i in range(1, 6)] + [root / "test_batch"]
    missing = [p.name for p in paths if not p.is_file()]
    if missing:
        raise DatasetError(f"cifar10: {', '.join(missing)} missing in {root}; {PROVIDERS['cifar10']}")
    train = [read_cifar_batch(p) for p in paths[:5]]
    test = read_cifar_batch(paths[5])
    return Split(np.concatenate([s.images for s in train]), np.concatenate([s.labels for s in train])), test
