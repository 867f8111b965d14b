"""Compiled kernels of group normalisation (:mod:`gradfit.ops.group_norm`): the passes
NumPy makes slowly, as broadcasts over short rows with no fused multiply-add.

Both see the input as rows: ``x2`` of shape ``(N * C, S)`` (``S`` positions per channel),
``cpg`` consecutive rows making a group, and work one group at a time, one pass each:

* :func:`forward` writes ``(x - mean) * (rstd * w) + b`` from the group statistics;
* :func:`backward` forms each group's coefficients in float64 from the per-channel sums of
  ``dy`` and ``dy * x`` and writes ``dx`` centred on the mean, with the weight's and bias's
  gradients on the side.

The sums over rows (statistics, per-channel sums) stay BLAS calls on the caller's side:
numba does not vectorise a plain ``s += v`` loop without fastmath, and per-position lane
sums need a fold per row or group, which made a statistics kernel as fast as BLAS at 8
channels a group and 2-3 times slower at one (instance norm) or at long rows.

Example:
    >>> import numpy as np
    >>> from gradfit import kernels
    >>> from gradfit.kernels.group_norm import forward
    >>> x = np.arange(8, dtype=np.float32).reshape(2, 4)  # 1 sample, 2 channels, 1 group
    >>> w, b = np.array([1, 2], np.float32), np.zeros(2, np.float32)
    >>> mean, rstd, y = np.array([3.5]), np.array([0.5]), np.empty_like(x)
    >>> if kernels.enabled():
    ...     forward(x, w, b, 2, mean, rstd, y)
    ... else:
    ...     y[:] = (x - 3.5) * 0.5 * w[:, None]
    >>> y
    array([[-1.75, -1.25, -0.75, -0.25],
           [ 0.5 ,  1.5 ,  2.5 ,  3.5 ]], dtype=float32)
"""

from __future__ import annotations

import numpy as np

from gradfit.kernels import Kernel

__all__ = ["backward", "forward"]


def _forward(x2, w, b, cpg, mean, rstd, y2):  # pragma: no cover - compiled by numba
    """y2 = (x2 - mean) * (rstd * w) + b with mean, rstd (N * G,) float64 per group and
    w, b (C,); the mean and each channel's scale are rounded to the input's dtype."""
    rows, sp = x2.shape
    c = w.shape[0]
    t = np.zeros(2, x2.dtype)  # float64 -> the input's dtype
    for r in range(rows // cpg):
        r0 = r * cpg
        t[0] = mean[r]
        mf = t[0]
        for cc in range(cpg):
            ch = (r0 + cc) % c
            t[1] = rstd[r] * w[ch]
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
