"""Compiled loops for the column scatter (col2im) of strided convolutions.

:func:`col2im_strided` is the input gradient of a strided convolution
(:class:`~gradfit.ops.conv.ConvNd`); the rest serves the strided transposed convolution.

The strided forward of :class:`~gradfit.ops.conv_transpose.ConvTransposeNd` multiplies the
input by the weight into columns ``col[c, i, j, ih, iw, n]`` (batch-last: the ``n``
samples of a chunk innermost) and adds each kernel offset's columns into the output. In
NumPy that is ``kh * kw`` strided slice additions into a zeroed, padded buffer, then a
cropping copy to NCHW: three passes over the output and two of them strided, about as
long as the GEMM itself. :func:`col2im_batch_last` gathers instead: each output value is
summed once, from the few columns that reach it, and written straight into the NCHW
output, cropped, with the bias.

Sums are float32 for float32 (float64 for float64), added in the order of the NumPy path
(the bias, or zero, then kernel rows ``i`` ascending, columns ``j`` ascending), so both
paths give the same bits. Compiled on first use (:class:`gradfit.kernels.Kernel`).

Example:
    >>> import numpy as np
    >>> from gradfit import kernels
    >>> from gradfit.kernels.col2im import col2im_batch_last
    >>> col = np.ones((2, 2), np.float32)  # C=1, a 1x2 kernel, a 1x2 input, n=1
    >>> geom = (1, 2, 1, 2, 0, 0, 1, 2, 1, 1)  # kh, kw, IH, IW, pads, strides, dilations
    >>> out = np.empty((1, 1, 1, 4), np.float32)
    >>> bias = np.zeros(1, np.float32)
    >>> if kernels.enabled():
    ...     col2im_batch_last(col, geom, 1, bias, False, out)
    ... else:
    ...     out[:] = 1.0  # the NumPy path lives in gradfit.ops.conv_transpose
    >>> out.ravel().tolist()
    [1.0, 1.0, 1.0, 1.0]
"""

from __future__ import annotations

from typing import Any

import numpy as np

from gradfit.kernels import Kernel

__all__ = ["col2im_batch_last", "col2im_strided", "im2col_batch_last"]


def _col2im_batch_last(col: Any, geom: Any, n: int, bias: Any, bias_first: bool, out: Any) -> None:
    """out[m, c, y, x] = (bias[c] if bias_first else 0) + the sum over kernel offsets (i, j)
    with ``y + pt = ih * sh + i * dh`` and ``x + pl = iw * sw + j * dw`` of the column
    ``col[(c * kh + i) * kw + j, (ih * IW + iw) * n + m]``.

    ``col`` is (C * kh * kw, >= IH * IW * n): the rows may be padded (a GEMM's output
    with a leading dimension that is not a power of two); ``geom`` is
    (kh, kw, IH, IW, pt, pl, sh, sw, dh, dw); ``out`` is (n, C, H, W).
    """
    kh, kw, IH, IW, pt, pl, sh, sw, dh, dw = geom
    C, H, W = out.shape[1], out.shape[2], out.shape[3]
    row = np.empty((W, n), col.dtype)  # one output row of every sample, batch-last
    for c in range(C):
        b = bias[c] if bias_first else 0.0  # a float32 bias is exact through float64
        for y in range(H):
            row[:] = b
            for i in range(kh):  # kernel rows, then columns, ascending: the NumPy path's order
                t = y + pt - i * dh
                if t < 0 or t % sh != 0 or t // sh >= IH:
                    continue
                ih = t // sh
                for j in range(kw):
                    k = (c * kh + i) * kw + j
                    for iw in range(IW):
                        x = iw * sw + j * dw - pl
                        if x < 0 or x >= W:
                            continue
                        e = (ih * IW + iw) * n
                        v = col[k, e : e + n]  # a view: a loop that vectorises
                        for m in range(n):
                            row[x, m] += v[m]
            for m in range(n):
                for x in range(W):
                    out[m, c, y, x] = row[x, m]


col2im_batch_last = Kernel(_col2im_batch_last)


def _col2im_strided(col: Any, geom: Any, cstrides: Any, out: Any) -> None:
    """out[m, c, y, x] = the sum over kernel offsets (i, j) with ``y + pt = ih * sh + i * dh``
    and ``x + pl = iw * sw + j * dw`` of ``col[(c * kh + i) * kw + j, m * s_m + ih * s_h + iw * s_w]``.

    The input gradient of a strided convolution (:meth:`gradfit.ops.conv.ConvNd._col2im_step`),
    whose columns come in a chunk layout given by ``cstrides = (s_m, s_h, s_w)``: (n, IH, IW)
    or (IH, n, IW). Each value is summed once, from zero, kernel rows ``i`` ascending, then
    columns ``j``: the order of the NumPy path's slice additions, so the same bits.
    ``geom`` is (kh, kw, IH, IW, pt, pl, sh, sw, dh, dw); ``out`` is (n, C, H, W).
    """
    kh, kw, IH, IW, pt, pl, sh, sw, dh, dw = geom
    s_m, s_h, s_w = cstrides
    n, C, H, W = out.shape
    row = np.empty(W, col.dtype)
    for c in range(C):
        for m in range(n):
            for y in range(H):
                row[:] = 0.0
                for i in range(kh):
                    t = y + pt - i * dh
                    if t < 0 or t % sh != 0 or t // sh >= IH:
                        continue
                    base = m * s_m + (t // sh) * s_h
                    for j in range(kw):
                        src = col[(c * kh + i) * kw + j]
                        for iw in range(IW):
                            x = iw * sw + j * dw - pl
                            if 0 <= x < W:
                                row[x] += src[base + iw * s_w]
                dst = out[m, c, y]
                for x in range(W):
                    dst[x] = row[x]


col2im_strided = Kernel(_col2im_strided)


def _im2col_batch_last(src: Any, n0: int, geom: Any, n: int, u: Any) -> None:
    """u[(c * kh + i) * kw + j, (oh * OW + ow) * n + m] = src[n0 + m, c, y, x] with
    ``y = oh * sh + i * dh - pt``, ``x = ow * sw + j * dw - pl``; zero where (y, x) is
    outside ``src`` (N, C, H, W).

    ``u`` is (C * kh * kw, >= OH * OW * n) (padded rows allowed); ``geom`` is
    (kh, kw, OH, OW, pt, pl, sh, sw, dh, dw).
    """
    kh, kw, OH, OW, pt, pl, sh, sw, dh, dw = geom
    C, H, W = src.shape[1], src.shape[2], src.shape[3]
    plane = np.empty((H, W, n), u.dtype)  # one channel of the chunk, batch-last
    for c in range(C):
        for m in range(n):
            for y in range(H):
                for x in range(W):
                    plane[y, x, m] = src[n0 + m, c, y, x]
        for i in range(kh):
            for j in range(kw):
                k = (c * kh + i) * kw + j
                for oh in range(OH):
                    y = oh * sh + i * dh - pt
                    for ow in range(OW):
                        x = ow * sw + j * dw - pl
                        e = (oh * OW + ow) * n
                        dst = u[k, e : e + n]
                        if 0 <= y < H and 0 <= x < W:
                            v = plane[y, x]
                            for m in range(n):
                                dst[m] = v[m]
                        else:
                            for m in range(n):
                                dst[m] = 0.0


im2col_batch_last = Kernel(_im2col_batch_last)
