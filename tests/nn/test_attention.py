"""Attention and transformer blocks against torch 2.13 with the same weights."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import gradfit as gf
import gradfit.nn.functional as F


def close(a, b, tol=1e-10):
    a = a.numpy() if isinstance(a, gf.Tensor) else a
    b = b.detach().numpy() if isinstance(b, torch.Tensor) else b
    assert a.shape == b.shape, (a.shape, b.shape)
    np.testing.assert_allclose(a, b, rtol=tol, atol=tol)


def copy_weights(g, t):
    gp = dict(g.named_parameters())
    assert sorted(gp) == sorted(n for n, _ in t.named_parameters())
    for name, p in t.named_parameters():
        gp[name]._data[...] = p.detach().numpy()


rng = np.random.default_rng(0)
Q, K, V = (
    rng.standard_normal((2, 3, 4, 5)),
    rng.standard_normal((2, 3, 6, 5)),
    rng.standard_normal((2, 3, 6, 7)),
)
MASKS = {
    "none": {},
    "causal": {"is_causal": True},
    "bool": {"attn_mask": rng.random((4, 6)) > 0.3},
    "bool_fully_masked_row": {"attn_mask": np.array([[False] * 6] + [[True] * 6] * 3)},
    "float": {"attn_mask": rng.standard_normal((2, 1, 4, 6))},
    "scale": {"scale": 0.3},
}


@pytest.mark.parametrize("name", list(MASKS))
def test_sdpa_matches_torch(name):
    kw = MASKS[name]
    t = [torch.tensor(a, requires_grad=True) for a in (Q, K, V)]
    g = [gf.tensor(a, requires_grad=True) for a in (Q, K, V)]
    tkw = {k: torch.tensor(v) if isinstance(v, np.ndarray) else v for k, v in kw.items()}
    gkw = {k: gf.tensor(v) if isinstance(v, np.ndarray) else v for k, v in kw.items()}
    to = torch.nn.functional.scaled_dot_product_attention(*t, **tkw)
    go = F.scaled_dot_product_attention(*g, **gkw)
    close(go, to)
    (to * to).sum().backward()
    (go * go).sum().backward()
    for a, b in zip(g, t):
        close(a.grad, b.grad, 1e-9)


def test_sdpa_gqa_float32_and_errors():
    q = rng.standard_normal((1, 4, 3, 2)).astype(np.float32)
    kv = rng.standard_normal((1, 2, 5, 2)).astype(np.float32)
    to = torch.nn.functional.scaled_dot_product_attention(
        torch.tensor(q), torch.tensor(kv), torch.tensor(kv), enable_gqa=True
    )
    go = F.scaled_dot_product_attention(gf.tensor(q), gf.tensor(kv), gf.tensor(kv), enable_gqa=True)
    assert go.dtype == np.float32
    close(go, to, 1e-5)
    with pytest.raises(RuntimeError, match="attn_mask of shape"):
        F.scaled_dot_product_attention(
            gf.tensor(q), gf.tensor(q), gf.tensor(q), attn_mask=gf.ones(2, 2, dtype="bool")
        )
    with pytest.raises(RuntimeError, match="is_causal"):
        F.scaled_dot_product_attention(
            gf.tensor(q),
            gf.tensor(q),
            gf.tensor(q),
            attn_mask=gf.ones(3, 3, dtype="bool"),
            is_causal=True,
        )


def test_sdpa_gradcheck():
    q, k, v = (gf.randn(2, 3, 4, dtype="float64", requires_grad=True) for _ in range(3))
    assert gf.gradcheck(
        lambda q, k, v: F.scaled_dot_product_attention(q, k, v, is_causal=True).sum(), [q, k, v]
    )


MHA = [
    {},
    {"batch_first": True},
    {"kdim": 3, "vdim": 4},
    {"add_bias_kv": True, "add_zero_attn": True},
    {"bias": False},
]


@pytest.mark.parametrize("kw", MHA, ids=lambda k: ",".join(k) or "default")
@pytest.mark.parametrize("avg", [True, False])
def test_multihead_attention_matches_torch(kw, avg):
    torch.manual_seed(0)
    tm = torch.nn.MultiheadAttention(8, 2, **kw).double()
    gm = gf.nn.MultiheadAttention(8, 2, dtype="float64", **kw)
    copy_weights(gm, tm)
    kd, vd = kw.get("kdim", 8), kw.get("vdim", 8)

    def shp(L, E):
        return (2, L, E) if kw.get("batch_first") else (L, 2, E)

    x, k, v = (
        rng.standard_normal(shp(3, 8)),
        rng.standard_normal(shp(5, kd)),
        rng.standard_normal(shp(5, vd)),
    )
    kpm = np.zeros((2, 5), bool)
    kpm[1, 3:] = True
    am = rng.random((3, 5)) < 0.2
    tx = [torch.tensor(a, requires_grad=True) for a in (x, k, v)]
    gx = [gf.tensor(a, requires_grad=True) for a in (x, k, v)]
    to, tw = tm(
        *tx,
        key_padding_mask=torch.tensor(kpm),
        attn_mask=torch.tensor(am),
        average_attn_weights=avg,
    )
    go, gw = gm(
        *gx, key_padding_mask=gf.tensor(kpm), attn_mask=gf.tensor(am), average_attn_weights=avg
    )
    close(go, to)
    close(gw, tw)
    ((to * to).sum() + tw.sum()).backward()
    ((go * go).sum() + gw.sum()).backward()
    for a, b in zip(gx, tx):
        close(a.grad, b.grad, 1e-9)
    gp = dict(gm.named_parameters())
    for name, p in tm.named_parameters():
        close(gp[name].grad, p.grad, 1e-9)
    assert repr(gm) == repr(tm)


def test_multihead_attention_unbatched_float_mask_and_errors():
    torch.manual_seed(1)
    tm = torch.nn.MultiheadAttention(6, 3).double()
    gm = gf.nn.MultiheadAttention(6, 3, dtype="float64")
    copy_weights(gm, tm)
    x = rng.standard_normal((4, 6))
    mask = rng.standard_normal((3 * 1, 4, 4))
    to, tw = tm(
        torch.tensor(x),
        torch.tensor(x),
        torch.tensor(x),
        attn_mask=torch.tensor(mask[:1].repeat(3, 0)),
    )
    go, gw = gm(
        gf.tensor(x), gf.tensor(x), gf.tensor(x), attn_mask=gf.tensor(mask[:1].repeat(3, 0))
    )
    close(go, to)
    close(gw, tw)
    out, w = gm(gf.tensor(x), gf.tensor(x), gf.tensor(x), need_weights=False)
    assert w is None
    with pytest.raises(RuntimeError, match="2D attn_mask"):
        gm(gf.tensor(x), gf.tensor(x), gf.tensor(x), attn_mask=gf.ones(3, 4, dtype="bool"))
    with pytest.raises(RuntimeError, match="is_causal"):
        gm(gf.tensor(x), gf.tensor(x), gf.tensor(x), is_causal=True)
    with pytest.raises(AssertionError, match="divisible"):
        gf.nn.MultiheadAttention(7, 2)


@pytest.mark.parametrize("norm_first", [False, True])
@pytest.mark.parametrize("activation", ["relu", "gelu"])
def test_transformer_layers_match_torch(norm_first, activation):
    kw = {
        "dim_feedforward": 16,
        "dropout": 0.0,
        "activation": activation,
        "norm_first": norm_first,
        "batch_first": True,
    }
    torch.manual_seed(2)
    tenc = torch.nn.TransformerEncoder(
        torch.nn.TransformerEncoderLayer(8, 2, **kw), 2, enable_nested_tensor=False
    ).double()
    genc = gf.nn.TransformerEncoder(gf.nn.TransformerEncoderLayer(8, 2, dtype="float64", **kw), 2)
    copy_weights(genc, tenc)
    tdec = torch.nn.TransformerDecoder(torch.nn.TransformerDecoderLayer(8, 2, **kw), 2).double()
    gdec = gf.nn.TransformerDecoder(gf.nn.TransformerDecoderLayer(8, 2, dtype="float64", **kw), 2)
    copy_weights(gdec, tdec)
    src, tgt = rng.standard_normal((2, 5, 8)), rng.standard_normal((2, 4, 8))
    kpm = np.zeros((2, 5), bool)
    kpm[0, 4] = True
    tmask = torch.nn.Transformer.generate_square_subsequent_mask(4, dtype=torch.float64)
    gmask = gf.nn.Transformer.generate_square_subsequent_mask(4, dtype="float64")
    close(gmask, tmask, 0)
    ts, gs = torch.tensor(src, requires_grad=True), gf.tensor(src, requires_grad=True)
    tmem = tenc(ts, src_key_padding_mask=torch.tensor(kpm))
    gmem = genc(gs, src_key_padding_mask=gf.tensor(kpm))
    close(gmem, tmem)
    to = tdec(
        torch.tensor(tgt),
        tmem,
        tgt_mask=tmask,
        tgt_is_causal=True,
        memory_key_padding_mask=torch.tensor(kpm),
    )
    go = gdec(
        gf.tensor(tgt),
        gmem,
        tgt_mask=gmask,
        tgt_is_causal=True,
        memory_key_padding_mask=gf.tensor(kpm),
    )
    close(go, to)
    (to * to).sum().backward()
    (go * go).sum().backward()
    close(gs.grad, ts.grad, 1e-9)
    for g, t in ((genc, tenc), (gdec, tdec)):
        gp = dict(g.named_parameters())
        for name, p in t.named_parameters():
            close(gp[name].grad, p.grad, 1e-9)


def test_full_transformer_state_dict_and_forward():
    torch.manual_seed(3)
    kw = {
        "d_model": 8,
        "nhead": 2,
        "num_encoder_layers": 1,
        "num_decoder_layers": 1,
        "dim_feedforward": 16,
        "dropout": 0.0,
    }
    t = torch.nn.Transformer(**kw).double()
    g = gf.nn.Transformer(**kw, dtype="float64")
    assert [(k, tuple(v.shape)) for k, v in g.state_dict().items()] == [
        (k, tuple(v.shape)) for k, v in t.state_dict().items()
    ]
    copy_weights(g, t)
    src, tgt = rng.standard_normal((5, 2, 8)), rng.standard_normal((3, 2, 8))
    mask = t.generate_square_subsequent_mask(3, dtype=torch.float64)
    close(
        g(gf.tensor(src), gf.tensor(tgt), tgt_mask=gf.tensor(mask.numpy())),
        t(torch.tensor(src), torch.tensor(tgt), tgt_mask=mask),
    )
    with pytest.raises(RuntimeError, match="d_model"):
        g(gf.randn(5, 2, 4, dtype="float64"), gf.randn(3, 2, 4, dtype="float64"))
