"""SGD's update as compiled kernels: one pass over the weights instead of four.

NumPy's path for momentum SGD reads and writes the whole model four times a step
(``buf *= m``, ``buf += g``, ``tmp = lr * buf``, ``p -= tmp``); at batch 32 that was a sixth
of an MLP's step. These loops do the same float operations on each element, in the same
order and in the parameter's dtype, so the two paths give the same bits.

Example:
    >>> import numpy as np
    >>> from gradfit import kernels
    >>> from gradfit.kernels.sgd import sgd_momentum
    >>> p = np.ones(3, np.float32); g = np.full(3, 2.0, np.float32); buf = np.ones(3, np.float32)
    >>> lr, m = np.float32(0.5), np.float32(0.9)
    >>> if kernels.enabled():
    ...     sgd_momentum(p, g, buf, lr, m)
    ... else:  # the NumPy path
    ...     buf *= m; buf += g; p -= buf * lr
    >>> buf, p
    (array([2.9, 2.9, 2.9], dtype=float32), array([-0.45, -0.45, -0.45], dtype=float32))
"""

from __future__ import annotations

from gradfit.kernels import Kernel

__all__ = ["sgd_momentum", "sgd_plain"]


def _sgd_momentum(p, g, buf, lr, momentum):  # pragma: no cover - compiled by numba
    """``buf = momentum * buf + g; p -= lr * buf`` on flat arrays of one dtype."""
    for i in range(p.size):
        b = buf[i] * momentum
        b = b + g[i]
        buf[i] = b
        p[i] = p[i] - b * lr


def _sgd_plain(p, g, lr):  # pragma: no cover - compiled by numba
    """``p -= lr * g`` on flat arrays of one dtype."""
    for i in range(p.size):
        p[i] = p[i] - g[i] * lr


sgd_momentum = Kernel(_sgd_momentum)
sgd_plain = Kernel(_sgd_plain)
