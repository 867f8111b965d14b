"""tril/triu, diag, diagonal, trace, roll, flips, rot90, meshgrid, narrow, unbind,
repeat_interleave, tile against PyTorch."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import gradfit as gf
from oracle import check
from strategies import dtypes, rand, seeds, shape_and_dim

FEW = settings(max_examples=15, deadline=None)
mats = hnp.array_shapes(min_dims=2, max_dims=4, min_side=1, max_side=5)


@FEW
@given(shape=mats, dtype=dtypes, seed=seeds, k=st.integers(-3, 3))
def test_tril_triu_diagonal(shape, dtype, seed, k):
    x = rand(shape, dtype, seed)
    check(lambda a: gf.tril(a, k), lambda a: torch.tril(a, k), [x])
    check(lambda a: a.triu(diagonal=k), lambda a: a.triu(diagonal=k), [x])
    check(lambda a: a.diagonal(k), lambda a: a.diagonal(k), [x])
    check(lambda a: a.diagonal(k, -1, 0), lambda a: a.diagonal(k, -1, 0), [x])


@FEW
@given(n=st.integers(0, 4), dtype=dtypes, seed=seeds, k=st.integers(-2, 2))
def test_diag_trace_diag_embed(n, dtype, seed, k):
    v, m = rand((n,), dtype, seed), rand((n, n + 1), dtype, seed)
    check(lambda a: gf.diag(a, k), lambda a: torch.diag(a, k), [v])
    check(lambda a: a.diag(k), lambda a: a.diag(k), [m])
    check(lambda a: gf.trace(a), lambda a: torch.trace(a), [m])
    check(
        lambda a: gf.diag_embed(a, k), lambda a: torch.diag_embed(a, k), [rand((2, n), dtype, seed)]
    )
    i = np.arange(6, dtype=np.int32).reshape(2, 3)
    check(lambda a: gf.trace(a), lambda a: torch.trace(a), [i])


@FEW
@given(sd=shape_and_dim(), dtype=dtypes, seed=seeds, s=st.integers(-6, 6))
def test_roll_narrow_unbind_flips(sd, dtype, seed, s):
    shape, dim = sd
    x = rand(shape, dtype, seed)
    check(lambda a: a.roll(s, dim), lambda a: a.roll(s, dim), [x])
    check(lambda a: gf.roll(a, s), lambda a: torch.roll(a, s), [x])
    check(lambda a: a.roll((s, 1), (dim, 0)), lambda a: a.roll((s, 1), (dim, 0)), [x])
    n = shape[dim]
    start = s % n - (n if s < 0 else 0)  # in -n..n-1
    ln = min(2, n - start % n)
    check(lambda a: a.narrow(dim, start, ln), lambda a: a.narrow(dim, start, ln), [x])
    check(lambda a: a.unbind(dim), lambda a: a.unbind(dim), [x])
    check(lambda a: gf.flipud(a), lambda a: torch.flipud(a), [x])
    if len(shape) >= 2:
        check(lambda a: gf.fliplr(a), lambda a: torch.fliplr(a), [x])
        d2 = (dim + 1) % len(shape)
        for k in range(-1, 4):
            check(
                lambda a, k=k: gf.rot90(a, k, (dim, d2)),
                lambda a, k=k: torch.rot90(a, k, (dim, d2)),
                [x],
            )


@FEW
@given(sd=shape_and_dim(), dtype=dtypes, seed=seeds, r=st.integers(0, 3))
def test_repeat_interleave_tile(sd, dtype, seed, r):
    shape, dim = sd
    x = rand(shape, dtype, seed)
    check(lambda a: a.repeat_interleave(r), lambda a: a.repeat_interleave(r), [x])
    check(lambda a: a.repeat_interleave(r, dim), lambda a: a.repeat_interleave(r, dim), [x])
    reps = np.random.default_rng(seed).integers(0, 3, shape[dim])
    check(
        lambda a: gf.repeat_interleave(a, gf.tensor(reps), dim=dim),
        lambda a: torch.repeat_interleave(a, torch.tensor(reps), dim=dim),
        [x],
    )
    check(lambda a: a.tile((2,)), lambda a: a.tile((2,)), [x])
    check(lambda a: a.tile((2, 1, 1, 1, 2)), lambda a: a.tile((2, 1, 1, 1, 2)), [x])
    c = np.array([2, 0, 3])
    np.testing.assert_array_equal(
        gf.repeat_interleave(gf.tensor(c)).numpy(), torch.repeat_interleave(torch.tensor(c)).numpy()
    )


@pytest.mark.parametrize("indexing", ["ij", "xy"])
@pytest.mark.parametrize("n", [1, 2, 3])
def test_meshgrid(indexing, n):
    arrays = [rand((i + 2,), np.float64, i) for i in range(n)]
    check(
        lambda *a: gf.meshgrid(*a, indexing=indexing),
        lambda *a: torch.meshgrid(*a, indexing=indexing),
        arrays,
    )
    check(
        lambda *a: gf.meshgrid(list(a), indexing=indexing),
        lambda *a: torch.meshgrid(list(a), indexing=indexing),
        arrays,
    )


def test_zero_d():
    x = np.array(1.5, np.float32)
    check(lambda a: a.roll(1), lambda a: a.roll(1), [x])
    check(lambda a: a.repeat_interleave(3), lambda a: a.repeat_interleave(3), [x])
    check(lambda a: a.tile((2,)), lambda a: a.tile((2,)), [x])
    check(
        lambda a, b: gf.meshgrid(a, b, indexing="ij"),
        lambda a, b: torch.meshgrid(a, b, indexing="ij"),
        [x, x],
    )


def test_gradcheck():
    x = gf.tensor(rand((3, 4), np.float64, 0), requires_grad=True)
    v = gf.tensor(rand((3,), np.float64, 1), requires_grad=True)
    for fn in [
        lambda a: gf.tril(a, -1), lambda a: gf.triu(a, 1), lambda a: a.diagonal(1),
        lambda a: a.diag(), lambda a: a.trace(), lambda a: a.roll(2, 1), lambda a: a.narrow(1, 1, 2),
        lambda a: a.unbind(1)[2], lambda a: a.repeat_interleave(gf.tensor([1, 0, 2]), 0),
        lambda a: a.tile((2, 1)), lambda a: gf.rot90(a), lambda a: gf.fliplr(a),
    ]:  # fmt: skip
        assert gf.gradcheck(fn, [x])
    assert gf.gradcheck(lambda a: gf.diag(a, 1), [v])
    assert gf.gradcheck(lambda a: gf.diag_embed(a), [v])
    assert gf.gradcheck(lambda a: gf.meshgrid(a, a, indexing="xy")[0], [v])


ERRORS = [
    ("tril 1-d", lambda m: m.tril(m.zeros(3))),
    ("triu 0-d", lambda m: m.triu(m.tensor(1.0))),
    ("diag 3-d", lambda m: m.diag(m.zeros(2, 2, 2))),
    ("trace 1-d", lambda m: m.trace(m.zeros(2))),
    ("diagonal same dims", lambda m: m.zeros(2, 2).diagonal(0, 1, 1)),
    ("diagonal dim range", lambda m: m.zeros(2, 2).diagonal(0, 0, 5)),
    ("roll 0-d with dims", lambda m: m.tensor(1.0).roll(1, 0)),
    ("roll mismatch", lambda m: m.roll(m.zeros(2, 2), (1, 2), (0,))),
    ("narrow too long", lambda m: m.zeros(3).narrow(0, 2, 2)),
    ("narrow 0-d", lambda m: m.tensor(1.0).narrow(0, 0, 1)),
    ("unbind dim", lambda m: m.zeros(2).unbind(1)),
    ("repeat_interleave negative", lambda m: m.zeros(2).repeat_interleave(-1)),
    ("repeat_interleave size", lambda m: m.zeros(2).repeat_interleave(m.tensor([1, 2, 3]), 0)),
    ("meshgrid 2-d", lambda m: m.meshgrid(m.zeros(2, 2), indexing="ij")),
    ("meshgrid indexing", lambda m: m.meshgrid(m.zeros(2), indexing="ab")),
    ("fliplr 1-d", lambda m: m.fliplr(m.zeros(2))),
    ("rot90 same dims", lambda m: m.rot90(m.zeros(2, 2), 1, (0, 0))),
]


@pytest.mark.parametrize("name,fn", ERRORS, ids=[e[0] for e in ERRORS])
def test_error_types(name, fn):
    with pytest.raises(Exception) as te:
        fn(torch)
    with pytest.raises(type(te.value)):
        fn(gf)


@FEW
@given(sd=shape_and_dim(), dtype=dtypes, seed=seeds, data=st.data())
def test_movedim_swapaxes(sd, dtype, seed, data):
    shape, dim = sd
    x = rand(shape, dtype, seed)
    dst = data.draw(st.integers(-len(shape), len(shape) - 1))
    check(lambda a: a.movedim(dim, dst), lambda a: a.movedim(dim, dst), [x])
    check(lambda a: gf.moveaxis(a, dim, dst), lambda a: torch.moveaxis(a, dim, dst), [x])
    if len(shape) >= 2:
        src2 = (dim % len(shape), (dim + 1) % len(shape))
        dst2 = (dst % len(shape), (dst + 1) % len(shape))
        check(lambda a: a.movedim(src2, dst2), lambda a: a.movedim(src2, dst2), [x])
    check(lambda a: a.swapaxes(dim, dst), lambda a: a.swapaxes(dim, dst), [x])
    check(lambda a: gf.swapdims(a, dim, dst), lambda a: torch.swapdims(a, dim, dst), [x])
