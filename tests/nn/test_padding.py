"""F.pad (constant/reflect/replicate/circular) and the padding layers against PyTorch."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import gradfit as gf
import gradfit.nn.padding as P
from gradfit.ops.padding import pad
from oracle import check

rng = np.random.default_rng(0)


@pytest.mark.parametrize(
    "shape, p, mode",
    [
        ((2, 3, 5), (2, 1), "constant"),
        ((2, 3, 5), (-1, 2, 0, 1, 1, 0), "constant"),  # crops and pads the batch dimension too
        ((4,), (-2, -2), "constant"),
        ((2, 3, 5), (), "constant"),
        ((), (), "constant"),
        ((0, 3), (1, 1, 1, 0), "constant"),
        ((2, 3, 5), (2, 4), "reflect"),
        ((3, 5), (4, 0), "reflect"),  # unbatched
        ((2, 3, 4, 5), (1, 2, 3, 0), "reflect"),
        ((1, 2, 3, 4, 5), (1, 1, 2, 0, 0, 2), "reflect"),
        ((2, 3, 5), (-1, 2), "reflect"),
        ((2, 3, 5), (3, 7), "replicate"),
        ((2, 3, 4, 5), (2, -1, 1, 3), "replicate"),
        ((3, 4, 4, 5), (1, 1, 1, 1, 1, 1), "replicate"),
        ((2, 3, 5), (5, 2), "circular"),
        ((2, 3, 4, 5), (2, 1, 4, 3), "circular"),
        ((2, 3, 4, 5), (-1, 2, 1, -2), "circular"),
        ((1, 1, 2, 3, 4), (1, 2, 2, 1, 0, 2), "circular"),
        ((0, 3, 5), (1, 2), "reflect"),  # empty batch
    ],
)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_pad_matches_torch(shape, p, mode, dtype):
    x = rng.standard_normal(shape).astype(dtype)
    check(lambda t: pad(t, p, mode), lambda t: TF.pad(t, p, mode), [x])


def test_constant_value_and_integer_input():
    x = rng.standard_normal((2, 3))
    check(
        lambda t: pad(t, (1, 2, 1, 0), value=-2.5),
        lambda t: TF.pad(t, (1, 2, 1, 0), value=-2.5),
        [x],
    )
    xi = np.arange(6).reshape(2, 3)
    check(lambda t: pad(t, (1, 1), value=7), lambda t: TF.pad(t, (1, 1), value=7), [xi])


def test_gradcheck():
    x = gf.randn(2, 3, 4, 5, dtype=gf.float64, requires_grad=True)
    for mode, p in (("reflect", (3, 1, 2, 3)), ("replicate", (2, 3, -1, 4)), ("circular", (5, 2, 4, 1)),
                    ("constant", (1, -2, 2, 0))):  # fmt: skip
        assert gf.gradcheck(lambda t, mode=mode, p=p: pad(t, p, mode), [x])


@pytest.mark.parametrize(
    "shape, p, kw, err",
    [
        ((1, 3, 4), (4, 0), dict(mode="reflect"), RuntimeError),
        ((1, 3, 4), (5, 0), dict(mode="circular"), RuntimeError),
        ((1, 3, 4), (1, 1, 1, 1, 1, 1), dict(mode="reflect"), NotImplementedError),
        ((4,), (1, 1), dict(mode="reflect"), NotImplementedError),
        ((1, 1, 1, 4, 4), (1, 1, 1, 1), dict(mode="replicate"), NotImplementedError),
        ((1, 3, 4), (1,), {}, RuntimeError),
        ((3, 4), (1,) * 6, {}, RuntimeError),
        ((1, 3, 4), (-3, -2), {}, RuntimeError),
        ((1, 3, 4), (1, 1), dict(mode="foo"), NotImplementedError),
        ((1, 3, 4), (1, 1), dict(mode="reflect", value=2.0), RuntimeError),
        ((2, 0, 4), (1, 1), dict(mode="reflect"), RuntimeError),
        ((1, 3, 4), (1.5, 1), {}, TypeError),
    ],
)
def test_errors_match_torch(shape, p, kw, err):
    with pytest.raises(err):
        TF.pad(torch.zeros(shape), p, **kw)
    with pytest.raises(err, match="pad"):
        pad(gf.zeros(*shape), p, **kw)


LAYERS = [
    ("ZeroPad1d", (2,), (2, 3, 4)),
    ("ZeroPad2d", ((1, 2, 3, 0),), (3, 4, 4)),
    ("ZeroPad3d", (1,), (1, 2, 2, 3, 4)),
    ("ConstantPad1d", ((1, 3), 3.5), (2, 3, 4)),
    ("ConstantPad2d", (1, -1.0), (2, 3, 4, 4)),
    ("ConstantPad3d", ((1, 0, 0, 1, 2, 2), 0.0), (2, 2, 3, 4)),
    ("ReflectionPad1d", ((3, 1),), (2, 3, 4)),
    ("ReflectionPad2d", (1,), (3, 4, 4)),
    ("ReflectionPad3d", (1,), (1, 2, 2, 3, 4)),
    ("ReplicationPad1d", (3,), (2, 3, 4)),
    ("ReplicationPad2d", ((1, 0, 2, 3),), (2, 3, 4, 4)),
    ("ReplicationPad3d", (1,), (2, 2, 3, 4)),
    ("CircularPad1d", ((2, 3),), (2, 3, 4)),
    ("CircularPad2d", (1,), (2, 3, 4, 4)),
    ("CircularPad3d", ((1, 1, 0, 1, 1, 0),), (1, 2, 2, 3, 4)),
]


@pytest.mark.parametrize("name, args, shape", LAYERS)
def test_layers_match_torch(name, args, shape):
    layer, tlayer = getattr(P, name)(*args), getattr(torch.nn, name)(*args)
    assert repr(layer) == repr(tlayer)
    assert layer.padding == tlayer.padding
    check(layer, tlayer, [rng.standard_normal(shape).astype(np.float32)])


def test_layer_errors_name_the_layer():
    with pytest.raises(ValueError, match="ZeroPad2d"):
        P.ZeroPad2d((1, 2, 3))
    with pytest.raises(RuntimeError, match="ReflectionPad1d"):
        P.ReflectionPad1d(5)(gf.zeros(1, 2, 3))
