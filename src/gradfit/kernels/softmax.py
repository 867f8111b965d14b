"""Attention's softmax as compiled kernels (float32), in place on the scores.

Forward: each row of scores ``s`` becomes ``softmax(s * scale + bias)`` in a few passes over
one (L, S) block of scores that sits in L1 (per row: scale and bias, the row maximum, the
shift; over the block: the exponentials, one long loop that LLVM vectorises, where over a
row of 32 it does not; per row: the sum and the division), where NumPy makes eight passes
over the whole array. The row maximum is exact (NumPy's path shifts by a block maximum to
save time, and then checks for lost rows). Rows whose every key is masked (``-inf``) become
zeros, as in PyTorch 2.13.

Backward: ``ds = w * (dw - sum(dw * w)) * scale`` per row, in place on ``dw``.

``exp`` is Cephes' ``expf`` written out (:mod:`gradfit.kernels.expf`, inlined: LLVM vectorises
a loop with no library call); arguments are ``<= 0`` here, and those below ``-87.3`` (or
``-inf``) give 0. Row sums run in float32 over 8 partial sums, as PyTorch sums in float32.

Example:
    >>> import numpy as np
    >>> from gradfit import kernels
    >>> from gradfit.kernels.softmax import softmax_forward
    >>> s = np.array([[[0.0, 0.0, np.log(2.0)]]], np.float32)
    >>> if kernels.enabled():
    ...     softmax_forward(s, np.float32(1.0), np.zeros((1, 3), np.float32))
    ... else:  # the same by NumPy
    ...     s = np.exp(s) / np.exp(s).sum(-1, keepdims=True)
    >>> np.round(s, 4)
    array([[[0.25, 0.25, 0.5 ]]], dtype=float32)
"""

from __future__ import annotations

import numpy as np

from gradfit.kernels import Kernel
from gradfit.kernels.expf import expf

__all__ = ["softmax_backward", "softmax_forward"]

_F = np.float32
_LOW = _F(-87.3)  # exp of less than this is under float32's normal range: 0 here


def _softmax_forward(s, scale, bias):  # pragma: no cover - compiled by numba
    """Rows of ``s`` (B, L, S) in place: ``softmax(s * scale + bias)``; ``bias`` (L, S)."""
    B, L, S = s.shape
    S8 = S - S % 8
    LS = L * S
    for n in range(B):
        for i in range(L):
            row = s[n, i]
            brow = bias[i]
            for j in range(S):
                row[j] = row[j] * scale + brow[j]
            m0 = m1 = m2 = m3 = m4 = m5 = m6 = m7 = _F(-np.inf)
            for j in range(0, S8, 8):
                m0 = max(m0, row[j])
                m1 = max(m1, row[j + 1])
                m2 = max(m2, row[j + 2])
                m3 = max(m3, row[j + 3])
                m4 = max(m4, row[j + 4])
                m5 = max(m5, row[j + 5])
                m6 = max(m6, row[j + 6])
                m7 = max(m7, row[j + 7])
            m = max(max(max(m0, m1), max(m2, m3)), max(max(m4, m5), max(m6, m7)))
            for j in range(S8, S):
                m = max(m, row[j])
            if m == _F(-np.inf):  # every key masked: exponentials all 0, weights 0 below
                m = _F(0)
            for j in range(S):
                row[j] -= m
        # the exponentials over the whole (L, S) block: a long loop, which LLVM vectorises
        # (over a row of 32 it would not)
        blk = s[n].reshape(LS)
        for k in range(LS):
            e = blk[k]
            low = not e >= _LOW  # also -inf and NaN
            if low:
                e = _LOW
            p = expf(e)
            if low:
                p = _F(0) if e == e else e  # NaN stays NaN
            blk[k] = p
        for i in range(L):
            row = s[n, i]
            t0 = t1 = t2 = t3 = t4 = t5 = t6 = t7 = _F(0)
            for j in range(0, S8, 8):
                t0 += row[j]
                t1 += row[j + 1]
                t2 += row[j + 2]
                t3 += row[j + 3]
                t4 += row[j + 4]
                t5 += row[j + 5]
                t6 += row[j + 6]
                t7 += row[j + 7]
            t = ((t0 + t1) + (t2 + t3)) + ((t4 + t5) + (t6 + t7))
            for j in range(S8, S):
                t += row[j]
            if t > _F(0):
                inv = _F(1) / t
            elif t == _F(0):  # every key masked
                inv = _F(0)
            else:  # NaN (a score of NaN or +inf)
                inv = t
            for j in range(S):
                row[j] *= inv


def _softmax_backward(w, dw, scale):  # pragma: no cover - compiled by numba
    """Rows of ``dw`` (B, L, S) in place: ``w * (dw - sum(dw * w)) * scale``."""
    B, L, S = w.shape
    S8 = S - S % 8
    for n in range(B):
        for i in range(L):
            wr = w[n, i]
            gr = dw[n, i]
            t0 = t1 = t2 = t3 = t4 = t5 = t6 = t7 = _F(0)
            for j in range(0, S8, 8):
                t0 += wr[j] * gr[j]
                t1 += wr[j + 1] * gr[j + 1]
                t2 += wr[j + 2] * gr[j + 2]
                t3 += wr[j + 3] * gr[j + 3]
                t4 += wr[j + 4] * gr[j + 4]
                t5 += wr[j + 5] * gr[j + 5]
                t6 += wr[j + 6] * gr[j + 6]
                t7 += wr[j + 7] * gr[j + 7]
            t = ((t0 + t1) + (t2 + t3)) + ((t4 + t5) + (t6 + t7))
            for j in range(S8, S):
                t += wr[j] * gr[j]
            for j in range(S):
                gr[j] = wr[j] * (gr[j] - t) * scale


softmax_forward = Kernel(_softmax_forward)
softmax_backward = Kernel(_softmax_backward)
