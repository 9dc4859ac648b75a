"""A tiny spiking ViT trained for a few steps on random 8×8 images, so that its BatchNorm statistics
and weights are not trivial (shared by the numpy-runtime agreement tests; needs torch)."""
import torch

from ssa_quantize.model import ModelConfig, SpikingViT


def tiny_config(attention: str, timesteps: int = 3) -> ModelConfig:
    """8×8 images, patch 4 (N = 4), D = 16, 2 layers, 2 heads."""
    return ModelConfig(attention=attention, timesteps=timesteps, image_size=8, patch=4, embed_dim=16, depth=2, heads=2)


def tiny_trained(config: ModelConfig, steps: int = 5) -> SpikingViT:
    """A model of `config` after `steps` Adam steps on random images and labels, in eval mode."""
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
    return model.eval()
