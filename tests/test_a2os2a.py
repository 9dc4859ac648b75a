"""A²OS²A (binary Q, ReLU K, ternary V, no softmax, no scaling): neurons, core, model and numpy runtime."""
import numpy as np
import pytest
from extras import require

torch = require("torch")
require("brevitas")

from ssa.model import SpikingViT as NumpyViT  # noqa: E402
from ssa.model.bundle import save_bundle  # noqa: E402
from ssa.model.coding import ternary_lif_multistep  # noqa: E402
from ssa_quantize.attention import A2OS2A_THRESHOLD, AttentionCore, TorchSampler, addition_only_scores  # noqa: E402
from ssa_quantize.export import bundle_arrays, write_bundle  # noqa: E402
from ssa_quantize.model import ModelConfig, SpikingViT  # noqa: E402
from ssa_quantize.neurons import MultiStepLIF, MultiStepTernaryLIF, ReLUPath  # noqa: E402
from tiny_models import assert_runtime_matches_torch, tiny_config, tiny_trained  # noqa: E402

SEED = 5


def test_ternary_lif_hand_computed():
    # tau 2, thr 1: H = 0.75 (0, V 0.75), 1.125 (+1, V 0), 0 (0), -1.25 (-1, V 0), -0.5 (0, V -0.5), -1.25 (-1)
    x = torch.tensor([1.5, 1.5, 0.0, -2.5, -1.0, -2.0]).reshape(6, 1)
    assert MultiStepTernaryLIF()(x).flatten().tolist() == [0.0, 1.0, 0.0, -1.0, 0.0, -1.0]
    assert ternary_lif_multistep(x.numpy(), 2.0, 1.0).flatten().tolist() == [0.0, 1.0, 0.0, -1.0, 0.0, -1.0]


def test_ternary_lif_numpy_equals_torch_and_is_ternary():
    x = torch.randn(5, 4, 9) * 3
    got = MultiStepTernaryLIF()(x).numpy()
    assert set(np.unique(got)) <= {-1.0, 0.0, 1.0} and (got == -1).any() and (got == 1).any()
    np.testing.assert_array_equal(ternary_lif_multistep(x.numpy(), 2.0, 1.0), got)


def test_ternary_surrogate_passes_gradient_on_both_sides():
    x = torch.tensor([[1.8, -1.8, 0.0]], requires_grad=True)  # one step: H = 0.9, -0.9, 0
    MultiStepTernaryLIF()(x).sum().backward()
    # d/dH [S] = atan'(H - 1) + atan'(-H - 1): the near threshold dominates, symmetric in the sign of H
    assert x.grad[0, 0].item() == pytest.approx(x.grad[0, 1].item())
    assert x.grad[0, 0].item() > 2 * x.grad[0, 2].item() > 0


def test_relu_path_is_real_valued_and_non_negative():
    x = torch.tensor([-1.5, 0.0, 0.25, 3.0], requires_grad=True)
    y = ReLUPath()(x)
    assert y.tolist() == [0.0, 0.0, 0.25, 3.0]
    y.sum().backward()
    assert x.grad.tolist() == [0.0, 0.0, 1.0, 1.0]


def test_addition_only_scores_hand_computed():
    q = torch.tensor([[1.0, 0.0], [1.0, 1.0]])
    k = torch.tensor([[0.5, 2.0], [1.0, 0.0]])
    v = torch.tensor([[1.0, -1.0], [0.0, 1.0]])
    # Q Kᵀ = [[0.5, 1], [2.5, 1]] (sums of selected K entries); (Q Kᵀ) V adds or subtracts whole rows
    assert addition_only_scores(q, k, v).tolist() == [[0.5, 0.5], [2.5, -1.5]]


def test_a2os2a_core_spikes_with_its_lif():
    g = torch.Generator().manual_seed(0)
    q = (torch.rand(3, 2, 2, 4, 8, generator=g) < 0.5).float()
    k = torch.rand(3, 2, 2, 4, 8, generator=g)
    v = torch.randint(-1, 2, (3, 2, 2, 4, 8), generator=g).float()
    out = AttentionCore("a2os2a", 0)(q, k, v, TorchSampler())
    want = MultiStepLIF(v_threshold=A2OS2A_THRESHOLD)((q @ k.transpose(-1, -2)) @ v)
    assert torch.equal(out, want) and out.sum() > 0


def test_model_uses_binary_q_relu_k_ternary_v():
    model = SpikingViT(ModelConfig(attention="a2os2a", timesteps=2, image_size=8, patch=4, embed_dim=8, depth=1, heads=2))
    layer = model.layers[0]
    assert isinstance(layer.q.neuron, MultiStepLIF)
    assert isinstance(layer.k.neuron, ReLUPath)
    assert isinstance(layer.v.neuron, MultiStepTernaryLIF)


def tiny_bundle(kind: str, tmp_path_factory):
    """A tiny model of attention ``kind`` after a few training steps, and its bundle."""
    model = tiny_trained(tiny_config(kind))
    path = write_bundle(model, tmp_path_factory.mktemp(kind) / "bundle.npz", seed=SEED, dataset="fashion-mnist")
    return model, path


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    return tiny_bundle("a2os2a", tmp_path_factory)


@pytest.mark.parametrize("kind", ["a2os2a", "spikformer"])
def test_numpy_runtime_matches_torch_for_each_deterministic_kind(kind, trained, tmp_path_factory):
    """As tests/test_model_numpy.py for ssa: the bundle's numpy run equals torch's hardware-exact evaluation."""
    model, path = trained if kind == "a2os2a" else tiny_bundle(kind, tmp_path_factory)
    got = assert_runtime_matches_torch(model, path, SEED, first_index=7)
    assert len(np.unique(got.argmax(1))) >= 1 and np.abs(got).max() > 0


def test_a2os2a_bundle_without_its_section_is_refused(tmp_path, trained):
    from ssa.errors import BundleError

    model, _ = trained
    path = save_bundle(tmp_path / "a.npz", {"model": model.config.to_dict(), "seed": 1}, bundle_arrays(model))
    with pytest.raises(BundleError, match="a2os2a_attention"):
        NumpyViT.from_bundle(path)
