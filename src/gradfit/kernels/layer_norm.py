"""Layer norm's compiled kernels (float32): one pass over the rows each way.

A transformer's rows are short (64 features), where NumPy pays its per-row overhead on
every step of the normalisation. Here each row is read once for its mean, once for its
variance (two passes over a row in L1: the centred variance, no cancellation), and once to
write the normalised row and the output; the backward reads the upstream gradient and the
saved normalised row once per row for the two row sums, and once more for the input
gradient, while summing the weight and bias gradients.

Row sums run in float32 over 8 partial sums (so they vectorise and lose less to rounding
than one running sum; PyTorch also sums in float32); the weight and bias gradients, sums
over all rows, accumulate in float64.

Example:
    >>> import numpy as np
    >>> import gradfit as gf
    >>> from gradfit import kernels
    >>> from gradfit.kernels.layer_norm import layer_norm_forward
    >>> x = np.array([[1.0, 2.0, 3.0]], np.float32)
    >>> out, xhat, invstd = np.empty_like(x), np.empty_like(x), np.empty(1, np.float32)
    >>> w, b = np.ones(3, np.float32), np.zeros(3, np.float32)
    >>> if kernels.enabled():
    ...     layer_norm_forward(x, w, b, np.float32(1e-5), out, xhat, invstd)
    ... else:  # gf.nn.functional.layer_norm takes its NumPy path
    ...     out[:] = gf.nn.functional.layer_norm(gf.tensor(x), (3,)).numpy()
    >>> np.round(out, 3)
    array([[-1.225,  0.   ,  1.225]], dtype=float32)
"""

from __future__ import annotations

import math

import numpy as np

from gradfit.kernels import Kernel

__all__ = ["layer_norm_backward", "layer_norm_forward"]

_F = np.float32


def _layer_norm_forward(x, w, b, eps, out, xhat, invstd):  # pragma: no cover - numba
    """Rows of ``x`` (R, D): ``xhat = (x - mean) * invstd``, ``out = xhat * w + b``."""
    R, D = x.shape
    D8 = D - D % 8
    inv_d = _F(1.0 / D)
    for i in range(R):
        s0 = s1 = s2 = s3 = s4 = s5 = s6 = s7 = _F(0)
        for j in range(0, D8, 8):
            s0 += x[i, j]
            s1 += x[i, j + 1]
            s2 += x[i, j + 2]
            s3 += x[i, j + 3]
            s4 += x[i, j + 4]
            s5 += x[i, j + 5]
            s6 += x[i, j + 6]
            s7 += x[i, j + 7]
        s = ((s0 + s1) + (s2 + s3)) + ((s4 + s5) + (s6 + s7))
        for j in range(D8, D):
            s += x[i, j]
        m = s * inv_d
        s0 = s1 = s2 = s3 = s4 = s5 = s6 = s7 = _F(0)
        for j in range(0, D8, 8):
            d0 = x[i, j] - m
            d1 = x[i, j + 1] - m
            d2 = x[i, j + 2] - m
            d3 = x[i, j + 3] - m
            d4 = x[i, j + 4] - m
            d5 = x[i, j + 5] - m
            d6 = x[i, j + 6] - m
            d7 = x[i, j + 7] - m
            s0 += d0 * d0
            s1 += d1 * d1
            s2 += d2 * d2
            s3 += d3 * d3
            s4 += d4 * d4
            s5 += d5 * d5
            s6 += d6 * d6
            s7 += d7 * d7
        v = ((s0 + s1) + (s2 + s3)) + ((s4 + s5) + (s6 + s7))
        for j in range(D8, D):
            d = x[i, j] - m
            v += d * d
        r = _F(1.0 / math.sqrt(v * inv_d + eps))
        invstd[i] = r
        for j in range(D):
            h = (x[i, j] - m) * r
            xhat[i, j] = h
            out[i, j] = h * w[j] + b[j]


def _layer_norm_backward(g, xhat, invstd, w, dx, dw, db, need_dx, need_dwb):  # pragma: no cover
    """Input gradient ``dx = invstd (g w - mean(g w) - xhat mean(g w xhat))`` (when
    ``need_dx``); ``dw += sum(g xhat)``, ``db += sum(g)`` over the rows (when ``need_dwb``;
    float64 accumulators)."""
    R, D = g.shape
    D8 = D - D % 8
    inv_d = _F(1.0 / D)
    for i in range(R):
        if need_dwb:
            for j in range(D):
                dw[j] += g[i, j] * xhat[i, j]
                db[j] += g[i, j]
        if not need_dx:
            continue
        a0 = a1 = a2 = a3 = a4 = a5 = a6 = a7 = _F(0)
        c0 = c1 = c2 = c3 = c4 = c5 = c6 = c7 = _F(0)
        for j in range(0, D8, 8):
            u0 = g[i, j] * w[j]
            u1 = g[i, j + 1] * w[j + 1]
            u2 = g[i, j + 2] * w[j + 2]
            u3 = g[i, j + 3] * w[j + 3]
            u4 = g[i, j + 4] * w[j + 4]
            u5 = g[i, j + 5] * w[j + 5]
            u6 = g[i, j + 6] * w[j + 6]
            u7 = g[i, j + 7] * w[j + 7]
            a0 += u0
            a1 += u1
            a2 += u2
            a3 += u3
            a4 += u4
            a5 += u5
            a6 += u6
            a7 += u7
            c0 += u0 * xhat[i, j]
            c1 += u1 * xhat[i, j + 1]
            c2 += u2 * xhat[i, j + 2]
            c3 += u3 * xhat[i, j + 3]
            c4 += u4 * xhat[i, j + 4]
            c5 += u5 * xhat[i, j + 5]
            c6 += u6 * xhat[i, j + 6]
            c7 += u7 * xhat[i, j + 7]
        a = ((a0 + a1) + (a2 + a3)) + ((a4 + a5) + (a6 + a7))
        c = ((c0 + c1) + (c2 + c3)) + ((c4 + c5) + (c6 + c7))
        for j in range(D8, D):
            u = g[i, j] * w[j]
            a += u
            c += u * xhat[i, j]
        a *= inv_d
        c *= inv_d
        r = invstd[i]
        for j in range(D):
            dx[i, j] = (g[i, j] * w[j] - a - xhat[i, j] * c) * r


layer_norm_forward = Kernel(_layer_norm_forward)
layer_norm_backward = Kernel(_layer_norm_backward)
