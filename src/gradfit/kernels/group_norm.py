"""Compiled kernels of group normalisation (:mod:`gradfit.ops.group_norm`): forward and
backward, each in one read of the input from memory.

Both see the input as rows: ``x2`` of shape ``(N * C, S)`` (``S`` positions per channel),
``cpg`` consecutive rows making a group. They work one group at a time, so the group's
later passes read it from the L1/L2 cache. Sums run in *lanes*: one partial sum per
position of a row, in the input's dtype, folded into a float64 total (in 8 chains) every 16
rows and at the end of a group. numba vectorises such lane
loops without fastmath (a plain ``s += v`` loop cannot be reordered, so it would run one add
at a time). No float32 lane sums more than 16 terms, so the statistics are at least as
accurate as torch's (which sums in float32 too); totals, means, inverse standard
deviations and the per-group coefficients of the backward are float64.

Example:
    >>> import numpy as np
    >>> from gradfit import kernels
    >>> from gradfit.kernels.group_norm import forward
    >>> x = np.arange(8, dtype=np.float32).reshape(2, 4)  # 1 sample, 2 channels, 1 group
    >>> y, mean, rstd = np.empty_like(x), np.empty(1), np.empty(1)
    >>> one, zero = np.ones(2, np.float32), np.zeros(2, np.float32)
    >>> if kernels.enabled():
    ...     forward(x, one, zero, 2, 0.0, y, mean, rstd)
    ... else:
    ...     mean[:], rstd[:] = 3.5, 1 / np.sqrt(5.25)
    >>> float(mean[0]), round(float(rstd[0]) ** -2, 4)
    (3.5, 5.25)
"""

from __future__ import annotations

import numpy as np

from gradfit.kernels import Kernel

__all__ = ["backward", "forward"]


def _forward(x2, w, b, cpg, eps, y2, mean, rstd):  # pragma: no cover - compiled by numba
    """y2 = group-normalised x2 * w + b; mean, rstd (N * G,) float64 of each group."""
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


def _backward(x2, dy2, cpg, mean, rstd, w, dx2, dwb, need_dx, need_wb):  # pragma: no cover
    """dx2 from dy2 (if need_dx); dwb[0], dwb[1] (C,) float64: the sums over the batch and
    the positions of dy * (x - mean) * rstd and of dy (the weight's and bias's gradients)."""
    rows, sp = x2.shape
    c = w.shape[0]
    groups = c // cpg
    m = cpg * sp
    dt = x2.dtype
    g1 = np.zeros(sp, dt)
    g2 = np.zeros(sp, dt)
    aw = np.zeros((c if need_wb else 0, sp), dt)
    ab = np.zeros((c if need_wb else 0, sp), dt)
    t = np.zeros(5, dt)
    nsamples = rows // c
    dwb[:] = 0.0
    for r in range(rows // cpg):
        r0 = r * cpg
        n = r // groups
        t[0] = mean[r]
        t[1] = rstd[r]
        mf = t[0]
        rsf = t[1]
        s0 = s1 = s2 = s3 = u0 = u1 = u2 = u3 = 0.0
        for cc in range(cpg):
            wc = w[(r0 + cc) % c]
            xr = x2[r0 + cc]
            dr = dy2[r0 + cc]
            for k in range(sp):
                d = dr[k]
                g1[k] += wc * (d * (xr[k] - mf))
                g2[k] += wc * d
            if cc % 16 == 15 or cc == cpg - 1:  # fold the lanes into float64
                k = 0
                while k + 4 <= sp:
                    s0 += g1[k]
                    s1 += g1[k + 1]
                    s2 += g1[k + 2]
                    s3 += g1[k + 3]
                    u0 += g2[k]
                    u1 += g2[k + 1]
                    u2 += g2[k + 2]
                    u3 += g2[k + 3]
                    k += 4
                while k < sp:
                    s0 += g1[k]
                    u0 += g2[k]
                    k += 1
                g1[:] = 0.0
                g2[:] = 0.0
        sdx = (s0 + s2) + (s1 + s3)  # sum over the group of w * dy * (x - mean)
        sdy = (u0 + u2) + (u1 + u3)  # sum over the group of w * dy
        rs = rstd[r]
        t[2] = -sdx * rs * rs * rs / m
        t[3] = -sdy * rs / m
        c2 = t[2]
        c3 = t[3]
        for cc in range(cpg):
            ch = (r0 + cc) % c
            xr = x2[r0 + cc]
            dr = dy2[r0 + cc]
            if need_dx:
                t[4] = rs * w[ch]
                a = t[4]
                o = dx2[r0 + cc]
                for k in range(sp):
                    o[k] = dr[k] * a + (xr[k] - mf) * c2 + c3
            if need_wb:
                awr = aw[ch]
                abr = ab[ch]
                for k in range(sp):
                    d = dr[k]
                    awr[k] += rsf * (d * (xr[k] - mf))
                    abr[k] += d
        if need_wb and r % groups == groups - 1 and (n % 16 == 15 or n == nsamples - 1):
            for ch in range(c):  # fold the lanes into float64
                awr = aw[ch]
                abr = ab[ch]
                s0 = s1 = s2 = s3 = u0 = u1 = u2 = u3 = 0.0
                k = 0
                while k + 4 <= sp:
                    s0 += awr[k]
                    s1 += awr[k + 1]
                    s2 += awr[k + 2]
                    s3 += awr[k + 3]
                    u0 += abr[k]
                    u1 += abr[k + 1]
                    u2 += abr[k + 2]
                    u3 += abr[k + 3]
                    k += 4
                while k < sp:
                    s0 += awr[k]
                    u0 += abr[k]
                    k += 1
                dwb[0, ch] += (s0 + s2) + (s1 + s3)
                dwb[1, ch] += (u0 + u2) + (u1 + u3)
                awr[:] = 0.0
                abr[:] = 0.0


forward = Kernel(_forward)
backward = Kernel(_backward)
