"""Pooling layers: PyTorch equivalence, repr, errors naming the layer."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import gradfit as gf
from gradfit.nn.pool import AdaptiveAvgPool2d, AvgPool1d, AvgPool2d, MaxPool1d, MaxPool2d
from oracle import check

rng = np.random.default_rng(0)

LAYERS = [
    ("MaxPool2d", (2,), {}, (2, 3, 8, 8)),
    ("MaxPool2d", (3,), dict(stride=2, padding=1, dilation=1, ceil_mode=True), (1, 2, 7, 7)),
    ("MaxPool2d", ((2, 3),), dict(stride=1, dilation=(2, 1)), (2, 6, 7)),
    ("MaxPool1d", (3,), dict(stride=2, padding=1), (2, 3, 9)),
    ("AvgPool2d", (2,), {}, (2, 3, 8, 8)),
    ("AvgPool2d", (3,), dict(stride=2, padding=1, count_include_pad=False), (1, 2, 7, 7)),
    ("AvgPool1d", (2,), dict(stride=1), (2, 3, 5)),
    ("AdaptiveAvgPool2d", ((3, 2),), {}, (2, 3, 7, 5)),
    ("AdaptiveAvgPool2d", (1,), {}, (1, 4, 6, 6)),
]
GF = dict(MaxPool2d=MaxPool2d, MaxPool1d=MaxPool1d, AvgPool2d=AvgPool2d, AvgPool1d=AvgPool1d,
          AdaptiveAvgPool2d=AdaptiveAvgPool2d)  # fmt: skip


@pytest.mark.parametrize("name, args, kwargs, shape", LAYERS)
def test_layers_match_torch(name, args, kwargs, shape):
    layer = GF[name](*args, **kwargs)
    tlayer = getattr(torch.nn, name)(*args, **kwargs)
    assert repr(layer) == repr(tlayer)
    check(layer, tlayer, [rng.standard_normal(shape).astype(np.float32)])


def test_wrong_input_shape_names_the_layer():
    with pytest.raises(
        ValueError,
        match=r"^MaxPool2d\(kernel_size=2, stride=2, padding=0, dilation=1, ceil_mode=False\): expected input \(N, C, H, W\) or \(C, H, W\), got \(5, 5\)$",
    ):
        MaxPool2d(2)(gf.randn(5, 5))
    with pytest.raises(
        ValueError,
        match=r"^AvgPool1d\(kernel_size=\(2,\), stride=\(2,\), padding=\(0,\)\): expected input \(N, C, L\)",
    ):
        AvgPool1d(2)(gf.randn(1, 2, 3, 4))
    with pytest.raises(ValueError, match=r"^MaxPool2d\(kernel_size=5.*too small"):
        MaxPool2d(5)(gf.randn(1, 1, 3, 3))
    with pytest.raises(ValueError, match=r"^AdaptiveAvgPool2d\(output_size=2\): expected input"):
        AdaptiveAvgPool2d(2)(gf.randn(3))


@pytest.mark.parametrize(
    "make, exc, match",
    [
        (lambda: MaxPool2d(0), ValueError, "kernel_size must be >= 1"),
        (lambda: MaxPool2d(2, return_indices=True), ValueError, "return_indices"),
        (lambda: AvgPool2d(2, padding=-1), ValueError, "padding must be >= 0"),
        (lambda: AvgPool2d(2, divisor_override=0), ValueError, "divisor_override"),
        (lambda: AdaptiveAvgPool2d((0, 2)), ValueError, "output_size"),
        (lambda: MaxPool1d((2, 2)), TypeError, "kernel_size must be an int or a tuple of 1"),
    ],
)
def test_bad_options(make, exc, match):
    with pytest.raises(exc, match=match):
        make()
