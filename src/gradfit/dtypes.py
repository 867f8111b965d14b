"""Dtype queries as PyTorch has them: ``gf.finfo``, ``gf.iinfo``, ``gf.get_default_dtype`` and
``gf.set_default_dtype``.

Example:
    >>> import gradfit as gf
    >>> gf.finfo(gf.float32).eps, gf.iinfo(gf.int8).max
    (1.1920928955078125e-07, 127)
"""

from __future__ import annotations

from typing import Any

import numpy as np

from gradfit import backend


class finfo:
    """Limits of a float dtype (the default dtype when none is given), as ``torch.finfo``:
    ``bits``, ``eps``, ``max``, ``min``, ``tiny`` (= ``smallest_normal``), ``resolution``.

    Example:
        >>> import gradfit as gf
        >>> gf.finfo(gf.float64).bits, gf.finfo().tiny
        (64, 1.1754943508222875e-38)
    """

    def __init__(self, type: Any = None) -> None:  # noqa: A002
        dt = backend.default_float if type is None else backend.to_dtype(type)
        if dt.kind != "f":
            raise TypeError(f"finfo: expected a floating-point dtype, got {dt} (use gf.iinfo)")
        fi = np.finfo(dt)
        self.bits = int(fi.bits)
        self.eps = float(fi.eps)
        self.max = float(fi.max)
        self.min = float(fi.min)
        self.tiny = self.smallest_normal = float(fi.smallest_normal)
        self.resolution = 10.0 ** -int(fi.precision)
        self.dtype = str(dt)

    def __repr__(self) -> str:
        return (
            f"finfo(resolution={self.resolution:g}, min={self.min:g}, max={self.max:g}, "
            f"eps={self.eps:g}, smallest_normal={self.tiny:g}, tiny={self.tiny:g}, dtype={self.dtype})"
        )


class iinfo:
    """Limits of an integer (or bool) dtype, as ``torch.iinfo``: ``bits``, ``max``, ``min``.

    Example:
        >>> import gradfit as gf
        >>> gf.iinfo(gf.uint8).min, gf.iinfo(gf.int64).max
        (0, 9223372036854775807)
    """

    def __init__(self, type: Any) -> None:  # noqa: A002
        dt = backend.to_dtype(type)
        if dt.kind not in "iub":
            raise TypeError(f"iinfo: expected an integer dtype, got {dt} (use gf.finfo)")
        if dt.kind == "b":
            self.bits, self.min, self.max = 8, 0, 1
        else:
            ii = np.iinfo(dt)
            self.bits, self.min, self.max = int(ii.bits), int(ii.min), int(ii.max)
        self.dtype = str(dt)

    def __repr__(self) -> str:
        return f"iinfo(min={self.min:g}, max={self.max:g}, dtype={self.dtype})"


def get_default_dtype() -> np.dtype:
    """The dtype of float tensors made without a dtype (float32 unless changed).

    Example:
        >>> import gradfit as gf
        >>> gf.get_default_dtype()
        dtype('float32')
    """
    return backend.default_float


def set_default_dtype(d: Any) -> None:
    """Set the dtype of float tensors made without one: float32 (default), float64 or float16.

    Example:
        >>> import gradfit as gf
        >>> gf.set_default_dtype(gf.float64); gf.tensor([1.5]).dtype
        dtype('float64')
        >>> gf.set_default_dtype(gf.float32)
    """
    dt = backend.to_dtype(d)
    if dt.kind != "f":
        raise TypeError(
            f"set_default_dtype: only floating-point types are supported as the default type, got {dt}"
        )
    backend.default_float = dt
