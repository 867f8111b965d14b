"""Resampling: ``interpolate`` (nearest, nearest-exact, linear, bilinear, bicubic, trilinear,
area) and ``pixel_shuffle`` / ``pixel_unshuffle`` (PyTorch's arguments and index formulas).

How interpolation computes. Every mode except ``'area'`` is separable: along each spatial
axis the output is a fixed linear map of the input, an ``(out, in)`` matrix whose rows hold
the taps of PyTorch's formula (one 1 for nearest, two weights for linear, four clamped cubic
weights for bicubic). The forward pass multiplies by the matrices axis by axis (GEMMs), and
the backward pass by their transposes: exact adjoints with no scatter. ``'area'`` is
adaptive average pooling, as in PyTorch.

Example:
    >>> import gradfit as gf
    >>> x = gf.tensor([[[1.0, 2.0]]])
    >>> interpolate(x, scale_factor=2, mode="linear").tolist()
    [[[1.0, 1.25, 1.75, 2.0]]]
    >>> interpolate(x, size=3, mode="nearest").tolist()
    [[[1.0, 1.0, 2.0]]]
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from gradfit.autograd import Function
from gradfit.ops.linear_map import linear_map
from gradfit.tensor import Tensor

_NEEDS = {"linear": 1, "bilinear": 2, "bicubic": 2, "trilinear": 3}
_MODES = ("nearest", "nearest-exact", "linear", "bilinear", "bicubic", "trilinear", "area")


def _cubic_weights(t: np.ndarray, a: float = -0.75) -> list[np.ndarray]:
    """The four taps (at -1, 0, 1, 2) of PyTorch's cubic convolution with A = -0.75."""

    def near(x: np.ndarray) -> np.ndarray:  # |x| <= 1
        return ((a + 2) * x - (a + 3)) * x * x + 1

    def far(x: np.ndarray) -> np.ndarray:  # 1 < |x| < 2
        return ((a * x - 5 * a) * x + 8 * a) * x - 4 * a

    return [far(t + 1), near(t), near(1 - t), far(2 - t)]


def _matrix(mode: str, n_in: int, n_out: int, scale: float | None, align: bool) -> np.ndarray:
    """The (n_out, n_in) float64 matrix that maps an axis of ``n_in`` samples to ``n_out``.

    ``scale`` is the user's scale factor (PyTorch maps coordinates with ``1 / scale`` when
    one was given and not recomputed), else None (``n_in / n_out``).
    """
    dst = np.arange(n_out, dtype=np.float64)
    m = np.zeros((n_out, n_in))
    rows = np.arange(n_out)
    ratio = 1.0 / scale if scale is not None and scale > 0 else n_in / n_out
    if mode in ("nearest", "nearest-exact"):
        src = np.floor((dst + (0.5 if mode == "nearest-exact" else 0.0)) * ratio)
        m[rows, np.minimum(src.astype(np.int64), n_in - 1)] = 1.0
        return m
    if align:
        src = dst * ((n_in - 1) / (n_out - 1)) if n_out > 1 else np.zeros(n_out)
    else:
        src = (dst + 0.5) * ratio - 0.5
    if mode == "bicubic":
        i0 = np.floor(src).astype(np.int64)
        for k, w in enumerate(_cubic_weights(src - i0)):
            np.add.at(m, (rows, np.clip(i0 - 1 + k, 0, n_in - 1)), w)
        return m
    if not align:
        src = np.maximum(src, 0.0)
    i0 = np.minimum(np.floor(src).astype(np.int64), n_in - 1)
    i1 = np.minimum(i0 + 1, n_in - 1)
    lam = src - i0
    m[rows, i0] += 1.0 - lam
    m[rows, i1] += lam
    return m


def _along(x: np.ndarray, m: np.ndarray, axis: int) -> np.ndarray:
    """Apply ``m`` (out, in) to ``axis`` of ``x``."""
    if axis == x.ndim - 1:
        return x @ m.T
    if axis == x.ndim - 2:
        return m @ x
    return np.moveaxis(np.moveaxis(x, axis, -1) @ m.T, -1, axis)


class Resample(Function):
    """Separable resampling: one (out, in) matrix per spatial axis (the last ones)."""

    def forward(self, x: np.ndarray, mats: list[np.ndarray]) -> np.ndarray:
        mats = [m.astype(x.dtype) for m in mats]
        self.mats = mats
        k = len(mats)
        for i, m in enumerate(mats):
            x = _along(x, m, x.ndim - k + i)
        return np.ascontiguousarray(x)

    def backward(self, grad: np.ndarray) -> tuple[Any]:
        k = len(self.mats)
        for i, m in enumerate(self.mats):
            grad = _along(grad, m.T, grad.ndim - k + i)
        return (np.ascontiguousarray(grad),)

    def backward_graph(self, grad: Tensor) -> tuple[Any]:
        """A linear op: its backward is recorded as a linear map whose transpose is the forward."""
        mats = self.mats
        again = lambda g: Resample().forward(g, mats)
        return (linear_map(grad, lambda g: self.backward(g)[0], again, self.name),)


def _spatial(v: Any, k: int, what: str, dims: Sequence[int]) -> list[Any]:
    if isinstance(v, (tuple, list)):
        if len(v) != k:
            raise ValueError(
                f"interpolate: input and {what} must have the same number of spatial dimensions, "
                f"but got input with spatial dimensions of {list(dims)} and {what} {tuple(v)}"
            )
        return list(v)
    return [v] * k


def interpolate(
    input: Tensor,  # noqa: A002 - PyTorch's name
    size: int | Sequence[int] | None = None,
    scale_factor: float | Sequence[float] | None = None,
    mode: str = "nearest",
    align_corners: bool | None = None,
    recompute_scale_factor: bool | None = None,
    antialias: bool = False,
) -> Tensor:
    """Resize the spatial dimensions of a (N, C, *) input, as PyTorch's ``F.interpolate``.

    Args:
        input: (N, C, L) for ``'linear'``, (N, C, H, W) for ``'bilinear'``/``'bicubic'``,
            (N, C, D, H, W) for ``'trilinear'``; ``'nearest'``, ``'nearest-exact'``, ``'area'``
            take any of the three.
        size: the output's spatial size (int or one per dimension); or
        scale_factor: a multiplier per dimension (output size ``floor(in * scale)``).
        mode: as above. ``'nearest'`` takes ``floor(dst * in / out)`` (PyTorch's legacy
            choice); ``'nearest-exact'`` the nearest centre.
        align_corners: linear modes only; True maps the corner pixels' centres onto each
            other, False (default) their outer edges.
        recompute_scale_factor: True computes the coordinate map from the output size
            instead of the given scale factor.
        antialias: not supported (raises NotImplementedError if True).

    Example:
        >>> import gradfit as gf
        >>> interpolate(gf.ones(1, 3, 4, 4), scale_factor=2, mode="bilinear").shape
        (1, 3, 8, 8)
    """
    if not isinstance(input, Tensor):
        raise TypeError(f"interpolate: input must be a gf.Tensor, got {type(input).__name__}")
    if antialias:
        raise NotImplementedError("interpolate: antialias=True is not supported in gradfit")
    if mode not in _MODES or input.ndim not in (3, 4, 5):
        raise NotImplementedError(
            f"interpolate: only 3D, 4D and 5D inputs are supported (got {input.ndim}D) for the "
            f"modes {' | '.join(_MODES)} (got {mode!r})"
        )
    if align_corners is not None and mode not in _NEEDS:
        raise ValueError(
            "interpolate: align_corners option can only be set with the interpolating modes: "
            "linear | bilinear | bicubic | trilinear"
        )
    if mode in _NEEDS and input.ndim != _NEEDS[mode] + 2:
        raise NotImplementedError(
            f"interpolate: got {input.ndim}D input, but {mode} mode needs {_NEEDS[mode] + 2}D input"
        )
    if (size is None) == (scale_factor is None):
        raise ValueError(
            "interpolate: only one of size or scale_factor should be defined"
            if size is not None
            else "interpolate: either size or scale_factor should be defined"
        )
    k = input.ndim - 2
    dims = input.shape[2:]
    if size is not None:
        outs = [int(s) for s in _spatial(size, k, "output size", dims)]
        scales: list[float | None] = [None] * k
    else:
        sf = [float(s) for s in _spatial(scale_factor, k, "scale_factor", dims)]
        outs = [math.floor(n * s) for n, s in zip(dims, sf, strict=True)]
        scales = [None] * k if recompute_scale_factor else list(sf)
    if any(o <= 0 for o in outs) or any(n <= 0 for n in dims):
        raise RuntimeError(
            f"interpolate: input and output sizes should be greater than 0, but got input "
            f"{tuple(dims)} and output {tuple(outs)}"
        )
    if mode == "area":
        from gradfit.nn.functional import adaptive_avg_pool1d, adaptive_avg_pool2d

        if k == 1:
            return adaptive_avg_pool1d(input, outs[0])
        if k == 2:
            return adaptive_avg_pool2d(input, tuple(outs))
        raise NotImplementedError("interpolate: mode 'area' supports 3D and 4D inputs in gradfit")
    if input._data.dtype.kind != "f":
        raise TypeError(f"interpolate: expected a float input, got {input._data.dtype}")
    align = bool(align_corners)
    mats = [_matrix(mode, n, o, s, align) for n, o, s in zip(dims, outs, scales, strict=True)]
    return Resample.apply(input, mats=mats)


# --------------------------------------------------------------------------- pixel shuffle


def _check_shuffle(op: str, x: Any, r: Any, what: str) -> int:
    if not isinstance(x, Tensor):
        raise TypeError(f"{op}: input must be a gf.Tensor, got {type(x).__name__}")
    if not isinstance(r, (int, np.integer)) or isinstance(r, bool):
        raise TypeError(f"{op}: {what} must be an int, got {r!r}")
    if r <= 0:
        raise RuntimeError(f"{op} expects a positive {what}, but got {r}")
    if x.ndim < 3:
        raise RuntimeError(
            f"{op} expects input to have at least 3 dimensions, but got input with {x.ndim} "
            f"dimension(s)"
        )
    return int(r)


def pixel_shuffle(input: Tensor, upscale_factor: int) -> Tensor:  # noqa: A002
    """Rearrange (*, C r², H, W) into (*, C, H r, W r), as PyTorch's ``F.pixel_shuffle``.

    Example:
        >>> import gradfit as gf
        >>> pixel_shuffle(gf.arange(4.0).reshape(1, 4, 1, 1), 2).tolist()
        [[[[0.0, 1.0], [2.0, 3.0]]]]
    """
    r = _check_shuffle("pixel_shuffle", input, upscale_factor, "upscale_factor")
    *lead, c, h, w = input.shape
    if c % (r * r):
        raise RuntimeError(
            f"pixel_shuffle expects its input's 'channel' dimension to be divisible by the "
            f"square of upscale_factor, but input.size(-3)={c} is not divisible by {r * r}"
        )
    n = len(lead)
    y = input.reshape(*lead, c // (r * r), r, r, h, w)
    perm = (*range(n), n, n + 3, n + 1, n + 4, n + 2)
    return y.permute(*perm).reshape(*lead, c // (r * r), h * r, w * r)


def pixel_unshuffle(input: Tensor, downscale_factor: int) -> Tensor:  # noqa: A002
    """Rearrange (*, C, H r, W r) into (*, C r², H, W), as PyTorch's ``F.pixel_unshuffle``.

    Example:
        >>> import gradfit as gf
        >>> pixel_unshuffle(gf.arange(4.0).reshape(1, 1, 2, 2), 2).flatten().tolist()
        [0.0, 1.0, 2.0, 3.0]
    """
    r = _check_shuffle("pixel_unshuffle", input, downscale_factor, "downscale_factor")
    *lead, c, h, w = input.shape
    for name, v, ax in (("height", h, -2), ("width", w, -1)):
        if v % r:
            raise RuntimeError(
                f"pixel_unshuffle expects {name} to be divisible by downscale_factor, but "
                f"input.size({ax})={v} is not divisible by {r}"
            )
    n = len(lead)
    y = input.reshape(*lead, c, h // r, r, w // r, r)
    perm = (*range(n), n, n + 2, n + 4, n + 1, n + 3)
    return y.permute(*perm).reshape(*lead, c * r * r, h // r, w // r)


# --------------------------------------------------------------------------- deprecated aliases


def upsample(
    input: Tensor,  # noqa: A002 - PyTorch's name
    size: int | Sequence[int] | None = None,
    scale_factor: float | Sequence[float] | None = None,
    mode: str = "nearest",
    align_corners: bool | None = None,
) -> Tensor:
    """PyTorch's deprecated ``F.upsample``: :func:`interpolate` with these arguments.

    Example:
        >>> import gradfit as gf
        >>> upsample(gf.ones(1, 1, 2), scale_factor=2).shape
        (1, 1, 4)
    """
    return interpolate(input, size, scale_factor, mode, align_corners)


def upsample_nearest(
    input: Tensor,  # noqa: A002 - PyTorch's name
    size: int | Sequence[int] | None = None,
    scale_factor: float | Sequence[float] | None = None,
) -> Tensor:
    """PyTorch's deprecated ``F.upsample_nearest``: nearest :func:`interpolate`.

    Example:
        >>> import gradfit as gf
        >>> upsample_nearest(gf.ones(1, 1, 2, 2), scale_factor=2).shape
        (1, 1, 4, 4)
    """
    return interpolate(input, size, scale_factor, mode="nearest")


def upsample_bilinear(
    input: Tensor,  # noqa: A002 - PyTorch's name
    size: int | Sequence[int] | None = None,
    scale_factor: float | Sequence[float] | None = None,
) -> Tensor:
    """PyTorch's deprecated ``F.upsample_bilinear``: bilinear with ``align_corners=True``.

    Example:
        >>> import gradfit as gf
        >>> upsample_bilinear(gf.ones(1, 1, 2, 2), size=3).shape
        (1, 1, 3, 3)
    """
    return interpolate(input, size, scale_factor, mode="bilinear", align_corners=True)
