"""log10/log2/exp2/expm1, hyperbolic and inverse trig, erf family, rounding, atan2, hypot,
lerp, fmod/remainder against PyTorch."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given, settings

import gradfit as gf
from oracle import check
from strategies import dtypes, pair_shapes, rand, seeds, shapes

FEW = settings(max_examples=10, deadline=None)

# name, input range (low, high)
UNARY = [
    ("log10", (0.1, 3)), ("log2", (0.1, 3)), ("exp2", (-3, 3)), ("expm1", (-2, 2)),
    ("sinh", (-2, 2)), ("cosh", (-2, 2)), ("tan", (-1.2, 1.2)), ("asin", (-0.9, 0.9)),
    ("acos", (-0.9, 0.9)), ("atan", (-3, 3)), ("asinh", (-3, 3)), ("acosh", (1.1, 3)),
    ("atanh", (-0.9, 0.9)), ("erf", (-3, 3)), ("erfc", (-3, 3)), ("erfinv", (-0.95, 0.95)),
    ("floor", (-3, 3)), ("ceil", (-3, 3)), ("round", (-3, 3)), ("trunc", (-3, 3)),
    ("frac", (-3, 3)), ("fix", (-3, 3)),
]  # fmt: skip
IDS = [u[0] for u in UNARY]


@pytest.mark.parametrize("name,rng", UNARY, ids=IDS)
@FEW
@given(shape=shapes, dtype=dtypes, seed=seeds)
def test_unary_matches_torch(name, rng, shape, dtype, seed):
    x = rand(shape, dtype, seed, *rng)
    check(getattr(gf, name), getattr(torch, name), [x])
    check(lambda a: getattr(a, name)(), lambda a: getattr(a, name)(), [x])


@pytest.mark.parametrize(
    "name,rng", [u for u in UNARY if u[0] not in ("frac",)], ids=[i for i in IDS if i != "frac"]
)
def test_unary_integer_input_and_empty(name, rng):
    i = np.array([1, 2, 0], dtype=np.int64) if rng[0] >= 0 else np.array([0, 0], dtype=np.int32)
    if name in ("acosh",):
        i = np.array([1, 2], dtype=np.int64)
    if name in ("log10", "log2"):
        i = np.array([1, 2], dtype=np.int64)
    check(getattr(gf, name), getattr(torch, name), [i])
    check(getattr(gf, name), getattr(torch, name), [np.zeros((0, 2), np.float32)])


def test_unary_gradcheck():
    for name, (lo, hi) in UNARY:
        if name in ("floor", "ceil", "round", "trunc", "fix"):
            continue
        x = gf.tensor(rand((2, 3), np.float64, 1, lo, hi), requires_grad=True)
        assert gf.gradcheck(getattr(gf, name), [x]), name


def test_round_decimals_and_halves():
    x = np.array([0.5, 1.5, 2.5, -0.5, 1.2345, -2.675], dtype=np.float64)
    check(lambda a: gf.round(a), lambda a: torch.round(a), [x])
    check(lambda a: gf.round(a, decimals=2), lambda a: torch.round(a, decimals=2), [x])


@FEW
@given(shapes=pair_shapes, dtype=dtypes, seed=seeds)
def test_binary(shapes, dtype, seed):
    s1, s2 = shapes.input_shapes
    a, b = rand(s1, dtype, seed), rand(s2, dtype, seed + 1)
    b = np.where(np.abs(b) < 0.1, 0.5, b).astype(dtype)
    check(gf.atan2, torch.atan2, [a, b])
    check(gf.hypot, torch.hypot, [a, b])
    check(gf.fmod, torch.fmod, [a, b])
    check(gf.remainder, torch.remainder, [a, b])
    check(lambda x, y: x % y, lambda x, y: x % y, [a, b])
    check(lambda x: x.fmod(1.5), lambda x: x.fmod(1.5), [a])
    w = rand(s2, dtype, seed + 2, 0, 1)
    check(
        lambda x, y: gf.lerp(x, y, 0.3),
        lambda x, y: torch.lerp(x, y, 0.3),
        [a, rand(s1, dtype, seed + 3)],
    )
    if np.broadcast_shapes(s1, s2) == tuple(s1):
        check(lambda x, y, z: x.lerp(y, z), lambda x, y, z: x.lerp(y, z), [a, b, w])


def test_integer_mod():
    a, b = np.array([-7, 7, 5], np.int64), np.array([3, -3, 2], np.int64)
    check(gf.fmod, torch.fmod, [a, b])
    check(gf.remainder, torch.remainder, [a, b])
    with pytest.raises(RuntimeError, match="ZeroDivisionError"):
        torch.remainder(torch.tensor([1]), torch.tensor([0]))
    with pytest.raises(RuntimeError, match="ZeroDivisionError"):
        gf.remainder(gf.tensor([1]), gf.tensor([0]))


def test_binary_gradcheck():
    a = gf.tensor(rand((2, 3), np.float64, 0), requires_grad=True)
    b = gf.tensor(rand((3,), np.float64, 1, 0.5, 2), requires_grad=True)
    w = gf.tensor(rand((2, 1), np.float64, 2), requires_grad=True)
    assert gf.gradcheck(gf.atan2, [a, b])
    assert gf.gradcheck(gf.hypot, [a, b])
    assert gf.gradcheck(gf.fmod, [a, b])
    assert gf.gradcheck(gf.remainder, [a, b])
    assert gf.gradcheck(lambda x, y, z: gf.lerp(x, y.expand(2, 3), z), [a, b, w])


ERRORS = [
    ("lerp dtype", lambda m: m.lerp(m.zeros(2), m.zeros(2, dtype=m.float64), 0.5)),
    ("atan2 shapes", lambda m: m.atan2(m.zeros(2), m.zeros(3))),
    ("frac int", lambda m: m.frac(m.tensor([1, 2]))),
]


@pytest.mark.parametrize("name,fn", ERRORS, ids=[e[0] for e in ERRORS])
def test_error_types(name, fn):
    with pytest.raises(Exception) as te:
        fn(torch)
    with pytest.raises(type(te.value)):
        fn(gf)


# name, gradfit fn, torch fn, input ranges (one per operand)
MORE = [
    ("square", gf.square, torch.square, [(-2, 2)]),
    ("rsqrt", gf.rsqrt, torch.rsqrt, [(0.2, 3)]),
    ("reciprocal", gf.reciprocal, torch.reciprocal, [(0.2, 3)]),
    ("addcmul", lambda a, b, c: gf.addcmul(a, b, c, value=0.5), lambda a, b, c: torch.addcmul(a, b, c, value=0.5), [(-2, 2)] * 3),
    ("addcdiv", lambda a, b, c: a.addcdiv(b, c, value=2), lambda a, b, c: a.addcdiv(b, c, value=2), [(-2, 2), (-2, 2), (0.5, 2)]),
    ("clamp_min", lambda a: gf.clamp_min(a, 0.3), lambda a: torch.clamp_min(a, 0.3), [(-2, 2)]),
    ("clamp_max", lambda a: a.clamp_max(0.3), lambda a: a.clamp_max(0.3), [(-2, 2)]),
    ("logaddexp", gf.logaddexp, torch.logaddexp, [(-3, 3), (-3, 3)]),
    ("logaddexp2", gf.logaddexp2, torch.logaddexp2, [(-3, 3), (-3, 3)]),
    ("logit", gf.logit, torch.logit, [(0.05, 0.95)]),
    ("logit_eps", lambda a: gf.logit(a, 0.2), lambda a: torch.logit(a, 0.2), [(0.05, 0.95)]),
    ("xlogy", gf.xlogy, torch.xlogy, [(-2, 2), (0.2, 3)]),
    ("sgn", gf.sgn, torch.sign, [(-2, 2)]),  # torch.sgn's gradient is a ZeroTensor
    ("copysign", gf.copysign, torch.copysign, [(-2, 2), (-2, 2)]),
    ("deg2rad", gf.deg2rad, torch.deg2rad, [(-200, 200)]),
    ("rad2deg", gf.rad2deg, torch.rad2deg, [(-3, 3)]),
    ("fmax", gf.fmax, torch.fmax, [(-2, 2), (-2, 2)]),
    ("fmin", gf.fmin, torch.fmin, [(-2, 2), (-2, 2)]),
]  # fmt: skip


@pytest.mark.parametrize("name,gfn,tfn,ranges", MORE, ids=[m[0] for m in MORE])
@settings(max_examples=5, deadline=None)
@given(dtype=dtypes, seed=seeds)
def test_more_match_torch(name, gfn, tfn, ranges, dtype, seed):
    arrays = [rand((2, 3), dtype, seed + i, *r) for i, r in enumerate(ranges)]
    check(gfn, tfn, arrays)
    if len(ranges) == 2:  # broadcasting and 0-d
        check(gfn, tfn, [arrays[0], rand((3,), dtype, seed + 7, *ranges[1])])
        check(gfn, tfn, [rand((), dtype, seed, *ranges[0]), rand((), dtype, seed + 1, *ranges[1])])


@pytest.mark.parametrize("name,gfn,tfn,ranges", MORE, ids=[m[0] for m in MORE])
def test_more_gradcheck(name, gfn, tfn, ranges):
    ts = [
        gf.tensor(rand((2, 3), np.float64, i, *r), requires_grad=True) for i, r in enumerate(ranges)
    ]
    assert gf.gradcheck(gfn, ts)


def test_more_special_values():
    a = np.array([0.0, 0.0, 1.0, np.nan, -0.0], np.float64)
    b = np.array([0.0, np.nan, 0.0, 1.0, 2.0], np.float64)
    check(gf.xlogy, torch.xlogy, [a, b], grad=False)
    check(gf.fmax, torch.fmax, [a, b], grad=False)
    check(gf.fmin, torch.fmin, [a, b], grad=False)
    g, t = gf.signbit(gf.tensor(a)), torch.signbit(torch.tensor(a))
    np.testing.assert_array_equal(g.numpy(), t.numpy())
    with pytest.raises(RuntimeError):
        torch.addcdiv(
            torch.ones(2), torch.ones(2, dtype=torch.int64), torch.ones(2, dtype=torch.int64)
        )
    with pytest.raises(RuntimeError):
        gf.addcdiv(gf.ones(2), gf.ones(2, dtype=gf.int64), gf.ones(2, dtype=gf.int64))
    check(gf.sgn, torch.sgn, [a], grad=False)
