"""nn.utils against torch.nn.utils: clipping, vectors, penalties, decay groups."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import gradfit as gf
from gradfit import nn
from gradfit.nn import utils


def _pair_with_grads(seed=0):
    rng = np.random.default_rng(seed)
    arrays = [rng.standard_normal(s).astype(np.float32) * 3 for s in [(3, 4), (4,), (2, 2)]]
    ours = [gf.tensor(a, requires_grad=True) for a in arrays]
    theirs = [torch.tensor(a, requires_grad=True) for a in arrays]
    for o, t, a in zip(ours, theirs, arrays):
        g = rng.standard_normal(a.shape).astype(np.float32)
        o.grad = gf.tensor(g)
        t.grad = torch.tensor(g)
    return ours, theirs


@pytest.mark.parametrize("norm_type", [2.0, 1.0, 3.0, float("inf")])
@pytest.mark.parametrize("max_norm", [0.5, 1e3])
def test_clip_grad_norm_matches_torch(norm_type, max_norm):
    ours, theirs = _pair_with_grads()
    n1 = utils.clip_grad_norm_(ours, max_norm, norm_type)
    n2 = torch.nn.utils.clip_grad_norm_(theirs, max_norm, norm_type)
    assert float(n1) == pytest.approx(float(n2), rel=1e-5)
    for o, t in zip(ours, theirs):
        np.testing.assert_allclose(o.grad.numpy(), t.grad.numpy(), rtol=1e-5, atol=1e-6)
        assert o.grad.dtype == np.float32


def test_clip_grad_norm_nonfinite_and_value():
    ours, theirs = _pair_with_grads(1)
    utils.clip_grad_value_(ours, 0.5)
    torch.nn.utils.clip_grad_value_(theirs, 0.5)
    for o, t in zip(ours, theirs):
        np.testing.assert_array_equal(o.grad.numpy(), t.grad.numpy())
    ours[0].grad.data[0, 0] = np.inf
    with pytest.raises(RuntimeError, match="error_if_nonfinite"):
        utils.clip_grad_norm_(ours, 1.0, error_if_nonfinite=True)


def test_parameters_vector_round_trip():
    net = nn.Sequential(nn.Linear(3, 4), nn.Linear(4, 2))
    vec = utils.parameters_to_vector(net.parameters())
    assert vec.shape == (26,)
    expected = np.concatenate([p.numpy().ravel() for p in net.parameters()])
    np.testing.assert_array_equal(vec.numpy(), expected)
    utils.vector_to_parameters(vec * 2, net.parameters())
    np.testing.assert_array_equal(
        utils.parameters_to_vector(net.parameters()).numpy(), 2 * expected
    )
    with pytest.raises(ValueError, match="26 elements"):
        utils.vector_to_parameters(gf.zeros(5), net.parameters())


def test_penalties_values_and_gradients():
    w = gf.tensor([[1.0, -2.0], [0.5, 3.0]], requires_grad=True)
    b = gf.tensor([-1.0, 0.0], requires_grad=True)
    l2 = utils.l2_penalty([w, b])
    assert l2.item() == pytest.approx(1 + 4 + 0.25 + 9 + 1)
    l2.backward()
    np.testing.assert_array_equal(w.grad.numpy(), 2 * w.numpy())
    w.grad = b.grad = None
    l1 = utils.l1_penalty([w, b])
    assert l1.item() == pytest.approx(7.5)
    l1.backward()
    np.testing.assert_array_equal(w.grad.numpy(), np.sign(w.numpy()))


def test_param_groups_weight_decay():
    class Norm(nn.Module):  # a normalisation layer by name: its 2-D weight is still undecayed
        def __init__(self):
            super().__init__()
            self.weight = nn.Parameter(gf.ones(2, 2))

    LayerNormLike = type("LayerNormLike", (Norm,), {})
    model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), LayerNormLike(), nn.Linear(8, 2, bias=False))
    decay, no_decay = utils.param_groups_weight_decay(model, 0.05)
    assert decay["weight_decay"] == 0.05 and no_decay["weight_decay"] == 0.0
    ids = lambda ps: {id(p) for p in ps}
    assert ids(decay["params"]) == {id(model[0].weight), id(model[3].weight)}
    assert ids(no_decay["params"]) == {id(model[0].bias), id(model[2].weight)}
