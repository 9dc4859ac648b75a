"""Attention cores: gradients of ssa, and the LFSR path (with the contract-v2 gain) against ssa.backends.emulator.run."""
import numpy as np
import pytest

from extras import require

torch = require("torch")
require("brevitas")

from ssa.contract.config import GAIN_LOG2_MAX, SSAConfig  # noqa: E402
from ssa.contract.encoders import encode_ideal  # noqa: E402
from ssa.backends.emulator import run as emulate  # noqa: E402
from ssa.errors import ConfigError  # noqa: E402
from ssa.contract.prng import layer_seed  # noqa: E402
from ssa_quantize.attention import AttentionCore, LfsrSampler, TorchSampler, gained, lfsr_attention  # noqa: E402
from ssa_quantize.model import ModelConfig, SpikingViT  # noqa: E402

SHAPE = (3, 4, 2, 5, 6)  # T, B, H, N, D_K


def spikes(seed: int) -> np.ndarray:
    return (np.random.default_rng(seed).random(SHAPE) < 0.5).astype(np.uint8)


def test_ssa_gradient_reaches_q_k_and_v():
    torch.manual_seed(0)
    q, k, v = (torch.from_numpy(spikes(i)).float().requires_grad_() for i in range(3))
    out = AttentionCore("ssa", layer=0)(q, k, v, TorchSampler())
    assert set(out.unique().tolist()) <= {0.0, 1.0}
    (out * torch.randn(out.shape)).sum().backward()
    for x in (q, k, v):
        assert x.grad is not None and x.grad.abs().sum() > 0


def test_ssa_training_rate_is_the_expectation_of_eq_5_and_6():
    torch.manual_seed(0)
    ones = torch.ones(2000, 1, 1, 4, 8)
    q = ones.clone()
    q[..., 4:] = 0  # c = 4 of D = 8 -> P(S) = 1/2, a ~ Bin(4, 1/2), P(Attn) = E[a]/N = 1/2
    out = TorchSampler().ssa(0, q, ones, ones)
    assert out.mean().item() == pytest.approx(0.5, abs=0.02)


@pytest.mark.parametrize("layer,first_index,gain_log2", [(0, 0, 0), (3, 7, 0), (1, 2, 1), (2, 5, GAIN_LOG2_MAX)])
def test_lfsr_sampler_gives_exactly_the_emulator_spikes(layer, first_index, gain_log2):
    q, k, v = spikes(1), spikes(2), spikes(3)
    seed = 1234
    sampler = LfsrSampler(seed=seed, first_index=first_index)
    got = sampler.ssa(layer, *(torch.from_numpy(x).float() for x in (q, k, v)), gain_log2)
    call_seed = (layer_seed(seed, layer) + first_index * SHAPE[2]) % 2**32
    expected = emulate(q, k, v, SSAConfig.for_spikes(q.shape, seed=call_seed, mode="lfsr", gain_log2=gain_log2))
    assert np.array_equal(got.numpy().astype(np.uint8), expected)
    if gain_log2:  # the gain changes the spikes (more of them)
        ungained = emulate(q, k, v, SSAConfig.for_spikes(q.shape, seed=call_seed, mode="lfsr"))
        assert expected.sum() > ungained.sum()


@pytest.mark.parametrize("gain_log2", [0, 2])
def test_threaded_lfsr_attention_equals_one_call(gain_log2):
    q, k, v = spikes(4), spikes(5), spikes(6)
    single = lfsr_attention(q, k, v, seed=2**32 - 3, threads=1, gain_log2=gain_log2)
    assert np.array_equal(lfsr_attention(q, k, v, seed=2**32 - 3, threads=3, gain_log2=gain_log2), single)
    assert np.array_equal(single, emulate(q, k, v, SSAConfig.for_spikes(q.shape, seed=2**32 - 3, gain_log2=gain_log2)))


def test_ideal_gain_is_the_contract_ideal_encoder():
    """``min(1, 2^g·count/M)`` drawn against u spikes exactly where the contract's ideal encoder ``u·M < count·2^g`` does."""
    m = 12
    count = torch.arange(m + 1, dtype=torch.float64).repeat(4000)
    u = torch.rand(count.shape, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    for g in range(GAIN_LOG2_MAX + 1):
        trained = (u < gained(count / m, g)).numpy().astype(np.uint8)
        np.testing.assert_array_equal(trained, encode_ideal(count.numpy().astype(np.int64), u.numpy(), m, g))


def test_spikformer_and_ann_cores_keep_the_shape():
    q, k, v = (torch.from_numpy(spikes(i)).float() for i in range(3))
    spk = AttentionCore("spikformer", 0)(q, k, v, TorchSampler())
    assert spk.shape == SHAPE and set(spk.unique().tolist()) <= {0.0, 1.0}
    ann = AttentionCore("ann", 0)(q, k, v, TorchSampler())
    assert ann.shape == SHAPE and torch.all(ann <= 1 + 1e-6)


def test_unknown_attention_is_a_config_error():
    with pytest.raises(ConfigError, match="ssa, spikformer, a2os2a, ann"):
        AttentionCore("linear", 0)


def calibrate_batchnorm(model: SpikingViT, images: torch.Tensor) -> None:
    """Set BN running statistics to one batch's, so the untrained model spikes; leave it in eval mode."""
    for m in model.modules():
        if isinstance(m, torch.nn.BatchNorm1d):
            m.momentum = 1.0
    with torch.no_grad():
        model.train()(images)
    model.eval()


def test_lfsr_model_output_does_not_depend_on_the_batch_split():
    torch.manual_seed(0)
    model = SpikingViT(ModelConfig(timesteps=3, embed_dim=16, depth=2, heads=2, mlp_ratio=2))
    images = torch.rand(6, 1, 28, 28)
    calibrate_batchnorm(model, images)
    with torch.no_grad():
        whole = model(images, LfsrSampler(seed=5, first_index=0))
        tail = model(images[4:], LfsrSampler(seed=5, first_index=4))
        other = model(images, LfsrSampler(seed=6, first_index=0))
    assert torch.equal(whole[4:], tail)
    assert not torch.equal(whole, other)
