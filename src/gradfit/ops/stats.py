"""Statistics that come in pairs or counts: var_mean, std_mean, histc.

Example:
    >>> import gradfit as gf
    >>> v, m = gf.var_mean(gf.tensor([1.0, 2.0, 3.0]))
    >>> v.item(), m.item()
    (1.0, 2.0)
"""

from __future__ import annotations

from typing import Any

import numpy as np

from gradfit.ops.reduce import mean, std, var
from gradfit.tensor import Tensor


def var_mean(
    input: Tensor,  # noqa: A002
    dim: Any = None,
    unbiased: bool | None = None,
    keepdim: bool = False,
    *,
    correction: float | None = None,
) -> tuple[Tensor, Tensor]:
    """``(var(input, ...), mean(input, ...))`` over the same dimensions, both differentiable.

    Example:
        >>> import gradfit as gf
        >>> [t.item() for t in gf.var_mean(gf.tensor([1.0, 3.0]), correction=0)]
        [1.0, 2.0]
    """
    v = var(input, dim, unbiased, keepdim, correction=correction)
    return v, mean(input, dim, keepdim)


def std_mean(
    input: Tensor,  # noqa: A002
    dim: Any = None,
    unbiased: bool | None = None,
    keepdim: bool = False,
    *,
    correction: float | None = None,
) -> tuple[Tensor, Tensor]:
    """``(std(input, ...), mean(input, ...))`` over the same dimensions, both differentiable.

    Example:
        >>> import gradfit as gf
        >>> [t.item() for t in gf.std_mean(gf.tensor([1.0, 3.0]), correction=0)]
        [1.0, 2.0]
    """
    s = std(input, dim, unbiased, keepdim, correction=correction)
    return s, mean(input, dim, keepdim)


def histc(input: Tensor, bins: int = 100, min: float = 0, max: float = 0) -> Tensor:  # noqa: A002
    """A histogram of ``bins`` equal-width bins over [min, max] (the data's range when both
    are 0); elements outside are ignored. Same dtype as the input; no gradient.

    Example:
        >>> import gradfit as gf
        >>> gf.histc(gf.tensor([1.0, 2.0, 1.0]), bins=4, min=0, max=3).tolist()
        [0.0, 2.0, 1.0, 0.0]
    """
    a = input._data
    if a.dtype.kind != "f":
        raise NotImplementedError(f"histc: expected a floating-point tensor, got {a.dtype}")
    if bins <= 0:
        raise RuntimeError(f"histc: bins must be > 0, got {bins}")
    lo, hi = float(min), float(max)
    if lo == hi and a.size:
        lo, hi = float(a.min()), float(a.max())
    if lo == hi:
        lo, hi = lo - 1, hi + 1
    if lo > hi:
        raise RuntimeError(f"histc: max must be larger than min, got min={min}, max={max}")
    flat = a.reshape(-1)
    inside = flat[(flat >= lo) & (flat <= hi)]
    idx = ((inside - lo) * (bins / (hi - lo))).astype(np.int64)
    idx = np.minimum(idx, bins - 1)  # the right edge belongs to the last bin
    return Tensor._wrap(np.bincount(idx, minlength=bins).astype(a.dtype))


def nansum(input: Tensor, dim: Any = None, keepdim: bool = False, *, dtype: Any = None) -> Tensor:  # noqa: A002
    """The sum with NaN counted as zero (their gradient is zero).

    Example:
        >>> import gradfit as gf
        >>> gf.nansum(gf.tensor([1.0, float("nan"), 2.0])).item()
        3.0
    """
    from gradfit.ops.indexing import masked_fill
    from gradfit.ops.reduce import sum as sum_

    x = input if dtype is None else input.astype(dtype)
    if x._data.dtype.kind == "f":
        x = masked_fill(x, Tensor._wrap(np.isnan(x._data)), 0.0)
    return sum_(x, dim, keepdim)


def nanmean(input: Tensor, dim: Any = None, keepdim: bool = False, *, dtype: Any = None) -> Tensor:  # noqa: A002
    """The mean of the non-NaN elements.

    Example:
        >>> import gradfit as gf
        >>> gf.nanmean(gf.tensor([1.0, float("nan"), 2.0])).item()
        1.5
    """
    x = input if dtype is None else input.astype(dtype)
    if x._data.dtype.kind != "f":
        raise RuntimeError(
            f"nanmean(): expected input to have floating point dtype but got {x.dtype}"
        )
    count = Tensor._wrap((~np.isnan(x._data)).astype(x._data.dtype))
    return nansum(x, dim, keepdim) / count.sum(dim, keepdim)


def aminmax(input: Tensor, *, dim: int | None = None, keepdim: bool = False) -> Any:  # noqa: A002
    """``(amin, amax)`` over ``dim`` (all elements by default), as a named tuple ``(min, max)``.

    Example:
        >>> import gradfit as gf
        >>> r = gf.aminmax(gf.tensor([3, 1, 2]))
        >>> r.min.item(), r.max.item()
        (1, 3)
    """
    from collections import namedtuple

    from gradfit.ops.reduce import amax, amin

    if input.numel() == 0:
        raise RuntimeError(
            "aminmax(): cannot compute aminmax over an empty dimension as the operation has no identity"
        )
    res = namedtuple("aminmax", ["min", "max"])
    if dim is None:
        lo, hi = amin(input), amax(input)
        if keepdim:
            lo, hi = lo.reshape((1,) * input.ndim), hi.reshape((1,) * input.ndim)
        return res(lo, hi)
    return res(amin(input, dim, keepdim), amax(input, dim, keepdim))
