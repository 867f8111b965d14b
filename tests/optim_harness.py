"""Shared harness for the optimizer tests: torch step-by-step comparison and convergence problems.

Imported by bare name from ``tests/optim/test_*.py`` (``pythonpath = ["tests"]``).
"""

from __future__ import annotations

import numpy as np
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


def follow_torch(
    gf_cls, torch_cls, kwargs, steps=50, seed=0, groups=None, dtype="float64", atol=None
):
    """Feed both libraries the same gradients for ``steps`` steps; compare after each step."""
    inits, quads, rng = _problem(seed)
    inits = [a.astype(dtype) for a in inits]
    if atol is None:
        atol = 1e-5 if dtype == "float64" else 1e-4
    rtol = 0 if dtype == "float64" else 1e-5  # float32 runs that diverge (maximize) grow large
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
            g.grad = gf.tensor(_grad(g._data, q, noise).astype(dtype))
            t.grad = torch.tensor(_grad(t.detach().numpy(), q, noise).astype(dtype))
        gopt.step()
        topt.step()
        for i, (g, t) in enumerate(zip(gp, tp, strict=True)):
            assert g._data.dtype == np.dtype(dtype)
            np.testing.assert_allclose(
                g._data, t.detach().numpy(), rtol=rtol, atol=atol, err_msg=f"param {i}, step {step}"
            )
    return gp, tp


def kwargs_id(kwargs: dict) -> str:
    """A readable pytest id for a dict of optimizer options ("defaults" when empty)."""
    return ",".join(f"{a}={b}" for a, b in kwargs.items()) or "defaults"


# ----------------------------------------------------------------------------- convergence
def minimize(opt_factory, loss_fn, x0, steps):
    """Run ``steps`` optimizer steps on ``loss_fn`` from ``x0``; return the weight and final loss."""
    w = gf.tensor(np.array(x0, dtype=np.float64), requires_grad=True)
    opt = opt_factory([w])
    for _ in range(steps):
        opt.zero_grad()
        loss_fn(w).backward()
        opt.step()
    return w, float(loss_fn(w).item())


def quadratic():
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
