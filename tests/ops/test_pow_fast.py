"""The fast ``x ** p`` path (small integer and half-integer exponents) against PyTorch."""

from __future__ import annotations

import numpy as np
import pytest

import gradfit as gf
from oracle import check

EXPONENTS = [0, 1, 2, 3, 4, -1, -2, -3, 0.5, -0.5, 1.5, -1.5, 2.0, 3.0, -2.0, 2.7]


@pytest.mark.parametrize("p", EXPONENTS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_pow_matches_torch_on_positive_inputs(p, dtype):
    x = np.random.default_rng(0).uniform(0.2, 3.0, (3, 4)).astype(dtype)
    check(lambda a: a**p, lambda a: a**p, [x])
    check(lambda a: gf.pow(a, p), lambda a: a**p, [x])


@pytest.mark.parametrize("p", [2, 3, 4, -1, -2, -3, 3.0])
def test_integer_exponents_on_negative_inputs(p):
    x = np.array([-2.0, -0.5, 0.7, 1.5], dtype=np.float32)
    check(lambda a: a**p, lambda a: a**p, [x])


@pytest.mark.parametrize("p", [0.5, -0.5, 1.5, -1.5, -1, -2])
def test_edge_values_match_torch(p):
    # zero, infinities, negatives (NaN for half-integer powers), NaN
    x = np.array([0.0, np.inf, -np.inf, -1.0, np.nan, 4.0], dtype=np.float32)
    check(lambda a: a**p, lambda a: a**p, [x], grad=False)


@pytest.mark.parametrize("p", [0, 2, 3, -1, 0.5, -1.5])
def test_empty_and_zero_d(p):
    check(lambda a: a**p, lambda a: a**p, [np.zeros((0, 3), dtype=np.float32)])
    check(lambda a: a**p, lambda a: a**p, [np.array(1.7, dtype=np.float32)])


@pytest.mark.parametrize("p", [3, -2, 0.5, -0.5, 1.5, -1.5, 4])
def test_gradcheck_float64(p):
    x = gf.tensor(np.random.default_rng(1).uniform(0.5, 2.0, (2, 3)), requires_grad=True)
    assert gf.gradcheck(lambda a: a**p, (x,))


def test_float32_stays_float32():
    x = gf.ones(3, requires_grad=True)
    y = x**-1.5
    y.sum().backward()
    assert y.dtype == gf.float32 and x.grad.dtype == gf.float32
