"""Compiled convolution chunk kernels (numba): the copies around a convolution's GEMMs.

:mod:`gradfit.ops.conv` convolves a batch in chunks of samples on gradfit's thread pool.
Per chunk, the GEMMs are one NumPy ``matmul`` call; what surrounds them was two dozen
small NumPy calls (shifted copies, border zeros, sums of the kernel rows' products, the
bias, the layout change back to NCHW). Each such call takes and releases the GIL, so two
threads working on two chunks spent their time handing the GIL back and forth. Here
each of those stages is one call without the GIL:

* :func:`unfold_rows`: the row unfolding ``u[c, j, h, n, ow]`` of a chunk, zero-padded
  (for the common 'same'-width, stride-1 convolution);
* :func:`finish_rows`: the sum of the kernel rows' GEMM results, plus the bias, written
  to the chunk's NCHW output;
* :func:`finish_full`: for the full-im2col layout, the GEMM result plus the bias (and the
  fused ReLU) written to NCHW in one pass, where NumPy made two (an in-place add, then a
  transposing copy): LeNet's first convolution 67 -> 34 us a 16-sample chunk, MNIST-1D's
  21-32 -> 8-11 us a call.

Both are also faster than the NumPy calls they replace at one thread (LeNet's second
convolution: unfolding 69 against 117 us a chunk, finish 104 against 169 us).

The sums run in the order of the NumPy path (kernel row 0, 1, ..., then the bias), so
both paths give the same bits.

Example:
    >>> import numpy as np
    >>> from gradfit import kernels
    >>> from gradfit.kernels.conv import finish_rows
    >>> tmp = np.ones((2, 1, 1, 1, 3), np.float32)  # two kernel rows, one channel, 1x3
    >>> res = np.empty((1, 1, 1, 3), np.float32)
    >>> bias = np.array([0.5], np.float32)
    >>> if kernels.enabled():
    ...     finish_rows(tmp, bias, True, np.empty(3, np.float32), res, False)
    ... else:
    ...     res[:] = tmp.sum(axis=0).transpose(2, 0, 1, 3) + 0.5
    >>> res.ravel().tolist()
    [2.5, 2.5, 2.5]
"""

from __future__ import annotations

from typing import Any

from gradfit.kernels import Kernel

__all__ = ["finish_full", "finish_rows", "unfold_rows"]


def _unfold_rows(src: Any, chnw: bool, xt: Any, u: Any, pt: int, pl: int, dw: int) -> None:
    """The row unfolding of a 'same'-width, stride-1 (along W) convolution's chunk.

    ``u[c, j, h, k, ow] = src[k, c, h - pt, ow + j*dw - pl]``, 0 outside ``src``. ``src``
    is C-contiguous, (n, C, Hs, Ws), or with ``chnw`` already (C, Hs, n, Ws); otherwise it
    is first copied to that layout in ``xt``. Then each shift ``j`` of a channel is one
    long copy of its whole (Hs, n, Ws) block, and the few columns that crossed a row's
    edge, and the padding rows, are zeroed. (The loops index views from 0: numba then
    drops its negative-index checks and vectorises the copies.)
    """
    if chnw:
        s = src
    else:
        n, C, Hs, Ws = src.shape
        for c in range(C):
            for h in range(Hs):
                for k in range(n):
                    a_row = src[k, c, h]
                    b_row = xt[c, h, k]
                    for w in range(Ws):
                        b_row[w] = a_row[w]
        s = xt
    C, Hs, n, Ws = s.shape
    kw, Hp, OW = u.shape[1], u.shape[2], u.shape[4]
    L = Hs * n * Ws
    R = n * OW
    sf = s.reshape(C, L)
    uf = u.reshape(C, kw, Hp * R)
    top = pt * R
    for c in range(C):
        for j in range(kw):
            whole = uf[c, j]
            above = whole[:top]
            for t in range(above.shape[0]):
                above[t] = 0
            below = whole[top + L :]
            for t in range(below.shape[0]):
                below[t] = 0
            dst = whole[top : top + L]
            shift = j * dw - pl
            lo = max(0, -shift)
            hi = min(L, L - shift)
            if hi > lo:
                a_seg = sf[c, lo + shift : hi + shift]
                b_seg = dst[lo:hi]
                for t in range(b_seg.shape[0]):
                    b_seg[t] = a_seg[t]
            head = dst[:lo]
            for t in range(head.shape[0]):
                head[t] = 0
            tail = dst[hi:]
            for t in range(tail.shape[0]):
                tail[t] = 0
            a = min(OW, max(0, -shift))  # columns that read left of their row: zeros
            b = max(a, min(OW, Ws - shift))  # and from b on, right of it
            rows = dst.reshape(Hs * n, OW)
            for r in range(Hs * n):
                row = rows[r]
                for col in range(a):
                    row[col] = 0
                right = row[b:]
                for col in range(right.shape[0]):
                    right[col] = 0


def _finish_rows(tmp: Any, bias: Any, has_bias: bool, acc: Any, res: Any, relu: bool) -> None:
    """``res[k, o, oh, ow] = ((tmp[0, o, oh, k, ow] + tmp[1, ...]) + ...) + bias[o]``.

    ``tmp`` is (kh, O, OH, n, OW), one GEMM result per kernel row, C-contiguous; ``res``
    the chunk's C-contiguous (n, O, OH, OW) output; ``acc`` a scratch vector of
    ``OH * n * OW`` elements. Per output channel, the rows' planes are summed as long
    vectors into ``acc``, then its rows are moved to their places in ``res``. With
    ``relu``, the ReLU after the convolution too (:mod:`gradfit.ops.conv_epilogue`), as
    NumPy's ``maximum(v, 0)``: +0 for ``v <= 0`` (also -0), NaN stays NaN.
    """
    kh, n_out, OH, n, OW = tmp.shape
    P = OH * n * OW
    tf = tmp.reshape(kh, n_out, P)
    a3 = acc.reshape(OH, n, OW)
    for o in range(n_out):
        first = tf[0, o]
        for q in range(P):
            acc[q] = first[q]
        for i in range(1, kh):
            part = tf[i, o]
            for q in range(P):
                acc[q] += part[q]
        if has_bias:
            b = bias[o]
            for q in range(P):
                acc[q] += b
        if relu:
            for q in range(P):
                v = acc[q]
                acc[q] = v if (v > 0) | (v != v) else 0.0
        for oh in range(OH):
            for k in range(n):
                src = a3[oh, k]
                dst = res[k, o, oh]
                for ow in range(OW):
                    dst[ow] = src[ow]


def _finish_full(out3: Any, bias: Any, has_bias: bool, relu: bool, res: Any) -> None:
    """``res[k, o, q] = out3[o, k, q] + bias[o]`` (then the ReLU, as :func:`finish_rows`).

    ``out3`` is the full-im2col GEMM result (O, n, OH * OW) of a chunk of ``n`` samples,
    ``res`` the chunk's C-contiguous NCHW output as (n, O, OH * OW). The same float
    operations as NumPy's ``out3 += bias`` then ``maximum(out3.transpose(1, 0, 2), 0)``:
    the same bits.
    """
    n_out, n, L = out3.shape
    for k in range(n):
        for o in range(n_out):
            b = bias[o] if has_bias else 0.0
            src = out3[o, k]
            dst = res[k, o]
            for q in range(L):
                v = src[q]
                if has_bias:
                    v = v + b
                if relu:
                    v = v if (v > 0) | (v != v) else 0.0
                dst[q] = v


unfold_rows = Kernel(_unfold_rows)
finish_rows = Kernel(_finish_rows)
finish_full = Kernel(_finish_full)
