"""Data loaders on tiny files written in the real formats (IDX plain/gzip, CIFAR-10 python batches)."""
import gzip
import pickle
from pathlib import Path

import numpy as np
import pytest

from ssa.model.datasets import load_dataset, read_cifar_batch
from ssa.errors import DatasetError


def write_idx(path: Path, array: np.ndarray, compress: bool) -> None:
    magic = 0x0800 | array.ndim
    header = magic.to_bytes(4, "big") + b"".join(d.to_bytes(4, "big") for d in array.shape)
    data = header + array.astype(np.uint8).tobytes()
    if compress:
        path = path.with_name(path.name + ".gz")
        data = gzip.compress(data)
    path.write_bytes(data)


def write_mnist_like(root: Path, n_train: int = 12, n_test: int = 5, compress: bool = True, seed: int = 0) -> tuple:
    rng = np.random.default_rng(seed)
    root.mkdir(parents=True, exist_ok=True)
    arrays = {}
    for prefix, n in (("train", n_train), ("t10k", n_test)):
        images = rng.integers(0, 256, (n, 28, 28), dtype=np.uint8)
        labels = rng.integers(0, 10, n, dtype=np.uint8)
        write_idx(root / f"{prefix}-images-idx3-ubyte", images, compress)
        write_idx(root / f"{prefix}-labels-idx1-ubyte", labels, compress)
        arrays[prefix] = (images, labels)
    return arrays


@pytest.mark.parametrize("compress", [True, False])
def test_idx_loader_reads_images_and_labels(tmp_path, compress):
    arrays = write_mnist_like(tmp_path, compress=compress)
    data = load_dataset("mnist", tmp_path)
    assert data.image_shape == (1, 28, 28)
    assert np.array_equal(data.train.images[:, 0], arrays["train"][0])
    assert np.array_equal(data.test.labels, arrays["t10k"][1].astype(np.int64))


def test_truncated_or_wrong_idx_is_rejected(tmp_path):
    write_mnist_like(tmp_path, compress=False)
    path = tmp_path / "train-images-idx3-ubyte"
    path.write_bytes(path.read_bytes()[:-10])
    with pytest.raises(DatasetError, match="truncated"):
        load_dataset("fashion-mnist", tmp_path)
    path.write_bytes(b"\x00\x00\x08\x01" + b"\x00" * 8)
    with pytest.raises(DatasetError, match="magic"):
        load_dataset("fashion-mnist", tmp_path)


def test_missing_data_names_what_to_provide(tmp_path):
    with pytest.raises(DatasetError, match="dataset-fashion-mnist"):
        load_dataset("fashion-mnist", tmp_path / "absent")
    with pytest.raises(DatasetError, match="--data-dir"):
        load_dataset("cifar10", None)
    with pytest.raises(DatasetError, match="train-labels-idx1-ubyte.*MNIST IDX"):
        write_idx(tmp_path / "train-images-idx3-ubyte", np.zeros((1, 2, 2)), False)
        load_dataset("mnist", tmp_path)


def write_cifar(root: Path, per_batch: int = 3) -> dict:
    rng = np.random.default_rng(1)
    folder = root / "cifar-10-batches-py"
    folder.mkdir(parents=True)
    batches = {}
    for name in [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]:
        batch = {b"data": rng.integers(0, 256, (per_batch, 3072), dtype=np.uint8),
                 b"labels": [int(x) for x in rng.integers(0, 10, per_batch)], b"batch_label": b"test"}
        (folder / name).write_bytes(pickle.dumps(batch, protocol=2))
        batches[name] = batch
    return batches


def test_cifar_batches_load_through_the_restricted_unpickler(tmp_path):
    batches = write_cifar(tmp_path)
    data = load_dataset("cifar10", tmp_path)
    assert data.image_shape == (3, 32, 32)
    assert len(data.train) == 15 and len(data.test) == 3
    assert np.array_equal(data.test.images.reshape(3, -1), batches["test_batch"][b"data"])
    assert data.train.labels.tolist()[:3] == batches["data_batch_1"][b"labels"]


class Exploit:
    def __reduce__(self):
        import os

        return (os.system, ("echo pwned",))


def test_cifar_pickle_with_foreign_globals_is_refused(tmp_path):
    path = tmp_path / "data_batch_1"
    path.write_bytes(pickle.dumps({b"data": Exploit(), b"labels": []}, protocol=2))
    with pytest.raises(DatasetError, match="refusing"):
        read_cifar_batch(path)
