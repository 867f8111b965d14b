"""conv_transpose1d/2d and ConvTranspose1d/2d against PyTorch: values, every gradient, repr,
initialisation, output_size, errors, gradcheck."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import gradfit as gf
from gradfit.nn.conv import ConvTranspose1d, ConvTranspose2d
from gradfit.ops.conv_transpose import conv_transpose1d, conv_transpose2d
from oracle import assert_close, check, to_torch

rng = np.random.default_rng(0)

CASES_2D = [
    ((2, 4, 5, 5), (4, 3, 3, 3), dict(stride=2, padding=1, output_padding=1)),
    ((2, 4, 5, 6), (4, 2, 3, 2), dict()),
    ((2, 4, 5, 6), (4, 2, 3, 2), dict(padding=(2, 1), groups=2)),  # padding crops (stride 1)
    ((1, 4, 3, 3), (4, 3, 3, 3), dict(padding=1, dilation=2, output_padding=1)),
    ((3, 6, 4, 5), (6, 2, 4, 4), dict(stride=2, padding=1, groups=3)),
    ((3, 6, 4, 5), (6, 2, 4, 4),
     dict(stride=(2, 3), padding=(0, 2), output_padding=(1, 2), dilation=(1, 2))),
    ((2, 2, 4, 4), (2, 3, 3, 3), dict(stride=2, dilation=3, output_padding=2)),
    ((0, 4, 5, 5), (4, 3, 3, 3), dict(stride=2, padding=1)),  # empty batch
    ((4, 5, 5), (4, 3, 3, 3), dict(stride=2, padding=1)),  # unbatched
    ((2, 20, 5, 5), (20, 30, 3, 3), dict(stride=2, padding=1)),  # row-unfolding path
    ((2, 20, 5, 5), (20, 30, 3, 3), dict(padding=1)),
    ((16, 4, 8, 8), (4, 3, 4, 4), dict(stride=2, padding=1)),  # 1,024-column chunks: padded rows
]  # fmt: skip


@pytest.mark.parametrize("x_shape, w_shape, kw", CASES_2D)
@pytest.mark.parametrize("bias", [True, False])
def test_conv_transpose2d_matches_torch(x_shape, w_shape, kw, bias, kernel_path):
    arrays = [rng.standard_normal(x_shape), rng.standard_normal(w_shape)]
    if bias:
        arrays.append(rng.standard_normal(w_shape[1] * kw.get("groups", 1)))
    check(
        lambda *a: conv_transpose2d(*a, **kw) if bias else conv_transpose2d(*a, None, **kw),
        lambda *a: TF.conv_transpose2d(*a, **kw) if bias else TF.conv_transpose2d(*a, None, **kw),
        arrays,
    )


@pytest.mark.parametrize(
    "x_shape, w_shape, kw",
    [
        ((2, 4, 7), (4, 3, 3), dict(stride=2, padding=1, output_padding=1)),
        ((2, 4, 7), (4, 1, 5), dict(groups=2, dilation=2, padding=3)),
        ((4, 6), (4, 2, 2), dict(stride=3)),
        ((1, 1, 3), (1, 1, 2), dict()),
    ],
)
def test_conv_transpose1d_matches_torch(x_shape, w_shape, kw, kernel_path):
    g = kw.get("groups", 1)
    arrays = [
        rng.standard_normal(x_shape).astype(np.float32),
        rng.standard_normal(w_shape).astype(np.float32),
        rng.standard_normal(w_shape[1] * g).astype(np.float32),
    ]
    check(lambda *a: conv_transpose1d(*a, **kw), lambda *a: TF.conv_transpose1d(*a, **kw), arrays)


@pytest.mark.parametrize(
    "kw",
    [
        dict(stride=2, padding=1),
        dict(stride=(2, 3), padding=(0, 2), output_padding=(1, 2), dilation=(1, 2)),
        dict(stride=3, padding=2, output_padding=1),  # output_padding: cropped rows
    ],
)
@pytest.mark.parametrize("bias", [True, False])
def test_strided_scatter_same_bits_on_both_paths(kw, bias):
    """The compiled col2im adds in the NumPy path's order: the same float32 bits."""
    from gradfit import kernels

    if not kernels.available():
        pytest.skip("numba is not installed")
    x = gf.tensor(rng.standard_normal((5, 6, 4, 5)).astype(np.float32))
    w = gf.tensor(rng.standard_normal((6, 4, 4, 3)).astype(np.float32))
    b = gf.tensor(rng.standard_normal(4).astype(np.float32)) if bias else None
    with kernels.disabled():
        ref = conv_transpose2d(x, w, b, **kw).numpy()
    before = kernels.enabled()
    kernels.set_enabled(True)
    try:
        out = conv_transpose2d(x, w, b, **kw).numpy()
    finally:
        kernels.set_enabled(before)
    np.testing.assert_array_equal(out, ref)


def test_conv_transpose2d_float32_stays_float32():
    x = gf.randn(2, 3, 4, 4)
    w = gf.randn(3, 2, 3, 3)
    assert conv_transpose2d(x, w, stride=2).dtype == gf.float32


def test_gradcheck():
    x = gf.randn(2, 4, 3, 4, dtype=gf.float64, requires_grad=True)
    w = gf.randn(4, 1, 3, 2, dtype=gf.float64, requires_grad=True)
    b = gf.randn(2, dtype=gf.float64, requires_grad=True)
    f = lambda x, w, b: conv_transpose2d(
        x, w, b, stride=(2, 1), padding=1, output_padding=(1, 0), groups=2
    )
    assert gf.gradcheck(f, [x, w, b])
    x1 = gf.randn(2, 2, 5, dtype=gf.float64, requires_grad=True)
    w1 = gf.randn(2, 3, 3, dtype=gf.float64, requires_grad=True)
    assert gf.gradcheck(lambda x, w: conv_transpose1d(x, w, stride=2, dilation=2), [x1, w1])


@pytest.mark.parametrize(
    "kw, err",
    [
        (dict(output_padding=2, stride=2), RuntimeError),  # not smaller than stride or dilation
        (dict(stride=0), RuntimeError),
        (dict(padding=-1), RuntimeError),
        (dict(dilation=0), RuntimeError),
        (dict(padding="same"), TypeError),
        (dict(groups=3), RuntimeError),
        (dict(groups=0), RuntimeError),
    ],
)
def test_bad_arguments(kw, err):
    x, w = rng.standard_normal((1, 4, 3, 3)), rng.standard_normal((4, 2, 3, 3))
    with pytest.raises(err):
        TF.conv_transpose2d(torch.tensor(x), torch.tensor(w), **kw)
    with pytest.raises(err, match="conv_transpose2d"):
        conv_transpose2d(gf.tensor(x), gf.tensor(w), **kw)


def test_channel_mismatch_is_runtime_error():
    x, w = rng.standard_normal((1, 3, 3, 3)), rng.standard_normal((4, 2, 3, 3))
    with pytest.raises(RuntimeError):
        TF.conv_transpose2d(torch.tensor(x), torch.tensor(w))
    with pytest.raises(RuntimeError, match="3 channels"):
        conv_transpose2d(gf.tensor(x), gf.tensor(w))
    with pytest.raises(RuntimeError):
        TF.conv_transpose2d(torch.ones(3, 3), torch.tensor(w))
    with pytest.raises(RuntimeError, match=r"\(N, C, H, W\)"):
        conv_transpose2d(gf.tensor(np.ones((3, 3))), gf.tensor(w))


def _compare(layer, tlayer, x_np, **fkw):
    with torch.no_grad():
        tlayer.weight.copy_(to_torch(layer.weight))
        if layer.bias is not None:
            tlayer.bias.copy_(to_torch(layer.bias))
    x, tx = gf.tensor(x_np, requires_grad=True), to_torch(x_np, requires_grad=True)
    y, ty = layer(x, **fkw), tlayer(tx, **fkw)
    assert_close(y, ty, rtol=1e-4, atol=1e-4, what="output")
    g = rng.standard_normal(y.shape).astype(np.float32)
    (y * gf.tensor(g)).sum().backward()
    (ty * torch.from_numpy(g)).sum().backward()
    assert_close(x.grad, tx.grad, rtol=1e-4, atol=1e-4, what="input grad")
    assert_close(layer.weight.grad, tlayer.weight.grad, rtol=1e-4, atol=1e-4, what="weight grad")
    if layer.bias is not None:
        assert_close(layer.bias.grad, tlayer.bias.grad, rtol=1e-4, atol=1e-4, what="bias grad")


@pytest.mark.parametrize(
    "cls, tcls, args, kwargs, x_shape, fkw",
    [
        (
            ConvTranspose2d,
            torch.nn.ConvTranspose2d,
            (8, 4, 4),
            dict(stride=2, padding=1),
            (2, 8, 4, 4),
            {},
        ),
        (
            ConvTranspose2d,
            torch.nn.ConvTranspose2d,
            (4, 6, (3, 2)),
            dict(groups=2, bias=False, dilation=2),
            (4, 5, 4),
            {},
        ),
        (
            ConvTranspose2d,
            torch.nn.ConvTranspose2d,
            (3, 2, 3),
            dict(stride=2),
            (1, 3, 4, 4),
            dict(output_size=[10, 9]),
        ),
        (
            ConvTranspose2d,
            torch.nn.ConvTranspose2d,
            (3, 2, 3),
            dict(stride=2),
            (1, 3, 4, 4),
            dict(output_size=(1, 2, 10, 10)),
        ),
        (
            ConvTranspose1d,
            torch.nn.ConvTranspose1d,
            (4, 2, 3),
            dict(stride=2, output_padding=1),
            (2, 4, 6),
            {},
        ),
        (
            ConvTranspose1d,
            torch.nn.ConvTranspose1d,
            (4, 2, 3),
            dict(stride=3),
            (4, 6),
            dict(output_size=[19]),
        ),
    ],
)
def test_layers_match_torch(cls, tcls, args, kwargs, x_shape, fkw):
    layer, tlayer = cls(*args, **kwargs), tcls(*args, **kwargs)
    assert [(k, v.shape) for k, v in layer.state_dict().items()] == [
        (k, tuple(v.shape)) for k, v in tlayer.state_dict().items()
    ]
    assert repr(layer) == repr(tlayer)
    _compare(layer, tlayer, rng.standard_normal(x_shape).astype(np.float32), **fkw)


def test_repr_options():
    for kw in (
        dict(),
        dict(padding=2, output_padding=1, stride=2, groups=2, dilation=3, bias=False),
    ):
        assert repr(ConvTranspose2d(4, 6, 3, **kw)) == repr(torch.nn.ConvTranspose2d(4, 6, 3, **kw))
        assert repr(ConvTranspose1d(4, 6, 3, **kw)) == repr(torch.nn.ConvTranspose1d(4, 6, 3, **kw))


def test_default_initialisation_bounds():
    gf.manual_seed(0)
    layer = ConvTranspose2d(64, 32, 4, groups=2)
    fan_in = 16 * 16  # weight.shape[1] * kH * kW, as PyTorch computes it
    w = layer.weight.numpy()
    assert w.shape == (64, 16, 4, 4)
    bound = 1 / math.sqrt(fan_in)  # kaiming_uniform(a=sqrt(5)) gives the same bound
    assert np.abs(w).max() <= bound and np.abs(w).max() > 0.9 * bound
    b = layer.bias.numpy()
    assert np.abs(b).max() <= bound and b.std() > 0.3 * bound


def test_layer_errors():
    with pytest.raises(ValueError, match="padding mode"):
        ConvTranspose2d(2, 2, 3, padding_mode="reflect")
    with pytest.raises(ValueError):
        torch.nn.ConvTranspose2d(2, 2, 3, padding_mode="reflect")(torch.ones(1, 2, 3, 3))
    with pytest.raises(ValueError, match="divisible"):
        ConvTranspose2d(3, 2, 3, groups=2)
    layer, tlayer = ConvTranspose2d(2, 2, 3, stride=2), torch.nn.ConvTranspose2d(2, 2, 3, stride=2)
    with pytest.raises(ValueError):
        tlayer(torch.ones(1, 2, 3, 3), output_size=[9, 9])
    with pytest.raises(ValueError, match="valid sizes"):
        layer(gf.ones(1, 2, 3, 3), output_size=[9, 9])
    with pytest.raises(ValueError):
        tlayer(torch.ones(1, 2, 3, 3), output_size=[7, 7, 7])
    with pytest.raises(ValueError, match="output_size"):
        layer(gf.ones(1, 2, 3, 3), output_size=[7, 7, 7])
    with pytest.raises(ValueError, match="expected input"):
        layer(gf.ones(1, 3, 3, 3))


@pytest.mark.parametrize("which", ["input", "weight"])
@pytest.mark.parametrize("stride", [1, 2])
def test_one_gradient_at_a_time(which, stride):
    x_np = rng.standard_normal((3, 4, 5, 5))
    w_np = rng.standard_normal((4, 6, 3, 3))
    x = gf.tensor(x_np, requires_grad=which == "input")
    w = gf.tensor(w_np, requires_grad=which == "weight")
    tx = torch.tensor(x_np, requires_grad=which == "input")
    tw = torch.tensor(w_np, requires_grad=which == "weight")
    conv_transpose2d(x, w, stride=stride, padding=1).square().sum().backward()
    TF.conv_transpose2d(tx, tw, stride=stride, padding=1).square().sum().backward()
    got, want = (x.grad, tx.grad) if which == "input" else (w.grad, tw.grad)
    assert_close(got, want, rtol=1e-7, atol=1e-9)
