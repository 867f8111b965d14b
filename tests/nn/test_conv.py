"""Conv1d / Conv2d layers: PyTorch with copied weights, default initialisation, repr, errors."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

import gradfit as gf
from gradfit.nn.conv import Conv1d, Conv2d
from oracle import assert_close, to_torch

rng = np.random.default_rng(0)


def _compare(layer, tlayer, x_np):
    with torch.no_grad():
        tlayer.weight.copy_(to_torch(layer.weight))
        if layer.bias is not None:
            tlayer.bias.copy_(to_torch(layer.bias))
    x, tx = gf.tensor(x_np, requires_grad=True), to_torch(x_np, requires_grad=True)
    y, ty = layer(x), tlayer(tx)
    assert_close(y, ty, rtol=1e-4, atol=1e-4, what="output")
    g = rng.standard_normal(y.shape).astype(np.float32)
    (y * gf.tensor(g)).sum().backward()
    (ty * torch.from_numpy(g)).sum().backward()
    assert_close(x.grad, tx.grad, rtol=1e-4, atol=1e-4, what="input grad")
    assert_close(layer.weight.grad, tlayer.weight.grad, rtol=1e-4, atol=1e-4, what="weight grad")
    if layer.bias is not None:
        assert_close(layer.bias.grad, tlayer.bias.grad, rtol=1e-4, atol=1e-4, what="bias grad")


@pytest.mark.parametrize(
    "args, kwargs, x_shape",
    [
        ((1, 16, 5), dict(padding=2), (1, 1, 28, 28)),
        ((3, 6, (3, 2)), dict(stride=(2, 1), padding=(1, 0), bias=False), (2, 3, 9, 8)),
        ((4, 8, 3), dict(padding="same", dilation=2, groups=2), (2, 4, 7, 7)),
        ((2, 2, 2), dict(padding="valid"), (2, 6, 6)),  # unbatched
    ],
)
def test_conv2d_matches_torch(args, kwargs, x_shape):
    _compare(
        Conv2d(*args, **kwargs),
        torch.nn.Conv2d(*args, **kwargs),
        rng.standard_normal(x_shape).astype(np.float32),
    )


@pytest.mark.parametrize(
    "args, kwargs, x_shape",
    [
        ((1, 4, 5), dict(padding=2), (1, 1, 12)),
        ((4, 6, 3), dict(stride=2, dilation=2, groups=2, bias=False), (3, 4, 11)),
        ((2, 3, 4), dict(padding="same"), (2, 9)),
    ],
)
@pytest.mark.filterwarnings("ignore:Using padding=.same.")
def test_conv1d_matches_torch(args, kwargs, x_shape):
    _compare(
        Conv1d(*args, **kwargs),
        torch.nn.Conv1d(*args, **kwargs),
        rng.standard_normal(x_shape).astype(np.float32),
    )


def test_repr_like_torch():
    for args, kw in [((1, 16, 5), dict(padding=2)), ((3, 6, (3, 2)), dict(stride=2, bias=False)),
                     ((4, 8, 3), dict(padding="same", dilation=2, groups=2))]:  # fmt: skip
        assert repr(Conv2d(*args, **kw)) == repr(torch.nn.Conv2d(*args, **kw))
        assert repr(Conv1d(*args[:2], 3, **kw)) == repr(torch.nn.Conv1d(*args[:2], 3, **kw))


def test_parameters_and_state_dict():
    conv = Conv2d(3, 4, 3, bias=True)
    assert [n for n, _ in conv.named_parameters()] == ["weight", "bias"]
    assert conv.weight.shape == (4, 3, 3, 3) and conv.weight.dtype == np.float32
    assert [n for n, _ in Conv2d(3, 4, 3, bias=False).named_parameters()] == ["weight"]
    assert Conv2d(4, 6, 3, groups=2).weight.shape == (6, 2, 3, 3)


def test_default_init_statistics_match_torch():
    # kaiming_uniform_(a=sqrt(5)) = U(-1/sqrt(fan_in), 1/sqrt(fan_in)); bias from the same range
    conv = Conv2d(16, 64, 5)
    tconv = torch.nn.Conv2d(16, 64, 5)
    bound = 1 / math.sqrt(16 * 25)
    w, tw = conv.weight._data, tconv.weight.detach().numpy()
    assert np.abs(w).max() <= bound and np.abs(conv.bias._data).max() <= bound
    n = w.size
    assert abs(w.mean() - tw.mean()) < 4 * bound / math.sqrt(3 * n) * math.sqrt(2)
    assert abs(w.std() - tw.std()) < 0.02 * tw.std()
    assert abs(w.std() - bound / math.sqrt(3)) < 0.02 * bound


def test_init_uses_gradfits_seeded_generator():
    gf.manual_seed(3)
    a = Conv2d(2, 3, 3).weight._data.copy()
    gf.manual_seed(3)
    b = Conv2d(2, 3, 3).weight._data
    np.testing.assert_array_equal(a, b)


def test_wrong_input_shape_names_the_layer():
    conv = Conv2d(3, 8, 3)
    with pytest.raises(
        ValueError,
        match=r"^Conv2d\(3, 8, kernel_size=\(3, 3\), stride=\(1, 1\)\): expected input \(N, 3, H, W\) or \(3, H, W\), got \(2, 4, 5, 5\)",
    ):
        conv(gf.randn(2, 4, 5, 5))
    with pytest.raises(ValueError, match=r"Conv2d\(3, 8.*got \(3, 5\)"):
        conv(gf.randn(3, 5))
    with pytest.raises(ValueError, match=r"^Conv2d\(3, 8.*smaller than the dilated kernel"):
        conv(gf.randn(1, 3, 2, 2))
    with pytest.raises(
        ValueError, match=r"^Conv1d\(2, 2, kernel_size=\(3,\).*expected input \(N, 2, L\)"
    ):
        Conv1d(2, 2, 3)(gf.randn(1, 2, 5, 5))
    with pytest.raises(TypeError, match=r"^Conv2d\(3, 8.*float64"):
        conv(gf.randn(1, 3, 5, 5, dtype="float64"))


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(groups=2), "divisible by groups"),
        (dict(padding="full"), "padding must be 'valid', 'same'"),
        (dict(padding="same", stride=2), "not supported for strided"),
        (dict(padding_mode="mirror"), "padding_mode must be one of"),
        (dict(stride=0), "stride must be >= 1"),
    ],
)
def test_bad_options(kwargs, match):
    with pytest.raises(ValueError, match=match):
        Conv2d(3, 4, 3, **kwargs)


@pytest.mark.parametrize("mode", ["reflect", "replicate", "circular"])
@pytest.mark.parametrize(
    "cls, tcls, args, kwargs, x_shape",
    [
        (Conv2d, torch.nn.Conv2d, (3, 4, 3), dict(padding=1), (2, 3, 6, 5)),
        (Conv2d, torch.nn.Conv2d, (3, 4, (2, 3)), dict(padding="same", dilation=(2, 1)), (3, 6, 5)),
        (
            Conv2d,
            torch.nn.Conv2d,
            (2, 4, 3),
            dict(padding=(2, 1), stride=2, groups=2),
            (1, 2, 6, 5),
        ),
        (Conv1d, torch.nn.Conv1d, (3, 2, 4), dict(padding="same"), (2, 3, 7)),
    ],
)
@pytest.mark.filterwarnings("ignore:Using padding=.same.")
def test_padding_modes_match_torch(mode, cls, tcls, args, kwargs, x_shape):
    layer, tlayer = (
        cls(*args, padding_mode=mode, **kwargs),
        tcls(*args, padding_mode=mode, **kwargs),
    )
    assert repr(layer) == repr(tlayer)
    _compare(layer, tlayer, rng.standard_normal(x_shape).astype(np.float32))
