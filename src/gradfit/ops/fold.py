"""``unfold`` (im2col) and ``fold`` (col2im) of (N, C, H, W) batches, as PyTorch's ``F.unfold`` and
``F.fold``; each is the other's adjoint, so each one's backward is the other's forward.

Layout as PyTorch: a column holds ``C * kH * kW`` values ordered (channel, kernel row,
kernel column); the ``L = OH * OW`` columns follow the output positions row by row. Both
directions work on a zero-padded copy with ``kH * kW`` strided slices (the same slicing as
the convolution's full im2col in :mod:`gradfit.ops.conv`), with no per-sample loop.

Example:
    >>> import gradfit as gf
    >>> x = gf.arange(16.0).reshape(1, 1, 4, 4)
    >>> cols = unfold(x, kernel_size=2, stride=2)
    >>> cols.shape
    (1, 4, 4)
    >>> fold(cols, output_size=4, kernel_size=2, stride=2).tolist() == x.tolist()
    True
"""

from __future__ import annotations

from typing import Any

import numpy as np

from gradfit.autograd import Function
from gradfit.ops.conv import _span, _tuple
from gradfit.ops.linear_map import linear_map
from gradfit.tensor import Tensor

_Geom = tuple[tuple[int, int], tuple[int, int], tuple[int, int], tuple[int, int], tuple[int, int]]


def _im2col(x: np.ndarray, geo: _Geom, out_hw: tuple[int, int]) -> np.ndarray:
    """(N, C, H, W) -> (N, C * kh * kw, OH * OW)."""
    (kh, kw), (dh, dw), (ph, pw), (sh, sw) = geo[:4]
    OH, OW = out_hw
    N, C, H, W = x.shape
    xp = np.zeros((N, C, H + 2 * ph, W + 2 * pw), x.dtype) if ph or pw else x
    if ph or pw:
        xp[:, :, ph : ph + H, pw : pw + W] = x
    col = np.empty((N, C, kh, kw, OH, OW), x.dtype)
    for i in range(kh):
        rows = _span(i * dh, OH, sh)
        for j in range(kw):
            col[:, :, i, j] = xp[:, :, rows, _span(j * dw, OW, sw)]
    return col.reshape(N, C * kh * kw, OH * OW)


def _col2im(col: np.ndarray, geo: _Geom, out_hw: tuple[int, int], channels: int) -> np.ndarray:
    """(N, C * kh * kw, OH * OW) -> (N, C, H, W), overlapping values summed."""
    C = channels
    (kh, kw), (dh, dw), (ph, pw), (sh, sw), (H, W) = geo
    OH, OW = out_hw
    N = col.shape[0]
    col = col.reshape(N, C, kh, kw, OH, OW)
    xp = np.zeros((N, C, H + 2 * ph, W + 2 * pw), col.dtype)
    for i in range(kh):
        rows = _span(i * dh, OH, sh)
        for j in range(kw):
            xp[:, :, rows, _span(j * dw, OW, sw)] += col[:, :, i, j]
    return np.ascontiguousarray(xp[:, :, ph : ph + H, pw : pw + W])


class Unfold(Function):
    def forward(self, x: np.ndarray, geo: _Geom, out_hw: tuple[int, int]) -> np.ndarray:
        self.geo, self.out_hw, self.C = geo, out_hw, x.shape[1]
        return _im2col(x, geo, out_hw)

    def backward(self, grad: np.ndarray) -> tuple[Any]:
        return (_col2im(grad, self.geo, self.out_hw, self.C),)

    def backward_graph(self, grad: Tensor) -> tuple[Any]:
        """The backward (col2im) recorded as a linear map; its transpose is im2col, the forward."""
        geo, hw = self.geo, self.out_hw
        back = lambda g: self.backward(g)[0]
        return (linear_map(grad, back, lambda g: _im2col(g, geo, hw), self.name),)


class Fold(Function):
    def forward(
        self, col: np.ndarray, geo: _Geom, out_hw: tuple[int, int], channels: int
    ) -> np.ndarray:
        self.geo, self.out_hw = geo, out_hw
        return _col2im(col, geo, out_hw, channels)

    def backward(self, grad: np.ndarray) -> tuple[Any]:
        return (_im2col(grad, self.geo, self.out_hw),)

    def backward_graph(self, grad: Tensor) -> tuple[Any]:
        """The backward (im2col) recorded as a linear map; its transpose is col2im, the forward."""
        geo, hw, c = self.geo, self.out_hw, grad.shape[1]
        back = lambda g: self.backward(g)[0]
        return (linear_map(grad, back, lambda g: _col2im(g, geo, hw, c), self.name),)


def _options(op: str, kernel_size: Any, dilation: Any, padding: Any, stride: Any) -> tuple:
    try:  # out-of-range values are RuntimeErrors, as in PyTorch
        return (
            _tuple(kernel_size, 2, "kernel_size", op, 1),
            _tuple(dilation, 2, "dilation", op, 1),
            _tuple(padding, 2, "padding", op, 0),
            _tuple(stride, 2, "stride", op, 1),
        )
    except ValueError as e:
        raise RuntimeError(str(e)) from None


def _blocks(op: str, hw: tuple[int, int], k: Any, d: Any, p: Any, s: Any) -> tuple[int, int]:
    out = tuple((n + 2 * p_ - d_ * (k_ - 1) - 1) // s_ + 1
                for n, k_, d_, p_, s_ in zip(hw, k, d, p, s, strict=True))  # fmt: skip
    if any(o < 1 for o in out):
        raise RuntimeError(
            f"{op}: given input spatial size {hw}, kernel_size={k}, dilation={d}, padding={p}, "
            f"stride={s}, the number of sliding blocks {out} is too small (non-positive)"
        )
    return out  # type: ignore[return-value]


def unfold(
    input: Tensor,  # noqa: A002 - PyTorch's name
    kernel_size: int | tuple[int, int],
    dilation: int | tuple[int, int] = 1,
    padding: int | tuple[int, int] = 0,
    stride: int | tuple[int, int] = 1,
) -> Tensor:
    """Extract sliding blocks: (N, C, H, W) -> (N, C * kH * kW, L) (also unbatched (C, H, W)).

    Example:
        >>> import gradfit as gf
        >>> unfold(gf.ones(2, 3, 5, 5), kernel_size=3, padding=1).shape
        (2, 27, 25)
    """
    op = "unfold"
    if not isinstance(input, Tensor):
        raise TypeError(f"{op}: input must be a gf.Tensor, got {type(input).__name__}")
    k, d, p, s = _options(op, kernel_size, dilation, padding, stride)
    if input.ndim not in (3, 4):
        raise RuntimeError(
            f"{op}: expected input (N, C, H, W) or (C, H, W), got shape {input.shape}"
        )
    x = input if input.ndim == 4 else input.reshape(1, *input.shape)
    hw = (x.shape[2], x.shape[3])
    out_hw = _blocks(op, hw, k, d, p, s)
    res = Unfold.apply(x, geo=(k, d, p, s, hw), out_hw=out_hw)
    return res if input.ndim == 4 else res.reshape(*res.shape[1:])


def fold(
    input: Tensor,  # noqa: A002 - PyTorch's name
    output_size: int | tuple[int, int],
    kernel_size: int | tuple[int, int],
    dilation: int | tuple[int, int] = 1,
    padding: int | tuple[int, int] = 0,
    stride: int | tuple[int, int] = 1,
) -> Tensor:
    """Sum sliding blocks back: (N, C * kH * kW, L) -> (N, C, *output_size) (also unbatched).

    Example:
        >>> import gradfit as gf
        >>> fold(gf.ones(1, 4, 4), output_size=3, kernel_size=2)[0, 0].tolist()
        [[1.0, 2.0, 1.0], [2.0, 4.0, 2.0], [1.0, 2.0, 1.0]]
    """
    op = "fold"
    if not isinstance(input, Tensor):
        raise TypeError(f"{op}: input must be a gf.Tensor, got {type(input).__name__}")
    k, d, p, s = _options(op, kernel_size, dilation, padding, stride)
    try:
        hw = _tuple(output_size, 2, "output_size", op, 1)
    except ValueError as e:
        raise RuntimeError(str(e)) from None
    if input.ndim not in (2, 3) or any(n == 0 for n in input.shape[-2:]):
        raise RuntimeError(
            f"{op}: expected a 2D or 3D (batch mode) tensor with possibly 0 batch size and "
            f"non-zero other dimensions, got shape {input.shape}"
        )
    x = input if input.ndim == 3 else input.reshape(1, *input.shape)
    kk = k[0] * k[1]
    if x.shape[1] % kk:
        raise RuntimeError(
            f"{op}: expected size of input's dimension 1 to be divisible by the product of "
            f"kernel_size, but got input.size(1)={x.shape[1]} and kernel_size={k}"
        )
    out_hw = _blocks(op, hw, k, d, p, s)
    if x.shape[2] != out_hw[0] * out_hw[1]:
        raise RuntimeError(
            f"{op}: given output_size={hw}, kernel_size={k}, dilation={d}, padding={p}, "
            f"stride={s}, expected size of input's dimension 2 to match the calculated number "
            f"of sliding blocks {out_hw[0]} * {out_hw[1]} = {out_hw[0] * out_hw[1]}, but got "
            f"input.size(2)={x.shape[2]}"
        )
    res = Fold.apply(x, geo=(k, d, p, s, hw), out_hw=out_hw, channels=x.shape[1] // kk)
    return res if input.ndim == 3 else res.reshape(*res.shape[1:])
