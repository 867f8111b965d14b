"""isnan/isinf/isfinite, nan_to_num, isclose/allclose/equal, all/any, count_nonzero,
logical_*, bitwise_*, where(cond), and Tensor.new_* against PyTorch."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given, settings

import gradfit as gf
from oracle import check
from strategies import dtypes, rand, seeds, shape_and_dims

FEW = settings(max_examples=15, deadline=None)
SPECIAL = np.array([[1.0, np.nan, np.inf], [-np.inf, 0.0, -2.5]])


def same(g, t):
    if isinstance(t, bool):
        assert g is t or (type(g) is bool and g == t)
        return
    tn = t.numpy()
    assert g.dtype == tn.dtype and g.shape == tn.shape, (g.dtype, tn.dtype, g.shape, tn.shape)
    np.testing.assert_array_equal(g.numpy(), tn)


@pytest.mark.parametrize("dt", [np.float32, np.float64])
def test_special_value_tests(dt):
    x = SPECIAL.astype(dt)
    for name in ("isnan", "isinf", "isfinite", "isposinf", "isneginf"):
        same(getattr(gf, name)(gf.tensor(x)), getattr(torch, name)(torch.tensor(x)))
        same(getattr(gf.tensor(x), name)(), getattr(torch.tensor(x), name)())
    i = np.array([1, 2], np.int64)
    same(gf.isnan(gf.tensor(i)), torch.isnan(torch.tensor(i)))
    same(gf.isfinite(gf.tensor(i)), torch.isfinite(torch.tensor(i)))
    check(lambda a: gf.nan_to_num(a), lambda a: torch.nan_to_num(a), [x])
    check(lambda a: a.nan_to_num(1.0, 9.0, -9.0), lambda a: a.nan_to_num(1.0, 9.0, -9.0), [x])


def test_close_and_equal():
    a = np.array([1.0, 2.0, np.nan, 4.0])
    b = np.array([1.0 + 1e-7, 2.1, np.nan, 4.0])
    for kw in [{}, {"equal_nan": True}, {"rtol": 0.1}, {"atol": 0.2, "rtol": 0}]:
        same(
            gf.isclose(gf.tensor(a), gf.tensor(b), **kw),
            torch.isclose(torch.tensor(a), torch.tensor(b), **kw),
        )
        assert gf.allclose(gf.tensor(a), gf.tensor(b), **kw) == torch.allclose(
            torch.tensor(a), torch.tensor(b), **kw
        )
        assert gf.tensor(a[:2]).allclose(gf.tensor(b[:2]), **kw) == torch.tensor(a[:2]).allclose(
            torch.tensor(b[:2]), **kw
        )
    for x, y in [([1, 2], [1, 2]), ([1, 2], [1, 3]), ([1, 2], [1, 2, 3]), ([[1]], [1])]:
        assert gf.equal(gf.tensor(x), gf.tensor(y)) == torch.equal(torch.tensor(x), torch.tensor(y))
    assert type(gf.equal(gf.ones(1), gf.ones(1))) is bool
    with pytest.raises(RuntimeError):
        torch.isclose(torch.ones(2), torch.ones(2, dtype=torch.float64))
    with pytest.raises(RuntimeError):
        gf.isclose(gf.ones(2), gf.ones(2, dtype=gf.float64))


@FEW
@given(sd=shape_and_dims(), seed=seeds, dtype=dtypes)
def test_all_any_count_nonzero(sd, seed, dtype):
    shape, dim = sd
    x = np.where(rand(shape, np.float64, seed) > 0.5, 0, rand(shape, dtype, seed + 1)).astype(dtype)
    for arr in (x, x != 0, (x != 0).astype(np.uint8)):
        g, t = gf.tensor(arr), torch.tensor(arr)
        for kd in (False, True):
            if dim is None:
                same(gf.all(g), torch.all(t))
                same(g.any(), t.any())
            else:
                same(gf.all(g, dim, keepdim=kd), torch.all(t, dim, keepdim=kd))
                same(g.any(dim=dim, keepdim=kd), t.any(dim=dim, keepdim=kd))
        same(gf.count_nonzero(g, dim), torch.count_nonzero(t, dim))


def test_logical_bitwise_where():
    a = np.array([0, 1, 2, 0], np.int64)
    b = np.array([0.0, 0.0, 3.0, -1.0], np.float32)
    for name in ("logical_and", "logical_or", "logical_xor"):
        same(
            getattr(gf, name)(gf.tensor(a), gf.tensor(b)),
            getattr(torch, name)(torch.tensor(a), torch.tensor(b)),
        )
        same(
            getattr(gf.tensor(a), name)(gf.tensor(b)),
            getattr(torch.tensor(a), name)(torch.tensor(b)),
        )
    same(gf.logical_not(gf.tensor(b)), torch.logical_not(torch.tensor(b)))
    c = np.array([12, 5, -3, 0], np.int64)
    for name in ("bitwise_and", "bitwise_or", "bitwise_xor"):
        same(
            getattr(gf, name)(gf.tensor(c), gf.tensor(a)),
            getattr(torch, name)(torch.tensor(c), torch.tensor(a)),
        )
        same(getattr(gf.tensor(c), name)(6), getattr(torch.tensor(c), name)(6))
    same(gf.bitwise_not(gf.tensor(c)), torch.bitwise_not(torch.tensor(c)))
    same(gf.bitwise_not(gf.tensor(c > 0)), torch.bitwise_not(torch.tensor(c > 0)))
    with pytest.raises(RuntimeError):
        torch.bitwise_and(torch.tensor(b), torch.tensor(b))
    with pytest.raises(RuntimeError):
        gf.bitwise_and(gf.tensor(b), gf.tensor(b))
    m = np.array([[True, False], [False, True]])
    for u, v in zip(gf.where(gf.tensor(m)), torch.where(torch.tensor(m))):
        same(u, v)
    x, y = rand((2, 2), np.float32, 0), rand((2,), np.float32, 1)
    check(
        lambda p, q: gf.where(gf.tensor(m), p, q),
        lambda p, q: torch.where(torch.tensor(m), p, q),
        [x, y],
    )
    check(lambda p, q: p.where(gf.tensor(m), q), lambda p, q: p.where(torch.tensor(m), q), [x, y])


def test_nan_to_num_gradcheck():
    x = gf.tensor(SPECIAL, requires_grad=True)
    out = gf.nan_to_num(x)
    out.sum().backward()
    t = torch.tensor(SPECIAL, requires_grad=True)
    torch.nan_to_num(t).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), t.grad.numpy())
    assert gf.gradcheck(gf.nan_to_num, [gf.tensor(rand((2, 3), np.float64, 0), requires_grad=True)])


@pytest.mark.parametrize("dt", [np.float32, np.float64, np.int64, np.int32])
def test_new_methods(dt):
    g, t = gf.tensor(np.ones(2, dt)), torch.tensor(np.ones(2, dt))
    same(g.new_zeros(2, 3), t.new_zeros(2, 3))
    same(g.new_zeros((2, 3)), t.new_zeros((2, 3)))
    same(g.new_ones(3), t.new_ones(3))
    same(g.new_ones(()), t.new_ones(()))
    same(g.new_full((2,), 7), t.new_full((2,), 7))
    same(g.new_tensor([1.5, 2.0]), t.new_tensor([1.5, 2.0]))
    same(g.new_tensor(3), t.new_tensor(3))
    same(g.new_zeros(2, dtype=gf.float64), t.new_zeros(2, dtype=torch.float64))
    assert g.new_empty(4, 0).shape == tuple(t.new_empty(4, 0).shape)
    assert g.new_empty((3,)).dtype == t.new_empty((3,)).numpy().dtype
    if dt in (np.float32, np.float64):
        assert g.new_ones(2, requires_grad=True).requires_grad
    assert g.new_zeros(2, device="cpu").shape == (2,)
    with pytest.raises(RuntimeError, match="CPU"):
        g.new_zeros(2, device="cuda")
