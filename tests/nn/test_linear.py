"""Linear, Identity, Flatten, Unflatten against PyTorch with weights copied over."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

import gradfit as gf
from gradfit import nn
from oracle import assert_close


def _copy_linear(lin: nn.Linear, bias: bool) -> torch.nn.Linear:
    t = torch.nn.Linear(lin.in_features, lin.out_features, bias=bias)
    with torch.no_grad():
        t.weight.copy_(torch.from_numpy(lin.weight.numpy()))
        if bias:
            t.bias.copy_(torch.from_numpy(lin.bias.numpy()))
    return t


@pytest.mark.parametrize("shape", [(1, 6), (9, 6), (6,), (2, 3, 6)])
@pytest.mark.parametrize("bias", [True, False])
def test_linear_forward_backward_vs_torch(shape, bias):
    lin = nn.Linear(6, 4, bias=bias)
    tl = _copy_linear(lin, bias)
    x = np.random.default_rng(0).standard_normal(shape).astype(np.float32)
    gx = gf.tensor(x, requires_grad=True)
    tx = torch.tensor(x, requires_grad=True)
    out, tout = lin(gx), tl(tx)
    assert out.dtype == np.float32
    assert_close(out, tout, rtol=1e-5, atol=1e-6)
    w = np.random.default_rng(1).standard_normal(out.shape).astype(np.float32)
    (out * gf.tensor(w)).sum().backward()
    (tout * torch.tensor(w)).sum().backward()
    assert_close(gx.grad, tx.grad, rtol=1e-5, atol=1e-5)
    assert_close(lin.weight.grad, tl.weight.grad, rtol=1e-5, atol=1e-5)
    if bias:
        assert_close(lin.bias.grad, tl.bias.grad, rtol=1e-5, atol=1e-5)


def test_linear_gradcheck_float64_layer():
    lin = nn.Linear(3, 2, dtype="float64")
    x = gf.randn(4, 3, dtype="float64", requires_grad=True)
    assert gf.gradcheck(lambda a, w, b: nn.functional.linear(a, w, b), [x, lin.weight, lin.bias])


def test_linear_default_init_statistics_match_torch():
    fan_in = 400
    lin = nn.Linear(fan_in, 500)
    ref = torch.nn.Linear(fan_in, 500)
    bound = 1 / math.sqrt(fan_in)  # kaiming_uniform_(a=sqrt(5)) gives U(-1/sqrt(fan_in), ...)
    w = lin.weight.numpy()
    assert np.abs(w).max() <= bound
    # std of U(-b, b) is b / sqrt(3); compare with torch's sample within sampling error
    se = bound / math.sqrt(3) / math.sqrt(w.size) * 3
    assert abs(w.std() - ref.weight.detach().numpy().std()) < 5 * se
    assert abs(w.mean()) < 5 * bound / math.sqrt(3) / math.sqrt(w.size)
    b = lin.bias.numpy()
    assert np.abs(b).max() <= bound and b.std() > 0.4 * bound


def test_linear_init_is_seeded():
    gf.manual_seed(3)
    a = nn.Linear(5, 5).weight.numpy().copy()
    gf.manual_seed(3)
    b = nn.Linear(5, 5).weight.numpy()
    np.testing.assert_array_equal(a, b)


def test_linear_wrong_shape_names_the_layer():
    lin = nn.Linear(784, 128)
    with pytest.raises(ValueError) as info:
        lin(gf.zeros(32, 100))
    assert str(info.value) == (
        "Linear(in_features=784, out_features=128, bias=True): expected input (*, 784), got (32, 100)"
    )
    with pytest.raises(TypeError, match="float64 but the layer's weights are float32"):
        lin(gf.zeros(2, 784, dtype="float64"))
    with pytest.raises(ValueError, match="in_features must be a non-negative integer"):
        nn.Linear(2.5, 3)


def test_identity_flatten_unflatten():
    x = gf.randn(2, 3, 4, 5, requires_grad=True)
    assert nn.Identity(1, k=2)(x) is x
    y = nn.Flatten()(x)
    assert y.shape == (2, 60)
    assert nn.Flatten(0, 2)(x).shape == (24, 5)
    z = nn.Unflatten(1, (3, 4, 5))(y)
    np.testing.assert_array_equal(z.numpy(), x.numpy())
    assert nn.Unflatten(1, (-1, 5))(y).shape == (2, 12, 5)
    z.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), np.ones(x.shape, np.float32))
    t = torch.randn(2, 60)
    assert (
        tuple(torch.nn.Unflatten(1, (3, 4, 5))(t).shape)
        == nn.Unflatten(1, (3, 4, 5))(gf.tensor(t.numpy())).shape
    )
    with pytest.raises(
        ValueError, match=r"Unflatten\(dim=1, unflattened_size=\(7, 2\)\): expected input"
    ):
        nn.Unflatten(1, (7, 2))(y)
    assert repr(nn.Flatten()) == "Flatten(start_dim=1, end_dim=-1)"
