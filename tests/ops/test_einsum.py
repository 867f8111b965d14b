"""einsum, addmm, addmv, baddbmm, outer, dot, mv against PyTorch."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given, settings

import gradfit as gf
from oracle import check
from strategies import dtypes, rand, seeds

FEW = settings(max_examples=8, deadline=None)

# (equation, operand shapes)
CASES = [
    ("ij,jk->ik", [(2, 3), (3, 4)]),
    ("ij,jk", [(2, 3), (3, 4)]),
    ("bij,bjk->bik", [(2, 2, 3), (2, 3, 1)]),
    ("i,j->ij", [(3,), (2,)]),
    ("i,i->", [(4,), (4,)]),
    ("ii->i", [(3, 3)]),
    ("ii", [(3, 3)]),
    ("ij->", [(2, 3)]),
    ("ij->j", [(2, 3)]),
    ("ij->ji", [(2, 3)]),
    ("...ij,...jk->...ik", [(2, 1, 2, 3), (4, 3, 2)]),
    ("b...,b->...", [(2, 3, 4), (2,)]),
    ("ij,jk,kl->il", [(2, 3), (3, 4), (4, 2)]),
    ("iij,k->jk", [(2, 2, 3), (2,)]),
    ("bhqd,bhkd->bhqk", [(2, 2, 3, 4), (2, 2, 5, 4)]),
    ("i,i,i->i", [(0,), (0,), (0,)]),
    ("ij,j->i", [(2, 1), (3,)]),
]


@pytest.mark.parametrize("eq,shapes", CASES, ids=[c[0] for c in CASES])
@FEW
@given(dtype=dtypes, seed=seeds)
def test_einsum(eq, shapes, dtype, seed):
    arrays = [rand(s, dtype, seed + i) for i, s in enumerate(shapes)]
    check(lambda *a: gf.einsum(eq, *a), lambda *a: torch.einsum(eq, *a), arrays)
    check(lambda *a: gf.einsum(eq, list(a)), lambda *a: torch.einsum(eq, list(a)), arrays)


@pytest.mark.parametrize("eq,shapes", CASES[:15], ids=[c[0] for c in CASES[:15]])
def test_einsum_gradcheck(eq, shapes):
    ts = [gf.tensor(rand(s, np.float64, i), requires_grad=True) for i, s in enumerate(shapes)]
    assert gf.gradcheck(lambda *a: gf.einsum(eq, *a), ts)


@FEW
@given(dtype=dtypes, seed=seeds)
def test_blas_products(dtype, seed):
    m1, m2, inp = (
        rand((2, 3), dtype, seed),
        rand((3, 4), dtype, seed + 1),
        rand((4,), dtype, seed + 2),
    )
    check(lambda i, a, b: gf.addmm(i, a, b), lambda i, a, b: torch.addmm(i, a, b), [inp, m1, m2])
    check(
        lambda i, a, b: i.addmm(a, b, beta=0.5, alpha=2.0),
        lambda i, a, b: i.addmm(a, b, beta=0.5, alpha=2.0),
        [rand((2, 4), dtype, seed), m1, m2],
    )
    v = rand((3,), dtype, seed + 3)
    check(
        lambda i, a, b: gf.addmv(i, a, b, alpha=3),
        lambda i, a, b: torch.addmv(i, a, b, alpha=3),
        [rand((2,), dtype, seed), m1, v],
    )
    b1, b2 = rand((2, 2, 3), dtype, seed), rand((2, 3, 4), dtype, seed + 1)
    check(
        lambda i, a, b: gf.baddbmm(i, a, b),
        lambda i, a, b: torch.baddbmm(i, a, b),
        [rand((2, 1, 4), dtype, seed), b1, b2],
    )
    check(
        lambda i, a, b: i.baddbmm(a, b, beta=0.0, alpha=0.5),
        lambda i, a, b: i.baddbmm(a, b, beta=0.0, alpha=0.5),
        [rand((2, 2, 4), dtype, seed), b1, b2],
    )
    check(lambda a, b: gf.outer(a, b), lambda a, b: torch.outer(a, b), [v, inp])
    check(lambda a, b: a.ger(b), lambda a, b: a.ger(b), [v, inp])
    check(lambda a, b: gf.dot(a, b), lambda a, b: torch.dot(a, b), [v, v[::-1].copy()])
    check(lambda a, b: a.mv(b), lambda a, b: a.mv(b), [m1, v])
    e = np.zeros((0,), dtype)
    check(lambda a, b: gf.dot(a, b), lambda a, b: torch.dot(a, b), [e, e])


def test_beta_zero_ignores_nan():
    i = gf.full((2, 2), float("nan"))
    assert not np.isnan(gf.addmm(i, gf.eye(2), gf.eye(2), beta=0).numpy()).any()


def test_product_gradcheck():
    m1 = gf.tensor(rand((2, 3), np.float64, 0), requires_grad=True)
    m2 = gf.tensor(rand((3, 4), np.float64, 1), requires_grad=True)
    i = gf.tensor(rand((4,), np.float64, 2), requires_grad=True)
    v = gf.tensor(rand((3,), np.float64, 3), requires_grad=True)
    assert gf.gradcheck(lambda a, b, c: gf.addmm(c, a, b, beta=0.3, alpha=1.5), [m1, m2, i])
    assert gf.gradcheck(lambda a, b: gf.outer(a, b), [v, i])
    assert gf.gradcheck(lambda a, b: gf.mv(a, b), [m1, v])


ERRORS = [
    ("einsum operand count", lambda m: m.einsum("ij,jk->ik", m.zeros(2, 2))),
    ("einsum subscripts vs ndim", lambda m: m.einsum("ijk->i", m.zeros(2, 2))),
    ("einsum size mismatch", lambda m: m.einsum("ij,jk->ik", m.zeros(2, 3), m.zeros(2, 2))),
    ("einsum unknown output", lambda m: m.einsum("ij->iz", m.zeros(2, 2))),
    ("addmm 1-d", lambda m: m.addmm(m.zeros(2), m.zeros(2), m.zeros(2, 2))),
    ("addmm shapes", lambda m: m.addmm(m.zeros(2, 2), m.zeros(2, 3), m.zeros(2, 2))),
    ("baddbmm batches", lambda m: m.baddbmm(m.zeros(2, 2, 2), m.zeros(2, 2, 3), m.zeros(3, 3, 2))),
    ("outer 2-d", lambda m: m.outer(m.zeros(2, 2), m.zeros(2))),
    ("dot 2-d", lambda m: m.dot(m.zeros(2, 2), m.zeros(2, 2))),
    ("dot sizes", lambda m: m.dot(m.zeros(2), m.zeros(3))),
    ("dot dtypes", lambda m: m.dot(m.zeros(2), m.zeros(2, dtype=m.float64))),
    ("mv sizes", lambda m: m.mv(m.zeros(2, 3), m.zeros(2))),
]


@pytest.mark.parametrize("name,fn", ERRORS, ids=[e[0] for e in ERRORS])
def test_error_types(name, fn):
    with pytest.raises(Exception) as te:
        fn(torch)
    with pytest.raises(type(te.value)):
        fn(gf)
