"""ReLU's backward on arrays large enough for the compiled kernel (gradfit.kernels.relu),
on both paths, against PyTorch: values, gradients (also non-finite ones), dtypes, threads."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import gradfit as gf


def _pair(x: np.ndarray, g: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    t = gf.tensor(x, requires_grad=True)
    out = gf.relu(t)
    out.backward(gf.tensor(g))
    tt = torch.tensor(x, requires_grad=True)
    tout = torch.relu(tt)
    tout.backward(torch.tensor(g))
    return out.numpy(), t.grad.numpy(), tout.detach().numpy(), tt.grad.numpy()


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("threads", [1, 2])
def test_relu_large_matches_torch(dtype, threads, kernel_path):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((8, 8, 24, 24)).astype(dtype)  # 147 KB in float32
    x.flat[:4] = [0.0, -0.0, -np.inf, np.inf]
    if kernel_path == "numba":  # the NumPy path sends 0 where the output is NaN, torch g
        x.flat[4] = np.nan
    g = rng.standard_normal(x.shape).astype(dtype)
    old = gf.get_num_threads()
    gf.set_num_threads(threads)
    try:
        out, gx, tout, tgx = _pair(x, g)
    finally:
        gf.set_num_threads(old)
    assert out.dtype == dtype and gx.dtype == dtype
    np.testing.assert_array_equal(out, tout)
    np.testing.assert_array_equal(gx, tgx)


def test_relu_kernel_non_finite_gradient_is_zero_where_output_is_not_positive(kernel_path):
    """PyTorch selects (threshold_backward): an inf gradient gives 0 where the output is 0."""
    x = np.full((4, 16, 32, 32), -1.0, np.float32)  # 256 KB: the kernel's size
    x[0, 0, 0, 0] = 2.0
    g = np.full(x.shape, np.inf, np.float32)
    _, gx, _, tgx = _pair(x, g)
    assert gx[0, 0, 0, 0] == np.inf
    np.testing.assert_array_equal(gx, tgx)


def test_relu_non_contiguous_gradient(kernel_path):
    rng = np.random.default_rng(1)
    x = rng.standard_normal((64, 48, 24)).astype(np.float32)
    t = gf.tensor(x, requires_grad=True)
    y = gf.relu(t).transpose(0, 2)  # the gradient reaching ReLU is a transposed copy or view
    g = rng.standard_normal(y.shape).astype(np.float32)
    y.backward(gf.tensor(g))
    np.testing.assert_array_equal(t.grad.numpy(), np.where(x > 0, g.transpose(2, 1, 0), 0))


@pytest.mark.parametrize("size", [4, 1 << 16])  # under and over the kernel's size
def test_relu_nan_input_passes_the_gradient_as_torch(size, kernel_path):
    x = np.full(size, -1.0, np.float32)
    x[:3] = [np.nan, 2.0, 0.0]
    g = np.full(size, np.inf, np.float32)
    g[:2] = [5.0, 7.0]
    t = gf.tensor(x, requires_grad=True)
    gf.relu(t).backward(gf.tensor(g))
    tt = torch.tensor(x, requires_grad=True)
    torch.relu(tt).backward(torch.tensor(g))
    np.testing.assert_array_equal(t.grad.numpy(), tt.grad.numpy())
    assert t.grad.numpy()[0] == 5.0
