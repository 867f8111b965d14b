"""Sorting and selection: sort, argsort, topk, kthvalue, median, mode, unique, bincount.

``sort``, ``topk``, ``kthvalue`` and ``median`` return ``(values, indices)`` named tuples as
PyTorch's ``torch.return_types``; the gradient of the values flows back to the positions
they came from.

Example:
    >>> import gradfit as gf
    >>> v, i = gf.tensor([3.0, 1.0, 2.0]).sort()
    >>> v.tolist(), i.tolist()
    ([1.0, 2.0, 3.0], [1, 2, 0])
"""

from __future__ import annotations

from collections import namedtuple
from typing import Any

import numpy as np

from gradfit.autograd import Function
from gradfit.ops.linear_map import linear_backward_graph
from gradfit.tensor import Tensor, _norm_dim

sort_result = namedtuple("sort", ["values", "indices"])
topk_result = namedtuple("topk", ["values", "indices"])
kthvalue_result = namedtuple("kthvalue", ["values", "indices"])
median_result = namedtuple("median", ["values", "indices"])
mode_result = namedtuple("mode", ["values", "indices"])


class TakeAlong(Function):
    """``x`` read at ``index`` along ``dim`` (the values of a sort or top-k)."""

    def forward(
        self, x: np.ndarray, index: np.ndarray, dim: int, repeats: bool = False
    ) -> np.ndarray:
        self.shape, self.index, self.dim, self.repeats = x.shape, index, dim, repeats
        return np.take_along_axis(x, index, axis=dim)

    def backward(self, grad: np.ndarray) -> tuple[Any]:
        g = np.zeros(self.shape, dtype=grad.dtype)
        if self.repeats:  # an index may appear several times: accumulate
            from gradfit.ops.indexing import _along

            np.add.at(g, _along(self.index, self.dim), grad)
        else:
            np.put_along_axis(g, self.index, grad, axis=self.dim)
        return (g,)

    def backward_graph(self, grad: Tensor) -> tuple[Any]:
        return linear_backward_graph(
            self, grad, lambda g: np.take_along_axis(g, self.index, axis=self.dim)
        )


def _argsort(a: np.ndarray, dim: int, descending: bool) -> np.ndarray:
    """A stable argsort; descending keeps equal elements in their original order (NaN first,
    as the largest, like PyTorch)."""
    if not descending:
        return np.argsort(a, axis=dim, kind="stable")
    n = a.shape[dim]
    rev = np.flip(a, axis=dim)
    idx = np.flip(np.argsort(rev, axis=dim, kind="stable"), axis=dim)
    return (n - 1) - idx


def _dim_of(x: Tensor, dim: int, op: str) -> int:
    return _norm_dim(dim, x.ndim, op)


def argsort(input: Tensor, dim: int = -1, descending: bool = False, stable: bool = False) -> Tensor:  # noqa: A002
    """The indices that sort ``input`` along ``dim`` (always a stable sort here).

    Example:
        >>> import gradfit as gf
        >>> gf.tensor([3, 1, 2]).argsort(descending=True).tolist()
        [0, 2, 1]
    """
    d = _dim_of(input, dim, "argsort")
    if input.ndim == 0:
        return Tensor._wrap(np.zeros((), dtype=np.int64))
    return Tensor._wrap(_argsort(input._data, d, descending).astype(np.int64))


def sort(
    input: Tensor,  # noqa: A002
    dim: int = -1,
    descending: bool = False,
    stable: bool = False,
) -> Any:
    """Sorted values along ``dim`` and the indices they came from, as ``(values, indices)``.
    The sort is always stable here (equal elements keep their order).

    Example:
        >>> import gradfit as gf
        >>> gf.sort(gf.tensor([[2, 9, 4]]), descending=True).values.tolist()
        [[9, 4, 2]]
    """
    d = _dim_of(input, dim, "sort")
    if input.ndim == 0:
        return sort_result(TakeAlong.apply(input.reshape(1), index=np.zeros(1, np.int64), dim=0).reshape(()),
                           Tensor._wrap(np.zeros((), dtype=np.int64)))  # fmt: skip
    idx = _argsort(input._data, d, descending).astype(np.int64)
    return sort_result(TakeAlong.apply(input, index=idx, dim=d), Tensor._wrap(idx))


def topk(
    input: Tensor,  # noqa: A002
    k: int,
    dim: int = -1,
    largest: bool = True,
    sorted: bool = True,  # noqa: A002
) -> Any:
    """The ``k`` largest (or smallest) values along ``dim`` and their indices, as
    ``(values, indices)``; they always come sorted here.

    Example:
        >>> import gradfit as gf
        >>> gf.tensor([1.0, 5.0, 3.0]).topk(2).indices.tolist()
        [1, 2]
    """
    d = _dim_of(input, dim, "topk")
    x = input.reshape(1) if input.ndim == 0 else input
    n = x.shape[d]
    if not 0 <= k <= n:
        raise RuntimeError(
            f"topk: selected index k={k} is out of range for a dimension of size {n}"
        )
    idx = _argsort(x._data, d, descending=largest)
    idx = np.take(idx, np.arange(k), axis=d).astype(np.int64)
    vals = TakeAlong.apply(x, index=idx, dim=d)
    if input.ndim == 0:
        return topk_result(vals.reshape(()), Tensor._wrap(idx.reshape(())))
    return topk_result(vals, Tensor._wrap(idx))


def kthvalue(input: Tensor, k: int, dim: int = -1, keepdim: bool = False) -> Any:  # noqa: A002
    """The ``k``-th smallest value (1-based) along ``dim`` and its index.

    Example:
        >>> import gradfit as gf
        >>> gf.kthvalue(gf.tensor([4.0, 1.0, 3.0]), 2).values.item()
        3.0
    """
    d = _dim_of(input, dim, "kthvalue")
    x = input.reshape(1) if input.ndim == 0 else input
    n = x.shape[d]
    if not 1 <= k <= n:
        raise RuntimeError(
            f"kthvalue(): selected number k={k} out of range for dimension {dim} of size {n}"
        )
    idx = np.take(_argsort(x._data, d, False), [k - 1], axis=d).astype(np.int64)
    return _pick(kthvalue_result, input, x, idx, d, keepdim)


def _pick(kind: Any, input: Tensor, x: Tensor, idx: np.ndarray, d: int, keepdim: bool) -> Any:  # noqa: A002
    vals = TakeAlong.apply(x, index=idx, dim=d)
    if input.ndim == 0:
        return kind(vals.reshape(()), Tensor._wrap(idx.reshape(())))
    if not keepdim:
        vals = vals.squeeze(d)
        idx = idx.squeeze(d)
    return kind(vals, Tensor._wrap(idx))


def median(input: Tensor, dim: int | None = None, keepdim: bool = False) -> Any:  # noqa: A002
    """The median (the lower of the two middle values for an even count): of all elements
    when ``dim`` is None, else ``(values, indices)`` along ``dim``. NaN propagates.

    Example:
        >>> import gradfit as gf
        >>> gf.median(gf.tensor([4.0, 1.0, 3.0, 2.0])).item()
        2.0
    """
    if dim is None:
        x = input.reshape(-1)
        if x.shape[0] == 0:
            return (
                Tensor._wrap(np.asarray(np.nan, dtype=input._data.dtype))
                if input.dtype.kind == "f"
                else x.sum()
            )
        idx = _argsort(x._data, 0, False)
        pos = (x.shape[0] - 1) // 2
        if input.dtype.kind == "f" and np.isnan(x._data).any():
            pos = int(np.argmax(np.isnan(x._data[idx])))  # the first NaN
        return TakeAlong.apply(x, index=idx[pos : pos + 1].astype(np.int64), dim=0).reshape(())
    d = _dim_of(input, dim, "median")
    x = input.reshape(1) if input.ndim == 0 else input
    n = x.shape[d]
    if n == 0:
        raise IndexError(f"median(): expected a non-empty dimension {dim}, got size 0")
    order = _argsort(x._data, d, False)
    pos = np.full(np.delete(np.array(x.shape), d), (n - 1) // 2)
    if x.dtype.kind == "f":
        nan_first = np.argmax(np.isnan(np.take_along_axis(x._data, order, d)), axis=d)
        has_nan = np.isnan(x._data).any(axis=d)
        pos = np.where(has_nan, nan_first, pos)
    idx = np.take_along_axis(order, np.expand_dims(pos, d).astype(np.int64), d).astype(np.int64)
    return _pick(median_result, input, x, idx, d, keepdim)


def mode(input: Tensor, dim: int = -1, keepdim: bool = False) -> Any:  # noqa: A002
    """The most frequent value along ``dim`` (the smallest among ties) and an index of it
    (the last occurrence, as PyTorch on the CPU).

    Example:
        >>> import gradfit as gf
        >>> gf.mode(gf.tensor([1, 2, 2, 3])).values.item()
        2
    """
    d = _dim_of(input, dim, "mode")
    x = input.reshape(1) if input.ndim == 0 else input
    a = np.moveaxis(x._data, d, -1)
    flat = a.reshape(-1, a.shape[-1])
    out = np.zeros(flat.shape[0], dtype=np.int64)
    for r, row in enumerate(flat):  # one row at a time: unique counts per row
        vals, counts = np.unique(row, return_counts=True)
        best = vals[np.argmax(counts)]
        out[r] = np.nonzero(row == best)[0][-1]
    idx = np.expand_dims(np.moveaxis(out.reshape(a.shape[:-1] + (1,)), -1, d).squeeze(d), d)
    return _pick(mode_result, input, x, idx.astype(np.int64), d, keepdim)


def unique(
    input: Tensor,  # noqa: A002
    sorted: bool = True,  # noqa: A002
    return_inverse: bool = False,
    return_counts: bool = False,
    dim: int | None = None,
) -> Any:
    """The distinct values (always sorted here), and optionally for each input element the
    index of its value (``return_inverse``) and how often each value occurs (``return_counts``).
    With ``dim``, the distinct slices along that dimension.

    Example:
        >>> import gradfit as gf
        >>> u, c = gf.unique(gf.tensor([3, 1, 3, 2]), return_counts=True)
        >>> u.tolist(), c.tolist()
        ([1, 2, 3], [1, 1, 2])
    """
    a = input._data
    if dim is None:
        u, inv, cnt = np.unique(a.reshape(-1), return_inverse=True, return_counts=True)
        inv = inv.reshape(a.shape)
    else:
        d = _dim_of(input, dim, "unique")
        if a.shape[d] == 0 and a.size == 0 and a.ndim > 1:
            u, inv, cnt = a, np.zeros(0, np.int64), np.zeros(0, np.int64)
        else:
            u, inv, cnt = np.unique(a, return_inverse=True, return_counts=True, axis=d)
            inv = inv.reshape(-1)
    res = [Tensor._wrap(np.asarray(u).astype(a.dtype, copy=False))]
    if return_inverse:
        res.append(Tensor._wrap(np.asarray(inv).astype(np.int64)))
    if return_counts:
        res.append(Tensor._wrap(np.asarray(cnt).astype(np.int64)))
    return res[0] if len(res) == 1 else tuple(res)


def bincount(input: Tensor, weights: Tensor | None = None, minlength: int = 0) -> Tensor:  # noqa: A002
    """How often each value 0, 1, ... occurs in a 1-D non-negative integer tensor (or the sum
    of ``weights`` at each value).

    Example:
        >>> import gradfit as gf
        >>> gf.bincount(gf.tensor([0, 2, 2])).tolist()
        [1, 0, 2]
    """
    a = input._data
    if a.dtype.kind not in "iu":  # PyTorch: NotImplementedError (a RuntimeError)
        raise NotImplementedError(f"bincount: only integer tensors are supported, got {a.dtype}")
    if a.ndim != 1:
        raise RuntimeError(
            f"bincount only supports 1-d non-negative integral inputs, got {a.dtype} {a.shape}"
        )
    if a.size and a.min() < 0:
        raise RuntimeError(
            "bincount only supports 1-d non-negative integral inputs (got a negative value)"
        )
    if minlength < 0:
        raise RuntimeError(f"bincount: minlength should be >= 0, got {minlength}")
    if weights is None:
        return Tensor._wrap(np.bincount(a, minlength=minlength).astype(np.int64))
    w = weights._data
    if w.shape != a.shape:
        raise RuntimeError(f"bincount: weights {w.shape} should have the input's shape {a.shape}")
    out = np.bincount(a, weights=w, minlength=minlength)
    dt = w.dtype if w.dtype.kind == "f" else np.float64
    return Tensor._wrap(out.astype(dt))


def searchsorted(
    sorted_sequence: Tensor,
    input: Any,  # noqa: A002
    *,
    out_int32: bool = False,
    right: bool = False,
    side: str | None = None,
    sorter: Tensor | None = None,
) -> Tensor:
    """Where each value of ``input`` would be inserted into the last dimension of
    ``sorted_sequence`` to keep it sorted (``right=True``/``side='right'``: after equal values).

    Example:
        >>> import gradfit as gf
        >>> gf.searchsorted(gf.tensor([1, 3, 5]), gf.tensor([3, 6])).tolist()
        [1, 3]
    """
    if side is not None:
        if side not in ("left", "right"):
            raise RuntimeError(f"searchsorted: side can only be 'left' or 'right', got {side!r}")
        if right and side == "left":
            raise RuntimeError("searchsorted: side and right can't be set to opposites")
        right = side == "right"
    seq = sorted_sequence._data
    if sorter is not None:
        seq = np.take_along_axis(seq, sorter._data, axis=-1)
    scalar = not isinstance(input, Tensor)
    vals = np.asarray(input) if scalar else input._data
    how = "right" if right else "left"
    dt = np.int32 if out_int32 else np.int64
    if seq.ndim <= 1:
        return Tensor._wrap(np.asarray(np.searchsorted(seq, vals, side=how)).astype(dt))
    if vals.shape[:-1] != seq.shape[:-1]:
        raise RuntimeError(
            f"searchsorted: boundaries {seq.shape} and input {vals.shape} should have the same "
            "leading dimensions"
        )
    flat_s = seq.reshape(-1, seq.shape[-1])
    flat_v = vals.reshape(-1, vals.shape[-1])
    out = np.stack([np.searchsorted(s, v, side=how) for s, v in zip(flat_s, flat_v, strict=True)])
    return Tensor._wrap(out.reshape(vals.shape).astype(dt))


def bucketize(
    input: Any,  # noqa: A002
    boundaries: Tensor,
    *,
    out_int32: bool = False,
    right: bool = False,
) -> Tensor:
    """The index ``i`` of each value's bucket among sorted 1-D ``boundaries``:
    ``boundaries[i-1] < x <= boundaries[i]``, or with ``right=True``
    ``boundaries[i-1] <= x < boundaries[i]``.

    Example:
        >>> import gradfit as gf
        >>> gf.bucketize(gf.tensor([1, 5, 9]), gf.tensor([2, 5, 8])).tolist()
        [0, 1, 3]
    """
    if boundaries.ndim != 1:
        raise RuntimeError(
            f"bucketize: boundaries tensor must be 1 dimension, but got dim({boundaries.ndim})"
        )
    return searchsorted(boundaries, input, out_int32=out_int32, right=right)
