"""adaptive_avg_pool1d, adaptive_max_pool1d/2d and their layers against PyTorch."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import gradfit as gf
from gradfit.ops.pool import adaptive_avg_pool1d, adaptive_max_pool1d, adaptive_max_pool2d
from oracle import check

rng = np.random.default_rng(0)


@pytest.mark.parametrize(
    "shape, out",
    [
        ((2, 3, 7), 3),
        ((2, 3, 7), 7),
        ((2, 3, 5), 8),
        ((3, 10), (4,)),
        ((0, 2, 5), 2),
        ((1, 1, 1), 3),
    ],
)
def test_adaptive_1d_matches_torch(shape, out):
    x = rng.standard_normal(shape)
    check(lambda t: adaptive_avg_pool1d(t, out), lambda t: TF.adaptive_avg_pool1d(t, out), [x])
    check(lambda t: adaptive_max_pool1d(t, out), lambda t: TF.adaptive_max_pool1d(t, out), [x])
    _, i = adaptive_max_pool1d(gf.tensor(x), out, return_indices=True)
    _, ti = TF.adaptive_max_pool1d(torch.tensor(x), out, return_indices=True)
    assert i.dtype == gf.int64 and np.array_equal(i.numpy(), ti.numpy())


@pytest.mark.parametrize(
    "shape, out",
    [
        ((2, 3, 7, 5), (3, 2)),
        ((2, 3, 7, 5), 1),
        ((1, 2, 4, 5), (6, None)),
        ((3, 5, 6), (4, 4)),
        ((0, 2, 5, 5), 2),
        ((2, 2, 3, 3), (3, 3)),
    ],
)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_adaptive_max_2d_matches_torch(shape, out, dtype):
    x = rng.standard_normal(shape).astype(dtype)
    check(lambda t: adaptive_max_pool2d(t, out), lambda t: TF.adaptive_max_pool2d(t, out), [x])
    v, i = adaptive_max_pool2d(gf.tensor(x), out, return_indices=True)
    tv, ti = TF.adaptive_max_pool2d(torch.tensor(x), out, return_indices=True)
    assert np.array_equal(i.numpy(), ti.numpy()) and np.array_equal(v.numpy(), tv.numpy())


def test_ties_and_nan_pick_torch_index():
    x = np.zeros((1, 1, 4, 4))
    x[0, 0, 1, 2] = np.nan
    _, i = adaptive_max_pool2d(gf.tensor(x), 2, return_indices=True)
    _, ti = TF.adaptive_max_pool2d(torch.tensor(x), 2, return_indices=True)
    assert np.array_equal(i.numpy(), ti.numpy())


def test_gradcheck():
    x = gf.randn(2, 2, 5, 7, dtype=gf.float64, requires_grad=True)
    assert gf.gradcheck(lambda t: adaptive_max_pool2d(t, (3, 4)), [x])
    x1 = gf.randn(2, 2, 7, dtype=gf.float64, requires_grad=True)
    assert gf.gradcheck(lambda t: adaptive_avg_pool1d(t, 3), [x1])
    assert gf.gradcheck(lambda t: adaptive_max_pool1d(t, 3), [x1])


@pytest.mark.parametrize(
    "fn, tfn, shape, out",
    [
        (adaptive_max_pool2d, TF.adaptive_max_pool2d, (2, 3), 2),
        (adaptive_max_pool2d, TF.adaptive_max_pool2d, (1, 2, 0, 3), 2),
        (adaptive_max_pool2d, TF.adaptive_max_pool2d, (1, 2, 3, 3), (2, 2, 2)),
        (adaptive_avg_pool1d, TF.adaptive_avg_pool1d, (4,), 2),
        (adaptive_max_pool1d, TF.adaptive_max_pool1d, (1, 4), (2, 3)),
    ],
)
def test_errors_match_torch(fn, tfn, shape, out):
    with pytest.raises(RuntimeError):
        tfn(torch.zeros(shape), out)
    with pytest.raises(RuntimeError, match=fn.__name__):
        fn(gf.zeros(*shape), out)


def test_zero_output_size():
    assert adaptive_max_pool2d(gf.ones(1, 2, 3, 3), 0).shape == (1, 2, 0, 0)
    assert adaptive_avg_pool1d(gf.ones(2, 3, 4), 0).shape == (2, 3, 0)


@pytest.mark.parametrize(
    "name, args, shape",
    [
        ("AdaptiveAvgPool1d", (3,), (2, 4, 7)),
        ("AdaptiveMaxPool1d", (3,), (4, 7)),
        ("AdaptiveMaxPool2d", ((2, None),), (2, 3, 5, 4)),
        ("AdaptiveMaxPool2d", (3,), (3, 5, 4)),
    ],
)
def test_layers_match_torch(name, args, shape):
    layer, tlayer = getattr(gf.nn, name)(*args), getattr(torch.nn, name)(*args)
    assert repr(layer) == repr(tlayer)
    check(layer, tlayer, [rng.standard_normal(shape).astype(np.float32)])


def test_layer_return_indices():
    x = rng.standard_normal((2, 3, 6, 5)).astype(np.float32)
    v, i = gf.nn.AdaptiveMaxPool2d(2, return_indices=True)(gf.tensor(x))
    tv, ti = torch.nn.AdaptiveMaxPool2d(2, return_indices=True)(torch.tensor(x))
    assert np.array_equal(i.numpy(), ti.numpy()) and np.array_equal(v.numpy(), tv.numpy())
