"""A tiny spiking ViT trained for a few steps on random 8×8 images, so that its BatchNorm statistics
and weights are not trivial, then made to spike (shared by the numpy-runtime agreement tests; needs torch)."""
from pathlib import Path

import numpy as np
import torch

from ssa.model import SpikingViT as NumpyViT
from ssa_quantize.attention import LfsrSampler
from ssa_quantize.export import linear_units
from ssa_quantize.model import ModelConfig, SpikingViT


def tiny_config(attention: str, timesteps: int = 3) -> ModelConfig:
    """8×8 images, patch 4 (N = 4), D = 16, 2 layers, 2 heads."""
    return ModelConfig(attention=attention, timesteps=timesteps, image_size=8, patch=4, embed_dim=16, depth=2, heads=2)


def tiny_trained(config: ModelConfig, steps: int = 5) -> SpikingViT:
    """A model of `config` after `steps` Adam steps on random images and labels, in eval mode; spiking
    models are made lively (below), else every attention block would compare all-zero spikes."""
    torch.manual_seed(0)
    model = SpikingViT(config)
    opt = torch.optim.Adam(model.parameters(), lr=3e-3)
    g = torch.Generator().manual_seed(1)
    for _ in range(steps):
        x = torch.rand((16, 1, 8, 8), generator=g)
        loss = torch.nn.functional.cross_entropy(model(x), torch.randint(0, 10, (16,), generator=g))
        opt.zero_grad()
        loss.backward()
        opt.step()
    return (model if config.attention == "ann" else lively(model)).eval()


def lively(model: SpikingViT) -> SpikingViT:
    """``model`` with every unit's BatchNorm shift raised by 1.5: after the few training steps its LIFs are
    silent (every attention block all zeros, constant logits); now every layer spikes 10-60 % of the time."""
    with torch.no_grad():
        for unit in linear_units(model).values():
            unit.bn.bias.add_(1.5)
    return model


def assert_runtime_matches_torch(model: SpikingViT, bundle: Path, seed: int, first_index: int) -> np.ndarray:
    """The bundle's numpy logits on 6 random 8×8 images equal torch's hardware-exact evaluation
    (the runtime's documented tolerance, identical predictions); returns them."""
    images = np.random.default_rng(3).random((6, 1, 8, 8)).astype(np.float32)
    with torch.no_grad():
        want = model(torch.from_numpy(images), LfsrSampler(seed=seed, first_index=first_index)).numpy()
    got = NumpyViT.from_bundle(bundle).logits(images, first_index=first_index)
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)
    np.testing.assert_array_equal(got.argmax(1), want.argmax(1))
    assert np.ptp(got, axis=0).max() > 1e-3, "the logits do not depend on the image: the model is silent"
    return got
