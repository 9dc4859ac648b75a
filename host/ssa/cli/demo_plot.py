"""`ssa demo --plot PATH`: one summary PNG of a demo run (confusion matrix, sample images, one attention map)."""
from __future__ import annotations

from pathlib import Path

import numpy as np

FASHION_MNIST_CLASSES = ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot")
SAMPLES = 16


def confusion_matrix(labels: np.ndarray, predictions: np.ndarray, classes: int) -> np.ndarray:
    """counts[true, predicted]."""
    counts = np.zeros((classes, classes), dtype=np.int64)
    np.add.at(counts, (labels, predictions), 1)
    return counts


def write_summary(model, images: np.ndarray, labels: np.ndarray, predictions: np.ndarray, path: Path, title: str) -> Path:
    """Draw the summary of a run of `model` on images [B, 1, H, W] to `path` (PNG); returns the path written.

    The attention map is the rollout (mean over queries) of image 0, re-run with scores recorded.
    """
    import matplotlib

    matplotlib.use("Agg")
    from ssa.model.maps import record
    from ssa.plots import demo_summary

    classes = len(FASHION_MNIST_CLASSES)
    rec = record(model, images[:1])
    grid_map = rec.on_grid(rec.rollout()[0].mean(axis=0))
    caption = (f"image 0 ({FASHION_MNIST_CLASSES[labels[0]]}): {model.attention} attention\n"
               f"rollout over {model.depth} layers, mean over queries")
    shown = slice(0, min(SAMPLES, len(labels)))
    fig = demo_summary(confusion_matrix(labels, predictions, classes), FASHION_MNIST_CLASSES, images[shown, 0],
                       labels[shown], predictions[shown], (images[0, 0], grid_map, caption), title=title)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110, bbox_inches="tight")
    import matplotlib.pyplot as plt

    plt.close(fig)
    return path
