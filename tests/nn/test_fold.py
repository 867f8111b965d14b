"""F.unfold / F.fold and nn.Unfold / nn.Fold against PyTorch."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import gradfit as gf
from gradfit.ops.fold import fold, unfold
from oracle import check

rng = np.random.default_rng(0)

CASES = [
    ((2, 3, 5, 5), dict(kernel_size=3)),
    ((2, 3, 5, 6), dict(kernel_size=(2, 3), stride=(2, 1), padding=(1, 0), dilation=(1, 2))),
    ((1, 2, 7, 4), dict(kernel_size=2, stride=3, padding=1)),
    ((3, 4, 4), dict(kernel_size=2, dilation=2)),  # unbatched
    ((0, 2, 3, 3), dict(kernel_size=2)),  # empty batch
]


@pytest.mark.parametrize("shape, kw", CASES)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_unfold_and_fold_match_torch(shape, kw, dtype):
    x = rng.standard_normal(shape).astype(dtype)
    check(lambda t: unfold(t, **kw), lambda t: TF.unfold(t, **kw), [x])
    cols = TF.unfold(torch.from_numpy(x), **kw).numpy()
    cols = rng.standard_normal(cols.shape).astype(dtype)
    size = shape[-2:]
    check(lambda t: fold(t, size, **kw), lambda t: TF.fold(t, size, **kw), [cols])


def test_gradcheck():
    x = gf.randn(2, 2, 5, 4, dtype=gf.float64, requires_grad=True)
    kw = dict(kernel_size=(2, 3), stride=2, padding=1, dilation=(2, 1))
    assert gf.gradcheck(lambda t: unfold(t, **kw), [x])
    cols = unfold(x.detach(), **kw).detach().requires_grad_()
    assert gf.gradcheck(lambda c: fold(c, (5, 4), **kw), [cols])


@pytest.mark.parametrize(
    "fn, tfn, shape, args, kw",
    [
        (unfold, TF.unfold, (1, 2, 3, 3), (4,), {}),
        (unfold, TF.unfold, (1, 2, 3, 3), (0,), {}),
        (unfold, TF.unfold, (1, 2, 3, 3), (2,), dict(stride=0)),
        (unfold, TF.unfold, (1, 2, 3, 3), (2,), dict(padding=-1)),
        (fold, TF.fold, (1, 7, 4), ((3, 3), 2), {}),
        (fold, TF.fold, (1, 8, 5), ((3, 3), 2), {}),
        (fold, TF.fold, (8,), ((3, 3), 2), {}),
    ],
)
def test_errors_match_torch(fn, tfn, shape, args, kw):
    with pytest.raises(RuntimeError):
        tfn(torch.zeros(shape), *args, **kw)
    with pytest.raises(RuntimeError, match=fn.__name__):
        fn(gf.zeros(*shape), *args, **kw)


def test_layers_match_torch():
    u, tu = gf.nn.Unfold((2, 3), padding=1), torch.nn.Unfold((2, 3), padding=1)
    f, tf = gf.nn.Fold((4, 5), (2, 3), padding=1), torch.nn.Fold((4, 5), (2, 3), padding=1)
    assert repr(u) == repr(tu) and repr(f) == repr(tf)
    x = rng.standard_normal((2, 3, 4, 5)).astype(np.float32)
    check(lambda t: f(u(t)), lambda t: tf(tu(t)), [x])
