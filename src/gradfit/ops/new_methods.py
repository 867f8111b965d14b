"""``Tensor.new_zeros/new_ones/new_full/new_empty/new_tensor``: new tensors that take this
tensor's dtype (and device: always the CPU here) unless told otherwise.

Example:
    >>> import gradfit as gf
    >>> x = gf.zeros(2, dtype=gf.float64)
    >>> x.new_ones(3).dtype, x.new_tensor([1, 2]).dtype
    (dtype('float64'), dtype('float64'))
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from gradfit.tensor import Tensor


def _size(size: Sequence[Any]) -> tuple[int, ...]:
    if len(size) == 1 and isinstance(size[0], (tuple, list)):
        size = tuple(size[0])
    if len(size) == 1 and isinstance(size[0], Tensor):
        size = tuple(int(s) for s in size[0].tolist())
    out = tuple(int(s) for s in size)
    for s in out:
        if s < 0:
            raise RuntimeError(f"new tensor: negative dimension {s} in size {out}")
    return out


def _dtype(self: Tensor, dtype: Any) -> np.dtype:
    from gradfit.backend import to_dtype

    return self._data.dtype if dtype is None else to_dtype(dtype)


def _device(device: Any, op: str) -> None:
    if device is None:
        return
    name = str(getattr(device, "type", device)).split(":")[0]
    if name != "cpu":
        raise RuntimeError(f"{op}: gradfit runs on the CPU only, got device={device!r}")


def _finish(arr: np.ndarray, requires_grad: bool) -> Tensor:
    t = Tensor._wrap(arr)
    if requires_grad:
        t.requires_grad_(True)
    return t


def new_full(
    self: Tensor,
    size: Sequence[int],
    fill_value: Any,
    *,
    dtype: Any = None,
    device: Any = None,
    requires_grad: bool = False,
) -> Tensor:
    """A tensor of ``size`` filled with ``fill_value``, of this tensor's dtype by default.

    Example:
        >>> import gradfit as gf
        >>> gf.ones(1).new_full((2,), 7.0).tolist()
        [7.0, 7.0]
    """
    _device(device, "new_full")
    return _finish(np.full(_size((size,)), fill_value, dtype=_dtype(self, dtype)), requires_grad)


def new_zeros(
    self: Tensor, *size: Any, dtype: Any = None, device: Any = None, requires_grad: bool = False
) -> Tensor:
    """Zeros of ``size``, of this tensor's dtype by default.

    Example:
        >>> import gradfit as gf
        >>> gf.ones(1, dtype=gf.int64).new_zeros(2, 2).tolist()
        [[0, 0], [0, 0]]
    """
    _device(device, "new_zeros")
    return _finish(np.zeros(_size(size), dtype=_dtype(self, dtype)), requires_grad)


def new_ones(
    self: Tensor, *size: Any, dtype: Any = None, device: Any = None, requires_grad: bool = False
) -> Tensor:
    """Ones of ``size``, of this tensor's dtype by default.

    Example:
        >>> import gradfit as gf
        >>> gf.zeros(1).new_ones((2,)).tolist()
        [1.0, 1.0]
    """
    _device(device, "new_ones")
    return _finish(np.ones(_size(size), dtype=_dtype(self, dtype)), requires_grad)


def new_empty(
    self: Tensor, *size: Any, dtype: Any = None, device: Any = None, requires_grad: bool = False
) -> Tensor:
    """An uninitialised tensor of ``size`` (zeros here), of this tensor's dtype by default.

    Example:
        >>> import gradfit as gf
        >>> gf.zeros(1).new_empty(3).shape
        (3,)
    """
    _device(device, "new_empty")
    return _finish(np.zeros(_size(size), dtype=_dtype(self, dtype)), requires_grad)


def new_tensor(
    self: Tensor, data: Any, *, dtype: Any = None, device: Any = None, requires_grad: bool = False
) -> Tensor:
    """A new tensor holding a copy of ``data``, of this tensor's dtype by default (as PyTorch,
    whatever the data's own type).

    Example:
        >>> import gradfit as gf
        >>> gf.zeros(1).new_tensor([1, 2]).tolist()
        [1.0, 2.0]
    """
    _device(device, "new_tensor")
    arr = data._data if isinstance(data, Tensor) else data
    return _finish(np.array(arr, dtype=_dtype(self, dtype)), requires_grad)
