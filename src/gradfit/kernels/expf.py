"""``exp`` for float32 kernels that LLVM can vectorise: Cephes' ``expf`` written out.

numba has no vector ``exp`` without Intel's SVML, and a call to the C library's ``expf``
stops a loop from being vectorised. This is Cephes' ``expf`` in plain float32 arithmetic:
range reduction by ``ln 2`` (in two parts, so ``r`` is exact), a degree-5 polynomial on
``[-ln 2 / 2, ln 2 / 2]`` (relative error about 1e-7) and the power of two made from its
bits. It is a :class:`gradfit.kernels.Kernel` with ``inline=True``: kernels call it in their
loops and numba inlines it there (GELU, the attention softmax).

The argument must be in ``[-87.3, 88.7]`` (the callers clamp it): below, ``2**n`` is not a
normal float32; above, it overflows.

Example:
    >>> import numpy as np
    >>> from gradfit import kernels
    >>> from gradfit.kernels.expf import expf
    >>> if kernels.enabled():
    ...     y = expf(np.float32(1.0))
    ... else:
    ...     y = np.exp(np.float32(1.0))
    >>> round(float(y), 5)
    2.71828
"""

from __future__ import annotations

import numpy as np

from gradfit.kernels import Kernel

__all__ = ["expf"]

_F = np.float32
_I = np.int32
_ROUND = _F(12582912.0)  # 1.5 * 2**23: adding and subtracting it rounds a float32 to an integer


def _expf(e):  # pragma: no cover - compiled by numba
    """``exp(e)`` for a float32 ``e`` in ``[-87.3, 88.7]``, in float32."""
    n = (e * _F(1.4426950408889634) + _ROUND) - _ROUND
    r = e - n * _F(0.693359375)
    r = r - n * _F(-2.12194440e-4)
    p = _F(1.9875691500e-4)
    p = p * r + _F(1.3981999507e-3)
    p = p * r + _F(8.3334519073e-3)
    p = p * r + _F(4.1665795894e-2)
    p = p * r + _F(1.6666665459e-1)
    p = p * r + _F(5.0000001201e-1)
    p = p * r * r + r + _F(1)
    return p * _I(_I(_I(n) + _I(127)) << _I(23)).view(np.float32)


expf = Kernel(_expf, inline=True)
