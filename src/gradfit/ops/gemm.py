"""``x @ W.T``, the forward GEMM of every affine layer, in the layout BLAS runs fastest.

NumPy hands ``x @ W.T`` to BLAS with a transpose flag and no copy. OpenBLAS (NumPy's BLAS
on Linux and Windows) is slow on it when ``x`` has 8-64 rows and ``W`` is large. There,
computing ``(W @ x.T).T`` and copying it to C order took 0.45-0.85x the time on this
project's machines, with the same bits: every output element is the same dot product,
summed in the same order (tested). A 784 -> 512 layer at batch 32 went 517 -> 336 µs at one
thread and 323 -> 213 µs at two; at batch 8, 347 -> 162 µs (benchmarks/RESULTS.md,
"Seventh session"). With BLAS on one thread the swap also pays up to 128 rows for a large
``W`` (784 -> 512 at batch 128: an MLP step 1.5-2.5 % faster, at batch 96 4 %; "Ninth
session"), not with two. With fewer rows, more rows or a small ``W`` the plain call is as
fast or faster (the copy costs more than it saves), and it is used there.

Used by ``Linear``, the RNN and LSTM steps (``h @ W_hh.T``) and ``gf.matmul`` (``x @ W.T``,
and the input gradient ``grad @ W.T`` of ``x @ W``).

Example:
    >>> import numpy as np
    >>> from gradfit.ops.gemm import matmul_nt
    >>> y = matmul_nt(np.ones((32, 128), np.float32), np.ones((256, 128), np.float32))
    >>> y.shape, y.flags.c_contiguous, float(y[0, 0])
    ((32, 256), True, 128.0)
"""

from __future__ import annotations

from typing import Any

import numpy as np

from gradfit import threads

# rows of x for which (W @ x.T).T is the faster layout, and the least size of W's two sides
SWAP_ROWS = (8, 64)
SWAP_MIN_SIDE = 128
# with BLAS on one thread: up to this many rows, for a W of at least this many elements
SWAP_ROWS_ONE_THREAD = 128
SWAP_MIN_SIZE_ONE_THREAD = 1 << 18


def matmul_nt(x: np.ndarray, w: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """``x @ w.T`` for a 2-D ``x`` (rows, k) and ``w`` (n, k): a new C-contiguous array, or ``out``.

    Example:
        >>> import numpy as np
        >>> from gradfit.ops.gemm import matmul_nt
        >>> matmul_nt(np.ones((2, 3)), np.ones((4, 3))).tolist()
        [[3.0, 3.0, 3.0, 3.0], [3.0, 3.0, 3.0, 3.0]]
    """
    rows = x.shape[0]
    if (
        SWAP_ROWS[0] <= rows
        and x.dtype == w.dtype == np.float32
        and w.flags.c_contiguous  # (the layout measured: a weight as stored)
        and (
            (rows <= SWAP_ROWS[1] and min(w.shape) >= SWAP_MIN_SIDE)
            or (
                rows <= SWAP_ROWS_ONE_THREAD
                and w.size >= SWAP_MIN_SIZE_ONE_THREAD
                and threads.blas_threads() == 1
            )
        )
    ):
        if out is None:
            return np.ascontiguousarray((w @ x.T).T)
        np.copyto(out, (w @ x.T).T)
        return out
    return np.matmul(x, w.T, out=out)


_ONES: dict[Any, np.ndarray] = {}  # by dtype: the longest ones vector handed out so far


def ones_vector(n: int, dtype: Any) -> np.ndarray:
    """A read-only vector of ``n`` ones, for sums as GEMVs (``ones @ m`` sums ``m``'s rows):
    a view of one kept vector per dtype, so a training step does not allocate and fill it
    again (2 us a call).

    Example:
        >>> import numpy as np
        >>> from gradfit.ops.gemm import ones_vector
        >>> ones_vector(3, np.float32) @ np.arange(6, dtype=np.float32).reshape(3, 2)
        array([6., 9.], dtype=float32)
    """
    dt = np.dtype(dtype)
    v = _ONES.get(dt)
    if v is None or v.shape[0] < n:
        v = np.ones(max(n, 1024), dt)
        v.flags.writeable = False
        _ONES[dt] = v  # (two threads racing here both get ones; either vector stays)
    return v[:n]
