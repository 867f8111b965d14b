"""GELU's compiled kernel (float32): ``x * Phi(x)`` and its derivative in one pass.

NumPy's GELU takes about a dozen passes over memory (the error function's polynomial, an
``exp``, the product, the derivative). Here each element is read once and the output and
the derivative ``Phi(x) + x phi(x)`` written once, and the loop is vectorised by LLVM: it
calls no library function (numba has no vector ``exp`` or ``erf`` without Intel's SVML) and
divides nothing (numba's Python error model puts a zero check on every division, which
stops vectorisation). So ``exp`` is Cephes' ``expf`` written out
(:mod:`gradfit.kernels.expf`, inlined) and ``1 / t`` is a
bit-trick guess refined by three Newton steps (relative error under 1e-7 for ``t`` in
``[1, 4.02]``, the range used here).

``Phi`` is Abramowitz-Stegun 7.1.26, as gradfit's NumPy path and PyTorch's vectorised CPU
kernel use (absolute error under 1.5e-7 in ``erf``). All arithmetic is float32.

Example:
    >>> import numpy as np
    >>> import gradfit as gf
    >>> from gradfit import kernels
    >>> from gradfit.kernels.gelu import gelu_forward
    >>> x = np.array([-1.0, 0.0, 2.0], np.float32)
    >>> out, deriv = np.empty_like(x), np.empty_like(x)
    >>> if kernels.enabled():
    ...     gelu_forward(x, out, deriv, True)
    ... else:  # gf.gelu takes its NumPy path
    ...     out[:] = gf.gelu(gf.tensor(x)).numpy()
    >>> np.round(out, 4)
    array([-0.1587,  0.    ,  1.9545], dtype=float32)
"""

from __future__ import annotations

import math

import numpy as np

from gradfit.kernels import Kernel
from gradfit.kernels.expf import expf

__all__ = ["gelu_forward"]

_F = np.float32
_I = np.int32
_BIG = _F(13.0)  # |x| from here on: exp(-x^2/2) is 0 (below float32's normal range)


def _gelu_forward(x, out, deriv, want_deriv):  # pragma: no cover - compiled by numba
    """``out = x Phi(x)``; ``deriv = Phi(x) + x phi(x)`` when ``want_deriv``; 1-D float32."""
    for i in range(x.size):
        v = x[i]
        a = abs(v)
        big = not a < _BIG  # also NaN
        if big:
            a = _BIG
        # k = 1 / (1 + p a) with p = 0.3275911 / sqrt(2): guess from the bits, 3 Newton steps
        t = _F(1) + _F(0.3275911 / math.sqrt(2)) * a
        k = _I(_I(0x7EF311C3) - _F(t).view(np.int32)).view(np.float32)
        k = k * (_F(2) - t * k)
        k = k * (_F(2) - t * k)
        k = k * (_F(2) - t * k)
        # q = poly(k) / 2 (Horner, coefficients halved)
        q = _F(0.5 * 1.061405429)
        q = q * k + _F(0.5 * -1.453152027)
        q = q * k + _F(0.5 * 1.421413741)
        q = q * k + _F(0.5 * -0.284496736)
        q = q * k + _F(0.5 * 0.254829592)
        q = q * k
        # g = exp(e), e = -a^2 / 2 in [-84.5, 0] (Cephes expf, inlined)
        g = expf(_F(-0.5) * a * a)
        if big:
            g = _F(0)
        q *= g  # 1 - Phi(|x|)
        c = q if v < _F(0) else _F(1) - q  # Phi(x)
        out[i] = v * c
        if want_deriv:
            deriv[i] = c + v * _F(1 / math.sqrt(2 * math.pi)) * g


gelu_forward = Kernel(_gelu_forward)
