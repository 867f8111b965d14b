"""Margin, embedding and likelihood losses (PyTorch's names and formulas): margin_ranking_loss,
hinge_embedding_loss, soft_margin_loss, multilabel_soft_margin_loss, cosine_embedding_loss,
triplet_margin_loss, poisson_nll_loss, gaussian_nll_loss.

They are composed from differentiable ops, so their gradients are those of the formulas.
Every one takes ``reduction`` in {'mean', 'sum', 'none'}.

Example:
    >>> import gradfit as gf
    >>> import gradfit.nn.functional as F
    >>> F.margin_ranking_loss(gf.tensor([1.0, 2.0]), gf.tensor([2.0, 1.0]), gf.tensor([1.0, 1.0]))
    tensor(0.5)
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from gradfit.ops.activation import logsigmoid
from gradfit.ops.arithmetic import clamp, where
from gradfit.ops.distance import pairwise_distance
from gradfit.ops.loss import _check_reduction
from gradfit.ops.unary import softplus
from gradfit.tensor import Tensor


def _f(x: Any, op: str, name: str) -> Tensor:
    if not isinstance(x, Tensor):
        raise TypeError(f"{op}: {name} must be a gf.Tensor, got {type(x).__name__}")
    if x._data.dtype.kind != "f":
        raise TypeError(f"{op}: {name} must be a floating-point tensor, got {x.dtype}")
    return x


def _legacy(size_average: Any, reduce: Any, reduction: str) -> str:
    """PyTorch's deprecated ``size_average``/``reduce`` pair, turned into ``reduction``."""
    if size_average is None and reduce is None:
        return reduction
    size_average = True if size_average is None else size_average
    reduce = True if reduce is None else reduce
    if not reduce:
        return "none"
    return "mean" if size_average else "sum"


def _reduce(loss: Tensor, reduction: str) -> Tensor:
    if reduction == "none":
        return loss
    if reduction == "sum":
        return loss.sum()
    return loss.mean()


def _target(y: Any, op: str, like: Tensor) -> Tensor:
    if not isinstance(y, Tensor):
        raise TypeError(f"{op}: target must be a gf.Tensor, got {type(y).__name__}")
    return y if y.dtype == like.dtype else y.to(like.dtype)


def margin_ranking_loss(
    input1: Tensor,
    input2: Tensor,
    target: Tensor,
    margin: float = 0.0,
    size_average: Any = None,
    reduce: Any = None,
    reduction: str = "mean",
) -> Tensor:
    """``max(0, -target * (input1 - input2) + margin)``.

    Example:
        >>> import gradfit as gf
        >>> gf.nn.functional.margin_ranking_loss(
        ...     gf.tensor([3.0]), gf.tensor([1.0]), gf.tensor([-1.0]), reduction="sum")
        tensor(2.)
    """
    op = "margin_ranking_loss"
    reduction = _legacy(size_average, reduce, reduction)
    _check_reduction(reduction, op)
    a, b = _f(input1, op, "input1"), _f(input2, op, "input2")
    y = _target(target, op, a)
    if not (a.ndim == b.ndim == y.ndim):
        raise RuntimeError(
            f"{op}: all input tensors should have the same number of dimensions, got "
            f"input1 {a.ndim}, input2 {b.ndim}, target {y.ndim}"
        )
    return _reduce(clamp(-y * (a - b) + margin, min=0), reduction)


def hinge_embedding_loss(
    input: Tensor,  # noqa: A002
    target: Tensor,
    margin: float = 1.0,
    size_average: Any = None,
    reduce: Any = None,
    reduction: str = "mean",
) -> Tensor:
    """``x`` where target is 1, ``max(0, margin - x)`` where target is -1.

    Example:
        >>> import gradfit as gf
        >>> gf.nn.functional.hinge_embedding_loss(gf.tensor([0.3, 2.0]), gf.tensor([-1.0, 1.0]))
        tensor(1.35)
    """
    op = "hinge_embedding_loss"
    reduction = _legacy(size_average, reduce, reduction)
    _check_reduction(reduction, op)
    x = _f(input, op, "input")
    y = _target(target, op, x)
    zero = Tensor._wrap(np.zeros((), x._data.dtype))
    lm = where(y != 1, clamp(margin - x, min=0), zero)
    ls = where(y != -1, x, zero)
    return _reduce(lm + ls, reduction)


def soft_margin_loss(
    input: Tensor,  # noqa: A002
    target: Tensor,
    size_average: Any = None,
    reduce: Any = None,
    reduction: str = "mean",
) -> Tensor:
    """``log(1 + exp(-target * input))``.

    Example:
        >>> import gradfit as gf
        >>> round(gf.nn.functional.soft_margin_loss(gf.tensor([0.0]), gf.tensor([1.0])).item(), 4)
        0.6931
    """
    op = "soft_margin_loss"
    reduction = _legacy(size_average, reduce, reduction)
    _check_reduction(reduction, op)
    x = _f(input, op, "input")
    y = _target(target, op, x)
    return _reduce(softplus(-y * x), reduction)


def multilabel_soft_margin_loss(
    input: Tensor,  # noqa: A002
    target: Tensor,
    weight: Tensor | None = None,
    size_average: Any = None,
    reduce: Any = None,
    reduction: str = "mean",
) -> Tensor:
    """Per-class binary cross-entropy with logits, averaged over the classes (last dim).

    Example:
        >>> import gradfit as gf
        >>> round(gf.nn.functional.multilabel_soft_margin_loss(
        ...     gf.zeros(2, 3), gf.tensor([[1.0, 0.0, 1.0], [0.0, 0.0, 1.0]])).item(), 4)
        0.6931
    """
    op = "multilabel_soft_margin_loss"
    reduction = _legacy(size_average, reduce, reduction)
    _check_reduction(reduction, op)
    x = _f(input, op, "input")
    y = _target(target, op, x)
    if x.ndim == 0:
        raise ValueError(f"{op}: expected input of shape (C) or (N, C), got a 0-d tensor")
    loss = -(y * logsigmoid(x) + (1 - y) * logsigmoid(-x))
    if weight is not None:
        loss = loss * weight
    loss = loss.sum(-1) / x.shape[-1]
    return _reduce(loss, reduction)


def cosine_embedding_loss(
    input1: Tensor,
    input2: Tensor,
    target: Tensor,
    margin: float = 0.0,
    size_average: Any = None,
    reduce: Any = None,
    reduction: str = "mean",
) -> Tensor:
    """``1 - cos(x1, x2)`` where target is 1, ``max(0, cos(x1, x2) - margin)`` where it is -1.

    Example:
        >>> import gradfit as gf
        >>> x = gf.tensor([[1.0, 0.0]])
        >>> gf.nn.functional.cosine_embedding_loss(x, x, gf.tensor([1.0]))
        tensor(0.)
    """
    op = "cosine_embedding_loss"
    reduction = _legacy(size_average, reduce, reduction)
    _check_reduction(reduction, op)
    a, b = _f(input1, op, "input1"), _f(input2, op, "input2")
    y = _target(target, op, a)
    if a.ndim not in (1, 2) or a.shape != b.shape or y.ndim != a.ndim - 1:
        raise RuntimeError(
            f"{op}: expected input1 and input2 of one shape (N, D) or (D) and target (N) or (), "
            f"got {a.shape}, {b.shape} and {y.shape}"
        )
    eps = 1e-12
    d = y.ndim
    prod = (a * b).sum(d)
    m1 = (a * a).sum(d) + eps
    m2 = (b * b).sum(d) + eps
    cos = prod / (m1 * m2).sqrt()
    zero = Tensor._wrap(np.zeros((), a._data.dtype))
    pos = where(y == 1, 1 - cos, zero)
    neg = where(y == -1, clamp(cos - margin, min=0), zero)
    return _reduce(pos + neg, reduction)


def triplet_margin_loss(
    anchor: Tensor,
    positive: Tensor,
    negative: Tensor,
    margin: float = 1.0,
    p: float = 2,
    eps: float = 1e-6,
    swap: bool = False,
    size_average: Any = None,
    reduce: Any = None,
    reduction: str = "mean",
) -> Tensor:
    """``max(d(a, p) - d(a, n) + margin, 0)`` with ``d`` the pairwise p-distance.

    Example:
        >>> import gradfit as gf
        >>> a = gf.zeros(1, 2)
        >>> round(gf.nn.functional.triplet_margin_loss(a, a, a + 3.0).item(), 4)
        0.0
    """
    op = "triplet_margin_loss"
    reduction = _legacy(size_average, reduce, reduction)
    _check_reduction(reduction, op)
    a, pp, n = (
        _f(t, op, nm)
        for t, nm in ((anchor, "anchor"), (positive, "positive"), (negative, "negative"))
    )
    if not (a.ndim == pp.ndim == n.ndim) or a.ndim not in (1, 2):
        raise RuntimeError(
            f"{op}: expected anchor, positive and negative of one number of dimensions (1 or 2), "
            f"got {a.ndim}, {pp.ndim} and {n.ndim}"
        )
    if margin <= 0:
        raise ValueError(f"{op}: margin must be greater than 0, got {margin}")
    d_pos = pairwise_distance(a, pp, p, eps)
    d_neg = pairwise_distance(a, n, p, eps)
    if swap:
        d_s = pairwise_distance(pp, n, p, eps)
        d_neg = where(d_s < d_neg, d_s, d_neg)
    return _reduce(clamp(margin + d_pos - d_neg, min=0), reduction)


def poisson_nll_loss(
    input: Tensor,  # noqa: A002
    target: Tensor,
    log_input: bool = True,
    full: bool = False,
    size_average: Any = None,
    eps: float = 1e-8,
    reduce: Any = None,
    reduction: str = "mean",
) -> Tensor:
    """Poisson negative log-likelihood: ``exp(x) - t * x`` (``log_input``) or ``x - t * log(x + eps)``.

    ``full`` adds Stirling's term ``t log t - t + 0.5 log(2 pi t)`` where ``t > 1``.

    Example:
        >>> import gradfit as gf
        >>> gf.nn.functional.poisson_nll_loss(gf.tensor([0.0]), gf.tensor([1.0]))
        tensor(1.)
    """
    op = "poisson_nll_loss"
    reduction = _legacy(size_average, reduce, reduction)
    _check_reduction(reduction, op)
    x = _f(input, op, "input")
    t = _target(target, op, x)
    loss = x.exp() - t * x if log_input else x - t * (x + eps).log()
    if full:  # on Tensors, as torch: the target gets this term's gradient too
        big = t._data > 1
        tb = where(big, t, 1.0)  # 1 where t <= 1: a finite log there, masked below
        stirling = tb * tb.log() - tb + 0.5 * (tb * (2 * math.pi)).log()
        loss = loss + where(big, stirling, 0.0)
    return _reduce(loss, reduction)


def gaussian_nll_loss(
    input: Tensor,  # noqa: A002
    target: Tensor,
    var: Tensor | float,
    full: bool = False,
    eps: float = 1e-6,
    reduction: str = "mean",
) -> Tensor:
    """Gaussian negative log-likelihood ``0.5 * (log(var) + (input - target)^2 / var)``.

    ``var`` is clamped to ``eps`` without stopping its gradient (as PyTorch); it may have
    the input's shape, the input's shape without the last dim, or that with a last dim of 1.

    Example:
        >>> import gradfit as gf
        >>> gf.nn.functional.gaussian_nll_loss(gf.zeros(2), gf.zeros(2), gf.ones(2))
        tensor(0.)
    """
    op = "gaussian_nll_loss"
    _check_reduction(reduction, op)
    x = _f(input, op, "input")
    t = _target(target, op, x)
    if not isinstance(var, Tensor):
        var = Tensor._wrap(np.full(x.shape, var, dtype=x._data.dtype))
    if var.shape != x.shape:
        if x.shape[:-1] == var.shape:
            var = var.unsqueeze(-1)
        elif not (x.shape[:-1] == var.shape[:-1] and var.shape[-1:] == (1,)):
            raise ValueError(f"{op}: var is of incorrect size: input {x.shape}, var {var.shape}")
    if np.any(var._data < 0):
        raise ValueError(f"{op}: var has negative entry/entries")
    vd = var._data
    var = var + Tensor._wrap(
        np.maximum(vd, vd.dtype.type(eps)) - vd
    )  # clamp, gradient passes through
    loss = 0.5 * (var.log() + (x - t) ** 2 / var)
    if full:
        loss = loss + 0.5 * math.log(2 * math.pi)
    return _reduce(loss, reduction)


__all__ = [
    "cosine_embedding_loss",
    "gaussian_nll_loss",
    "hinge_embedding_loss",
    "margin_ranking_loss",
    "multilabel_soft_margin_loss",
    "poisson_nll_loss",
    "soft_margin_loss",
    "triplet_margin_loss",
]
