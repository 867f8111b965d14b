"""Second derivatives of the elementwise ops (unary, binary, activations) against torch.

Each op: the gradient taken with create_graph=True is weighted at random and differentiated
again, in gradfit and in torch on the same float64 data (``second_order`` from
test_double_backward), over hypothesis shapes (0-d and broadcasting included); and
gradgradcheck by finite differences on a small input. Piecewise-linear functions have a
zero second derivative, so they are checked times ``x`` (the mixed term is not zero).
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import gradfit as gf
import strategies
from test_double_backward import second_order


def _hardsigmoid(m, F, x):
    """torch has no double backward for hardsigmoid: relu6(x + 3) / 6 is the same function."""
    return F.hardsigmoid(x) if m is gf else F.relu6(x + 3) / 6


# name -> (fn(lib, F, x), low, high): the input is drawn uniformly from (low, high)
UNARY = {
    "tan": (lambda m, F, x: m.tan(x), -1.2, 1.2),
    "asin": (lambda m, F, x: m.asin(x), -0.9, 0.9),
    "acos": (lambda m, F, x: m.acos(x), -0.9, 0.9),
    "atan": (lambda m, F, x: m.atan(x), -2, 2),
    "sinh": (lambda m, F, x: m.sinh(x), -2, 2),
    "cosh": (lambda m, F, x: m.cosh(x), -2, 2),
    "asinh": (lambda m, F, x: m.asinh(x), -2, 2),
    "acosh": (lambda m, F, x: m.acosh(x), 1.2, 3),
    "atanh": (lambda m, F, x: m.atanh(x), -0.9, 0.9),
    "log10": (lambda m, F, x: m.log10(x), 0.3, 3),
    "log2": (lambda m, F, x: m.log2(x), 0.3, 3),
    "exp2": (lambda m, F, x: m.exp2(x), -2, 2),
    "expm1": (lambda m, F, x: m.expm1(x), -2, 2),
    "erf": (lambda m, F, x: m.erf(x), -2, 2),
    "erfc": (lambda m, F, x: m.erfc(x), -2, 2),
    "erfinv": (lambda m, F, x: m.erfinv(x), -0.9, 0.9),
    "frac": (lambda m, F, x: m.frac(x) * x, -2, 2),
    "floor": (lambda m, F, x: m.floor(x) * x + x * x, -2, 2),
    "round": (lambda m, F, x: m.round(x) * x + x * x, -2, 2),
    "exp": (lambda m, F, x: m.exp(x), -2, 2),
    "log": (lambda m, F, x: m.log(x), 0.3, 3),
    "log1p": (lambda m, F, x: m.log1p(x), -0.5, 2),
    "sqrt": (lambda m, F, x: m.sqrt(x), 0.3, 3),
    "sin_cos": (lambda m, F, x: m.sin(x) * m.cos(x), -3, 3),
    "tanh": (lambda m, F, x: m.tanh(x), -2, 2),
    "sigmoid": (lambda m, F, x: m.sigmoid(x), -3, 3),
    "abs_sign": (lambda m, F, x: m.abs(x) * x + m.sign(x) * x * x, -2, 2),
    "relu": (lambda m, F, x: F.relu(x) * x, -2, 2),
    "leaky_relu": (lambda m, F, x: F.leaky_relu(x, 0.2) * x, -2, 2),
    "elu": (lambda m, F, x: F.elu(x, 1.3), -2, 2),
    "gelu": (lambda m, F, x: F.gelu(x), -3, 3),
    "gelu_tanh": (lambda m, F, x: F.gelu(x, approximate="tanh"), -3, 3),
    "silu": (lambda m, F, x: F.silu(x), -3, 3),
    "softplus": (lambda m, F, x: F.softplus(x, beta=1.5, threshold=2.0), -3, 3),
    "glu": (lambda m, F, x: F.glu(m.stack([x, x * x], -1), -1), -2, 2),
    "mish": (lambda m, F, x: F.mish(x), -3, 3),
    "logsigmoid": (lambda m, F, x: F.logsigmoid(x), -3, 3),
    "softsign": (lambda m, F, x: F.softsign(x), -3, 3),
    "tanhshrink": (lambda m, F, x: F.tanhshrink(x), -3, 3),
    "hardswish": (lambda m, F, x: F.hardswish(x), -4, 4),
    "celu": (lambda m, F, x: F.celu(x, alpha=0.7), -3, 3),
    "selu": (lambda m, F, x: F.selu(x), -3, 3),
    "hardtanh": (lambda m, F, x: F.hardtanh(x, -0.5, 1.0) * x, -2, 2),
    "relu6": (lambda m, F, x: F.relu6(x * 4) * x, -2, 2),
    "hardsigmoid": (lambda m, F, x: _hardsigmoid(m, F, x * 3) * x, -2, 2),
    "softshrink": (lambda m, F, x: F.softshrink(x, 0.5) * x, -2, 2),
    "hardshrink": (lambda m, F, x: F.hardshrink(x, 0.5) * x, -2, 2),
    "threshold": (lambda m, F, x: F.threshold(x, 0.1, -2.0) * x, -2, 2),
}


@settings(max_examples=40, deadline=None)
@given(shape=strategies.shapes, name=st.sampled_from(sorted(UNARY)), seed=strategies.seeds)
def test_unary_second_order_vs_torch(shape, name, seed):
    fn, lo, hi = UNARY[name]
    second_order(fn, [strategies.rand(shape, np.float64, seed, lo, hi)], rtol=1e-7, seed=seed)


@pytest.mark.parametrize("name", sorted(UNARY))
def test_unary_gradgradcheck(name):
    fn, lo, hi = UNARY[name]
    x = gf.tensor(strategies.rand((2, 2), np.float64, 7, lo, hi), requires_grad=True)
    assert gf.gradgradcheck(lambda t: fn(gf, gf.nn.functional, t), [x])


# name -> (fn(lib, F, a, b), (low, high) of a, (low, high) of b)
BINARY = {
    "atan2": (lambda m, F, a, b: m.atan2(a, b), (-2, 2), (0.5, 2)),
    "hypot": (lambda m, F, a, b: m.hypot(a, b), (0.5, 2), (-2, -0.5)),
    "fmod": (lambda m, F, a, b: m.fmod(a * a, b) * b, (-2, 2), (0.7, 1.6)),
    "remainder": (lambda m, F, a, b: m.remainder(a, b) * a * b, (-2, 2), (0.7, 1.6)),
    "logaddexp": (lambda m, F, a, b: m.logaddexp(a, b), (-2, 2), (-2, 2)),
    "logaddexp2": (lambda m, F, a, b: m.logaddexp2(a, b), (-2, 2), (-2, 2)),
    "xlogy": (lambda m, F, a, b: m.xlogy(a * a, b), (-2, 2), (0.3, 2)),
    "copysign": (lambda m, F, a, b: m.copysign(a, b) * a * b, (-2, 2), (-2, 2)),
    "fmax": (lambda m, F, a, b: m.fmax(a, b) * a * b, (-2, 2), (-2, 2)),
    "fmin": (lambda m, F, a, b: m.fmin(a, b) * a * b, (-2, 2), (-2, 2)),
}


@settings(max_examples=25, deadline=None)
@given(shapes=strategies.pair_shapes, name=st.sampled_from(sorted(BINARY)), seed=strategies.seeds)
def test_binary_second_order_vs_torch(shapes, name, seed):
    fn, (la, ha), (lb, hb) = BINARY[name]
    sa, sb = shapes.input_shapes
    a = strategies.rand(sa, np.float64, seed, la, ha)
    b = strategies.rand(sb, np.float64, seed + 1, lb, hb)
    second_order(fn, [a, b], rtol=1e-7, seed=seed)


@pytest.mark.parametrize("name", sorted(BINARY))
def test_binary_gradgradcheck(name):
    fn, (la, ha), (lb, hb) = BINARY[name]
    a = gf.tensor(strategies.rand((2, 2), np.float64, 3, la, ha), requires_grad=True)
    b = gf.tensor(strategies.rand((2,), np.float64, 4, lb, hb), requires_grad=True)
    assert gf.gradgradcheck(lambda s, t: fn(gf, gf.nn.functional, s, t), [a, b])


SOFTMAX = {
    "softmax": lambda d: lambda m, F, x: F.softmax(x, dim=d) ** 2,
    "log_softmax": lambda d: lambda m, F, x: F.log_softmax(x * x, dim=d),
}


@settings(max_examples=12, deadline=None)
@given(sd=strategies.shape_and_dim(), name=st.sampled_from(sorted(SOFTMAX)), seed=strategies.seeds)
def test_softmax_family_second_order_vs_torch(sd, name, seed):
    shape, dim = sd
    second_order(SOFTMAX[name](dim), [strategies.rand(shape, np.float64, seed)], seed=seed)


def test_xlogy_at_zero_second_order():
    a = np.array([0.0, 0.0, 1.5, -0.5])
    b = np.array([0.3, 2.0, 0.5, 1.0])
    second_order(lambda m, F, a, b: m.xlogy(a, b) * a + m.xlogy(a * a, b + 1), [a, b])


@pytest.mark.parametrize("name", ["tan", "erfinv", "mish", "hardswish", "selu", "hardtanh"])
def test_second_derivative_stays_float32(name):
    fn, lo, hi = UNARY[name]
    x = gf.tensor(strategies.rand((3,), np.float32, 1, lo, hi), requires_grad=True)
    (g,) = gf.autograd.grad(fn(gf, gf.nn.functional, x).sum(), x, create_graph=True)
    (h,) = gf.autograd.grad(g.sum(), x)
    assert g.dtype == gf.float32 and h.dtype == gf.float32


def test_multi_output_custom_function_names_itself():
    class Two(gf.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x * x, x * 3

        @staticmethod
        def backward(ctx, a, b):
            (x,) = ctx.saved_tensors
            return 2 * x * a + 3 * b

    x = gf.tensor([1.0, 2.0], requires_grad=True)
    p, q = Two.apply(x)
    with pytest.raises(NotImplementedError, match="for TwoBackward: a custom function with sev"):
        gf.autograd.grad((p * p).sum() + q.sum(), x, create_graph=True)


def test_hessian_through_many_ops_equals_torch():
    def f(m, F):
        def fn(x):
            y = F.mish(x) * m.cumsum(x, 0) + m.einsum("i,i->i", m.erf(x), m.atan(x))
            z = m.gather(F.log_softmax(m.stack([x, x.sinh()]), dim=0), 0, m.tensor([[1, 0, 1]]))
            t = m.tensor([0.1, -0.2, 0.3], dtype=m.float64)
            return y.sum() + F.huber_loss(z[0], t, delta=0.3)

        return fn

    x0 = np.array([0.3, -0.8, 1.1])
    h = gf.autograd.functional.hessian(f(gf, gf.nn.functional), gf.tensor(x0))
    ht = torch.autograd.functional.hessian(f(torch, torch.nn.functional), torch.tensor(x0))
    np.testing.assert_allclose(h.numpy(), ht.numpy(), rtol=1e-9, atol=1e-12)


def test_elementwise_op_without_a_tensor_derivative_names_itself():
    from gradfit.ops.activation import _Elementwise
    from gradfit.ops.elementwise_extra import _Unary

    class Cube(_Unary):
        f = staticmethod(lambda x: x**3)
        df = staticmethod(lambda x, out: 3 * x * x)

    class Square(_Elementwise):
        def f(self, x):
            return x * x

        def df(self, x):
            return 2 * x

    x = gf.tensor([1.0, 2.0], requires_grad=True)
    for op in (Cube, Square):
        gf.autograd.grad(op.apply(x).sum(), x)  # first order works
        with pytest.raises(NotImplementedError, match=f"not implemented for {op.__name__}"):
            gf.autograd.grad(op.apply(x).sum(), x, create_graph=True)
