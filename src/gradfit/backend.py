"""The one place that names the array library and the default dtypes.

Every other module imports ``xp`` from here instead of importing NumPy under
its own name for array maths, so that a second backend (CuPy) can be added in
one file. Dtype rules that PyTorch users expect also live here.

Example:
    >>> from gradfit.backend import xp, default_float
    >>> xp.zeros(2, dtype=default_float).dtype
    dtype('float32')
"""

from __future__ import annotations

from typing import Any

import numpy as np

xp = np
ndarray = np.ndarray

#: The dtype of every float tensor made without an explicit dtype.
default_float = np.dtype(np.float32)
#: The dtype of integer tensors made from Python ints (PyTorch's ``torch.long``).
default_int = np.dtype(np.int64)

float32 = np.dtype(np.float32)
float64 = np.dtype(np.float64)
float16 = np.dtype(np.float16)
int8 = np.dtype(np.int8)
int16 = np.dtype(np.int16)
int32 = np.dtype(np.int32)
int64 = np.dtype(np.int64)
uint8 = np.dtype(np.uint8)
bool_ = np.dtype(np.bool_)

_SUPPORTED = {float16, float32, float64, int8, int16, int32, int64, uint8, bool_}
_NAMES = {
    "float": float32,
    "float32": float32,
    "float64": float64,
    "double": float64,
    "half": float16,
    "float16": float16,
    "int": int32,
    "int8": int8,
    "int16": int16,
    "int32": int32,
    "int64": int64,
    "long": int64,
    "uint8": uint8,
    "bool": bool_,
}


def to_dtype(dtype: Any) -> np.dtype:
    """Resolve ``dtype`` (a NumPy dtype, a Python type or a name such as ``"float32"``).

    Raises ``TypeError`` naming the dtype when gradfit cannot hold it.

    Example:
        >>> to_dtype("double")
        dtype('float64')
    """
    if isinstance(dtype, str) and dtype in _NAMES:
        return _NAMES[dtype]
    if dtype is float:
        return default_float
    if dtype is int:
        return default_int
    if dtype is bool:
        return bool_
    try:
        dt = np.dtype(dtype)
    except TypeError:
        dt = None
    if dt is None or dt not in _SUPPORTED:
        names = ", ".join(sorted(_NAMES))
        raise TypeError(f"unsupported dtype {dtype!r}: gradfit tensors hold one of {names}")
    return dt


def is_floating(dtype: np.dtype) -> bool:
    """True for float16/32/64.

    Example:
        >>> is_floating(np.dtype("float32")), is_floating(np.dtype("int64"))
        (True, False)
    """
    return dtype.kind == "f"


def result_type(a: np.dtype, b: np.dtype) -> np.dtype:
    """The dtype of a binary op on two tensors, following PyTorch's promotion.

    Floats win over integers without widening (int64 + float32 -> float32), so a
    float32 computation stays float32.

    Example:
        >>> result_type(np.dtype("int64"), np.dtype("float32"))
        dtype('float32')
    """
    if a == b:
        return a
    fa, fb = a.kind == "f", b.kind == "f"
    if fa and not fb:
        return a
    if fb and not fa:
        return b
    return np.result_type(a, b)
