"""gf.viz.newton_step / newton_landscape: the Newton step -H^-1 g against torch's Hessian."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import gradfit as gf


def _mlp_and_data(seed=0):
    rng = np.random.default_rng(seed)
    arrays = [rng.standard_normal(s) for s in ((3, 2), (3,), (1, 3), (1,))]
    x, y = rng.standard_normal((12, 2)), rng.standard_normal((12, 1))
    model = gf.nn.Sequential(gf.nn.Linear(2, 3), gf.nn.Tanh(), gf.nn.Linear(3, 1))
    for p, a in zip(model.parameters(), arrays):
        p._data = a.copy()  # float64 weights
    return model, arrays, x, y


def _torch_grad_and_hessian(arrays, x, y):
    sizes = [a.size for a in arrays]

    def loss(flat):
        w1, b1, w2, b2 = (p.reshape(a.shape) for p, a in zip(torch.split(flat, sizes), arrays))
        h = torch.tanh(torch.tensor(x) @ w1.T + b1)
        return torch.nn.functional.mse_loss(h @ w2.T + b2, torch.tensor(y))

    flat = torch.tensor(np.concatenate([a.ravel() for a in arrays]), requires_grad=True)
    (g,) = torch.autograd.grad(loss(flat), flat)
    return g.numpy(), torch.autograd.functional.hessian(loss, flat.detach()).numpy()


def test_exact_newton_step_equals_torch_and_leaves_the_model_alone():
    model, arrays, x, y = _mlp_and_data()
    X, Y = gf.tensor(x), gf.tensor(y)
    model.train()
    s = gf.viz.newton_step(model, lambda m: gf.nn.functional.mse_loss(m(X), Y), lr=0.3)
    g, H = _torch_grad_and_hessian(arrays, x, y)
    np.testing.assert_allclose(s.gradient, -0.3 * g, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(s.newton, -np.linalg.solve(H, g), rtol=1e-7, atol=1e-9)
    assert s.method == "exact" and s.iterations == g.size and s.residual < 1e-8
    assert s.negative_curvature == bool(np.linalg.eigvalsh(H).min() <= 0)
    assert model.training and all(p.grad is None for p in model.parameters())
    for p, a in zip(model.parameters(), arrays):
        np.testing.assert_array_equal(p.numpy(), a)


def test_conjugate_gradients_match_the_exact_step_on_a_convex_loss():
    rng = np.random.default_rng(1)
    X = gf.tensor(rng.standard_normal((40, 5)) * [3.0, 1.0, 1.0, 0.5, 0.2])
    y = gf.tensor(rng.integers(0, 2, (40, 1)).astype(np.float64))
    model = gf.nn.Linear(5, 1).double()

    def loss_fn(m):  # logistic loss + L2: a positive definite Hessian
        reg = sum((p * p).sum() for p in m.parameters())
        return gf.nn.functional.binary_cross_entropy_with_logits(m(X), y) + 0.01 * reg

    exact = gf.viz.newton_step(model, loss_fn, lr=0.1, method="exact")
    cg = gf.viz.newton_step(model, loss_fn, lr=0.1, method="cg", tol=1e-12)
    assert not exact.negative_curvature and not cg.negative_curvature
    # about n = 6 CG steps (a few more for rounding) and one product for the residual
    assert cg.method == "cg" and cg.iterations <= 10 and cg.residual < 1e-10
    np.testing.assert_allclose(cg.newton, exact.newton, rtol=1e-8, atol=1e-10)
    damped = gf.viz.newton_step(model, loss_fn, lr=0.1, method="cg", damping=1e3)
    # -(H + 1000 I)^-1 g is nearly -g / 1000 = (-lr g) / lr / 1000
    np.testing.assert_allclose(damped.newton, damped.gradient / 0.1 / 1e3, rtol=0.05)


def test_negative_curvature_is_reported():
    model = gf.nn.Linear(2, 1, bias=False).double()
    with gf.no_grad():
        model.weight.copy_(gf.tensor([[1.0, 1.0]], dtype=gf.float64))
    c = gf.tensor([[1.0, -1.0]], dtype=gf.float64)

    def saddle(m):
        return (c * m.weight**2).sum()  # H = diag(2, -2)

    for method in ("exact", "cg"):
        assert gf.viz.newton_step(model, saddle, lr=0.1, method=method).negative_curvature
    np.testing.assert_allclose(gf.viz.newton_step(model, saddle, lr=0.1).newton, [-1.0, -1.0])


def test_landscape_plane_holds_both_steps():
    model, _, x, y = _mlp_and_data(2)
    X, Y = gf.tensor(x), gf.tensor(y)

    def loss_fn(m):
        return gf.nn.functional.mse_loss(m(X), Y)

    a, b, Z, arrows, s = gf.viz.newton_landscape(model, loss_fn, lr=0.5, steps=7)
    assert arrows["gradient"][0] == pytest.approx(np.linalg.norm(s.gradient))
    assert np.hypot(*arrows["newton"]) == pytest.approx(np.linalg.norm(s.newton))
    with gf.no_grad():
        assert Z[3, 3] == loss_fn(model).item()  # the centre is the weights themselves
    assert max(abs(a[0]), abs(b[0])) >= max(abs(v) for xy in arrows.values() for v in xy)
    fig = gf.viz.plot_newton_landscape(a, b, Z, arrows, s)
    ax = fig.axes[0]
    tips = [t.xy for t in ax.texts]
    assert tips == [arrows["gradient"], arrows["newton"]]


def test_given_directions_project_the_steps():
    model = gf.nn.Linear(1, 1).double()  # weight and bias: a 2-D weight space
    X = gf.tensor([[1.0], [2.0], [3.0]], dtype=gf.float64)
    Y = gf.tensor([[1.0], [0.0], [2.0]], dtype=gf.float64)

    def loss_fn(m):
        return gf.nn.functional.mse_loss(m(X), Y)

    e1, e2 = np.array([2.0, 0.0]), np.array([0.0, 1.0])
    _, _, _, arrows, s = gf.viz.newton_landscape(model, loss_fn, 0.1, directions=(e1, e2), steps=3)
    assert arrows["newton"] == pytest.approx((s.newton[0] / 2, s.newton[1]))
    assert arrows["gradient"] == pytest.approx((s.gradient[0] / 2, s.gradient[1]))


def test_bad_arguments():
    model = gf.nn.Linear(2, 1)
    X, Y = gf.randn(4, 2), gf.randn(4, 1)

    def loss_fn(m):
        return gf.nn.functional.mse_loss(m(X), Y)

    with pytest.raises(ValueError, match="lr"):
        gf.viz.newton_step(model, loss_fn, lr=0)
    with pytest.raises(ValueError, match="method"):
        gf.viz.newton_step(model, loss_fn, lr=0.1, method="bfgs")
    with pytest.raises(ValueError, match="no_grad"), gf.no_grad():
        gf.viz.newton_step(model, lambda m: loss_fn(m).detach(), lr=0.1)
