"""cdist, cross, var_mean/std_mean, histc against PyTorch."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given, settings

import gradfit as gf
from oracle import check
from strategies import dtypes, rand, seeds, shape_and_dims

FEW = settings(max_examples=10, deadline=None)


@FEW
@given(dtype=dtypes, seed=seeds)
def test_cdist(dtype, seed):
    a, b = rand((3, 4), dtype, seed), rand((5, 4), dtype, seed + 1)
    check(lambda x, y: gf.cdist(x, y), lambda x, y: torch.cdist(x, y), [a, b])
    a3, b3 = rand((2, 3, 4), dtype, seed), rand((1, 2, 4), dtype, seed + 1)
    check(lambda x, y: gf.cdist(x, y), lambda x, y: torch.cdist(x, y), [a3, b3])
    check(lambda x, y: gf.cdist(x, y), lambda x, y: torch.cdist(x, y), [np.zeros((0, 4), dtype), b])


def test_cdist_coincident_points_and_gradcheck():
    a = np.array([[0.0, 1.0], [2.0, 2.0]])
    check(lambda x, y: gf.cdist(x, y), lambda x, y: torch.cdist(x, y), [a, a.copy()])
    x = gf.tensor(rand((3, 4), np.float64, 0), requires_grad=True)
    y = gf.tensor(rand((2, 4), np.float64, 1), requires_grad=True)
    assert gf.gradcheck(gf.cdist, [x, y])


@FEW
@given(dtype=dtypes, seed=seeds)
def test_cross(dtype, seed):
    a, b = rand((2, 3, 4), dtype, seed), rand((2, 3, 4), dtype, seed + 1)
    check(lambda x, y: gf.cross(x, y), lambda x, y: torch.cross(x, y), [a, b])
    check(lambda x, y: x.cross(y, dim=1), lambda x, y: x.cross(y, dim=1), [a, b])
    c, d = rand((4, 3), dtype, seed), rand((1, 3), dtype, seed + 1)
    check(lambda x, y: gf.cross(x, y, dim=-1), lambda x, y: torch.cross(x, y, dim=-1), [c, d])
    x = gf.tensor(rand((2, 3), np.float64, 0), requires_grad=True)
    y = gf.tensor(rand((2, 3), np.float64, 1), requires_grad=True)
    assert gf.gradcheck(lambda p, q: gf.cross(p, q, dim=1), [x, y])


@FEW
@given(sd=shape_and_dims(), dtype=dtypes, seed=seeds)
def test_var_mean_std_mean(sd, dtype, seed):
    shape, dim = sd
    x = rand(shape, dtype, seed)
    n = int(
        np.prod([shape[d] for d in ((dim,) if isinstance(dim, int) else dim or range(len(shape)))])
    )
    corr = 0 if n <= 1 else 1
    for kd in (False, True):
        check(
            lambda a: gf.var_mean(a, dim, keepdim=kd, correction=corr),
            lambda a: torch.var_mean(a, dim, keepdim=kd, correction=corr),
            [x],
        )
        check(
            lambda a: gf.std_mean(a, dim, keepdim=kd, correction=corr),
            lambda a: torch.std_mean(a, dim, keepdim=kd, correction=corr),
            [x],
        )


def test_histc():
    x = np.array([0.0, 0.5, 1.0, 2.5, 3.0, -1.0, 7.0], np.float32)
    for kw in [{}, {"bins": 4, "min": 0, "max": 3}, {"bins": 3}, {"bins": 5, "min": 1, "max": 1}]:
        g, t = gf.histc(gf.tensor(x), **kw), torch.histc(torch.tensor(x), **kw)
        assert g.dtype == t.numpy().dtype
        np.testing.assert_array_equal(g.numpy(), t.numpy())
    e = np.zeros(0, np.float32)
    np.testing.assert_array_equal(
        gf.histc(gf.tensor(e), bins=3).numpy(), torch.histc(torch.tensor(e), bins=3).numpy()
    )


ERRORS = [
    ("cdist 1-d", lambda m: m.cdist(m.zeros(3), m.zeros(3))),
    ("cdist columns", lambda m: m.cdist(m.zeros(2, 3), m.zeros(2, 4))),
    ("cross size", lambda m: m.cross(m.zeros(2, 4), m.zeros(2, 4), dim=1)),
    ("cross dim", lambda m: m.cross(m.zeros(2, 3), m.zeros(2, 3), dim=2)),
    ("histc max < min", lambda m: m.histc(m.zeros(3), bins=2, min=2, max=1)),
]


@pytest.mark.parametrize("name,fn", ERRORS, ids=[e[0] for e in ERRORS])
def test_error_types(name, fn):
    with pytest.raises(Exception) as te:
        fn(torch)
    with pytest.raises(type(te.value)):
        fn(gf)
