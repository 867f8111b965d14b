"""gf.viz curvature: the top Hessian eigenvalue by power iteration vs the exact Hessian (torch)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import gradfit as gf


def _tiny_mlp_arrays(rng):
    return [
        rng.standard_normal((4, 2)),
        rng.standard_normal(4),
        rng.standard_normal((1, 4)),
        rng.standard_normal(1),
    ]


def test_top_eigenvalue_matches_the_exact_hessian():
    rng = np.random.default_rng(0)
    arrays = _tiny_mlp_arrays(rng)
    x, y = rng.standard_normal((10, 2)), rng.standard_normal((10, 1))
    model = gf.nn.Sequential(gf.nn.Linear(2, 4), gf.nn.Tanh(), gf.nn.Linear(4, 1))
    for p, a in zip(model.parameters(), arrays):
        p._data = a.copy()  # float64 weights
    lam = gf.viz.top_hessian_eigenvalue(
        model, gf.nn.functional.mse_loss, gf.tensor(x), gf.tensor(y), iters=300, tol=1e-10
    )

    sizes = [a.size for a in arrays]

    def loss(flat):
        parts = torch.split(flat, sizes)
        w1, b1, w2, b2 = (p.reshape(a.shape) for p, a in zip(parts, arrays))
        h = torch.tanh(torch.tensor(x) @ w1.T + b1)
        return torch.nn.functional.mse_loss(h @ w2.T + b2, torch.tensor(y))

    flat = torch.tensor(np.concatenate([a.ravel() for a in arrays]))
    eig = np.linalg.eigvalsh(torch.autograd.functional.hessian(loss, flat).numpy())
    top = eig[np.argmax(np.abs(eig))]
    assert lam == pytest.approx(top, rel=1e-4)
    assert all(p.grad is None for p in model.parameters())


def test_sharpness_series_and_plot():
    gf.manual_seed(0)
    model = gf.nn.Linear(3, 1)
    x, y = gf.randn(16, 3), gf.randn(16, 1)
    before = model.weight.detach().clone()
    s = gf.viz.sharpness_during_training(
        model, gf.nn.functional.mse_loss, x, y, lr=0.05, steps=6, every=3, iters=10
    )
    assert s.steps == [0, 3, 6] and len(s.sharpness) == 3 and len(s.loss) == 3
    assert s.loss[-1] < s.loss[0]
    assert not np.allclose(model.weight.detach().numpy(), before.numpy())
    # a linear model's mse Hessian does not depend on the weights
    assert np.allclose(s.sharpness, s.sharpness[0], rtol=1e-3)
    fig = gf.viz.plot_sharpness(s)
    ax = fig.axes[0]
    assert ax.lines[0].get_ydata().tolist() == s.sharpness
    assert ax.lines[1].get_ydata()[0] == pytest.approx(2 / 0.05)


def test_bad_arguments():
    model = gf.nn.Linear(2, 1)
    x, y = gf.randn(4, 2), gf.randn(4, 1)
    with pytest.raises(ValueError, match="iters"):
        gf.viz.top_hessian_eigenvalue(model, gf.nn.functional.mse_loss, x, y, iters=0)
    with pytest.raises(ValueError, match="lr"):
        gf.viz.sharpness_during_training(model, gf.nn.functional.mse_loss, x, y, lr=0.0)
