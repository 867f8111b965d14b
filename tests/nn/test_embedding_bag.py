"""EmbeddingBag / F.embedding_bag against torch: sum/mean/max, offsets, per_sample_weights, padding."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import gradfit as gf
import gradfit.nn.functional as F

rng = np.random.default_rng(5)
W = rng.standard_normal((10, 4))


def _run(mode, inp, offsets=None, psw=None, **kw):
    gw, tw = gf.tensor(W.copy(), requires_grad=True), torch.tensor(W.copy(), requires_grad=True)
    gp = None if psw is None else gf.tensor(psw, requires_grad=True)
    tp = None if psw is None else torch.tensor(psw, requires_grad=True)
    go = F.embedding_bag(
        gf.tensor(inp),
        gw,
        None if offsets is None else gf.tensor(offsets),
        mode=mode,
        per_sample_weights=gp,
        **kw,
    )
    to = TF.embedding_bag(
        torch.from_numpy(inp),
        tw,
        None if offsets is None else torch.from_numpy(offsets),
        mode=mode,
        per_sample_weights=tp,
        **kw,
    )
    np.testing.assert_allclose(go.numpy(), to.detach().numpy(), rtol=1e-7, atol=1e-9)
    up = rng.standard_normal(go.shape)
    (go * gf.tensor(up)).sum().backward()
    (to * torch.from_numpy(up)).sum().backward()
    np.testing.assert_allclose(gw.grad.numpy(), tw.grad.numpy(), rtol=1e-7, atol=1e-9)
    if psw is not None:
        np.testing.assert_allclose(gp.grad.numpy(), tp.grad.numpy(), rtol=1e-7, atol=1e-9)


FLAT = np.array([1, 2, 4, 5, 4, 3, 2, 9], dtype=np.int64)


@pytest.mark.parametrize("mode", ["sum", "mean", "max"])
def test_modes(mode):
    _run(mode, FLAT, np.array([0, 3, 3, 6], dtype=np.int64))  # with an empty bag
    _run(mode, FLAT.reshape(2, 4))
    _run(mode, FLAT, np.array([0, 2, 5, 8], dtype=np.int64), include_last_offset=True)
    _run(mode, FLAT, np.array([0, 3], dtype=np.int64), padding_idx=4)
    _run(mode, np.zeros((0, 3), dtype=np.int64))


def test_per_sample_weights():
    _run("sum", FLAT, np.array([0, 3, 6], dtype=np.int64), psw=rng.standard_normal(8))
    _run("sum", FLAT.reshape(2, 4), psw=rng.standard_normal((2, 4)))


def test_module():
    for kw in [
        dict(),
        dict(mode="sum", padding_idx=0),
        dict(mode="max"),
        dict(include_last_offset=True),
    ]:
        g, t = gf.nn.EmbeddingBag(5, 3, **kw), torch.nn.EmbeddingBag(5, 3, **kw)
        assert repr(g) == repr(t)
        assert [(k, tuple(v.shape)) for k, v in g.state_dict().items()] == [
            (k, tuple(v.shape)) for k, v in t.state_dict().items()
        ]
    g = gf.nn.EmbeddingBag(5, 3, mode="sum", padding_idx=0)
    assert float(g.weight[0].abs().sum()) == 0.0
    assert g(gf.tensor([[1, 2], [0, 0]])).shape == (2, 3)


def test_gradcheck_and_errors():
    w = gf.tensor(W.copy(), requires_grad=True)
    p = gf.tensor(rng.standard_normal(8), requires_grad=True)
    off = gf.tensor(np.array([0, 3], dtype=np.int64))
    assert gf.gradcheck(
        lambda w, p: F.embedding_bag(gf.tensor(FLAT), w, off, mode="sum", per_sample_weights=p),
        [w, p],
    )
    assert gf.gradcheck(lambda w: F.embedding_bag(gf.tensor(FLAT), w, off, mode="max"), [w])
    with pytest.raises(ValueError):
        F.embedding_bag(gf.tensor(FLAT), w)
    with pytest.raises(ValueError):
        TF.embedding_bag(torch.from_numpy(FLAT), torch.from_numpy(W))
    with pytest.raises(NotImplementedError):
        F.embedding_bag(gf.tensor(FLAT), w, off, mode="mean", per_sample_weights=p)
    with pytest.raises(NotImplementedError):
        TF.embedding_bag(
            torch.from_numpy(FLAT),
            torch.from_numpy(W),
            torch.tensor([0, 3]),
            mode="mean",
            per_sample_weights=torch.ones(8, dtype=torch.float64),
        )
    with pytest.raises(ValueError):
        F.embedding_bag(gf.tensor(FLAT), w, off, mode="min")
