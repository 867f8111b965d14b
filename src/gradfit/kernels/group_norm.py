"""Compiled kernels of group normalisation (:mod:`gradfit.ops.group_norm`).

Both see the input as rows: ``x2`` of shape ``(N * C, S)`` (``S`` positions per channel),
``cpg`` consecutive rows making a group, and work one group at a time.

:func:`forward` reads the input from memory once: the group's sum, sum of squares about its
mean and the output ``(x - mean) * (rstd * w) + b`` are three passes over a group that
stays in the L1/L2 cache. Sums run in *lanes*: one partial sum per position of a row, in the
input's dtype, folded into a float64 total (in 8 chains) every 16 rows and at the end of a
group. numba vectorises such lane loops without fastmath (a plain ``s += v`` loop cannot be
reordered, so it runs one add at a time). No float32 lane sums more than 16 terms, so the
statistics are at least as accurate as torch's (which sums in float32 too); the totals,
means and inverse standard deviations are float64, the variance a two-pass one.

:func:`backward` takes the per-channel sums of ``dy`` and ``dy * x`` (BLAS row sums, as on
the NumPy path; faster than lanes here, where every channel's sum would need its own fold),
forms each group's coefficients in float64 and writes ``dx`` in one pass, centred on the
mean, with the weight's and bias's gradients on the side.

Example:
    >>> import numpy as np
    >>> from gradfit import kernels
    >>> from gradfit.kernels.group_norm import forward
    >>> x = np.arange(8, dtype=np.float32).reshape(2, 4)  # 1 sample, 2 channels, 1 group
    >>> y, mean, rstd = np.empty_like(x), np.empty(1), np.empty(1)
    >>> one, zero, off = np.ones(2, np.float32), np.zeros(2, np.float32), np.zeros(1, np.int8)
    >>> if kernels.enabled():
    ...     forward(x, one, zero, 2, 0.0, 64.0, y, mean, rstd, off)
    ... else:
    ...     mean[:], rstd[:] = 3.5, 1 / np.sqrt(5.25)
    >>> float(mean[0]), round(float(rstd[0]) ** -2, 4)
    (3.5, 5.25)
"""

from __future__ import annotations

import numpy as np

from gradfit.kernels import Kernel

__all__ = ["backward", "forward"]


def _forward(x2, w, b, cpg, eps, cancel, y2, mean, rstd, offset):  # pragma: no cover
    """y2 = group-normalised x2 * w + b; mean, rstd (N * G,) float64 of each group, and
    offset[r] = 1 where mean^2 > cancel * var (E[x * dy] - mean * E[dy] cancels there)."""
    rows, sp = x2.shape
    c = w.shape[0]
    m = cpg * sp
    acc = np.zeros(sp, x2.dtype)
    t = np.zeros(3, x2.dtype)  # float64 -> the input's dtype
    mu = var = 0.0
    for r in range(rows // cpg):
        r0 = r * cpg
        # the sum, then the sum of squares about the (rounded) mean, in lanes
        for step in range(2):
            mf = t[0]
            s0 = s1 = s2 = s3 = s4 = s5 = s6 = s7 = 0.0
            for cc in range(cpg):
                xr = x2[r0 + cc]
                if step == 0:
                    for k in range(sp):
                        acc[k] += xr[k]
                else:
                    for k in range(sp):
                        d = xr[k] - mf
                        acc[k] += d * d
                if cc % 16 == 15 or cc == cpg - 1:  # fold the lanes into float64
                    k = 0
                    while k + 8 <= sp:
                        s0 += acc[k]
                        s1 += acc[k + 1]
                        s2 += acc[k + 2]
                        s3 += acc[k + 3]
                        s4 += acc[k + 4]
                        s5 += acc[k + 5]
                        s6 += acc[k + 6]
                        s7 += acc[k + 7]
                        k += 8
                    while k < sp:
                        s0 += acc[k]
                        k += 1
                    acc[:] = 0.0
            total = ((s0 + s4) + (s2 + s6)) + ((s1 + s5) + (s3 + s7))
            if step == 0:
                mu = total / m
                t[0] = mu
            else:
                dm = mu - np.float64(mf)  # the squares were about mf, not mu
                var = max(total / m - dm * dm, 0.0)
        rs = 1.0 / np.sqrt(var + eps)
        mean[r] = mu
        rstd[r] = rs
        offset[r] = mu * mu > cancel * var
        mf = t[0]
        for cc in range(cpg):
            ch = (r0 + cc) % c
            t[1] = rs * w[ch]
            a = t[1]
            bb = b[ch]
            xr = x2[r0 + cc]
            yr = y2[r0 + cc]
            for k in range(sp):
                yr[k] = (xr[k] - mf) * a + bb


def _backward(x2, dy2, cpg, mean, rstd, w, sdy, sdot, shift, dx2, dwb):  # pragma: no cover
    """The gradients from the sums per channel (N * C,) of dy (``sdy``) and of
    dy * (x - shift) (``sdot``, ``shift`` (N * G,) per group: 0 or the mean).

    Writes dwb[n, 0], dwb[n, 1] (C,) float64, sample n's terms of the weight's and bias's
    gradients (summed over the batch by the caller, in an order that does not depend on
    how the batch was split over threads), and, if dx2 has rows,
    dx2 = dy2 * rstd * w + (x2 - mean) * c2 + c3 with c2, c3 per group in float64
    (rounded to the input's dtype for the pass)."""
    rows, sp = x2.shape
    c = w.shape[0]
    groups = c // cpg
    m = cpg * sp
    t = np.zeros(4, x2.dtype)  # float64 -> the input's dtype
    for r in range(rows // cpg):
        r0 = r * cpg
        n = r // groups
        mu = mean[r]
        rs = rstd[r]
        off = mu - shift[r]
        s1 = s2 = 0.0
        for cc in range(cpg):
            i = r0 + cc
            ch = i % c
            sb = np.float64(sdy[i])
            sa = np.float64(sdot[i]) - off * sb  # sum of dy * (x - mean)
            s1 += w[ch] * sa
            s2 += w[ch] * sb
            dwb[n, 0, ch] = rs * sa
            dwb[n, 1, ch] = sb
        if dx2.shape[0] == 0:
            continue
        t[0] = mu
        t[1] = -s1 * rs * rs * rs / m
        t[2] = -s2 * rs / m
        mf = t[0]
        c2 = t[1]
        c3 = t[2]
        for cc in range(cpg):
            t[3] = rs * w[(r0 + cc) % c]
            a = t[3]
            xr = x2[r0 + cc]
            dr = dy2[r0 + cc]
            o = dx2[r0 + cc]
            for k in range(sp):
                o[k] = dr[k] * a + (xr[k] - mf) * c2 + c3


forward = Kernel(_forward)
backward = Kernel(_backward)
