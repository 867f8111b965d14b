"""Cumulative ops along a dimension: cumsum, cumprod, cummax, cummin, logcumsumexp.

``cumprod``'s gradient is exact with zeros in the input (no division by zero): before the
first zero of a row it is the usual ``revcumsum(grad * out) / x``; at the first zero it is
the sum of ``grad`` times the products that skip that zero; after it, zero.

Example:
    >>> import gradfit as gf
    >>> gf.cumsum(gf.tensor([1, 2, 3]), 0).tolist(), gf.tensor([1.0, 2.0, 3.0]).cumprod(0).tolist()
    ([1, 3, 6], [1.0, 2.0, 6.0])
"""

from __future__ import annotations

from collections import namedtuple
from typing import Any

import numpy as np

from gradfit.autograd import Function
from gradfit.ops.arithmetic import Where
from gradfit.ops.linear_map import linear_backward_graph
from gradfit.tensor import Tensor, _norm_dim

cummax_result = namedtuple("cummax", ["values", "indices"])
cummin_result = namedtuple("cummin", ["values", "indices"])


def _revcumsum(g: np.ndarray, axis: int) -> np.ndarray:
    return np.flip(np.cumsum(np.flip(g, axis), axis=axis), axis)


def _revcumsum_graph(g: Tensor, dim: int) -> Tensor:
    """:func:`_revcumsum` with Tensor operations (for a double backward)."""
    return g.flip((dim,)).cumsum(dim).flip((dim,))


class Cumsum(Function):
    def forward(self, x: np.ndarray, dim: int) -> np.ndarray:
        self.dim = dim
        return np.cumsum(x, axis=dim, dtype=x.dtype)

    def backward(self, grad: np.ndarray) -> tuple[Any]:
        return (_revcumsum(grad, self.dim),)

    def backward_graph(self, grad: Tensor) -> tuple[Any]:
        return linear_backward_graph(self, grad, lambda g: np.cumsum(g, self.dim, g.dtype))


class Cumprod(Function):
    def forward(self, x: np.ndarray, dim: int) -> np.ndarray:
        out = np.cumprod(x, axis=dim, dtype=x.dtype)
        self.dim = dim
        self.saved = (x, out)
        return out

    def backward(self, grad: np.ndarray) -> tuple[Any]:
        x, out = self.saved
        d = self.dim
        if x.size == 0:
            return (np.zeros_like(grad),)
        xm, om, gm = (np.moveaxis(a, d, -1) for a in (x, out, grad))
        n = xm.shape[-1]
        zero = xm == 0
        has = zero.any(axis=-1)
        first = np.where(has, np.argmax(zero, axis=-1), n)[..., None]  # first zero, or n
        pos = np.arange(n)
        before = pos < first
        one = x.dtype.type(1)
        with np.errstate(divide="ignore", invalid="ignore"):
            g = np.where(before, _revcumsum(gm * om, -1) / np.where(before, xm, one), 0)
        if has.any():
            # at the first zero: sum_{j >= z} grad_j * prod_{k <= j, k != z} x_k
            y = np.where(pos == first, one, xm)
            p = np.cumprod(y, axis=-1)
            at = (gm * p * (pos >= first)).sum(axis=-1, keepdims=True)
            g = np.where(pos == first, at, g)
        return (np.ascontiguousarray(np.moveaxis(g.astype(grad.dtype, copy=False), -1, d)),)

    def backward_graph(self, grad: Tensor) -> tuple[Any]:
        x, out = self.saved
        if x.size == 0:
            return (grad * 0.0,)
        if (x == 0).any():
            return (self._backward_graph_with_zeros(grad),)
        # dx_i = sum_{j >= i} grad_j out_j / x_i
        s = _revcumsum_graph(grad * self.output_tensor(out), self.dim)
        return (s / self.input_tensor(0, x),)

    def _backward_graph_with_zeros(self, grad: Tensor) -> Tensor:
        """dx_i = sum_{j >= i} grad_j prod_{k <= j, k != i} x_k, exact with zeros: row i of an
        (n, n) copy of x has x_i replaced by 1 (n^2 memory)."""
        x, d = self.saved[0], self.dim
        n = x.shape[d]
        if x.size * n > 1 << 24:
            raise NotImplementedError(
                "double backward is not implemented for Cumprod with zeros in an input of "
                f"shape {x.shape}: it takes {n} times the input's memory"
            )
        xs = self.input_tensor(0, x).movedim(d, -1)
        one = Tensor._wrap(np.ones((), dtype=x.dtype))
        p = Where.apply(one, xs.unsqueeze(-2), cond=np.eye(n, dtype=bool)).cumprod(-1)
        later = np.triu(np.ones((n, n), dtype=bool))  # j >= i
        terms = Where.apply(grad.movedim(d, -1).unsqueeze(-2) * p, one * 0.0, cond=later)
        return terms.sum(-1).movedim(-1, d)


def _prep(op: str, x: Tensor, dim: int, dtype: Any) -> tuple[Tensor, int]:
    if dtype is not None:
        x = x.astype(dtype)
    elif x._data.dtype.kind in "biu":  # PyTorch accumulates integers and bools in int64
        x = x.astype(np.int64)
    return x, _norm_dim(dim, x.ndim, op)


def cumsum(input: Tensor, dim: int, *, dtype: Any = None) -> Tensor:  # noqa: A002
    """Running sums along ``dim`` (integers and bools accumulate in int64 unless ``dtype``).

    Example:
        >>> import gradfit as gf
        >>> gf.tensor([[1.0, 2.0], [3.0, 4.0]]).cumsum(dim=0).tolist()
        [[1.0, 2.0], [4.0, 6.0]]
    """
    x, d = _prep("cumsum", input, dim, dtype)
    if x.ndim == 0:
        return Cumsum.apply(x.reshape(1), dim=0).reshape(())
    return Cumsum.apply(x, dim=d)


def cumprod(input: Tensor, dim: int, *, dtype: Any = None) -> Tensor:  # noqa: A002
    """Running products along ``dim``; the gradient is exact where the input has zeros.

    Example:
        >>> import gradfit as gf
        >>> gf.cumprod(gf.tensor([2, 0, 3]), 0).tolist()
        [2, 0, 0]
    """
    x, d = _prep("cumprod", input, dim, dtype)
    if x.ndim == 0:
        return Cumprod.apply(x.reshape(1), dim=0).reshape(())
    return Cumprod.apply(x, dim=d)


def _cumext(kind: Any, op: str, input: Tensor, dim: int, upper: bool) -> Any:  # noqa: A002
    from gradfit.ops.sorting import TakeAlong

    d = _norm_dim(dim, input.ndim, op)
    x = input.reshape(1) if input.ndim == 0 else input
    a = np.moveaxis(x._data, d, -1)
    n = a.shape[-1]
    idx = np.zeros(a.shape, dtype=np.int64)
    if n:
        best = a[..., 0].copy()
        for j in range(n):  # a loop along the dimension, vectorised over the rest
            v = a[..., j]
            take = (v >= best) if upper else (v <= best)
            if a.dtype.kind == "f":  # NaN wins and stays (comparisons with it are False)
                take |= np.isnan(v)
            best = np.where(take, v, best)
            prev = idx[..., j - 1] if j else np.zeros(a.shape[:-1], np.int64)
            idx[..., j] = np.where(take, j, prev)
    index = np.ascontiguousarray(np.moveaxis(idx, -1, d))
    vals = TakeAlong.apply(x, index=index, dim=d, repeats=True)
    if input.ndim == 0:
        return kind(vals.reshape(()), Tensor._wrap(index.reshape(())))
    return kind(vals, Tensor._wrap(index))


def cummax(input: Tensor, dim: int) -> Any:  # noqa: A002
    """Running maxima along ``dim`` and the index where each was reached (the last among ties,
    as PyTorch).

    Example:
        >>> import gradfit as gf
        >>> gf.cummax(gf.tensor([1, 3, 2, 3]), 0).indices.tolist()
        [0, 1, 1, 3]
    """
    return _cumext(cummax_result, "cummax", input, dim, upper=True)


def cummin(input: Tensor, dim: int) -> Any:  # noqa: A002
    """Running minima along ``dim`` and the index where each was reached.

    Example:
        >>> import gradfit as gf
        >>> gf.cummin(gf.tensor([3, 1, 2]), 0).values.tolist()
        [3, 1, 1]
    """
    return _cumext(cummin_result, "cummin", input, dim, upper=False)


class LogCumSumExp(Function):
    def forward(self, x: np.ndarray, dim: int) -> np.ndarray:
        self.dim = dim
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            out = np.logaddexp.accumulate(x, axis=dim)
        self.saved = (x, out)
        return out.astype(x.dtype, copy=False)

    def backward(self, grad: np.ndarray) -> tuple[Any]:
        x, out = self.saved
        d = self.dim
        if x.size == 0:
            return (np.zeros_like(grad),)
        # dx_i = exp(x_i) * sum_{j >= i} grad_j exp(-out_j), computed around the maximum
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            m = np.max(out, axis=d, keepdims=True)
            m = np.where(np.isfinite(m), m, 0)
            s = _revcumsum(grad * np.exp(m - out.astype(np.float64)), d)
            g = s * np.exp(x - m)
        return (g.astype(grad.dtype, copy=False),)

    def backward_graph(self, grad: Tensor) -> tuple[Any]:
        x, out = self.saved
        d = self.dim
        if x.size == 0:
            return (grad * 0.0,)
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            m = np.max(out, axis=d, keepdims=True)  # a constant shift, as in backward
            m = Tensor._wrap(np.where(np.isfinite(m), m, 0).astype(grad.dtype))
            s = _revcumsum_graph(grad * (m - self.output_tensor(out)).exp(), d)
            return (s * (self.input_tensor(0, x) - m).exp(),)


def logcumsumexp(input: Tensor, dim: int) -> Tensor:  # noqa: A002
    """``log(cumsum(exp(input)))`` along ``dim`` without overflow.

    Example:
        >>> import gradfit as gf
        >>> round(gf.logcumsumexp(gf.tensor([0.0, 0.0]), 0)[1].item(), 4)
        0.6931
    """
    if input._data.dtype.kind != "f":
        raise RuntimeError(f"logcumsumexp: expected a floating-point tensor, got {input.dtype}")
    d = _norm_dim(dim, input.ndim, "logcumsumexp")
    if input.ndim == 0:
        return LogCumSumExp.apply(input.reshape(1), dim=0).reshape(())
    return LogCumSumExp.apply(input, dim=d)
