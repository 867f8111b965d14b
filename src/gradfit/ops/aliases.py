"""PyTorch's other names for existing operations: comparisons as functions (``gf.eq``, ...),
``mm``/``bmm`` (matmul with their stricter shape rules), ``t``, and small queries
(``gf.numel``, ``gf.is_tensor``, ``gf.is_floating_point``, ``gf.as_tensor``).

Example:
    >>> import gradfit as gf
    >>> gf.eq(gf.tensor([1, 2]), 2), gf.mm(gf.ones(2, 3), gf.ones(3, 1)).shape
    (tensor([False,  True]), (2, 1))
"""

from __future__ import annotations

from typing import Any

import numpy as np

from gradfit import backend
from gradfit.ops.linalg import matmul
from gradfit.tensor import Tensor


def _compare(ufunc: Any, name: str) -> Any:
    def op(input: Tensor, other: Any) -> Tensor:  # noqa: A002 - PyTorch's name
        if not isinstance(input, Tensor):
            raise TypeError(f"{name}: expected a Tensor as input, got {type(input).__name__}")
        o = other._data if isinstance(other, Tensor) else other
        try:
            return Tensor._wrap(np.asarray(ufunc(input._data, o)))
        except ValueError:
            raise RuntimeError(
                f"{name}: shapes {input.shape} and {np.shape(o)} cannot be broadcast together"
            ) from None

    op.__name__ = op.__qualname__ = name
    op.__doc__ = f"""Elementwise ``{name}`` comparison (a bool tensor); ``other`` may be a number.

    Example:
        >>> import gradfit as gf
        >>> gf.{name}(gf.tensor([1.0, 2.0, 3.0]), 2.0).dtype
        dtype('bool')
    """
    return op


eq = _compare(np.equal, "eq")
ne = _compare(np.not_equal, "ne")
lt = _compare(np.less, "lt")
le = _compare(np.less_equal, "le")
gt = _compare(np.greater, "gt")
ge = _compare(np.greater_equal, "ge")


def mm(input: Tensor, mat2: Tensor) -> Tensor:  # noqa: A002
    """Matrix product of two 2-D tensors (no broadcasting), as ``torch.mm``.

    Example:
        >>> import gradfit as gf
        >>> gf.mm(gf.ones(2, 3), gf.ones(3, 4)).shape
        (2, 4)
    """
    for name, t in (("self", input), ("mat2", mat2)):
        if not isinstance(t, Tensor):
            raise TypeError(f"mm: expected Tensors, got {type(t).__name__} for {name}")
        if t.ndim != 2:
            raise RuntimeError(f"mm: {name} must be a matrix (2-D), got shape {t.shape}")
    if input.shape[1] != mat2.shape[0]:
        raise RuntimeError(
            f"mm: mat1 and mat2 shapes cannot be multiplied "
            f"({input.shape[0]}x{input.shape[1]} and {mat2.shape[0]}x{mat2.shape[1]})"
        )
    _same_dtype("mm", input, mat2)
    return matmul(input, mat2)


def bmm(input: Tensor, mat2: Tensor) -> Tensor:  # noqa: A002
    """Batched matrix product of two 3-D tensors with the same batch size, as ``torch.bmm``.

    Example:
        >>> import gradfit as gf
        >>> gf.bmm(gf.ones(5, 2, 3), gf.ones(5, 3, 4)).shape
        (5, 2, 4)
    """
    for name, t in (("batch1", input), ("batch2", mat2)):
        if not isinstance(t, Tensor):
            raise TypeError(f"bmm: expected Tensors, got {type(t).__name__} for {name}")
        if t.ndim != 3:
            raise RuntimeError(f"bmm: {name} must be a 3D tensor, got shape {t.shape}")
    if input.shape[0] != mat2.shape[0] or input.shape[2] != mat2.shape[1]:
        raise RuntimeError(
            f"bmm: expected batch1 (b, n, m) and batch2 (b, m, p) with the same b and m, "
            f"got {input.shape} and {mat2.shape}"
        )
    _same_dtype("bmm", input, mat2)
    return matmul(input, mat2)


def _same_dtype(op: str, a: Tensor, b: Tensor) -> None:
    if a.dtype != b.dtype:
        raise RuntimeError(
            f"{op}: expected both tensors to have the same dtype, got {a.dtype} and {b.dtype}"
        )


def t(input: Tensor) -> Tensor:  # noqa: A002
    """Transpose a tensor of at most 2 dimensions (0-D and 1-D come back as they are).

    Example:
        >>> import gradfit as gf
        >>> gf.t(gf.ones(2, 3)).shape
        (3, 2)
    """
    if not isinstance(input, Tensor):
        raise TypeError(f"t: expected a Tensor, got {type(input).__name__}")
    if input.ndim > 2:
        raise RuntimeError(f"t() expects a tensor with <= 2 dimensions, but self is {input.ndim}D")
    if input.ndim < 2:
        return input.view(*input.shape)
    return input.transpose(0, 1)


def numel(input: Tensor) -> int:  # noqa: A002
    """Number of elements.

    Example:
        >>> import gradfit as gf
        >>> gf.numel(gf.ones(2, 3))
        6
    """
    if not isinstance(input, Tensor):
        raise TypeError(f"numel: expected a Tensor, got {type(input).__name__}")
    return int(input._data.size)


def is_tensor(obj: Any) -> bool:
    """Whether ``obj`` is a gradfit Tensor.

    Example:
        >>> import gradfit as gf
        >>> gf.is_tensor(gf.ones(1)), gf.is_tensor([1.0])
        (True, False)
    """
    return isinstance(obj, Tensor)


def is_floating_point(input: Tensor) -> bool:  # noqa: A002
    """Whether the tensor's dtype is a float type.

    Example:
        >>> import gradfit as gf
        >>> gf.is_floating_point(gf.ones(1)), gf.is_floating_point(gf.arange(2))
        (True, False)
    """
    if not isinstance(input, Tensor):
        raise TypeError(f"is_floating_point: expected a Tensor, got {type(input).__name__}")
    return input._data.dtype.kind == "f"


def as_tensor(data: Any, dtype: Any = None, device: Any = None) -> Tensor:
    """A tensor from ``data``, sharing memory with it when it already is a tensor or NumPy
    array of that dtype (else a copy), as ``torch.as_tensor``.

    Example:
        >>> import numpy as np, gradfit as gf
        >>> a = np.zeros(2, dtype=np.float32)
        >>> gf.as_tensor(a).numpy() is a, gf.as_tensor(a, dtype=gf.float64).numpy() is a
        (True, False)
    """
    from gradfit.device import check_device

    check_device(device, "as_tensor")
    dt = None if dtype is None else backend.to_dtype(dtype)
    if isinstance(data, Tensor):
        return data if dt is None or dt == data.dtype else data.astype(dt)
    same = isinstance(data, np.ndarray) and (dt is None or dt == data.dtype)
    if same and data.dtype in backend._SUPPORTED:
        return Tensor._wrap(data)
    return Tensor(data, dtype=dt)
