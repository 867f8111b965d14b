"""Stacking helpers, unflatten/ravel/select/diff, block_diag, cartesian_prod, tensordot, kron,
searchsorted/bucketize, nansum/nanmean/aminmax, pdist/dist against PyTorch."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import gradfit as gf
from oracle import check
from strategies import rand

F32, F64 = np.float32, np.float64

# name, function of the module (gf or torch) and the tensors, input shapes
DIFF = [
    ("hstack_1d", lambda m, a, b: m.hstack([a, b]), [(2,), (3,)]),
    ("hstack_2d", lambda m, a, b: m.hstack((a, b)), [(2, 1), (2, 3)]),
    ("vstack", lambda m, a, b: m.vstack([a, b]), [(3,), (2, 3)]),
    ("row_stack", lambda m, a, b: m.row_stack([a, b]), [(3,), (3,)]),
    ("dstack", lambda m, a, b: m.dstack([a, b]), [(2, 3), (2, 3)]),
    ("column_stack", lambda m, a, b: m.column_stack([a, b]), [(3,), (3, 2)]),
    ("atleast_1d", lambda m, a: m.atleast_1d(a), [()]),
    ("atleast_2d", lambda m, a, b: m.atleast_2d(a, b), [(), (3,)]),
    ("atleast_3d", lambda m, a, b, c: m.atleast_3d(a, b, c), [(), (3,), (2, 3)]),
    ("unflatten", lambda m, a: a.unflatten(1, (2, -1)), [(2, 6, 1)]),
    ("unflatten_neg", lambda m, a: m.unflatten(a, -1, (3, 2)), [(6,)]),
    ("ravel", lambda m, a: a.ravel(), [(2, 3)]),
    ("select", lambda m, a: a.select(1, -2), [(2, 3, 4)]),
    ("diff", lambda m, a: m.diff(a), [(2, 5)]),
    ("diff_n2_dim0", lambda m, a: a.diff(n=2, dim=0), [(4, 3)]),
    ("diff_prepend", lambda m, a, b, c: m.diff(a, dim=1, prepend=b, append=c), [(2, 3), (2, 1), (2, 2)]),
    ("block_diag", lambda m, a, b, c: m.block_diag(a, b, c), [(2, 3), (), (2,)]),
    ("cartesian_prod", lambda m, a, b: m.cartesian_prod(a, b), [(2,), (3,)]),
    ("cartesian_prod_1", lambda m, a: m.cartesian_prod(a), [(3,)]),
    ("tensordot_2", lambda m, a, b: m.tensordot(a, b), [(2, 3, 4), (3, 4, 5)]),
    ("tensordot_0", lambda m, a, b: m.tensordot(a, b, 0), [(2,), (3,)]),
    ("tensordot_lists", lambda m, a, b: m.tensordot(a, b, ([0, 2], [2, 0])), [(2, 3, 4), (4, 5, 2)]),
    ("kron", lambda m, a, b: m.kron(a, b), [(2, 3), (2, 2)]),
    ("kron_ranks", lambda m, a, b: m.kron(a, b), [(2,), (3, 2)]),
    ("nansum", lambda m, a: m.nansum(a, 1), [(2, 3)]),
    ("nanmean", lambda m, a: a.nanmean(), [(2, 3)]),
    ("aminmax", lambda m, a: tuple(m.aminmax(a)), [(2, 3)]),
    ("aminmax_dim", lambda m, a: tuple(m.aminmax(a, dim=0, keepdim=True)), [(2, 3)]),
    ("pdist", lambda m, a: m.pdist(a), [(4, 3)]),
    ("pdist_one_row", lambda m, a: m.pdist(a), [(1, 3)]),
    ("dist", lambda m, a, b: m.dist(a, b), [(2, 3), (3,)]),
    ("dist_p1", lambda m, a, b: a.dist(b, 1), [(2, 3), (2, 3)]),
]  # fmt: skip


@pytest.mark.parametrize("name,fn,shapes", DIFF, ids=[d[0] for d in DIFF])
@pytest.mark.parametrize("dtype", [F32, F64])
def test_matches_torch(name, fn, shapes, dtype):
    arrays = [rand(s, dtype, i) for i, s in enumerate(shapes)]
    check(lambda *a: fn(gf, *a), lambda *a: fn(torch, *a), arrays)


@pytest.mark.parametrize("name,fn,shapes", DIFF, ids=[d[0] for d in DIFF])
def test_gradcheck(name, fn, shapes):
    ts = [gf.tensor(rand(s, F64, i), requires_grad=True) for i, s in enumerate(shapes)]

    def f(*a):
        out = fn(gf, *a)
        return gf.stack([o.sum() for o in out]) if isinstance(out, (tuple, list)) else out

    assert gf.gradcheck(f, ts)


def test_nan_reductions():
    x = np.array([[1.0, np.nan, 2.0], [np.nan, np.nan, 3.0]], F32)
    check(lambda a: gf.nansum(a), lambda a: torch.nansum(a), [x])
    check(
        lambda a: gf.nanmean(a, 1, keepdim=True), lambda a: torch.nanmean(a, 1, keepdim=True), [x]
    )
    check(lambda a: a.nansum(0), lambda a: a.nansum(0), [x])


def test_search():
    seq = np.array([1, 3, 5, 7, 9], np.int64)
    vals = np.array([[0, 3, 9], [10, 5, 4]], np.int64)
    seq2 = np.array([[1, 3, 5], [2, 4, 6]], np.float32)
    v2 = np.array([[3.0, 0.0], [6.0, 4.5]], np.float32)
    for kw in [{}, {"right": True}, {"side": "right"}, {"out_int32": True}]:
        for s, v in [(seq, vals), (seq2, v2)]:
            g = gf.searchsorted(gf.tensor(s), gf.tensor(v), **kw)
            t = torch.searchsorted(torch.tensor(s), torch.tensor(v), **kw)
            assert g.dtype == t.numpy().dtype
            np.testing.assert_array_equal(g.numpy(), t.numpy())
        kw.pop("side", None)
        g = gf.bucketize(gf.tensor(vals), gf.tensor(seq), **kw)
        t = torch.bucketize(torch.tensor(vals), torch.tensor(seq), **kw)
        assert g.dtype == t.numpy().dtype
        np.testing.assert_array_equal(g.numpy(), t.numpy())
    g = gf.searchsorted(gf.tensor(seq), 4)
    t = torch.searchsorted(torch.tensor(seq), 4)
    assert g.shape == tuple(t.shape) and g.item() == t.item()
    perm = np.array([2, 0, 1], np.int64)
    shuffled = np.array([5, 1, 3], np.int64)
    g = gf.searchsorted(gf.tensor(shuffled), gf.tensor([2, 4]), sorter=gf.tensor(perm))
    t = torch.searchsorted(torch.tensor(shuffled), torch.tensor([2, 4]), sorter=torch.tensor(perm))
    np.testing.assert_array_equal(g.numpy(), t.numpy())


ERRORS = [
    ("hstack empty", lambda m: m.hstack([])),
    ("unflatten sizes", lambda m: m.zeros(2, 6).unflatten(1, (4, 2))),
    ("unflatten two -1", lambda m: m.zeros(2, 6).unflatten(1, (-1, -1))),
    ("select range", lambda m: m.zeros(2, 3).select(1, 3)),
    ("select 0-d", lambda m: m.tensor(1.0).select(0, 0)),
    ("diff 0-d", lambda m: m.diff(m.tensor(1.0))),
    ("block_diag 3-d", lambda m: m.block_diag(m.zeros(1, 1, 1))),
    ("cartesian_prod 2-d", lambda m: m.cartesian_prod(m.zeros(2, 2))),
    ("tensordot mismatch", lambda m: m.tensordot(m.zeros(2, 3), m.zeros(2, 3), 1)),
    ("tensordot negative", lambda m: m.tensordot(m.zeros(2, 3), m.zeros(2, 3), -1)),
    ("searchsorted side", lambda m: m.searchsorted(m.tensor([1, 2]), m.tensor([1]), side="up")),
    ("bucketize 2-d", lambda m: m.bucketize(m.tensor([1]), m.zeros(2, 2))),
    ("nanmean int", lambda m: m.nanmean(m.tensor([1, 2]))),
    ("aminmax empty", lambda m: m.aminmax(m.zeros(0))),
    ("pdist 1-d", lambda m: m.pdist(m.zeros(3))),
]


@pytest.mark.parametrize("name,fn", ERRORS, ids=[e[0] for e in ERRORS])
def test_error_types(name, fn):
    with pytest.raises(Exception) as te:
        fn(torch)
    with pytest.raises(type(te.value)):
        fn(gf)
