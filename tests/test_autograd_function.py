"""Torch-style ``autograd.Function`` (ctx, save_for_backward, apply) against PyTorch."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import gradfit as gf
from gradfit.autograd.function import once_differentiable


def make_functions(lib):
    """The same custom functions, written once, for gradfit or torch."""

    class MyExp(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            y = x.exp()
            ctx.save_for_backward(y)
            return y

        @staticmethod
        def backward(ctx, grad):
            (y,) = ctx.saved_tensors
            return grad * y

    class LinearTwo(lib.autograd.Function):
        """y = x @ w.T + b and, as a second output, x * 2."""

        @staticmethod
        def forward(ctx, x, w, b):
            ctx.save_for_backward(x, w)
            return x @ w.T + b, x * 2

        @staticmethod
        def backward(ctx, gy, gz):
            x, w = ctx.saved_tensors
            gx = gw = gb = None
            if ctx.needs_input_grad[0]:
                gx = gy @ w + gz * 2
            if ctx.needs_input_grad[1]:
                gw = gy.T @ x
            if ctx.needs_input_grad[2]:
                gb = gy.sum(0)
            return gx, gw, gb

    class Scale(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x, factor, note):
            ctx.factor = factor
            ctx.note = note
            return x * factor

        @staticmethod
        @once_differentiable if lib is gf else torch.autograd.function.once_differentiable
        def backward(ctx, grad):
            return grad * ctx.factor, None, None

    return MyExp, LinearTwo, Scale


def run(lib, a, w, b):
    MyExp, LinearTwo, Scale = make_functions(lib)
    x = lib.tensor(a, requires_grad=True)
    wt = lib.tensor(w, requires_grad=True)
    bt = lib.tensor(b, requires_grad=True)
    y, z = LinearTwo.apply(MyExp.apply(x), wt, bt)
    out = (Scale.apply(y, 3.0, "hi") ** 2).sum() + (z * z).sum()
    out.backward()
    return out.item(), x.grad.numpy(), wt.grad.numpy(), bt.grad.numpy()


def test_custom_functions_match_torch():
    rng = np.random.default_rng(0)
    a, w, b = rng.standard_normal((4, 3)), rng.standard_normal((2, 3)), rng.standard_normal(2)
    got, want = run(gf, a, w, b), run(torch, a, w, b)
    assert got[0] == pytest.approx(want[0], rel=1e-10)
    for g, t in zip(got[1:], want[1:], strict=True):
        np.testing.assert_allclose(g, t, rtol=1e-10)


def test_gradcheck_on_custom_functions():
    MyExp, LinearTwo, Scale = make_functions(gf)
    x = gf.randn(3, 2, dtype="float64", requires_grad=True)
    w = gf.randn(4, 2, dtype="float64", requires_grad=True)
    b = gf.randn(4, dtype="float64", requires_grad=True)
    assert gf.gradcheck(lambda x, w, b: LinearTwo.apply(MyExp.apply(x), w, b)[0], [x, w, b])
    assert gf.gradcheck(lambda x: Scale.apply(x, -2.5, None), [x])


def test_needs_input_grad_and_outputs_like_torch():
    for lib in (gf, torch):
        seen = []

        class Probe(lib.autograd.Function):
            @staticmethod
            def forward(ctx, x, y, k):
                seen.append(ctx.needs_input_grad)
                return x * y * k

            @staticmethod
            def backward(ctx, g):
                seen.append(ctx.needs_input_grad)
                return g, None, None

        x = lib.ones(2, requires_grad=True)
        y = lib.ones(2)
        out = Probe.apply(x, y, 2)
        assert out.requires_grad and not out.is_leaf
        out.sum().backward()
        assert seen == [(True, False, False)] * 2
        with lib.no_grad():
            assert not Probe.apply(x, y, 2).requires_grad
        assert not Probe.apply(y, y, 2).requires_grad  # no input requires grad


def test_mark_non_differentiable_and_materialize_grads():
    for lib in (gf, torch):
        got = []

        class SortLike(lib.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                ctx.set_materialize_grads(False)
                idx = lib.argmax(x)
                ctx.mark_non_differentiable(idx)
                return x * 2, x * 3, idx

            @staticmethod
            def backward(ctx, g1, g2, gi):
                got.append(g2 is None)
                return g1 * 2

        x = lib.ones(3, requires_grad=True)
        a, b, idx = SortLike.apply(x)
        assert not idx.requires_grad and b.requires_grad
        a.sum().backward()
        assert x.grad.tolist() == [2.0, 2.0, 2.0]
        assert got == [True]


def test_wrong_number_of_gradients_raises_like_torch():
    for lib in (gf, torch):

        class Bad(lib.autograd.Function):
            @staticmethod
            def forward(ctx, x, y):
                return x + y

            @staticmethod
            def backward(ctx, g):
                return (g,)

        x = lib.ones(2, requires_grad=True)
        with pytest.raises(RuntimeError, match="incorrect number of gradients"):
            Bad.apply(x, x).sum().backward()


def test_saved_tensor_modified_in_place_is_detected():
    MyExp, _, _ = make_functions(gf)
    x = gf.ones(2, requires_grad=True)
    y = MyExp.apply(x)
    with gf.no_grad():
        y.mul_(2)
    with pytest.raises(RuntimeError, match="modified by an in-place"):
        y.sum().backward()


def test_second_backward_without_retain_graph_raises():
    MyExp, _, _ = make_functions(gf)
    x = gf.ones(2, requires_grad=True)
    y = MyExp.apply(x).sum()
    y.backward(retain_graph=True)
    y.backward()
    assert x.grad.tolist() == pytest.approx([2 * np.e] * 2)
    with pytest.raises(RuntimeError, match="second time"):
        y.backward()


def test_array_style_function_keeps_working():
    class Square(gf.Function):
        def forward(self, x):
            self.saved = (x,)
            return x * x

        def backward(self, grad):
            (x,) = self.saved
            return (2 * x * grad,)

    t = gf.tensor([3.0], requires_grad=True)
    Square.apply(t).sum().backward()
    assert t.grad.tolist() == [6.0]
    assert gf.Function is gf.autograd.Function


def test_setup_context_style_and_an_input_returned_unchanged():
    for lib in (gf, torch):

        class Mul3(lib.autograd.Function):
            @staticmethod
            def forward(x, k):
                return x * k, x

            @staticmethod
            def setup_context(ctx, inputs, output):
                ctx.k = inputs[1]

            @staticmethod
            def backward(ctx, g, gx):
                return g * ctx.k + gx, None

        x = lib.tensor([1.0, 2.0], requires_grad=True)
        y, same = Mul3.apply(x, 3.0)
        assert same is not x and same.requires_grad
        (y.sum() + (same * 2).sum()).backward()
        assert x.grad.tolist() == [5.0, 5.0]
