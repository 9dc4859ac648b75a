"""Property tests: every bad IDX / gzip / CIFAR file gives a one-line DatasetError naming the fix, or the exact
arrays written; reading keeps memory bounded by the size the IDX header declares (also for gzip bombs)."""
import gzip
import pickle
import re
import tempfile
import zlib
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from corruption import KINDS as CORRUPTIONS, corrupt
from memory import peak_bytes

from ssa.errors import DatasetError
from ssa.model.datasets import IDX_IMAGES, IDX_LABELS, load_idx_split, read_cifar_batch, read_idx

FIX = re.compile(r"replace|install|pass --data-dir|use one of")
FAST = settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def idx_bytes(array: np.ndarray, magic: int | None = None) -> bytes:
    magic = (0x0800 | array.ndim) if magic is None else magic
    return magic.to_bytes(4, "big") + b"".join(int(d).to_bytes(4, "big") for d in array.shape) + array.astype(np.uint8).tobytes()


def expect_error_or(fn, want=None):
    """fn()'s result (equal to `want` when given), or None after a one-line DatasetError naming the fix."""
    try:
        got = fn()
    except DatasetError as exc:
        assert "\n" not in str(exc) and FIX.search(str(exc)), str(exc)
        return None
    return got


def write_split(root: Path, images: bytes, labels: bytes, gz: tuple[bool, bool]) -> None:
    for name, data, compress in (("t10k-images-idx3-ubyte", images, gz[0]), ("t10k-labels-idx1-ubyte", labels, gz[1])):
        (root / (name + (".gz" if compress else ""))).write_bytes(gzip.compress(data) if compress else data)


@FAST
@given(n=st.integers(0, 4), side=st.sampled_from([28, 27, 29, 1]), labels=st.lists(st.integers(0, 255), min_size=0, max_size=5),
       gz=st.tuples(st.booleans(), st.booleans()))
def test_split_shapes_and_labels(n, side, labels, gz):
    images = np.random.default_rng(n).integers(0, 256, (n, side, side), dtype=np.uint8)
    labels = np.asarray(labels, np.uint8)
    with tempfile.TemporaryDirectory() as tmp:
        write_split(Path(tmp), idx_bytes(images), idx_bytes(labels), gz)
        split = expect_error_or(lambda: load_idx_split(Path(tmp), "t10k", "fashion-mnist"))
    ok = side == 28 and len(labels) == n and (labels < 10).all()
    assert (split is not None) == ok, (n, side, labels)
    if ok:
        np.testing.assert_array_equal(split.images[:, 0], images)
        np.testing.assert_array_equal(split.labels, labels.astype(np.int64))


@FAST
@given(data=st.data(), compress=st.booleans())
def test_corrupted_idx_files(data, compress):
    images = np.random.default_rng(0).integers(0, 256, (3, 28, 28), dtype=np.uint8)
    raw = idx_bytes(images)
    blob = bytearray(gzip.compress(raw) if compress else raw)
    kind = data.draw(st.sampled_from(["flip", "truncate", "append", "prepend", "header-dims", "magic", "not-gzip"]))
    if kind in CORRUPTIONS:
        blob = corrupt(blob, data, kind, flips=3, extra=32)
    elif kind == "header-dims":
        dims = data.draw(st.tuples(st.integers(0, 2**32 - 1), st.integers(0, 2**32 - 1), st.integers(0, 2**32 - 1)))
        raw = IDX_IMAGES.to_bytes(4, "big") + b"".join(d.to_bytes(4, "big") for d in dims) + images.tobytes()
        blob = bytearray(gzip.compress(raw) if compress else raw)
    elif kind == "magic":
        blob = bytearray(data.draw(st.binary(max_size=4))) + bytearray(raw[4:])
    else:
        blob = bytearray(b"\x1f\x8b" + data.draw(st.binary(max_size=64)))
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / ("x.gz" if compress else "x")
        path.write_bytes(bytes(blob))
        got = expect_error_or(lambda: read_idx(path, IDX_IMAGES, (28, 28)))
    if got is not None and compress:  # only changes gzip ignores (e.g. its header's mtime or OS bytes): the exact images
        np.testing.assert_array_equal(got, images)
    elif got is not None:  # plain IDX has no checksum: a changed pixel is another valid file, read exactly
        assert bytes(blob[:16]) == raw[:16]
        np.testing.assert_array_equal(got, np.frombuffer(bytes(blob[16:]), np.uint8).reshape(3, 28, 28))


@FAST
@given(blob=st.one_of(st.binary(max_size=200), st.sampled_from([b"", b"\x80\x04N.", pickle.dumps([1, 2]), pickle.dumps({b"data": 1}),
                                                                 pickle.dumps({b"data": np.zeros((2, 3072), np.uint8), b"labels": [0, 10]}),
                                                                 pickle.dumps({b"data": np.zeros((2, 3072), np.uint8), b"labels": [0, -1]})])))
def test_bad_cifar_batches(blob):
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "data_batch_1"
        path.write_bytes(blob)
        assert expect_error_or(lambda: read_cifar_batch(path)) is None


def gzip_bomb(path: Path, head: bytes, zeros: int) -> Path:
    """A gzip file of `head` followed by `zeros` zero bytes, written in 1 MiB chunks."""
    with gzip.open(path, "wb", compresslevel=9) as f:
        f.write(head)
        for _ in range(zeros >> 20):
            f.write(bytes(1 << 20))
    return path


@pytest.mark.parametrize("count,zeros,what", [
    (10, 64 << 20, "more data"),  # 10 labels declared, 64 MiB of zeros after them: too long, not truncated
    (1_000_000, 0, "truncated"),  # a million labels declared, none present
    (10**9, 64 << 20, "more than"),  # a billion declared: refused before reading
])
def test_gzip_bombs_stay_bounded(tmp_path, count, zeros, what):
    path = gzip_bomb(tmp_path / "labels.gz", IDX_LABELS.to_bytes(4, "big") + count.to_bytes(4, "big"), zeros)
    assert path.stat().st_size < 1 << 20
    peak, result = peak_bytes(lambda: read_idx(path, IDX_LABELS))
    print(f"gzip bomb: {count} labels declared, {zeros} bytes of zeros, {path.stat().st_size} bytes on disk: peak {peak} bytes")
    assert isinstance(result, DatasetError) and what in str(result) and FIX.search(str(result)), result
    assert peak < min(count, zeros) + (4 << 20), peak  # at most the declared size plus a few read chunks


def test_valid_file_memory_is_its_size(tmp_path):
    images = np.random.default_rng(1).integers(0, 256, (2000, 28, 28), dtype=np.uint8)
    path = tmp_path / "images.gz"
    path.write_bytes(gzip.compress(idx_bytes(images)))
    peak, got = peak_bytes(lambda: read_idx(path, IDX_IMAGES, (28, 28)))
    print(f"valid IDX of {images.nbytes} bytes: peak {peak} bytes")
    np.testing.assert_array_equal(got, images)
    assert peak < 2 * images.nbytes + (1 << 20)


def test_zlib_errors_inside_the_stream(tmp_path):
    raw = zlib.compress(idx_bytes(np.zeros((2, 28, 28), np.uint8)))
    path = tmp_path / "x.gz"
    path.write_bytes(gzip.compress(b"")[:10] + raw[2:40])  # a gzip header followed by a cut deflate stream
    assert expect_error_or(lambda: read_idx(path, IDX_IMAGES, (28, 28))) is None
