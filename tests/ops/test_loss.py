"""Fused losses against PyTorch: values, input and target gradients, options, stability, errors."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import gradfit as gf
import gradfit.nn.functional as F
from oracle import assert_close, check

RNG = np.random.default_rng(0)


def _logits(*shape, dtype=np.float32, scale=2.0):
    return (RNG.standard_normal(shape) * scale).astype(dtype)


def _targets(shape, C, ignore=None):
    y = RNG.integers(0, C, size=shape)
    if ignore is not None and y.size:
        y.flat[0] = ignore
    return y.astype(np.int64)


SHAPES = [
    ((1, 3), (1,)),
    ((5, 4), (5,)),
    ((2, 3, 4), (2, 4)),
    ((2, 3, 2, 3), (2, 2, 3)),
    ((4,), ()),
]


@pytest.mark.parametrize("xs,ys", SHAPES)
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("smoothing", [0.0, 0.2])
@pytest.mark.parametrize("weighted", [False, True])
def test_cross_entropy_index_targets(xs, ys, reduction, smoothing, weighted):
    C = xs[0] if len(xs) == 1 else xs[1]
    x = _logits(*xs)
    y = _targets(ys, C, ignore=-100 if len(ys) else None)
    w = RNG.uniform(0.5, 2.0, C).astype(np.float32) if weighted else None
    kw = dict(reduction=reduction, label_smoothing=smoothing)
    check(
        lambda a, t: F.cross_entropy(a, t, weight=None if w is None else gf.tensor(w), **kw),
        lambda a, t: TF.cross_entropy(a, t, weight=None if w is None else torch.tensor(w), **kw),
        [x, y],
    )


@pytest.mark.parametrize("xs", [(1, 3), (6, 5), (2, 4, 3)])
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("smoothing", [0.0, 0.3])
def test_cross_entropy_probability_targets_with_target_grad(xs, reduction, smoothing):
    x = _logits(*xs)
    q = RNG.uniform(size=xs).astype(np.float32)
    q /= q.sum(axis=1, keepdims=True)
    w = RNG.uniform(0.5, 2.0, xs[1]).astype(np.float32)
    kw = dict(reduction=reduction, label_smoothing=smoothing)
    check(
        lambda a, t: F.cross_entropy(a, t, weight=gf.tensor(w), **kw),
        lambda a, t: TF.cross_entropy(a, t, weight=torch.tensor(w), **kw),
        [x, q],
    )


def test_cross_entropy_ignore_index_custom_and_no_grad_for_ignored():
    x = _logits(4, 3)
    y = np.array([0, 7, 2, 7])
    check(
        lambda a, t: F.cross_entropy(a, t, ignore_index=7),
        lambda a, t: TF.cross_entropy(a, t, ignore_index=7),
        [x, y],
    )
    xt = gf.tensor(x, requires_grad=True)
    F.cross_entropy(xt, gf.tensor(y), ignore_index=7).backward()
    assert np.all(xt.grad.numpy()[[1, 3]] == 0)


def test_cross_entropy_stable_at_1e4():
    for s in (1e4, -1e4):
        x = np.array([[s, 0.0, -s], [0.0, s, s]], np.float32)
        y = np.array([2, 0])
        out = check(F.cross_entropy, TF.cross_entropy, [x, y])
        assert np.isfinite(out.item())
    xt = gf.tensor([[1e4, -1e4]], requires_grad=True)
    loss = F.cross_entropy(xt, gf.tensor([1]))
    loss.backward()
    assert np.isfinite(loss.item()) and np.isfinite(xt.grad.numpy()).all()


def test_cross_entropy_float64_gradcheck():
    x = gf.tensor(_logits(3, 4, 2, dtype=np.float64), requires_grad=True)
    y = gf.tensor(_targets((3, 2), 4, ignore=-100))
    w = gf.tensor(RNG.uniform(0.5, 2, 4))
    assert gf.gradcheck(lambda a: F.cross_entropy(a, y, weight=w, label_smoothing=0.1), [x])
    q = gf.tensor(RNG.dirichlet(np.ones(4), size=3), requires_grad=True)
    x2 = gf.tensor(_logits(3, 4, dtype=np.float64), requires_grad=True)
    assert gf.gradcheck(lambda a, t: F.cross_entropy(a, t, label_smoothing=0.2), [x2, q])


def test_cross_entropy_float32_stays_float32():
    x = gf.tensor(_logits(3, 4), requires_grad=True)
    loss = F.cross_entropy(x, gf.tensor([0, 1, 2]), weight=gf.tensor(np.ones(4)))
    loss.backward()
    assert loss.dtype == np.float32 and x.grad.dtype == np.float32


def test_cross_entropy_bad_class_index_names_value_and_classes():
    with pytest.raises(IndexError, match=r"class index 12.*10 classes"):
        F.cross_entropy(gf.zeros(2, 10), gf.tensor([1, 12]))
    with pytest.raises(ValueError, match=r"class index -3.*10 classes"):
        F.cross_entropy(gf.zeros(2, 10), gf.tensor([-3, 1]))


def test_cross_entropy_other_errors():
    with pytest.raises(ValueError, match="target must have shape"):
        F.cross_entropy(gf.zeros(2, 10), gf.tensor([1, 2, 3]))
    with pytest.raises(ValueError, match="reduction"):
        F.cross_entropy(gf.zeros(2, 3), gf.tensor([1, 2]), reduction="avg")
    with pytest.raises(ValueError, match="label_smoothing"):
        F.cross_entropy(gf.zeros(2, 3), gf.tensor([1, 2]), label_smoothing=1.5)
    with pytest.raises(ValueError, match=r"weight must have shape \(3,\)"):
        F.cross_entropy(gf.zeros(2, 3), gf.tensor([1, 2]), weight=gf.ones(4))
    with pytest.raises(ValueError, match="probabilities"):
        F.cross_entropy(gf.zeros(2, 3), gf.tensor([1.0, 2.0]))


@pytest.mark.parametrize("xs,ys", SHAPES)
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_nll_loss(xs, ys, reduction):
    C = xs[0] if len(xs) == 1 else xs[1]
    x = _logits(*xs)
    y = _targets(ys, C, ignore=-100 if len(ys) else None)
    w = RNG.uniform(0.5, 2.0, C).astype(np.float32)
    check(
        lambda a, t: F.nll_loss(a, t, weight=gf.tensor(w), reduction=reduction),
        lambda a, t: TF.nll_loss(a, t, weight=torch.tensor(w), reduction=reduction),
        [x, y],
    )


def test_nll_after_log_softmax_equals_cross_entropy():
    x = gf.tensor(_logits(5, 4))
    y = gf.tensor(_targets((5,), 4))
    a = F.nll_loss(F.log_softmax(x, dim=1), y)
    assert_close(a, F.cross_entropy(x, y), rtol=1e-6)


@pytest.mark.parametrize("shape", [(1,), (7,), (3, 4), (2, 3, 2)])
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize(
    "name", ["mse_loss", "l1_loss", "huber_loss", "smooth_l1_loss", "huber_d", "smooth_b"]
)
def test_regression_losses(shape, reduction, name):
    x = _logits(*shape)
    y = _logits(*shape)
    extra = {
        "huber_d": ("huber_loss", {"delta": 0.7}),
        "smooth_b": ("smooth_l1_loss", {"beta": 0.4}),
    }
    fname, kw = extra.get(name, (name, {}))
    check(
        lambda a, b: getattr(F, fname)(a, b, reduction=reduction, **kw),
        lambda a, b: getattr(TF, fname)(a, b, reduction=reduction, **kw),
        [x, y],
    )


def test_regression_losses_gradcheck():
    x = gf.tensor(_logits(3, 4, dtype=np.float64), requires_grad=True)
    y = gf.tensor(_logits(3, 4, dtype=np.float64), requires_grad=True)
    for fn in (F.mse_loss, F.l1_loss, F.huber_loss, F.smooth_l1_loss):
        assert gf.gradcheck(fn, [x, y])


def test_smooth_l1_beta_zero_is_l1():
    x, y = _logits(5), _logits(5)
    check(
        lambda a, b: F.smooth_l1_loss(a, b, beta=0.0),
        lambda a, b: TF.smooth_l1_loss(a, b, beta=0.0),
        [x, y],
    )


@pytest.mark.parametrize("shape", [(1,), (6,), (4, 3)])
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_bce_with_logits(shape, reduction):
    x = _logits(*shape, scale=3)
    y = RNG.uniform(size=shape).astype(np.float32)
    w = RNG.uniform(0.5, 2, shape[-1:]).astype(np.float32)
    pw = RNG.uniform(0.5, 3, shape[-1:]).astype(np.float32)
    for kw_gf, kw_t in [
        ({}, {}),
        ({"weight": gf.tensor(w)}, {"weight": torch.tensor(w)}),
        ({"pos_weight": gf.tensor(pw)}, {"pos_weight": torch.tensor(pw)}),
    ]:
        check(
            lambda a, t, kw=kw_gf: F.binary_cross_entropy_with_logits(
                a, t, reduction=reduction, **kw
            ),
            lambda a, t, kw=kw_t: TF.binary_cross_entropy_with_logits(
                a, t, reduction=reduction, **kw
            ),
            [x, y],
        )


def test_bce_with_logits_stable_at_1e4():
    x = np.array([1e4, -1e4, 1e4, -1e4], np.float32)
    y = np.array([1.0, 0.0, 0.0, 1.0], np.float32)
    pw = np.array([2.0], np.float32)
    out = check(
        lambda a, t: F.binary_cross_entropy_with_logits(
            a, t, reduction="none", pos_weight=gf.tensor(pw)
        ),
        lambda a, t: TF.binary_cross_entropy_with_logits(
            a, t, reduction="none", pos_weight=torch.tensor(pw)
        ),
        [x, y],
    )
    assert np.isfinite(out.numpy()).all()
    assert out.numpy()[2] == pytest.approx(1e4) and out.numpy()[3] == pytest.approx(2e4)


def test_bce_with_logits_gradcheck():
    x = gf.tensor(_logits(3, 2, dtype=np.float64), requires_grad=True)
    y = gf.tensor(RNG.uniform(size=(3, 2)), requires_grad=True)
    pw = gf.tensor([1.5, 0.5], dtype="float64")
    assert gf.gradcheck(
        lambda a, t: F.binary_cross_entropy_with_logits(a, t, pos_weight=pw), [x, y]
    )


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_bce(reduction):
    p = RNG.uniform(0.05, 0.95, (4, 3)).astype(np.float32)
    y = RNG.uniform(size=(4, 3)).astype(np.float32)
    w = RNG.uniform(0.5, 2, (3,)).astype(np.float32)
    check(
        lambda a, t: F.binary_cross_entropy(a, t, weight=gf.tensor(w), reduction=reduction),
        lambda a, t: TF.binary_cross_entropy(a, t, weight=torch.tensor(w), reduction=reduction),
        [p, y],
    )


def test_bce_clamps_log_at_saturation_and_rejects_non_probabilities():
    out = F.binary_cross_entropy(gf.tensor([0.0, 1.0]), gf.tensor([1.0, 0.0]), reduction="none")
    ref = TF.binary_cross_entropy(
        torch.tensor([0.0, 1.0]), torch.tensor([1.0, 0.0]), reduction="none"
    )
    assert_close(out, ref)
    with pytest.raises(ValueError, match=r"\[0, 1\].*with_logits"):
        F.binary_cross_entropy(gf.tensor([1.5]), gf.tensor([1.0]))
    p = gf.tensor(RNG.uniform(0.1, 0.9, 5), dtype="float64", requires_grad=True)
    y = gf.tensor(RNG.uniform(size=5), dtype="float64")
    assert gf.gradcheck(lambda a: F.binary_cross_entropy(a, y), [p])


@pytest.mark.filterwarnings("ignore:reduction:UserWarning")
@pytest.mark.parametrize("reduction", ["mean", "sum", "none", "batchmean"])
@pytest.mark.parametrize("log_target", [False, True])
def test_kl_div(reduction, log_target):
    x = np.log(RNG.dirichlet(np.ones(4), size=3)).astype(np.float32)
    q = RNG.dirichlet(np.ones(4), size=3).astype(np.float32)
    q[0, 1] = 0.0  # a zero target contributes 0, not NaN
    if log_target:
        q = np.log(q + 1e-3).astype(np.float32)
    kw = dict(reduction=reduction, log_target=log_target)
    # input gradient with a zero target present (its target gradient is -inf in the limit)
    check(
        lambda a: F.kl_div(a, gf.tensor(q), **kw),
        lambda a: TF.kl_div(a, torch.tensor(q), **kw),
        [x],
    )
    q2 = np.abs(q) + 0.1 if not log_target else q
    check(lambda a, t: F.kl_div(a, t, **kw), lambda a, t: TF.kl_div(a, t, **kw), [x, q2])


def test_kl_div_gradcheck():
    x = gf.tensor(np.log(RNG.dirichlet(np.ones(3), size=2)), requires_grad=True)
    t = gf.tensor(RNG.dirichlet(np.ones(3), size=2), requires_grad=True)
    assert gf.gradcheck(lambda a, b: F.kl_div(a, b, reduction="batchmean"), [x, t])
    assert gf.gradcheck(lambda a, b: F.kl_div(a, b.log(), log_target=True), [x, t])


def test_pointwise_loss_shape_errors():
    with pytest.raises(ValueError, match=r"mse_loss: input shape \(3,\) and target shape \(4,\)"):
        F.mse_loss(gf.zeros(3), gf.zeros(4))
    with pytest.raises(ValueError, match="binary_cross_entropy_with_logits: target size"):
        F.binary_cross_entropy_with_logits(gf.zeros(3), gf.zeros(3, 1))
