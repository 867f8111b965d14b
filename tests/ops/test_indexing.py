"""gather/scatter/index_*/masked_*/nonzero/take against PyTorch (values, gradients, errors)."""

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


def _index(shape, dim, n, seed):
    return np.random.default_rng(seed).integers(0, n, shape).astype(np.int64)


@FEW
@given(sd=shape_and_dim(), dtype=dtypes, seed=seeds)
def test_gather(sd, dtype, seed):
    shape, dim = sd
    x = rand(shape, dtype, seed)
    ishape = list(shape)
    ishape[dim] = 3
    idx = _index(ishape, dim, shape[dim], seed)
    check(
        lambda a: gf.gather(a, dim, gf.tensor(idx)),
        lambda a: torch.gather(a, dim, torch.tensor(idx)),
        [x],
    )
    check(lambda a: a.gather(dim, gf.tensor(idx)), lambda a: a.gather(dim, torch.tensor(idx)), [x])


@FEW
@given(sd=shape_and_dim(), dtype=dtypes, seed=seeds, reduce=st.sampled_from([None, "add"]))
def test_scatter_and_scatter_add(sd, dtype, seed, reduce):
    shape, dim = sd
    x, src = rand(shape, dtype, seed), rand(shape, dtype, seed + 1)
    # unique indices along dim for scatter (overwrites with repeats are order-dependent)
    perm = np.argsort(np.random.default_rng(seed).random(shape), axis=dim).astype(np.int64)
    ti, gi = torch.tensor(perm), gf.tensor(perm)
    kw = {} if reduce is None else {"reduce": reduce}
    check(
        lambda a, s: gf.scatter(a, dim, gi, s, **kw),
        lambda a, s: torch.scatter(a, dim, ti, s, **kw),
        [x, src],
        grad=reduce is None,  # torch has no derivative for scatter with reduce=
    )
    check(lambda a: a.scatter(dim, gi, 2.5), lambda a: a.scatter(dim, ti, 2.5), [x])
    rep = _index(shape, dim, shape[dim], seed)
    check(
        lambda a, s: a.scatter_add(dim, gf.tensor(rep), s),
        lambda a, s: a.scatter_add(dim, torch.tensor(rep), s),
        [x, src],
    )


@pytest.mark.parametrize("reduce", ["sum", "prod", "mean", "amax", "amin"])
@pytest.mark.parametrize("include_self", [True, False])
def test_scatter_reduce(reduce, include_self):
    x = rand((3, 4), np.float64, 1, 0.5, 2)
    src = rand((3, 5), np.float64, 2, 0.5, 2)
    idx = np.array([[0, 1, 0, 3, 3], [2, 2, 2, 0, 1], [1, 1, 0, 0, 1]], dtype=np.int64)
    check(
        lambda a, s: a.scatter_reduce(1, gf.tensor(idx), s, reduce, include_self=include_self),
        lambda a, s: a.scatter_reduce(1, torch.tensor(idx), s, reduce, include_self=include_self),
        [x, src],
    )


@FEW
@given(sd=shape_and_dim(), dtype=dtypes, seed=seeds)
def test_index_select_add_copy_fill(sd, dtype, seed):
    shape, dim = sd
    n = shape[dim]
    x = rand(shape, dtype, seed)
    idx = np.random.default_rng(seed).integers(0, n, 4).astype(np.int64)
    gi, ti = gf.tensor(idx), torch.tensor(idx)
    check(lambda a: gf.index_select(a, dim, gi), lambda a: torch.index_select(a, dim, ti), [x])
    sshape = list(shape)
    sshape[dim] = 4
    src = rand(sshape, dtype, seed + 1)
    check(
        lambda a, s: a.index_add(dim, gi, s, alpha=2),
        lambda a, s: a.index_add(dim, ti, s, alpha=2),
        [x, src],
    )
    uniq = np.random.default_rng(seed).permutation(n)[: min(n, 2)].astype(np.int64)
    sshape[dim] = len(uniq)
    src2 = rand(sshape, dtype, seed + 2)
    check(
        lambda a, s: a.index_copy(dim, gf.tensor(uniq), s),
        lambda a, s: a.index_copy(dim, torch.tensor(uniq), s),
        [x, src2],
    )
    check(lambda a: a.index_fill(dim, gi, -1.5), lambda a: a.index_fill(dim, ti, -1.5), [x])


@FEW
@given(sd=shape_and_dim(min_dims=0) if False else shape_and_dim(), dtype=dtypes, seed=seeds)
def test_masked_fill_select_scatter(sd, dtype, seed):
    shape, _ = sd
    x = rand(shape, dtype, seed)
    m = rand(shape[1:], np.float64, seed + 3) > 0  # broadcast over the first dim
    gm, tm = gf.tensor(m), torch.tensor(m)
    check(lambda a: a.masked_fill(gm, 7.0), lambda a: a.masked_fill(tm, 7.0), [x])
    v = np.array(3.0, dtype=dtype)
    check(lambda a, b: gf.masked_fill(a, gm, b), lambda a, b: torch.masked_fill(a, tm, b), [x, v])
    check(lambda a: a.masked_select(gm), lambda a: a.masked_select(tm), [x])
    src = rand((int(np.prod(shape)) + 1,), dtype, seed + 4)
    check(lambda a, s: a.masked_scatter(gm, s), lambda a, s: a.masked_scatter(tm, s), [x, src])


def test_zero_d_and_empty():
    x = np.array(2.0, dtype=np.float32)
    i0 = np.array(0, dtype=np.int64)
    check(lambda a: a.gather(0, gf.tensor(i0)), lambda a: a.gather(0, torch.tensor(i0)), [x])
    check(
        lambda a: a.index_select(0, gf.tensor([0])),
        lambda a: a.index_select(0, torch.tensor([0])),
        [x],
    )
    check(
        lambda a: a.masked_fill(gf.tensor(True), 1.0),
        lambda a: a.masked_fill(torch.tensor(True), 1.0),
        [x],
    )
    e = np.zeros((0, 3), dtype=np.float32)
    ie = np.zeros((0, 3), dtype=np.int64)
    check(lambda a: a.gather(1, gf.tensor(ie)), lambda a: a.gather(1, torch.tensor(ie)), [e])
    check(
        lambda a: a.index_select(1, gf.tensor([2, 0])),
        lambda a: a.index_select(1, torch.tensor([2, 0])),
        [e],
    )
    for a in [np.array(0.0), np.array(3), np.zeros((0, 2)), np.array([[0, 1], [2, 0]])]:
        g, t = gf.tensor(a).nonzero(), torch.tensor(a).nonzero()
        assert g.shape == tuple(t.shape) and g.dtype == np.int64
        np.testing.assert_array_equal(g.numpy(), t.numpy())
        gt, tt = (
            gf.nonzero(gf.tensor(a), as_tuple=True),
            torch.nonzero(torch.tensor(a), as_tuple=True),
        )
        assert len(gt) == len(tt)
        for u, v in zip(gt, tt):
            np.testing.assert_array_equal(u.numpy(), v.numpy())
        np.testing.assert_array_equal(
            gf.argwhere(gf.tensor(a)).numpy(), torch.argwhere(torch.tensor(a)).numpy()
        )


@FEW
@given(seed=seeds, dtype=dtypes)
def test_take(seed, dtype):
    x = rand((3, 4), dtype, seed)
    idx = np.random.default_rng(seed).integers(-12, 12, (2, 3)).astype(np.int64)
    check(lambda a: gf.take(a, gf.tensor(idx)), lambda a: torch.take(a, torch.tensor(idx)), [x])


def test_gradcheck():
    x = gf.tensor(rand((3, 4), np.float64, 0), requires_grad=True)
    s = gf.tensor(rand((3, 4), np.float64, 1), requires_grad=True)
    idx = gf.tensor(np.array([[0, 1, 1, 3], [2, 2, 0, 1], [3, 3, 3, 3]], dtype=np.int64))
    perm = gf.tensor(np.array([[3, 1, 0, 2]] * 3, dtype=np.int64))
    assert gf.gradcheck(lambda a: a.gather(1, idx), [x])
    assert gf.gradcheck(lambda a, b: a.scatter(1, perm, b), [x, s])
    assert gf.gradcheck(lambda a, b: a.scatter_add(1, idx, b), [x, s])
    assert gf.gradcheck(lambda a: a.index_select(0, gf.tensor([2, 0, 2])), [x])
    assert gf.gradcheck(lambda a, b: a.index_add(0, gf.tensor([2, 0, 2]), b), [x, s])
    assert gf.gradcheck(lambda a: a.masked_fill(a > 0, 0.0), [x])
    assert gf.gradcheck(lambda a: a.masked_select(a > 0), [x])
    assert gf.gradcheck(lambda a: a.take(gf.tensor([0, 0, 5])), [x])
    for r in ["sum", "mean", "amax"]:
        assert gf.gradcheck(lambda a, b, r=r: a.scatter_reduce(1, idx, b, r), [x, s])


def test_inplace_forms():
    x, t = gf.zeros(2, 3), torch.zeros(2, 3)
    i = [[2], [0]]
    x.scatter_(1, gf.tensor(i), 1.0)
    t.scatter_(1, torch.tensor(i), 1.0)
    x.index_fill_(0, gf.tensor([1]), 5.0)
    t.index_fill_(0, torch.tensor([1]), 5.0)
    x.masked_fill_(x > 4, -1.0)
    t.masked_fill_(t > 4, -1.0)
    np.testing.assert_array_equal(x.numpy(), t.numpy())
    w = gf.zeros(3, requires_grad=True)
    with pytest.raises(RuntimeError, match="masked_fill_"):
        w.masked_fill_(gf.tensor([True, False, True]), 1.0)
    y = gf.zeros(3)
    v = y._version[0]
    y.index_add_(0, gf.tensor([0, 0]), gf.ones(2))
    assert y._version[0] == v + 1 and y.tolist() == [2.0, 0.0, 0.0]


ERRORS = [
    ("gather float index", lambda m: m.gather(m.zeros(2, 2), 1, m.tensor([[0.0]]))),
    ("gather ndim", lambda m: m.gather(m.zeros(2, 2), 1, m.tensor([0]))),
    ("gather out of range", lambda m: m.gather(m.zeros(2, 2), 1, m.tensor([[5]]))),
    ("index_select 2-d index", lambda m: m.index_select(m.zeros(2, 2), 0, m.tensor([[0]]))),
    ("index_select float index", lambda m: m.index_select(m.zeros(2, 2), 0, m.tensor([0.0]))),
    ("index_select range", lambda m: m.index_select(m.zeros(2, 2), 0, m.tensor([7]))),
    ("dim range", lambda m: m.index_select(m.zeros(2, 2), 3, m.tensor([0]))),
    ("masked_fill int mask", lambda m: m.masked_fill(m.zeros(2), m.tensor([1, 0]), 1.0)),
    (
        "masked_fill vector value",
        lambda m: m.masked_fill(m.zeros(2), m.tensor([True, False]), m.ones(2)),
    ),
    ("masked_select shape", lambda m: m.masked_select(m.zeros(2), m.tensor([True, False, True]))),
    ("scatter dtype", lambda m: m.zeros(2).scatter(0, m.tensor([0]), m.ones(1, dtype=m.float64))),
    ("index_add shape", lambda m: m.zeros(3, 2).index_add(0, m.tensor([0]), m.ones(2, 2))),
    ("take range", lambda m: m.take(m.zeros(2), m.tensor([2]))),
]


@pytest.mark.parametrize("name,fn", ERRORS, ids=[e[0] for e in ERRORS])
def test_error_types(name, fn):
    with pytest.raises(Exception) as te:
        fn(torch)
    with pytest.raises(type(te.value)):
        fn(gf)


@FEW
@given(sd=shape_and_dim(), dtype=dtypes, seed=seeds)
def test_take_along_dim(sd, dtype, seed):
    shape, dim = sd
    x = rand(shape, dtype, seed)
    ishape = [1 if i != dim % len(shape) else 3 for i in range(len(shape))]  # broadcasts
    idx = np.random.default_rng(seed).integers(0, shape[dim], ishape).astype(np.int64)
    check(
        lambda a: gf.take_along_dim(a, gf.tensor(idx), dim),
        lambda a: torch.take_along_dim(a, torch.tensor(idx), dim),
        [x],
    )
    flat = np.random.default_rng(seed).integers(0, x.size, (4,)).astype(np.int64)
    check(
        lambda a: a.take_along_dim(gf.tensor(flat)),
        lambda a: a.take_along_dim(torch.tensor(flat)),
        [x],
    )


def test_inplace_forms_record_the_graph_as_torch_and_work_under_no_grad():
    import torch

    src, tsrc = gf.ones(2, requires_grad=True), torch.ones(2, requires_grad=True)
    x = gf.zeros(3).index_add_(0, gf.tensor([0, 0]), src * 3)
    tx = torch.zeros(3).index_add_(0, torch.tensor([0, 0]), tsrc * 3)
    (x * gf.tensor([1.0, 2.0, 3.0])).sum().backward()
    (tx * torch.tensor([1.0, 2.0, 3.0])).sum().backward()
    assert x.tolist() == tx.tolist() and src.grad.tolist() == tsrc.grad.tolist()
    w = gf.zeros(3, requires_grad=True)
    with gf.no_grad():
        w.masked_fill_(gf.tensor([True, False, True]), 1.0)
        w.scatter_(0, gf.tensor([1]), 2.0)
    assert w.tolist() == [1.0, 2.0, 1.0] and w.requires_grad
