"""Elementwise arithmetic with broadcasting: add, sub, mul, div, neg, pow, maximum, minimum, where, clamp.

Every binary op reduces its gradients to the inputs' shapes with ``sum_to``.

Example:
    >>> import gradfit as gf
    >>> a = gf.tensor([[1.0], [2.0]], requires_grad=True)   # (2, 1)
    >>> b = gf.tensor([10.0, 20.0, 30.0], requires_grad=True)  # (3,)
    >>> (a * b).sum().backward()
    >>> a.grad.shape, b.grad.tolist()
    ((2, 1), [3.0, 3.0, 3.0])
"""

from __future__ import annotations

from typing import Any

import numpy as np

from gradfit.autograd import Function, sum_to
from gradfit.tensor import Tensor, tensors_of


def _zero(like: Tensor) -> Tensor:
    """A constant 0-d zero of ``like``'s dtype (for a double backward's masks)."""
    return Tensor._wrap(np.zeros((), dtype=like.dtype))


def _broadcast_error(op: str, a: np.ndarray, b: np.ndarray) -> ValueError:
    return ValueError(f"{op}: shapes {a.shape} and {b.shape} cannot be broadcast together")


class Add(Function):
    def forward(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        self.shapes = (a.shape, b.shape)
        try:
            return a + b
        except ValueError:
            raise _broadcast_error("add", a, b) from None

    def backward(self, grad: np.ndarray) -> tuple[Any, Any]:
        sa, sb = self.shapes
        na, nb = self.needs_input_grad
        return (sum_to(grad, sa) if na else None, sum_to(grad, sb) if nb else None)

    def backward_graph(self, grad: Tensor) -> tuple[Any, Any]:
        sa, sb = self.shapes
        na, nb = self.needs_input_grad
        return (sum_to(grad, sa) if na else None, sum_to(grad, sb) if nb else None)


class Sub(Function):
    def forward(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        self.shapes = (a.shape, b.shape)
        try:
            return a - b
        except ValueError:
            raise _broadcast_error("sub", a, b) from None

    def backward(self, grad: np.ndarray) -> tuple[Any, Any]:
        sa, sb = self.shapes
        na, nb = self.needs_input_grad
        return (sum_to(grad, sa) if na else None, sum_to(-grad, sb) if nb else None)

    def backward_graph(self, grad: Tensor) -> tuple[Any, Any]:
        sa, sb = self.shapes
        na, nb = self.needs_input_grad
        return (sum_to(grad, sa) if na else None, sum_to(-grad, sb) if nb else None)


class Mul(Function):
    def forward(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        na, nb = self.needs_input_grad
        self.saved = (b if na else None, a if nb else None)
        self.shapes = (a.shape, b.shape)
        try:
            return a * b
        except ValueError:
            raise _broadcast_error("mul", a, b) from None

    def backward(self, grad: np.ndarray) -> tuple[Any, Any]:
        b, a = self.saved
        sa, sb = self.shapes
        na, nb = self.needs_input_grad
        return (sum_to(grad * b, sa) if na else None, sum_to(grad * a, sb) if nb else None)

    def backward_graph(self, grad: Tensor) -> tuple[Any, Any]:
        b, a = self.saved
        sa, sb = self.shapes
        na, nb = self.needs_input_grad
        ga = sum_to(grad * self.input_tensor(1, b), sa) if na else None
        gb = sum_to(grad * self.input_tensor(0, a), sb) if nb else None
        return ga, gb


class Div(Function):
    def forward(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        self.shapes = (a.shape, b.shape)
        try:
            out = a / b
        except ValueError:
            raise _broadcast_error("div", a, b) from None
        if out.dtype != a.dtype and a.dtype == b.dtype:  # int / int -> float32, like PyTorch
            out = out.astype(np.float32)
        self.saved = (b, out if self.needs_input_grad[1] else None)
        return out

    def backward(self, grad: np.ndarray) -> tuple[Any, Any]:
        b, out = self.saved
        sa, sb = self.shapes
        na, nb = self.needs_input_grad
        ga = sum_to(grad / b, sa) if na else None
        gb = sum_to(-grad * out / b, sb) if nb else None
        return ga, gb

    def backward_graph(self, grad: Tensor) -> tuple[Any, Any]:
        b, out = self.saved
        sa, sb = self.shapes
        na, nb = self.needs_input_grad
        bt = self.input_tensor(1, b)
        ga = sum_to(grad / bt, sa) if na else None
        gb = sum_to(-grad * self.output_tensor(out) / bt, sb) if nb else None
        return ga, gb


class AddScalar(Function):
    """``x + c`` for a Python number ``c`` (NumPy keeps ``x``'s float dtype)."""

    name = "Add"  # shown in graphs and errors as the operation it is

    def forward(self, a: np.ndarray, c: float) -> np.ndarray:
        return a + c

    def backward(self, grad: np.ndarray) -> tuple[Any]:
        return (grad,)

    def backward_graph(self, grad: Tensor) -> tuple[Any]:
        return (grad,)


class MulScalar(Function):
    """``x * c`` for a Python number ``c``."""

    name = "Mul"

    def forward(self, a: np.ndarray, c: float) -> np.ndarray:
        self.c = c
        return a * c

    def backward(self, grad: np.ndarray) -> tuple[Any]:
        return (grad * self.c,)

    def backward_graph(self, grad: Tensor) -> tuple[Any]:
        return (grad * self.c,)


class Neg(Function):
    def forward(self, a: np.ndarray) -> np.ndarray:
        return -a

    def backward(self, grad: np.ndarray) -> tuple[Any]:
        return (-grad,)

    def backward_graph(self, grad: Tensor) -> tuple[Any]:
        return (-grad,)


#: Exponents computed by multiplication, division and sqrt instead of ``np.power`` (which
#: is tens of times slower for float arrays); PyTorch special-cases most of them the same way.
_FAST_POW = frozenset((0, 1, 2, 3, 4, -1, -2, -3, 0.5, -0.5, 1.5, -1.5))


def _fast_pow(a: np.ndarray, p: float) -> np.ndarray:
    """``a ** p`` for a float array and ``p`` in ``_FAST_POW``."""
    if p == 2:
        return a * a
    if p == 3:
        return a * a * a
    if p == 4:
        sq = a * a
        return np.multiply(sq, sq, out=sq)
    if p == 0.5:
        return np.sqrt(a)
    if p == 1.5:
        return _neg_inf_fix(a * np.sqrt(a), a, np.inf)
    if p == 1:
        return a.copy()
    if p == 0:
        return np.ones_like(a)
    one = a.dtype.type(1)
    if p == -1:
        return np.divide(one, a)
    if p == -2:
        return np.divide(one, a * a)
    if p == -3:
        return np.divide(one, a * a * a)
    if p == -0.5:
        return np.divide(one, np.sqrt(a))
    return _neg_inf_fix(np.divide(one, a * np.sqrt(a)), a, 0.0)  # p == -1.5


def _neg_inf_fix(out: np.ndarray, a: np.ndarray, value: float) -> np.ndarray:
    """(-inf) ** 1.5 is inf and (-inf) ** -1.5 is 0 (C's pow), where sqrt gives NaN."""
    neg_inf = a == -np.inf
    if neg_inf.any():
        out[neg_inf] = value
    return out


class PowScalar(Function):
    """``x ** p`` for a constant exponent ``p``."""

    def forward(self, a: np.ndarray, p: float) -> np.ndarray:
        self.p = p
        fast = a.dtype.kind == "f" and p in _FAST_POW
        self.fast = fast
        if fast:
            with np.errstate(divide="ignore", over="ignore", invalid="ignore"):
                out = _fast_pow(a, p)
            # half-integer exponents reuse the output in backward: a^(p-1) = out / a
            self.saved = (a, out if p in (0.5, -0.5, -1.5) else None)
            return out
        self.saved = (a, None)
        return np.power(a, a.dtype.type(p)) if a.dtype.kind == "f" else np.power(a, p)

    def backward(self, grad: np.ndarray) -> tuple[Any]:
        a, out = self.saved
        p = self.p
        if p == 0:
            return (np.zeros_like(a),)
        if self.fast:
            with np.errstate(divide="ignore", over="ignore", invalid="ignore"):
                if p == 1:
                    return (grad.copy(),)
                if p == 2:
                    return (grad * (a + a),)
                if p == 3:
                    return (grad * (a * a) * a.dtype.type(3),)
                if p == 4:
                    return (grad * (a * a * a) * a.dtype.type(4),)
                if p == 1.5:
                    return (grad * np.sqrt(a) * a.dtype.type(1.5),)
                if p == 0.5:  # 0.5 / sqrt(a)
                    return (grad * a.dtype.type(0.5) / out,)
                if p == -1:
                    return (-grad / (a * a),)
                if p == -2:
                    return (grad * a.dtype.type(-2) / (a * a * a),)
                if p == -3:
                    sq = a * a
                    return (grad * a.dtype.type(-3) / (sq * sq),)
                # p == -0.5 or -1.5: p * a^(p-1) = p * out / a
                return (grad * a.dtype.type(p) * out / a,)
        return (grad * (a.dtype.type(p) * np.power(a, a.dtype.type(p - 1))),)

    def backward_graph(self, grad: Tensor) -> tuple[Any]:
        x = self.input_tensor(0, self.saved[0])
        p = self.p
        if p == 0:
            return (grad * 0.0,)
        if p == 2:
            return (grad * (x * 2.0),)
        return (grad * (x ** (p - 1) * float(p)),)


class RPowScalar(Function):
    """``c ** x`` for a constant base ``c``."""

    def forward(self, a: np.ndarray, base: float) -> np.ndarray:
        with np.errstate(divide="ignore"):
            out = np.power(a.dtype.type(base), a)
        self.saved = (out, a if base == 0 else None)
        self.base = base
        self.log_base = np.log(a.dtype.type(base)) if base > 0 else a.dtype.type(np.nan)
        return out

    def backward(self, grad: np.ndarray) -> tuple[Any]:
        out, a = self.saved
        if self.base == 0:  # 0 ** x: flat for x > 0 (PyTorch gives 0 there)
            return (np.where(a >= 0, grad.dtype.type(0), grad * out * self.log_base),)
        return (grad * out * self.log_base,)

    def backward_graph(self, grad: Tensor) -> tuple[Any]:
        out, a = self.saved
        g = grad * self.output_tensor(out) * float(self.log_base)
        if self.base == 0:
            return (Where.apply(_zero(grad), g, cond=a >= 0),)
        return (g,)


def _int_pow_negative(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Integer ``a ** b`` with negative exponents as PyTorch: 1 for a == 1, +-1 for a == -1
    (by the parity of b), 0 otherwise (NumPy refuses "integers to negative integer powers")."""
    a, b = np.broadcast_arrays(a, b)
    neg = b < 0
    out = np.power(a, np.where(neg, 0, b))
    one = out.dtype.type(1)
    at_neg = np.where(a == 1, one, np.where(a == -1, np.where(b % 2 == 0, one, -one), 0))
    return np.where(neg, at_neg, out).astype(out.dtype, copy=False)


class Pow(Function):
    """``a ** b`` for two tensors."""

    def forward(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        try:
            if b.dtype.kind == "i" and a.dtype.kind in "iu" and (b < 0).any():
                out = _int_pow_negative(a, b)
            else:
                out = np.power(a, b)
        except ValueError:
            raise _broadcast_error("pow", a, b) from None
        self.saved = (a, b, out)
        return out

    def backward(self, grad: np.ndarray) -> tuple[Any, Any]:
        a, b, out = self.saved
        na, nb = self.needs_input_grad
        ga = gb = None
        zero = grad.dtype.type(0)
        with np.errstate(divide="ignore", invalid="ignore"):
            if na:  # d/da = b a^(b-1), and 0 where b == 0 (PyTorch's convention)
                ga = sum_to(np.where(b == 0, zero, grad * b * np.power(a, b - 1)), a.shape)
            if nb:  # d/db = a^b log(a): NaN for a < 0, and 0 where a == 0 and b >= 0
                gb = grad * out * np.log(a)
                gb = sum_to(np.where((a == 0) & (b >= 0), zero, gb), b.shape)
        return ga, gb

    def backward_graph(self, grad: Tensor) -> tuple[Any, Any]:
        a, b, out = self.saved
        na, nb = self.needs_input_grad
        at, bt = self.input_tensor(0, a), self.input_tensor(1, b)
        ga = gb = None
        with np.errstate(divide="ignore", invalid="ignore"):
            if na:
                ga = Where.apply(_zero(grad), grad * bt * at ** (bt - 1.0), cond=b == 0)
                ga = sum_to(ga, a.shape)
            if nb:
                gb = grad * self.output_tensor(out) * at.log()
                gb = sum_to(Where.apply(_zero(grad), gb, cond=(a == 0) & (b >= 0)), b.shape)
        return ga, gb


class Maximum(Function):
    """Elementwise maximum; ties split the gradient equally (as PyTorch does)."""

    def forward(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        try:
            out = np.maximum(a, b)
        except ValueError:
            raise _broadcast_error("maximum", a, b) from None
        self.saved = (a, b)
        return out

    def backward(self, grad: np.ndarray) -> tuple[Any, Any]:
        a, b = self.saved
        w = (a > b).astype(grad.dtype) + (a == b).astype(grad.dtype) * 0.5
        na, nb = self.needs_input_grad
        ga = sum_to(grad * w, a.shape) if na else None
        gb = sum_to(grad * (1 - w), b.shape) if nb else None
        return ga, gb

    def backward_graph(self, grad: Tensor) -> tuple[Any, Any]:
        a, b = self.saved
        w = (a > b).astype(grad.dtype) + (a == b).astype(grad.dtype) * 0.5
        na, nb = self.needs_input_grad
        ga = sum_to(grad * Tensor._wrap(w), a.shape) if na else None
        gb = sum_to(grad * Tensor._wrap(1 - w), b.shape) if nb else None
        return ga, gb


class Minimum(Function):
    """Elementwise minimum; ties split the gradient equally."""

    def forward(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        try:
            out = np.minimum(a, b)
        except ValueError:
            raise _broadcast_error("minimum", a, b) from None
        self.saved = (a, b)
        return out

    def backward(self, grad: np.ndarray) -> tuple[Any, Any]:
        a, b = self.saved
        w = (a < b).astype(grad.dtype) + (a == b).astype(grad.dtype) * 0.5
        na, nb = self.needs_input_grad
        ga = sum_to(grad * w, a.shape) if na else None
        gb = sum_to(grad * (1 - w), b.shape) if nb else None
        return ga, gb

    def backward_graph(self, grad: Tensor) -> tuple[Any, Any]:
        a, b = self.saved
        w = (a < b).astype(grad.dtype) + (a == b).astype(grad.dtype) * 0.5
        na, nb = self.needs_input_grad
        ga = sum_to(grad * Tensor._wrap(w), a.shape) if na else None
        gb = sum_to(grad * Tensor._wrap(1 - w), b.shape) if nb else None
        return ga, gb


class Where(Function):
    """``where(cond, a, b)``; ``cond`` is a constant boolean array."""

    def forward(self, a: np.ndarray, b: np.ndarray, cond: np.ndarray) -> np.ndarray:
        try:
            out = np.where(cond, a, b)
        except ValueError:
            raise ValueError(
                f"where: condition {cond.shape}, x {a.shape} and y {b.shape} "
                "cannot be broadcast together"
            ) from None
        self.saved = (cond,)
        self.shapes = (a.shape, b.shape)
        return out

    def backward(self, grad: np.ndarray) -> tuple[Any, Any]:
        (cond,) = self.saved
        sa, sb = self.shapes
        na, nb = self.needs_input_grad
        zero = grad.dtype.type(0)
        ga = sum_to(np.where(cond, grad, zero), sa) if na else None
        gb = sum_to(np.where(cond, zero, grad), sb) if nb else None
        return ga, gb

    def backward_graph(self, grad: Tensor) -> tuple[Any, Any]:
        (cond,) = self.saved
        sa, sb = self.shapes
        na, nb = self.needs_input_grad
        zero = _zero(grad)
        ga = sum_to(Where.apply(grad, zero, cond=cond), sa) if na else None
        gb = sum_to(Where.apply(zero, grad, cond=cond), sb) if nb else None
        return ga, gb


class Clamp(Function):
    """Clamp to [lo, hi]; the gradient flows where lo <= x <= hi (PyTorch's convention)."""

    def forward(self, a: np.ndarray, lo: Any, hi: Any) -> np.ndarray:
        self.saved = (a,)
        self.lo, self.hi = lo, hi
        if lo is not None and hi is not None and lo > hi:
            return np.full_like(a, hi)
        return np.clip(a, lo, hi)

    def backward(self, grad: np.ndarray) -> tuple[Any]:
        (a,) = self.saved
        mask = np.ones(a.shape, dtype=bool)
        if self.lo is not None:
            mask &= a >= self.lo
        if self.hi is not None:
            mask &= a <= self.hi
        return (grad * mask,)

    def backward_graph(self, grad: Tensor) -> tuple[Any]:
        (a,) = self.saved
        mask = np.ones(a.shape, dtype=bool)
        if self.lo is not None:
            mask &= a >= self.lo
        if self.hi is not None:
            mask &= a <= self.hi
        return (Where.apply(grad, _zero(grad), cond=mask),)


class ClampTensor(Function):
    """Clamp with tensor bounds: the gradient goes to x where lo <= x <= hi, else to the bound."""

    def forward(self, x: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
        try:
            out = np.minimum(np.maximum(x, lo), hi)
        except ValueError:
            raise ValueError(
                f"clamp: x {x.shape}, min {lo.shape} and max {hi.shape} cannot be broadcast together"
            ) from None
        self.saved = (x, lo, hi)
        return out

    def backward(self, grad: np.ndarray) -> tuple[Any, Any, Any]:
        x, lo, hi = self.saved
        zero = grad.dtype.type(0)
        below, above = x < lo, (x > hi) & ~(x < lo)
        nx, nlo, nhi = self.needs_input_grad
        inside = ~(below | above)
        gx = sum_to(np.where(inside, grad, zero), x.shape) if nx else None
        glo = sum_to(np.where(below, grad, zero), lo.shape) if nlo else None
        ghi = sum_to(np.where(above, grad, zero), hi.shape) if nhi else None
        return gx, glo, ghi

    def backward_graph(self, grad: Tensor) -> tuple[Any, Any, Any]:
        x, lo, hi = self.saved
        zero = _zero(grad)
        below, above = x < lo, (x > hi) & ~(x < lo)
        nx, nlo, nhi = self.needs_input_grad
        inside = ~(below | above)
        gx = sum_to(Where.apply(grad, zero, cond=inside), x.shape) if nx else None
        glo = sum_to(Where.apply(grad, zero, cond=below), lo.shape) if nlo else None
        ghi = sum_to(Where.apply(grad, zero, cond=above), hi.shape) if nhi else None
        return gx, glo, ghi


# ------------------------------------------------------------------ functional API


def add(a: Any, b: Any) -> Tensor:
    """``a + b`` with broadcasting.

    Example:
        >>> import gradfit as gf
        >>> gf.add(gf.ones(2), 1)
        tensor([2., 2.])
    """
    return Add.apply(*tensors_of(a, b))


def sub(a: Any, b: Any) -> Tensor:
    """``a - b`` with broadcasting.

    Example:
        >>> import gradfit as gf
        >>> gf.sub(3, gf.ones(2))
        tensor([2., 2.])
    """
    return Sub.apply(*tensors_of(a, b))


def mul(a: Any, b: Any) -> Tensor:
    """``a * b`` with broadcasting.

    Example:
        >>> import gradfit as gf
        >>> gf.mul(gf.ones(2), 3)
        tensor([3., 3.])
    """
    return Mul.apply(*tensors_of(a, b))


def div(a: Any, b: Any) -> Tensor:
    """``a / b`` (true division) with broadcasting.

    Example:
        >>> import gradfit as gf
        >>> gf.div(gf.ones(2), 4)
        tensor([0.25, 0.25])
    """
    return Div.apply(*tensors_of(a, b))


def neg(a: Tensor) -> Tensor:
    """``-a``.

    Example:
        >>> import gradfit as gf
        >>> gf.neg(gf.ones(1))
        tensor([-1.])
    """
    return Neg.apply(a)


def pow(a: Any, b: Any) -> Tensor:  # noqa: A001 - PyTorch's name
    """``a ** b``; either side may be a constant.

    Example:
        >>> import gradfit as gf
        >>> gf.pow(gf.tensor([2.0, 3.0]), 2)
        tensor([4., 9.])
    """
    if isinstance(a, Tensor) and isinstance(b, (int, float)) and not isinstance(b, bool):
        if a.dtype.kind != "f" and isinstance(b, int) and b < 0:
            raise ValueError(
                f"pow: integers to negative integer powers are not allowed ({a.dtype} tensor "
                f"** {b}), as in PyTorch; convert first: x.float() ** {b}"
            )
        if a.dtype.kind != "f" and isinstance(b, float):
            a = a.float()
        elif a.dtype.kind == "b":  # bool ** int is int64 in PyTorch
            a = a.long()
        return PowScalar.apply(a, p=b)
    if isinstance(a, Tensor) and isinstance(b, bool) and a.dtype.kind == "b":
        # PyTorch: x ** True is x and x ** False is all True, and both stay bool
        return Tensor._wrap(a._data.copy() if b else np.ones_like(a._data))
    if isinstance(b, Tensor) and isinstance(a, (int, float)) and not isinstance(a, bool):
        if b.dtype.kind in "iub" and isinstance(a, int):  # int ** int tensor stays int (PyTorch)
            return Pow.apply(*tensors_of(a, b))
        if b.dtype.kind != "f":
            b = b.float()
        return RPowScalar.apply(b, base=a)
    ta, tb = tensors_of(a, b)
    if ta.dtype.kind == "b" and tb.dtype.kind == "b":
        raise TypeError(
            "pow: a bool tensor to a bool tensor power is not implemented (nor in PyTorch); "
            "convert one side first, e.g. a.long() ** b"
        )
    return Pow.apply(ta, tb)


def maximum(a: Any, b: Any) -> Tensor:
    """Elementwise maximum.

    Example:
        >>> import gradfit as gf
        >>> gf.maximum(gf.tensor([1.0, 5.0]), gf.tensor([3.0, 2.0]))
        tensor([3., 5.])
    """
    return Maximum.apply(*tensors_of(a, b))


def minimum(a: Any, b: Any) -> Tensor:
    """Elementwise minimum.

    Example:
        >>> import gradfit as gf
        >>> gf.minimum(gf.tensor([1.0, 5.0]), gf.tensor([3.0, 2.0]))
        tensor([1., 2.])
    """
    return Minimum.apply(*tensors_of(a, b))


def where(condition: Any, x: Any, y: Any) -> Tensor:
    """Pick ``x`` where ``condition`` is true and ``y`` elsewhere (broadcasting all three).

    Example:
        >>> import gradfit as gf
        >>> x = gf.tensor([-1.0, 2.0])
        >>> gf.where(x > 0, x, 0.0)
        tensor([0., 2.])
    """
    cond = np.array(condition._data if isinstance(condition, Tensor) else condition)  # a copy
    if cond.dtype != np.bool_:
        raise TypeError(f"where: condition must be a bool tensor, got {cond.dtype}")
    a, b = tensors_of(x, y)
    return Where.apply(a, b, cond=cond)


def clamp(x: Tensor, min: Any = None, max: Any = None) -> Tensor:  # noqa: A002
    """Clamp every element into ``[min, max]`` (either bound may be omitted).

    Example:
        >>> import gradfit as gf
        >>> gf.clamp(gf.tensor([-2.0, 0.5, 3.0]), min=0, max=1)
        tensor([0. , 0.5, 1. ])
    """
    if min is None and max is None:
        raise ValueError("clamp: at least one of min and max must be given")
    if isinstance(min, Tensor) or isinstance(max, Tensor):
        lo = -np.inf if min is None else min
        hi = np.inf if max is None else max
        return ClampTensor.apply(*tensors_of(x, lo, hi))
    if x._data.dtype.kind != "f" and (isinstance(min, float) or isinstance(max, float)):
        x = x.float()  # an integer tensor clamped to a float bound becomes float32, as in PyTorch
    return Clamp.apply(x, lo=min, hi=max)


clip = clamp
