"""Making tensors: from data, filled with constants, ranges, and random samples.

Random tensors draw from gradfit's one seeded generator (``gf.manual_seed``).
Floats are float32 unless a dtype is given.

Example:
    >>> import gradfit as gf
    >>> gf.zeros(2, 3).shape, gf.arange(3), gf.eye(2).dtype
    ((2, 3), tensor([0, 1, 2]), dtype('float32'))
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from gradfit import backend
from gradfit.device import check_device
from gradfit.random import rng_of
from gradfit.tensor import Tensor


def _shape(size: Sequence[Any]) -> tuple[int, ...]:
    if len(size) == 1 and isinstance(size[0], (tuple, list)):
        size = size[0]
    out = []
    for s in size:
        if not isinstance(s, (int, np.integer)) or isinstance(s, bool) or s < 0:
            raise ValueError(f"size must be non-negative integers, got {tuple(size)}")
        out.append(int(s))
    return tuple(out)


def _float_dtype(dtype: Any) -> np.dtype:
    return backend.default_float if dtype is None else backend.to_dtype(dtype)


def _make(arr: np.ndarray, requires_grad: bool) -> Tensor:
    t = Tensor._wrap(arr)
    if requires_grad:
        t.requires_grad_(True)
    return t


def tensor(data: Any, dtype: Any = None, requires_grad: bool = False, device: Any = None) -> Tensor:
    """A new tensor holding a copy of ``data`` (float32 for floats, int64 for ints).

    Example:
        >>> import gradfit as gf
        >>> gf.tensor([[1, 2], [3, 4]], dtype="float64", requires_grad=True).dtype
        dtype('float64')
    """
    check_device(device, "tensor")
    return Tensor(data, dtype=dtype, requires_grad=requires_grad)


def zeros(*size: Any, dtype: Any = None, requires_grad: bool = False, device: Any = None) -> Tensor:
    """A tensor of zeros.

    Example:
        >>> import gradfit as gf
        >>> gf.zeros(2)
        tensor([0., 0.])
    """
    check_device(device, "zeros")
    return _make(np.zeros(_shape(size), dtype=_float_dtype(dtype)), requires_grad)


def ones(*size: Any, dtype: Any = None, requires_grad: bool = False, device: Any = None) -> Tensor:
    """A tensor of ones.

    Example:
        >>> import gradfit as gf
        >>> gf.ones(2, dtype="int64")
        tensor([1, 1])
    """
    check_device(device, "ones")
    return _make(np.ones(_shape(size), dtype=_float_dtype(dtype)), requires_grad)


def full(
    size: Sequence[int],
    fill_value: Any,
    dtype: Any = None,
    requires_grad: bool = False,
    device: Any = None,
) -> Tensor:
    """A tensor filled with ``fill_value`` (its dtype follows the value unless given).

    Example:
        >>> import gradfit as gf
        >>> gf.full((2,), 7)
        tensor([7, 7])
    """
    check_device(device, "full")
    if dtype is None:
        dt = Tensor(fill_value).dtype
    else:
        dt = backend.to_dtype(dtype)
    return _make(
        np.full(_shape((size,)), fill_value, dtype=dt),
        requires_grad,
    )


def empty(*size: Any, dtype: Any = None, requires_grad: bool = False, device: Any = None) -> Tensor:
    """An uninitialised tensor (its values are whatever memory held).

    Example:
        >>> import gradfit as gf
        >>> gf.empty(3).shape
        (3,)
    """
    check_device(device, "empty")
    return _make(np.empty(_shape(size), dtype=_float_dtype(dtype)), requires_grad)


def zeros_like(
    t: Tensor, dtype: Any = None, requires_grad: bool = False, device: Any = None
) -> Tensor:
    """Zeros with the shape (and dtype) of ``t``.

    Example:
        >>> import gradfit as gf
        >>> gf.zeros_like(gf.ones(2, 2)).shape
        (2, 2)
    """
    check_device(device, "zeros_like")
    dt = t.dtype if dtype is None else backend.to_dtype(dtype)
    return _make(np.zeros(t.shape, dtype=dt), requires_grad)


def ones_like(
    t: Tensor, dtype: Any = None, requires_grad: bool = False, device: Any = None
) -> Tensor:
    """Ones with the shape (and dtype) of ``t``.

    Example:
        >>> import gradfit as gf
        >>> gf.ones_like(gf.zeros(2))
        tensor([1., 1.])
    """
    check_device(device, "ones_like")
    dt = t.dtype if dtype is None else backend.to_dtype(dtype)
    return _make(np.ones(t.shape, dtype=dt), requires_grad)


def full_like(
    t: Tensor,
    fill_value: Any,
    dtype: Any = None,
    requires_grad: bool = False,
    device: Any = None,
) -> Tensor:
    """``fill_value`` everywhere, with the shape (and dtype) of ``t``.

    Example:
        >>> import gradfit as gf
        >>> gf.full_like(gf.zeros(2), 3)
        tensor([3., 3.])
    """
    check_device(device, "full_like")
    dt = t.dtype if dtype is None else backend.to_dtype(dtype)
    return _make(np.full(t.shape, fill_value, dtype=dt), requires_grad)


def arange(
    start: float,
    end: float | None = None,
    step: float = 1,
    dtype: Any = None,
    requires_grad: bool = False,
    device: Any = None,
) -> Tensor:
    """Values from ``start`` to ``end`` (exclusive) by ``step``; int64 for ints, else float32.

    Example:
        >>> import gradfit as gf
        >>> gf.arange(1, 2, 0.5)
        tensor([1. , 1.5])
    """
    check_device(device, "arange")
    if end is None:
        start, end = 0, start
    if step == 0:
        raise ValueError("arange: step must not be zero")
    if dtype is None:
        is_int = all(isinstance(v, (int, np.integer)) for v in (start, end, step))
        dt = backend.default_int if is_int else backend.default_float
    else:
        dt = backend.to_dtype(dtype)
    return _make(np.arange(start, end, step).astype(dt), requires_grad)


def linspace(
    start: float,
    end: float,
    steps: int,
    dtype: Any = None,
    requires_grad: bool = False,
    device: Any = None,
) -> Tensor:
    """``steps`` evenly spaced values from ``start`` to ``end`` inclusive.

    Example:
        >>> import gradfit as gf
        >>> gf.linspace(0, 1, 3)
        tensor([0. , 0.5, 1. ])
    """
    check_device(device, "linspace")
    if steps < 0:
        raise ValueError(f"linspace: steps must be non-negative, got {steps}")
    return _make(np.linspace(start, end, steps).astype(_float_dtype(dtype)), requires_grad)


def eye(
    n: int,
    m: int | None = None,
    dtype: Any = None,
    requires_grad: bool = False,
    device: Any = None,
) -> Tensor:
    """The identity matrix (``n`` by ``m``).

    Example:
        >>> import gradfit as gf
        >>> gf.eye(2)
        tensor([[1., 0.],
                [0., 1.]])
    """
    check_device(device, "eye")
    return _make(np.eye(n, m, dtype=_float_dtype(dtype)), requires_grad)


def rand(
    *size: Any,
    generator: Any = None,
    dtype: Any = None,
    requires_grad: bool = False,
    device: Any = None,
) -> Tensor:
    """Uniform samples in [0, 1) from gradfit's generator.

    Example:
        >>> import gradfit as gf
        >>> bool(((gf.rand(100) >= 0) & (gf.rand(100) < 1)).all())
        True
    """
    check_device(device, "rand")
    dt = _float_dtype(dtype)
    return _make(rng_of(generator).random(_shape(size), dtype=np.float64).astype(dt), requires_grad)


def randn(
    *size: Any,
    generator: Any = None,
    dtype: Any = None,
    requires_grad: bool = False,
    device: Any = None,
) -> Tensor:
    """Standard normal samples from gradfit's generator.

    Example:
        >>> import gradfit as gf
        >>> gf.randn(2, 3).shape
        (2, 3)
    """
    check_device(device, "randn")
    dt = _float_dtype(dtype)
    return _make(rng_of(generator).standard_normal(_shape(size)).astype(dt), requires_grad)


def randint(
    low: int,
    high: int | None = None,
    size: Sequence[int] = (),
    generator: Any = None,
    dtype: Any = None,
    requires_grad: bool = False,
    device: Any = None,
) -> Tensor:
    """Random integers in [low, high) (``randint(high, size=...)`` means low = 0).

    Example:
        >>> import gradfit as gf
        >>> int(gf.randint(0, 10, (5,)).max()) < 10
        True
    """
    check_device(device, "randint")
    if isinstance(high, (tuple, list)):  # randint(high, size), as PyTorch
        low, high, size = 0, low, high
    if high is None:
        low, high = 0, low
    if high <= low:
        raise ValueError(f"randint: high ({high}) must be greater than low ({low})")
    dt = backend.default_int if dtype is None else backend.to_dtype(dtype)
    shp = _shape((size,) if isinstance(size, int) else (tuple(size),))
    return _make(rng_of(generator).integers(low, high, shp).astype(dt), requires_grad)


def rand_like(
    t: Tensor,
    dtype: Any = None,
    requires_grad: bool = False,
    device: Any = None,
    generator: Any = None,
) -> Tensor:
    """Uniform samples with the shape of ``t``.

    Example:
        >>> import gradfit as gf
        >>> gf.rand_like(gf.zeros(2, 2)).shape
        (2, 2)
    """
    check_device(device, "rand_like")
    dt = t.dtype if dtype is None else dtype
    return rand(*t.shape, generator=generator, dtype=dt, requires_grad=requires_grad)


def randn_like(
    t: Tensor,
    dtype: Any = None,
    requires_grad: bool = False,
    device: Any = None,
    generator: Any = None,
) -> Tensor:
    """Standard normal samples with the shape of ``t``.

    Example:
        >>> import gradfit as gf
        >>> gf.randn_like(gf.zeros(2, 2)).shape
        (2, 2)
    """
    check_device(device, "randn_like")
    dt = t.dtype if dtype is None else dtype
    return randn(*t.shape, generator=generator, dtype=dt, requires_grad=requires_grad)


def from_numpy(arr: np.ndarray) -> Tensor:
    """A tensor sharing memory with a NumPy array (no copy, its dtype kept).

    Example:
        >>> import numpy as np, gradfit as gf
        >>> gf.from_numpy(np.zeros(2)).dtype
        dtype('float64')
    """
    if not isinstance(arr, np.ndarray):
        raise TypeError(f"from_numpy: expected a NumPy array, got {type(arr).__name__}")
    backend.to_dtype(arr.dtype)
    return Tensor._wrap(arr)
