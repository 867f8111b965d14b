"""More activation functions (PyTorch's names): hardtanh, relu6, mish, glu, logsigmoid, softsign,
tanhshrink, hardswish, hardsigmoid, softshrink, hardshrink, threshold, celu, selu, prelu.

Each elementwise one is a small :class:`Function` that keeps its input and computes the
derivative from it in backward.

Example:
    >>> import gradfit as gf
    >>> gf.nn.functional.relu6(gf.tensor([-1.0, 3.0, 8.0]))
    tensor([0., 3., 6.])
"""

from __future__ import annotations

from typing import Any

import numpy as np

from gradfit.autograd import Function
from gradfit.ops.arithmetic import Where
from gradfit.tensor import Tensor


def _t(x: Any, who: str) -> Tensor:
    if not isinstance(x, Tensor):
        raise TypeError(f"{who}: expected a gf.Tensor, got {type(x).__name__}")
    if x._data.dtype.kind != "f":
        raise TypeError(f"{who}: expected a floating-point tensor, got {x.dtype}")
    return x


class _Elementwise(Function):
    """y = f(x) elementwise; subclasses give ``f`` and ``df`` (the derivative at x) on arrays.

    Options arrive as keywords and are cast to the input's dtype, so float32 stays float32.
    """

    def f(self, x: np.ndarray, **kw: Any) -> Any:
        raise NotImplementedError

    def df(self, x: np.ndarray, **kw: Any) -> Any:
        raise NotImplementedError

    def forward(self, x: np.ndarray, **kw: Any) -> np.ndarray:  # type: ignore[override]
        kw = {k: x.dtype.type(v) for k, v in kw.items()}
        self.saved = (x, kw)
        with np.errstate(over="ignore"):
            return np.asarray(self.f(x, **kw), dtype=x.dtype)

    def backward(self, grad: np.ndarray) -> tuple[Any]:  # type: ignore[override]
        x, kw = self.saved
        with np.errstate(over="ignore"):
            return (np.asarray(grad * self.df(x, **kw), dtype=grad.dtype),)

    #: True where ``f`` is piecewise linear: ``df`` is then a constant of the graph.
    piecewise_linear = False

    def df_graph(self, x: Tensor, **kw: float) -> Tensor:
        """``df`` written with Tensor operations (``x`` in the graph), for a double backward."""
        raise NotImplementedError(f"double backward is not implemented for {self.name}")

    def backward_graph(self, grad: Tensor) -> tuple[Any]:
        x, kw = self.saved
        if self.piecewise_linear:
            return (grad * Tensor._wrap(np.asarray(self.df(x, **kw), dtype=grad.dtype)),)
        opts = {k: float(v) for k, v in kw.items()}
        with np.errstate(over="ignore"):
            return (grad * self.df_graph(self.input_tensor(0, x), **opts),)


class Hardtanh(_Elementwise):
    piecewise_linear = True

    def f(self, x: np.ndarray, min_val: Any, max_val: Any) -> Any:
        return np.clip(x, min_val, max_val)

    def df(self, x: np.ndarray, min_val: Any, max_val: Any) -> Any:
        return (x > min_val) & (x < max_val)


class Mish(_Elementwise):
    def f(self, x: np.ndarray) -> Any:
        return x * np.tanh(np.logaddexp(x, x.dtype.type(0)))

    def df(self, x: np.ndarray) -> Any:
        t = np.tanh(np.logaddexp(x, x.dtype.type(0)))
        sig = 0.5 * (1 + np.tanh(0.5 * x))
        return t + x * sig * (1 - t * t)

    def df_graph(self, x: Tensor) -> Tensor:
        from gradfit.ops.elementwise_extra import logaddexp

        t = logaddexp(x, Tensor._wrap(np.zeros((), dtype=x.dtype))).tanh()
        return t + x * x.sigmoid() * (1.0 - t * t)


class LogSigmoid(_Elementwise):
    def f(self, x: np.ndarray) -> Any:
        return np.minimum(x, 0) - np.log1p(np.exp(-np.abs(x)))

    def df(self, x: np.ndarray) -> Any:
        return 0.5 * (1 - np.tanh(0.5 * x))  # sigmoid(-x)

    def df_graph(self, x: Tensor) -> Tensor:
        return (-x).sigmoid()


class Softsign(_Elementwise):
    def f(self, x: np.ndarray) -> Any:
        return x / (1 + np.abs(x))

    def df(self, x: np.ndarray) -> Any:
        d = 1 + np.abs(x)
        return 1 / (d * d)

    def df_graph(self, x: Tensor) -> Tensor:
        d = x.abs() + 1.0
        return 1.0 / (d * d)


class Tanhshrink(_Elementwise):
    def f(self, x: np.ndarray) -> Any:
        return x - np.tanh(x)

    def df(self, x: np.ndarray) -> Any:
        t = np.tanh(x)
        return t * t

    def df_graph(self, x: Tensor) -> Tensor:
        t = x.tanh()
        return t * t


class Hardswish(_Elementwise):
    def f(self, x: np.ndarray) -> Any:
        return x * np.clip(x + 3, 0, 6) / 6

    def df(self, x: np.ndarray) -> Any:
        return np.where(x < -3, 0, np.where(x <= 3, x / 3 + x.dtype.type(0.5), 1))

    def df_graph(self, x: Tensor) -> Tensor:
        xa = x._data
        outside = Tensor._wrap(np.asarray(self.df(xa), dtype=x.dtype))
        return Where.apply(x * (1 / 3) + 0.5, outside, cond=(xa >= -3) & (xa <= 3))


class Hardsigmoid(_Elementwise):
    piecewise_linear = True

    def f(self, x: np.ndarray) -> Any:
        return np.clip(x + 3, 0, 6) / 6

    def df(self, x: np.ndarray) -> Any:
        return ((x > -3) & (x < 3)) / x.dtype.type(6)


class Softshrink(_Elementwise):
    piecewise_linear = True

    def f(self, x: np.ndarray, lambd: Any) -> Any:
        return np.where(x > lambd, x - lambd, np.where(x < -lambd, x + lambd, 0))

    def df(self, x: np.ndarray, lambd: Any) -> Any:
        return (x > lambd) | (x < -lambd)


class Hardshrink(_Elementwise):
    piecewise_linear = True

    def f(self, x: np.ndarray, lambd: Any) -> Any:
        return np.where((x > lambd) | (x < -lambd), x, 0)

    def df(self, x: np.ndarray, lambd: Any) -> Any:
        return (x > lambd) | (x < -lambd)


class Threshold(_Elementwise):
    piecewise_linear = True

    def f(self, x: np.ndarray, threshold: Any, value: Any) -> Any:
        return np.where(x > threshold, x, value)

    def df(self, x: np.ndarray, threshold: Any, value: Any) -> Any:
        return x > threshold


class CELU(_Elementwise):
    def f(self, x: np.ndarray, alpha: Any) -> Any:
        return np.where(x > 0, x, alpha * np.expm1(np.minimum(x, 0) / alpha))

    def df(self, x: np.ndarray, alpha: Any) -> Any:
        return np.where(x > 0, 1, np.exp(np.minimum(x, 0) / alpha))

    def df_graph(self, x: Tensor, alpha: float) -> Tensor:
        one = Tensor._wrap(np.ones((), dtype=x.dtype))
        return Where.apply(one, (x.clamp(max=0.0) / alpha).exp(), cond=x._data > 0)


_SELU_ALPHA = 1.6732632423543772848170429916717
_SELU_SCALE = 1.0507009873554804934193349852946


class SELU(_Elementwise):
    def f(self, x: np.ndarray) -> Any:
        a, s = x.dtype.type(_SELU_ALPHA), x.dtype.type(_SELU_SCALE)
        return s * np.where(x > 0, x, a * np.expm1(np.minimum(x, 0)))

    def df(self, x: np.ndarray) -> Any:
        a, s = x.dtype.type(_SELU_ALPHA), x.dtype.type(_SELU_SCALE)
        return np.where(x > 0, s, s * a * np.exp(np.minimum(x, 0)))

    def df_graph(self, x: Tensor) -> Tensor:
        s = Tensor._wrap(np.asarray(_SELU_SCALE, dtype=x.dtype))
        neg = x.clamp(max=0.0).exp() * (_SELU_SCALE * _SELU_ALPHA)
        return Where.apply(s, neg, cond=x._data > 0)


def hardtanh(
    input: Tensor,  # noqa: A002
    min_val: float = -1.0,
    max_val: float = 1.0,
    inplace: bool = False,
) -> Tensor:
    """Clamp into ``[min_val, max_val]`` (gradient 0 outside and at the bounds, as PyTorch).

    Example:
        >>> import gradfit as gf
        >>> gf.nn.functional.hardtanh(gf.tensor([-3.0, 0.5, 2.0]))
        tensor([-1. ,  0.5,  1. ])
    """
    if min_val > max_val:
        raise ValueError(
            f"hardtanh: min_val ({min_val}) cannot be greater than max_val ({max_val})"
        )
    return Hardtanh.apply(_t(input, "hardtanh"), min_val=min_val, max_val=max_val)


def relu6(input: Tensor, inplace: bool = False) -> Tensor:  # noqa: A002
    """``min(max(x, 0), 6)``.

    Example:
        >>> import gradfit as gf
        >>> gf.nn.functional.relu6(gf.tensor([-1.0, 7.0]))
        tensor([0., 6.])
    """
    return Hardtanh.apply(_t(input, "relu6"), min_val=0.0, max_val=6.0)


def mish(input: Tensor, inplace: bool = False) -> Tensor:  # noqa: A002
    """``x * tanh(softplus(x))``.

    Example:
        >>> import gradfit as gf
        >>> gf.nn.functional.mish(gf.tensor([0.0]))
        tensor([0.])
    """
    return Mish.apply(_t(input, "mish"))


def logsigmoid(input: Tensor) -> Tensor:  # noqa: A002
    """``log(sigmoid(x))``, computed stably.

    Example:
        >>> import gradfit as gf
        >>> round(gf.nn.functional.logsigmoid(gf.tensor([0.0])).item(), 4)
        -0.6931
    """
    return LogSigmoid.apply(_t(input, "logsigmoid"))


def softsign(input: Tensor) -> Tensor:  # noqa: A002
    """``x / (1 + |x|)``.

    Example:
        >>> import gradfit as gf
        >>> gf.nn.functional.softsign(gf.tensor([1.0, -3.0]))
        tensor([ 0.5 , -0.75])
    """
    return Softsign.apply(_t(input, "softsign"))


def tanhshrink(input: Tensor) -> Tensor:  # noqa: A002
    """``x - tanh(x)``.

    Example:
        >>> import gradfit as gf
        >>> gf.nn.functional.tanhshrink(gf.tensor([0.0]))
        tensor([0.])
    """
    return Tanhshrink.apply(_t(input, "tanhshrink"))


def hardswish(input: Tensor, inplace: bool = False) -> Tensor:  # noqa: A002
    """``x * relu6(x + 3) / 6``.

    Example:
        >>> import gradfit as gf
        >>> gf.nn.functional.hardswish(gf.tensor([-4.0, 4.0]))
        tensor([-0.,  4.])
    """
    return Hardswish.apply(_t(input, "hardswish"))


def hardsigmoid(input: Tensor, inplace: bool = False) -> Tensor:  # noqa: A002
    """``relu6(x + 3) / 6``.

    Example:
        >>> import gradfit as gf
        >>> gf.nn.functional.hardsigmoid(gf.tensor([0.0]))
        tensor([0.5])
    """
    return Hardsigmoid.apply(_t(input, "hardsigmoid"))


def softshrink(input: Tensor, lambd: float = 0.5) -> Tensor:  # noqa: A002
    """``x - lambd`` above ``lambd``, ``x + lambd`` below ``-lambd``, 0 between.

    Example:
        >>> import gradfit as gf
        >>> gf.nn.functional.softshrink(gf.tensor([1.0, 0.2]))
        tensor([0.5, 0. ])
    """
    if lambd < 0:
        raise RuntimeError(f"softshrink: lambda must be greater or equal to 0, got {lambd}")
    return Softshrink.apply(_t(input, "softshrink"), lambd=lambd)


def hardshrink(input: Tensor, lambd: float = 0.5) -> Tensor:  # noqa: A002
    """``x`` where ``|x| > lambd``, 0 elsewhere.

    Example:
        >>> import gradfit as gf
        >>> gf.nn.functional.hardshrink(gf.tensor([1.0, 0.2]))
        tensor([1., 0.])
    """
    return Hardshrink.apply(_t(input, "hardshrink"), lambd=lambd)


def threshold(
    input: Tensor,  # noqa: A002
    threshold: float,
    value: float,
    inplace: bool = False,
) -> Tensor:
    """``x`` where ``x > threshold``, ``value`` elsewhere.

    Example:
        >>> import gradfit as gf
        >>> gf.nn.functional.threshold(gf.tensor([1.0, 0.2]), 0.5, 9.0)
        tensor([1., 9.])
    """
    return Threshold.apply(_t(input, "threshold"), threshold=threshold, value=value)


def celu(input: Tensor, alpha: float = 1.0, inplace: bool = False) -> Tensor:  # noqa: A002
    """``max(0, x) + min(0, alpha * (exp(x / alpha) - 1))``.

    Example:
        >>> import gradfit as gf
        >>> gf.nn.functional.celu(gf.tensor([1.0]))
        tensor([1.])
    """
    if alpha == 0:
        raise RuntimeError("celu: ZeroDivisionError, alpha must not be 0")
    return CELU.apply(_t(input, "celu"), alpha=alpha)


def selu(input: Tensor, inplace: bool = False) -> Tensor:  # noqa: A002
    """Scaled ELU with the self-normalising constants.

    Example:
        >>> import gradfit as gf
        >>> gf.nn.functional.selu(gf.tensor([0.0]))
        tensor([0.])
    """
    return SELU.apply(_t(input, "selu"))


def glu(input: Tensor, dim: int = -1) -> Tensor:  # noqa: A002
    """Gated linear unit: split ``dim`` in halves ``a, b`` and return ``a * sigmoid(b)``.

    Example:
        >>> import gradfit as gf
        >>> gf.nn.functional.glu(gf.tensor([2.0, 0.0]))
        tensor([1.])
    """
    x = _t(input, "glu")
    if x.ndim == 0:
        raise RuntimeError("glu does not support scalars because halving size must be even")
    d = dim + x.ndim if dim < 0 else dim
    if not 0 <= d < x.ndim:
        raise IndexError(f"glu: dim {dim} is out of range for a tensor with {x.ndim} dimensions")
    n = x.shape[d]
    if n % 2:
        raise RuntimeError(f"glu: halving dimension must be even, but dimension {d} is size {n}")
    a, b = x.split(n // 2, dim=d)
    return a * b.sigmoid()


def prelu(input: Tensor, weight: Tensor) -> Tensor:  # noqa: A002
    """``x`` for x > 0, ``weight * x`` otherwise; ``weight`` has 1 element or one per channel (dim 1).

    Example:
        >>> import gradfit as gf
        >>> gf.nn.functional.prelu(gf.tensor([[-2.0, 3.0]]), gf.tensor([0.25]))
        tensor([[-0.5,  3. ]])
    """
    x = _t(input, "prelu")
    if not isinstance(weight, Tensor):
        raise TypeError(f"prelu: expected weight to be a gf.Tensor, got {type(weight).__name__}")
    n = weight.numel()
    if n != 1:
        channels = x.shape[1] if x.ndim >= 2 else 1
        if weight.ndim != 1 or n != channels:
            raise RuntimeError(
                f"prelu: mismatch of parameter numbers and input channel size. Found "
                f"parameter numbers = {n} and channel size = {channels}."
            )
        weight = weight.reshape((n,) + (1,) * (x.ndim - 2))
    elif weight.ndim > 0:
        weight = weight.reshape(())
    return _where(x > 0, x, weight * x)


def _where(cond: Tensor, a: Tensor, b: Tensor) -> Tensor:
    from gradfit.ops.arithmetic import where

    return where(cond, a, b)


__all__ = [
    "celu",
    "glu",
    "hardshrink",
    "hardsigmoid",
    "hardswish",
    "hardtanh",
    "logsigmoid",
    "mish",
    "prelu",
    "relu6",
    "selu",
    "softshrink",
    "softsign",
    "tanhshrink",
    "threshold",
]
