"""Margin/embedding/likelihood losses and distances against torch: values, gradients, reprs, errors."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import gradfit as gf
import gradfit.nn.functional as F
from oracle import check

rng = np.random.default_rng(1)


def r(*s, dt=np.float64):
    return rng.standard_normal(s).astype(dt)


def sign(*s, dt=np.float64):
    return np.where(rng.random(s) < 0.5, -1.0, 1.0).astype(dt)


REDS = ["mean", "sum", "none"]


def chk(gfn, tfn, xs, consts=(), **kw):
    """check() with the trailing constant (target-like) arrays kept out of the gradient check."""
    g = [gf.tensor(c) for c in consts]
    t = [torch.from_numpy(np.array(c)) for c in consts]
    check(lambda *a: gfn(*a, *g), lambda *a: tfn(*a, *t), xs, **kw)


@pytest.mark.parametrize("red", REDS)
@pytest.mark.parametrize("dt", [np.float32, np.float64])
def test_losses(red, dt):
    y = sign(6, dt=dt)
    chk(
        lambda a, b, t: F.margin_ranking_loss(a, b, t, 0.3, reduction=red),
        lambda a, b, t: TF.margin_ranking_loss(a, b, t, 0.3, reduction=red),
        [r(6, dt=dt), r(6, dt=dt)],
        [y],
    )
    chk(
        lambda a, t: F.hinge_embedding_loss(a, t, 0.5, reduction=red),
        lambda a, t: TF.hinge_embedding_loss(a, t, 0.5, reduction=red),
        [r(6, dt=dt)],
        [y],
    )
    chk(
        lambda a, t: F.soft_margin_loss(a, t, reduction=red),
        lambda a, t: TF.soft_margin_loss(a, t, reduction=red),
        [r(6, dt=dt)],
        [y],
    )
    lab = (rng.random((4, 3)) < 0.5).astype(dt)
    w = rng.random(3).astype(dt)
    chk(
        lambda a, t: F.multilabel_soft_margin_loss(a, t, reduction=red),
        lambda a, t: TF.multilabel_soft_margin_loss(a, t, reduction=red),
        [r(4, 3, dt=dt)],
        [lab],
    )
    chk(
        lambda a, t: F.multilabel_soft_margin_loss(a, t, gf.tensor(w), reduction=red),
        lambda a, t: TF.multilabel_soft_margin_loss(a, t, torch.from_numpy(w), reduction=red),
        [r(4, 3, dt=dt)],
        [lab],
    )
    for x1, x2, t in [
        (r(5, 3, dt=dt), r(5, 3, dt=dt), sign(5, dt=dt)),
        (r(3, dt=dt), r(3, dt=dt), sign(dt=dt)),
    ]:
        chk(
            lambda a, b, t: F.cosine_embedding_loss(a, b, t, 0.2, reduction=red),
            lambda a, b, t: TF.cosine_embedding_loss(a, b, t, 0.2, reduction=red),
            [x1, x2],
            [t],
        )
    for swap in (False, True):
        for p in (1.0, 2.0, 3.0):
            check(
                lambda a, b, c: F.triplet_margin_loss(a, b, c, 0.5, p, swap=swap, reduction=red),
                lambda a, b, c: TF.triplet_margin_loss(a, b, c, 0.5, p, swap=swap, reduction=red),
                [r(4, 3, dt=dt), r(4, 3, dt=dt), r(4, 3, dt=dt)],
            )
    counts = rng.poisson(2.0, 6).astype(dt)
    for log_input in (True, False):
        for full in (False, True):
            x = r(6, dt=dt) if log_input else rng.uniform(0.1, 3, 6).astype(dt)
            chk(
                lambda a, t: F.poisson_nll_loss(a, t, log_input, full, reduction=red),
                lambda a, t: TF.poisson_nll_loss(a, t, log_input, full, reduction=red),
                [x],
                [counts],
            )
    for vs in [(4, 3), (4,), (4, 1)]:
        for full in (False, True):
            check(
                lambda a, t, v: F.gaussian_nll_loss(a, t, v, full, reduction=red),
                lambda a, t, v: TF.gaussian_nll_loss(a, t, v, full, reduction=red),
                [r(4, 3, dt=dt), r(4, 3, dt=dt), rng.uniform(0.5, 2, vs).astype(dt)],
            )


def test_gaussian_var_clamp_passes_grad():
    check(
        lambda a, t, v: F.gaussian_nll_loss(a, t, v, eps=0.1),
        lambda a, t, v: TF.gaussian_nll_loss(a, t, v, eps=0.1),
        [r(4), r(4), np.array([0.01, 0.5, 0.05, 1.0])],
    )


def test_empty_batch():
    for red in REDS:
        chk(
            lambda a, b, t: F.margin_ranking_loss(a, b, t, reduction=red),
            lambda a, b, t: TF.margin_ranking_loss(a, b, t, reduction=red),
            [r(0), r(0)],
            [r(0)],
        )
        check(
            lambda a, b, c: F.triplet_margin_loss(a, b, c, reduction=red),
            lambda a, b, c: TF.triplet_margin_loss(a, b, c, reduction=red),
            [r(0, 3), r(0, 3), r(0, 3)],
        )


def test_gradcheck():
    a, b, c = (gf.tensor(r(3, 4), requires_grad=True) for _ in range(3))
    y = gf.tensor(sign(3))
    assert gf.gradcheck(lambda a, b: F.cosine_embedding_loss(a, b, y, 0.1), [a, b])
    assert gf.gradcheck(lambda a, b, c: F.triplet_margin_loss(a, b, c, 2.0, swap=True), [a, b, c])
    lab = gf.tensor((r(3, 4) > 0) * 1.0)
    assert gf.gradcheck(lambda a: F.multilabel_soft_margin_loss(a, lab), [a])
    v = gf.tensor(rng.uniform(0.5, 2, (3, 4)), requires_grad=True)
    assert gf.gradcheck(lambda a, b, v: F.gaussian_nll_loss(a, b, v, full=True), [a, b, v])
    assert gf.gradcheck(
        lambda a: F.poisson_nll_loss(a, gf.tensor(np.full((3, 4), 2.0)), full=True), [a]
    )


MODS = [
    ("MarginRankingLoss", (0.2,), 3),
    ("HingeEmbeddingLoss", (), 2),
    ("SoftMarginLoss", (), 2),
    ("MultiLabelSoftMarginLoss", (), 2),
    ("CosineEmbeddingLoss", (0.1,), 3),
    ("TripletMarginLoss", (), 3),
    ("PoissonNLLLoss", (), 2),
    ("GaussianNLLLoss", (), 3),
]


@pytest.mark.parametrize("name,args,nin", MODS, ids=[m[0] for m in MODS])
def test_modules(name, args, nin):
    g, t = getattr(gf.nn, name)(*args), getattr(torch.nn, name)(*args)
    assert repr(g) == repr(t)
    xs = [np.abs(r(4, 3)) + 0.1 for _ in range(nin)]
    if name in ("MarginRankingLoss", "CosineEmbeddingLoss", "HingeEmbeddingLoss", "SoftMarginLoss"):
        xs[-1] = sign(4) if name == "CosineEmbeddingLoss" else sign(4, 3)
        if name == "MarginRankingLoss":
            xs = [r(4), r(4), sign(4)]
    if name == "MultiLabelSoftMarginLoss":
        xs[-1] = (xs[-1] > 0.8) * 1.0
    gv = g(*[gf.tensor(x) for x in xs])
    tv = t(*[torch.from_numpy(x) for x in xs])
    np.testing.assert_allclose(gv.numpy(), tv.numpy(), rtol=1e-7, atol=1e-9)
    gn = getattr(gf.nn, name)(reduction="none")
    assert gn(*[gf.tensor(x) for x in xs]).shape == tuple(
        getattr(torch.nn, name)(reduction="none")(*[torch.from_numpy(x) for x in xs]).shape
    )


def test_loss_errors():
    with pytest.raises(ValueError):
        gf.nn.MarginRankingLoss(reduction="avg")
    with pytest.raises(ValueError):
        F.gaussian_nll_loss(gf.zeros(4, 3), gf.zeros(4, 3), gf.ones(3, 3))
    with pytest.raises(ValueError):
        TF.gaussian_nll_loss(torch.zeros(4, 3), torch.zeros(4, 3), torch.ones(3, 3))
    with pytest.raises(ValueError):
        F.gaussian_nll_loss(gf.zeros(4), gf.zeros(4), -gf.ones(4))
    with pytest.raises(RuntimeError):
        F.margin_ranking_loss(gf.zeros(4), gf.zeros(4), gf.zeros(1, 4))
    with pytest.raises(TypeError, match="soft_margin_loss"):
        F.soft_margin_loss(np.zeros(3), gf.zeros(3))


# ------------------------------------------------------------------ distances
@pytest.mark.parametrize("dt", [np.float32, np.float64])
def test_distances(dt):
    for p, dim in [(2.0, 1), (1.0, 0), (3.0, -1)]:
        check(lambda x: F.normalize(x, p, dim), lambda x: TF.normalize(x, p, dim), [r(3, 4, dt=dt)])
    for dim in (0, 1, -1):
        check(
            lambda a, b: F.cosine_similarity(a, b, dim),
            lambda a, b: TF.cosine_similarity(a, b, dim),
            [r(3, 4, dt=dt), r(3, 4, dt=dt)],
        )
    check(
        lambda a, b: F.cosine_similarity(a, b),
        lambda a, b: TF.cosine_similarity(a, b),
        [r(3, 4, dt=dt), r(1, 4, dt=dt)],
    )
    check(
        lambda a, b: F.cosine_similarity(a, b, 0),
        lambda a, b: TF.cosine_similarity(a, b, 0),
        [r(4, dt=dt), r(4, dt=dt)],
    )
    for p in (1.0, 2.0, 3.0):
        for keepdim in (False, True):
            check(
                lambda a, b: F.pairwise_distance(a, b, p, keepdim=keepdim),
                lambda a, b: TF.pairwise_distance(a, b, p, keepdim=keepdim),
                [r(3, 4, dt=dt), r(3, 4, dt=dt)],
            )
    check(F.pairwise_distance, TF.pairwise_distance, [r(4, dt=dt), r(4, dt=dt)])
    check(F.pairwise_distance, TF.pairwise_distance, [r(0, 4, dt=dt), r(0, 4, dt=dt)])


def test_distance_modules():
    for gm, tm in [
        (gf.nn.CosineSimilarity(), torch.nn.CosineSimilarity()),
        (gf.nn.CosineSimilarity(dim=0, eps=1e-6), torch.nn.CosineSimilarity(dim=0, eps=1e-6)),
        (gf.nn.PairwiseDistance(), torch.nn.PairwiseDistance()),
        (gf.nn.PairwiseDistance(1.0, 1e-5, True), torch.nn.PairwiseDistance(1.0, 1e-5, True)),
    ]:
        assert repr(gm) == repr(tm)
        a, b = r(3, 4), r(3, 4)
        np.testing.assert_allclose(
            gm(gf.tensor(a), gf.tensor(b)).numpy(),
            tm(torch.from_numpy(a), torch.from_numpy(b)).numpy(),
            rtol=1e-7,
        )


def test_distance_gradcheck_and_errors():
    a, b = gf.tensor(r(3, 4), requires_grad=True), gf.tensor(r(3, 4), requires_grad=True)
    assert gf.gradcheck(lambda a, b: F.cosine_similarity(a, b), [a, b])
    assert gf.gradcheck(lambda a, b: F.pairwise_distance(a, b, 3.0), [a, b])
    assert gf.gradcheck(lambda a: F.normalize(a), [a])
    with pytest.raises(IndexError):
        F.normalize(gf.zeros(2, 3), dim=2)
    with pytest.raises(IndexError):
        TF.normalize(torch.zeros(2, 3), dim=2)
    with pytest.raises(RuntimeError):
        F.cosine_similarity(gf.zeros(2, 3), gf.zeros(4, 3))
    with pytest.raises(RuntimeError):
        TF.cosine_similarity(torch.zeros(2, 3), torch.zeros(4, 3))
