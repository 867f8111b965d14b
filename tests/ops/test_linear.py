"""The fused linear op against PyTorch: shapes incl. batch 1, N-D inputs, no bias, gradcheck."""

from __future__ import annotations

import numpy as np
import pytest
import torch.nn.functional as TF

import gradfit as gf
from gradfit.ops.linear import linear
from oracle import check

RNG = np.random.default_rng(1)


@pytest.mark.parametrize("xshape", [(1, 5), (7, 5), (5,), (2, 3, 5), (0, 5)])
@pytest.mark.parametrize("bias", [True, False])
def test_linear_matches_torch(xshape, bias):
    x = RNG.standard_normal(xshape).astype(np.float32)
    w = RNG.standard_normal((4, 5)).astype(np.float32)
    arrays = [x, w] + ([RNG.standard_normal(4).astype(np.float32)] if bias else [])
    check(linear, TF.linear, arrays)


def test_linear_gradcheck_float64():
    x = gf.randn(3, 2, 4, dtype="float64", requires_grad=True)
    w = gf.randn(3, 4, dtype="float64", requires_grad=True)
    b = gf.randn(3, dtype="float64", requires_grad=True)
    assert gf.gradcheck(linear, [x, w, b])
    assert gf.gradcheck(lambda a, c: linear(a, c), [x, w])


def test_linear_only_needed_grads_and_dtype():
    x = gf.randn(4, 3)
    w = gf.randn(2, 3, requires_grad=True)
    out = linear(x, w)
    out.sum().backward()
    assert out.dtype == np.float32 and w.grad.dtype == np.float32
    assert x.grad is None


def test_linear_errors():
    with pytest.raises(ValueError, match=r"last dimension is 4 but the weight \(2, 3\) expects 3"):
        linear(gf.zeros(5, 4), gf.zeros(2, 3))
    with pytest.raises(TypeError, match="float64 but the weight is float32"):
        linear(gf.zeros(5, 3, dtype="float64"), gf.zeros(2, 3))
    with pytest.raises(ValueError, match=r"bias must have shape \(2,\)"):
        linear(gf.zeros(5, 3), gf.zeros(2, 3), gf.zeros(3))
