"""Second derivatives of the indexing, scatter, cumulative, sorting, structure, padding, fold and
interpolation ops against torch (``second_order`` from test_double_backward: a random weighting
of the gradient taken with create_graph=True is differentiated again), and gradgradcheck.

These ops are linear in their float inputs (except cumprod and logcumsumexp), so each is
composed with a square or a product to give a second derivative that is not zero.
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

R = np.random.default_rng(11)


def rn(*shape):
    return R.standard_normal(shape)


IDX = np.array([[0, 2, 1], [1, 1, 0]])  # rows of a (2, 4) or (3, 3) input; repeats included
PERM = np.array([[2, 0, 1], [0, 1, 2]])  # no repeats along dim 1 (scatter that sets)
MASK = np.array(
    [[True, False, True, False], [False, False, True, True], [True, True, False, False]]
)
SEL = np.array([2, 0, 2])

CASES = {
    "gather": (lambda m, F, x, i: m.gather(x, 1, i) ** 2, [(2, 4)], [IDX]),
    "gather_dim0": (lambda m, F, x, i: m.gather(x * x, 0, i).sin(), [(3, 3)], [IDX]),
    "scatter_set": (lambda m, F, x, s, i: m.scatter(x, 1, i, s) ** 2, [(2, 4), (2, 3)], [PERM]),
    "scatter_add": (
        lambda m, F, x, s, i: m.scatter_add(x, 1, i, s * x[:, :3]) ** 2,
        [(2, 4), (2, 3)],
        [IDX],
    ),
    "scatter_reduce_sum": (
        lambda m, F, x, s, i: x.scatter_reduce(1, i, s, "sum", include_self=False) ** 2,
        [(2, 4), (2, 3)],
        [IDX],
    ),
    "scatter_reduce_mean": (
        lambda m, F, x, s, i: x.scatter_reduce(1, i, s * s, "mean") ** 3,
        [(2, 4), (2, 3)],
        [IDX],
    ),
    "scatter_reduce_mean_excl": (
        lambda m, F, x, s, i: x.scatter_reduce(1, i, s, "mean", include_self=False) * x,
        [(2, 4), (2, 3)],
        [IDX],
    ),
    "scatter_reduce_amax": (
        lambda m, F, x, s, i: x.scatter_reduce(1, i, s * s, "amax") ** 2,
        [(2, 4), (2, 3)],
        [IDX],
    ),
    "scatter_reduce_amin_excl": (
        lambda m, F, x, s, i: x.scatter_reduce(1, i, s, "amin", include_self=False) * x,
        [(2, 4), (2, 3)],
        [IDX],
    ),
    "scatter_reduce_prod": (
        lambda m, F, x, s, i: x.scatter_reduce(1, i, s, "prod") ** 2,
        [(2, 4), (2, 3)],
        [IDX],
    ),
    "scatter_reduce_prod_excl": (
        lambda m, F, x, s, i: x.scatter_reduce(1, i, s * x[:, 1:], "prod", include_self=False),
        [(2, 4), (2, 3)],
        [IDX],
    ),
    "index_select": (lambda m, F, x, i: m.index_select(x, 0, i) ** 2, [(3, 4)], [SEL]),
    "index_add": (
        lambda m, F, x, s, i: x.index_add(0, i, s, alpha=2.0) ** 2,
        [(3, 4), (3, 4)],
        [SEL],
    ),
    "index_copy": (
        lambda m, F, x, s, i: x.index_copy(1, i, s) ** 2,
        [(3, 4), (3, 2)],
        [np.array([3, 0])],
    ),
    "index_fill": (lambda m, F, x, i: x.index_fill(1, i, 0.5) * x, [(3, 4)], [SEL]),
    "masked_fill": (lambda m, F, x, v, k: x.masked_fill(k, v) ** 2 * v, [(3, 4), ()], [MASK]),
    "masked_fill_bcast": (
        lambda m, F, x, k: m.masked_fill(x, k, 2.0) ** 3,
        [(1, 4)],
        [MASK],
    ),
    "masked_select": (lambda m, F, x, k: m.masked_select(x, k) ** 2, [(3, 4)], [MASK]),
    "masked_select_bcast": (
        lambda m, F, x, k: m.masked_select(x * x, k).sin(),
        [(4,)],
        [MASK],
    ),
    "masked_scatter": (
        lambda m, F, x, s, k: x.masked_scatter(k, s) ** 2,
        [(3, 4), (2, 5)],
        [MASK],
    ),
    "take": (lambda m, F, x, i: m.take(x, i) ** 2, [(3, 4)], [np.array([[0, 11], [5, 5]])]),
    "take_along_dim": (
        lambda m, F, x, i: m.take_along_dim(x, i, dim=1) ** 2,
        [(2, 4)],
        [IDX],
    ),
    "tril_triu": (lambda m, F, x: m.tril(x, -1) ** 2 + m.triu(x * x, 1) * x, [(3, 4)], []),
    "diagonal": (lambda m, F, x: m.diagonal(x, 1, 0, 2) ** 3, [(3, 2, 4)], []),
    "diag_embed": (lambda m, F, x: m.diag_embed(x, offset=-1) ** 3, [(2, 3)], []),
    "diag_trace": (lambda m, F, x: m.diag(x) ** 3 + m.trace(x) ** 2, [(3, 3)], []),
    "roll": (lambda m, F, x: m.roll(x, (1, -2), (0, 1)) * x, [(3, 4)], []),
    "roll_flat": (lambda m, F, x: m.roll(x, 5) * x, [(3, 4)], []),
    "pad_constant": (lambda m, F, x: F.pad(x, (1, 2, -1, 0), value=0.5) ** 2, [(3, 4)], []),
    "pad_reflect": (lambda m, F, x: F.pad(x, (2, 1), mode="reflect") ** 2, [(2, 3, 4)], []),
    "pad_replicate": (lambda m, F, x: F.pad(x, (2, 1), mode="replicate") ** 2, [(2, 3, 4)], []),
    "pad_circular": (lambda m, F, x: F.pad(x, (1, 2), mode="circular") ** 3, [(2, 3, 4)], []),
    "nan_to_num": (
        lambda m, F, x, c: m.nan_to_num(x + c, 0.0, 5.0, -5.0) ** 2 * x,
        [(2, 3)],
        [np.array([[0.0, np.nan, np.inf], [-np.inf, 1.0, 0.0]])],
    ),
    "unfold": (lambda m, F, x: F.unfold(x, 2, padding=1, stride=2) ** 2, [(1, 2, 3, 4)], []),
    "fold": (lambda m, F, c: F.fold(c, (3, 3), 2, dilation=1) ** 3, [(2, 8, 4)], []),
    "interpolate_nearest": (lambda m, F, x: F.interpolate(x, size=5) ** 3, [(1, 2, 3)], []),
    "interpolate_bilinear": (
        lambda m, F, x: F.interpolate(x, scale_factor=2, mode="bilinear") ** 2,
        [(1, 1, 2, 3)],
        [],
    ),
    "interpolate_bicubic": (
        lambda m, F, x: F.interpolate(x, size=(3, 2), mode="bicubic", align_corners=True) ** 2,
        [(1, 2, 2, 3)],
        [],
    ),
    "cumsum": (lambda m, F, x: m.cumsum(x, 1) ** 2, [(3, 4)], []),
    "cumprod": (lambda m, F, x: m.cumprod(x, 0), [(3, 4)], []),
    "logcumsumexp": (lambda m, F, x: m.logcumsumexp(x, 1), [(3, 4)], []),
    "cummax": (lambda m, F, x: m.cummax(x, 1).values ** 2, [(3, 4)], []),
    "cummin": (lambda m, F, x: m.cummin(x, 0).values ** 2, [(3, 4)], []),
    "sort": (lambda m, F, x: m.sort(x, 1, descending=True).values ** 2 * x, [(3, 4)], []),
    "topk": (lambda m, F, x: m.topk(x, 2, dim=0).values ** 3, [(3, 4)], []),
    "kthvalue": (lambda m, F, x: m.kthvalue(x, 2, dim=1).values ** 3, [(3, 4)], []),
    "median": (lambda m, F, x: m.median(x, dim=1).values ** 3 + m.median(x) ** 2, [(3, 5)], []),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_second_order_vs_torch(name):
    fn, shapes, ints = CASES[name]
    with np.errstate(divide="ignore", invalid="ignore"):
        second_order(fn, [rn(*s) for s in shapes], ints=ints)


GRADGRAD = [
    "gather",
    "scatter_add",
    "scatter_reduce_mean",
    "scatter_reduce_amax",
    "scatter_reduce_prod",
    "index_add",
    "masked_fill",
    "masked_scatter",
    "take",
    "diag_embed",
    "pad_reflect",
    "pad_constant",
    "fold",
    "interpolate_bilinear",
    "cumsum",
    "cumprod",
    "logcumsumexp",
    "sort",
]


@pytest.mark.parametrize("name", GRADGRAD)
def test_gradgradcheck(name):
    fn, shapes, ints = CASES[name]
    xs = [gf.tensor(rn(*s), requires_grad=True) for s in shapes]
    consts = [gf.tensor(a) for a in ints]
    assert gf.gradgradcheck(lambda *t: fn(gf, gf.nn.functional, *t, *consts), xs)


@settings(max_examples=12, deadline=None)
@given(
    sd=strategies.shape_and_dim(),
    name=st.sampled_from(["cumsum", "cumprod", "logcumsumexp", "cummax", "sort", "roll"]),
    seed=strategies.seeds,
)
def test_along_a_dim_second_order_hypothesis(sd, name, seed):
    shape, dim = sd
    fns = {
        "cumsum": lambda m, F, x: m.cumsum(x, dim) ** 2,
        "cumprod": lambda m, F, x: m.cumprod(x, dim),
        "logcumsumexp": lambda m, F, x: m.logcumsumexp(x, dim),
        "cummax": lambda m, F, x: m.cummax(x, dim).values * x,
        "sort": lambda m, F, x: m.sort(x, dim).values * x,
        "roll": lambda m, F, x: m.roll(x, 2, dim) * x,
    }
    second_order(fns[name], [strategies.rand(shape, np.float64, seed)], seed=seed)


@pytest.mark.parametrize("name", ["cumsum", "cumprod", "logcumsumexp", "cummax", "sort", "roll"])
def test_along_a_dim_second_order_0d(name):
    fns = {
        "cumsum": lambda m, F, x: m.cumsum(x, 0) ** 2,
        "cumprod": lambda m, F, x: m.cumprod(x, -1) * x,
        "logcumsumexp": lambda m, F, x: m.logcumsumexp(x, 0) * x,
        "cummax": lambda m, F, x: m.cummax(x, 0).values * x,
        "sort": lambda m, F, x: m.sort(x, 0).values * x,
        "roll": lambda m, F, x: m.roll(x, 2) * x,
    }
    second_order(fns[name], [np.array(0.7)])


def test_setitem_copyslices_second_order():
    def fn(m, F, x, v):
        y = x * 1.0
        y[1:, ::2] = v * v  # CopySlices on a basic index
        y[[0, 2], 1] = v[0] ** 3  # and on an advanced one
        z = x.clone()
        z[0] += y[1]  # in place on a view (ScatterFlat/GatherFlat)
        return y * z

    second_order(fn, [rn(3, 4), rn(2)])


def test_unsupported_variants_name_themselves():
    x = gf.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    s = gf.tensor([[5.0, 0.0]], requires_grad=True)
    i = gf.tensor([[0, 1]])
    y = x.scatter_reduce(0, i, s, "prod", include_self=False)
    with pytest.raises(NotImplementedError, match=r"ScatterReduce\(reduce='prod'\) with zeros"):
        gf.autograd.grad(y.sum(), [x, s], create_graph=True)


def test_float32_stays_float32_and_third_order():
    x = gf.tensor([[0.5, -1.0, 2.0]], requires_grad=True)
    (g,) = gf.autograd.grad((gf.cumsum(x, 1) ** 3).sum(), x, create_graph=True)
    (h,) = gf.autograd.grad((g * g).sum(), x, create_graph=True)
    (k,) = gf.autograd.grad(h.sum(), x)
    assert g.dtype == h.dtype == k.dtype == gf.float32
    xt = torch.tensor([[0.5, -1.0, 2.0]], requires_grad=True)
    (gt,) = torch.autograd.grad((torch.cumsum(xt, 1) ** 3).sum(), xt, create_graph=True)
    (ht,) = torch.autograd.grad((gt * gt).sum(), xt, create_graph=True)
    (kt,) = torch.autograd.grad(ht.sum(), xt)
    np.testing.assert_allclose(k.numpy(), kt.numpy(), rtol=1e-5)


@pytest.mark.parametrize("reduce", ["amin", "mean", "prod"])
def test_scatter_reduce_third_order_vs_torch(reduce):
    x0, s0 = rn(2, 4), rn(2, 3)
    res = {}
    for lib in (gf, torch):
        x = lib.tensor(x0, requires_grad=True)
        s = lib.tensor(s0, requires_grad=True)
        y = (x.scatter_reduce(1, lib.tensor(IDX), s * s, reduce, include_self=False) ** 3).sum()
        gx, gs = lib.autograd.grad(y, [x, s], create_graph=True)
        hx, hs = lib.autograd.grad((gx**2).sum() + (gs**2).sum(), [x, s], create_graph=True)
        res[lib] = lib.autograd.grad(hx.sum() + hs.sum(), [x, s])
    for a, e in zip(res[gf], res[torch]):
        np.testing.assert_allclose(a.numpy(), e.numpy(), rtol=1e-9, atol=1e-10)


def _index_along(rng, shape, dim, n_max=4):
    """An int64 index for gather/scatter along ``dim`` of ``shape`` (repeats included)."""
    ishape = list(shape)
    ishape[dim] = int(rng.integers(1, n_max + 1))
    return rng.integers(0, shape[dim], ishape)


@settings(max_examples=15, deadline=None)
@given(
    sd=strategies.shape_and_dim(),
    name=st.sampled_from(
        ["gather", "scatter_add", "index_select", "masked_fill", "masked_select", "take"]
    ),
    seed=strategies.seeds,
)
def test_indexing_second_order_hypothesis(sd, name, seed):
    shape, dim = sd
    rng = np.random.default_rng(seed)
    x = strategies.rand(shape, np.float64, seed)
    if name == "gather":
        fn, arrays, ints = (
            lambda m, F, x, i: m.gather(x, dim, i) ** 2,
            [x],
            [_index_along(rng, shape, dim)],
        )
    elif name == "scatter_add":
        i = _index_along(rng, shape, dim)
        src = strategies.rand(i.shape, np.float64, seed + 1)
        fn, arrays, ints = lambda m, F, x, s, i: m.scatter_add(x, dim, i, s * s) ** 2, [x, src], [i]
    elif name == "index_select":
        i = rng.integers(0, shape[dim], int(rng.integers(1, 5)))
        fn, arrays, ints = lambda m, F, x, i: m.index_select(x * x, dim, i).sin(), [x], [i]
    elif name == "masked_fill":
        k = rng.random(shape[dim:]) > 0.5  # broadcast over the leading dims
        fn, arrays, ints = lambda m, F, x, k: m.masked_fill(x, k, 0.5) ** 3, [x], [k]
    elif name == "masked_select":
        k = rng.random(shape) > 0.3
        fn, arrays, ints = lambda m, F, x, k: m.masked_select(x, k) ** 3, [x], [k]
    else:
        i = rng.integers(0, x.size, (2, 3))
        fn, arrays, ints = lambda m, F, x, i: m.take(x * x, i).exp(), [x], [i]
    second_order(fn, arrays, ints=ints, seed=seed)


@pytest.mark.parametrize(
    "fn",
    [
        lambda m, F, x: m.gather(x, 0, m.tensor(0)) * x,
        lambda m, F, x: m.index_select(x, 0, m.tensor([0])) * x,
        lambda m, F, x: m.take(x, m.tensor([0, 0])) ** 3,
        lambda m, F, x: m.masked_fill(x, m.tensor(False), 1.0) ** 3,
        lambda m, F, x: m.masked_select(x * x, m.tensor(True)).sin(),
        lambda m, F, x: m.scatter_add(x, 0, m.tensor(0), x * x) ** 2,
        lambda m, F, x: m.cumsum(x, 0) ** 3 + m.logcumsumexp(x, 0) * x,
    ],
)
def test_indexing_0d_second_order(fn):
    second_order(fn, [np.array(0.7)])


def test_index_select_of_a_scalar_takes_one_index_as_torch():
    for lib in (gf, torch):
        with pytest.raises(RuntimeError, match="Index to scalar can have only 1 value"):
            lib.index_select(lib.tensor(0.7), 0, lib.tensor([0, 0]))


@pytest.mark.parametrize(
    "name",
    ["gather", "scatter_reduce_mean", "scatter_reduce_amax", "masked_fill", "index_add", "take",
     "pad_reflect", "interpolate_bilinear", "fold", "cumprod", "logcumsumexp", "diag_embed"],
)  # fmt: skip
def test_float32_second_order_stays_float32(name):
    fn, shapes, ints = CASES[name]
    arrays = [rn(*s) for s in shapes]
    out = {}
    for dt, lib in ((np.float32, gf), (np.float64, torch)):
        xs = [lib.tensor(a.astype(dt), requires_grad=True) for a in arrays]
        cs = [lib.tensor(c.astype(dt) if c.dtype.kind == "f" else c) for c in ints]
        y = fn(lib, gf.nn.functional if lib is gf else torch.nn.functional, *xs, *cs)
        gs = lib.autograd.grad(y.sum(), xs, create_graph=True)
        hs = lib.autograd.grad(sum((g * g).sum() for g in gs), xs)
        out[lib] = (gs, hs)
    for a, e in zip(out[gf][0] + out[gf][1], out[torch][0] + out[torch][1]):
        assert a.dtype == gf.float32
        np.testing.assert_allclose(a.detach().numpy(), e.detach().numpy(), rtol=2e-4, atol=2e-5)
