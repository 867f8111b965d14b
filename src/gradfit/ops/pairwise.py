"""Pairwise distances and the vector cross product: cdist, cross.

Example:
    >>> import gradfit as gf
    >>> gf.cdist(gf.tensor([[0.0, 0.0]]), gf.tensor([[3.0, 4.0]])).item()
    5.0
"""

from __future__ import annotations

from typing import Any

import numpy as np

from gradfit.autograd import Function, sum_to
from gradfit.tensor import Tensor, _norm_dim, tensors_of


class Cdist(Function):
    """Euclidean distances between the rows of ``a`` (..., P, M) and ``b`` (..., R, M)."""

    def forward(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        diff = a[..., :, None, :] - b[..., None, :, :]  # (..., P, R, M)
        out = np.sqrt((diff * diff).sum(-1))
        self.saved = (diff, out, a, b)  # a and b (references): for a double backward
        self.shapes = (a.shape, b.shape)
        return out

    def backward(self, grad: np.ndarray) -> tuple[Any, Any]:
        diff, out = self.saved[:2]
        with np.errstate(divide="ignore", invalid="ignore"):
            w = np.where(out == 0, 0, grad / out)[..., None] * diff  # 0 at coincident points
        ga = sum_to(w.sum(-2), self.shapes[0]) if self.needs_input_grad[0] else None
        gb = sum_to(-w.sum(-3), self.shapes[1]) if self.needs_input_grad[1] else None
        return ga, gb

    def backward_graph(self, grad: Tensor) -> tuple[Any, Any]:
        from gradfit.ops.arithmetic import Where

        _, out, a, b = self.saved
        diff = self.input_tensor(0, a).unsqueeze(-2) - self.input_tensor(1, b).unsqueeze(-3)
        coincident = out == 0
        one = Tensor._wrap(np.ones((), dtype=grad.dtype))
        safe = Where.apply(one, self.output_tensor(out), cond=coincident)
        w = Where.apply(one * 0.0, grad / safe, cond=coincident).unsqueeze(-1) * diff
        ga = sum_to(w.sum(-2), self.shapes[0]) if self.needs_input_grad[0] else None
        gb = sum_to(-w.sum(-3), self.shapes[1]) if self.needs_input_grad[1] else None
        return ga, gb


def cdist(
    x1: Tensor,
    x2: Tensor,
    p: float = 2.0,
    compute_mode: str = "use_mm_for_euclid_dist_if_necessary",
) -> Tensor:
    """The p-norm distance between each row of ``x1`` (B, P, M) and each row of ``x2``
    (B, R, M), a (B, P, R) tensor; only p=2 (Euclidean) is supported here.

    Example:
        >>> import gradfit as gf
        >>> gf.cdist(gf.zeros(2, 3), gf.ones(4, 3)).shape
        (2, 4)
    """
    if p != 2:
        raise NotImplementedError(f"cdist: only p=2 is supported, got p={p}")
    if x1.ndim < 2 or x2.ndim < 2:
        raise RuntimeError(
            f"cdist only supports at least 2D tensors, X1 got: {x1.ndim}D, X2 got: {x2.ndim}D"
        )
    if x1.shape[-1] != x2.shape[-1]:
        raise RuntimeError(
            f"cdist: X1 and X2 must have the same number of columns. X1: {x1.shape[-1]} "
            f"X2: {x2.shape[-1]}"
        )
    if x1._data.dtype.kind != "f" or x2._data.dtype.kind != "f":
        raise RuntimeError(f"cdist only supports floating-point dtypes, got {x1.dtype}, {x2.dtype}")
    try:
        np.broadcast_shapes(x1.shape[:-2], x2.shape[:-2])
    except ValueError:
        raise RuntimeError(
            f"cdist: batch shapes {x1.shape[:-2]} and {x2.shape[:-2]} do not broadcast"
        ) from None
    return Cdist.apply(*tensors_of(x1, x2))


class Cross(Function):
    def forward(self, a: np.ndarray, b: np.ndarray, dim: int) -> np.ndarray:
        self.dim, self.shapes = dim, (a.shape, b.shape)
        self.saved = (a, b)
        return np.cross(a, b, axis=dim)

    def backward(self, grad: np.ndarray) -> tuple[Any, Any]:
        a, b = self.saved
        d = self.dim
        # d(a x b) . g: for a it is b x g, for b it is g x a
        ga = sum_to(np.cross(b, grad, axis=d), self.shapes[0]) if self.needs_input_grad[0] else None
        gb = sum_to(np.cross(grad, a, axis=d), self.shapes[1]) if self.needs_input_grad[1] else None
        return ga, gb

    def backward_graph(self, grad: Tensor) -> tuple[Any, Any]:
        a, b = self.saved
        d = self.dim
        ga = gb = None
        if self.needs_input_grad[0]:
            ga = sum_to(Cross.apply(self.input_tensor(1, b), grad, dim=d), self.shapes[0])
        if self.needs_input_grad[1]:
            gb = sum_to(Cross.apply(grad, self.input_tensor(0, a), dim=d), self.shapes[1])
        return ga, gb


def cross(input: Tensor, other: Tensor, dim: int | None = None) -> Tensor:  # noqa: A002
    """The cross product of 3-vectors along ``dim`` (default: the first dimension of size 3,
    as ``torch.cross``; ``torch.linalg.cross`` uses -1).

    Example:
        >>> import gradfit as gf
        >>> gf.cross(gf.tensor([1.0, 0.0, 0.0]), gf.tensor([0.0, 1.0, 0.0])).tolist()
        [0.0, 0.0, 1.0]
    """
    a, b = tensors_of(input, other)
    try:
        shape = np.broadcast_shapes(a.shape, b.shape)
    except ValueError:
        raise RuntimeError(f"cross: shapes {a.shape} and {b.shape} do not broadcast") from None
    if dim is None:
        cand = [i for i, n in enumerate(shape) if n == 3]
        if not cand:
            raise RuntimeError(f"cross: no dimension of size 3 in input of shape {shape}")
        d = cand[0]
    else:
        d = _norm_dim(dim, len(shape), "cross")
    if a.ndim != b.ndim:
        raise RuntimeError(
            f"cross: inputs must have the same number of dimensions: {a.ndim} and {b.ndim}"
        )
    if a.shape[d] != 3 or b.shape[d] != 3:
        raise RuntimeError(
            f"cross: dimension {d} must have size 3, got {a.shape[d]} and {b.shape[d]}"
        )
    return Cross.apply(a, b, dim=d)


def pdist(input: Tensor, p: float = 2) -> Tensor:  # noqa: A002
    """Euclidean distances between all pairs of rows (i < j) of a 2-D tensor, as 1-D.

    Example:
        >>> import gradfit as gf
        >>> gf.pdist(gf.tensor([[0.0, 0.0], [3.0, 4.0], [0.0, 1.0]])).tolist()
        [5.0, 1.0, 4.242640495300293]
    """
    if input.ndim != 2:
        raise RuntimeError(f"pdist only supports 2D tensors, got: {input.ndim}D")
    n = input.shape[0]
    i, j = np.triu_indices(n, 1)
    return cdist(input, input, p).reshape(-1)[Tensor._wrap((i * n + j).astype(np.int64))]


def dist(input: Tensor, other: Tensor, p: float = 2) -> Tensor:  # noqa: A002
    """The p-norm of ``input - other`` (broadcast), a 0-d tensor.

    Example:
        >>> import gradfit as gf
        >>> gf.dist(gf.tensor([0.0, 0.0]), gf.tensor([3.0, 4.0])).item()
        5.0
    """
    from gradfit.ops.reduce import norm

    a, b = tensors_of(input, other)
    return norm(a - b, p)
