"""Numpy inference of a trained spiking ViT: the runtime model, pixel coding and LIF, the bundle container and the data-set loaders."""
from ssa.model.schema import SUPPORTED_ATTENTION
from ssa.model.vit import (
    AttentionBackend,
    LinearUnit,
    RunStats,
    SpikingViT,
)

__all__ = ["SUPPORTED_ATTENTION", "AttentionBackend", "LinearUnit", "RunStats", "SpikingViT"]
