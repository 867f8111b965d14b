"""Arithmetic ops against PyTorch (values and gradients, broadcasting, dtypes) and gradcheck."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

import gradfit as gf
from oracle import check
from strategies import dtypes, pair_shapes, positive, rand, seeds, shapes

BINARY = [
    ("add", lambda a, b: a + b),
    ("sub", lambda a, b: a - b),
    ("mul", lambda a, b: a * b),
    ("div", lambda a, b: a / b),
    ("maximum", lambda a, b: gf.maximum(a, b) if isinstance(a, gf.Tensor) else torch.maximum(a, b)),
    ("minimum", lambda a, b: gf.minimum(a, b) if isinstance(a, gf.Tensor) else torch.minimum(a, b)),
]


@pytest.mark.parametrize("name,fn", BINARY, ids=[n for n, _ in BINARY])
@given(shp=pair_shapes, dtype=dtypes, seed=seeds)
def test_binary_broadcasting_matches_torch(name, fn, shp, dtype, seed):
    a_shape, b_shape = shp.input_shapes
    a = rand(a_shape, dtype, seed)
    b = rand(b_shape, dtype, seed + 1)
    if name == "div":
        b = np.where(np.abs(b) < 0.2, 0.5, b).astype(dtype)
    check(fn, fn, [a, b])


@given(shp=pair_shapes, dtype=dtypes, seed=seeds)
def test_pow_tensor_exponent(shp, dtype, seed):
    a_shape, b_shape = shp.input_shapes
    check(
        lambda a, b: a**b,
        lambda a, b: a**b,
        [positive(a_shape, dtype, seed), rand(b_shape, dtype, seed)],
    )


@pytest.mark.parametrize("p", [2, 3, 0.5, -1, -2.5, 0, 1])
@given(shape=shapes, dtype=dtypes, seed=seeds)
def test_pow_scalar_exponent(p, shape, dtype, seed):
    check(lambda a: a**p, lambda a: a**p, [positive(shape, dtype, seed)])


@given(shape=shapes, dtype=dtypes, seed=seeds)
def test_scalar_operands_on_either_side(shape, dtype, seed):
    fns = lambda x: (2 - x, x - 2, 3 * x, x * 3, 1 / (x + 5), (x + 5) / 2, -x, 2.0**x, x + 1.5)
    check(fns, fns, [rand(shape, dtype, seed)])


def test_numpy_array_operand_on_either_side_keeps_float32():
    x = gf.ones(3, requires_grad=True)
    arr = np.array([1.0, 2.0, 3.0])  # float64 on purpose
    for out in (x + arr, arr + x, x * arr, arr - x, arr / x):
        assert isinstance(out, gf.Tensor)
        assert out.dtype == np.float32
    (arr * x).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), arr)


@given(shape=shapes, dtype=dtypes, seed=seeds, lo=st.floats(-1.5, 0), hi=st.floats(0, 1.5))
def test_clamp(shape, dtype, seed, lo, hi):
    check(
        lambda a: gf.clamp(a, lo, hi), lambda a: torch.clamp(a, lo, hi), [rand(shape, dtype, seed)]
    )
    check(lambda a: a.clamp(min=lo), lambda a: a.clamp(min=lo), [rand(shape, dtype, seed)])
    check(lambda a: a.clamp(max=hi), lambda a: a.clamp(max=hi), [rand(shape, dtype, seed)])


@given(shp=pair_shapes, dtype=dtypes, seed=seeds)
def test_where(shp, dtype, seed):
    a_shape, b_shape = shp.input_shapes
    a, b = rand(a_shape, dtype, seed), rand(b_shape, dtype, seed + 1)
    check(
        lambda a, b: gf.where(a > 0, a, b),
        lambda a, b: torch.where(a > 0, a, b),
        [a, b],
    )


def test_maximum_ties_split_gradient_like_torch():
    a = np.array([1.0, 2.0, 3.0])
    b = np.array([1.0, 0.0, 3.0])
    check(gf.maximum, torch.maximum, [a, b])
    check(gf.minimum, torch.minimum, [a, b])


def test_integer_and_bool_arithmetic_follow_torch_dtypes():
    i = gf.tensor([1, 2, 3])
    assert i.dtype == np.int64
    assert (i + 1).dtype == np.int64
    assert (i + 1.5).dtype == np.float32
    assert (i / 2).dtype == np.float32
    assert (i * gf.ones(3)).dtype == np.float32
    assert (gf.ones(3, dtype="float64") + 1.5).dtype == np.float64
    assert (gf.ones(3) + gf.ones(3, dtype="float64")).dtype == np.float64


@pytest.mark.parametrize(
    "fn",
    [
        lambda a, b: a + b,
        lambda a, b: a - b,
        lambda a, b: a * b,
        lambda a, b: a / (b.abs() + 0.5),
        lambda a, b: (a.abs() + 0.5) ** b,
        lambda a, b: gf.maximum(a, b),
        lambda a, b: gf.minimum(a, b),
        lambda a, b: gf.where(a > b, a * 2, b),
        lambda a, b: gf.clamp(a, -0.5, 0.5) * b,
        lambda a, b: a**3 - a ** (-1.0) * 0 + b**2,
    ],
)
def test_gradcheck_float64(fn):
    a = gf.tensor(rand((3, 4), np.float64, 1), requires_grad=True)
    b = gf.tensor(rand((4,), np.float64, 2), requires_grad=True)
    assert gf.gradcheck(fn, [a, b])


def test_broadcast_error_names_op_and_shapes():
    with pytest.raises(ValueError, match=r"mul: shapes \(2, 3\) and \(4,\)"):
        gf.ones(2, 3) * gf.ones(4)
    with pytest.raises(ValueError, match=r"add: shapes"):
        gf.ones(2, 3) + gf.ones(2)


def test_clamp_requires_a_bound():
    with pytest.raises(ValueError, match="clamp"):
        gf.clamp(gf.ones(2))


def test_clamp_with_tensor_bounds_matches_torch_including_ties():
    x = np.array([-1.0, 0.0, 0.5, 1.0, 2.0])
    lo, hi = np.zeros(5), np.ones(5)
    check(lambda a, b, c: gf.clamp(a, b, c), lambda a, b, c: torch.clamp(a, b, c), [x, lo, hi])
    check(lambda a, b: gf.clamp(a, min=b), lambda a, b: torch.clamp(a, min=b), [x, lo])


def test_pow_gradients_at_zero_and_negative_bases_match_torch():
    a = np.array([0.0, 2.0, 0.0, -2.0, 3.0])
    b = np.array([0.0, 0.0, 1.0, 2.0, -1.0])
    check(lambda x, y: x**y, lambda x, y: x**y, [a, b])
    check(lambda y: 0.0**y, lambda y: 0.0**y, [np.array([1.0, 2.0, 0.0])])


def test_integer_pow_with_negative_exponents_matches_torch():
    a = np.array([0, 1, -1, -1, 2, -3, 5, 7])
    b = np.array([-1, -2, -3, -4, -1, -2, 0, 2])
    check(lambda x, y: x**y, lambda x, y: x**y, [a, b])
    check(lambda x, y: x**y, lambda x, y: x**y, [a[:, None], b])  # broadcast
    check(lambda y: 2**y, lambda y: 2**y, [b])  # int base: the result stays int64
    with pytest.raises(ValueError, match=r"pow: shapes \(2,\) and \(3,\) cannot be broadcast"):
        gf.tensor([2, 3]) ** gf.tensor([-1, 1, 2])


def test_integer_tensor_to_negative_python_int_power_raises_as_torch():
    with pytest.raises(RuntimeError, match="Integers to negative integer powers"):
        torch.tensor([2]) ** -1
    with pytest.raises(ValueError, match=r"pow: integers to negative integer powers .*int64"):
        gf.tensor([2]) ** -1
    check(lambda x: x**-1.0, lambda x: x**-1.0, [np.array([2, 4])])  # a float power is fine


BOOL_POW = {
    "bool ** bool": lambda L: L.tensor([True, False]) ** L.tensor([True, True]),
    "pow(bool, bool)": lambda L: L.pow(L.tensor([True, False]), L.tensor([False, True])),
    "bool ** True": lambda L: L.tensor([True, False]) ** True,
    "bool ** False": lambda L: L.tensor([True, False]) ** False,
    "True ** bool": lambda L: True ** L.tensor([True, False]),
    "bool ** 2": lambda L: L.tensor([True, False]) ** 2,
    "bool ** 0": lambda L: L.tensor([True, False]) ** 0,
    "bool ** 2.5": lambda L: L.tensor([True, False]) ** 2.5,
    "3 ** bool": lambda L: 3 ** L.tensor([True, False]),
    "2.5 ** bool": lambda L: 2.5 ** L.tensor([True, False]),
    "bool ** int": lambda L: L.tensor([True, False]) ** L.tensor([2, 3]),
    "int ** bool": lambda L: L.tensor([2, 3]) ** L.tensor([True, False]),
}


@pytest.mark.parametrize("case", list(BOOL_POW))
def test_bool_pow_matches_torch_values_dtypes_and_refusals(case):
    fn = BOOL_POW[case]
    try:
        expected = fn(torch)
    except (NotImplementedError, RuntimeError) as e:
        assert "not implemented for 'Bool'" in str(e)
        with pytest.raises(TypeError, match=r"pow: a bool tensor to a bool tensor power"):
            fn(gf)
        return
    out = fn(gf)
    assert str(out.dtype) == str(expected.dtype).removeprefix("torch."), case
    np.testing.assert_array_equal(out.numpy(), expected.numpy())
