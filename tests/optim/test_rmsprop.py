"""RMSprop against torch.optim.RMSprop step by step, and its validation."""

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
        {},
        {"lr": 0.01, "alpha": 0.9},
        {"lr": 0.01, "centered": True},
        {"lr": 0.005, "momentum": 0.9},
        {"lr": 0.005, "momentum": 0.8, "centered": True, "weight_decay": 0.1},
        {"lr": 0.01, "weight_decay": 0.2, "eps": 1e-3},
        {"lr": 0.01, "maximize": True, "momentum": 0.5},
        {"lr": 0.01, "alpha": 0.0},
    ],
    ids=lambda k: ",".join(f"{a}={b}" for a, b in k.items()) or "defaults",
)
def test_rmsprop_follows_torch(kwargs):
    follow_torch(gf.optim.RMSprop, torch.optim.RMSprop, kwargs)


def test_rmsprop_param_groups_follow_torch():
    groups = [([0], {"centered": True}), ([1, 2], {"lr": 0.001, "momentum": 0.9})]
    follow_torch(gf.optim.RMSprop, torch.optim.RMSprop, {"lr": 0.01}, groups=groups)


@pytest.mark.parametrize(
    ("kwargs", "bad"),
    [
        ({"lr": -0.01}, "lr"),
        ({"alpha": -0.1}, "alpha"),
        ({"alpha": 1.1}, "alpha"),
        ({"eps": -1e-8}, "eps"),
        ({"momentum": -0.1}, "momentum"),
        ({"momentum": 1.0}, "momentum"),
        ({"weight_decay": -1.0}, "weight_decay"),
    ],
)
def test_rmsprop_rejects_bad_hyperparameters(kwargs, bad):
    with pytest.raises(ValueError, match=f"RMSprop.*{bad}"):
        gf.optim.RMSprop([gf.zeros(2, requires_grad=True)], **kwargs)


def test_rmsprop_converges_on_quadratic():
    target = np.array([1.0, -2.0])
    w = gf.tensor([-3.0, 4.0], dtype="float64", requires_grad=True)
    opt = gf.optim.RMSprop([w], lr=0.05, momentum=0.5, centered=True)
    sched = gf.optim.lr_scheduler.StepLR(opt, step_size=300, gamma=0.1)
    for _ in range(900):
        opt.zero_grad()
        ((w - gf.tensor(target)) ** 2).sum().backward()
        opt.step()
        sched.step()
    assert np.linalg.norm(w.data - target) < 1e-6
