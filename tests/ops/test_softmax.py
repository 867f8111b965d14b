"""softmax / log_softmax along any axis against PyTorch; stability at 1e4 with no warnings."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from hypothesis import given

import gradfit as gf
from oracle import check
from strategies import dtypes, rand, seeds, shape_and_dim


@given(sd=shape_and_dim(), dtype=dtypes, seed=seeds)
def test_matches_torch(sd, dtype, seed):
    shape, dim = sd
    x = rand(shape, dtype, seed, -5, 5)
    check(lambda a: a.softmax(dim), lambda a: a.softmax(dim), [x])
    check(lambda a: a.log_softmax(dim), lambda a: a.log_softmax(dim), [x])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_stable_for_logits_of_magnitude_1e4(dtype):
    x = np.array([[1e4, -1e4, 0.0], [1e4, 1e4, 1e4], [-1e4, -1e4, -1e4]], dtype=dtype)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for dim in (0, 1, -1):
            out = check(lambda a, d=dim: a.softmax(d), lambda a, d=dim: a.softmax(d), [x])
            assert np.all(np.isfinite(out.numpy()))
            out = check(lambda a, d=dim: a.log_softmax(d), lambda a, d=dim: a.log_softmax(d), [x])
            assert np.all(np.isfinite(out.numpy()))


def test_gradcheck():
    x = gf.tensor(rand((3, 4), np.float64, 2), requires_grad=True)
    assert gf.gradcheck(lambda a: a.softmax(1), [x])
    assert gf.gradcheck(lambda a: a.log_softmax(0), [x])


def test_dim_is_required():
    with pytest.raises(TypeError, match="softmax: dim is required"):
        gf.softmax(gf.ones(3))
    with pytest.raises(IndexError, match="log_softmax: dimension 2"):
        gf.log_softmax(gf.ones(3, 2), dim=2)


def test_softmax_sums_to_one_and_is_float32():
    y = gf.randn(5, 7).softmax(-1)
    assert y.dtype == np.float32
    np.testing.assert_allclose(y.sum(-1).numpy(), np.ones(5), rtol=1e-6)


@given(sd=shape_and_dim(), dtype=dtypes, seed=seeds)
def test_softmin_matches_torch(sd, dtype, seed):
    import torch

    shape, dim = sd
    x = rand(shape, dtype, seed, -5, 5)
    check(lambda a: gf.nn.functional.softmin(a, dim), lambda a: torch.nn.functional.softmin(a, dim), [x])  # fmt: skip
    check(lambda a: gf.nn.Softmin(dim)(a), lambda a: torch.nn.Softmin(dim)(a), [x])


def test_softmin_dtype_and_errors():
    import torch

    x = rand((2, 3), np.float32, 0)
    got = gf.nn.functional.softmin(gf.tensor(x), 1, dtype=gf.float64)
    want = torch.nn.functional.softmin(torch.tensor(x), 1, dtype=torch.float64)
    assert got.dtype == gf.float64
    np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-12)
    assert repr(gf.nn.Softmin(dim=1)) == repr(torch.nn.Softmin(dim=1))
    with pytest.raises(TypeError, match="softmin: dim is required"):
        gf.nn.functional.softmin(gf.ones(3))
