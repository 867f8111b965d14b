"""More elementwise functions: logarithms and exponentials in other bases, hyperbolic and
inverse trigonometric functions, the error function family, rounding (zero gradient),
and the binary atan2, hypot, lerp, fmod, remainder.

Each is one small :class:`Function` whose derivative is written from its input ``x`` and
output ``out``; integer inputs of the float functions become float32, as in PyTorch.

Example:
    >>> import gradfit as gf
    >>> gf.log10(gf.tensor([100.0])).tolist(), gf.floor(gf.tensor([1.5])).tolist()
    ([2.0], [1.0])
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

from gradfit.autograd import Function, sum_to
from gradfit.ops.arithmetic import Where
from gradfit.ops.unary import _erf
from gradfit.tensor import Tensor, tensors_of


def _float(x: Tensor) -> Tensor:
    return x if x._data.dtype.kind == "f" else x.float()


class _Unary(Function):
    """``out = f(x)`` with ``dx = df(x, out) * grad``; subclasses set ``f`` and ``df``."""

    @staticmethod
    def f(x: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    @staticmethod
    def df(x: np.ndarray, out: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def forward(self, x: np.ndarray) -> np.ndarray:
        with np.errstate(all="ignore"):
            out = np.asarray(type(self).f(x)).astype(x.dtype, copy=False)
        self.saved = (x, out)
        return out

    def backward(self, grad: np.ndarray) -> tuple[Any]:
        x, out = self.saved
        with np.errstate(all="ignore"):
            return ((grad * type(self).df(x, out)).astype(grad.dtype, copy=False),)

    #: ``df`` written with Tensor operations (``x`` and ``out`` in the graph), for a
    #: double backward; None where a subclass has none.
    df_graph: Callable[[Tensor, Tensor], Tensor] | None = None

    def backward_graph(self, grad: Tensor) -> tuple[Any]:
        if self.df_graph is None:
            raise NotImplementedError(f"double backward is not implemented for {self.name}")
        x, out = self.saved
        with np.errstate(all="ignore"):
            d = type(self).df_graph(self.input_tensor(0, x), self.output_tensor(out))
            return (grad * d,)


def _c(x: np.ndarray, v: float) -> Any:
    return x.dtype.type(v)


class Log10(_Unary):
    f = staticmethod(np.log10)
    df = staticmethod(lambda x, out: 1 / (x * _c(x, math.log(10))))
    df_graph = staticmethod(lambda x, out: 1.0 / (x * math.log(10)))


class Log2(_Unary):
    f = staticmethod(np.log2)
    df = staticmethod(lambda x, out: 1 / (x * _c(x, math.log(2))))
    df_graph = staticmethod(lambda x, out: 1.0 / (x * math.log(2)))


class Exp2(_Unary):
    f = staticmethod(np.exp2)
    df = staticmethod(lambda x, out: out * _c(x, math.log(2)))
    df_graph = staticmethod(lambda x, out: out * math.log(2))


class Expm1(_Unary):
    f = staticmethod(np.expm1)
    df = staticmethod(lambda x, out: out + _c(x, 1))
    df_graph = staticmethod(lambda x, out: out + 1.0)


class Sinh(_Unary):
    f = staticmethod(np.sinh)
    df = staticmethod(lambda x, out: np.cosh(x))
    df_graph = staticmethod(lambda x, out: x.cosh())


class Cosh(_Unary):
    f = staticmethod(np.cosh)
    df = staticmethod(lambda x, out: np.sinh(x))
    df_graph = staticmethod(lambda x, out: x.sinh())


class Tan(_Unary):
    f = staticmethod(np.tan)
    df = staticmethod(lambda x, out: _c(x, 1) + out * out)
    df_graph = staticmethod(lambda x, out: out * out + 1.0)


class Asin(_Unary):
    f = staticmethod(np.arcsin)
    df = staticmethod(lambda x, out: 1 / np.sqrt(_c(x, 1) - x * x))
    df_graph = staticmethod(lambda x, out: (1.0 - x * x) ** -0.5)


class Acos(_Unary):
    f = staticmethod(np.arccos)
    df = staticmethod(lambda x, out: -1 / np.sqrt(_c(x, 1) - x * x))
    df_graph = staticmethod(lambda x, out: -((1.0 - x * x) ** -0.5))


class Atan(_Unary):
    f = staticmethod(np.arctan)
    df = staticmethod(lambda x, out: 1 / (_c(x, 1) + x * x))
    df_graph = staticmethod(lambda x, out: 1.0 / (x * x + 1.0))


class Asinh(_Unary):
    f = staticmethod(np.arcsinh)
    df = staticmethod(lambda x, out: 1 / np.sqrt(x * x + _c(x, 1)))
    df_graph = staticmethod(lambda x, out: (x * x + 1.0) ** -0.5)


class Acosh(_Unary):
    f = staticmethod(np.arccosh)
    df = staticmethod(lambda x, out: 1 / np.sqrt(x * x - _c(x, 1)))
    df_graph = staticmethod(lambda x, out: (x * x - 1.0) ** -0.5)


class Atanh(_Unary):
    f = staticmethod(np.arctanh)
    df = staticmethod(lambda x, out: 1 / (_c(x, 1) - x * x))
    df_graph = staticmethod(lambda x, out: 1.0 / (1.0 - x * x))


_TWO_OVER_SQRT_PI = 2 / math.sqrt(math.pi)


class Erf(_Unary):
    f = staticmethod(_erf)
    df = staticmethod(lambda x, out: _c(x, _TWO_OVER_SQRT_PI) * np.exp(-x * x))
    df_graph = staticmethod(lambda x, out: (-x * x).exp() * _TWO_OVER_SQRT_PI)


class Erfc(_Unary):
    f = staticmethod(
        lambda x: (
            np.vectorize(math.erfc, otypes=[np.float64])(x) if x.size else x.astype(np.float64)
        )
    )
    df = staticmethod(lambda x, out: _c(x, -_TWO_OVER_SQRT_PI) * np.exp(-x * x))
    df_graph = staticmethod(lambda x, out: (-x * x).exp() * -_TWO_OVER_SQRT_PI)


def _erfinv(x: np.ndarray) -> np.ndarray:
    """Giles' approximation refined by two Newton steps on the exact (math.erf) error function."""
    a = x.astype(np.float64)
    w = -np.log((1 - a) * (1 + a))
    lo = w < 5
    wl = w - 2.5
    p1 = 2.81022636e-08
    for c in (3.43273939e-07, -3.5233877e-06, -4.39150654e-06, 0.00021858087, -0.00125372503,
              -0.00417768164, 0.246640727, 1.50140941):  # fmt: skip
        p1 = c + p1 * wl
    wh = np.sqrt(np.where(lo, 5.0, w)) - 3
    p2 = -0.000200214257
    for c in (0.000100950558, 0.00134934322, -0.00367342844, 0.00573950773, -0.0076224613,
              0.00943887047, 1.00167406, 2.83297682):  # fmt: skip
        p2 = c + p2 * wh
    y = np.where(lo, p1, p2) * a
    finite = np.abs(a) < 1
    erf = np.vectorize(math.erf, otypes=[np.float64])
    for _ in range(2):
        yy = np.where(finite, y, 0.0)
        if yy.size:
            y = np.where(finite, yy - (erf(yy) - a) / (_TWO_OVER_SQRT_PI * np.exp(-yy * yy)), y)
    y = np.where(a == 1, np.inf, np.where(a == -1, -np.inf, y))
    return np.where(np.abs(a) > 1, np.nan, y)


class Erfinv(_Unary):
    f = staticmethod(_erfinv)
    df = staticmethod(lambda x, out: _c(x, math.sqrt(math.pi) / 2) * np.exp(out * out))
    df_graph = staticmethod(lambda x, out: (out * out).exp() * (math.sqrt(math.pi) / 2))


_UNARY = {
    "log10": Log10, "log2": Log2, "exp2": Exp2, "expm1": Expm1, "sinh": Sinh, "cosh": Cosh,
    "tan": Tan, "asin": Asin, "acos": Acos, "atan": Atan, "asinh": Asinh, "acosh": Acosh,
    "atanh": Atanh, "erf": Erf, "erfc": Erfc, "erfinv": Erfinv,
}  # fmt: skip


def _make(name: str, cls: type[_Unary]) -> Any:
    def fn(input: Tensor) -> Tensor:  # noqa: A002
        if not isinstance(input, Tensor):
            raise TypeError(
                f"{name}(): argument 'input' must be a Tensor, got {type(input).__name__}"
            )
        return cls.apply(_float(input))

    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = (
        f"Elementwise ``{name}`` (integers become float32), with its derivative.\n\n"
        "Example:\n"
        "    >>> import gradfit as gf\n"
        f"    >>> gf.{name}(gf.tensor([0.5])).shape\n"
        "    (1,)\n"
    )
    return fn


log10 = _make("log10", Log10)
log2 = _make("log2", Log2)
exp2 = _make("exp2", Exp2)
expm1 = _make("expm1", Expm1)
sinh = _make("sinh", Sinh)
cosh = _make("cosh", Cosh)
tan = _make("tan", Tan)
asin = arcsin = _make("asin", Asin)
acos = arccos = _make("acos", Acos)
atan = arctan = _make("atan", Atan)
asinh = arcsinh = _make("asinh", Asinh)
acosh = arccosh = _make("acosh", Acosh)
atanh = arctanh = _make("atanh", Atanh)
erf = _make("erf", Erf)
erfc = _make("erfc", Erfc)
erfinv = _make("erfinv", Erfinv)


# ------------------------------------------------------------------ rounding: zero gradient


class _Round(Function):
    def forward(self, x: np.ndarray, how: str, decimals: int = 0) -> np.ndarray:
        if how == "round":
            return np.round(x, decimals)  # half to even, as PyTorch
        return getattr(np, how)(x)

    def backward(self, grad: np.ndarray) -> tuple[Any]:
        return (np.zeros_like(grad),)

    def backward_graph(self, grad: Tensor) -> tuple[Any]:
        return (grad * 0.0,)


def _rounding(how: str, doc: str, example: str) -> Any:
    def fn(input: Tensor) -> Tensor:  # noqa: A002
        if input._data.dtype.kind in "biu":  # integers are already whole
            return input.clone()
        return _Round.apply(input, how=how)

    fn.__name__ = fn.__qualname__ = how
    fn.__doc__ = (
        f"{doc} (the gradient is zero).\n\nExample:\n    >>> import gradfit as gf\n{example}"
    )
    return fn


floor = _rounding(
    "floor", "Round down", "    >>> gf.floor(gf.tensor([-1.5])).tolist()\n    [-2.0]\n"
)
ceil = _rounding("ceil", "Round up", "    >>> gf.ceil(gf.tensor([-1.5])).tolist()\n    [-1.0]\n")
trunc = _rounding(
    "trunc", "Round towards zero", "    >>> gf.trunc(gf.tensor([-1.5])).tolist()\n    [-1.0]\n"
)
fix = trunc


def round(input: Tensor, *, decimals: int = 0) -> Tensor:  # noqa: A001, A002
    """Round to the nearest integer, halves to even (or to ``decimals`` places); zero gradient.

    Example:
        >>> import gradfit as gf
        >>> gf.round(gf.tensor([0.5, 1.5, 2.675]), decimals=0).tolist()
        [0.0, 2.0, 3.0]
    """
    if input._data.dtype.kind in "biu":
        return input.clone()
    return _Round.apply(input, how="round", decimals=decimals)


class Frac(Function):
    def forward(self, x: np.ndarray) -> np.ndarray:
        return x - np.trunc(x)

    def backward(self, grad: np.ndarray) -> tuple[Any]:
        return (grad,)

    def backward_graph(self, grad: Tensor) -> tuple[Any]:
        return (grad,)


def frac(input: Tensor) -> Tensor:  # noqa: A002
    """The fractional part ``x - trunc(x)`` (gradient 1).

    Example:
        >>> import gradfit as gf
        >>> gf.frac(gf.tensor([-1.25, 2.5])).tolist()
        [-0.25, 0.5]
    """
    if input._data.dtype.kind != "f":
        # PyTorch: NotImplementedError (a RuntimeError)
        raise NotImplementedError(f"frac: expected a floating-point tensor, got {input.dtype}")
    return Frac.apply(input)


# ------------------------------------------------------------------ binary


class Atan2(Function):
    def forward(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        self.saved = (a, b)
        return np.arctan2(a, b)

    def backward(self, grad: np.ndarray) -> tuple[Any, Any]:
        a, b = self.saved
        with np.errstate(all="ignore"):
            den = a * a + b * b
            ga = sum_to(grad * b / den, a.shape) if self.needs_input_grad[0] else None
            gb = sum_to(-grad * a / den, b.shape) if self.needs_input_grad[1] else None
        return ga, gb

    def backward_graph(self, grad: Tensor) -> tuple[Any, Any]:
        a, b = self.saved
        at, bt = self.input_tensor(0, a), self.input_tensor(1, b)
        with np.errstate(all="ignore"):
            den = at * at + bt * bt
            ga = sum_to(grad * bt / den, a.shape) if self.needs_input_grad[0] else None
            gb = sum_to(-grad * at / den, b.shape) if self.needs_input_grad[1] else None
        return ga, gb


class Hypot(Function):
    def forward(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        out = np.hypot(a, b)
        self.saved = (a, b, out)
        return out

    def backward(self, grad: np.ndarray) -> tuple[Any, Any]:
        a, b, out = self.saved
        with np.errstate(all="ignore"):
            ga = sum_to(grad * a / out, a.shape) if self.needs_input_grad[0] else None
            gb = sum_to(grad * b / out, b.shape) if self.needs_input_grad[1] else None
        return ga, gb

    def backward_graph(self, grad: Tensor) -> tuple[Any, Any]:
        a, b, out = self.saved
        na, nb = self.needs_input_grad
        outt = self.output_tensor(out)
        with np.errstate(all="ignore"):
            ga = sum_to(grad * self.input_tensor(0, a) / outt, a.shape) if na else None
            gb = sum_to(grad * self.input_tensor(1, b) / outt, b.shape) if nb else None
        return ga, gb


class Mod(Function):
    """``fmod`` (sign of the dividend, C's) or ``remainder`` (sign of the divisor, Python's)."""

    def forward(self, a: np.ndarray, b: np.ndarray, python: bool) -> np.ndarray:
        if a.dtype.kind in "iu" and (np.asarray(b) == 0).any():
            op = "remainder" if python else "fmod"
            raise RuntimeError(f"ZeroDivisionError: {op} of integers by zero")
        self.python = python
        if self.needs_input_grad[1]:
            self.saved = (a, b)
        self.shapes = (a.shape, b.shape)
        with np.errstate(all="ignore"):
            return np.asarray(np.mod(a, b) if python else np.fmod(a, b))

    def backward(self, grad: np.ndarray) -> tuple[Any, Any]:
        ga = sum_to(grad, self.shapes[0]) if self.needs_input_grad[0] else None
        gb = None
        if self.needs_input_grad[1]:
            a, b = self.saved
            with np.errstate(all="ignore"):
                q = np.floor(a / b) if self.python else np.trunc(a / b)
            gb = sum_to(-grad * q, self.shapes[1])
        return ga, gb

    def backward_graph(self, grad: Tensor) -> tuple[Any, Any]:
        ga = sum_to(grad, self.shapes[0]) if self.needs_input_grad[0] else None
        gb = None
        if self.needs_input_grad[1]:  # the quotient is piecewise constant: a constant here
            a, b = self.saved
            with np.errstate(all="ignore"):
                q = np.floor(a / b) if self.python else np.trunc(a / b)
            gb = sum_to(-grad * Tensor._wrap(q.astype(grad.dtype, copy=False)), self.shapes[1])
        return ga, gb


def _binary_float(op: str, a: Any, b: Any) -> list[Tensor]:
    if not isinstance(a, Tensor) and not isinstance(b, Tensor):
        raise TypeError(f"{op}(): expected at least one Tensor argument")
    ts = list(tensors_of(a, b))
    if ts[0]._data.dtype.kind != "f":
        ts = [t.float() for t in ts]
    try:
        np.broadcast_shapes(ts[0].shape, ts[1].shape)
    except ValueError:
        raise RuntimeError(
            f"{op}(): shapes {ts[0].shape} and {ts[1].shape} cannot be broadcast together"
        ) from None
    return ts


def atan2(input: Tensor, other: Tensor) -> Tensor:  # noqa: A002
    """The angle of the point (other, input): ``atan(input / other)`` in the right quadrant.

    Example:
        >>> import gradfit as gf
        >>> f"{gf.atan2(gf.tensor([1.0]), gf.tensor([-1.0])).item():.4f}"
        '2.3562'
    """
    return Atan2.apply(*_binary_float("atan2", input, other))


arctan2 = atan2


def hypot(input: Tensor, other: Tensor) -> Tensor:  # noqa: A002
    """``sqrt(input**2 + other**2)`` without overflow.

    Example:
        >>> import gradfit as gf
        >>> gf.hypot(gf.tensor([3.0]), gf.tensor([4.0])).item()
        5.0
    """
    return Hypot.apply(*_binary_float("hypot", input, other))


def _mod(op: str, a: Any, b: Any, python: bool) -> Tensor:
    ta, tb = tensors_of(a, b)
    try:
        np.broadcast_shapes(ta.shape, tb.shape)
    except ValueError:
        raise RuntimeError(
            f"{op}(): shapes {ta.shape} and {tb.shape} cannot be broadcast together"
        ) from None
    return Mod.apply(ta, tb, python=python)


def fmod(input: Tensor, other: Any) -> Tensor:  # noqa: A002
    """The remainder of ``input / other`` with the sign of ``input`` (C's fmod).

    Example:
        >>> import gradfit as gf
        >>> gf.fmod(gf.tensor([-3.0, 3.0]), 2).tolist()
        [-1.0, 1.0]
    """
    return _mod("fmod", input, other, python=False)


def remainder(input: Any, other: Any) -> Tensor:  # noqa: A002
    """The remainder of ``input / other`` with the sign of ``other`` (Python's ``%``).

    Example:
        >>> import gradfit as gf
        >>> gf.remainder(gf.tensor([-3.0, 3.0]), 2).tolist()
        [1.0, 1.0]
    """
    return _mod("remainder", input, other, python=True)


def lerp(input: Tensor, end: Tensor, weight: Any) -> Tensor:  # noqa: A002
    """``input + weight * (end - input)``; ``weight`` is a number or a tensor (broadcast).

    Example:
        >>> import gradfit as gf
        >>> gf.lerp(gf.tensor([0.0, 10.0]), gf.tensor([10.0, 20.0]), 0.25).tolist()
        [2.5, 12.5]
    """
    if not isinstance(end, Tensor):
        raise TypeError(f"lerp(): argument 'end' must be a Tensor, got {type(end).__name__}")
    if input.dtype != end.dtype:
        raise RuntimeError(f"lerp(): expected end to have dtype {input.dtype}, got {end.dtype}")
    if input._data.dtype.kind != "f":
        raise RuntimeError(f"lerp(): expected floating-point tensors, got {input.dtype}")
    if isinstance(weight, Tensor) and weight.dtype != input.dtype:
        raise RuntimeError(
            f"lerp(): expected weight to have dtype {input.dtype}, got {weight.dtype}"
        )
    return input + weight * (end - input)


# ------------------------------------------------------------------ compositions of existing ops


def square(input: Tensor) -> Tensor:  # noqa: A002
    """``input * input``.

    Example:
        >>> import gradfit as gf
        >>> gf.square(gf.tensor([3.0])).item()
        9.0
    """
    return input * input


def rsqrt(input: Tensor) -> Tensor:  # noqa: A002
    """``1 / sqrt(input)``.

    Example:
        >>> import gradfit as gf
        >>> gf.rsqrt(gf.tensor([4.0])).item()
        0.5
    """
    from gradfit.ops.unary import sqrt

    return 1.0 / sqrt(_float(input))


def reciprocal(input: Tensor) -> Tensor:  # noqa: A002
    """``1 / input`` (integers become float32).

    Example:
        >>> import gradfit as gf
        >>> gf.reciprocal(gf.tensor([4.0])).item()
        0.25
    """
    return 1.0 / _float(input)


def addcmul(input: Tensor, tensor1: Tensor, tensor2: Tensor, *, value: Any = 1) -> Tensor:  # noqa: A002
    """``input + value * tensor1 * tensor2`` (broadcast).

    Example:
        >>> import gradfit as gf
        >>> gf.addcmul(gf.ones(2), gf.tensor([2.0, 3.0]), gf.tensor([4.0, 5.0]), value=0.5).tolist()
        [5.0, 8.5]
    """
    prod = tensor1 * tensor2
    return input + (prod if value == 1 else prod * value)


def addcdiv(input: Tensor, tensor1: Tensor, tensor2: Tensor, *, value: Any = 1) -> Tensor:  # noqa: A002
    """``input + value * tensor1 / tensor2`` (broadcast; integer division is refused, as PyTorch).

    Example:
        >>> import gradfit as gf
        >>> gf.addcdiv(gf.zeros(1), gf.tensor([3.0]), gf.tensor([2.0]), value=2).item()
        3.0
    """
    if tensor1._data.dtype.kind in "biu" and tensor2._data.dtype.kind in "biu":
        raise RuntimeError(
            "addcdiv: integer division with addcdiv is no longer supported; "
            "use true_divide or floor_divide"
        )
    q = tensor1 / tensor2
    return input + (q if value == 1 else q * value)


def clamp_min(input: Tensor, min: Any) -> Tensor:  # noqa: A002
    """``clamp(input, min=min)``.

    Example:
        >>> import gradfit as gf
        >>> gf.clamp_min(gf.tensor([-1.0, 2.0]), 0).tolist()
        [0.0, 2.0]
    """
    from gradfit.ops.arithmetic import clamp

    return clamp(input, min=min)


def clamp_max(input: Tensor, max: Any) -> Tensor:  # noqa: A002
    """``clamp(input, max=max)``.

    Example:
        >>> import gradfit as gf
        >>> gf.clamp_max(gf.tensor([-1.0, 2.0]), 0).tolist()
        [-1.0, 0.0]
    """
    from gradfit.ops.arithmetic import clamp

    return clamp(input, max=max)


class LogAddExp(Function):
    def forward(self, a: np.ndarray, b: np.ndarray, base2: bool) -> np.ndarray:
        out = np.logaddexp2(a, b) if base2 else np.logaddexp(a, b)
        self.saved = (a, b, out)
        self.base2 = base2
        return out

    def backward(self, grad: np.ndarray) -> tuple[Any, Any]:
        a, b, out = self.saved
        f = np.exp2 if self.base2 else np.exp
        with np.errstate(all="ignore"):
            ga = sum_to(grad * f(a - out), a.shape) if self.needs_input_grad[0] else None
            gb = sum_to(grad * f(b - out), b.shape) if self.needs_input_grad[1] else None
        return ga, gb

    def backward_graph(self, grad: Tensor) -> tuple[Any, Any]:
        a, b, out = self.saved
        outt = self.output_tensor(out)
        na, nb = self.needs_input_grad

        def f(t: Tensor) -> Tensor:
            return t.exp2() if self.base2 else t.exp()

        with np.errstate(all="ignore"):
            ga = sum_to(grad * f(self.input_tensor(0, a) - outt), a.shape) if na else None
            gb = sum_to(grad * f(self.input_tensor(1, b) - outt), b.shape) if nb else None
        return ga, gb


def logaddexp(input: Tensor, other: Tensor) -> Tensor:  # noqa: A002
    """``log(exp(input) + exp(other))`` without overflow.

    Example:
        >>> import gradfit as gf
        >>> gf.logaddexp(gf.tensor([1000.0]), gf.tensor([1000.0])).item() > 1000
        True
    """
    return LogAddExp.apply(*_binary_float("logaddexp", input, other), base2=False)


def logaddexp2(input: Tensor, other: Tensor) -> Tensor:  # noqa: A002
    """``log2(2**input + 2**other)`` without overflow.

    Example:
        >>> import gradfit as gf
        >>> gf.logaddexp2(gf.tensor([1.0]), gf.tensor([1.0])).item()
        2.0
    """
    return LogAddExp.apply(*_binary_float("logaddexp2", input, other), base2=True)


def logit(input: Tensor, eps: float | None = None) -> Tensor:  # noqa: A002
    """``log(p / (1 - p))``; with ``eps``, p is first clamped to [eps, 1 - eps].

    Example:
        >>> import gradfit as gf
        >>> gf.logit(gf.tensor([0.5])).item()
        0.0
    """
    from gradfit.ops.arithmetic import clamp
    from gradfit.ops.unary import log

    p = _float(input)
    if eps is not None:
        p = clamp(p, eps, 1 - eps)
    return log(p / (1.0 - p))


class XLogY(Function):
    def forward(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        with np.errstate(all="ignore"):
            out = np.where(a == 0, 0, a * np.log(b)).astype(a.dtype, copy=False)
        out = np.where(np.isnan(b), b, out)
        self.saved = (a, b)
        return out

    def backward(self, grad: np.ndarray) -> tuple[Any, Any]:
        a, b = self.saved
        with np.errstate(all="ignore"):
            ga = gb = None
            if self.needs_input_grad[0]:
                ga = sum_to(np.where((a == 0) & (b <= 0), 0, grad * np.log(b)), a.shape)
            if self.needs_input_grad[1]:
                gb = sum_to(grad * a / b, b.shape)
        return (None if ga is None else ga.astype(grad.dtype)), gb

    def backward_graph(self, grad: Tensor) -> tuple[Any, Any]:
        a, b = self.saved
        bt = self.input_tensor(1, b)
        ga = gb = None
        with np.errstate(all="ignore"):
            if self.needs_input_grad[0]:
                zero = Tensor._wrap(np.zeros((), dtype=grad.dtype))
                ga = Where.apply(zero, grad * bt.log(), cond=(a == 0) & (b <= 0))
                ga = sum_to(ga, a.shape)
            if self.needs_input_grad[1]:
                gb = sum_to(grad * self.input_tensor(0, a) / bt, b.shape)
        return ga, gb


def xlogy(input: Any, other: Any) -> Tensor:  # noqa: A002
    """``input * log(other)``, 0 where ``input`` is 0 (unless ``other`` is NaN).

    Example:
        >>> import gradfit as gf
        >>> gf.xlogy(gf.tensor([0.0, 2.0]), gf.tensor([0.0, 1.0])).tolist()
        [0.0, 0.0]
    """
    return XLogY.apply(*_binary_float("xlogy", input, other))


def sgn(input: Tensor) -> Tensor:  # noqa: A002
    """The sign (-1, 0, 1) of each element, 0 for NaN as PyTorch; zero gradient.

    Example:
        >>> import gradfit as gf
        >>> gf.sgn(gf.tensor([-2.0, 0.0, float("nan")])).tolist()
        [-1.0, 0.0, 0.0]
    """
    from gradfit.ops.indexing import masked_fill
    from gradfit.ops.unary import sign

    if input._data.dtype.kind == "f":
        input = masked_fill(input, Tensor._wrap(np.isnan(input._data)), 0.0)  # noqa: A001
    return sign(input)


def signbit(input: Tensor) -> Tensor:  # noqa: A002
    """True where the sign bit is set (negative numbers and -0.0).

    Example:
        >>> import gradfit as gf
        >>> gf.signbit(gf.tensor([-0.0, 1.0])).tolist()
        [True, False]
    """
    return Tensor._wrap(np.asarray(np.signbit(input._data)))


class CopySign(Function):
    def forward(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        out = np.copysign(a, b)
        self.saved = (a, out)
        self.bshape = b.shape
        return out

    def backward(self, grad: np.ndarray) -> tuple[Any, Any]:
        a, out = self.saved
        with np.errstate(all="ignore"):
            s = np.where(a == 0, 0, out / np.where(a == 0, 1, a))
        ga = sum_to(grad * s, a.shape) if self.needs_input_grad[0] else None
        gb = np.zeros(self.bshape, dtype=grad.dtype) if self.needs_input_grad[1] else None
        return ga, gb

    def backward_graph(self, grad: Tensor) -> tuple[Any, Any]:
        a, out = self.saved  # the sign factor is piecewise constant
        with np.errstate(all="ignore"):
            s = np.where(a == 0, 0, out / np.where(a == 0, 1, a)).astype(grad.dtype)
        ga = sum_to(grad * Tensor._wrap(s), a.shape) if self.needs_input_grad[0] else None
        gb = sum_to(grad * 0.0, self.bshape) if self.needs_input_grad[1] else None
        return ga, gb


def copysign(input: Tensor, other: Any) -> Tensor:  # noqa: A002
    """``|input|`` with the sign of ``other``.

    Example:
        >>> import gradfit as gf
        >>> gf.copysign(gf.tensor([2.0, -3.0]), -1.0).tolist()
        [-2.0, -3.0]
    """
    return CopySign.apply(*_binary_float("copysign", input, other))


def deg2rad(input: Tensor) -> Tensor:  # noqa: A002
    """Degrees to radians.

    Example:
        >>> import gradfit as gf
        >>> f"{gf.deg2rad(gf.tensor([180.0])).item():.4f}"
        '3.1416'
    """
    return _float(input) * (math.pi / 180)


def rad2deg(input: Tensor) -> Tensor:  # noqa: A002
    """Radians to degrees.

    Example:
        >>> import gradfit as gf
        >>> gf.rad2deg(gf.tensor([0.0])).item()
        0.0
    """
    return _float(input) * (180 / math.pi)


class FMaxMin(Function):
    """fmax/fmin: like maximum/minimum, but a NaN loses to a number."""

    def forward(self, a: np.ndarray, b: np.ndarray, upper: bool) -> np.ndarray:
        out = np.fmax(a, b) if upper else np.fmin(a, b)
        self.saved = (a, b, out)
        return out

    def backward(self, grad: np.ndarray) -> tuple[Any, Any]:
        a, b, out = self.saved
        pa = (a == out) | (np.isnan(out) & np.isnan(a))
        pb = (b == out) | (np.isnan(out) & np.isnan(b))
        share = np.where(pa & pb, grad.dtype.type(0.5), grad.dtype.type(1))
        z = grad.dtype.type(0)
        ga = sum_to(np.where(pa, grad * share, z), a.shape) if self.needs_input_grad[0] else None
        gb = sum_to(np.where(pb, grad * share, z), b.shape) if self.needs_input_grad[1] else None
        return ga, gb

    def backward_graph(self, grad: Tensor) -> tuple[Any, Any]:
        a, b, out = self.saved
        pa = (a == out) | (np.isnan(out) & np.isnan(a))
        pb = (b == out) | (np.isnan(out) & np.isnan(b))
        share = np.where(pa & pb, grad.dtype.type(0.5), grad.dtype.type(1))
        wa, wb = Tensor._wrap(share * pa), Tensor._wrap(share * pb)
        ga = sum_to(grad * wa, a.shape) if self.needs_input_grad[0] else None
        gb = sum_to(grad * wb, b.shape) if self.needs_input_grad[1] else None
        return ga, gb


def fmax(input: Tensor, other: Tensor) -> Tensor:  # noqa: A002
    """Elementwise maximum where a NaN loses to a number.

    Example:
        >>> import gradfit as gf
        >>> gf.fmax(gf.tensor([float("nan"), 1.0]), gf.tensor([2.0, 0.0])).tolist()
        [2.0, 1.0]
    """
    return FMaxMin.apply(*tensors_of(input, other), upper=True)


def fmin(input: Tensor, other: Tensor) -> Tensor:  # noqa: A002
    """Elementwise minimum where a NaN loses to a number.

    Example:
        >>> import gradfit as gf
        >>> gf.fmin(gf.tensor([float("nan"), 1.0]), gf.tensor([2.0, 0.0])).tolist()
        [2.0, 0.0]
    """
    return FMaxMin.apply(*tensors_of(input, other), upper=False)
