"""Second derivatives through conv_transpose1d/2d (create_graph=True) against torch, and gradgradcheck."""

from __future__ import annotations

import numpy as np
import pytest

import gradfit as gf
from test_double_backward import second_order

R = np.random.default_rng(7)


def rn(*shape):
    return R.standard_normal(shape)


@pytest.mark.parametrize(
    "kw",
    [
        dict(),
        dict(stride=2, padding=1),
        dict(stride=2, padding=1, output_padding=1),
        dict(stride=(2, 1), padding=(1, 0), dilation=(1, 2)),
        dict(stride=2, dilation=3, output_padding=2),  # output_padding >= stride
    ],
)
def test_conv_transpose2d_second_order(kw):
    second_order(
        lambda m, F, x, w, b: F.conv_transpose2d(x * x, w, b, **kw).tanh(),
        [rn(2, 2, 3, 4), rn(2, 3, 3, 2), rn(3)],
    )


@pytest.mark.parametrize("kw", [dict(), dict(stride=2, padding=1, output_padding=1)])
def test_conv_transpose1d_second_order(kw):
    # leaves, then inputs made by other ops (the saved arrays become graph nodes)
    second_order(lambda m, F, x, w: F.conv_transpose1d(x, w, **kw) ** 2, [rn(2, 2, 5), rn(2, 3, 3)])
    second_order(
        lambda m, F, x, w: F.conv_transpose1d(x.sin(), w * 1.5, **kw) ** 2,
        [rn(2, 2, 5), rn(2, 3, 3)],
    )


def test_conv_transpose_second_order_through_the_weight_alone():
    # only the weight requires grad: the input gradient is never built
    second_order(
        lambda m, F, w, x: F.conv_transpose2d(x, w * w, stride=2).sin(),
        [rn(2, 2, 2, 2)],
        ints=[rn(1, 2, 3, 3)],
    )


def test_conv_transpose_gradgradcheck():
    x = gf.tensor(rn(1, 2, 3, 3), requires_grad=True)
    w = gf.tensor(rn(2, 2, 2, 2), requires_grad=True)
    b = gf.tensor(rn(2), requires_grad=True)
    fn = gf.nn.functional.conv_transpose2d
    assert gf.gradgradcheck(lambda x, w, b: fn(x, w, b, stride=2, padding=1).sin(), [x, w, b])
    x1 = gf.tensor(rn(1, 2, 4), requires_grad=True)
    w1 = gf.tensor(rn(2, 1, 3), requires_grad=True)
    fn1 = gf.nn.functional.conv_transpose1d
    assert gf.gradgradcheck(lambda x, w: fn1(x, w, stride=2, output_padding=1).tanh(), [x1, w1])


def test_conv_transpose_groups_double_backward_names_itself():
    x = gf.tensor(rn(1, 2, 3, 3), requires_grad=True)
    w = gf.tensor(rn(2, 1, 2, 2), requires_grad=True)
    with pytest.raises(NotImplementedError, match="ConvTransposeNd with groups=2"):
        gf.autograd.grad(
            gf.nn.functional.conv_transpose2d(x, w, groups=2).sum(), [x, w], create_graph=True
        )
