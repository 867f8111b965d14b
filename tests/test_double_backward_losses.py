"""Second derivatives of products (einsum and what is built on it), prod and p-norms, distances
and statistics, and the losses, against torch (``second_order`` from test_double_backward:
a random weighting of the gradient taken with create_graph=True is differentiated again), and
gradgradcheck in float64.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import gradfit as gf
import strategies
from test_double_backward import second_order

R = np.random.default_rng(21)


def rn(*shape, low=-2.0, high=2.0):
    return R.uniform(low, high, shape)


def pos(*shape):
    return rn(*shape, low=0.2, high=2.0)


def prob(*shape):
    return rn(*shape, low=0.1, high=0.9)


# name -> (fn(lib, F, *tensors), float inputs, constant inputs)
PRODUCTS = {
    "einsum_matmul": (lambda m, F, a, b: m.einsum("ij,jk->ik", a, b) ** 2, [rn(2, 3), rn(3, 4)]),
    "einsum_batch_bcast": (
        lambda m, F, a, b: m.einsum("bij,bjk->bik", a, b).sin(),
        [rn(1, 2, 3), rn(2, 3, 2)],
    ),
    "einsum_ellipsis": (
        lambda m, F, a, b: m.einsum("...i,...i->...", a, b) ** 2,
        [rn(2, 3), rn(3)],
    ),
    "einsum_only_one": (lambda m, F, a, b: m.einsum("ij,k->ik", a, b) ** 2, [rn(2, 3), rn(4)]),
    "einsum_three": (
        lambda m, F, a, b, c: m.einsum("ij,jk,k->i", a, b, c) ** 2,
        [rn(2, 3), rn(3, 4), rn(4)],
    ),
    "einsum_self": (lambda m, F, a: m.einsum("ij,ij->", a, a) ** 2, [rn(2, 3)]),
    "einsum_transpose": (lambda m, F, a: m.einsum("ij->ji", a) ** 3, [rn(2, 3)]),
    "einsum_diagonal": (lambda m, F, a: m.einsum("ii->i", a) ** 3, [rn(3, 3)]),
    "einsum_trace_vec": (
        lambda m, F, a, b: m.einsum("ii,i->", a * a, b) * b,
        [rn(3, 3), rn(3)],
    ),
    "einsum_repeated_batch": (
        lambda m, F, a, b: m.einsum("bii,bj->bij", a, b).sin(),
        [rn(2, 3, 3), rn(2, 2)],
    ),
    "tensordot": (lambda m, F, a, b: m.tensordot(a, b, dims=2) ** 2, [rn(2, 3, 4), rn(3, 4, 2)]),
    "kron": (lambda m, F, a, b: m.kron(a, b) ** 2, [rn(2, 2), rn(2, 3)]),
    "outer": (lambda m, F, a, b: m.outer(a, b) ** 2, [rn(3), rn(2)]),
    "dot_mv": (lambda m, F, a, v: m.dot(v, v) * m.mv(a, v), [rn(2, 3), rn(3)]),
    "bmm": (lambda m, F, a, b: m.bmm(a, b).tanh(), [rn(2, 2, 3), rn(2, 3, 2)]),
    "addmm": (
        lambda m, F, c, a, b: m.addmm(c, a, b, beta=0.5, alpha=2.0) ** 2,
        [rn(2), rn(2, 3), rn(3, 2)],
    ),
    "baddbmm": (
        lambda m, F, c, a, b: m.baddbmm(c, a, b, alpha=-1.0) ** 2,
        [rn(2, 2, 2), rn(2, 2, 3), rn(2, 3, 2)],
    ),
    "prod_all": (lambda m, F, x: x.prod() * x, [rn(2, 3)]),
    "prod_dim": (lambda m, F, x: m.prod(x, 1) ** 2, [rn(3, 4)]),
    "prod_keepdim": (lambda m, F, x: x.prod(0, keepdim=True) * x, [rn(3, 2)]),
    "norm_p3": (lambda m, F, x: x.norm(p=3, dim=1) ** 2, [rn(3, 4)]),
    "norm_p1_5": (lambda m, F, x: x.norm(p=1.5) * x, [rn(3, 2)]),
    "norm_p1": (lambda m, F, x: m.norm(x * x, p=1, dim=0, keepdim=True) * x, [rn(3, 2)]),
    "cross": (lambda m, F, a, b: m.cross(a, b, dim=1) ** 2, [rn(2, 3), rn(2, 3)]),
    "cross_bcast": (lambda m, F, a, b: m.cross(a * b, b, dim=-1) * a, [rn(2, 3), rn(1, 3)]),
    "dist": (lambda m, F, a, b: m.dist(a, b) * a, [rn(2, 3), rn(2, 3)]),
    "pairwise_distance": (lambda m, F, a, b: F.pairwise_distance(a, b) ** 3, [rn(3, 4), rn(3, 4)]),
    "cosine_similarity": (lambda m, F, a, b: F.cosine_similarity(a, b) ** 2, [rn(3, 4), rn(1, 4)]),
    "normalize": (lambda m, F, a: F.normalize(a, dim=0) ** 3, [rn(3, 4)]),
    "var_mean": (lambda m, F, a: m.var_mean(a, 1)[0] * m.var_mean(a, 1)[1], [rn(3, 4)]),
    "std_mean": (lambda m, F, a: m.std_mean(a, 0)[0] * m.std_mean(a)[1], [rn(3, 4)]),
    "nansum_nanmean": (lambda m, F, a: m.nansum(a * a, 1) * m.nanmean(a, 1), [rn(3, 4)]),
    "aminmax": (lambda m, F, a: m.aminmax(a, dim=1).min * m.aminmax(a, dim=1).max, [rn(3, 4)]),
}


def _cdist(m, F, a, b):
    """torch has no double backward for cdist: the same distances written out for it."""
    if m is gf:
        return m.cdist(a, b)
    return ((a.unsqueeze(-2) - b.unsqueeze(-3)) ** 2).sum(-1).sqrt()


def _pdist(m, x):
    """torch has no double backward for pdist either."""
    if m is gf:
        return m.pdist(x)
    i, j = torch.triu_indices(x.shape[0], x.shape[0], 1)
    return ((x[i] - x[j]) ** 2).sum(-1).sqrt()


PRODUCTS["pdist"] = (lambda m, F, x: _pdist(m, x) ** 3, [rn(4, 3)])
PRODUCTS["cdist"] = (lambda m, F, a, b: _cdist(m, F, a * a, b) ** 3, [rn(3, 2), rn(4, 2)])
PRODUCTS["cdist_batch"] = (lambda m, F, a, b: _cdist(m, F, a, b).sin(), [rn(2, 3, 2), rn(1, 4, 2)])


@pytest.mark.parametrize("name", sorted(PRODUCTS))
def test_products_and_stats_vs_torch(name):
    fn, arrays = PRODUCTS[name]
    second_order(fn, arrays, rtol=1e-8)


@pytest.mark.parametrize(
    "name",
    [
        "einsum_three",
        "einsum_only_one",
        "einsum_trace_vec",
        "kron",
        "prod_dim",
        "norm_p3",
        "cross",
        "cdist",
    ],
)
def test_products_gradgradcheck(name):
    fn, arrays = PRODUCTS[name]
    xs = [gf.tensor(a, requires_grad=True) for a in arrays]
    assert gf.gradgradcheck(lambda *t: fn(gf, gf.nn.functional, *t), xs)


@settings(max_examples=10, deadline=None)
@given(shapes=strategies.pair_shapes, seed=strategies.seeds)
def test_einsum_broadcast_shapes_hypothesis(shapes, seed):
    sa, sb = shapes.input_shapes
    a = strategies.rand(sa, np.float64, seed)
    b = strategies.rand(sb, np.float64, seed + 1)
    second_order(lambda m, F, a, b: m.einsum("...,...->...", a, b) ** 2, [a, b], seed=seed)


@settings(max_examples=10, deadline=None)
@given(sd=strategies.shape_and_dim(), seed=strategies.seeds)
def test_prod_and_norm_hypothesis_dims(sd, seed):
    shape, dim = sd
    x = strategies.rand(shape, np.float64, seed, 0.3, 1.5) * np.where(
        strategies.rand(shape, np.float64, seed + 1) > 0, 1, -1
    )
    second_order(lambda m, F, x: x.prod(dim) ** 2 + x.norm(p=3, dim=dim) * x.prod(), [x], seed=seed)


ZEROS = np.array([[1.5, 0.0, -2.0, 0.5], [0.0, 0.7, 0.0, 1.2], [0.3, -1.1, 0.9, 2.0]])


@pytest.mark.parametrize(
    "fn",
    [
        lambda m, F, x: x.prod() * x,
        lambda m, F, x: x.prod(1) ** 2,
        lambda m, F, x: x.prod(0, keepdim=True) * x,
        lambda m, F, x: m.cumprod(x, 1) * x,
        lambda m, F, x: m.cumprod(x, 0) ** 2,
    ],
)
def test_prod_and_cumprod_with_zeros_vs_torch(fn):
    second_order(fn, [ZEROS])
    x = gf.tensor(ZEROS[:2, :3], requires_grad=True)
    assert gf.gradgradcheck(lambda t: fn(gf, gf.nn.functional, t), [x])


def test_prod_and_cumprod_with_zeros_third_order():
    res = {}
    for lib in (gf, torch):
        x = lib.tensor(ZEROS, requires_grad=True)
        y = (x.prod(1) * x.cumprod(1)[:, -2]).sum()
        (g,) = lib.autograd.grad(y, x, create_graph=True)
        (h,) = lib.autograd.grad((g * g).sum(), x, create_graph=True)
        res[lib] = lib.autograd.grad(h.sum(), x)[0]
    np.testing.assert_allclose(res[gf].numpy(), res[torch].numpy(), rtol=1e-9, atol=1e-12)


Y3 = np.array([0, 2, 1])
T34 = (R.random((3, 4)) > 0.5).astype(np.float64)

LOSSES = {
    "bce": (lambda m, F, p, y: F.binary_cross_entropy(p, y), [prob(3, 4), prob(3, 4)], []),
    "bce_weight_sum": (
        lambda m, F, p, w: F.binary_cross_entropy(p * p, m.tensor(T34), weight=w, reduction="sum"),
        [prob(3, 4)],
        [pos(4)],
    ),
    "bce_none": (
        lambda m, F, p, y: F.binary_cross_entropy(p, y, reduction="none") * p,
        [prob(2, 3), prob(2, 3)],
        [],
    ),
    "bce_logits_weight": (
        lambda m, F, x, t, w: F.binary_cross_entropy_with_logits(x, t, weight=w) * x.sum(),
        [rn(3, 4)],
        [T34, pos(3, 1)],
    ),
    "bce_logits_target": (
        lambda m, F, x, t: F.binary_cross_entropy_with_logits(x * x, t) * t.sum(),
        [rn(3, 4), prob(3, 4)],
        [],
    ),
    "bce_logits_target_pos_weight": (
        lambda m, F, x, t, pw: (
            F.binary_cross_entropy_with_logits(x, t * t, pos_weight=pw, reduction="none") ** 2
        ),
        [rn(3, 4), prob(3, 4)],
        [pos(4)],
    ),
    "kl_div": (
        lambda m, F, x, y: F.kl_div(x, y, reduction="batchmean"),
        [rn(3, 4), prob(3, 4)],
        [],
    ),
    "kl_div_zero_target": (  # a constant target: torch's target gradient is NaN at 0
        lambda m, F, x, y: F.kl_div(x.log_softmax(1), y, reduction="sum"),
        [rn(3, 4)],
        [np.array([[0.5, 0.0, 0.3, 0.2]] * 3)],
    ),
    "kl_div_log_target": (
        lambda m, F, x, y: F.kl_div(x, y, reduction="none", log_target=True) ** 2,
        [rn(3, 4), rn(3, 4)],
        [],
    ),
    "huber": (lambda m, F, x, y: F.huber_loss(x * x, y, delta=0.8), [rn(3, 4), rn(3, 4)], []),
    "huber_none": (
        lambda m, F, x, y: F.huber_loss(x, y, reduction="none", delta=1.5) * x,
        [rn(3, 4), rn(3, 4)],
        [],
    ),
    "smooth_l1": (
        lambda m, F, x, y: F.smooth_l1_loss(x.sin(), y, beta=0.5, reduction="sum"),
        [rn(3, 4), rn(3, 4)],
        [],
    ),
    "smooth_l1_beta0": (
        lambda m, F, x, y: F.smooth_l1_loss(x * x, y, beta=0.0) * x.sum(),
        [rn(3, 4), rn(3, 4)],
        [],
    ),
    "l1": (lambda m, F, x, y: F.l1_loss(x, y) * (x * y).sum(), [rn(3, 4), rn(3, 4)], []),
    "mse": (lambda m, F, x, y: F.mse_loss(x, y) ** 2, [rn(3, 4), rn(3, 4)], []),
    "nll": (lambda m, F, x, y: F.nll_loss(x * x, y), [rn(3, 4)], [Y3]),
    "cross_entropy_smoothing": (
        lambda m, F, x, y: F.cross_entropy(x * x, y, label_smoothing=0.1),
        [rn(3, 4)],
        [Y3],
    ),
    "cross_entropy_weight": (
        lambda m, F, x, y, w: F.cross_entropy(x.sin(), y, weight=w, ignore_index=1),
        [rn(3, 4)],
        [Y3, pos(4)],
    ),
    "cross_entropy_soft_target": (
        lambda m, F, x, q: F.cross_entropy(x * x, q.softmax(1)),
        [rn(3, 4), rn(3, 4)],
        [],
    ),
    "cross_entropy_soft_target_smoothing_weight": (
        lambda m, F, x, q, w: (
            F.cross_entropy(x, q * q, weight=w, label_smoothing=0.2, reduction="none") ** 2
        ),
        [rn(3, 4, 2), prob(3, 4, 2)],
        [pos(4)],
    ),
    "cross_entropy_soft_target_sum": (
        lambda m, F, x, q: F.cross_entropy(x.sin(), q, reduction="sum") * q.sum(),
        [rn(2, 3), prob(2, 3)],
        [],
    ),
    "poisson_nll": (
        lambda m, F, x, y: F.poisson_nll_loss(x, y, full=True),
        [rn(3, 4), pos(3, 4)],
        [],
    ),
    "poisson_nll_not_log": (
        lambda m, F, x, y: F.poisson_nll_loss(x, y, log_input=False),
        [pos(3, 4), pos(3, 4)],
        [],
    ),
    "gaussian_nll": (
        lambda m, F, x, y, v: F.gaussian_nll_loss(x, y, v, full=True),
        [rn(3, 4), rn(3, 4), pos(3, 4)],
        [],
    ),
    "margin_ranking": (
        lambda m, F, a, b, y: F.margin_ranking_loss(a * a, b, y, margin=0.1),
        [rn(5), rn(5)],
        [np.array([1.0, -1.0, 1.0, -1.0, 1.0])],
    ),
    "hinge_embedding": (
        lambda m, F, x, y: F.hinge_embedding_loss(x * x, y, margin=1.5),
        [rn(2, 3)],
        [np.array([[1.0, -1.0, -1.0], [-1.0, 1.0, -1.0]])],
    ),
    "soft_margin": (lambda m, F, x, y: F.soft_margin_loss(x, y), [rn(2, 3)], [np.sign(rn(2, 3))]),
    "multilabel_soft_margin": (
        lambda m, F, x, y: F.multilabel_soft_margin_loss(x, y),
        [rn(2, 3)],
        [(rn(2, 3) > 0).astype(np.float64)],
    ),
    "cosine_embedding": (
        lambda m, F, a, b, y: F.cosine_embedding_loss(a, b, y, margin=-0.5),
        [rn(3, 4), rn(3, 4)],
        [np.array([1.0, -1.0, 1.0])],
    ),
    "triplet_margin": (
        lambda m, F, a, p, n: F.triplet_margin_loss(a, p, n, margin=3.0),
        [rn(3, 4), rn(3, 4), rn(3, 4)],
        [],
    ),
}


@pytest.mark.parametrize("name", sorted(LOSSES))
def test_losses_vs_torch(name):
    fn, arrays, consts = LOSSES[name]
    second_order(fn, arrays, ints=consts, rtol=1e-7, atol=1e-9)


@pytest.mark.parametrize(
    "name",
    [
        "bce",
        "bce_logits_target_pos_weight",
        "cross_entropy_soft_target_smoothing_weight",
        "kl_div_zero_target",
        "kl_div_log_target",
        "huber_none",
        "smooth_l1",
        "poisson_nll",
    ],
)
def test_losses_gradgradcheck(name):
    fn, arrays, consts = LOSSES[name]
    xs = [gf.tensor(a, requires_grad=True) for a in arrays]
    cs = [gf.tensor(c) for c in consts]
    assert gf.gradgradcheck(lambda *t: fn(gf, gf.nn.functional, *t, *cs), xs)


@pytest.mark.filterwarnings("ignore:Using a target size")
@pytest.mark.parametrize("kind", ["mse", "huber", "smooth_l1"])
@pytest.mark.parametrize("shapes", [((3, 1), (3,)), ((3, 4), (4,)), ((4,), (3, 4))])
def test_broadcast_pointwise_losses_vs_torch(kind, shapes):
    fns = {
        "mse": lambda m, F, x, y: F.mse_loss(x, y) * x.sum(),
        "huber": lambda m, F, x, y: F.huber_loss(x * x, y, delta=0.5, reduction="sum"),
        "smooth_l1": lambda m, F, x, y: F.smooth_l1_loss(x, y * y, beta=0.7) ** 2,
    }
    second_order(fns[kind], [rn(*shapes[0]), rn(*shapes[1])])


@settings(max_examples=8, deadline=None)
@given(
    shape=strategies.shapes,
    name=st.sampled_from(["bce", "kl", "huber", "smooth_l1"]),
    red=st.sampled_from(["mean", "sum", "none"]),
    seed=strategies.seeds,
)
def test_losses_hypothesis_shapes(shape, name, red, seed):
    x = strategies.rand(shape, np.float64, seed, 0.1, 0.9)
    y = strategies.rand(shape, np.float64, seed + 1, 0.1, 0.9)
    fns = {
        "bce": lambda m, F, x, y: F.binary_cross_entropy(x, y, reduction=red),
        "kl": lambda m, F, x, y: F.kl_div(x, y, reduction=red),
        "huber": lambda m, F, x, y: F.huber_loss(x * 3, y, reduction=red, delta=0.5),
        "smooth_l1": lambda m, F, x, y: F.smooth_l1_loss(x * 3, y, reduction=red, beta=0.7),
    }
    second_order(fns[name], [x, y], rtol=1e-7, atol=1e-9, seed=seed)


@pytest.mark.parametrize(
    "name",
    [
        "einsum_three",
        "einsum_diagonal",
        "prod_dim",
        "norm_p3",
        "cross",
        "cdist",
        "bce",
        "bce_logits_target_pos_weight",
        "kl_div_log_target",
        "huber",
        "cross_entropy_soft_target_smoothing_weight",
    ],
)
def test_float32_second_order_stays_float32(name):
    table = {**PRODUCTS, **LOSSES}
    fn, arrays, *consts = table[name]
    consts = consts[0] if consts else []
    out = {}
    for dt, lib in ((np.float32, gf), (np.float64, torch)):
        xs = [lib.tensor(a.astype(dt), requires_grad=True) for a in arrays]
        cs = [lib.tensor(c.astype(dt)) for c in consts]
        y = fn(lib, gf.nn.functional if lib is gf else torch.nn.functional, *xs, *cs)
        gs = lib.autograd.grad(y.sum(), xs, create_graph=True)
        hs = lib.autograd.grad(sum((g * g).sum() for g in gs), xs)
        out[lib] = (gs, hs)
    for a, e in zip(out[gf][0] + out[gf][1], out[torch][0] + out[torch][1]):
        assert a.dtype == gf.float32
        np.testing.assert_allclose(a.detach().numpy(), e.detach().numpy(), rtol=2e-4, atol=2e-5)
