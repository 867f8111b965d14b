"""Second (and third) derivatives of the transposed convolution against torch, and
gradgradcheck in float64.

:func:`double_vjp` differentiates the first gradient ``g = d<v, f(x, w, b)>/d(x, w, b)``
(made with ``create_graph=True``) again, w.r.t. the input, weight, bias *and* the upstream
gradient ``v``: the op is bilinear in (x, w), so the cross terms and the ``v`` term are
what catch a wrong transpose or a wrong crop.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import gradfit as gf
from oracle import assert_close

torch.set_num_threads(1)


def _F(lib):
    return gf.nn.functional if lib is gf else torch.nn.functional


def double_vjp(fn, arrays, seed=0, rtol=1e-8, atol=1e-10):
    """g = grad(fn(F, *xs), xs, v, create_graph), then d(sum_i u_i . g_i)/d(xs, v), vs torch."""
    res = {}
    for lib in (gf, torch):
        xs = [lib.tensor(a.copy(), requires_grad=True) for a in arrays]
        out = fn(_F(lib), *xs)
        r = np.random.default_rng(seed)
        v = lib.tensor(r.standard_normal(tuple(out.shape)), requires_grad=True)
        gs = lib.autograd.grad(out, xs, v, create_graph=True)
        z = sum((g * lib.tensor(r.standard_normal(a.shape))).sum() for g, a in zip(gs, arrays))
        second = lib.autograd.grad(z, [*xs, v], allow_unused=True)
        res[lib] = (gs, second)
    for level in (0, 1):
        for k, (a, e) in enumerate(zip(res[gf][level], res[torch][level], strict=True)):
            what = f"{'v' if k == len(arrays) else f'input {k}'} order {level + 1}"
            if e is None:
                assert a is None or np.allclose(a.numpy(), 0), what
                continue
            assert a is not None, f"{what}: gradfit gave none"
            assert_close(a.detach(), e.detach(), rtol=rtol, atol=atol, what=what)


def _arrays(r, nsp, n, cin, cout, groups, k, size, bias=True):
    x = r.standard_normal(((n,) if n else ()) + (cin, *size))
    w = r.standard_normal((cin, cout // groups) + (k,) * nsp)
    return [x, w, r.standard_normal(cout)] if bias else [x, w]


ASYM = dict(stride=(2, 1), padding=(1, 0), output_padding=(1, 0), dilation=(1, 2), groups=2)
DIL = dict(dilation=3, padding=2, output_padding=2)
# (nsp, batch (0: unbatched), C_in, C_out, groups, k, input size, options)
CASES = {
    "2d_plain": (2, 2, 2, 3, 1, 2, (3, 3), {}),
    "2d_stride2": (2, 2, 2, 3, 1, 3, (3, 2), dict(stride=2)),
    "2d_stride_pad_outpad": (2, 1, 2, 2, 1, 3, (3, 4), dict(stride=2, padding=1, output_padding=1)),
    "2d_pad_crops_stride1": (2, 2, 1, 2, 1, 3, (4, 4), dict(padding=1)),
    "2d_groups_dilation": (2, 2, 4, 4, 2, 2, (3, 3), dict(dilation=2, groups=2)),
    # output_padding may reach the stride only below the dilation; padding crops at stride 1
    "2d_outpad_from_dilation": (2, 1, 2, 2, 1, 2, (3, 3), DIL),
    "2d_asymmetric": (2, 2, 2, 4, 2, 3, (3, 4), ASYM),
    "2d_unbatched": (2, 0, 2, 3, 1, 2, (3, 3), dict(stride=2, padding=1)),
    "1d_plain": (1, 2, 2, 3, 1, 3, (4,), {}),
    "1d_stride_pad_outpad": (1, 2, 3, 2, 1, 3, (5,), dict(stride=3, padding=1, output_padding=2)),
    "1d_groups_dilation": (1, 1, 4, 6, 2, 2, (4,), dict(dilation=2, groups=2, padding=1)),
    "1d_unbatched": (1, 0, 2, 2, 1, 2, (4,), dict(stride=2, output_padding=1)),
}


def _op(nsp, opts):
    def fn(F, x, w, b=None):
        f = F.conv_transpose1d if nsp == 1 else F.conv_transpose2d
        # squared: the second derivative w.r.t. the output is not zero
        return f(x, w, b, **opts) ** 2

    return fn


@pytest.mark.parametrize("name", sorted(CASES))
def test_second_order_input_weight_bias_and_grad_outputs(name):
    nsp, n, cin, cout, groups, k, size, opts = CASES[name]
    arrays = _arrays(np.random.default_rng(len(name)), nsp, n, cin, cout, groups, k, size)
    double_vjp(_op(nsp, opts), arrays)


def test_second_order_without_bias_and_through_ops_on_both_sides():
    # non-leaf input and weight: their saved arrays reach the graph as tensors on their nodes
    r = np.random.default_rng(3)
    arrays = [r.standard_normal((2, 2, 3, 3)), r.standard_normal((2, 2, 3, 3))]

    def fn(F, x, w):
        return F.conv_transpose2d(x.tanh(), w * w, stride=2, padding=1).sin()

    double_vjp(fn, arrays)
    arrays1 = [r.standard_normal((2, 2, 5)), r.standard_normal((2, 1, 3))]
    double_vjp(lambda F, x, w: F.conv_transpose1d(x.exp(), w.sin(), stride=2).tanh(), arrays1)


@pytest.mark.parametrize("which", [0, 1])
def test_second_order_with_one_input_not_requiring_grad(which):
    r = np.random.default_rng(5)
    x, w = r.standard_normal((2, 2, 3, 3)), r.standard_normal((2, 3, 2, 2))
    res = {}
    for lib in (gf, torch):
        ts = [lib.tensor(x.copy()), lib.tensor(w.copy())]
        ts[1 - which].requires_grad_(True)
        out = (_F(lib).conv_transpose2d(ts[0], ts[1], stride=2) ** 2).sum()
        (g,) = lib.autograd.grad(out, [ts[1 - which]], create_graph=True)
        (h,) = lib.autograd.grad((g**2).sum(), [ts[1 - which]])
        res[lib] = (g, h)
    for a, e in zip(res[gf], res[torch], strict=True):
        assert_close(a.detach(), e.detach(), rtol=1e-8, atol=1e-10)


@settings(max_examples=6, deadline=None)
@given(
    nsp=st.sampled_from([1, 2]),
    groups=st.sampled_from([1, 2]),
    k=st.integers(1, 3),
    s=st.integers(1, 3),
    d=st.integers(1, 2),
    p=st.integers(0, 2),
    op=st.integers(0, 2),
    size=st.integers(2, 4),
    bias=st.booleans(),
    seed=st.integers(0, 2**16),
)
def test_second_order_hypothesis(nsp, groups, k, s, d, p, op, size, bias, seed):
    op = op % max(s, d)  # torch: output_padding smaller than stride or dilation
    out = (size - 1) * s - 2 * p + d * (k - 1) + op + 1
    if out <= 0:
        return
    r = np.random.default_rng(seed)
    arrays = _arrays(r, nsp, 2, 2, 2 * groups, groups, k, (size,) * nsp, bias)
    opts = dict(stride=s, padding=p, output_padding=op, dilation=d, groups=groups)
    double_vjp(_op(nsp, opts), arrays, seed=seed)


@pytest.mark.parametrize("name", ["2d_stride_pad_outpad", "1d_groups_dilation", "2d_unbatched"])
def test_gradgradcheck(name):
    nsp, n, cin, cout, groups, k, size, opts = CASES[name]
    arrays = _arrays(np.random.default_rng(1), nsp, n, cin, cout, groups, k, size)
    xs = [gf.tensor(a, requires_grad=True) for a in arrays]
    fn = _op(nsp, opts)
    assert gf.gradgradcheck(lambda *ts: fn(gf.nn.functional, *ts), xs)


def test_third_order_matches_torch():
    # torch 2.13 cannot go past the second order with output_padding (its conv backward
    # refuses it), so this one has none; gradgradcheck of the gradient below covers it
    r = np.random.default_rng(9)
    x, w = r.standard_normal((1, 2, 3, 3)), r.standard_normal((2, 2, 3, 3))
    res = {}
    for lib in (gf, torch):
        xt, wt = lib.tensor(x.copy(), requires_grad=True), lib.tensor(w.copy(), requires_grad=True)
        y = _F(lib).conv_transpose2d(xt, wt, stride=2, padding=1, dilation=2)
        (gx,) = lib.autograd.grad((y**3).sum(), [xt], create_graph=True)
        (gw,) = lib.autograd.grad((gx**2).sum(), [wt], create_graph=True)
        res[lib] = lib.autograd.grad((gw * gw).sum(), [xt, wt])
    for a, e in zip(res[gf], res[torch], strict=True):
        assert_close(a, e, rtol=1e-7, atol=1e-9)


def test_third_order_gradgradcheck_with_output_padding():
    # gradgradcheck of the first gradient: third derivatives against finite differences
    r = np.random.default_rng(2)
    x = gf.tensor(r.standard_normal((1, 2, 2, 3)), requires_grad=True)
    w = gf.tensor(r.standard_normal((2, 1, 2, 2)), requires_grad=True)

    def first(x, w):
        with gf.enable_grad():  # gradgradcheck's first call runs under no_grad
            y = gf.nn.functional.conv_transpose2d(x, w, stride=2, padding=1, output_padding=1)
            return gf.autograd.grad((y**3).sum(), [x, w], create_graph=True)

    assert gf.gradgradcheck(first, [x, w])


def test_float32_second_order_stays_float32():
    x = gf.randn(1, 2, 3, 3, requires_grad=True)
    w = gf.randn(2, 2, 2, 2, requires_grad=True)
    (g,) = gf.autograd.grad((gf.nn.functional.conv_transpose2d(x, w, stride=2) ** 2).sum(),
                            [x], create_graph=True)  # fmt: skip
    (h,) = gf.autograd.grad((g**2).sum(), [w])
    assert g.dtype == h.dtype == gf.float32


@pytest.mark.parametrize("nsp", [1, 2])
def test_module_gradient_penalty_on_parameters(nsp):
    # a WGAN-GP style penalty through nn.ConvTranspose: |d out / d x|^2 differentiated
    # w.r.t. the layer's weight and bias, in one backward with the loss
    r = np.random.default_rng(nsp)
    size = (4,) * nsp
    x = r.standard_normal((2, 4, *size))
    mods = {}
    for lib in (gf, torch):
        cls = lib.nn.ConvTranspose1d if nsp == 1 else lib.nn.ConvTranspose2d
        mods[lib] = cls(4, 6, 3, stride=2, padding=1, output_padding=1, groups=2).double()
    with torch.no_grad():
        for pt, pg in zip(mods[torch].parameters(), mods[gf].parameters(), strict=True):
            pt.copy_(torch.tensor(pg.detach().numpy()))
    res = {}
    for lib, m in mods.items():
        xt = lib.tensor(x.copy(), requires_grad=True)
        y = m(xt).tanh()
        (gx,) = lib.autograd.grad(y.sum(), [xt], create_graph=True)
        (y.pow(2).mean() + gx.pow(2).sum()).backward()
        res[lib] = [xt.grad, *[p.grad for p in m.parameters()]]
    for k, (a, e) in enumerate(zip(res[gf], res[torch], strict=True)):
        assert_close(a, e, rtol=1e-8, atol=1e-10, what=f"grad {k}")
