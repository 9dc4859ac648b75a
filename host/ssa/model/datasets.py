"""Local data-set loaders: MNIST and Fashion-MNIST (IDX, gzip or plain) and CIFAR-10 (python batches).

Nothing is downloaded. Fashion-MNIST defaults to the Debian package ``dataset-fashion-mnist``
(``/usr/share/datasets/fashion-mnist``); other sets need ``--data-dir``.

CIFAR-10's python format is a pickle. Pickles can run code, so the batches are read with a
restricted unpickler that resolves only the few globals a numpy array needs (``ndarray``,
``dtype``, ``_reconstruct`` and ``_codecs.encode`` limited to latin-1); anything else is refused.
Only point ``--data-dir`` at copies of the official tarball you trust regardless.
"""
from __future__ import annotations

import codecs
import gzip
import pickle
from dataclasses import dataclass
from pathlib import Path

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
CIFAR_BATCH = 10000
CIFAR_SHAPE = (3, 32, 32)


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
    classes: int = 10

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


def read_idx(path: Path, magic: int) -> np.ndarray:
    """Read one IDX file (big-endian header, unsigned bytes), gzip-compressed or not."""
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rb") as f:
        data = f.read()
    if len(data) < 4 or int.from_bytes(data[:4], "big") != magic:
        raise DatasetError(f"{path} is not an IDX file with magic 0x{magic:08x}; replace it with an intact copy")
    ndim = data[3]
    if len(data) < 4 + 4 * ndim:
        raise DatasetError(f"{path} ends inside its IDX header; the file is truncated: replace it with an intact copy")
    dims = [int.from_bytes(data[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim)]
    body = np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim)
    if body.size != int(np.prod(dims)):
        raise DatasetError(f"{path} holds {body.size} bytes of data but its header says {dims}; the file is truncated")
    return body.reshape(dims)


def load_idx_split(root: Path, prefix: str, name: str) -> Split:
    """``{prefix}-images-idx3-ubyte`` and ``{prefix}-labels-idx1-ubyte`` (also the ``.idx3-`` spelling) of ``name``."""
    images = read_idx(_find(root, (f"{prefix}-images-idx3-ubyte", f"{prefix}-images.idx3-ubyte"), name), IDX_IMAGES)
    labels = read_idx(_find(root, (f"{prefix}-labels-idx1-ubyte", f"{prefix}-labels.idx1-ubyte"), name), IDX_LABELS)
    if len(images) != len(labels):
        raise DatasetError(f"{root}: {len(images)} {prefix} images but {len(labels)} labels; the files do not belong together")
    return Split(images[:, None, :, :].copy(), labels.astype(np.int64))


def _latin1_encode(text: str, encoding: str = "latin1") -> bytes:
    if encoding not in ("latin1", "latin-1"):
        raise DatasetError(f"CIFAR pickle asks for codec {encoding!r}; only latin-1 is allowed")
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
        raise DatasetError(f"CIFAR batch refers to {module}.{name}, which a data batch never needs; refusing to unpickle it")


def read_cifar_batch(path: Path) -> Split:
    """One CIFAR-10 python batch: dict with ``data`` [n, 3072] uint8 and ``labels``."""
    with open(path, "rb") as f:
        batch = _ArrayUnpickler(f, encoding="bytes").load()
    if not isinstance(batch, dict) or b"data" not in batch or b"labels" not in batch:
        raise DatasetError(f"{path} is not a CIFAR-10 batch (dict with b'data' and b'labels')")
    data = np.asarray(batch[b"data"], dtype=np.uint8)
    labels = np.asarray(batch[b"labels"], dtype=np.int64)
    if data.ndim != 2 or data.shape[1] != int(np.prod(CIFAR_SHAPE)) or len(data) != len(labels):
        raise DatasetError(f"{path}: data shape {data.shape} and {len(labels)} labels do not form a CIFAR-10 batch")
    return Split(data.reshape((-1,) + CIFAR_SHAPE), labels)


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
