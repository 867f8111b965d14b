"""Tests and logic on tensors (no gradient): isnan/isinf/isfinite/isposinf/isneginf,
nan_to_num (with gradient), isclose/allclose/equal, all/any, count_nonzero, logical_*,
bitwise_*, and ``where(condition)`` with one argument.

Example:
    >>> import gradfit as gf
    >>> x = gf.tensor([1.0, float("nan")])
    >>> gf.isnan(x).tolist(), gf.any(gf.isnan(x)).item()
    ([False, True], True)
"""

from __future__ import annotations

import builtins
from typing import Any

import numpy as np

from gradfit.autograd import Function
from gradfit.ops.linear_map import linear_backward_graph
from gradfit.tensor import Tensor, _norm_dim


def _arr(x: Any) -> np.ndarray:
    return x._data if isinstance(x, Tensor) else np.asarray(x)


def _bool(a: Any) -> Tensor:
    return Tensor._wrap(np.asarray(a, dtype=np.bool_))


def isnan(input: Tensor) -> Tensor:  # noqa: A002
    """True where the element is NaN.

    Example:
        >>> import gradfit as gf
        >>> gf.isnan(gf.tensor([1.0, float("nan")])).tolist()
        [False, True]
    """
    return _bool(np.isnan(_arr(input)))


def isinf(input: Tensor) -> Tensor:  # noqa: A002
    """True where the element is +inf or -inf.

    Example:
        >>> import gradfit as gf
        >>> gf.isinf(gf.tensor([1.0, float("-inf")])).tolist()
        [False, True]
    """
    return _bool(np.isinf(_arr(input)))


def isposinf(input: Tensor) -> Tensor:  # noqa: A002
    """True where the element is +inf.

    Example:
        >>> import gradfit as gf
        >>> gf.isposinf(gf.tensor([float("inf"), float("-inf")])).tolist()
        [True, False]
    """
    return _bool(np.isposinf(_arr(input)))


def isneginf(input: Tensor) -> Tensor:  # noqa: A002
    """True where the element is -inf.

    Example:
        >>> import gradfit as gf
        >>> gf.isneginf(gf.tensor([float("inf"), float("-inf")])).tolist()
        [False, True]
    """
    return _bool(np.isneginf(_arr(input)))


def isfinite(input: Tensor) -> Tensor:  # noqa: A002
    """True where the element is neither NaN nor infinite.

    Example:
        >>> import gradfit as gf
        >>> gf.isfinite(gf.tensor([1.0, float("inf")])).tolist()
        [True, False]
    """
    return _bool(np.isfinite(_arr(input)))


class NanToNum(Function):
    def forward(self, x: np.ndarray, nan: Any, posinf: Any, neginf: Any) -> np.ndarray:
        self.keep = np.isfinite(x)
        return np.nan_to_num(x, nan=nan, posinf=posinf, neginf=neginf)

    def backward(self, grad: np.ndarray) -> tuple[Any]:
        return (np.where(self.keep, grad, grad.dtype.type(0)),)

    def backward_graph(self, grad: Tensor) -> tuple[Any]:
        return linear_backward_graph(self, grad, lambda g: self.backward(g)[0])  # self-adjoint


def nan_to_num(
    input: Tensor,  # noqa: A002
    nan: float = 0.0,
    posinf: float | None = None,
    neginf: float | None = None,
) -> Tensor:
    """Replace NaN by ``nan`` and +-inf by ``posinf``/``neginf`` (default: the dtype's largest
    and smallest finite values); the gradient is zero at the replaced elements.

    Example:
        >>> import gradfit as gf
        >>> gf.nan_to_num(gf.tensor([float("nan"), 2.0]), nan=-1.0).tolist()
        [-1.0, 2.0]
    """
    if input._data.dtype.kind != "f":
        return input.clone()
    fi = np.finfo(input._data.dtype)
    return NanToNum.apply(
        input,
        nan=nan,
        posinf=fi.max if posinf is None else posinf,
        neginf=fi.min if neginf is None else neginf,
    )


def isclose(
    input: Tensor,  # noqa: A002
    other: Tensor,
    rtol: float = 1e-05,
    atol: float = 1e-08,
    equal_nan: bool = False,
) -> Tensor:
    """True where ``|input - other| <= atol + rtol * |other|`` (elementwise, broadcast).

    Example:
        >>> import gradfit as gf
        >>> gf.isclose(gf.tensor([1.0, 2.0]), gf.tensor([1.0 + 1e-9, 2.1])).tolist()
        [True, False]
    """
    a, b = _arr(input), _arr(other)
    if isinstance(other, Tensor) and a.dtype != b.dtype:
        raise RuntimeError(
            f"isclose(): expected both tensors to have the same dtype, got {a.dtype} and {b.dtype}"
        )
    return _bool(np.isclose(a, b, rtol=rtol, atol=atol, equal_nan=equal_nan))


def allclose(
    input: Tensor,  # noqa: A002
    other: Tensor,
    rtol: float = 1e-05,
    atol: float = 1e-08,
    equal_nan: bool = False,
) -> bool:
    """Whether every element pair is close (see :func:`isclose`); a Python bool.

    Example:
        >>> import gradfit as gf
        >>> gf.allclose(gf.ones(3), gf.ones(3) + 1e-9)
        True
    """
    return builtins.bool(isclose(input, other, rtol, atol, equal_nan)._data.all())


def equal(input: Tensor, other: Tensor) -> bool:  # noqa: A002
    """Whether both tensors have the same shape and elements; a Python bool.

    Example:
        >>> import gradfit as gf
        >>> gf.equal(gf.tensor([1, 2]), gf.tensor([1, 2])), gf.equal(gf.ones(2), gf.ones(3))
        (True, False)
    """
    a, b = _arr(input), _arr(other)
    return a.shape == b.shape and builtins.bool((a == b).all())


def _reduce_bool(op: str, ufunc: Any, input: Tensor, dim: Any, keepdim: bool) -> Tensor:  # noqa: A002
    a = _arr(input)
    if dim is None:
        axis = None
    else:
        dims = (dim,) if isinstance(dim, int) else tuple(dim)
        axis = tuple(_norm_dim(d, a.ndim, op) for d in dims) if a.ndim else None
    res = ufunc(a, axis=axis, keepdims=keepdim and a.ndim > 0)
    dt = np.uint8 if a.dtype == np.uint8 else np.bool_  # PyTorch keeps uint8
    return Tensor._wrap(np.asarray(res, dtype=dt))


def all(input: Tensor, dim: Any = None, keepdim: bool = False) -> Tensor:  # noqa: A001, A002
    """Whether all elements (along ``dim``, an int or a tuple) are non-zero.

    Example:
        >>> import gradfit as gf
        >>> gf.all(gf.tensor([[True, False], [True, True]]), dim=1).tolist()
        [False, True]
    """
    return _reduce_bool("all", np.all, input, dim, keepdim)


def any(input: Tensor, dim: Any = None, keepdim: bool = False) -> Tensor:  # noqa: A001, A002
    """Whether any element (along ``dim``, an int or a tuple) is non-zero.

    Example:
        >>> import gradfit as gf
        >>> gf.any(gf.tensor([[0, 0], [0, 3]]), dim=0).tolist()
        [False, True]
    """
    return _reduce_bool("any", np.any, input, dim, keepdim)


def count_nonzero(input: Tensor, dim: Any = None) -> Tensor:  # noqa: A002
    """The number of non-zero elements (along ``dim``, an int or a tuple), as int64.

    Example:
        >>> import gradfit as gf
        >>> gf.count_nonzero(gf.tensor([[0, 1], [2, 3]]), dim=1).tolist()
        [1, 2]
    """
    a = _arr(input)
    if dim is None:
        axis = None
    else:
        dims = (dim,) if isinstance(dim, int) else tuple(dim)
        axis = tuple(_norm_dim(d, a.ndim, "count_nonzero") for d in dims)
    return Tensor._wrap(np.asarray(np.count_nonzero(a, axis=axis), dtype=np.int64))


def _logical(name: str, ufunc: Any) -> Any:
    def fn(input: Tensor, other: Tensor) -> Tensor:  # noqa: A002
        try:
            return _bool(ufunc(_arr(input) != 0, _arr(other) != 0))
        except ValueError:
            raise RuntimeError(
                f"{name}(): shapes {np.shape(_arr(input))} and {np.shape(_arr(other))} cannot "
                "be broadcast together"
            ) from None

    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = (
        f"Elementwise {name.split('_')[1].upper()} of the truth values (non-zero is True).\n\n"
        "Example:\n    >>> import gradfit as gf\n"
        f"    >>> gf.{name}(gf.tensor([True, False]), gf.tensor([True, True])).dtype\n"
        "    dtype('bool')\n"
    )
    return fn


logical_and = _logical("logical_and", np.logical_and)
logical_or = _logical("logical_or", np.logical_or)
logical_xor = _logical("logical_xor", np.logical_xor)


def logical_not(input: Tensor) -> Tensor:  # noqa: A002
    """Elementwise NOT of the truth values (zero is False).

    Example:
        >>> import gradfit as gf
        >>> gf.logical_not(gf.tensor([0, 2])).tolist()
        [True, False]
    """
    return _bool(_arr(input) == 0)


def _bitwise(name: str, ufunc: Any) -> Any:
    def fn(input: Tensor, other: Any) -> Tensor:  # noqa: A002
        a, b = _arr(input), _arr(other)
        if a.dtype.kind not in "biu" or b.dtype.kind not in "biu":
            raise RuntimeError(
                f"{name}(): expected bool or integer tensors, got {a.dtype}, {b.dtype}"
            )
        res = np.asarray(ufunc(a, b))
        if not isinstance(other, Tensor):
            res = res.astype(a.dtype)
        return Tensor._wrap(res)

    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = (
        f"Elementwise bitwise {name.split('_')[1].upper()} of bool or integer tensors.\n\n"
        "Example:\n    >>> import gradfit as gf\n"
        f"    >>> gf.{name}(gf.tensor([12]), gf.tensor([10])).shape\n"
        "    (1,)\n"
    )
    return fn


bitwise_and = _bitwise("bitwise_and", np.bitwise_and)
bitwise_or = _bitwise("bitwise_or", np.bitwise_or)
bitwise_xor = _bitwise("bitwise_xor", np.bitwise_xor)


def bitwise_not(input: Tensor) -> Tensor:  # noqa: A002
    """Elementwise bitwise NOT (logical NOT for bool tensors).

    Example:
        >>> import gradfit as gf
        >>> gf.bitwise_not(gf.tensor([0, 5])).tolist()
        [-1, -6]
    """
    a = _arr(input)
    if a.dtype.kind not in "biu":
        raise RuntimeError(f"bitwise_not(): expected a bool or integer tensor, got {a.dtype}")
    return Tensor._wrap(np.asarray(np.invert(a)))


def where(condition: Any, input: Any = None, other: Any = None) -> Any:  # noqa: A002
    """``where(condition, input, other)`` picks from ``input`` where ``condition`` holds, from
    ``other`` elsewhere; ``where(condition)`` is ``nonzero(condition, as_tuple=True)``.

    Example:
        >>> import gradfit as gf
        >>> gf.where(gf.tensor([0, 3, 4]) > 2)[0].tolist()
        [1, 2]
    """
    from gradfit.ops.arithmetic import where as where3

    if input is None and other is None:
        a = np.atleast_1d(_arr(condition))
        return tuple(Tensor._wrap(i.astype(np.int64)) for i in np.nonzero(a))
    if input is None or other is None:
        raise TypeError("where(): expected where(condition) or where(condition, input, other)")
    return where3(condition, input, other)
