"""`ssa demo`: classify images with the bundled spiking ViT, attention blocks on a chosen backend."""
from __future__ import annotations

import importlib.util
import time
from importlib.resources import files
from pathlib import Path

import click
import numpy as np
from tqdm import tqdm

from ssa.cli.params import NonEmptyPath, OutputFile
from ssa.contract.config import CONTRACT_LIMITS, DEFAULT_KERNEL_LIMITS, SSAConfig
from ssa.errors import DatasetError, SSAError
from ssa.model.threads import DEFAULT_BLAS_THREADS

DEFAULT_BUNDLE = "ssa_fashion_mnist_t10.npz"
DEFAULT_SAMPLE = "fashion_mnist_test_1000.npz"
#: Default batch: images × time steps per batch (50 images at the bundled model's T = 10, ~0.1 GB).
IMAGE_STEPS_PER_BATCH = 500


def packaged(name: str) -> Path:
    """Path of a file shipped in ssa/data."""
    return Path(str(files("ssa").joinpath("data", name)))


def load_images(test_set: Path | None, count: int) -> tuple[np.ndarray, np.ndarray, str]:
    """(images [B, 1, 28, 28] float32 in [0, 1], labels, description): bundled sample or a full test set."""
    if test_set is None:
        with np.load(packaged(DEFAULT_SAMPLE), allow_pickle=False) as npz:
            images, labels = npz["images"], npz["labels"]
        source = f"bundled Fashion-MNIST test sample ({len(labels)} images)"
    else:
        from ssa.model.datasets import load_idx_split

        try:
            split = load_idx_split(test_set, "t10k", "fashion-mnist")
        except DatasetError as exc:
            raise DatasetError(f"--test-set {test_set}: {str(exc).split(';')[0]}; it must hold t10k-images-idx3-ubyte[.gz] and t10k-labels-idx1-ubyte[.gz]") from exc
        images, labels, source = split.images, split.labels, f"Fashion-MNIST test set in {test_set}"
    if count > len(labels):
        raise click.BadParameter(f"--count {count} exceeds the {len(labels)} images of the {source}")
    images = images[:count].reshape(count, 1, 28, 28).astype(np.float32) / np.float32(255)
    return images, np.asarray(labels[:count]).astype(np.int64), source


class CrossCheck:
    """Backend wrapper that also runs every block on a second backend and records agreement."""

    def __init__(self, primary, reference) -> None:
        self.primary, self.reference = primary, reference
        self.blocks = self.mismatches = 0

    def run(self, q: np.ndarray, k: np.ndarray, v: np.ndarray, config: SSAConfig) -> np.ndarray:
        out = self.primary.run(q, k, v, config)
        other = self.reference.run(q, k, v, config)
        self.blocks += int(np.prod(q.shape[1:-2]))
        self.mismatches += int(np.any(out != other, axis=(0, -2, -1)).sum())
        return out


@click.command()
@click.option("--bundle", type=NonEmptyPath(dir_okay=False, path_type=Path), default=None, help="model bundle (default: the bundled Fashion-MNIST model)")
@click.option("--count", default=1000, show_default=True, type=click.IntRange(1), help="images to classify")
@click.option("--backend", default="fast", show_default=True, help="attention backend: fast (native; the emulator if not built), emulate, csim, pynq")
@click.option("--timesteps", type=click.IntRange(1, 1024), default=None, help="override the model's T")
@click.option("--test-set", type=NonEmptyPath(file_okay=False, path_type=Path), default=None, help="directory of the full Fashion-MNIST IDX test set")
@click.option("--batch", default=None, type=click.IntRange(1), help="images per batch [default: 500 / T, at least 1: memory grows with T × batch]")
@click.option("--check", default=4, show_default=True, type=click.IntRange(0), help="images whose attention blocks are cross-checked against csim (skipped with a note when the blocks exceed its kernel build; 0: none)")
@click.option("--plot", type=OutputFile(), default=None, help="write a summary PNG here (needs matplotlib)")
@click.option("--threads", default=DEFAULT_BLAS_THREADS, show_default=True, type=click.IntRange(1, 1024),
              help="BLAS threads of the model's matmuls; they are small, so one thread is fastest, above all on a busy machine")
def demo(bundle: Path | None, count: int, backend: str, timesteps: int | None, test_set: Path | None, batch: int | None, check: int,
         plot: Path | None, threads: int) -> None:
    """Classify Fashion-MNIST images with the bundled spiking ViT and its SSA attention blocks.

    The model's matmuls run with --threads BLAS threads (default 1, set through threadpoolctl);
    the attention blocks run on --backend.
    """
    from ssa.backends import get_backend
    from ssa.cost.latency import estimate
    from ssa.model.vit import SpikingViT

    if plot is not None and importlib.util.find_spec("matplotlib") is None:  # before any work
        raise click.ClickException("--plot needs matplotlib: pip install matplotlib")

    model = SpikingViT.from_bundle(bundle or packaged(DEFAULT_BUNDLE), get_backend(backend))
    if timesteps is not None:
        model.timesteps = timesteps
    model.blas_threads = threads
    images, labels, source = load_images(test_set, count)
    cfg = model.block_config(seed=0)
    sau = model.attention == "ssa"  # only SSA blocks go to the backend (and could run on the SAU array)
    click.echo(f"model: {model.depth}-layer spiking ViT, {model.heads} heads, {model.attention} attention, "
               f"blocks N={cfg.n} D_K={cfg.dk} T={cfg.t}; images: {source}; "
               f"{f'backend: {backend}' if sau else 'attention in numpy'}; BLAS threads: {threads}")

    # The latency model of a kernel build that fits these blocks (the default build, else the contract's maxima).
    fits = DEFAULT_KERNEL_LIMITS.fits(cfg.n, cfg.dk, cfg.t)
    build = DEFAULT_KERNEL_LIMITS if fits else CONTRACT_LIMITS
    one_block = estimate(cfg.n, cfg.dk, cfg.t, limits=build)
    one_layer = estimate(cfg.n, cfg.dk, cfg.t, blocks=model.heads, limits=build)  # one kernel call per layer and image
    checked = _cross_check(model, images[:check], cfg) if sau else None
    predictions = np.empty(count, dtype=np.int64)
    blocks = attention_seconds = 0.0
    start = time.perf_counter()
    batch = batch or max(1, IMAGE_STEPS_PER_BATCH // cfg.t)
    for lo in tqdm(range(0, count, batch), desc="classifying", unit="batch"):
        hi = min(lo + batch, count)
        predictions[lo:hi] = model.predict(images[lo:hi], first_index=lo)
        blocks += model.stats.attention_blocks
        attention_seconds += model.stats.attention_seconds
    elapsed = time.perf_counter() - start

    accuracy = float(np.mean(predictions == labels))
    click.echo(f"accuracy: {accuracy * 100:.2f}% ({int(np.sum(predictions == labels))}/{count})")
    click.echo(f"throughput: {count / elapsed:.1f} images/s on this machine ({backend})")
    if not sau:
        click.echo(f"{model.attention} attention runs in numpy: no backend blocks, no SAU estimate")
    else:
        _report_blocks(blocks, attention_seconds, backend, checked, one_block, one_layer, fits, model)
    if plot is not None:
        _plot(model, images, labels, predictions, plot, f"ssa demo: {source}, backend {backend}, accuracy {accuracy * 100:.2f}%")


def _report_blocks(blocks: float, seconds: float, backend: str, checked: str | None, one_block, one_layer, fits: bool, model) -> None:
    """The SSA blocks' speed here, the csim cross-check and the FPGA latency model."""
    click.echo(f"attention: {blocks:.0f} blocks, {seconds / max(blocks, 1) * 1e6:.1f} µs per block ({backend})")
    if checked is not None:
        click.echo(checked)
    click.echo(f"FPGA estimate (latency model at {one_block.clock_mhz:.0f} MHz, not measured"
               f"{'' if fits else '; needs a kernel built with larger maxima than the default'}): "
               f"{one_block.end_to_end_us:.2f} µs per block incl. stream transfers (SAU array {one_block.array_us:.2f} µs); "
               f"{model.depth} calls of {model.heads} blocks per image → {one_layer.end_to_end_us * model.depth:.1f} µs of attention per image")


def _plot(model, images: np.ndarray, labels: np.ndarray, predictions: np.ndarray, path: Path, title: str) -> None:
    """Write the summary PNG (ssa.cli.demo_plot) and say where."""
    from ssa.cli.demo_plot import write_summary

    try:
        click.echo(f"summary plot: {write_summary(model, images, labels, predictions, path, title)}")
    except ImportError as exc:
        raise click.ClickException(f"--plot: {exc}") from exc


def _cross_check(model, images: np.ndarray, cfg: SSAConfig) -> str | None:
    """Run a few images with every attention block also on csim; report bit-exact agreement.

    Skipped with a one-line note when csim is unavailable or the blocks exceed its kernel build's
    maxima (e.g. --timesteps above the default build's T = 32): the demo itself still runs.
    """
    if not len(images):
        return None
    from ssa.backends import get_backend

    try:
        reference = get_backend("csim")
    except SSAError as exc:
        first_line = str(exc).splitlines()[0] if str(exc) else ""
        return f"csim cross-check skipped ({type(exc).__name__}: {first_line}); --check 0 leaves it out"
    top = reference.limits
    if not top.fits(cfg.n, cfg.dk, cfg.t):
        return (f"csim cross-check skipped: blocks N={cfg.n} D_K={cfg.dk} T={cfg.t} exceed the C-simulated kernel build "
                f"(N ≤ {top.n_max}, D_K ≤ {top.dk_max}, T ≤ {top.t_max}); --check 0 leaves it out")
    primary = model.backend
    model.backend = CrossCheck(primary, reference)
    try:
        model.predict(images, first_index=0)
        result = model.backend
    finally:
        model.backend = primary
    if result.mismatches:
        raise click.ClickException(f"csim cross-check FAILED: {result.mismatches} of {result.blocks} attention blocks differ")
    return f"csim cross-check: {result.blocks} attention blocks of {len(images)} images bit-exact with the C-simulated HLS kernel"
