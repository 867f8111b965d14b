"""Elementwise functions of one tensor and the activation functions.

Each op saves the smallest thing its derivative needs: ``exp``, ``tanh``,
``sigmoid`` and ``relu`` keep their output, the others their input.

Example:
    >>> import gradfit as gf
    >>> x = gf.tensor([-1.0, 0.0, 2.0], requires_grad=True)
    >>> gf.relu(x).sum().backward()
    >>> x.grad
    tensor([0., 0., 1.])
"""

from __future__ import annotations

import functools
import math
from typing import Any

import numpy as np

from gradfit import kernels, threads
from gradfit.autograd import Function
from gradfit.kernels.gelu import gelu_forward
from gradfit.kernels.relu import relu_grad_flat
from gradfit.tensor import Tensor


def _c(x: np.ndarray, value: float) -> Any:
    """``value`` as a scalar of ``x``'s dtype, so float32 stays float32."""
    return x.dtype.type(value)


_ZEROS: dict[np.dtype, np.ndarray] = {}
_ZEROS_MAX = 1 << 26  # elements; larger inputs compare against a scalar


def _zeros_like(x: np.ndarray) -> Any:
    """A read-only array of zeros shaped like ``x`` (a view of one cached buffer), or a scalar 0.

    NumPy's ``maximum`` against a scalar runs a loop several times slower than against an
    array (33 us vs 11 us for 128 x 512 float32). The buffer comes from ``np.zeros`` and is
    never written, so its pages stay the kernel's shared zero page: it costs no memory.
    """
    if x.size > _ZEROS_MAX or x.ndim == 0:
        return _c(x, 0)
    buf = _ZEROS.get(x.dtype)
    if buf is None or buf.size < x.size:
        buf = np.zeros(max(x.size, 1 << 16), dtype=x.dtype)
        buf.flags.writeable = False
        _ZEROS[x.dtype] = buf
    return buf[: x.size].reshape(x.shape)


# ReLU's input, output and gradient at least this large are split across gradfit's thread
# pool (gf.set_num_threads); smaller ones run on the calling thread, as before.
_SPLIT_BYTES = 1 << 20


def _relu(x: np.ndarray) -> np.ndarray:
    """max(x, 0), in batch slices on the thread pool when ``x`` is large."""
    if x.nbytes < _SPLIT_BYTES or threads.get_num_threads() == 1 or x.ndim == 0:
        return np.maximum(x, _zeros_like(x))
    out = np.empty(x.shape, x.dtype)
    return threads.elementwise(np.maximum, out, x, _zeros_like(x), min_bytes=_SPLIT_BYTES)


def _relu_grad(grad: np.ndarray, out: np.ndarray) -> np.ndarray:
    """grad where the ReLU's output is not <= 0, else 0, as PyTorch's ``threshold_backward``
    (a NaN output passes the gradient; an infinite gradient gives 0, not NaN, where the output
    is 0); split like :func:`_relu`.

    A product with the mask (one fast pass) is exact unless the gradient holds inf or NaN
    where the output is <= 0 (inf * 0); one sum finds that case, which then selects instead
    (a masked copy is about 5x slower than the product, so it is kept for that case).
    """
    dtype = np.result_type(grad.dtype, np.bool_)

    def product(g: np.ndarray, o: np.ndarray, out: np.ndarray) -> np.ndarray:
        keep = np.asarray(o <= 0)
        np.logical_not(keep, out=keep)
        with np.errstate(invalid="ignore"):  # inf * 0: found and redone below
            return np.multiply(g, keep, out=out)

    shape = np.broadcast_shapes(grad.shape, out.shape)
    if grad.nbytes < _SPLIT_BYTES or threads.get_num_threads() == 1 or grad.shape != out.shape:
        res = product(grad, out, np.empty(shape, dtype))
    else:
        res = threads.elementwise(
            product, np.empty(shape, dtype), grad, out, min_bytes=_SPLIT_BYTES
        )
    with np.errstate(over="ignore", invalid="ignore"):
        finite = np.isfinite(res.sum()) if res.size else True
    if not finite:  # (an overflowing sum only costs the select)
        np.copyto(res, np.broadcast_to(grad, shape))
        np.copyto(res, 0, where=out <= 0)
    return res


class Exp(Function):
    def forward(self, x: np.ndarray) -> np.ndarray:
        out = np.exp(x)
        self.saved = (out,)
        return out

    def backward(self, grad: np.ndarray) -> tuple[Any]:
        return (grad * self.saved[0],)

    def backward_graph(self, grad: Tensor) -> tuple[Any]:
        return (grad * self.output_tensor(self.saved[0]),)


class Log(Function):
    def forward(self, x: np.ndarray) -> np.ndarray:
        self.saved = (x,)
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.log(x)

    def backward(self, grad: np.ndarray) -> tuple[Any]:
        with np.errstate(divide="ignore", invalid="ignore"):
            return (grad / self.saved[0],)

    def backward_graph(self, grad: Tensor) -> tuple[Any]:
        return (grad / self.input_tensor(0, self.saved[0]),)


class Log1p(Function):
    def forward(self, x: np.ndarray) -> np.ndarray:
        self.saved = (x,)
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.log1p(x)

    def backward(self, grad: np.ndarray) -> tuple[Any]:
        with np.errstate(divide="ignore", invalid="ignore"):
            return (grad / (self.saved[0] + _c(grad, 1)),)

    def backward_graph(self, grad: Tensor) -> tuple[Any]:
        return (grad / (self.input_tensor(0, self.saved[0]) + 1.0),)


class Sqrt(Function):
    def forward(self, x: np.ndarray) -> np.ndarray:
        with np.errstate(invalid="ignore"):
            out = np.sqrt(x)
        self.saved = (out,)
        return out

    def backward(self, grad: np.ndarray) -> tuple[Any]:
        with np.errstate(divide="ignore", invalid="ignore"):
            return (grad * _c(grad, 0.5) / self.saved[0],)

    def backward_graph(self, grad: Tensor) -> tuple[Any]:
        return (grad * 0.5 / self.output_tensor(self.saved[0]),)


class Abs(Function):
    def forward(self, x: np.ndarray) -> np.ndarray:
        self.saved = (x,)
        return np.abs(x)

    def backward(self, grad: np.ndarray) -> tuple[Any]:
        return (grad * np.sign(self.saved[0]),)

    def backward_graph(self, grad: Tensor) -> tuple[Any]:
        return (grad * Tensor._wrap(np.sign(self.saved[0])),)


class Sign(Function):
    def forward(self, x: np.ndarray) -> np.ndarray:
        out = np.asarray(np.sign(x))
        if x.dtype.kind == "f":  # PyTorch: sign(nan) is 0
            np.copyto(out, 0, where=np.isnan(out))
        return out

    def backward(self, grad: np.ndarray) -> tuple[Any]:
        return (np.zeros_like(grad),)

    def backward_graph(self, grad: Tensor) -> tuple[Any]:
        return (grad * 0.0,)


class Sin(Function):
    def forward(self, x: np.ndarray) -> np.ndarray:
        self.saved = (x,)
        return np.sin(x)

    def backward(self, grad: np.ndarray) -> tuple[Any]:
        return (grad * np.cos(self.saved[0]),)

    def backward_graph(self, grad: Tensor) -> tuple[Any]:
        return (grad * self.input_tensor(0, self.saved[0]).cos(),)


class Cos(Function):
    def forward(self, x: np.ndarray) -> np.ndarray:
        self.saved = (x,)
        return np.cos(x)

    def backward(self, grad: np.ndarray) -> tuple[Any]:
        return (-grad * np.sin(self.saved[0]),)

    def backward_graph(self, grad: Tensor) -> tuple[Any]:
        return (-grad * self.input_tensor(0, self.saved[0]).sin(),)


class Tanh(Function):
    def forward(self, x: np.ndarray) -> np.ndarray:
        out = np.tanh(x)
        self.saved = (out,)
        return out

    def backward(self, grad: np.ndarray) -> tuple[Any]:
        (out,) = self.saved
        return (grad * (_c(out, 1) - out * out),)

    def backward_graph(self, grad: Tensor) -> tuple[Any]:
        out = self.output_tensor(self.saved[0])
        return (grad * (1.0 - out * out),)


def _sigmoid(x: np.ndarray) -> np.ndarray:
    """1 / (1 + e^-x) with full relative precision in both tails and no overflow.

    With e = exp(-|x|) <= 1: 1 / (1 + e) for x >= 0 and e / (1 + e) for x < 0.
    """
    e = np.empty_like(x)
    np.abs(x, out=e)
    np.negative(e, out=e)
    np.exp(e, out=e)
    out = np.where(x >= 0, _c(x, 1), e)
    e += _c(x, 1)
    out /= e
    return out


class Sigmoid(Function):
    """The logistic function 1 / (1 + e^-x), stable and precise for any x."""

    def forward(self, x: np.ndarray) -> np.ndarray:
        out = _sigmoid(x)
        self.saved = (out,)
        return out

    def backward(self, grad: np.ndarray) -> tuple[Any]:
        (out,) = self.saved
        return (grad * out * (_c(out, 1) - out),)

    def backward_graph(self, grad: Tensor) -> tuple[Any]:
        out = self.output_tensor(self.saved[0])
        return (grad * out * (1.0 - out),)


class ReLU(Function):
    # set on a node recorded by a fused convolution (gradfit.ops.conv_epilogue): its
    # backward hands the gradient on to the convolution's node, which applies it by chunks
    fused: Any = None

    def forward(self, x: np.ndarray) -> np.ndarray:
        out = _relu(x)
        self.saved = (out,)
        return out

    def backward(self, grad: np.ndarray) -> tuple[Any]:
        if self.fused is not None:
            handed = self.fused.defer_relu(grad)
            if handed is not None:
                return handed
        out = self.saved[0]
        if ReLU._kernel_ok(grad, out):  # one compiled pass (gradfit.kernels.relu)
            return (ReLU._kernel_grad(grad, out),)
        return (_relu_grad(grad, out),)

    @staticmethod
    def _kernel_ok(grad: np.ndarray, out: np.ndarray) -> bool:
        if grad.nbytes < 1 << 16:  # small arrays: NumPy's call is cheaper than the dispatch
            return False
        return (
            grad.dtype in (np.float32, np.float64)
            and out.dtype == grad.dtype
            and grad.shape == out.shape
            and grad.flags.c_contiguous
            and out.flags.c_contiguous
            and kernels.enabled()
        )

    @staticmethod
    def _kernel_grad(grad: np.ndarray, out: np.ndarray) -> np.ndarray:
        """grad where out > 0, else +0 (PyTorch's select), flat ranges on the pool when large."""
        res = np.empty(grad.shape, grad.dtype)
        g1, o1, r1 = grad.reshape(-1), out.reshape(-1), res.reshape(-1)
        parts = threads.spans(r1, _SPLIT_BYTES)
        if len(parts) == 1:
            relu_grad_flat(g1, o1, r1)
        else:
            threads.run_all(
                [functools.partial(relu_grad_flat, g1[a:b], o1[a:b], r1[a:b]) for a, b in parts],
                hold=False,
            )
        return res

    def backward_graph(self, grad: Tensor) -> tuple[Any]:
        return (grad * Tensor._wrap((self.saved[0] > 0).astype(grad.dtype)),)


class LeakyReLU(Function):
    def forward(self, x: np.ndarray, negative_slope: float) -> np.ndarray:
        self.slope = _c(x, negative_slope)
        self.saved = (x > 0,)
        return np.where(x > 0, x, x * self.slope)

    def backward(self, grad: np.ndarray) -> tuple[Any]:
        return (np.where(self.saved[0], grad, grad * self.slope),)

    def backward_graph(self, grad: Tensor) -> tuple[Any]:
        slope = np.where(self.saved[0], _c(self.slope, 1), self.slope)
        return (grad * Tensor._wrap(slope),)


class ELU(Function):
    def forward(self, x: np.ndarray, alpha: float) -> np.ndarray:
        self.alpha = _c(x, alpha)
        with np.errstate(over="ignore"):
            out = np.where(x > 0, x, self.alpha * np.expm1(np.minimum(x, _c(x, 0))))
        self.saved = (x > 0, out)
        return out

    def backward(self, grad: np.ndarray) -> tuple[Any]:
        pos, out = self.saved
        return (np.where(pos, grad, grad * (out + self.alpha)),)

    def backward_graph(self, grad: Tensor) -> tuple[Any]:
        from gradfit.ops.arithmetic import Where

        pos, out = self.saved
        return (Where.apply(grad, grad * (self.output_tensor(out) + float(self.alpha)), cond=pos),)


def _erf_parts(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(erf(x), exp(-x*x))``: the error function and the Gaussian it integrates.

    Exact (math.erf) in float64; in float32, Abramowitz-Stegun 7.1.26 (error below 1.5e-7,
    under float32 resolution), evaluated in place so that each step is one pass over memory
    (no temporaries): GELU's cost in a transformer is mostly here.
    """
    if x.ndim == 0:  # NumPy gives scalars, not arrays, for 0-d arithmetic
        e, g = _erf_parts(x.reshape(1))
        return e.reshape(()), g.reshape(())
    if x.dtype == np.float64:
        erf = np.vectorize(math.erf, otypes=[np.float64])(x) if x.size else x.copy()
        return erf, np.exp(-x * x)
    t = x.dtype.type
    k = np.abs(x)
    k *= t(0.3275911)
    k += t(1)
    np.reciprocal(k, out=k)
    poly = np.multiply(k, t(1.061405429))  # Horner
    for c in (-1.453152027, 1.421413741, -0.284496736, 0.254829592):
        poly += t(c)
        poly *= k
    gauss = np.multiply(x, x, out=k)
    np.negative(gauss, out=gauss)
    np.exp(gauss, out=gauss)
    poly *= gauss
    np.subtract(t(1), poly, out=poly)
    return np.copysign(poly, x, out=poly), gauss


def _gelu_parts(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(Phi(x), exp(-x*x/2))`` for float32 ``x``: :func:`_erf_parts` at ``x / sqrt(2)``
    with the constants folded in (``1/sqrt(2)`` into the first coefficient, ``1/2`` into the
    polynomial), so GELU takes 3 passes over memory fewer. ``Phi(x) = 1/2 + sign(x) (1/2 - q)``
    with ``q = 1 - Phi(|x|) = poly(k) exp(-x^2/2) / 2``.
    """
    t = x.dtype.type
    k = np.abs(x)
    k *= t(0.3275911 / math.sqrt(2))
    k += t(1)
    np.reciprocal(k, out=k)
    q = np.multiply(k, t(0.5 * 1.061405429))  # Horner, halved
    for c in (-1.453152027, 1.421413741, -0.284496736, 0.254829592):
        q += t(0.5 * c)
        q *= k
    gauss = np.multiply(x, x, out=k)
    gauss *= t(-0.5)
    np.exp(gauss, out=gauss)
    q *= gauss
    np.subtract(t(0.5), q, out=q)
    np.copysign(q, x, out=q)
    q += t(0.5)
    return q, gauss


def _erf(x: np.ndarray) -> np.ndarray:
    """The error function (see :func:`_erf_parts`)."""
    return _erf_parts(x)[0]


class GELU(Function):
    """GELU, exact (x * Phi(x)) or with PyTorch's ``approximate='tanh'``.

    The exact form computes its derivative ``Phi(x) + x phi(x)`` in forward, from the same
    Gaussian ``exp(-x^2/2)`` the error function needs, and saves only that.
    """

    def forward(self, x: np.ndarray, approximate: str) -> np.ndarray:
        self.approximate = approximate
        t = x.dtype.type
        if approximate == "tanh":
            k = t(math.sqrt(2 / math.pi))
            inner = k * (x + t(0.044715) * x * x * x)
            th = np.tanh(inner)
            self.saved = (x, th)
            return t(0.5) * x * (t(1) + th)
        if x.dtype == np.float32 and x.size and kernels.enabled():
            return self._forward_kernel(x)
        if x.dtype == np.float32 and x.ndim:
            cdf, gauss = _gelu_parts(x)
        else:
            erf, gauss = _erf_parts(x * t(1 / math.sqrt(2)))
            cdf = erf  # 0.5 * (1 + erf), in place
            cdf += t(1)
            cdf *= t(0.5)
        out = x * cdf
        if self.needs_input_grad[0]:
            gauss *= t(1 / math.sqrt(2 * math.pi))  # phi(x)
            gauss *= x
            gauss += cdf
            self.saved = (gauss, x)  # x (a reference): for a double backward
        return out

    def _forward_kernel(self, x: np.ndarray) -> np.ndarray:
        """The exact form in float32 by the compiled kernel (gradfit.kernels.gelu): output
        and derivative in one pass, in row slices on the thread pool when large."""
        want = bool(self.needs_input_grad[0])
        xf = np.ascontiguousarray(x).reshape(-1)
        out = np.empty(xf.shape, x.dtype)
        deriv = np.empty(xf.shape if want else (0,), x.dtype)

        def part(a: int, b: int) -> None:
            gelu_forward(xf[a:b], out[a:b], deriv[a:b] if want else deriv, want)

        threads.over_spans(part, xf, _SPLIT_BYTES)
        if want:
            self.saved = (deriv.reshape(x.shape), x)  # x (a reference): for a double backward
        return out.reshape(x.shape)

    def backward(self, grad: np.ndarray) -> tuple[Any]:
        if self.approximate == "tanh":
            x, th = self.saved
            t = x.dtype.type
            k = t(math.sqrt(2 / math.pi))
            dinner = k * (t(1) + t(3 * 0.044715) * x * x)
            d = t(0.5) * (t(1) + th) + t(0.5) * x * (t(1) - th * th) * dinner
            return (grad * d,)
        deriv = self.saved[0]
        return (grad * deriv,)

    def backward_graph(self, grad: Tensor) -> tuple[Any]:
        if self.approximate == "tanh":
            x = self.input_tensor(0, self.saved[0])
            k = math.sqrt(2 / math.pi)
            th = ((x + x * x * x * 0.044715) * k).tanh()
            dinner = (x * x * (3 * 0.044715) + 1.0) * k
            return (grad * ((th + 1.0) * 0.5 + x * (1.0 - th * th) * dinner * 0.5),)
        deriv, x = self.saved
        return (grad * _GELUDeriv.apply(self.input_tensor(0, x), deriv=deriv),)


class _GELUDeriv(Function):
    """GELU's derivative Phi(x) + x phi(x) as an op of x (for GELU's double backward);
    its own derivative is phi(x) (2 - x^2), written with Tensor ops."""

    def forward(self, x: np.ndarray, deriv: np.ndarray) -> np.ndarray:
        self.saved = (x,)
        return deriv

    def backward(self, grad: np.ndarray) -> tuple[Any]:
        (x,) = self.saved
        t = x.dtype.type
        return (grad * np.exp(-x * x * t(0.5)) * t(1 / math.sqrt(2 * math.pi)) * (t(2) - x * x),)

    def backward_graph(self, grad: Tensor) -> tuple[Any]:
        x = self.input_tensor(0, self.saved[0])
        phi = (x * x * -0.5).exp() * (1 / math.sqrt(2 * math.pi))
        return (grad * phi * (2.0 - x * x),)


class SiLU(Function):
    def forward(self, x: np.ndarray) -> np.ndarray:
        s = _sigmoid(x)
        self.saved = (x, s)
        return x * s

    def backward(self, grad: np.ndarray) -> tuple[Any]:
        x, s = self.saved
        return (grad * (s * (_c(x, 1) + x * (_c(x, 1) - s))),)

    def backward_graph(self, grad: Tensor) -> tuple[Any]:
        x = self.input_tensor(0, self.saved[0])
        s = x.sigmoid()
        return (grad * (s * (x * (1.0 - s) + 1.0)),)


class Softplus(Function):
    """log(1 + exp(beta x)) / beta, linear above ``threshold`` (PyTorch's definition)."""

    def forward(self, x: np.ndarray, beta: float, threshold: float) -> np.ndarray:
        b = _c(x, beta)
        bx = x * b
        self.saved = (bx,)
        self.beta, self.threshold = b, threshold
        return np.where(bx > threshold, x, np.logaddexp(_c(x, 0), bx) / b)

    def backward(self, grad: np.ndarray) -> tuple[Any]:
        (bx,) = self.saved
        return (np.where(bx > self.threshold, grad, grad * _sigmoid(bx)),)

    def backward_graph(self, grad: Tensor) -> tuple[Any]:
        from gradfit.ops.arithmetic import Where

        (bx,) = self.saved
        x = self.input_tensor(0, bx / self.beta)
        return (
            Where.apply(grad, grad * (x * float(self.beta)).sigmoid(), cond=bx > self.threshold),
        )


# ------------------------------------------------------------------ functional API


def _float(x: Tensor, op: str) -> Tensor:
    if not isinstance(x, Tensor):
        raise TypeError(f"{op}: expected a Tensor, got {type(x).__name__}")
    return x if x._data.dtype.kind == "f" else x.float()


def exp(x: Tensor) -> Tensor:
    """e to the power x.

    Example:
        >>> import gradfit as gf
        >>> gf.exp(gf.zeros(1))
        tensor([1.])
    """
    return Exp.apply(_float(x, "exp"))


def log(x: Tensor) -> Tensor:
    """Natural logarithm (``-inf`` at 0, NaN below, as in PyTorch).

    Example:
        >>> import gradfit as gf
        >>> gf.log(gf.ones(1))
        tensor([0.])
    """
    return Log.apply(_float(x, "log"))


def log1p(x: Tensor) -> Tensor:
    """log(1 + x), accurate for small x.

    Example:
        >>> import gradfit as gf
        >>> gf.log1p(gf.zeros(1))
        tensor([0.])
    """
    return Log1p.apply(_float(x, "log1p"))


def sqrt(x: Tensor) -> Tensor:
    """Square root.

    Example:
        >>> import gradfit as gf
        >>> gf.sqrt(gf.tensor([4.0]))
        tensor([2.])
    """
    return Sqrt.apply(_float(x, "sqrt"))


def abs(x: Tensor) -> Tensor:  # noqa: A001 - PyTorch's name
    """Absolute value (gradient 0 at 0, as in PyTorch).

    Example:
        >>> import gradfit as gf
        >>> gf.abs(gf.tensor([-2.0]))
        tensor([2.])
    """
    return Abs.apply(x)


def sign(x: Tensor) -> Tensor:
    """-1, 0 or 1 (gradient 0 everywhere).

    Example:
        >>> import gradfit as gf
        >>> gf.sign(gf.tensor([-2.0, 0.0, 3.0]))
        tensor([-1.,  0.,  1.])
    """
    return Sign.apply(x)


def sin(x: Tensor) -> Tensor:
    """Sine.

    Example:
        >>> import gradfit as gf
        >>> gf.sin(gf.zeros(1))
        tensor([0.])
    """
    return Sin.apply(_float(x, "sin"))


def cos(x: Tensor) -> Tensor:
    """Cosine.

    Example:
        >>> import gradfit as gf
        >>> gf.cos(gf.zeros(1))
        tensor([1.])
    """
    return Cos.apply(_float(x, "cos"))


def tanh(x: Tensor) -> Tensor:
    """Hyperbolic tangent.

    Example:
        >>> import gradfit as gf
        >>> gf.tanh(gf.zeros(1))
        tensor([0.])
    """
    return Tanh.apply(_float(x, "tanh"))


def sigmoid(x: Tensor) -> Tensor:
    """The logistic function 1 / (1 + e^-x), stable for any magnitude.

    Example:
        >>> import gradfit as gf
        >>> gf.sigmoid(gf.zeros(1))
        tensor([0.5])
    """
    return Sigmoid.apply(_float(x, "sigmoid"))


def relu(x: Tensor) -> Tensor:
    """max(x, 0).

    Example:
        >>> import gradfit as gf
        >>> gf.relu(gf.tensor([-1.0, 2.0]))
        tensor([0., 2.])
    """
    return ReLU.apply(x)


def leaky_relu(x: Tensor, negative_slope: float = 0.01) -> Tensor:
    """x for x > 0, ``negative_slope * x`` otherwise.

    Example:
        >>> import gradfit as gf
        >>> gf.leaky_relu(gf.tensor([-1.0, 2.0]), 0.1)
        tensor([-0.1,  2. ])
    """
    return LeakyReLU.apply(_float(x, "leaky_relu"), negative_slope=negative_slope)


def elu(x: Tensor, alpha: float = 1.0) -> Tensor:
    """x for x > 0, ``alpha * (exp(x) - 1)`` otherwise.

    Example:
        >>> import gradfit as gf
        >>> gf.elu(gf.tensor([0.0, 2.0]))
        tensor([0., 2.])
    """
    return ELU.apply(_float(x, "elu"), alpha=alpha)


def gelu(x: Tensor, approximate: str = "none") -> Tensor:
    """Gaussian error linear unit: x * Phi(x); ``approximate='tanh'`` for the tanh form.

    Example:
        >>> import gradfit as gf
        >>> gf.gelu(gf.zeros(1))
        tensor([0.])
    """
    if approximate not in ("none", "tanh"):
        raise ValueError(f"gelu: approximate must be 'none' or 'tanh', got {approximate!r}")
    return GELU.apply(_float(x, "gelu"), approximate=approximate)


def silu(x: Tensor) -> Tensor:
    """x * sigmoid(x) (also called swish).

    Example:
        >>> import gradfit as gf
        >>> gf.silu(gf.zeros(1))
        tensor([0.])
    """
    return SiLU.apply(_float(x, "silu"))


def softplus(x: Tensor, beta: float = 1.0, threshold: float = 20.0) -> Tensor:
    """log(1 + exp(beta * x)) / beta, a smooth ReLU; linear where beta * x > threshold.

    Example:
        >>> import gradfit as gf
        >>> round(gf.softplus(gf.zeros(1)).item(), 4)
        0.6931
    """
    return Softplus.apply(_float(x, "softplus"), beta=beta, threshold=threshold)
