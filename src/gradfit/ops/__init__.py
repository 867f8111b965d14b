"""Differentiable operations, one family per module, and the Tensor methods that call them.

Example:
    >>> import gradfit as gf
    >>> x = gf.tensor([1.0, 2.0], requires_grad=True)
    >>> (2 - x).exp().sum().backward()
    >>> x.grad.shape
    (2,)
"""

from __future__ import annotations

from typing import Any

import numpy as np

from gradfit.ops.aliases import (
    as_tensor,
    bmm,
    eq,
    ge,
    gt,
    is_floating_point,
    is_tensor,
    le,
    lt,
    mm,
    ne,
    numel,
    t,
)
from gradfit.ops.arithmetic import (
    Add,
    AddScalar,
    Mul,
    MulScalar,
    Neg,
    Sub,
    add,
    clamp,
    clip,
    div,
    maximum,
    minimum,
    mul,
    neg,
    pow,
    sub,
    where,
)
from gradfit.ops.linalg import matmul
from gradfit.ops.reduce import (
    amax,
    amin,
    argmax,
    argmin,
    logsumexp,
    max,
    mean,
    min,
    norm,
    prod,
    std,
    sum,
    var,
)
from gradfit.ops.shape import (
    broadcast_to,
    cat,
    chunk,
    concatenate,
    expand,
    flatten,
    flip,
    getitem,
    pad,
    permute,
    repeat,
    reshape,
    split,
    squeeze,
    stack,
    transpose,
    unsqueeze,
    view,
)
from gradfit.ops.softmax import log_softmax, softmax
from gradfit.ops.unary import (
    abs,
    cos,
    elu,
    exp,
    gelu,
    leaky_relu,
    log,
    log1p,
    relu,
    sigmoid,
    sign,
    silu,
    sin,
    softplus,
    sqrt,
    tanh,
)
from gradfit.tensor import Tensor, as_tensor_like, tensors_of

__all__ = [
    "abs", "add", "amax", "amin", "argmax", "argmin", "as_tensor", "bmm", "broadcast_to", "cat",
    "chunk", "clamp", "clip", "concatenate", "cos", "div", "elu", "eq", "exp", "expand", "flatten",
    "flip", "ge", "gelu", "getitem", "gt", "is_floating_point", "is_tensor", "le", "leaky_relu",
    "log", "log1p", "log_softmax", "logsumexp", "lt", "matmul", "max", "maximum", "mean", "min",
    "minimum", "mm", "mul", "ne", "neg", "norm", "numel", "pad", "permute", "pow", "prod", "relu",
    "repeat", "reshape", "sigmoid", "sign", "silu", "sin", "softmax", "softplus", "split", "sqrt",
    "squeeze", "stack", "std", "sub", "sum", "t", "tanh", "transpose", "unsqueeze", "var", "view",
    "where",
]  # fmt: skip


def _binary_method(fn_cls: Any, scalar_cls: Any, negate: bool = False) -> Any:
    """``Tensor.__add__``-style method: the common cases (same dtype, Python number) go
    straight to the op; anything else is promoted like PyTorch first."""

    def method(a: Tensor, b: Any) -> Tensor:
        if isinstance(b, Tensor):
            if b._data.dtype == a._data.dtype:
                return fn_cls.apply(a, b)
            return fn_cls.apply(*tensors_of(a, b))
        tb = type(b)
        if (tb is float or tb is int) and a._data.dtype.kind == "f":
            # Python numbers are "weak" in NumPy 2: float32 stays float32
            return scalar_cls.apply(a, c=-b if negate else b)
        return fn_cls.apply(*tensors_of(a, as_tensor_like(b, a)))

    return method


def _cmp(ufunc: Any) -> Any:
    def op(self: Tensor, other: Any) -> Tensor:
        o = other._data if isinstance(other, Tensor) else other
        try:
            return Tensor._wrap(np.asarray(ufunc(self._data, o)))
        except ValueError:
            raise ValueError(
                f"comparison: shapes {self.shape} and {np.shape(o)} cannot be broadcast together"
            ) from None

    return op


def _logical(ufunc: Any, name: str) -> Any:
    def op(self: Tensor, other: Any) -> Tensor:
        o = other._data if isinstance(other, Tensor) else other
        if self._data.dtype.kind not in "biu" or np.asarray(o).dtype.kind not in "biu":
            raise TypeError(f"{name}: expected bool or integer tensors, got {self.dtype}")
        return Tensor._wrap(np.asarray(ufunc(self._data, o)))

    return op


def _install_methods() -> None:
    T = Tensor
    T.__add__ = T.__radd__ = _binary_method(Add, AddScalar)
    T.__sub__ = _binary_method(Sub, AddScalar, negate=True)
    T.__rsub__ = lambda a, b: sub(b, a)
    T.__mul__ = T.__rmul__ = _binary_method(Mul, MulScalar)
    T.__truediv__ = lambda a, b: div(a, b)
    T.__rtruediv__ = lambda a, b: div(b, a)
    T.__neg__ = lambda a: Neg.apply(a)
    T.__pos__ = lambda a: a
    T.__pow__ = lambda a, b: pow(a, b)
    T.__rpow__ = lambda a, b: pow(b, a)
    T.__matmul__ = lambda a, b: matmul(a, b)
    T.__rmatmul__ = lambda a, b: matmul(b, a)
    T.__abs__ = lambda a: abs(a)
    T.__getitem__ = getitem
    T.__lt__ = _cmp(np.less)
    T.__le__ = _cmp(np.less_equal)
    T.__gt__ = _cmp(np.greater)
    T.__ge__ = _cmp(np.greater_equal)
    T.__eq__ = _cmp(np.equal)  # type: ignore[assignment]
    T.__ne__ = _cmp(np.not_equal)  # type: ignore[assignment]
    T.__and__ = _logical(np.bitwise_and, "&")
    T.__or__ = _logical(np.bitwise_or, "|")
    T.__xor__ = _logical(np.bitwise_xor, "^")
    T.__invert__ = lambda a: Tensor._wrap(np.asarray(np.invert(a._data)))
    T.__hash__ = object.__hash__  # identity (C-level: fast dict keys); __eq__ is elementwise

    for name in (
        "add", "sub", "mul", "div", "pow", "matmul", "maximum", "minimum", "clamp", "clip",
        "exp", "log", "log1p", "sqrt", "abs", "sign", "sin", "cos", "tanh", "sigmoid", "relu",
        "leaky_relu", "elu", "gelu", "silu", "softplus",
        "sum", "mean", "prod", "max", "min", "amax", "amin", "argmax", "argmin", "var", "std",
        "norm", "logsumexp", "softmax", "log_softmax",
        "reshape", "view", "permute", "transpose", "flatten", "squeeze", "unsqueeze", "expand",
        "repeat", "split", "chunk", "flip",
    ):  # fmt: skip
        setattr(T, name, globals()[name])
    T.neg = neg
    T.negative = neg
    T.broadcast_to = broadcast_to
    T.expand_as = lambda a, b: expand(a, *b.shape)
    T.reshape_as = lambda a, b: reshape(a, *b.shape)
    T.view_as = T.reshape_as
    T.any = lambda a, dim=None, keepdim=False: Tensor._wrap(
        np.asarray(a._data.any(axis=dim, keepdims=keepdim))
    )
    T.all = lambda a, dim=None, keepdim=False: Tensor._wrap(
        np.asarray(a._data.all(axis=dim, keepdims=keepdim))
    )
    T.square = lambda a: pow(a, 2)
    T.rsqrt = lambda a: pow(a, -0.5)
    T.reciprocal = lambda a: div(1.0, a)
    # torch-parity aliases (ops/aliases.py)
    for name in ("eq", "ne", "lt", "le", "gt", "ge", "mm", "bmm", "t"):
        setattr(T, name, globals()[name])
    T.greater, T.greater_equal, T.less, T.less_equal, T.not_equal = gt, ge, lt, le, ne


_install_methods()

# --- indexing by index tensors and masks (ops/indexing.py)
from gradfit.ops import indexing as _indexing  # noqa: E402
from gradfit.ops.indexing import (  # noqa: E402
    argwhere,
    gather,
    index_add,
    index_copy,
    index_fill,
    index_select,
    masked_fill,
    masked_scatter,
    masked_select,
    nonzero,
    scatter,
    scatter_add,
    scatter_reduce,
    take,
    take_along_dim,
)

__all__ += [
    "argwhere", "gather", "index_add", "index_copy", "index_fill", "index_select", "masked_fill",
    "masked_scatter", "masked_select", "nonzero", "scatter", "scatter_add", "scatter_reduce", "take",
    "take_along_dim",
]  # fmt: skip
for _name in (
    "argwhere", "gather", "index_add", "index_copy", "index_fill", "index_select", "masked_fill",
    "masked_scatter", "masked_select", "nonzero", "scatter", "scatter_add", "scatter_reduce", "take",
    "take_along_dim",
):  # fmt: skip
    setattr(Tensor, _name, globals()[_name])
for _name, _fn in _indexing.INPLACE.items():
    setattr(Tensor, _name, _indexing._inplace_method(_fn, _name))

# --- structure ops (ops/structure.py)
from gradfit.ops.structure import (  # noqa: E402
    diag,
    diag_embed,
    diagonal,
    fliplr,
    flipud,
    meshgrid,
    moveaxis,
    movedim,
    narrow,
    repeat_interleave,
    roll,
    rot90,
    swapaxes,
    swapdims,
    tile,
    trace,
    tril,
    triu,
    unbind,
)

__all__ += [
    "diag", "diag_embed", "diagonal", "fliplr", "flipud", "meshgrid", "moveaxis", "movedim",
    "narrow", "repeat_interleave", "roll", "rot90", "swapaxes", "swapdims", "tile", "trace",
    "tril", "triu", "unbind",
]  # fmt: skip
for _name in (
    "diag", "diag_embed", "diagonal", "fliplr", "flipud", "moveaxis", "movedim", "narrow",
    "repeat_interleave", "roll", "rot90", "swapaxes", "swapdims", "tile", "trace", "tril", "triu",
    "unbind",
):  # fmt: skip
    setattr(Tensor, _name, globals()[_name])

# --- einsum and the BLAS-style products (ops/products.py)
from gradfit.ops.products import addmm, addmv, baddbmm, dot, einsum, ger, mv, outer  # noqa: E402

__all__ += ["addmm", "addmv", "baddbmm", "dot", "einsum", "ger", "mv", "outer"]
for _name in ("addmm", "addmv", "baddbmm", "dot", "ger", "mv", "outer"):
    setattr(Tensor, _name, globals()[_name])

# --- sorting and selection (ops/sorting.py)
from gradfit.ops.sorting import (  # noqa: E402
    argsort,
    bincount,
    kthvalue,
    median,
    mode,
    sort,
    topk,
    unique,
)

__all__ += ["argsort", "bincount", "kthvalue", "median", "mode", "sort", "topk", "unique"]
for _name in ("argsort", "bincount", "kthvalue", "median", "mode", "sort", "topk", "unique"):
    setattr(Tensor, _name, globals()[_name])

# --- cumulative ops (ops/cumulative.py)
from gradfit.ops.cumulative import cummax, cummin, cumprod, cumsum, logcumsumexp  # noqa: E402

__all__ += ["cummax", "cummin", "cumprod", "cumsum", "logcumsumexp"]
for _name in ("cummax", "cummin", "cumprod", "cumsum", "logcumsumexp"):
    setattr(Tensor, _name, globals()[_name])

# --- more elementwise functions (ops/elementwise_extra.py)
from gradfit.ops.elementwise_extra import (  # noqa: E402
    acos,
    acosh,
    arccos,
    arccosh,
    arcsin,
    arcsinh,
    arctan,
    arctan2,
    arctanh,
    asin,
    asinh,
    atan,
    atan2,
    atanh,
    ceil,
    cosh,
    erf,
    erfc,
    erfinv,
    exp2,
    expm1,
    fix,
    floor,
    fmod,
    frac,
    hypot,
    lerp,
    log2,
    log10,
    remainder,
    round,
    sinh,
    tan,
    trunc,
)

_EXTRA = [
    "acos", "acosh", "arccos", "arccosh", "arcsin", "arcsinh", "arctan", "arctan2", "arctanh",
    "asin", "asinh", "atan", "atan2", "atanh", "ceil", "cosh", "erf", "erfc", "erfinv", "exp2",
    "expm1", "fix", "floor", "fmod", "frac", "hypot", "lerp", "log2", "log10", "remainder",
    "round", "sinh", "tan", "trunc",
]  # fmt: skip
__all__ += [
    "acos", "acosh", "arccos", "arccosh", "arcsin", "arcsinh", "arctan", "arctan2", "arctanh",
    "asin", "asinh", "atan", "atan2", "atanh", "ceil", "cosh", "erf", "erfc", "erfinv", "exp2",
    "expm1", "fix", "floor", "fmod", "frac", "hypot", "lerp", "log2", "log10", "remainder",
    "round", "sinh", "tan", "trunc",
]  # fmt: skip
for _name in _EXTRA:
    setattr(Tensor, _name, globals()[_name])
Tensor.__mod__ = lambda a, b: remainder(a, b)
Tensor.__rmod__ = lambda a, b: remainder(b, a)
Tensor.__round__ = lambda a, ndigits=None: (
    round(a) if ndigits is None else round(a, decimals=ndigits)
)

# --- tests and logic (ops/logic.py); gf.where also takes one argument
from gradfit.ops.logic import (  # noqa: E402
    all,
    allclose,
    any,
    bitwise_and,
    bitwise_not,
    bitwise_or,
    bitwise_xor,
    count_nonzero,
    equal,
    isclose,
    isfinite,
    isinf,
    isnan,
    isneginf,
    isposinf,
    logical_and,
    logical_not,
    logical_or,
    logical_xor,
    nan_to_num,
    where,  # noqa: F811 - also where(condition)
)

_LOGIC = [
    "all", "allclose", "any", "bitwise_and", "bitwise_not", "bitwise_or", "bitwise_xor",
    "count_nonzero", "equal", "isclose", "isfinite", "isinf", "isnan", "isneginf", "isposinf",
    "logical_and", "logical_not", "logical_or", "logical_xor", "nan_to_num",
]  # fmt: skip
__all__ += [
    "all", "allclose", "any", "bitwise_and", "bitwise_not", "bitwise_or", "bitwise_xor",
    "count_nonzero", "equal", "isclose", "isfinite", "isinf", "isnan", "isneginf", "isposinf",
    "logical_and", "logical_not", "logical_or", "logical_xor", "nan_to_num",
]  # fmt: skip
for _name in _LOGIC:
    setattr(Tensor, _name, globals()[_name])
Tensor.where = lambda a, condition, y: where(condition, a, y)

# --- Tensor.new_zeros/new_ones/new_full/new_empty/new_tensor (ops/new_methods.py)
from gradfit.ops import new_methods as _new_methods  # noqa: E402

for _name in ("new_empty", "new_full", "new_ones", "new_tensor", "new_zeros"):
    setattr(Tensor, _name, getattr(_new_methods, _name))

# --- pairwise distances and cross products (ops/pairwise.py), paired statistics (ops/stats.py)
from gradfit.ops.pairwise import cdist, cross  # noqa: E402
from gradfit.ops.stats import histc, std_mean, var_mean  # noqa: E402

__all__ += ["cdist", "cross", "histc", "std_mean", "var_mean"]
for _name in ("cross", "histc"):
    setattr(Tensor, _name, globals()[_name])

# --- compositions and small elementwise ops (ops/elementwise_extra.py, second part)
from gradfit.ops.elementwise_extra import (  # noqa: E402
    addcdiv,
    addcmul,
    clamp_max,
    clamp_min,
    copysign,
    deg2rad,
    fmax,
    fmin,
    logaddexp,
    logaddexp2,
    logit,
    rad2deg,
    reciprocal,
    rsqrt,
    sgn,
    signbit,
    square,
    xlogy,
)

__all__ += [
    "addcdiv", "addcmul", "clamp_max", "clamp_min", "copysign", "deg2rad", "fmax", "fmin",
    "logaddexp", "logaddexp2", "logit", "rad2deg", "reciprocal", "rsqrt", "sgn", "signbit",
    "square", "xlogy",
]  # fmt: skip
for _name in (
    "addcdiv", "addcmul", "clamp_max", "clamp_min", "copysign", "deg2rad", "fmax", "fmin",
    "logaddexp", "logaddexp2", "logit", "rad2deg", "sgn", "signbit", "xlogy",
):  # fmt: skip
    setattr(Tensor, _name, globals()[_name])

# --- more structure, products, search, statistics and distances (second part of each file)
from gradfit.ops.pairwise import dist, pdist  # noqa: E402
from gradfit.ops.products import kron, tensordot  # noqa: E402
from gradfit.ops.sorting import bucketize, searchsorted  # noqa: E402
from gradfit.ops.stats import aminmax, nanmean, nansum  # noqa: E402
from gradfit.ops.structure import (  # noqa: E402
    atleast_1d,
    atleast_2d,
    atleast_3d,
    block_diag,
    cartesian_prod,
    column_stack,
    diff,
    dstack,
    hstack,
    ravel,
    row_stack,
    select,
    unflatten,
    vstack,
)

__all__ += [
    "aminmax", "atleast_1d", "atleast_2d", "atleast_3d", "block_diag", "bucketize",
    "cartesian_prod", "column_stack", "diff", "dist", "dstack", "hstack", "kron", "nanmean",
    "nansum", "pdist", "ravel", "row_stack", "searchsorted", "select", "tensordot", "unflatten",
    "vstack",
]  # fmt: skip
for _name in (
    "aminmax", "diff", "dist", "kron", "nanmean", "nansum", "ravel", "select", "unflatten",
):  # fmt: skip
    setattr(Tensor, _name, globals()[_name])
