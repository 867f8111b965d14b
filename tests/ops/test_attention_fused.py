"""The fused attention ops (gradfit.ops.attention) against torch 2.13: the fast paths of
F.scaled_dot_product_attention and of self-attention in nn.MultiheadAttention."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import gradfit as gf
import gradfit.nn.functional as F
from gradfit.ops.attention import PackedSelfAttention, ScaledDotProductAttention
from oracle import assert_close, tol

rng = np.random.default_rng(7)


def copy_weights(g, t):
    gp = dict(g.named_parameters())
    for name, p in t.named_parameters():
        gp[name]._data[...] = p.detach().numpy()


@pytest.mark.parametrize("batch_first", [True, False])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_self_attention_fast_path_matches_torch(batch_first, dtype):
    torch.manual_seed(0)
    tdt = getattr(torch, dtype)
    tm = torch.nn.MultiheadAttention(8, 2, batch_first=batch_first).to(tdt)
    gm = gf.nn.MultiheadAttention(8, 2, batch_first=batch_first, dtype=dtype)
    copy_weights(gm, tm)
    x = rng.standard_normal((3, 5, 8) if batch_first else (5, 3, 8)).astype(dtype)
    mask = torch.ones(5, 5, dtype=torch.bool).triu(1)  # True: may not attend
    kpm = np.zeros((3, 5), bool)
    kpm[1, 3:] = True
    tx, gx = torch.tensor(x, requires_grad=True), gf.tensor(x, requires_grad=True)
    to = tm(tx, tx, tx, attn_mask=mask, key_padding_mask=torch.tensor(kpm), need_weights=False)[0]
    go, gw = gm(gx, gx, gx, attn_mask=gf.tensor(mask.numpy()), key_padding_mask=gf.tensor(kpm),
                need_weights=False)  # fmt: skip
    assert gw is None and go.dtype == np.dtype(dtype)
    assert type(go.grad_fn.parents[0]).__name__ == "PackedSelfAttention"  # the fast path ran
    t = tol(dtype)
    assert_close(go, to, **t, what="output")
    up = rng.standard_normal(go.shape).astype(dtype)
    to.backward(torch.tensor(up))
    go.backward(gf.tensor(up))
    assert_close(gx.grad, tx.grad, **t, what="input grad")
    gp = dict(gm.named_parameters())
    for name, p in tm.named_parameters():
        assert_close(gp[name].grad, p.grad, **t, what=name)


def test_sdpa_rows_far_apart_and_masked_rows():
    # rows whose scores differ by hundreds: one max per block would underflow some rows,
    # so the op must fall back to the exact row maximum; row 0 sees no key at all
    q = rng.standard_normal((2, 4, 3)) * np.array([1.0, 300.0, 1.0, 50.0])[:, None]
    k, v = rng.standard_normal((2, 5, 3)), rng.standard_normal((2, 5, 2))
    mask = np.ones((4, 5), bool)
    mask[0] = False
    ts = [torch.tensor(a, requires_grad=True) for a in (q, k, v)]
    gs = [gf.tensor(a, requires_grad=True) for a in (q, k, v)]
    to = torch.nn.functional.scaled_dot_product_attention(*ts, attn_mask=torch.tensor(mask))
    go = F.scaled_dot_product_attention(*gs, attn_mask=gf.tensor(mask))
    assert type(go.grad_fn) is ScaledDotProductAttention
    assert_close(go, to, **tol("float64"), what="output")
    (to * to).sum().backward()
    (go * go).sum().backward()
    for g, t, name in zip(gs, ts, "qkv"):
        assert_close(g.grad, t.grad, **tol("float64"), what=name)


def test_sdpa_broadcast_batch_gradients():
    q = rng.standard_normal((2, 3, 4, 5))
    k, v = rng.standard_normal((1, 3, 6, 5)), rng.standard_normal((3, 6, 2))
    ts = [torch.tensor(a, requires_grad=True) for a in (q, k, v)]
    gs = [gf.tensor(a, requires_grad=True) for a in (q, k, v)]
    torch.nn.functional.scaled_dot_product_attention(*ts, is_causal=True).sum().backward()
    F.scaled_dot_product_attention(*gs, is_causal=True).sum().backward()
    for g, t, name in zip(gs, ts, "qkv"):
        assert_close(g.grad, t.grad, **tol("float64"), what=name)


def test_fused_ops_second_derivatives():
    q, k, v = (gf.randn(2, 3, 4, dtype="float64", requires_grad=True) for _ in range(3))
    assert gf.gradgradcheck(
        lambda q, k, v: F.scaled_dot_product_attention(q, k, v, is_causal=True), [q, k, v]
    )
    qkv = gf.randn(3, 3, 12, dtype="float64", requires_grad=True)
    bias = np.where(np.tril(np.ones((3, 3), bool)), 0.0, -np.inf)
    for bf in (True, False):
        assert gf.gradgradcheck(
            lambda x, bf=bf: PackedSelfAttention.apply(x, heads=2, batch_first=bf, bias=bias,
                                                       scale=0.5),
            [qkv],
        )  # fmt: skip


# float32 on both paths: NumPy, and the compiled softmax (gradfit.kernels.softmax)
MASKS32 = {
    "none": {},
    "causal": {"is_causal": True},
    "bool": {"attn_mask": rng.random((9, 13)) > 0.3},
    "bool_fully_masked_row": {"attn_mask": np.array([[False] * 13] + [[True] * 13] * 8)},
    "float_per_batch": {"attn_mask": rng.standard_normal((2, 1, 9, 13)).astype(np.float32)},
    "float_1d": {"attn_mask": rng.standard_normal(13).astype(np.float32)},
    "scale": {"scale": 0.3},
}


@pytest.mark.parametrize("name", list(MASKS32))
def test_sdpa_float32_both_paths(kernel_path, name):
    kw = MASKS32[name]
    arrays = [rng.standard_normal(s).astype(np.float32)
              for s in ((2, 3, 9, 5), (2, 3, 13, 5), (1, 3, 13, 7))]  # fmt: skip
    ts = [torch.tensor(a, requires_grad=True) for a in arrays]
    gs = [gf.tensor(a, requires_grad=True) for a in arrays]
    tkw = {k: torch.tensor(v) if isinstance(v, np.ndarray) else v for k, v in kw.items()}
    gkw = {k: gf.tensor(v) if isinstance(v, np.ndarray) else v for k, v in kw.items()}
    to = torch.nn.functional.scaled_dot_product_attention(*ts, **tkw)
    go = F.scaled_dot_product_attention(*gs, **gkw)
    assert go.dtype == np.float32
    assert_close(go, to, **tol("float32"), what="output")
    (to * to).sum().backward()
    (go * go).sum().backward()
    for g, t, n in zip(gs, ts, "qkv"):
        assert g.grad.dtype == np.float32
        assert_close(g.grad, t.grad, rtol=1e-4, atol=1e-4, what=n)  # sums of float32 products


def test_sdpa_float32_rows_far_apart_and_empty(kernel_path):
    q = rng.standard_normal((2, 4, 3)) * np.array([1.0, 300.0, 1.0, 50.0])[:, None]
    q, k, v = q.astype(np.float32), *(rng.standard_normal(s).astype(np.float32)
                                      for s in ((2, 5, 3), (2, 5, 2)))  # fmt: skip
    ts = [torch.tensor(a, requires_grad=True) for a in (q, k, v)]
    gs = [gf.tensor(a, requires_grad=True) for a in (q, k, v)]
    to = torch.nn.functional.scaled_dot_product_attention(*ts)
    go = F.scaled_dot_product_attention(*gs)
    assert_close(go, to, rtol=1e-4, atol=1e-4, what="output")
    empty = F.scaled_dot_product_attention(*(gf.zeros(0, 4, 3) for _ in range(3)))
    assert empty.shape == (0, 4, 3)


@pytest.mark.parametrize("batch_first", [True, False])
def test_packed_self_attention_float32_both_paths(kernel_path, batch_first):
    torch.manual_seed(0)
    tm = torch.nn.MultiheadAttention(16, 2, batch_first=batch_first)
    gm = gf.nn.MultiheadAttention(16, 2, batch_first=batch_first)
    copy_weights(gm, tm)
    x = rng.standard_normal((3, 11, 16) if batch_first else (11, 3, 16)).astype(np.float32)
    mask = torch.ones(11, 11, dtype=torch.bool).triu(1)
    tx, gx = torch.tensor(x, requires_grad=True), gf.tensor(x, requires_grad=True)
    to = tm(tx, tx, tx, attn_mask=mask, need_weights=False)[0]
    go, _ = gm(gx, gx, gx, attn_mask=gf.tensor(mask.numpy()), need_weights=False)
    assert type(go.grad_fn.parents[0]).__name__ == "PackedSelfAttention"
    assert_close(go, to, **tol("float32"), what="output")
    up = rng.standard_normal(go.shape).astype(np.float32)
    to.backward(torch.tensor(up))
    go.backward(gf.tensor(up))
    assert_close(gx.grad, tx.grad, **tol("float32"), what="input grad")


def test_fused_attention_float32_double_backward(kernel_path):
    arrays = [rng.standard_normal((2, 5, 4)).astype(np.float32) for _ in range(3)]
    res = []
    for lib, fn in ((gf, F.scaled_dot_product_attention),
                    (torch, torch.nn.functional.scaled_dot_product_attention)):  # fmt: skip
        xs = [lib.tensor(a, requires_grad=True) for a in arrays]
        out = fn(*xs, is_causal=True)
        gq, gk = lib.autograd.grad((out * out).sum(), xs[:2], create_graph=True)
        res.append(lib.autograd.grad((gq * gq).sum() + (gk * gk).sum(), xs))
    for a, e in zip(*res, strict=True):
        assert_close(a, e, rtol=1e-3, atol=1e-4, what="second derivative")


def test_sdpa_float32_large_split_on_threads(kernel_path):
    arrays = [rng.standard_normal(s).astype(np.float32)
              for s in ((4, 2, 128, 8), (4, 2, 256, 8), (4, 2, 256, 8))]  # fmt: skip
    mask = rng.random((128, 256)) > 0.5  # scores of 1 MB: split across the pool
    before = gf.get_num_threads()
    gf.set_num_threads(2)
    try:
        ts = [torch.tensor(a, requires_grad=True) for a in arrays]
        gs = [gf.tensor(a, requires_grad=True) for a in arrays]
        to = torch.nn.functional.scaled_dot_product_attention(*ts, attn_mask=torch.tensor(mask))
        go = F.scaled_dot_product_attention(*gs, attn_mask=gf.tensor(mask))
        assert_close(go, to, **tol("float32"), what="output")
        to.sum().backward()
        go.sum().backward()
        for g, t, n in zip(gs, ts, "qkv"):
            assert_close(g.grad, t.grad, rtol=1e-4, atol=1e-4, what=n)
    finally:
        gf.set_num_threads(before)
