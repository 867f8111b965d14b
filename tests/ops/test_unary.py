"""Elementwise functions and activations against PyTorch, gradcheck, and stability."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch
import torch.nn.functional as TF
from hypothesis import given

import gradfit as gf
from oracle import check
from strategies import dtypes, positive, rand, seeds, shapes

# (name, gradfit fn, torch fn, input kind)
UNARY = [
    ("exp", gf.exp, torch.exp, "any"),
    ("log", gf.log, torch.log, "pos"),
    ("log1p", gf.log1p, torch.log1p, "pos"),
    ("sqrt", gf.sqrt, torch.sqrt, "pos"),
    ("abs", gf.abs, torch.abs, "any"),
    ("sign", gf.sign, torch.sign, "any"),
    ("sin", gf.sin, torch.sin, "any"),
    ("cos", gf.cos, torch.cos, "any"),
    ("tanh", gf.tanh, torch.tanh, "any"),
    ("sigmoid", gf.sigmoid, torch.sigmoid, "any"),
    ("relu", gf.relu, torch.relu, "any"),
    ("leaky_relu", lambda x: gf.leaky_relu(x, 0.2), lambda x: TF.leaky_relu(x, 0.2), "any"),
    ("elu", lambda x: gf.elu(x, 0.7), lambda x: TF.elu(x, 0.7), "any"),
    ("gelu", gf.gelu, TF.gelu, "any"),
    ("gelu_tanh", lambda x: gf.gelu(x, "tanh"), lambda x: TF.gelu(x, approximate="tanh"), "any"),
    ("silu", gf.silu, TF.silu, "any"),
    ("softplus", gf.softplus, TF.softplus, "any"),
    (
        "softplus_beta",
        lambda x: gf.softplus(x, 2.0, 1.0),
        lambda x: TF.softplus(x, 2.0, 1.0),
        "any",
    ),
    ("square", lambda x: x.square(), lambda x: x.square(), "any"),
    ("rsqrt", lambda x: x.rsqrt(), lambda x: x.rsqrt(), "pos"),
]
IDS = [u[0] for u in UNARY]


@pytest.mark.parametrize("name,gfn,tfn,kind", UNARY, ids=IDS)
@given(shape=shapes, dtype=dtypes, seed=seeds)
def test_matches_torch(name, gfn, tfn, kind, shape, dtype, seed):
    x = positive(shape, dtype, seed) if kind == "pos" else rand(shape, dtype, seed, -4, 4)
    check(gfn, tfn, [x])


@pytest.mark.parametrize("name,gfn,tfn,kind", UNARY, ids=IDS)
def test_gradcheck(name, gfn, tfn, kind):
    x = positive((2, 3), np.float64, 3) if kind == "pos" else rand((2, 3), np.float64, 3, -3, 3)
    x = np.where(np.abs(x) < 0.05, 0.3, x)  # keep finite differences away from kinks
    assert gf.gradcheck(gfn, [gf.tensor(x, requires_grad=True)])


@pytest.mark.parametrize("name,gfn,tfn,kind", UNARY, ids=IDS)
def test_float32_stays_float32(name, gfn, tfn, kind):
    x = gf.tensor(positive((4,), np.float32), requires_grad=True)
    y = gfn(x)
    assert y.dtype == np.float32
    y.sum().backward()
    assert x.grad.dtype == np.float32


@pytest.mark.parametrize("name", ["sigmoid", "tanh", "softplus", "silu", "elu", "gelu"])
def test_activations_are_stable_at_extremes(name):
    gfn = dict((u[0], u[1]) for u in UNARY)[name]
    tfn = dict((u[0], u[2]) for u in UNARY)[name]
    x = np.array([-1e4, -100.0, -30.0, 0.0, 30.0, 100.0, 1e4], dtype=np.float32)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        check(gfn, tfn, [x])


def test_relu_gradient_at_zero_is_zero_like_torch():
    check(gf.relu, torch.relu, [np.array([0.0, -0.0, 1.0], dtype=np.float32)])
    check(gf.abs, torch.abs, [np.array([0.0, -1.0, 1.0], dtype=np.float32)])


def test_integer_input_to_float_function_gives_float32():
    assert gf.exp(gf.tensor([0, 1])).dtype == np.float32


# GELU (exact) on both paths: NumPy, and the compiled float32 kernel (gradfit.kernels.gelu)
@pytest.mark.parametrize("shape", [(), (0,), (7,), (3, 0, 2), (2, 3, 5), (64, 300)])
def test_gelu_both_paths_match_torch(kernel_path, shape):
    x = rand(shape, np.float32, 1, -6, 6)
    check(gf.gelu, TF.gelu, [x])
    check(lambda t: gf.gelu(t.transpose(0, -1)), lambda t: TF.gelu(t.transpose(0, -1)), [x])


def test_gelu_both_paths_extremes_and_no_grad(kernel_path):
    x = np.array([-1e4, -30.0, -13.0, -12.9, -5.0, -0.0, 0.0, 1e-8, 5.0, 12.9, 13.0, 30.0, 1e4],
                 dtype=np.float32)  # fmt: skip
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        check(gf.gelu, TF.gelu, [x])
    with gf.no_grad():
        y = gf.gelu(gf.tensor(x))
    np.testing.assert_allclose(y.numpy(), TF.gelu(torch.tensor(x)).numpy(), rtol=1e-6, atol=1e-6)
    nan = gf.gelu(gf.tensor(np.array([np.nan], np.float32)))
    assert np.isnan(nan.numpy()).all()


def test_gelu_both_paths_split_on_threads(kernel_path):
    x = rand((600, 512), np.float32, 2, -5, 5)  # 1.2 MB: split across the pool's threads
    before = gf.get_num_threads()
    gf.set_num_threads(2)
    try:
        check(gf.gelu, TF.gelu, [x])
    finally:
        gf.set_num_threads(before)


def test_gelu_both_paths_double_backward(kernel_path):
    x = rand((3, 4), np.float32, 4, -3, 3)
    gx, tx = gf.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    (g1,) = gf.autograd.grad(gf.gelu(gx).sum(), [gx], create_graph=True)
    (t1,) = torch.autograd.grad(TF.gelu(tx).sum(), [tx], create_graph=True)
    np.testing.assert_allclose(g1.numpy(), t1.detach().numpy(), rtol=1e-5, atol=1e-6)
    (g2,) = gf.autograd.grad((g1 * g1).sum(), [gx])
    (t2,) = torch.autograd.grad((t1 * t1).sum(), [tx])
    np.testing.assert_allclose(g2.numpy(), t2.numpy(), rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_sign_of_nan_is_zero_as_torch(dtype):
    x = np.array([np.nan, -2.0, -0.0, 0.0, 3.0, np.inf], dtype=dtype)
    out = gf.sign(gf.tensor(x)).numpy()
    assert out.dtype == np.dtype(dtype)
    np.testing.assert_array_equal(out, torch.sign(torch.tensor(x)).numpy())
    assert gf.sign(gf.tensor(np.array(np.nan, dtype=dtype))).item() == 0.0
