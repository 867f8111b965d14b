"""Compiled ReLU backward (numba): the output gradient, or 0 where the ReLU's output is
``<= 0``, in one pass over flat arrays (NumPy's ``grad * (out > 0)`` makes a bool temporary
and a second pass).

A select, as PyTorch's ``threshold_backward``: where the output is ``<= 0`` the result is
+0, also for an infinite or NaN gradient (NumPy's product would give NaN there, and -0
for a negative gradient), and where the output is NaN the gradient passes (NumPy's
``out > 0`` would give 0). :class:`gradfit.ops.unary.ReLU` runs it on ranges of the flat
arrays on gradfit's thread pool when they are large (it releases the GIL).

Example:
    >>> import numpy as np
    >>> from gradfit import kernels
    >>> from gradfit.kernels.relu import relu_grad_flat
    >>> g = np.array([1.0, 2.0, 3.0], np.float32)
    >>> out = np.array([0.5, 0.0, 2.0], np.float32)
    >>> res = np.empty_like(g)
    >>> if kernels.enabled():
    ...     relu_grad_flat(g, out, res)
    ... else:
    ...     res[:] = np.where(out > 0, g, 0)
    >>> res.tolist()
    [1.0, 0.0, 3.0]
"""

from __future__ import annotations

from typing import Any

from gradfit.kernels import Kernel

__all__ = ["relu_grad_flat"]


def _relu_grad_flat(g: Any, out: Any, res: Any) -> None:
    """res[i] = 0 if out[i] <= 0 else g[i], for 1-D arrays of one length (res of g's dtype).

    PyTorch's test: a NaN output (from a NaN input) passes the gradient through.
    """
    for i in range(g.shape[0]):
        res[i] = 0.0 if out[i] <= 0 else g[i]


relu_grad_flat = Kernel(_relu_grad_flat)
