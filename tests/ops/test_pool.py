"""Pooling ops against PyTorch (values and gradients), tie rule, gradcheck, dtype, errors."""

from __future__ import annotations

import numpy as np
import pytest
import torch.nn.functional as TF

import gradfit as gf
from gradfit.ops.pool import (
    adaptive_avg_pool2d,
    avg_pool1d,
    avg_pool2d,
    max_pool1d,
    max_pool2d,
)
from oracle import check

rng = np.random.default_rng(0)

POOL2D = [
    dict(kernel_size=2),  # the tiled fast path
    dict(kernel_size=2, stride=2),
    dict(kernel_size=(2, 3)),  # tiled, non-square, sizes not divisible (7 % 2, 8 % 3)
    dict(kernel_size=3, stride=1, padding=1),  # overlapping, padded
    dict(kernel_size=(3, 2), stride=(2, 1), padding=(1, 1)),
    dict(kernel_size=3, stride=2, ceil_mode=True),
    dict(kernel_size=2, stride=2, padding=1, ceil_mode=True),
    dict(kernel_size=1),
]


@pytest.mark.parametrize("shape", [(2, 3, 7, 8), (1, 1, 6, 6), (3, 5, 6)])
@pytest.mark.parametrize("kw", POOL2D)
def test_max_pool2d_matches_torch(kw, shape, kernel_path):
    x = rng.standard_normal(shape).astype(np.float32)
    check(lambda t: max_pool2d(t, **kw), lambda t: TF.max_pool2d(t, **kw), [x])


@pytest.mark.parametrize(
    "kw",
    [
        dict(kernel_size=2, stride=1, dilation=2),
        dict(kernel_size=(2, 3), dilation=(2, 1), padding=1),
    ],
)
def test_max_pool2d_dilation_matches_torch(kw):
    x = rng.standard_normal((2, 3, 8, 9)).astype(np.float32)
    check(lambda t: max_pool2d(t, **kw), lambda t: TF.max_pool2d(t, **kw), [x])


@pytest.mark.parametrize("kw", [dict(kernel_size=2), dict(kernel_size=3, stride=1, padding=1)])
def test_max_pool_ties_go_to_first_max(kw, kernel_path):
    """Windows of equal values (e.g. zeros after a ReLU): PyTorch gives the gradient to the first."""
    x = np.zeros((2, 2, 6, 6), np.float32)
    x[0, 0, 1, 1] = x[0, 0, 1, 0] = 1.0  # a tie of two maxima in one window
    check(lambda t: max_pool2d(t, **kw), lambda t: TF.max_pool2d(t, **kw), [x])
    check(
        lambda t: max_pool2d(gf.relu(t), **kw), lambda t: TF.max_pool2d(TF.relu(t), **kw), [x - 1]
    )


@pytest.mark.parametrize("kernel_size", [2, 3, (2, 3)])
def test_max_pool_nan_goes_where_torch_sends_it(kernel_size, kernel_path):
    """A window holding NaN gives NaN and PyTorch's index (the last NaN) gets the gradient."""
    x = rng.standard_normal((2, 2, 6, 6)).astype(np.float32)
    x[0, 0, 0, 1] = x[0, 0, 1, 0] = x[1, 1, 2, 2] = x[1, 0, 5, 5] = np.nan
    check(lambda t: max_pool2d(t, kernel_size), lambda t: TF.max_pool2d(t, kernel_size), [x])


@pytest.mark.parametrize("shape", [(2, 3, 7, 8), (1, 2, 5, 5)])
@pytest.mark.parametrize("kw", [k for k in POOL2D if "dilation" not in k])
@pytest.mark.parametrize("count_include_pad", [True, False])
def test_avg_pool2d_matches_torch(kw, shape, count_include_pad):
    x = rng.standard_normal(shape).astype(np.float32)
    check(
        lambda t: avg_pool2d(t, count_include_pad=count_include_pad, **kw),
        lambda t: TF.avg_pool2d(t, count_include_pad=count_include_pad, **kw),
        [x],
    )


def test_avg_pool2d_divisor_override():
    x = rng.standard_normal((2, 2, 6, 6)).astype(np.float32)
    check(
        lambda t: avg_pool2d(t, 3, 2, 1, divisor_override=5),
        lambda t: TF.avg_pool2d(t, 3, 2, 1, divisor_override=5),
        [x],
    )


POOL1D = [
    dict(kernel_size=2),
    dict(kernel_size=3, stride=2, padding=1),
    dict(kernel_size=3, stride=1),
    dict(kernel_size=2, stride=2, ceil_mode=True),
]


@pytest.mark.parametrize("shape", [(2, 3, 9), (1, 1, 4), (3, 8)])
@pytest.mark.parametrize("kw", POOL1D)
def test_pool1d_matches_torch(kw, shape, kernel_path):
    x = rng.standard_normal(shape).astype(np.float32)
    check(lambda t: max_pool1d(t, **kw), lambda t: TF.max_pool1d(t, **kw), [x])
    check(lambda t: avg_pool1d(t, **kw), lambda t: TF.avg_pool1d(t, **kw), [x])
    check(
        lambda t: max_pool1d(t, dilation=2, **kw) if "padding" not in kw else max_pool1d(t, **kw),
        lambda t: (
            TF.max_pool1d(t, dilation=2, **kw) if "padding" not in kw else TF.max_pool1d(t, **kw)
        ),
        [np.concatenate([x, x], -1)],
    )


@pytest.mark.parametrize("out", [1, (1, 1), 2, (3, 2), (5, 7), (None, 3), (4, None), (6, 9)])
def test_adaptive_avg_pool2d_matches_torch(out):
    x = rng.standard_normal((2, 3, 6, 7)).astype(np.float32)
    check(lambda t: adaptive_avg_pool2d(t, out), lambda t: TF.adaptive_avg_pool2d(t, out), [x])


def test_pool_after_conv_layout_matches_torch(kernel_path):
    """Pooling a conv output (whose memory is channel-major) and backpropagating through both."""
    from gradfit.ops.conv import conv2d

    x = rng.standard_normal((2, 2, 8, 8)).astype(np.float32)
    w = rng.standard_normal((3, 2, 3, 3)).astype(np.float32)
    check(
        lambda x, w: max_pool2d(gf.relu(conv2d(x, w, padding=1)), 2).reshape(2, -1),
        lambda x, w: TF.max_pool2d(TF.relu(TF.conv2d(x, w, padding=1)), 2).reshape(2, -1),
        [x, w],
        rtol=1e-4,
        atol=1e-4,
    )


@pytest.mark.parametrize(
    "fn",
    [
        lambda t: max_pool2d(t, 2),
        lambda t: max_pool2d(t, 3, 2, 1),
        lambda t: max_pool2d(t, (2, 3), (1, 2), dilation=(2, 1)),
        lambda t: avg_pool2d(t, 2),
        lambda t: avg_pool2d(t, 3, 2, 1, count_include_pad=False),
        lambda t: max_pool1d(t.reshape(2, 3, -1), 3, 2, 1),
        lambda t: avg_pool1d(t.reshape(2, 3, -1), 3, 2, 1, ceil_mode=True),
        lambda t: adaptive_avg_pool2d(t, (3, 4)),
        lambda t: adaptive_avg_pool2d(t, 1),
    ],
)
def test_pool_gradcheck(fn, kernel_path):
    # distinct values so that max pooling is differentiable at the test point
    vals = rng.permutation(2 * 3 * 6 * 7).astype(np.float64).reshape(2, 3, 6, 7) / 10
    x = gf.tensor(vals, dtype="float64", requires_grad=True)
    assert gf.gradcheck(fn, [x], eps=1e-4)


@pytest.mark.parametrize(
    "fn",
    [
        lambda t: max_pool2d(t, 2),
        lambda t: max_pool2d(t, 3, 1, 1),
        lambda t: avg_pool2d(t, 3, 2, 1),
        lambda t: adaptive_avg_pool2d(t, 3),
        lambda t: max_pool1d(t[0], 2),
    ],
)
def test_float32_stays_float32(fn, kernel_path):
    x = gf.randn(2, 3, 6, 6, requires_grad=True)
    y = fn(x)
    assert y.dtype == np.float32
    y.sum().backward()
    assert x.grad.dtype == np.float32


def test_bad_inputs():
    x = gf.randn(1, 2, 6, 6)
    with pytest.raises(ValueError, match=r"max_pool2d: expected input \(N, C, H, W\)"):
        max_pool2d(gf.randn(6, 6), 2)
    with pytest.raises(ValueError, match="padding should be at most half"):
        max_pool2d(x, 2, padding=2)
    with pytest.raises(ValueError, match="kernel_size must be >= 1"):
        avg_pool2d(x, 0)
    with pytest.raises(TypeError, match="kernel_size must be an int or a tuple of 2"):
        max_pool2d(x, (2, 2, 2))
    with pytest.raises(ValueError, match="too small"):
        max_pool2d(gf.randn(1, 1, 2, 2), 3)
    with pytest.raises(ValueError, match="output_size"):
        adaptive_avg_pool2d(x, 0)
    with pytest.raises(TypeError, match="expected a float tensor"):
        max_pool2d(gf.tensor(np.ones((1, 1, 2, 2), np.int64)), 2)
    with pytest.raises(ValueError, match=r"max_pool1d: expected input \(N, C, L\)"):
        max_pool1d(x, 2)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_max_pool_2x2_empty_odd_and_strided_inputs(dtype, kernel_path):
    """The 2x2 fast path: empty batch, odd sizes (a last row / column no window covers),
    a non-contiguous input (a transposed view) and an unbatched one, against PyTorch."""
    x = rng.standard_normal((3, 2, 7, 9)).astype(dtype)
    check(lambda t: max_pool2d(t, 2), lambda t: TF.max_pool2d(t, 2), [x])
    xt = np.ascontiguousarray(x.transpose(0, 1, 3, 2))
    check(
        lambda t: max_pool2d(t.transpose(2, 3), 2),
        lambda t: TF.max_pool2d(t.transpose(2, 3), 2),
        [xt],
    )
    check(lambda t: max_pool2d(t, 2), lambda t: TF.max_pool2d(t, 2), [x[0]])
    empty = gf.zeros(0, 2, 6, 6, dtype=dtype, requires_grad=True)
    out = max_pool2d(empty, 2)
    assert out.shape == (0, 2, 3, 3) and out.dtype == dtype
    out.sum().backward()
    assert empty.grad.shape == (0, 2, 6, 6)


def test_max_pool_backward_after_kernels_turned_off():
    """A forward on the compiled path keeps working if kernels are switched off before backward."""
    from gradfit import kernels

    if not kernels.available():
        pytest.skip("numba is not installed")
    x = rng.standard_normal((2, 3, 6, 6)).astype(np.float32)
    t = gf.tensor(x, requires_grad=True)
    with kernels.disabled():
        ref = gf.tensor(x, requires_grad=True)
        max_pool2d(ref, 2).sum().backward()
    kernels.set_enabled(True)
    out = max_pool2d(t, 2)
    with kernels.disabled():
        out.sum().backward()
    np.testing.assert_array_equal(t.grad.numpy(), ref.grad.numpy())
