"""sort, argsort, topk, kthvalue, median, mode, unique, bincount against PyTorch."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import gradfit as gf
from oracle import check
from strategies import dtypes, rand, seeds, shape_and_dim

FEW = settings(max_examples=15, deadline=None)


@FEW
@given(sd=shape_and_dim(), dtype=dtypes, seed=seeds, desc=st.booleans())
def test_sort_argsort(sd, dtype, seed, desc):
    shape, dim = sd
    x = rand(shape, dtype, seed)  # distinct values: the order is unique
    check(lambda a: a.sort(dim, desc), lambda a: a.sort(dim, desc), [x])
    check(
        lambda a: gf.sort(a, dim=dim, descending=desc, stable=True),
        lambda a: torch.sort(a, dim=dim, descending=desc, stable=True),
        [x],
    )
    check(lambda a: a.argsort(dim, desc), lambda a: a.argsort(dim, desc), [x])
    v = gf.tensor(x).sort(dim)
    assert v.values is v[0] and v.indices is v[1]


def test_sort_stable_ties_and_nan():
    a = np.array([[2, 1, 2, 1, 3, 2]], dtype=np.int64)
    for desc in (False, True):
        g, t = (
            gf.tensor(a).sort(descending=desc, stable=True),
            torch.tensor(a).sort(descending=desc, stable=True),
        )
        np.testing.assert_array_equal(g.indices.numpy(), t.indices.numpy())
    f = np.array([1.0, np.nan, -1.0, np.nan, 0.0], dtype=np.float32)
    for desc in (False, True):
        g, t = (
            gf.tensor(f).sort(descending=desc, stable=True),
            torch.tensor(f).sort(descending=desc, stable=True),
        )
        np.testing.assert_array_equal(g.values.numpy(), t.values.numpy())
        np.testing.assert_array_equal(g.indices.numpy(), t.indices.numpy())


@FEW
@given(sd=shape_and_dim(), dtype=dtypes, seed=seeds, data=st.data())
def test_topk_kthvalue(sd, dtype, seed, data):
    shape, dim = sd
    x = rand(shape, dtype, seed)
    k = data.draw(st.integers(0, shape[dim]))
    largest = data.draw(st.booleans())
    check(lambda a: a.topk(k, dim, largest), lambda a: a.topk(k, dim, largest), [x])
    kk = max(k, 1)
    for keep in (False, True):
        check(lambda a: a.kthvalue(kk, dim, keep), lambda a: a.kthvalue(kk, dim, keep), [x])
        check(lambda a: a.median(dim, keep), lambda a: a.median(dim, keep), [x])
    check(lambda a: a.median(), lambda a: a.median(), [x])


def test_zero_d_and_empty():
    x = np.array(1.5, np.float32)
    check(lambda a: a.sort(), lambda a: a.sort(), [x])
    check(lambda a: a.topk(1), lambda a: a.topk(1), [x])
    check(lambda a: a.argsort(), lambda a: a.argsort(), [x])
    check(lambda a: a.kthvalue(1), lambda a: a.kthvalue(1), [x])
    check(lambda a: a.median(), lambda a: a.median(), [x])
    e = np.zeros((2, 0), np.float32)
    check(lambda a: a.sort(), lambda a: a.sort(), [e])
    check(lambda a: a.topk(0), lambda a: a.topk(0), [e])
    check(lambda a: a.sort(0), lambda a: a.sort(0), [e])


def test_median_nan_and_mode():
    x = np.array([[1.0, np.nan, 3.0], [2.0, 0.0, 1.0]], dtype=np.float32)
    g, t = gf.tensor(x).median(1), torch.tensor(x).median(1)
    np.testing.assert_array_equal(g.values.numpy(), t.values.numpy())
    np.testing.assert_array_equal(g.indices.numpy(), t.indices.numpy())
    assert np.isnan(gf.tensor(x).median().item()) and np.isnan(torch.tensor(x).median().item())
    m = np.array([[1, 2, 2, 3, 3], [5, 4, 4, 5, 1]], dtype=np.int64)
    for dim in (0, 1, -1):
        g, t = gf.tensor(m).mode(dim), torch.tensor(m).mode(dim)
        np.testing.assert_array_equal(g.values.numpy(), t.values.numpy())
        np.testing.assert_array_equal(g.indices.numpy(), t.indices.numpy())


@pytest.mark.parametrize("inv", [False, True])
@pytest.mark.parametrize("cnt", [False, True])
@pytest.mark.parametrize("dim", [None, 0, 1])
def test_unique(inv, cnt, dim):
    a = np.array([[3, 1, 3], [0, 1, 0], [3, 1, 3]], dtype=np.int64)
    g = gf.unique(gf.tensor(a), return_inverse=inv, return_counts=cnt, dim=dim)
    t = torch.unique(torch.tensor(a), return_inverse=inv, return_counts=cnt, dim=dim)
    gs = g if isinstance(g, tuple) else (g,)
    ts = t if isinstance(t, tuple) else (t,)
    assert len(gs) == len(ts)
    for u, v in zip(gs, ts):
        assert u.dtype == v.numpy().dtype
        np.testing.assert_array_equal(u.numpy(), v.numpy())
    f = np.array([2.5, -1.0, 2.5], np.float32)
    np.testing.assert_array_equal(gf.tensor(f).unique().numpy(), torch.tensor(f).unique().numpy())


def test_bincount():
    a = np.array([0, 3, 3, 1], dtype=np.int64)
    w = np.array([0.5, 1.0, 2.0, 0.25], dtype=np.float32)
    for kw in [{}, {"minlength": 6}]:
        np.testing.assert_array_equal(
            gf.bincount(gf.tensor(a), **kw).numpy(), torch.bincount(torch.tensor(a), **kw).numpy()
        )
    g, t = gf.tensor(a).bincount(gf.tensor(w)), torch.tensor(a).bincount(torch.tensor(w))
    assert g.dtype == t.numpy().dtype
    np.testing.assert_allclose(g.numpy(), t.numpy())
    e = np.zeros(0, np.int64)
    assert gf.bincount(gf.tensor(e)).shape == tuple(torch.bincount(torch.tensor(e)).shape)


def test_gradcheck():
    x = gf.tensor(rand((3, 4), np.float64, 0), requires_grad=True)
    assert gf.gradcheck(lambda a: a.sort(1, True).values, [x])
    assert gf.gradcheck(lambda a: a.topk(2, 0).values, [x])
    assert gf.gradcheck(lambda a: a.kthvalue(2, 1).values, [x])
    assert gf.gradcheck(lambda a: a.median(), [x])
    assert gf.gradcheck(lambda a: a.median(0).values, [x])


ERRORS = [
    ("topk k too large", lambda m: m.zeros(3).topk(4)),
    ("topk dim", lambda m: m.zeros(3).topk(1, 2)),
    ("sort dim", lambda m: m.zeros(3).sort(1)),
    ("kthvalue k", lambda m: m.zeros(3).kthvalue(4)),
    ("bincount 2-d", lambda m: m.bincount(m.zeros(2, 2, dtype=m.int64))),
    ("bincount negative", lambda m: m.bincount(m.tensor([-1, 0]))),
    ("bincount float", lambda m: m.bincount(m.zeros(2))),
]


@pytest.mark.parametrize("name,fn", ERRORS, ids=[e[0] for e in ERRORS])
def test_error_types(name, fn):
    with pytest.raises(Exception) as te:
        fn(torch)
    with pytest.raises(type(te.value)):
        fn(gf)
