"""Distances and similarities between vectors (PyTorch's names): normalize, cosine_similarity,
pairwise_distance. Built from differentiable ops (norm, clamp, sum), so gradients come for free.

Example:
    >>> import gradfit as gf
    >>> import gradfit.nn.functional as F
    >>> F.normalize(gf.tensor([[3.0, 4.0]]))
    tensor([[0.6, 0.8]])
"""

from __future__ import annotations

from typing import Any

from gradfit.ops.arithmetic import clamp
from gradfit.ops.reduce import norm
from gradfit.ops.shape import broadcast_to
from gradfit.tensor import Tensor


def _float(x: Any, op: str, name: str = "input") -> Tensor:
    if not isinstance(x, Tensor):
        raise TypeError(f"{op}: {name} must be a gf.Tensor, got {type(x).__name__}")
    if x._data.dtype.kind != "f":
        raise TypeError(f"{op}: {name} must be a floating-point tensor, got {x.dtype}")
    return x


def _dim(dim: int, ndim: int, op: str) -> int:
    lo, hi = -max(ndim, 1), max(ndim, 1) - 1
    if not lo <= dim <= hi:
        raise IndexError(
            f"{op}: dimension out of range (expected to be in range of [{lo}, {hi}], but got {dim})"
        )
    return dim % max(ndim, 1)


def normalize(
    input: Tensor,  # noqa: A002
    p: float = 2.0,
    dim: int = 1,
    eps: float = 1e-12,
    out: Any = None,
) -> Tensor:
    """``input / max(||input||_p, eps)`` along ``dim``.

    Example:
        >>> import gradfit as gf
        >>> gf.nn.functional.normalize(gf.tensor([[1.0, 1.0], [0.0, 2.0]]), p=1)
        tensor([[0.5, 0.5],
                [0. , 1. ]])
    """
    x = _float(input, "normalize")
    if out is not None:
        raise TypeError("normalize: out= is not supported by gradfit; assign the result instead")
    if x.ndim == 0:
        return x / clamp(norm(x, p), min=eps)
    d = _dim(dim, x.ndim, "normalize")
    return x / clamp(norm(x, p, dim=d, keepdim=True), min=eps)


def cosine_similarity(x1: Tensor, x2: Tensor, dim: int = 1, eps: float = 1e-8) -> Tensor:
    """Cosine of the angle between ``x1`` and ``x2`` along ``dim`` (inputs broadcast).

    As PyTorch 2.x, each input is divided by ``max(||x||, eps)`` before the dot product.

    Example:
        >>> import gradfit as gf
        >>> gf.nn.functional.cosine_similarity(gf.tensor([[1.0, 0.0]]), gf.tensor([[1.0, 1.0]]))
        tensor([0.7071])
    """
    a, b = _float(x1, "cosine_similarity", "x1"), _float(x2, "cosine_similarity", "x2")
    try:
        shape = _broadcast_shape(a.shape, b.shape)
    except ValueError:
        raise RuntimeError(
            f"cosine_similarity: x1 {a.shape} and x2 {b.shape} cannot be broadcast together"
        ) from None
    if a.dtype != b.dtype:
        raise RuntimeError(
            f"cosine_similarity: expected both inputs of one dtype, got {a.dtype} and {b.dtype}"
        )
    a, b = broadcast_to(a, shape), broadcast_to(b, shape)
    d = _dim(dim, len(shape), "cosine_similarity")
    if len(shape) == 0:
        return (a / clamp(norm(a), min=eps)) * (b / clamp(norm(b), min=eps))
    an = a / clamp(norm(a, 2, dim=d, keepdim=True), min=eps)
    bn = b / clamp(norm(b, 2, dim=d, keepdim=True), min=eps)
    return (an * bn).sum(d)


def _broadcast_shape(s1: tuple[int, ...], s2: tuple[int, ...]) -> tuple[int, ...]:
    import numpy as np

    return tuple(np.broadcast_shapes(s1, s2))


def pairwise_distance(
    x1: Tensor, x2: Tensor, p: float = 2.0, eps: float = 1e-6, keepdim: bool = False
) -> Tensor:
    """``||x1 - x2 + eps||_p`` over the last dimension (inputs broadcast).

    Example:
        >>> import gradfit as gf
        >>> d = gf.nn.functional.pairwise_distance(gf.tensor([[0.0, 0.0]]), gf.tensor([[3.0, 4.0]]))
        >>> round(d.item(), 4)
        5.0
    """
    a, b = _float(x1, "pairwise_distance", "x1"), _float(x2, "pairwise_distance", "x2")
    diff = a - b + eps
    if diff.ndim == 0:
        out = norm(diff, p)
        return out
    return norm(diff, p, dim=-1, keepdim=keepdim)


__all__ = ["cosine_similarity", "normalize", "pairwise_distance"]
