"""Adam against torch.optim.Adam step by step, its validation, and convergence."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import gradfit as gf

SHAPES = [(3, 4), (5,), ()]


def _problem(seed: int, shapes=SHAPES):
    """Initial weights and a convex quadratic 0.5 p'Ap + b'p per parameter (float64)."""
    rng = np.random.default_rng(seed)
    inits, quads = [], []
    for s in shapes:
        n = int(np.prod(s))
        m = rng.standard_normal((n, n))
        quads.append((m @ m.T / n + 0.5 * np.eye(n), rng.standard_normal(n)))
        inits.append(rng.standard_normal(s))
    return inits, quads, rng


def _grad(arr, quad, noise):
    a, b = quad
    return (a @ arr.reshape(-1) + b).reshape(arr.shape) + noise


def follow_torch(gf_cls, torch_cls, kwargs, steps=50, seed=0, groups=None):
    """Feed both libraries the same gradients for ``steps`` steps; compare after each step."""
    inits, quads, rng = _problem(seed)
    gp = [gf.tensor(a.copy(), requires_grad=True) for a in inits]
    tp = [torch.tensor(a.copy(), requires_grad=True) for a in inits]
    if groups is None:
        gopt, topt = gf_cls(gp, **kwargs), torch_cls(tp, foreach=False, **kwargs)
    else:
        gopt = gf_cls([dict(g, params=[gp[i] for i in idx]) for idx, g in groups], **kwargs)
        topt = torch_cls(
            [dict(g, params=[tp[i] for i in idx]) for idx, g in groups], foreach=False, **kwargs
        )
    for step in range(steps):
        for g, t, q in zip(gp, tp, quads, strict=True):
            noise = 0.1 * rng.standard_normal(g.shape)
            g.grad = gf.tensor(_grad(g.data, q, noise))
            t.grad = torch.tensor(_grad(t.detach().numpy(), q, noise))
        gopt.step()
        topt.step()
        for i, (g, t) in enumerate(zip(gp, tp, strict=True)):
            np.testing.assert_allclose(
                g.data, t.detach().numpy(), rtol=0, atol=1e-5, err_msg=f"param {i}, step {step}"
            )
    return gp, tp


@pytest.mark.parametrize(
    "kwargs",
    [
        {"lr": 0.01},
        {"lr": 0.05, "betas": (0.8, 0.99), "eps": 1e-6},
        {"lr": 0.01, "amsgrad": True},
        {"lr": 0.01, "weight_decay": 0.1},
        {"lr": 0.01, "maximize": True},
        {"lr": 0.02, "amsgrad": True, "weight_decay": 0.05, "maximize": True},
        {"lr": 0.01, "weight_decay": 0.1, "decoupled_weight_decay": True},
        {"lr": 0.01, "betas": (0.0, 0.0)},
    ],
    ids=lambda k: ",".join(f"{a}={b}" for a, b in k.items()),
)
def test_adam_follows_torch(kwargs):
    follow_torch(gf.optim.Adam, torch.optim.Adam, kwargs)


def test_adam_param_groups_with_different_options_follow_torch():
    groups = [([0, 2], {"lr": 0.05, "amsgrad": True}), ([1], {"lr": 0.001, "betas": (0.5, 0.9)})]
    follow_torch(gf.optim.Adam, torch.optim.Adam, {"lr": 0.01}, groups=groups)


@pytest.mark.parametrize(
    ("kwargs", "bad"),
    [
        ({"lr": -1e-3}, "lr"),
        ({"betas": (1.0, 0.999)}, "beta1"),
        ({"betas": (-0.1, 0.999)}, "beta1"),
        ({"betas": (0.9, 1.0)}, "beta2"),
        ({"betas": (0.9,)}, "betas"),
        ({"eps": -1e-8}, "eps"),
        ({"weight_decay": -0.1}, "weight_decay"),
    ],
)
def test_adam_rejects_bad_hyperparameters(kwargs, bad):
    with pytest.raises(ValueError, match=bad):
        gf.optim.Adam([gf.zeros(2, requires_grad=True)], **kwargs)


# ----------------------------------------------------------------------------- convergence
def _minimize(opt_factory, loss_fn, x0, steps):
    w = gf.tensor(np.array(x0, dtype=np.float64), requires_grad=True)
    opt = opt_factory([w])
    for _ in range(steps):
        opt.zero_grad()
        loss_fn(w).backward()
        opt.step()
    return w, float(loss_fn(w).item())


def _quadratic():
    """f(w) = 0.5 (w - w*)' A (w - w*), A with eigenvalues 1 and 10; minimum at w*."""
    a = np.array([[5.5, 4.5], [4.5, 5.5]])
    target = np.array([1.0, -2.0])
    at, tt = gf.tensor(a), gf.tensor(target)

    def f(w):
        d = w - tt
        return 0.5 * (d * (at @ d)).sum()

    return f, target


def rosenbrock(w):
    x, y = w[0], w[1]
    return (1 - x) ** 2 + 100 * (y - x * x) ** 2


def test_adam_reaches_minimum_of_quadratic():
    f, target = _quadratic()
    w, loss = _minimize(lambda p: gf.optim.Adam(p, lr=0.05), f, [-3.0, 4.0], 600)
    assert np.linalg.norm(w.data - target) < 1e-5
    assert loss < 1e-10


def test_adam_makes_progress_on_rosenbrock():
    start = rosenbrock(gf.tensor([-1.5, 2.0])).item()
    w, loss = _minimize(lambda p: gf.optim.Adam(p, lr=0.02), rosenbrock, [-1.5, 2.0], 2000)
    assert loss < 0.01 * start
    assert np.linalg.norm(w.data - 1.0) < 0.5
