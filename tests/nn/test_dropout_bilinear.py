"""Dropout1d/2d, AlphaDropout and Bilinear: torch's reprs, shapes, statistics, gradients, errors."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import gradfit as gf
import gradfit.nn.functional as F
from oracle import check

rng = np.random.default_rng(3)


@pytest.mark.parametrize(
    "name,shape",
    [
        ("dropout1d", (4, 8, 5)),
        ("dropout1d", (8, 5)),
        ("dropout2d", (4, 8, 3, 3)),
        ("dropout2d", (8, 3, 3)),
    ],
)
def test_channel_dropout(name, shape):
    gf.manual_seed(0)
    x = gf.ones(*shape, requires_grad=True)
    y = getattr(F, name)(x, p=0.4)
    v = y.numpy().reshape(shape[: len(shape) - (1 if name == "dropout1d" else 2)] + (-1,))
    # each channel is all zero or all 1/(1-p)
    assert np.all(v.min(-1) == v.max(-1))
    assert all(np.isclose(u, 0) or np.isclose(u, 1 / 0.6) for u in np.unique(v))
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), y.numpy())
    assert getattr(F, name)(x, 0.4, training=False) is x
    assert float(getattr(F, name)(x, 1.0).abs().sum()) == 0.0


def test_channel_dropout_rate():
    gf.manual_seed(1)
    y = F.dropout2d(gf.ones(200, 50, 1, 1), p=0.3).numpy()
    assert abs((y == 0).mean() - 0.3) < 0.03


def test_channel_dropout_errors():
    with pytest.raises(RuntimeError, match="dropout1d"):
        F.dropout1d(gf.zeros(2, 3, 4, 5))
    with pytest.raises(RuntimeError):
        TF.dropout1d(torch.zeros(2, 3, 4, 5))
    with pytest.raises(ValueError):
        F.dropout2d(gf.zeros(2, 3, 4, 5), p=1.5)
    with pytest.raises(ValueError):
        TF.dropout2d(torch.zeros(2, 3, 4, 5), p=1.5)


def test_alpha_dropout():
    gf.manual_seed(2)
    x = gf.randn(400, 250, requires_grad=True)
    y = F.alpha_dropout(x, 0.2, training=True)
    # keeps zero mean and unit variance of standard normal input, as torch's
    t = TF.alpha_dropout(torch.randn(400, 250), 0.2, training=True)
    assert abs(float(y.mean()) - float(t.mean())) < 0.02
    assert abs(float(y.std()) - float(t.std())) < 0.02
    y.sum().backward()
    a = 1 / np.sqrt((1.7580993408473766**2 * 0.2 + 1) * 0.8)
    u = np.unique(x.grad.numpy())
    assert len(u) == 2 and u[0] == 0 and np.isclose(u[1], a)
    assert F.alpha_dropout(x, 0.2) is x  # functional default training=False, as torch
    assert float(F.alpha_dropout(x, 1.0, True).abs().sum()) == 0.0


@pytest.mark.parametrize("cls", ["Dropout1d", "Dropout2d", "AlphaDropout"])
def test_dropout_modules(cls):
    for args in [(), (0.2,), (0.3, True)]:
        assert repr(getattr(gf.nn, cls)(*args)) == repr(getattr(torch.nn, cls)(*args))
    m = getattr(gf.nn, cls)(0.5).eval()
    x = gf.ones(2, 3, 4, 4) if cls == "Dropout2d" else gf.ones(2, 3, 4)
    assert m(x) is x


@pytest.mark.parametrize("dt", [np.float32, np.float64])
@pytest.mark.parametrize("lead", [(4,), (2, 3), (), (0,)])
def test_bilinear_functional(dt, lead):
    x1, x2 = (
        rng.standard_normal(lead + (3,)).astype(dt),
        rng.standard_normal(lead + (2,)).astype(dt),
    )
    w, b = rng.standard_normal((5, 3, 2)).astype(dt), rng.standard_normal(5).astype(dt)
    check(F.bilinear, TF.bilinear, [x1, x2, w, b])
    check(F.bilinear, TF.bilinear, [x1, x2, w])


def test_bilinear_module_and_gradcheck():
    g, t = gf.nn.Bilinear(3, 2, 4), torch.nn.Bilinear(3, 2, 4)
    assert repr(g) == repr(t)
    assert repr(gf.nn.Bilinear(3, 2, 4, bias=False)) == repr(torch.nn.Bilinear(3, 2, 4, bias=False))
    assert [(k, tuple(v.shape)) for k, v in g.state_dict().items()] == [
        (k, tuple(v.shape)) for k, v in t.state_dict().items()
    ]
    bound = 1 / np.sqrt(3)
    assert np.abs(g.weight.numpy()).max() <= bound and np.abs(g.bias.numpy()).max() <= bound
    args = [
        gf.tensor(rng.standard_normal(s), requires_grad=True)
        for s in [(2, 3), (2, 2), (4, 3, 2), (4,)]
    ]
    assert gf.gradcheck(F.bilinear, args)
    with pytest.raises(RuntimeError, match="bilinear"):
        g(gf.zeros(2, 3), gf.zeros(2, 3))


def test_gumbel_softmax():
    gf.manual_seed(4)
    logits = np.log(np.array([0.1, 0.2, 0.7]))
    x = gf.tensor(np.tile(logits, (4000, 1)), requires_grad=True)
    y = F.gumbel_softmax(x, tau=0.5, hard=True)
    assert set(np.unique(y.numpy())) == {0.0, 1.0}
    np.testing.assert_allclose(y.numpy().sum(-1), 1.0)
    # one-hot samples follow softmax(logits), as torch's
    np.testing.assert_allclose(y.numpy().mean(0), [0.1, 0.2, 0.7], atol=0.03)
    soft = F.gumbel_softmax(gf.tensor(np.zeros((2, 3, 4))), dim=1)
    np.testing.assert_allclose(soft.numpy().sum(1), 1.0, rtol=1e-6)
    # straight-through: the gradient is the soft sample's (torch gives zero here too)
    (y * gf.tensor(np.ones((4000, 3)))).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), 0.0, atol=1e-9)
    assert F.gumbel_softmax(gf.zeros(3, dtype=gf.float32)).dtype == np.float32
    with pytest.raises(TypeError, match="gumbel_softmax"):
        F.gumbel_softmax(gf.tensor([1, 2]))
