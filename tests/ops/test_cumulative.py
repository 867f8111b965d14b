"""cumsum, cumprod (with zeros), cummax/cummin, logcumsumexp against PyTorch."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import gradfit as gf
from oracle import check
from strategies import dtypes, rand, seeds, shape_and_dim

FEW = settings(max_examples=20, deadline=None)


@FEW
@given(sd=shape_and_dim(), dtype=dtypes, seed=seeds, zeros=st.booleans())
def test_cumsum_cumprod(sd, dtype, seed, zeros):
    shape, dim = sd
    x = rand(shape, dtype, seed)
    if zeros:  # some exact zeros, sometimes two in a row
        x = np.where(rand(shape, np.float64, seed + 1) > 0.6, 0, x).astype(dtype)
    check(lambda a: a.cumsum(dim), lambda a: a.cumsum(dim), [x])
    check(lambda a: gf.cumprod(a, dim=dim), lambda a: torch.cumprod(a, dim=dim), [x])
    check(lambda a: a.cummax(dim), lambda a: a.cummax(dim), [x])
    check(lambda a: a.cummin(dim), lambda a: a.cummin(dim), [x])
    check(lambda a: a.logcumsumexp(dim), lambda a: a.logcumsumexp(dim), [x])


@pytest.mark.parametrize("dt", [np.int32, np.int64, np.bool_, np.uint8])
def test_integer_dtypes(dt):
    a = (np.arange(6).reshape(2, 3) % 3).astype(dt)
    check(lambda x: x.cumsum(1), lambda x: x.cumsum(1), [a])
    check(lambda x: x.cumprod(0), lambda x: x.cumprod(0), [a])
    check(
        lambda x: gf.cumsum(x, 0, dtype=gf.float64),
        lambda x: torch.cumsum(x, 0, dtype=torch.float64),
        [a],
    )


def test_zero_d_and_empty():
    for x in [np.array(1.5, np.float32), np.zeros((0, 3), np.float32)]:
        for dim in (0, -1):
            check(lambda a, d=dim: a.cumsum(d), lambda a, d=dim: a.cumsum(d), [x])
            check(lambda a, d=dim: a.cumprod(d), lambda a, d=dim: a.cumprod(d), [x])
            check(lambda a, d=dim: a.cummax(d), lambda a, d=dim: a.cummax(d), [x])
            check(lambda a, d=dim: a.logcumsumexp(d), lambda a, d=dim: a.logcumsumexp(d), [x])


def test_cummax_ties_and_nan():
    a = np.array([1.0, 3.0, np.nan, 2.0, 3.0, np.nan], np.float32)
    for fn in ("cummax", "cummin"):
        g, t = getattr(gf.tensor(a), fn)(0), getattr(torch.tensor(a), fn)(0)
        np.testing.assert_array_equal(g.values.numpy(), t.values.numpy())
        np.testing.assert_array_equal(g.indices.numpy(), t.indices.numpy())
    i = np.array([1, 3, 3, 2, 1, 1], np.int64)
    for fn in ("cummax", "cummin"):
        g, t = getattr(gf.tensor(i), fn)(0), getattr(torch.tensor(i), fn)(0)
        np.testing.assert_array_equal(g.indices.numpy(), t.indices.numpy())


def test_gradcheck():
    x = rand((3, 5), np.float64, 0)
    z = x.copy()
    z[0, 1] = 0.0
    z[1, [0, 3]] = 0.0
    z[2, 4] = 0.0
    for arr in (x, z):
        t = gf.tensor(arr, requires_grad=True)
        assert gf.gradcheck(lambda a: a.cumsum(1), [t])
        assert gf.gradcheck(lambda a: a.cumprod(1), [t])
        assert gf.gradcheck(lambda a: a.cumprod(0), [t])
        assert gf.gradcheck(lambda a: a.logcumsumexp(1), [t])
    assert gf.gradcheck(lambda a: a.cummax(1).values, [gf.tensor(x, requires_grad=True)])


def test_errors():
    for m in (torch, gf):
        with pytest.raises(IndexError):
            m.zeros(2).cumsum(1)
    with pytest.raises(RuntimeError):
        torch.tensor([1, 2]).logcumsumexp(0)
    with pytest.raises(RuntimeError):
        gf.tensor([1, 2]).logcumsumexp(0)
