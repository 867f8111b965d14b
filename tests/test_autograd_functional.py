"""gf.autograd.functional (vjp, jvp, jacobian, hessian, hvp, vhp) against torch.autograd.functional."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.autograd.functional as TF

import gradfit as gf
from oracle import assert_close

GF = gf.autograd.functional
rng = np.random.default_rng(7)
A, B = rng.standard_normal(3), rng.standard_normal((2, 3))
V_IN = (rng.standard_normal(3), rng.standard_normal((2, 3)))
V_OUT = rng.standard_normal(2)


def vec(x, w):
    return (w @ x).tanh() * x[:2]


def scal(x, w):
    return ((w @ x).sin() ** 2).sum() + (x**3).sum()


def pair(*arrays):
    return tuple(gf.tensor(a.copy()) for a in arrays), tuple(torch.tensor(a.copy()) for a in arrays)


def close_all(a, e):
    if isinstance(e, (tuple, list)):
        assert isinstance(a, (tuple, list)) and len(a) == len(e)
        for x, y in zip(a, e):
            close_all(x, y)
    else:
        assert isinstance(a, gf.Tensor)
        assert_close(a, e, rtol=1e-10, atol=1e-12)


def test_jacobian_tuple_and_single():
    g, t = pair(A, B)
    close_all(GF.jacobian(vec, g), TF.jacobian(vec, t))
    close_all(
        GF.jacobian(lambda x: x.exp() * x.sum(), g[0]),
        TF.jacobian(lambda x: x.exp() * x.sum(), t[0]),
    )
    two = lambda x: (x * 2, x.sin().sum())
    close_all(GF.jacobian(two, g[0]), TF.jacobian(two, t[0]))


def test_hessian_tuple_and_single():
    g, t = pair(A, B)
    close_all(GF.hessian(scal, g), TF.hessian(scal, t))
    f = lambda x: (x.tanh() ** 3).sum()
    close_all(GF.hessian(f, g[0]), TF.hessian(f, t[0]))


@pytest.mark.parametrize("name", ["hvp", "vhp"])
def test_hvp_vhp(name):
    g, t = pair(A, B)
    gv, tv = pair(*V_IN)
    close_all(getattr(GF, name)(scal, g, gv), getattr(TF, name)(scal, t, tv))


def test_vjp_jvp():
    g, t = pair(A, B)
    gv, tv = pair(*V_IN)
    close_all(GF.jvp(vec, g, gv), TF.jvp(vec, t, tv))
    close_all(GF.vjp(vec, g, gf.tensor(V_OUT)), TF.vjp(vec, t, torch.tensor(V_OUT)))
    # a scalar output: v may be None
    close_all(GF.vjp(scal, g), TF.vjp(scal, t))


def test_unused_input_zeros_or_strict_error():
    g, t = pair(A, B)
    f = lambda x, w: x.exp()
    close_all(GF.jacobian(f, g), TF.jacobian(f, t))
    with pytest.raises(RuntimeError, match="independent of input 1"):
        GF.jacobian(f, g, strict=True)


def test_create_graph_keeps_results_differentiable():
    x = gf.tensor(A.copy(), requires_grad=True)
    xt = torch.tensor(A.copy(), requires_grad=True)
    f = lambda x: (x**3).sum()
    h = GF.hessian(f, x, create_graph=True)
    ht = TF.hessian(f, xt, create_graph=True)
    (gx,) = gf.autograd.grad(h.sum(), x)
    (gt,) = torch.autograd.grad(ht.sum(), xt)
    close_all(gx, gt)
    # without create_graph the results are detached
    assert not GF.hessian(f, x).requires_grad


def test_hvp_on_mlp_loss_matches_torch():
    r = np.random.default_rng(2)
    ws = [r.standard_normal((4, 3)), r.standard_normal(4), r.standard_normal((1, 4))]
    vs = [r.standard_normal(w.shape) for w in ws]
    x, y = r.standard_normal((5, 3)), r.standard_normal((5, 1))

    def loss_of(lib):
        F = gf.nn.functional if lib is gf else torch.nn.functional
        mod = gf if lib is gf else torch

        def loss(w1, b1, w2):
            h = F.linear(mod.tensor(x), w1, b1).tanh()
            return F.mse_loss(F.linear(h, w2), mod.tensor(y))

        return loss

    gw, tw = pair(*ws)
    gv, tv = pair(*vs)
    close_all(GF.hvp(loss_of(gf), gw, gv), TF.hvp(loss_of(torch), tw, tv))


def test_bad_arguments():
    g, _ = pair(A, B)
    with pytest.raises(TypeError, match="inputs"):
        GF.jacobian(vec, (g[0], 3.0))
    with pytest.raises(RuntimeError, match="single Tensor with one element"):
        GF.hessian(vec, g)
    with pytest.raises(RuntimeError, match="v can only be None"):
        GF.vjp(vec, g)
    with pytest.raises(NotImplementedError, match="strategy"):
        GF.jacobian(vec, g, strategy="forward-mode")
