"""Indexing by index tensors and masks: gather, scatter, scatter_add, index_select, index_add,
index_copy, index_fill, masked_fill, masked_select, nonzero, argwhere, take.

Each op is one :class:`Function`; gradients of reads scatter-add (repeated indices
accumulate), gradients of writes gather, as in PyTorch.

Example:
    >>> import gradfit as gf
    >>> x = gf.tensor([[1.0, 2.0], [3.0, 4.0]])
    >>> gf.gather(x, 1, gf.tensor([[1], [0]])).tolist()
    [[2.0], [3.0]]
"""

from __future__ import annotations

from typing import Any

import numpy as np

from gradfit.autograd import Function, sum_to
from gradfit.ops.arithmetic import Where
from gradfit.ops.linear_map import linear_backward_graph
from gradfit.tensor import Tensor, _norm_dim

# ------------------------------------------------------------------ helpers


def _index_array(index: Any, op: str, allow_int32: bool = True) -> np.ndarray:
    arr = index._data if isinstance(index, Tensor) else np.asarray(index)
    ok = arr.dtype == np.int64 or (allow_int32 and arr.dtype == np.int32)
    if not ok:
        want = "int64 or int32" if allow_int32 else "int64"
        raise RuntimeError(f"{op}(): expected the index to be an {want} tensor, got {arr.dtype}")
    return arr


def _along(index: np.ndarray, dim: int) -> tuple[np.ndarray, ...]:
    """The full advanced index that picks ``x[..., index[...], ...]`` along ``dim`` (gather's)."""
    nd = index.ndim
    idx = []
    for d in range(nd):
        if d == dim:
            idx.append(index)
        else:
            shp = [1] * nd
            shp[d] = index.shape[d]
            idx.append(np.arange(index.shape[d]).reshape(shp))
    return tuple(idx)


def _check_along(
    op: str, x_shape: tuple[int, ...], dim: int, index: np.ndarray, src_shape: Any = None
) -> None:
    if index.ndim != len(x_shape) and not (index.ndim <= 1 and len(x_shape) <= 1):
        raise RuntimeError(
            f"{op}(): index tensor must have the same number of dimensions as the input "
            f"({len(x_shape)}), got {index.ndim}"
        )
    xs = x_shape or (1,)
    ixs = index.shape or (1,)
    for d, n in enumerate(ixs):
        if d != dim and n > xs[d]:
            raise RuntimeError(
                f"{op}(): size of index {index.shape} exceeds the input's {x_shape} "
                f"in dimension {d} (other than dim {dim})"
            )
        if src_shape is not None and n > (src_shape or (1,))[d]:
            raise RuntimeError(
                f"{op}(): size of index {index.shape} exceeds the source's {src_shape} in dimension {d}"
            )
    if index.size:
        lo, hi = index.min(), index.max()
        if lo < 0 or hi >= xs[dim]:
            bad = lo if lo < 0 else hi
            raise RuntimeError(
                f"{op}(): index {bad} is out of bounds for dimension {dim} with size {xs[dim]}"
            )


def _select_index(index: Any, op: str, size: int) -> np.ndarray:
    """A 1-D (or 0-d) index for ``index_*``, bounds checked."""
    arr = _index_array(index, op, allow_int32=True)
    if arr.ndim > 1:
        raise IndexError(f"{op}(): index must be a vector (1-D or 0-d), got shape {arr.shape}")
    arr = arr.reshape(-1).astype(np.int64)
    if arr.size and (arr.min() < 0 or arr.max() >= size):  # PyTorch takes no negative ones
        bad = arr.min() if arr.min() < 0 else arr.max()
        raise IndexError(
            f"{op}(): index {bad} is out of range for a dimension of size {size} "
            f"(expected 0 to {size - 1})"
        )
    return arr


def _value_tensor(value: Any, x: Tensor, op: str) -> Tensor:
    if isinstance(value, Tensor):
        if value.ndim != 0:
            raise RuntimeError(
                f"{op}: only supports a 0-dimensional value tensor, got one of shape {value.shape}"
            )
        return value.astype(x.dtype) if value.dtype != x.dtype else value
    return Tensor._wrap(np.asarray(value, dtype=x._data.dtype))


# ------------------------------------------------------------------ gather / scatter


class Gather(Function):
    def forward(self, x: np.ndarray, index: np.ndarray, dim: int) -> np.ndarray:
        self.shape = x.shape
        self.idx = _along(index, dim)
        return x[self.idx]

    def backward(self, grad: np.ndarray) -> tuple[Any]:
        g = np.zeros(self.shape, dtype=grad.dtype)
        np.add.at(g, self.idx, grad)  # repeated indices accumulate
        return (g,)

    def backward_graph(self, grad: Tensor) -> tuple[Any]:
        return linear_backward_graph(self, grad, lambda g: g[self.idx])


def gather(input: Tensor, dim: int, index: Tensor, *, sparse_grad: bool = False) -> Tensor:  # noqa: A002
    """Pick values along ``dim`` at ``index``: ``out[i][j] = input[i][index[i][j]]`` for dim=1.

    ``index`` (int64) has as many dimensions as ``input``; the output has its shape.

    Example:
        >>> import gradfit as gf
        >>> gf.tensor([[1, 2], [3, 4]]).gather(1, gf.tensor([[0, 0], [1, 0]])).tolist()
        [[1, 1], [4, 3]]
    """
    idx = _index_array(index, "gather")
    d = _norm_dim(dim, input.ndim, "gather")
    _check_along("gather", input.shape, d, idx)
    if input.ndim == 0 or idx.ndim == 0:
        return Gather.apply(input.reshape(-1), index=idx.reshape(-1), dim=0).reshape(idx.shape)
    return Gather.apply(input, index=idx, dim=d)


class Scatter(Function):
    """``out = x`` with ``out[idx] = src[:index.shape]`` (or += for scatter_add)."""

    def forward(
        self, x: np.ndarray, src: np.ndarray, index: np.ndarray, dim: int, mode: str
    ) -> np.ndarray:
        self.idx = idx = _along(index, dim)
        self.src_shape, self.ishape, self.mode = src.shape, index.shape, mode
        s = src[tuple(slice(0, n) for n in index.shape)]
        out = x.copy()
        if mode in ("add", "add_reduce"):
            np.add.at(out, idx, s)
        elif mode == "multiply":
            self.saved = (x, s)
            np.multiply.at(out, idx, s)
        else:
            out[idx] = s
        return out

    def backward(self, grad: np.ndarray) -> tuple[Any, Any]:
        gx = gs = None
        if self.mode in ("add_reduce", "multiply"):
            raise RuntimeError(
                "scatter(reduce=...): the gradient is not implemented (as in PyTorch); "
                "use scatter_add or scatter_reduce"
            )
        if self.needs_input_grad[0]:
            gx = grad
            if self.mode == "set":
                gx = grad.copy()
                gx[self.idx] = 0
        if self.needs_input_grad[1]:
            gs = np.zeros(self.src_shape, dtype=grad.dtype)
            gs[tuple(slice(0, n) for n in self.ishape)] = grad[self.idx]
        return gx, gs

    def backward_graph(self, grad: Tensor) -> tuple[Any, Any]:
        if self.mode in ("add_reduce", "multiply"):
            return self.backward(grad._data)  # raises: no gradient (as in PyTorch)
        shape, dtype, sl = grad.shape, grad.dtype, tuple(slice(0, n) for n in self.ishape)

        def x_part(g: np.ndarray) -> np.ndarray:
            return self.backward(g)[0] if self.mode == "set" else g  # a mask: self-adjoint

        def src_part(s: np.ndarray) -> np.ndarray:
            out = np.zeros(shape, dtype=dtype)
            if self.mode == "set":
                out[self.idx] = s[sl]
            else:
                np.add.at(out, self.idx, s[sl])
            return out

        return linear_backward_graph(self, grad, x_part, src_part)


def _scatter(op: str, input: Tensor, dim: int, index: Any, src: Any, mode: str) -> Tensor:  # noqa: A002
    idx = _index_array(index, op)
    d = _norm_dim(dim, input.ndim, op)
    if isinstance(src, Tensor):
        if src.dtype != input.dtype:
            raise RuntimeError(
                f"{op}(): expected the source to have the input's dtype {input.dtype}, "
                f"got {src.dtype}"
            )
        s = src
    else:
        s = Tensor._wrap(np.full(idx.shape, src, dtype=input._data.dtype))
    if idx.ndim != s.ndim and not (idx.ndim <= 1 and s.ndim <= 1):
        raise RuntimeError(
            f"{op}(): index ({idx.ndim} dims) and source ({s.ndim} dims) must have the same "
            "number of dimensions"
        )
    _check_along(op, input.shape, d, idx, s.shape)
    if input.ndim == 0 or idx.ndim == 0 or s.ndim == 0:
        out = Scatter.apply(
            input.reshape(-1), s.reshape(-1), index=idx.reshape(-1), dim=0, mode=mode
        )
        return out.reshape(input.shape)
    return Scatter.apply(input, s, index=idx, dim=d, mode=mode)


def scatter(
    input: Tensor,  # noqa: A002
    dim: int,
    index: Tensor,
    src: Any = None,
    *,
    value: Any = None,
    reduce: str | None = None,
) -> Tensor:
    """A copy of ``input`` with ``src`` (a tensor or a number) written at ``index`` along ``dim``.

    ``out[i][index[i][j]] = src[i][j]`` for dim=1; ``reduce='add'`` or ``'multiply'``
    combines instead of overwriting (out of place: see ``scatter_`` for in place).

    Example:
        >>> import gradfit as gf
        >>> gf.zeros(2, 3).scatter(1, gf.tensor([[2], [0]]), 1.0).tolist()
        [[0.0, 0.0, 1.0], [1.0, 0.0, 0.0]]
    """
    if src is None:
        src = value
    if src is None:
        raise TypeError("scatter(): expected a src tensor or a value")
    modes = {None: "set", "add": "add_reduce", "multiply": "multiply"}
    if reduce not in modes:
        raise RuntimeError(f"scatter(): reduce must be 'add' or 'multiply', got {reduce!r}")
    return _scatter("scatter", input, dim, index, src, modes[reduce])


def scatter_add(input: Tensor, dim: int, index: Tensor, src: Tensor) -> Tensor:  # noqa: A002
    """A copy of ``input`` with ``src`` added at ``index`` along ``dim`` (repeats accumulate).

    Example:
        >>> import gradfit as gf
        >>> gf.zeros(3).scatter_add(0, gf.tensor([0, 0, 2]), gf.ones(3)).tolist()
        [2.0, 0.0, 1.0]
    """
    if not isinstance(src, Tensor):
        raise TypeError(f"scatter_add(): src must be a Tensor, got {type(src).__name__}")
    return _scatter("scatter_add", input, dim, index, src, "add")


class ScatterReduce(Function):
    def forward(
        self,
        x: np.ndarray,
        src: np.ndarray,
        index: np.ndarray,
        dim: int,
        reduce: str,
        include_self: bool,
    ) -> np.ndarray:
        idx = _along(index, dim)
        s = src[tuple(slice(0, n) for n in index.shape)]
        hit = np.zeros(x.shape, dtype=bool)
        hit[idx] = True
        out = x.copy()
        if reduce in ("sum", "mean"):
            if not include_self:
                out[hit] = 0
            np.add.at(out, idx, s)
            if reduce == "mean":
                cnt = np.zeros(x.shape, dtype=np.int64)
                np.add.at(cnt, idx, 1)
                cnt = cnt + (1 if include_self else 0)
                cnt[cnt == 0] = 1
                out = out / cnt if x.dtype.kind == "f" else out // cnt
                out = out.astype(x.dtype)
                self.cnt = cnt
        elif reduce == "prod":
            if not include_self:
                out[hit] = 1
            np.multiply.at(out, idx, s)
        else:
            ufunc = np.maximum if reduce == "amax" else np.minimum
            if not include_self:
                if x.dtype.kind == "f":
                    ident = -np.inf if reduce == "amax" else np.inf
                else:
                    info = np.iinfo(x.dtype) if x.dtype.kind in "iu" else None
                    ident = (info.min if reduce == "amax" else info.max) if info else 0
                out[hit] = ident
            ufunc.at(out, idx, s)
        self.idx, self.hit, self.reduce, self.include_self = idx, hit, reduce, include_self
        self.src_shape, self.ishape = src.shape, index.shape
        if reduce in ("prod", "amax", "amin"):
            self.saved = (x, s, out)
        return out

    def backward(self, grad: np.ndarray) -> tuple[Any, Any]:
        idx, hit, r = self.idx, self.hit, self.reduce
        sl = tuple(slice(0, n) for n in self.ishape)
        gx = gs = None
        if r == "sum":
            gx = grad if self.include_self else np.where(hit, 0, grad).astype(grad.dtype)
            gsv = grad[idx]
        elif r == "mean":
            g = grad / self.cnt
            gx = g if self.include_self else np.where(hit, 0, g)
            gsv = g[idx]
        elif r == "prod":
            x, s, out = self.saved
            with np.errstate(divide="ignore", invalid="ignore"):
                gx = np.where(hit, 0, grad) if not self.include_self else grad * out / x
                gsv = grad[idx] * out[idx] / s
            if (s == 0).any() or (self.include_self and (x == 0).any()):
                raise RuntimeError(
                    "scatter_reduce(reduce='prod'): the gradient with zeros in the input is "
                    "not implemented"
                )
        else:
            sel, xsel, cnt = self._extreme_share(grad.dtype)
            g = grad / cnt
            gx = np.where(hit, np.where(xsel, g, 0), grad).astype(grad.dtype)
            gsv = np.where(sel, g[idx], 0)
        if self.needs_input_grad[1]:
            gs = np.zeros(self.src_shape, dtype=grad.dtype)
            gs[sl] = gsv
        return (gx.astype(grad.dtype) if self.needs_input_grad[0] else None), gs

    def _extreme_share(self, dtype: np.dtype) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """amax / amin: which of src (``sel``) and x (``xsel``) reached the extreme, and how
        many did per output element (``cnt``, at least 1): they share its gradient evenly."""
        x, s, out = self.saved
        cnt = np.zeros(out.shape, dtype=dtype)
        sel = s == out[self.idx]
        np.add.at(cnt, self.idx, sel.astype(dtype))
        xsel = (x == out) & (self.hit if self.include_self else False)
        if self.include_self:
            cnt += xsel
        cnt[cnt == 0] = 1
        return sel, xsel, cnt

    def backward_graph(self, grad: Tensor) -> tuple[Any, Any]:
        if self.reduce == "prod":
            return self._prod_backward_graph(grad)
        shape, dtype = grad.shape, grad.dtype
        sl = tuple(slice(0, n) for n in self.ishape)
        sel = None
        if self.reduce in ("amax", "amin"):  # who shares is fixed near x: a linear map of grad
            sel, xsel, scale = self._extreme_share(dtype)
            # x's share, computed now: the saved arrays may be released before it is used
            wx = np.where(self.hit, np.where(xsel, 1 / scale, 0), 1).astype(dtype)
        else:
            scale = self.cnt if self.reduce == "mean" else 1

        def x_part(g: np.ndarray) -> np.ndarray:  # a diagonal scaling: self-adjoint
            return g * wx if sel is not None else self.backward(g)[0]

        def src_part(s: np.ndarray) -> np.ndarray:
            out = np.zeros(shape, dtype=dtype)
            np.add.at(out, self.idx, s[sl] if sel is None else np.where(sel, s[sl], 0))
            return (out / scale).astype(dtype, copy=False)

        return linear_backward_graph(self, grad, x_part, src_part)

    def _prod_backward_graph(self, grad: Tensor) -> tuple[Any, Any]:
        x, s, out = self.saved
        if (s == 0).any() or (self.include_self and (x == 0).any()):
            raise NotImplementedError(
                "double backward is not implemented for ScatterReduce(reduce='prod') with zeros "
                "in the input"
            )
        if self.needs_input_grad[1] and self.src_shape != self.ishape:
            raise NotImplementedError(
                "double backward is not implemented for ScatterReduce(reduce='prod') with a "
                f"src of shape {self.src_shape} larger than the index {self.ishape}"
            )
        gout = grad * self.output_tensor(out)  # out / x_i is the product of the others
        gx = gs = None
        if self.needs_input_grad[0]:
            if self.include_self:
                gx = gout / self.input_tensor(0, x)
            else:
                gx = Where.apply(Tensor._wrap(np.zeros((), dtype=grad.dtype)), grad, cond=self.hit)
        if self.needs_input_grad[1]:
            gs = gout[self.idx] / self.input_tensor(1, s)
        return gx, gs


def scatter_reduce(
    input: Tensor,  # noqa: A002
    dim: int,
    index: Tensor,
    src: Tensor,
    reduce: str,
    *,
    include_self: bool = True,
) -> Tensor:
    """A copy of ``input`` where ``src`` is reduced into ``index`` along ``dim`` with
    ``reduce`` ('sum', 'prod', 'mean', 'amax' or 'amin'); ``include_self=False`` leaves the
    input's own values out where something is scattered.

    Example:
        >>> import gradfit as gf
        >>> x = gf.zeros(2)
        >>> x.scatter_reduce(0, gf.tensor([0, 0, 1]), gf.tensor([1.0, 3.0, 5.0]), "amax").tolist()
        [3.0, 5.0]
    """
    if reduce not in ("sum", "prod", "mean", "amax", "amin"):
        raise RuntimeError(
            f"scatter_reduce(): reduce must be one of sum, prod, mean, amax, amin, got {reduce!r}"
        )
    idx = _index_array(index, "scatter_reduce")
    d = _norm_dim(dim, input.ndim, "scatter_reduce")
    if not isinstance(src, Tensor) or src.dtype != input.dtype:
        raise RuntimeError(
            f"scatter_reduce(): expected src to be a tensor of dtype {input.dtype}, got {src!r:.40}"
        )
    _check_along("scatter_reduce", input.shape, d, idx, src.shape)
    if input.ndim == 0 or idx.ndim == 0 or src.ndim == 0:
        out = ScatterReduce.apply(
            input.reshape(-1), src.reshape(-1), index=idx.reshape(-1), dim=0, reduce=reduce,
            include_self=include_self,
        )  # fmt: skip
        return out.reshape(input.shape)
    return ScatterReduce.apply(
        input, src, index=idx, dim=d, reduce=reduce, include_self=include_self
    )


# ------------------------------------------------------------------ index_*


class IndexSelect(Function):
    def forward(self, x: np.ndarray, index: np.ndarray, dim: int) -> np.ndarray:
        self.shape, self.index, self.dim = x.shape, index, dim
        return np.take(x, index, axis=dim)

    def backward(self, grad: np.ndarray) -> tuple[Any]:
        g = np.zeros(self.shape, dtype=grad.dtype)
        idx = (slice(None),) * self.dim + (self.index,)
        np.add.at(g, idx, grad)
        return (g,)

    def backward_graph(self, grad: Tensor) -> tuple[Any]:
        return linear_backward_graph(self, grad, lambda g: np.take(g, self.index, axis=self.dim))


def index_select(input: Tensor, dim: int, index: Tensor) -> Tensor:  # noqa: A002
    """The entries at ``index`` (a 1-D integer tensor) along ``dim``.

    Example:
        >>> import gradfit as gf
        >>> gf.arange(6).reshape(2, 3).index_select(1, gf.tensor([2, 0])).tolist()
        [[2, 0], [5, 3]]
    """
    d = _norm_dim(dim, input.ndim, "index_select")
    if input.ndim == 0:
        idx = _select_index(index, "index_select", 1)
        if idx.size != 1:
            raise RuntimeError(
                f"index_select(): Index to scalar can have only 1 value, got {idx.size} value(s)"
            )
        return IndexSelect.apply(input.reshape(1), index=idx, dim=0).reshape(())
    idx = _select_index(index, "index_select", input.shape[d])
    return IndexSelect.apply(input, index=idx, dim=d)


class IndexPut(Function):
    """``out = x`` with rows ``index`` along ``dim`` set to (or increased by ``alpha`` times)
    ``source``."""

    def forward(
        self, x: np.ndarray, src: np.ndarray, index: np.ndarray, dim: int, alpha: Any, add: bool
    ) -> np.ndarray:
        self.index, self.dim, self.alpha, self.add = index, dim, alpha, add
        self.sl = (slice(None),) * dim + (index,)
        out = x.copy()
        if add:
            np.add.at(out, self.sl, src * alpha if alpha != 1 else src)
        else:
            out[self.sl] = src
        return out

    def backward(self, grad: np.ndarray) -> tuple[Any, Any]:
        gx = gs = None
        if self.needs_input_grad[0]:
            gx = grad
            if not self.add:
                gx = grad.copy()
                gx[self.sl] = 0
        if self.needs_input_grad[1]:
            gs = np.take(grad, self.index, axis=self.dim)
            if self.add and self.alpha != 1:
                gs = gs * grad.dtype.type(self.alpha)
        return gx, gs

    def backward_graph(self, grad: Tensor) -> tuple[Any, Any]:
        shape, dtype = grad.shape, grad.dtype

        def x_part(g: np.ndarray) -> np.ndarray:
            return g if self.add else self.backward(g)[0]  # a mask: self-adjoint

        def src_part(s: np.ndarray) -> np.ndarray:
            out = np.zeros(shape, dtype=dtype)
            if self.add:
                np.add.at(out, self.sl, s * dtype.type(self.alpha) if self.alpha != 1 else s)
            else:
                out[self.sl] = s
            return out

        return linear_backward_graph(self, grad, x_part, src_part)


def _index_put(op: str, x: Tensor, dim: int, index: Any, source: Tensor, **kw: Any) -> Tensor:
    if not isinstance(source, Tensor):
        raise TypeError(f"{op}(): source must be a Tensor, got {type(source).__name__}")
    if source.dtype != x.dtype:
        raise RuntimeError(
            f"{op}(): source dtype {source.dtype} does not match the input's {x.dtype}"
        )
    d = _norm_dim(dim, x.ndim, op)
    xs = x.reshape(1) if x.ndim == 0 else x
    idx = _select_index(index, op, xs.shape[d])
    want = xs.shape[:d] + (idx.size,) + xs.shape[d + 1 :]
    ss = source.reshape(want) if source.ndim == 0 and want == (1,) else source
    if ss.shape != want:
        raise RuntimeError(
            f"{op}(): source of shape {source.shape} does not match the expected {want} "
            f"(the input {x.shape} with {idx.size} indices in dim {dim})"
        )
    return IndexPut.apply(xs, ss, index=idx, dim=d, **kw).reshape(x.shape)


def index_add(
    input: Tensor,  # noqa: A002
    dim: int,
    index: Tensor,
    source: Tensor,
    *,
    alpha: Any = 1,
) -> Tensor:
    """A copy of ``input`` with ``alpha * source`` added to the rows ``index`` along ``dim``
    (repeated indices accumulate).

    Example:
        >>> import gradfit as gf
        >>> gf.zeros(3, 2).index_add(0, gf.tensor([0, 2, 0]), gf.ones(3, 2)).tolist()
        [[2.0, 2.0], [0.0, 0.0], [1.0, 1.0]]
    """
    return _index_put("index_add", input, dim, index, source, alpha=alpha, add=True)


def index_copy(input: Tensor, dim: int, index: Tensor, source: Tensor) -> Tensor:  # noqa: A002
    """A copy of ``input`` with the rows ``index`` along ``dim`` replaced by ``source``'s.

    Example:
        >>> import gradfit as gf
        >>> gf.zeros(3).index_copy(0, gf.tensor([2]), gf.tensor([5.0])).tolist()
        [0.0, 0.0, 5.0]
    """
    return _index_put("index_copy", input, dim, index, source, alpha=1, add=False)


def index_fill(input: Tensor, dim: int, index: Tensor, value: Any) -> Tensor:  # noqa: A002
    """A copy of ``input`` with the rows ``index`` along ``dim`` set to ``value``.

    Example:
        >>> import gradfit as gf
        >>> gf.ones(2, 3).index_fill(1, gf.tensor([0, 2]), -1.0).tolist()
        [[-1.0, 1.0, -1.0], [-1.0, 1.0, -1.0]]
    """
    d = _norm_dim(dim, input.ndim, "index_fill")
    xs = input.reshape(1) if input.ndim == 0 else input
    idx = _select_index(index, "index_fill", xs.shape[d])
    v = _value_tensor(value, input, "index_fill")
    want = xs.shape[:d] + (idx.size,) + xs.shape[d + 1 :]
    src = v.reshape(*([1] * len(want))).expand(*want)
    return IndexPut.apply(xs, src, index=idx, dim=d, alpha=1, add=False).reshape(input.shape)


# ------------------------------------------------------------------ masks


def _mask_array(mask: Any, op: str) -> np.ndarray:
    m = mask._data if isinstance(mask, Tensor) else np.asarray(mask)
    if m.dtype != np.bool_:
        raise RuntimeError(f"{op}: expected a boolean mask, got dtype {m.dtype}")
    return m


class MaskedFill(Function):
    def forward(self, x: np.ndarray, v: np.ndarray, mask: np.ndarray) -> np.ndarray:
        self.mask, self.shape = mask, x.shape
        return np.where(mask, v, x)

    def backward(self, grad: np.ndarray) -> tuple[Any, Any]:
        m = self.mask
        gx = gv = None
        if self.needs_input_grad[0]:
            gx = sum_to(np.where(m, grad.dtype.type(0), grad), self.shape)
        if self.needs_input_grad[1]:
            gv = np.asarray(np.where(m, grad, grad.dtype.type(0)).sum(), dtype=grad.dtype)
        return gx, gv

    def backward_graph(self, grad: Tensor) -> tuple[Any, Any]:
        m, shape, zero = self.mask, grad.shape, np.zeros(grad.shape, dtype=grad.dtype)
        return linear_backward_graph(
            self,
            grad,
            lambda g: np.where(m, zero, np.broadcast_to(g, shape)),
            lambda v: np.where(m, v, zero),
        )


def masked_fill(input: Tensor, mask: Tensor, value: Any) -> Tensor:  # noqa: A002
    """``input`` with ``value`` (a number or a 0-d tensor) wherever ``mask`` (bool, broadcast)
    is True.

    Example:
        >>> import gradfit as gf
        >>> x = gf.tensor([1.0, -2.0, 3.0])
        >>> x.masked_fill(x < 0, 0.0).tolist()
        [1.0, 0.0, 3.0]
    """
    m = _mask_array(mask, "masked_fill")
    v = _value_tensor(value, input, "masked_fill")
    try:
        shape = np.broadcast_shapes(input.shape, m.shape)
    except ValueError:
        raise RuntimeError(
            f"masked_fill: the mask's shape {m.shape} does not broadcast with the input's "
            f"{input.shape}"
        ) from None
    return MaskedFill.apply(input, v, mask=np.broadcast_to(m, shape))


class MaskedSelect(Function):
    def forward(self, x: np.ndarray, mask: np.ndarray) -> np.ndarray:
        self.shape, self.mask = x.shape, mask
        return np.broadcast_to(x, mask.shape)[mask]

    def backward(self, grad: np.ndarray) -> tuple[Any]:
        g = np.zeros(self.mask.shape, dtype=grad.dtype)
        g[self.mask] = grad
        return (sum_to(g, self.shape),)

    def backward_graph(self, grad: Tensor) -> tuple[Any]:
        m = self.mask
        return linear_backward_graph(self, grad, lambda g: np.broadcast_to(g, m.shape)[m])


def masked_select(input: Tensor, mask: Tensor) -> Tensor:  # noqa: A002
    """The elements of ``input`` where ``mask`` (bool, broadcast with it) is True, as 1-D.

    Example:
        >>> import gradfit as gf
        >>> x = gf.tensor([[1, 2], [3, 4]])
        >>> x.masked_select(x > 1).tolist()
        [2, 3, 4]
    """
    m = _mask_array(mask, "masked_select")
    try:
        shape = np.broadcast_shapes(input.shape, m.shape)
    except ValueError:
        raise RuntimeError(
            f"masked_select: the mask's shape {m.shape} does not broadcast with the input's "
            f"{input.shape}"
        ) from None
    return MaskedSelect.apply(input, mask=np.broadcast_to(m, shape))


class MaskedScatter(Function):
    def forward(self, x: np.ndarray, src: np.ndarray, mask: np.ndarray) -> np.ndarray:
        self.shape, self.mask, self.src_shape = x.shape, mask, src.shape
        self.n = int(mask.sum())
        out = np.array(np.broadcast_to(x, mask.shape))
        out[mask] = src.reshape(-1)[: self.n]
        return out

    def backward(self, grad: np.ndarray) -> tuple[Any, Any]:
        gx = gs = None
        if self.needs_input_grad[0]:
            gx = sum_to(np.where(self.mask, grad.dtype.type(0), grad), self.shape)
        if self.needs_input_grad[1]:
            gs = np.zeros(int(np.prod(self.src_shape)), dtype=grad.dtype)
            gs[: self.n] = grad[self.mask]
            gs = gs.reshape(self.src_shape)
        return gx, gs

    def backward_graph(self, grad: Tensor) -> tuple[Any, Any]:
        m, dtype = self.mask, grad.dtype

        def x_part(g: np.ndarray) -> np.ndarray:
            return np.where(m, dtype.type(0), np.broadcast_to(g, m.shape))

        def src_part(s: np.ndarray) -> np.ndarray:
            out = np.zeros(m.shape, dtype=dtype)
            out[m] = s.reshape(-1)[: self.n]
            return out

        return linear_backward_graph(self, grad, x_part, src_part)


def masked_scatter(input: Tensor, mask: Tensor, source: Tensor) -> Tensor:  # noqa: A002
    """``input`` with the elements where ``mask`` is True taken, in order, from ``source``.

    Example:
        >>> import gradfit as gf
        >>> x = gf.zeros(4)
        >>> x.masked_scatter(gf.tensor([True, False, True, False]), gf.tensor([1.0, 2.0])).tolist()
        [1.0, 0.0, 2.0, 0.0]
    """
    m = _mask_array(mask, "masked_scatter")
    shape = np.broadcast_shapes(input.shape, m.shape)
    mb = np.broadcast_to(m, shape)
    if source.dtype != input.dtype:
        raise RuntimeError(
            f"masked_scatter: source dtype {source.dtype} does not match the input's {input.dtype}"
        )
    if source.numel() < int(mb.sum()):
        raise RuntimeError(
            f"masked_scatter: the mask selects {int(mb.sum())} elements, source has only "
            f"{source.numel()}"
        )
    return MaskedScatter.apply(input, source, mask=mb)


# ------------------------------------------------------------------ nonzero / take


def nonzero(input: Tensor, *, as_tuple: bool = False) -> Any:  # noqa: A002
    """The indices of the non-zero elements: an (n, ndim) int64 tensor, or with
    ``as_tuple=True`` one 1-D tensor per dimension (as NumPy's ``nonzero``).

    Example:
        >>> import gradfit as gf
        >>> gf.tensor([[0, 1], [2, 0]]).nonzero().tolist()
        [[0, 1], [1, 0]]
    """
    a = input._data
    if as_tuple:
        return tuple(Tensor._wrap(i.astype(np.int64)) for i in np.nonzero(np.atleast_1d(a)))
    return Tensor._wrap(np.argwhere(a).astype(np.int64))


def argwhere(input: Tensor) -> Tensor:  # noqa: A002
    """The indices of the non-zero elements, as ``nonzero(input)``.

    Example:
        >>> import gradfit as gf
        >>> gf.argwhere(gf.tensor([0.0, 3.0, 1.0])).tolist()
        [[1], [2]]
    """
    return nonzero(input)


class Take(Function):
    def forward(self, x: np.ndarray, index: np.ndarray) -> np.ndarray:
        self.shape, self.index = x.shape, index
        return x.reshape(-1)[index]

    def backward(self, grad: np.ndarray) -> tuple[Any]:
        g = np.zeros(int(np.prod(self.shape)), dtype=grad.dtype)
        np.add.at(g, self.index, grad)
        return (g.reshape(self.shape),)

    def backward_graph(self, grad: Tensor) -> tuple[Any]:
        return linear_backward_graph(self, grad, lambda g: g.reshape(-1)[self.index])


def take(input: Tensor, index: Tensor) -> Tensor:  # noqa: A002
    """The elements of ``input`` seen as 1-D at ``index`` (negative counts from the end);
    the result has ``index``'s shape.

    Example:
        >>> import gradfit as gf
        >>> gf.tensor([[4, 3], [2, 1]]).take(gf.tensor([0, -1])).tolist()
        [4, 1]
    """
    idx = _index_array(index, "take")
    n = input.numel()
    if idx.size and (idx.min() < -n or idx.max() >= n):
        bad = idx.min() if idx.min() < -n else idx.max()
        raise IndexError(f"take(): index {bad} is out of range for a tensor of {n} elements")
    return Take.apply(input, index=np.where(idx < 0, idx + n, idx))


# ------------------------------------------------------------------ in-place forms


def _inplace_method(fn: Any, name: str) -> Any:
    """``Tensor.<name>``: ``fn``'s result written into the tensor itself (version bumped).

    Inside the graph (the tensor, a view's base or an argument requires grad) the change is
    recorded as the other in-place operations are (:mod:`gradfit.ops.inplace`): the tensor
    is rebased onto the out-of-place result, so gradients flow as in PyTorch.
    """
    from gradfit.autograd import no_grad

    def method(self: Tensor, *args: Any, **kwargs: Any) -> Tensor:
        if self._needs_record(*args, *kwargs.values()):
            return self._record(name, lambda t: fn(t, *args, **kwargs))
        self._check_inplace(name)
        with no_grad():
            out = fn(Tensor._wrap(self._data), *args, **kwargs)
        if out.shape != self.shape:
            raise RuntimeError(f"{name}: result of shape {out.shape} does not fit {self.shape}")
        self._data[...] = out._data
        self._version[0] += 1
        return self

    method.__name__ = name
    method.__doc__ = f"In-place :func:`{name[:-1]}` (recorded in the graph where needed)."
    return method


INPLACE = {
    "scatter_": scatter,
    "scatter_add_": scatter_add,
    "scatter_reduce_": scatter_reduce,
    "index_add_": index_add,
    "index_copy_": index_copy,
    # masked_fill_ and index_fill_ are Tensor's own (tensor.py), recorded as assignments
    "masked_scatter_": masked_scatter,
}


def take_along_dim(input: Tensor, indices: Tensor, dim: int | None = None) -> Tensor:  # noqa: A002
    """Values at ``indices`` along ``dim`` (broadcasting ``input`` and ``indices`` outside it),
    or in the flattened tensor when ``dim`` is None; NumPy's ``take_along_axis``.

    Example:
        >>> import gradfit as gf
        >>> x = gf.tensor([[10, 30, 20]])
        >>> gf.take_along_dim(x, x.argsort(dim=1), dim=1).tolist()
        [[10, 20, 30]]
    """
    idx = _index_array(indices, "take_along_dim")
    if dim is None:
        return take(input.reshape(-1), Tensor._wrap(idx.reshape(-1)))
    d = _norm_dim(dim, input.ndim, "take_along_dim")
    if idx.ndim != input.ndim:
        raise RuntimeError(
            f"take_along_dim(): input ({input.ndim} dims) and indices ({idx.ndim} dims) should "
            "have the same number of dimensions"
        )
    shp = list(np.broadcast_shapes(input.shape[:d] + (1,) + input.shape[d + 1 :],
                                   idx.shape[:d] + (1,) + idx.shape[d + 1 :]))  # fmt: skip
    xs, ishape = list(shp), list(shp)
    xs[d], ishape[d] = input.shape[d], idx.shape[d]
    x = input.expand(*xs) if tuple(xs) != input.shape else input
    i = np.broadcast_to(idx, ishape)
    return gather(x, d, Tensor._wrap(np.ascontiguousarray(i)))
