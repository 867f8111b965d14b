"""Compiled backward of a convolution's fused ReLU and 2x2 max pooling (numba).

:mod:`gradfit.ops.conv_epilogue` fuses ``Conv2d -> ReLU -> MaxPool2d(2)``. In the backward
pass, the convolution needs its output gradient chunk by chunk in its GEMM layout. Here
that chunk is made in one pass per (sample, channel) plane, in cache: the pooled gradient
added at each window's maximum (as :func:`gradfit.kernels.pool.max_unpool_planes`), or
without pooling the ReLU's output gradient copied, then zero where the ReLU's output is
``<= 0`` (the select of :func:`gradfit.kernels.relu.relu_grad_flat`: +0 there, a NaN
output passes the gradient). For the full-im2col layout (C, n, H, W) each plane is
written in its place there; for the row layout (C, H, n, W) the planes go to an NCHW
buffer, which NumPy copies to the layout faster than a kernel writing short rows
(50 against 57 µs for LeNet's conv2 chunk; in place for conv1: 53 against 79). The values
are the unfused ops' (the same additions in the same order).

Example:
    >>> import numpy as np
    >>> from gradfit import kernels
    >>> from gradfit.kernels.epilogue import relu_pool_grad
    >>> g = np.array([[1.0]], np.float32)          # one plane, a 1x1 pooled gradient
    >>> arg = np.array([[3]], np.int32)            # its maximum: position 3 of the 2x2 plane
    >>> out = np.array([[0.0, 1.0, 2.0, 3.0]], np.float32)  # the ReLU's output
    >>> gt = np.empty((1, 1, 4), np.float32)       # (C, n, H * W)
    >>> if kernels.enabled():
    ...     relu_pool_grad(g, arg, True, out, gt, True)
    ... else:
    ...     gt[:] = [[[0.0, 0.0, 0.0, 1.0]]]
    >>> gt.ravel().tolist()
    [0.0, 0.0, 0.0, 1.0]
"""

from __future__ import annotations

from typing import Any

from gradfit.kernels import Kernel

__all__ = ["relu_grad_cn", "relu_pool_grad"]


def _relu_pool_grad(g: Any, arg: Any, pooled: bool, out: Any, dst: Any, cn: bool) -> None:
    """The gradient of a convolution's output chunk through its ReLU (and pooling), by planes.

    ``out`` is the ReLU's output, (P, H * W) with plane ``p = m * C + c`` of sample ``m``,
    channel ``c``. With ``pooled``, ``g`` is the pooled gradient and ``arg`` the maxima's
    flat indices, both (P, OH * OW); otherwise ``g`` is the ReLU's output gradient, (P,
    H * W), and ``arg`` is unread. Plane ``(m, c)`` goes to ``dst[c, m]`` with ``cn`` (``dst``
    (C, n, H * W): the convolution's full-im2col layout, written in place) or to ``dst[m, c]``
    (``dst`` (n, C, H * W): NCHW). Each plane is zeroed, gets its additions, then its mask,
    while in cache.
    """
    P, L = out.shape
    A, B = dst.shape[0], dst.shape[1]
    C = A if cn else B
    M = g.shape[1]
    for p in range(P):
        m, c = p // C, p % C
        row = dst[c, m] if cn else dst[m, c]
        orow = out[p]
        grow = g[p]
        if pooled:
            for k in range(L):
                row[k] = 0
            aro = arg[p]
            for o in range(M):
                row[aro[o]] += grow[o]
            for k in range(L):
                row[k] = 0.0 if orow[k] <= 0 else row[k]
        else:
            for k in range(L):
                row[k] = 0.0 if orow[k] <= 0 else grow[k]


def _relu_grad_cn(g: Any, out: Any, dst: Any) -> None:
    """``dst[c, m, k] = g[m, c, k]`` where the ReLU's output ``out[m, c, k] > 0`` (or NaN),
    else +0: :func:`relu_pool_grad` without pooling, into the full-im2col layout, as one
    loop over the chunk instead of one per plane (MNIST-1D's planes are 5-19 values long,
    where the per-plane views cost more than the values: 24 -> 13 us a 100-sample chunk).

    ``g`` and ``out`` are (n, C, L), ``dst`` is (C, n, L).
    """
    n, C, L = out.shape
    for m in range(n):
        for c in range(C):
            for k in range(L):
                dst[c, m, k] = 0.0 if out[m, c, k] <= 0 else g[m, c, k]


relu_pool_grad = Kernel(_relu_pool_grad)
relu_grad_cn = Kernel(_relu_grad_cn)
