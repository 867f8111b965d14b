"""AdamW against torch.optim.AdamW step by step, and its validation."""

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
        {"lr": 0.01},
        {"lr": 0.01, "weight_decay": 0.3},
        {"lr": 0.01, "weight_decay": 0.0},
        {"lr": 0.02, "amsgrad": True, "weight_decay": 0.1},
        {"lr": 0.01, "maximize": True, "weight_decay": 0.05},
        {"lr": 0.05, "betas": (0.7, 0.95), "eps": 1e-4},
    ],
    ids=lambda k: ",".join(f"{a}={b}" for a, b in k.items()) or "defaults",
)
def test_adamw_follows_torch(kwargs):
    follow_torch(gf.optim.AdamW, torch.optim.AdamW, kwargs)


def test_adamw_param_groups_follow_torch():
    groups = [([0], {"weight_decay": 0.0}), ([1, 2], {"lr": 0.05, "weight_decay": 0.5})]
    follow_torch(gf.optim.AdamW, torch.optim.AdamW, {"lr": 0.01}, groups=groups)


def test_adamw_decay_is_decoupled_from_the_gradient():
    """With a zero gradient AdamW still shrinks the weights by lr * weight_decay; Adam does not."""
    w1 = gf.tensor([2.0, -4.0], dtype="float64", requires_grad=True)
    w2 = gf.tensor([2.0, -4.0], dtype="float64", requires_grad=True)
    adamw = gf.optim.AdamW([w1], lr=0.1, weight_decay=0.5)
    adam = gf.optim.Adam([w2], lr=0.1, weight_decay=0.5)
    w1.grad = gf.zeros(2, dtype="float64")
    w2.grad = gf.zeros(2, dtype="float64")
    adamw.step()
    adam.step()
    np.testing.assert_allclose(w1.data, [2.0 * 0.95, -4.0 * 0.95], rtol=1e-12)
    # Adam's L2 term goes through the normalisation: a step of ~lr whatever the weight's size
    np.testing.assert_allclose(w2.data, [1.9, -3.9], rtol=1e-6)


@pytest.mark.parametrize(
    ("kwargs", "bad"),
    [
        ({"lr": -1e-3}, "lr"),
        ({"betas": (1.5, 0.999)}, "beta1"),
        ({"betas": (0.9, -0.1)}, "beta2"),
        ({"eps": -1.0}, "eps"),
        ({"weight_decay": -0.01}, "weight_decay"),
    ],
)
def test_adamw_rejects_bad_hyperparameters(kwargs, bad):
    with pytest.raises(ValueError, match=f"AdamW.*{bad}"):
        gf.optim.AdamW([gf.zeros(2, requires_grad=True)], **kwargs)
