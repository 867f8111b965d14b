"""Reductions: sum, mean, prod, max/min (amax/amin), argmax/argmin, var, std, norm, logsumexp.

All take ``dim`` (an int, a tuple of ints, or None for every dimension; ``axis``
is accepted as NumPy's name for it) and ``keepdim``.

Example:
    >>> import gradfit as gf
    >>> x = gf.tensor([[1.0, 2.0], [3.0, 4.0]])
    >>> x.mean(dim=0)
    tensor([2., 3.])
    >>> x.sum(dim=-1, keepdim=True).shape
    (2, 1)
"""

from __future__ import annotations

import builtins
from collections import namedtuple
from typing import Any

import numpy as np

from gradfit.autograd import Function
from gradfit.tensor import Tensor

Dim = int | tuple[int, ...] | list[int] | None

#: What ``max(dim)`` / ``min(dim)`` return, as in PyTorch.
MaxResult = namedtuple("MaxResult", ["values", "indices"])


def normalize_dims(dim: Dim, ndim: int, op: str) -> tuple[int, ...] | None:
    """Turn ``dim`` into a sorted tuple of non-negative axes (None or (): all), checking the range.

    Example:
        >>> normalize_dims(-1, 3, "sum")
        (2,)
    """
    if dim is None:
        return None
    dims = (dim,) if isinstance(dim, (int, np.integer)) else tuple(dim)
    if not dims:  # dim=() means every dimension, as in PyTorch
        return None
    n = builtins.max(ndim, 1)
    out = []
    for d in dims:
        if not isinstance(d, (int, np.integer)) or isinstance(d, bool):
            raise TypeError(f"{op}: dim must be an int or a tuple of ints, got {dim!r}")
        if not -n <= d < n:
            raise IndexError(
                f"{op}: dim {d} is out of range for a tensor with {ndim} dimensions "
                f"(expected {-n} to {n - 1})"
            )
        out.append(int(d) % n)
    if len(set(out)) != len(out):
        raise ValueError(f"{op}: dim {dim!r} names a dimension twice")
    if ndim == 0:
        return None
    return tuple(sorted(out))


def _keep_arg(keepdim: bool, keepdims: bool | None) -> bool:
    """``keepdims=`` is PyTorch's (and NumPy's) alias of ``keepdim=``."""
    return keepdim if keepdims is None else bool(keepdims)


def _dim_arg(dim: Dim, axis: Dim) -> Dim:
    if axis is not None:
        if dim is not None:
            raise TypeError("give dim or axis, not both")
        return axis
    return dim


def _kept_shape(shape: tuple[int, ...], axes: tuple[int, ...] | None) -> tuple[int, ...]:
    if axes is None:
        return (1,) * len(shape)
    return tuple(1 if i in axes else n for i, n in enumerate(shape))


def _keep_or_drop(out: np.ndarray, axes: Any, keepdim: bool) -> np.ndarray:
    """A reduction computed with keepdims=True, with the reduced axes dropped unless ``keepdim``."""
    if keepdim:
        return out
    return out.reshape([n for i, n in enumerate(out.shape) if not (axes is None or i in axes)])


#: Below this many elements the backward of sum/mean writes its gradient into a new array
#: (``np.empty`` and one assignment: a tenth of ``np.broadcast_to``'s cost on small shapes);
#: from it on, it returns a read-only broadcast view, which costs no memory however large.
_MATERIALIZE_BELOW = 4096


def _expand_grad(grad: np.ndarray, shape: tuple[int, ...], axes: Any, size: int) -> np.ndarray:
    """The gradient of a sum over ``axes`` of an input of ``shape`` (``size`` elements).

    Every element of the input gets the gradient of the sum it went into. Small results are
    new writeable arrays; large ones broadcast views (read-only, a few bytes whatever their
    size): what consumes a gradient copies before it writes (see ``autograd._accumulate_leaf``).
    """
    if axes is not None and grad.ndim != len(shape):  # keepdim=False: put the axes back
        grad = grad.reshape(_kept_shape(shape, axes))
    if size >= _MATERIALIZE_BELOW:
        return np.broadcast_to(grad, shape)
    out = np.empty(shape, grad.dtype)
    out[...] = grad
    return out


def _expand_grad_t(grad: Tensor, shape: tuple[int, ...], axes: Any) -> Tensor:
    """:func:`_expand_grad` with Tensor ops (for a double backward)."""
    if axes is not None and grad.ndim != len(shape):
        grad = grad.reshape(_kept_shape(shape, axes))
    elif axes is None:
        grad = grad.reshape((1,) * len(shape))
    return grad.expand(shape)


def _check_nonempty(shape: tuple[int, ...], axes: Any, op: str) -> None:
    """Max/min of an empty tensor: defined over non-empty dims only, as in PyTorch."""
    if axes is None:
        raise ValueError(
            f"{op}: cannot reduce all of an empty tensor of shape {shape} (there is no maximum "
            "or minimum of nothing); give dim, a dimension of non-zero size"
        )
    for a in axes:
        if shape[a] == 0:
            raise IndexError(
                f"{op}: cannot reduce over dimension {a} of shape {shape}: it has size 0 "
                "(there is no maximum or minimum of nothing)"
            )


class Sum(Function):
    def forward(self, x: np.ndarray, axes: Any, keepdim: bool) -> np.ndarray:
        self.shape, self.axes, self.size = x.shape, axes, x.size
        return x.sum(axis=axes, keepdims=keepdim)

    def backward(self, grad: np.ndarray) -> tuple[Any]:
        return (_expand_grad(grad, self.shape, self.axes, self.size),)

    def backward_graph(self, grad: Tensor) -> tuple[Any]:
        return (_expand_grad_t(grad, self.shape, self.axes),)


class Mean(Function):
    def forward(self, x: np.ndarray, axes: Any, keepdim: bool) -> np.ndarray:
        self.shape, self.axes, self.size = x.shape, axes, x.size
        self.count = x.size if axes is None else int(np.prod([x.shape[a] for a in axes]))
        if self.count == 0:  # the mean of nothing is NaN (as PyTorch), without NumPy's warning
            return x.sum(axis=axes, keepdims=keepdim) * x.dtype.type(np.nan)
        return x.mean(axis=axes, keepdims=keepdim)

    def backward(self, grad: np.ndarray) -> tuple[Any]:
        g = grad / grad.dtype.type(self.count) if self.count else grad
        return (_expand_grad(g, self.shape, self.axes, self.size),)

    def backward_graph(self, grad: Tensor) -> tuple[Any]:
        g = grad / float(self.count) if self.count else grad
        return (_expand_grad_t(g, self.shape, self.axes),)


class Prod(Function):
    """Product over one axis or all; the gradient is exact where inputs contain zeros."""

    def forward(self, x: np.ndarray, axis: int | None, keepdim: bool) -> np.ndarray:
        self.saved = (x,)
        self.axis, self.keepdim = axis, keepdim
        return x.prod(axis=axis, keepdims=keepdim)

    def backward(self, grad: np.ndarray) -> tuple[Any]:
        (x,) = self.saved
        if x.size == 0:  # no element, no gradient (an empty tensor of the input's shape)
            return (np.zeros(x.shape, dtype=grad.dtype),)
        axis = self.axis
        xs = x.reshape(-1) if axis is None else np.moveaxis(x, axis, -1)
        ones = np.ones(xs.shape[:-1] + (1,), dtype=x.dtype)
        left = np.concatenate([ones, np.cumprod(xs[..., :-1], axis=-1)], axis=-1)
        right = np.cumprod(xs[..., ::-1], axis=-1)[..., ::-1]
        right = np.concatenate([right[..., 1:], ones], axis=-1)
        others = left * right  # product of every element but this one
        if axis is None:
            return ((grad.reshape(()) * others).reshape(x.shape),)
        g = grad if self.keepdim else np.expand_dims(grad, axis)
        return (np.moveaxis(others, -1, axis) * g,)

    def backward_graph(self, grad: Tensor) -> tuple[Any]:
        (x,) = self.saved
        if x.size == 0:
            return (grad.sum() * Tensor._wrap(np.zeros(x.shape, dtype=grad.dtype)),)
        axis = self.axis
        xt = self.input_tensor(0, x)
        if axis is None:
            grad = grad.reshape(())
        elif not self.keepdim:
            grad = grad.unsqueeze(axis)
        if (x == 0).any():
            return (_others_product(xt, axis, "Prod") * grad,)
        # the product of every element but this one: out / x
        out = self.output_tensor(x.prod(axis=axis, keepdims=self.keepdim))
        if axis is None:
            out = out.reshape(())
        elif not self.keepdim:
            out = out.unsqueeze(axis)
        return (out / xt * grad,)


def _others_product(x: Tensor, axis: int | None, op: str) -> Tensor:
    """The product of all elements but each one along ``axis`` (all if None), on Tensors, exact
    with zeros: row i of an (n, n) copy has its own element replaced by 1 (n^2 memory)."""
    from gradfit.ops.arithmetic import Where

    xs = x.reshape(-1) if axis is None else x.movedim(axis, -1)
    n = xs.shape[-1]
    if x.numel() * n > 1 << 24:
        raise NotImplementedError(
            f"double backward is not implemented for {op} with zeros in an input of shape "
            f"{x.shape}: it takes {n} times the input's memory"
        )
    one = Tensor._wrap(np.ones((), dtype=x.dtype))
    others = Where.apply(one, xs.unsqueeze(-2), cond=np.eye(n, dtype=bool)).prod(-1)
    return others.reshape(x.shape) if axis is None else others.movedim(-1, axis)


class AMax(Function):
    """Max (or min) over axes; ties share the gradient equally, as PyTorch's amax."""

    def forward(self, x: np.ndarray, axes: Any, keepdim: bool, is_min: bool) -> np.ndarray:
        if x.size == 0:
            _check_nonempty(x.shape, axes, "amin" if is_min else "amax")
        out = x.min(axis=axes, keepdims=True) if is_min else x.max(axis=axes, keepdims=True)
        self.saved = (x, out)
        self.axes = axes
        return _keep_or_drop(out, axes, keepdim)

    def backward(self, grad: np.ndarray) -> tuple[Any]:
        x, out = self.saved
        mask = x == out
        count = mask.sum(axis=self.axes, keepdims=True).astype(grad.dtype)
        return (mask * (grad.reshape(out.shape) / count),)

    def backward_graph(self, grad: Tensor) -> tuple[Any]:
        x, out = self.saved
        mask = x == out
        w = mask / mask.sum(axis=self.axes, keepdims=True).astype(grad.dtype)
        return (grad.reshape(out.shape) * Tensor._wrap(w.astype(grad.dtype)),)


class MaxDim(Function):
    """Max or min along one dim, returning the values; the gradient goes to the picked index."""

    def forward(self, x: np.ndarray, dim: int, keepdim: bool, is_min: bool) -> np.ndarray:
        if x.shape[dim] == 0:
            _check_nonempty(x.shape, (dim,), "min" if is_min else "max")
        idx = np.expand_dims((x.argmin if is_min else x.argmax)(axis=dim), dim)
        self.saved = (idx,)
        self.shape, self.dim, self.keepdim = x.shape, dim, keepdim
        out = np.take_along_axis(x, idx, axis=dim)
        return out if keepdim else out.squeeze(dim)

    def backward(self, grad: np.ndarray) -> tuple[Any]:
        g = np.zeros(self.shape, dtype=grad.dtype)
        gk = grad if self.keepdim else np.expand_dims(grad, self.dim)
        np.put_along_axis(g, self.saved[0], gk, axis=self.dim)
        return (g,)

    def backward_graph(self, grad: Tensor) -> tuple[Any]:
        from gradfit.ops.arithmetic import Where

        mask = np.zeros(self.shape, dtype=bool)
        np.put_along_axis(mask, self.saved[0], True, axis=self.dim)
        gk = grad if self.keepdim else grad.unsqueeze(self.dim)
        return (Where.apply(gk, Tensor._wrap(np.zeros((), grad.dtype)), cond=mask),)


class Var(Function):
    def forward(self, x: np.ndarray, axes: Any, correction: float, keepdim: bool) -> np.ndarray:
        n = x.size if axes is None else int(np.prod([x.shape[a] for a in axes]))
        if n == 0:  # NaN, as PyTorch, without NumPy's "mean of empty slice" warning
            mean = x.sum(axis=axes, keepdims=True) * x.dtype.type(np.nan)
        else:
            mean = x.mean(axis=axes, keepdims=True)
        centered = x - mean
        denom = x.dtype.type(builtins.max(n - correction, 0))
        with np.errstate(divide="ignore", invalid="ignore"):
            out = (centered * centered).sum(axis=axes, keepdims=keepdim) / denom
        self.saved = (centered,)
        self.axes, self.denom = axes, denom
        return out

    def backward(self, grad: np.ndarray) -> tuple[Any]:
        (c,) = self.saved
        g = grad.reshape(_kept_shape(c.shape, self.axes))
        with np.errstate(divide="ignore", invalid="ignore"):
            return (c * (g * (c.dtype.type(2) / self.denom)),)

    def backward_graph(self, grad: Tensor) -> tuple[Any]:
        # Centering is linear and idempotent, so re-centering the saved centered values on the
        # input's node gives the same values with the graph of x - mean(x).
        (c,) = self.saved
        ct = self.input_tensor(0, c)
        ct = ct - ct.mean(dim=self.axes, keepdim=True)
        g = grad.reshape(_kept_shape(c.shape, self.axes))
        return (ct * (g * (2.0 / float(self.denom))),)


class Std(Var):
    """Standard deviation; where it is 0 the gradient is 0 (as in PyTorch), not NaN."""

    def forward(self, x: np.ndarray, axes: Any, correction: float, keepdim: bool) -> np.ndarray:
        out = np.sqrt(super().forward(x, axes, correction, True))
        self.saved = (*self.saved, out)
        return _keep_or_drop(out, axes, keepdim)

    def backward(self, grad: np.ndarray) -> tuple[Any]:
        c, out = self.saved
        safe = np.where(out == 0, np.inf, out).astype(out.dtype)
        g = grad.reshape(out.shape) / (safe * self.denom)
        return (c * g,)

    def backward_graph(self, grad: Tensor) -> tuple[Any]:
        c, out = self.saved
        ct = self.input_tensor(0, c)
        ct = ct - ct.mean(dim=self.axes, keepdim=True)  # see Var.backward_graph
        ot = self.output_tensor(out.reshape(self.out_meta[0])).reshape(out.shape)
        return (ct * (grad.reshape(out.shape) / (ot * float(self.denom))),)


class Norm2(Function):
    """Euclidean norm; the gradient at the zero vector is 0 (a subgradient), as in PyTorch."""

    def forward(self, x: np.ndarray, axes: Any, keepdim: bool) -> np.ndarray:
        out = np.sqrt((x * x).sum(axis=axes, keepdims=True))
        self.saved = (x, out)
        return _keep_or_drop(out, axes, keepdim)

    def backward(self, grad: np.ndarray) -> tuple[Any]:
        x, out = self.saved
        safe = np.where(out == 0, out.dtype.type(1), out)
        return (x * (grad.reshape(out.shape) / safe),)

    def backward_graph(self, grad: Tensor) -> tuple[Any]:
        x, out = self.saved
        ot = self.output_tensor(out.reshape(self.out_meta[0])).reshape(out.shape)
        return (self.input_tensor(0, x) * (grad.reshape(out.shape) / ot),)


class NormP(Function):
    """p-norm (sum |x|^p)^(1/p) for p > 0; the gradient is 0 at the zero vector, as PyTorch."""

    def forward(self, x: np.ndarray, p: float, axes: Any, keepdim: bool) -> np.ndarray:
        t = x.dtype.type
        out = (np.abs(x) ** t(p)).sum(axis=axes, keepdims=True) ** t(1 / p)
        self.saved = (x, out)
        self.p = p
        return _keep_or_drop(out, axes, keepdim)

    def backward(self, grad: np.ndarray) -> tuple[Any]:
        x, out = self.saved
        t = x.dtype.type
        with np.errstate(divide="ignore", invalid="ignore"):
            g = np.sign(x) * np.abs(x) ** t(self.p - 1) * out ** t(1 - self.p)
        g = np.where((out == 0) | (x == 0), t(0), g)
        return (g * grad.reshape(out.shape),)

    def backward_graph(self, grad: Tensor) -> tuple[Any]:
        from gradfit.ops.arithmetic import Where

        x, out = self.saved
        p = self.p
        zero = (out == 0) | (x == 0)
        one = Tensor._wrap(np.ones((), dtype=grad.dtype))
        # the masked places get 1 (not 0) inside the powers: no inf there in the next backward
        xt = Where.apply(one, self.input_tensor(0, x), cond=zero)
        ot = self.output_tensor(out.reshape(self.out_meta[0])).reshape(out.shape)
        ot = Where.apply(one, ot, cond=out == 0)
        g = xt.sign() * xt.abs() ** (p - 1) * ot ** (1 - p)
        return (Where.apply(one * 0.0, g, cond=zero) * grad.reshape(out.shape),)


class LogSumExp(Function):
    """log(sum(exp(x))) computed around the maximum: no overflow for logits of any size."""

    def forward(self, x: np.ndarray, axes: Any, keepdim: bool) -> np.ndarray:
        m = x.max(axis=axes, keepdims=True, initial=-np.inf)  # over nothing: log(0) = -inf
        m = np.where(np.isfinite(m), m, x.dtype.type(0))
        with np.errstate(divide="ignore"):
            out = np.log(np.exp(x - m).sum(axis=axes, keepdims=True)) + m
        self.saved = (x, out)
        return _keep_or_drop(out, axes, keepdim)

    def backward(self, grad: np.ndarray) -> tuple[Any]:
        x, out = self.saved
        with np.errstate(invalid="ignore"):
            return (np.exp(x - out) * grad.reshape(out.shape),)

    def backward_graph(self, grad: Tensor) -> tuple[Any]:
        x, out = self.saved
        ot = self.output_tensor(out.reshape(self.out_meta[0])).reshape(out.shape)
        return ((self.input_tensor(0, x) - ot).exp() * grad.reshape(out.shape),)


# ------------------------------------------------------------------ functional API


def _float(x: Tensor) -> Tensor:
    return x if x._data.dtype.kind == "f" else x.float()


def sum(  # noqa: A001
    x: Tensor,
    dim: Dim = None,
    keepdim: bool = False,
    *,
    axis: Dim = None,
    keepdims: bool | None = None,
) -> Tensor:
    """Sum over ``dim`` (all dimensions by default).

    Example:
        >>> import gradfit as gf
        >>> gf.sum(gf.ones(2, 3), dim=1)
        tensor([3., 3.])
    """
    dim, keepdim = _dim_arg(dim, axis), _keep_arg(keepdim, keepdims)
    axes = normalize_dims(dim, x.ndim, "sum")
    if x._data.dtype.kind == "b":
        x = x.long()
    return Sum.apply(x, axes=axes, keepdim=keepdim)


def mean(
    x: Tensor,
    dim: Dim = None,
    keepdim: bool = False,
    *,
    axis: Dim = None,
    keepdims: bool | None = None,
) -> Tensor:
    """Mean over ``dim`` (all dimensions by default); float tensors only, as in PyTorch.

    Example:
        >>> import gradfit as gf
        >>> gf.mean(gf.tensor([1.0, 2.0, 6.0]))
        tensor(3.)
    """
    dim, keepdim = _dim_arg(dim, axis), _keep_arg(keepdim, keepdims)
    axes = normalize_dims(dim, x.ndim, "mean")
    if x._data.dtype.kind != "f":
        raise TypeError(
            f"mean: expected a floating-point tensor, got {x.dtype}; use x.float().mean()"
        )
    return Mean.apply(x, axes=axes, keepdim=keepdim)


def prod(
    x: Tensor,
    dim: int | None = None,
    keepdim: bool = False,
    *,
    axis: Dim = None,
    keepdims: bool | None = None,
) -> Tensor:
    """Product over one dimension or all of them.

    Example:
        >>> import gradfit as gf
        >>> gf.prod(gf.tensor([2.0, 3.0, 4.0]))
        tensor(24.)
    """
    dim, keepdim = _dim_arg(dim, axis), _keep_arg(keepdim, keepdims)
    axes = normalize_dims(dim, x.ndim, "prod")
    return Prod.apply(x, axis=None if axes is None else axes[0], keepdim=keepdim)


def amax(
    x: Tensor,
    dim: Dim = None,
    keepdim: bool = False,
    *,
    axis: Dim = None,
    keepdims: bool | None = None,
) -> Tensor:
    """Maximum over ``dim``; tied maxima share the gradient equally.

    Example:
        >>> import gradfit as gf
        >>> gf.amax(gf.tensor([[1.0, 5.0], [7.0, 2.0]]), dim=1)
        tensor([5., 7.])
    """
    dim, keepdim = _dim_arg(dim, axis), _keep_arg(keepdim, keepdims)
    axes = normalize_dims(dim, x.ndim, "amax")
    return AMax.apply(x, axes=axes, keepdim=keepdim, is_min=False)


def amin(
    x: Tensor,
    dim: Dim = None,
    keepdim: bool = False,
    *,
    axis: Dim = None,
    keepdims: bool | None = None,
) -> Tensor:
    """Minimum over ``dim``; tied minima share the gradient equally.

    Example:
        >>> import gradfit as gf
        >>> gf.amin(gf.tensor([[1.0, 5.0], [7.0, 2.0]]), dim=1)
        tensor([1., 2.])
    """
    dim, keepdim = _dim_arg(dim, axis), _keep_arg(keepdim, keepdims)
    axes = normalize_dims(dim, x.ndim, "amin")
    return AMax.apply(x, axes=axes, keepdim=keepdim, is_min=True)


def _max_or_min(x: Tensor, dim: Any, keepdim: bool, is_min: bool) -> Any:
    name = "min" if is_min else "max"
    if isinstance(dim, Tensor):
        from gradfit.ops.arithmetic import maximum, minimum

        return minimum(x, dim) if is_min else maximum(x, dim)
    if dim is None:
        if x._data.size == 0:
            _check_nonempty(x.shape, None, name)
        return AMax.apply(x, axes=None, keepdim=False, is_min=is_min)
    if not isinstance(dim, (int, np.integer)):
        raise TypeError(f"{name}: dim must be an int (use amax/amin for several dims)")
    (d,) = normalize_dims(dim, x.ndim, name) or (0,)
    if x.ndim == 0:
        return MaxResult(x.clone(), Tensor._wrap(np.zeros((), dtype=np.int64)))
    values = MaxDim.apply(x, dim=d, keepdim=keepdim, is_min=is_min)
    indices = (x._data.argmin if is_min else x._data.argmax)(axis=d)
    if keepdim:
        indices = np.expand_dims(indices, d)
    return MaxResult(values, Tensor._wrap(np.asarray(indices, dtype=np.int64)))


def max(  # noqa: A001
    x: Tensor,
    dim: Any = None,
    keepdim: bool = False,
    *,
    axis: Dim = None,
    keepdims: bool | None = None,
) -> Any:
    """The maximum of all elements, or ``(values, indices)`` along ``dim``, as in PyTorch.

    Example:
        >>> import gradfit as gf
        >>> x = gf.tensor([[1.0, 5.0], [7.0, 2.0]])
        >>> gf.max(x)
        tensor(7.)
        >>> gf.max(x, dim=1).indices
        tensor([1, 0])
    """
    dim, keepdim = _dim_arg(dim, axis), _keep_arg(keepdim, keepdims)
    return _max_or_min(x, dim, keepdim, is_min=False)


def min(  # noqa: A001
    x: Tensor,
    dim: Any = None,
    keepdim: bool = False,
    *,
    axis: Dim = None,
    keepdims: bool | None = None,
) -> Any:
    """The minimum of all elements, or ``(values, indices)`` along ``dim``.

    Example:
        >>> import gradfit as gf
        >>> gf.min(gf.tensor([3.0, -1.0]))
        tensor(-1.)
    """
    dim, keepdim = _dim_arg(dim, axis), _keep_arg(keepdim, keepdims)
    return _max_or_min(x, dim, keepdim, is_min=True)


def argmax(
    x: Tensor,
    dim: int | None = None,
    keepdim: bool = False,
    *,
    axis: Dim = None,
    keepdims: bool | None = None,
) -> Tensor:
    """Index of the maximum (of the flattened tensor when ``dim`` is None).

    Example:
        >>> import gradfit as gf
        >>> gf.argmax(gf.tensor([[1.0, 5.0], [7.0, 2.0]]), dim=1)
        tensor([1, 0])
    """
    dim, keepdim = _dim_arg(dim, axis), _keep_arg(keepdim, keepdims)
    return _arg(x, dim, keepdim, "argmax")


def argmin(
    x: Tensor,
    dim: int | None = None,
    keepdim: bool = False,
    *,
    axis: Dim = None,
    keepdims: bool | None = None,
) -> Tensor:
    """Index of the minimum (of the flattened tensor when ``dim`` is None).

    Example:
        >>> import gradfit as gf
        >>> gf.argmin(gf.tensor([3.0, -1.0]))
        tensor(1)
    """
    dim, keepdim = _dim_arg(dim, axis), _keep_arg(keepdim, keepdims)
    return _arg(x, dim, keepdim, "argmin")


def _arg(x: Tensor, dim: int | None, keepdim: bool, op: str) -> Tensor:
    fn = x._data.argmax if op == "argmax" else x._data.argmin
    if x._data.size == 0:
        _check_nonempty(x.shape, None if dim is None else normalize_dims(dim, x.ndim, op), op)
    if dim is None:
        out = np.asarray(fn())
        if keepdim:
            out = out.reshape((1,) * x.ndim)
    else:
        (d,) = normalize_dims(dim, x.ndim, op) or (0,)
        out = np.asarray(fn(axis=d, keepdims=keepdim)) if x.ndim else np.asarray(0)
    return Tensor._wrap(out.astype(np.int64))


def var(
    x: Tensor,
    dim: Dim = None,
    unbiased: bool | None = None,
    keepdim: bool = False,
    *,
    correction: float | None = None,
    axis: Dim = None,
    keepdims: bool | None = None,
) -> Tensor:
    """Variance over ``dim`` with Bessel's correction by default (``correction=1``), as PyTorch.

    Example:
        >>> import gradfit as gf
        >>> gf.var(gf.tensor([1.0, 2.0, 3.0, 4.0]))
        tensor(1.6667)
    """
    dim, keepdim = _dim_arg(dim, axis), _keep_arg(keepdim, keepdims)
    corr = _correction(unbiased, correction)
    axes = normalize_dims(dim, x.ndim, "var")
    return Var.apply(_float(x), axes=axes, correction=corr, keepdim=keepdim)


def std(
    x: Tensor,
    dim: Dim = None,
    unbiased: bool | None = None,
    keepdim: bool = False,
    *,
    correction: float | None = None,
    axis: Dim = None,
    keepdims: bool | None = None,
) -> Tensor:
    """Standard deviation: the square root of :func:`var`.

    Example:
        >>> import gradfit as gf
        >>> gf.std(gf.tensor([1.0, 3.0]))
        tensor(1.4142)
    """
    dim, keepdim = _dim_arg(dim, axis), _keep_arg(keepdim, keepdims)
    corr = _correction(unbiased, correction)
    axes = normalize_dims(dim, x.ndim, "std")
    return Std.apply(_float(x), axes=axes, correction=corr, keepdim=keepdim)


def _correction(unbiased: bool | None, correction: float | None) -> float:
    if unbiased is not None and correction is not None:
        raise TypeError("var/std: give unbiased or correction, not both")
    if correction is not None:
        return float(correction)
    return 1.0 if unbiased is None or unbiased else 0.0


def norm(x: Tensor, p: Any = 2, dim: Dim = None, keepdim: bool = False) -> Tensor:
    """Vector p-norm over ``dim`` (all elements by default): p = 2 ('fro'), 1, inf, or any p > 0.

    Example:
        >>> import gradfit as gf
        >>> gf.norm(gf.tensor([3.0, 4.0]))
        tensor(5.)
    """
    axes = normalize_dims(dim, x.ndim, "norm")
    x = _float(x)
    if p in (2, "fro"):
        return Norm2.apply(x, axes=axes, keepdim=keepdim)
    from gradfit.ops.unary import abs as _abs

    if p == 1:
        return Sum.apply(_abs(x), axes=axes, keepdim=keepdim)
    if p == float("inf"):
        if x._data.size == 0:  # the largest |x| of nothing: PyTorch refuses it too
            _check_nonempty(x.shape, axes, "norm(p=inf)")
        return AMax.apply(_abs(x), axes=axes, keepdim=keepdim, is_min=False)
    if not isinstance(p, (int, float)) or p <= 0:
        raise ValueError(f"norm: p must be a positive number, 'fro' or inf, got {p!r}")
    return NormP.apply(x, p=float(p), axes=axes, keepdim=keepdim)


def logsumexp(
    x: Tensor,
    dim: Dim = None,
    keepdim: bool = False,
    *,
    axis: Dim = None,
    keepdims: bool | None = None,
) -> Tensor:
    """log(sum(exp(x))) over ``dim``, stable for inputs of any magnitude.

    Example:
        >>> import gradfit as gf
        >>> gf.logsumexp(gf.tensor([1e4, 1e4]), dim=0)
        tensor(10000.693)
    """
    dim, keepdim = _dim_arg(dim, axis), _keep_arg(keepdim, keepdims)
    axes = normalize_dims(dim, x.ndim, "logsumexp")
    return LogSumExp.apply(_float(x), axes=axes, keepdim=keepdim)
