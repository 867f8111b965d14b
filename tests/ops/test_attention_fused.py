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
