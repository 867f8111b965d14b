"""F.interpolate, Upsample*, pixel_shuffle/unshuffle and PixelShuffle/Unshuffle against PyTorch."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import gradfit as gf
from gradfit.ops.resample import interpolate, pixel_shuffle, pixel_unshuffle
from oracle import check

rng = np.random.default_rng(0)

CASES = [
    ((2, 3, 5), dict(scale_factor=2, mode="nearest")),
    ((2, 3, 5), dict(size=7, mode="nearest")),
    ((2, 3, 7), dict(size=3, mode="nearest-exact")),
    ((2, 3, 5), dict(scale_factor=1.7, mode="linear")),
    ((2, 3, 5), dict(size=9, mode="linear", align_corners=True)),
    ((2, 3, 5), dict(size=1, mode="linear", align_corners=True)),
    ((1, 2, 4, 5), dict(scale_factor=2, mode="nearest")),
    ((1, 2, 4, 5), dict(scale_factor=(1.5, 0.6), mode="nearest")),
    ((1, 2, 4, 5), dict(size=(7, 3), mode="nearest-exact")),
    ((2, 2, 4, 5), dict(scale_factor=2, mode="bilinear")),
    ((2, 2, 4, 5), dict(scale_factor=2, mode="bilinear", align_corners=True)),
    ((2, 2, 4, 5), dict(size=(3, 8), mode="bilinear")),
    ((2, 2, 4, 5), dict(scale_factor=1.3, mode="bilinear", recompute_scale_factor=True)),
    ((2, 2, 4, 5), dict(scale_factor=2.5, mode="bicubic")),
    ((2, 2, 4, 5), dict(size=(6, 3), mode="bicubic", align_corners=True)),
    ((1, 2, 3, 4, 5), dict(scale_factor=2, mode="trilinear")),
    ((1, 2, 3, 4, 5), dict(size=(2, 5, 3), mode="nearest")),
    ((0, 2, 4, 5), dict(size=3, mode="bilinear")),  # empty batch
    ((1, 1, 1, 1), dict(size=(3, 2), mode="bilinear")),
    ((2, 3, 7), dict(size=3, mode="area")),
    ((2, 3, 7, 5), dict(scale_factor=0.5, mode="area")),
    ((2, 3, 4, 5), dict(size=(3, 7), mode="area")),
]


@pytest.mark.parametrize("shape, kw", CASES)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_interpolate_matches_torch(shape, kw, dtype):
    x = rng.standard_normal(shape).astype(dtype)
    check(lambda t: interpolate(t, **kw), lambda t: TF.interpolate(t, **kw), [x],
          rtol=1e-4 if dtype == np.float32 else 1e-6, atol=1e-5 if dtype == np.float32 else 1e-7)  # fmt: skip


def test_gradcheck():
    x = gf.randn(1, 2, 3, 4, dtype=gf.float64, requires_grad=True)
    for kw in (dict(scale_factor=2, mode="bilinear"), dict(size=(5, 2), mode="bicubic"),
               dict(size=(4, 7), mode="nearest")):  # fmt: skip
        assert gf.gradcheck(lambda t, kw=kw: interpolate(t, **kw), [x])


@pytest.mark.parametrize(
    "shape, kw, err",
    [
        ((1, 2, 5), dict(scale_factor=2, mode="bilinear"), NotImplementedError),
        ((1, 2, 5, 5), dict(scale_factor=2, mode="linear"), NotImplementedError),
        ((1, 2, 5, 5), dict(size=3, scale_factor=2), ValueError),
        ((1, 2, 5, 5), dict(), ValueError),
        ((1, 2, 5, 5), dict(size=3, align_corners=True), ValueError),
        ((1, 2, 5, 5), dict(size=(3,)), ValueError),
        ((1, 2, 5, 5), dict(scale_factor=(2, 3, 4)), ValueError),
        ((2, 5), dict(size=3), NotImplementedError),
        ((1, 2, 5, 5), dict(size=3, mode="foo"), NotImplementedError),
        ((1, 2, 5, 5), dict(size=0), RuntimeError),
    ],
)
def test_interpolate_errors_match_torch(shape, kw, err):
    with pytest.raises(err):
        TF.interpolate(torch.zeros(shape), **kw)
    with pytest.raises(err, match="interpolate"):
        interpolate(gf.zeros(*shape), **kw)


@pytest.mark.parametrize(
    "shape, r", [((1, 8, 3, 4), 2), ((2, 3, 9, 2, 2), 3), ((18, 1, 1), 3), ((0, 4, 2, 2), 2)]
)
def test_pixel_shuffle_matches_torch(shape, r):
    x = rng.standard_normal(shape).astype(np.float32)
    grad = shape[0] > 0  # torch 2.13's PixelShuffleBackward fails on an empty batch
    check(lambda t: pixel_shuffle(t, r), lambda t: TF.pixel_shuffle(t, r), [x], grad=grad)
    y = TF.pixel_shuffle(torch.from_numpy(x), r).numpy()
    if grad:
        check(lambda t: pixel_unshuffle(t, r), lambda t: TF.pixel_unshuffle(t, r), [y])
    else:  # and its pixel_unshuffle returns an empty input unchanged
        assert pixel_unshuffle(gf.tensor(y), r).shape == shape
        xg = gf.zeros(*shape, requires_grad=True)
        pixel_shuffle(xg, r).sum().backward()
        assert xg.grad.shape == shape


@pytest.mark.parametrize(
    "fn, tfn, shape, r",
    [
        (pixel_shuffle, TF.pixel_shuffle, (1, 3, 4, 4), 2),
        (pixel_shuffle, TF.pixel_shuffle, (4, 4), 2),
        (pixel_shuffle, TF.pixel_shuffle, (1, 8, 4, 4), 0),
        (pixel_unshuffle, TF.pixel_unshuffle, (1, 8, 3, 4), 2),
        (pixel_unshuffle, TF.pixel_unshuffle, (1, 8, 4, 3), 2),
    ],
)
def test_pixel_shuffle_errors(fn, tfn, shape, r):
    with pytest.raises(RuntimeError):
        tfn(torch.zeros(shape), r)
    with pytest.raises(RuntimeError, match=fn.__name__):
        fn(gf.zeros(*shape), r)


@pytest.mark.parametrize(
    "name, args, kw, shape",
    [
        ("Upsample", (), dict(scale_factor=2), (1, 2, 3, 4)),
        ("Upsample", ((3, 4),), dict(mode="bilinear", align_corners=True), (2, 2, 3, 4)),
        ("Upsample", (5,), dict(mode="linear"), (2, 2, 3)),
        ("Upsample", (), dict(scale_factor=(2, 1.5), mode="bicubic"), (1, 1, 3, 4)),
        ("UpsamplingNearest2d", (), dict(scale_factor=2), (1, 2, 3, 4)),
        ("UpsamplingBilinear2d", ((5, 7),), {}, (1, 2, 3, 4)),
        ("UpsamplingBilinear2d", (), dict(scale_factor=2), (1, 2, 3, 4)),
        ("PixelShuffle", (2,), {}, (2, 8, 3, 3)),
        ("PixelUnshuffle", (3,), {}, (1, 2, 6, 3)),
    ],
)
def test_layers_match_torch(name, args, kw, shape):
    from gradfit import nn

    layer, tlayer = getattr(nn, name)(*args, **kw), getattr(torch.nn, name)(*args, **kw)
    assert repr(layer) == repr(tlayer)
    check(layer, tlayer, [rng.standard_normal(shape).astype(np.float32)])


def test_upsample_error_names_layer():
    with pytest.raises(NotImplementedError, match="Upsample"):
        gf.nn.Upsample(scale_factor=2, mode="bilinear")(gf.zeros(1, 2, 3))


def test_deprecated_aliases_match_torch():
    import gradfit.nn.functional as F

    x = rng.standard_normal((1, 2, 3, 4)).astype(np.float32)
    check(lambda t: F.upsample(t, scale_factor=2, mode="bilinear"),
          lambda t: TF.interpolate(t, scale_factor=2, mode="bilinear"), [x])  # fmt: skip
    check(lambda t: F.upsample_nearest(t, size=(5, 7)),
          lambda t: TF.interpolate(t, size=(5, 7)), [x])  # fmt: skip
    check(lambda t: F.upsample_bilinear(t, scale_factor=2),
          lambda t: TF.interpolate(t, scale_factor=2, mode="bilinear", align_corners=True), [x])  # fmt: skip


def test_spatial_names_exported():
    import gradfit.nn.functional as F

    for name in ("conv_transpose1d", "conv_transpose2d", "pad", "interpolate", "fold", "unfold",
                 "pixel_shuffle", "pixel_unshuffle", "adaptive_avg_pool1d", "adaptive_max_pool1d",
                 "adaptive_max_pool2d"):  # fmt: skip
        assert callable(getattr(F, name)) and name in F.__all__
    for name in ("ConvTranspose1d", "ConvTranspose2d", "ZeroPad2d", "ReflectionPad2d", "Upsample",
                 "PixelShuffle", "Fold", "Unfold", "AdaptiveMaxPool2d", "AdaptiveAvgPool1d"):  # fmt: skip
        assert name in gf.nn.__all__ and isinstance(getattr(gf.nn, name), type)
