"""Compiled max-pooling kernels (numba): the window maximum and its index in one pass, and
the scatter of the gradient back to those indices.

Both work on planes: an input viewed as ``(P, H, W)`` (every leading axis folded into
``P``). The forward is the common 2x2 window with stride 2 (no padding or dilation; other
geometries keep the NumPy path, where a general compiled loop was no faster: its
data-dependent branches mispredict); the backward scatter takes any geometry. Each plane
is independent, so :mod:`gradfit.ops.pool` runs ranges of planes on gradfit's thread pool
(the kernels release the GIL) and the bits do not depend on the split.

The index is PyTorch's: the flat position ``h * W + w`` in the plane of the first element
that is greater than every earlier one in row-major order, or of the last NaN (a later
element wins if ``v > max`` or ``v`` is NaN, as ATen's CPU kernel). The backward adds each
window's gradient at its index in output order (float32 stays float32, as PyTorch).

Example:
    >>> import numpy as np
    >>> from gradfit import kernels
    >>> from gradfit.kernels.pool import max_pool_2x2
    >>> x = np.arange(16, dtype=np.float32).reshape(1, 4, 4)
    >>> out = np.empty((1, 2, 2), np.float32)
    >>> arg = np.empty((1, 2, 2), np.int32)
    >>> if kernels.enabled():
    ...     max_pool_2x2(x, out, arg)
    ... else:  # the same result on the NumPy path
    ...     out[:] = x.reshape(1, 2, 2, 2, 2).max(axis=(2, 4))
    ...     arg[:] = [[[5, 7], [13, 15]]]
    >>> out.tolist(), arg.tolist()
    ([[[5.0, 7.0], [13.0, 15.0]]], [[[5, 7], [13, 15]]])
"""

from __future__ import annotations

from typing import Any

from gradfit.kernels import Kernel

__all__ = ["max_pool_2x2", "max_unpool_planes"]


def _max_pool_2x2(x: Any, out: Any, arg: Any) -> None:
    """out[p, oh, ow] = max of the 2x2 window at (2 oh, 2 ow), arg[p, oh, ow] = its flat index.

    ``x`` is (P, H, W); ``out`` (P, H // 2, W // 2) of x's dtype; ``arg`` int32. The window
    is unrolled and each step is a select, not a branch (random data would mispredict
    half of them: 5 ms instead of 0.7 ms for LeNet's first pooling).
    """
    P, W = x.shape[0], x.shape[2]
    OH, OW = out.shape[1], out.shape[2]
    for p in range(P):
        for oh in range(OH):
            h = 2 * oh
            for ow in range(OW):
                w = 2 * ow
                m = x[p, h, w]
                k = h * W + w
                v = x[p, h, w + 1]
                t = (v > m) | (v != v)
                m = v if t else m
                k = (h * W + w + 1) if t else k
                v = x[p, h + 1, w]
                t = (v > m) | (v != v)
                m = v if t else m
                k = (h * W + W + w) if t else k
                v = x[p, h + 1, w + 1]
                t = (v > m) | (v != v)
                m = v if t else m
                k = (h * W + W + w + 1) if t else k
                out[p, oh, ow] = m
                arg[p, oh, ow] = k


def _max_unpool_planes(g: Any, arg: Any, gx: Any) -> None:
    """gx[p, :] = 0, then gx[p, arg[p, o]] += g[p, o] for every output position o in order.

    ``g`` and ``arg`` are (P, OH * OW), ``gx`` is (P, H * W) of g's dtype. A plane is zeroed
    just before its scatter, so it is still in cache for the adds.
    """
    P, L = gx.shape
    M = g.shape[1]
    for p in range(P):
        for k in range(L):
            gx[p, k] = 0
        for o in range(M):
            gx[p, arg[p, o]] += g[p, o]


max_pool_2x2 = Kernel(_max_pool_2x2)
max_unpool_planes = Kernel(_max_unpool_planes)
