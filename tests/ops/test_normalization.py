"""batch_norm and layer_norm against PyTorch: values, gradients, running statistics, errors."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import gradfit as gf
from gradfit.ops.normalization import batch_norm, layer_norm
from oracle import assert_close, check

rng = np.random.default_rng(0)


@pytest.mark.parametrize("shape", [(4, 3), (2, 3, 5), (2, 3, 4, 5), (1, 3, 2, 2), (5, 1)])
@pytest.mark.parametrize("training", [True, False])
@pytest.mark.parametrize("affine", ["both", "weight", "none"])
def test_batch_norm_matches_torch(shape, training, affine):
    C = shape[1]
    x = (rng.standard_normal(shape) * 3 + 1).astype(np.float32)
    n_params = {"both": 2, "weight": 1, "none": 0}[affine]
    arrs = [x] + [rng.standard_normal(C).astype(np.float32) for _ in range(n_params)]
    rm0 = rng.standard_normal(C).astype(np.float32)
    rv0 = (rng.random(C) + 0.5).astype(np.float32)
    grm, grv = gf.tensor(rm0), gf.tensor(rv0)
    trm, trv = torch.tensor(rm0), torch.tensor(rv0)

    def g(x, w=None, b=None):
        return batch_norm(x, grm, grv, w, b, training=training, momentum=0.3, eps=1e-3)

    def t(x, w=None, b=None):
        return TF.batch_norm(x, trm, trv, w, b, training=training, momentum=0.3, eps=1e-3)

    check(g, t, arrs, rtol=1e-4, atol=1e-4)
    # the running statistics moved (training) or stayed (eval) exactly as PyTorch's
    assert_close(grm, trm, rtol=1e-5, atol=1e-6, what="running_mean")
    assert_close(grv, trv, rtol=1e-5, atol=1e-6, what="running_var")
    assert grm.dtype == grv.dtype == np.float32


def test_batch_norm_without_running_stats_uses_batch_stats():
    x = rng.standard_normal((6, 4, 3)).astype(np.float32)
    check(lambda x: batch_norm(x, None, None, training=True),
          lambda x: TF.batch_norm(x, None, None, training=True), [x], rtol=1e-4, atol=1e-5)  # fmt: skip


@pytest.mark.parametrize("training", [True, False])
def test_batch_norm_gradcheck(training):
    x = gf.randn(4, 3, 2, 2, dtype="float64", requires_grad=True)
    w = gf.randn(3, dtype="float64", requires_grad=True)
    b = gf.randn(3, dtype="float64", requires_grad=True)
    rm, rv = gf.zeros(3, dtype="float64"), gf.ones(3, dtype="float64")
    # momentum 0 keeps the running stats fixed while finite differences re-run the op
    assert gf.gradcheck(lambda x, w, b: batch_norm(x, rm, rv, w, b, training, 0.0), [x, w, b])
    assert gf.gradcheck(lambda x: batch_norm(x, rm, rv, None, None, training, 0.0), [x])


@pytest.mark.parametrize("shape, normalized", [((4, 6), (6,)), ((2, 3, 4, 5), (4, 5)),
                                                ((1, 5), 5), ((3, 2, 7), (7,)), ((5, 64), 64),
                                                ((3, 21), 21), ((0, 8), 8)])  # fmt: skip
@pytest.mark.parametrize("affine", ["both", "weight", "none"])
def test_layer_norm_matches_torch(kernel_path, shape, normalized, affine):
    nshape = (normalized,) if isinstance(normalized, int) else normalized
    x = (rng.standard_normal(shape) * 2 - 1).astype(np.float32)
    arrs = [x]
    if affine != "none":
        arrs.append(rng.standard_normal(nshape).astype(np.float32))
    if affine == "both":
        arrs.append(rng.standard_normal(nshape).astype(np.float32))
    check(lambda *a: layer_norm(a[0], normalized, *a[1:], eps=1e-4),
          lambda *a: TF.layer_norm(a[0], nshape, *a[1:], eps=1e-4), arrs, rtol=1e-4, atol=1e-4)  # fmt: skip


@pytest.mark.parametrize("which", [(True, False, False), (False, True, True), (False, False, True)])
def test_layer_norm_some_gradients_and_strided_input(kernel_path, which):
    x = (rng.standard_normal((6, 2, 16)) * 3 + 1).astype(np.float32)
    w, b = rng.standard_normal(6).astype(np.float32), rng.standard_normal(6).astype(np.float32)
    res = []
    for lib, F in ((gf, gf.nn.functional), (torch, TF)):
        ts = [lib.tensor(a, requires_grad=r) for a, r in zip((x, w, b), which, strict=True)]
        y = F.layer_norm(ts[0].permute(2, 1, 0), (6,), ts[1], ts[2])
        (y * y.detach() ** 2).sum().backward()
        res.append([y.detach().numpy()] + [t.grad for t in ts])
    for a, e in zip(*res, strict=True):
        assert (a is None) == (e is None)
        if a is not None:
            np.testing.assert_allclose(np.asarray(a), e.numpy() if hasattr(e, "numpy") else e,
                                       rtol=1e-4, atol=1e-4)  # fmt: skip


def test_layer_norm_large_split_on_threads(kernel_path):
    x = (rng.standard_normal((4200, 64)) * 2).astype(np.float32)  # 1 MB: split on the pool
    w, b = rng.standard_normal(64).astype(np.float32), rng.standard_normal(64).astype(np.float32)
    before = gf.get_num_threads()
    gf.set_num_threads(2)
    try:
        check(lambda *a: layer_norm(a[0], 64, *a[1:]), lambda *a: TF.layer_norm(a[0], (64,), *a[1:]),
              [x, w, b], rtol=1e-4, atol=2e-4)  # fmt: skip
    finally:
        gf.set_num_threads(before)


def test_layer_norm_same_bits_on_one_and_two_threads(kernel_path):
    """The weight/bias gradient sums run over row blocks fixed by the shape, not the threads."""
    x = (rng.standard_normal((9000, 64)) * 2).astype(np.float32)  # 2.3 MB: split on the pool
    w, b = rng.standard_normal(64).astype(np.float32), rng.standard_normal(64).astype(np.float32)
    g = rng.standard_normal(x.shape).astype(np.float32)
    before, res = gf.get_num_threads(), []
    try:
        for n in (1, 2):
            gf.set_num_threads(n)
            ts = [gf.tensor(a, requires_grad=True) for a in (x, w, b)]
            layer_norm(ts[0], 64, ts[1], ts[2]).backward(gf.tensor(g))
            res.append([t.grad.numpy() for t in ts])
    finally:
        gf.set_num_threads(before)
    for a, e in zip(*res, strict=True):
        np.testing.assert_array_equal(a, e)


def test_layer_norm_float32_double_backward(kernel_path):
    x = (rng.standard_normal((3, 8)) * 2).astype(np.float32)
    w = rng.standard_normal(8).astype(np.float32)
    res = []
    for lib, F in ((gf, gf.nn.functional), (torch, TF)):
        xt, wt = lib.tensor(x, requires_grad=True), lib.tensor(w, requires_grad=True)
        y = F.layer_norm(xt, (8,), wt)
        gx, gw = lib.autograd.grad((y * y * y).sum(), [xt, wt], create_graph=True)
        res.append(lib.autograd.grad((gx * gx).sum() + (gw * gw).sum(), [xt, wt]))
    for a, e in zip(*res, strict=True):
        np.testing.assert_allclose(a.numpy(), e.numpy(), rtol=1e-3, atol=1e-3)


def test_layer_norm_gradcheck():
    x = gf.randn(3, 2, 4, dtype="float64", requires_grad=True)
    w = gf.randn(2, 4, dtype="float64", requires_grad=True)
    b = gf.randn(2, 4, dtype="float64", requires_grad=True)
    assert gf.gradcheck(lambda x, w, b: layer_norm(x, (2, 4), w, b), [x, w, b])
    assert gf.gradcheck(lambda x: layer_norm(x, 4), [x])


def test_float32_stays_float32():
    x = gf.randn(4, 3, 2, requires_grad=True)
    w, b = gf.ones(3, requires_grad=True), gf.zeros(3, requires_grad=True)
    y = batch_norm(x, gf.zeros(3), gf.ones(3), w, b, training=True)
    z = layer_norm(x, (3, 2))
    assert y.dtype == z.dtype == np.float32
    (y.sum() + (z * z).sum()).backward()
    assert x.grad.dtype == w.grad.dtype == b.grad.dtype == np.float32


def test_bad_inputs():
    x = gf.randn(4, 3)
    with pytest.raises(ValueError, match="more than 1 value per channel"):
        batch_norm(gf.randn(1, 3), gf.zeros(3), gf.ones(3), training=True)
    with pytest.raises(ValueError, match=r"running_mean must be a gf.Tensor of shape \(3,\)"):
        batch_norm(x, gf.zeros(4), gf.ones(3))
    with pytest.raises(ValueError, match="required when training=False"):
        batch_norm(x, None, None, training=False)
    with pytest.raises(ValueError, match="momentum"):
        batch_norm(x, gf.zeros(3), gf.ones(3), training=True, momentum=2.0)
    with pytest.raises(ValueError, match=r"expected input \(N, C\)"):
        batch_norm(gf.randn(3), None, None, training=True)
    with pytest.raises(ValueError, match="does not end with normalized_shape"):
        layer_norm(x, (4,))
    with pytest.raises(ValueError, match=r"weight must have shape \(3,\)"):
        layer_norm(x, 3, gf.ones(4))
    with pytest.raises(TypeError, match="expected a float tensor"):
        layer_norm(gf.tensor([[1, 2]]), 2)
