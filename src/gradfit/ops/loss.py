"""Loss functions as fused, numerically stable operations, with PyTorch's semantics.

``cross_entropy`` computes log-softmax and picks the target's log-probability in
one forward pass, and returns ``softmax - target`` (weighted, smoothed, masked)
in one backward pass: logits of magnitude 1e4 give finite losses and gradients.
``binary_cross_entropy_with_logits`` uses the softplus form, stable for any
logit. Every loss takes ``reduction`` in {'mean', 'sum', 'none'}.

Example:
    >>> import gradfit as gf
    >>> from gradfit.ops.loss import cross_entropy
    >>> logits = gf.tensor([[1e4, 0.0, -1e4]], requires_grad=True)
    >>> loss = cross_entropy(logits, gf.tensor([2]))
    >>> loss
    tensor(20000., grad_fn=<CrossEntropy>)
    >>> loss.backward()
    >>> logits.grad
    tensor([[ 1.,  0., -1.]])
"""

from __future__ import annotations

from typing import Any

import numpy as np

from gradfit.autograd import Function, sum_to
from gradfit.ops.arithmetic import Where
from gradfit.tensor import Tensor

_REDUCTIONS = ("mean", "sum", "none")


class ClassIndexError(ValueError, IndexError):
    """A class index is outside ``[0, num_classes)``: a ``ValueError`` and, as in PyTorch, an
    ``IndexError``.

    Example:
        >>> issubclass(ClassIndexError, IndexError)
        True
    """


# --------------------------------------------------------------------------- helpers


def _check_reduction(reduction: str, op: str, extra: tuple[str, ...] = ()) -> None:
    allowed = (*_REDUCTIONS, *extra)
    if reduction not in allowed:
        names = ", ".join(repr(r) for r in allowed)
        raise ValueError(f"{op}: reduction must be one of {names}, got {reduction!r}")


def _tensor(x: Any, op: str, name: str) -> Tensor:
    if not isinstance(x, Tensor):
        raise TypeError(f"{op}: {name} must be a gf.Tensor, got {type(x).__name__}")
    return x


def _float_input(x: Any, op: str) -> Tensor:
    x = _tensor(x, op, "input")
    if x._data.dtype.kind != "f":
        raise TypeError(f"{op}: input must be a floating-point tensor, got {x._data.dtype}")
    return x


def _const(a: Any, dt: np.dtype, op: str, name: str) -> np.ndarray | None:
    """An optional constant operand (weight, pos_weight) as an array of dtype ``dt``."""
    if a is None:
        return None
    arr = a._data if isinstance(a, Tensor) else np.asarray(a)
    if arr.dtype.kind not in "fiub":
        raise TypeError(f"{op}: {name} must be numeric, got dtype {arr.dtype}")
    return arr.astype(dt, copy=False)


def _same_float(t: Tensor, dt: np.dtype) -> Tensor:
    return t if t._data.dtype == dt else t.astype(dt)


def _reduce(loss: np.ndarray, reduction: str) -> np.ndarray:
    if reduction == "none":
        return loss
    if reduction == "sum":
        return np.asarray(loss.sum(), dtype=loss.dtype)
    with np.errstate(invalid="ignore", divide="ignore"):
        return (
            np.asarray(loss.mean(), dtype=loss.dtype)
            if loss.size
            else np.asarray(np.nan, dtype=loss.dtype)
        )


class _Reduced(Function):
    """Shared reduction bookkeeping for the pointwise losses."""

    def _upstream(self, grad: np.ndarray) -> np.ndarray:
        """The upstream gradient per element of the unreduced loss (broadcastable)."""
        if self.reduction == "mean":
            return grad / grad.dtype.type(max(self.n, 1))
        return grad


def _grad_to(g: np.ndarray, shape: tuple[int, ...], dt: np.dtype) -> np.ndarray:
    g = sum_to(np.broadcast_to(g, np.broadcast_shapes(g.shape, shape)), shape)
    if g.dtype != dt:
        g = g.astype(dt)
    return np.ascontiguousarray(g) if g.base is not None and not g.flags.writeable else g


def _grad_to_graph(g: Tensor, shape: tuple[int, ...]) -> Tensor:
    """:func:`_grad_to` with Tensor operations (for a double backward)."""
    full = np.broadcast_shapes(g.shape, shape)
    return sum_to(g if g.shape == full else g.expand(full), shape)


# --------------------------------------------------------------------------- cross-entropy


class CrossEntropy(Function):
    """Fused log-softmax + negative log-likelihood over axis 1 of ``x`` (N, C, *).

    ``y`` holds class indices (N, *) or class probabilities (N, C, *).
    """

    def forward(
        self,
        x: np.ndarray,
        y: np.ndarray,
        weight: np.ndarray | None,
        ignore_index: int,
        reduction: str,
        label_smoothing: float,
        all_valid: bool = False,
    ) -> np.ndarray:
        dt = x.dtype
        t = dt.type
        C = x.shape[1]
        eps = t(label_smoothing)
        self.reduction = reduction
        self.weight = weight
        self.eps = eps
        shifted = x - x.max(axis=1, keepdims=True)
        probs_target = y.dtype.kind == "f"
        self.probs_target = probs_target
        wb = None if weight is None else weight.reshape((1, C) + (1,) * (x.ndim - 2))
        if probs_target:
            # A_ic = w_c * ((1 - eps) q_ic + eps / C); loss_i = -sum_c A_ic logp_ic
            A = y * (t(1) - eps) + eps / t(C) if label_smoothing else y
            if wb is not None:
                A = A * wb
            lse = np.log(np.exp(shifted).sum(axis=1, keepdims=True))
            shifted -= lse  # now log-probabilities
            loss = -(A * shifted).sum(axis=1)
            self.saved = (shifted, A)
            n = loss.size
            self.n = n
            if reduction == "none":
                return loss
            total = loss.sum()
            return np.asarray(total if reduction == "sum" else total / t(max(n, 1)), dtype=dt)

        # class-index targets
        self.fast = (
            all_valid and wb is None and not label_smoothing and x.ndim == 2 and reduction != "none"
        )
        if self.fast and x.shape[0]:
            # the common case (every target a class, no weights, no smoothing): fewer passes
            n = x.shape[0]
            picked = shifted[np.arange(n), y]
            np.exp(shifted, out=shifted)
            s = shifted.sum(axis=1, keepdims=True)
            shifted /= s  # now softmax probabilities
            loss = np.log(s[:, 0])
            loss -= picked
            self.saved = (shifted, y)
            total = loss.sum()
            return np.asarray(total if reduction == "sum" else total / t(n), dtype=dt)
        self.fast = False
        valid = y != ignore_index
        yc = np.where(valid, y, 0) if not valid.all() else y
        yidx = np.expand_dims(yc, 1)
        picked = np.take_along_axis(shifted, yidx, axis=1)[:, 0]
        if label_smoothing:
            sm = (shifted * wb).sum(axis=1) if wb is not None else shifted.sum(axis=1)
        np.exp(shifted, out=shifted)
        s = shifted.sum(axis=1, keepdims=True)
        shifted /= s  # now softmax probabilities
        lse = np.log(s[:, 0])
        validf = valid.astype(dt)
        wy = weight[yc] * validf if weight is not None else validf
        loss = (lse - picked) * wy
        if label_smoothing:
            wsum = weight.sum() if weight is not None else t(C)
            smooth = (lse * wsum - sm) * validf
            loss = loss * (t(1) - eps) + smooth * (eps / t(C))
        self.saved = (shifted, yidx, wy, validf)
        if reduction == "none":
            return loss
        if reduction == "sum":
            return np.asarray(loss.sum(), dtype=dt)
        denom = wy.sum()
        self.denom = denom
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.asarray(loss.sum() / denom, dtype=dt)

    def backward(self, grad: np.ndarray) -> tuple[Any, ...]:
        t = grad.dtype.type
        red = self.reduction
        eps = self.eps
        if self.probs_target:
            logp, A = self.saved
            if red == "none":
                g = np.expand_dims(grad, 1)
            elif red == "sum":
                g = grad
            else:
                g = grad / t(max(self.n, 1))
            gx = gy = None
            if self.needs_input_grad[0]:
                gx = np.exp(logp) * A.sum(axis=1, keepdims=True)
                gx -= A
                gx *= g
            if self.needs_input_grad[1]:
                wb = (
                    1
                    if self.weight is None
                    else self.weight.reshape((1, -1) + (1,) * (logp.ndim - 2))
                )
                gy = -(logp * wb) * (t(1) - eps) * g
            return gx, gy
        if not self.needs_input_grad[0]:
            return None, None
        if self.fast:
            p, y = self.saved
            n = p.shape[0]
            scale = grad if red == "sum" else grad / t(n)
            gx = p * scale
            gx[np.arange(n), y] -= scale
            return gx, None
        p, yidx, wy, validf = self.saved
        if red == "none":
            g = grad
        elif red == "sum":
            g = np.broadcast_to(grad, wy.shape)
        else:
            # no valid target: the loss is NaN but, as in PyTorch, the gradient is zero
            scale = grad / self.denom if self.denom != 0 else np.zeros_like(grad)
            g = np.broadcast_to(scale, wy.shape)
        # d loss_i / d x_ic = p_ic * rowsum(A_i) - A_ic
        hard = wy * (t(1) - eps) if eps else wy  # coefficient of the one-hot part
        rowsum = hard
        if eps:
            wsum = self.weight.sum() if self.weight is not None else t(p.shape[1])
            rowsum = hard + validf * (wsum * eps / t(p.shape[1]))
        gx = p * np.expand_dims(rowsum * g, 1)
        pick = hard * g
        if gx.ndim == 2:
            gx[np.arange(gx.shape[0]), yidx[:, 0]] -= pick
        else:
            cur = np.take_along_axis(gx, yidx, axis=1)
            np.put_along_axis(gx, yidx, cur - np.expand_dims(pick, 1), axis=1)
        if eps:
            C = p.shape[1]
            coef = np.expand_dims(validf * g * (eps / t(C)), 1)
            if self.weight is not None:
                coef = coef * self.weight.reshape((1, C) + (1,) * (p.ndim - 2))
            gx -= coef
        return gx, None

    def backward_graph(self, grad: Tensor) -> tuple[Any, ...]:
        # softmax is shift-invariant along the class axis, and the saved log-probabilities
        # (or log of the saved probabilities) are x shifted per row: a stand-in for x with
        # the same softmax, hence the same derivatives of every order.
        t = grad.dtype.type
        red = self.reduction
        if self.probs_target:
            return self._probs_backward_graph(grad)
        with np.errstate(divide="ignore"):
            if self.fast:
                probs, y = self.saved
                n = probs.shape[0]
                yidx = y[:, None]
                wy = validf = np.ones(n, dtype=probs.dtype)
                denom = t(n)
            else:
                probs, yidx, wy, validf = self.saved
                denom = getattr(self, "denom", None)
            p = self.input_standin(0, np.log(probs)).softmax(1)
        eps = self.eps
        if red == "mean":
            g = grad / float(denom) if denom != 0 else grad * 0.0
        else:
            g = grad
        hard = wy * (t(1) - eps) if eps else wy
        rowsum = hard
        C = probs.shape[1]
        M = np.zeros(probs.shape, dtype=probs.dtype)
        np.put_along_axis(M, yidx, np.expand_dims(hard, 1), axis=1)
        if eps:
            w = self.weight if self.weight is not None else np.ones(C, dtype=probs.dtype)
            rowsum = hard + validf * (w.sum() * eps / t(C))
            M = M + np.expand_dims(validf * (eps / t(C)), 1) * w.reshape(
                (1, C) + (1,) * (M.ndim - 2)
            )
        if red == "none":
            gu = g.unsqueeze(1)
        else:
            gu = g
        gx = (p * Tensor._wrap(np.expand_dims(rowsum, 1)) - Tensor._wrap(M)) * gu
        return gx, None

    def _probs_backward_graph(self, grad: Tensor) -> tuple[Any, ...]:
        """Class-probability targets: A = w ((1 - eps) y + eps / C), loss = -sum_c A logp."""
        logp, A = self.saved
        xs = self.input_standin(0, logp)  # same softmax as x (see backward_graph)
        g = grad.unsqueeze(1) if self.reduction == "none" else grad
        if self.reduction == "mean":
            g = g / float(max(self.n, 1))
        w = np.ones((), A.dtype) if self.weight is None else self.weight
        w = Tensor._wrap(w.reshape((1, -1) + (1,) * (A.ndim - 2)) if w.ndim else w)
        At = Tensor._wrap(A)
        if self.needs_input_grad[1]:  # A is affine in y: a stand-in of value 0, times (1 - eps) w
            y0 = self.input_standin(1, np.zeros(A.shape, A.dtype))
            At = y0 * w * (1.0 - float(self.eps)) + At
        gx = gy = None
        if self.needs_input_grad[0]:
            gx = (xs.softmax(1) * At.sum(1, keepdim=True) - At) * g
        if self.needs_input_grad[1]:
            gy = -(xs.log_softmax(1) * w) * (1.0 - float(self.eps)) * g
        return gx, gy


def cross_entropy(
    input: Tensor,  # noqa: A002 - PyTorch's name
    target: Tensor,
    weight: Tensor | None = None,
    ignore_index: int = -100,
    reduction: str = "mean",
    label_smoothing: float = 0.0,
) -> Tensor:
    """Cross-entropy between logits and targets, fused and stable (PyTorch's semantics).

    Args:
        input: logits, shape (C,), (N, C) or (N, C, d1, ...).
        target: class indices (integer tensor of shape (), (N,) or (N, d1, ...), values in
            [0, C) or ``ignore_index``), or class probabilities (float, same shape as input).
        weight: per-class rescaling weights, shape (C,).
        ignore_index: index targets equal to it contribute no loss and no gradient.
        reduction: 'mean' (weighted mean over non-ignored targets), 'sum' or 'none'.
        label_smoothing: in [0, 1]; mixes the target with the uniform distribution.

    Raises :class:`ClassIndexError` (a ``ValueError`` and ``IndexError``) naming the bad
    index and the number of classes.

    Example:
        >>> import gradfit as gf
        >>> from gradfit.ops.loss import cross_entropy
        >>> round(cross_entropy(gf.zeros(4, 10), gf.tensor([0, 1, 2, 3])).item(), 4)  # log(10)
        2.3026
    """
    op = "cross_entropy"
    x = _float_input(input, op)
    target = _tensor(target, op, "target")
    _check_reduction(reduction, op)
    if isinstance(label_smoothing, bool) or not 0.0 <= float(label_smoothing) <= 1.0:
        raise ValueError(
            f"{op}: label_smoothing must be between 0.0 and 1.0, got {label_smoothing}"
        )
    if x.ndim == 0:
        raise ValueError(
            f"{op}: input must have a class dimension: (C,), (N, C) or (N, C, ...), got ()"
        )
    dt = x._data.dtype
    squeeze = x.ndim == 1
    C = x.shape[0] if squeeze else x.shape[1]
    w = _const(weight, dt, op, "weight")
    if w is not None and w.shape != (C,):
        raise ValueError(f"{op}: weight must have shape ({C},) (one per class), got {w.shape}")
    probs = target._data.dtype.kind == "f"
    all_valid = False  # every target a class index in [0, C): the op's fast path
    if probs:
        if target.shape != x.shape:
            raise ValueError(
                f"{op}: a float target holds class probabilities and must have the input's shape "
                f"{x.shape}, got {target.shape} (for class indices use an integer tensor: "
                "target.long())"
            )
        target = _same_float(target, dt)
    else:
        if target._data.dtype.kind not in "iu":
            raise TypeError(
                f"{op}: target must hold integer class indices or float probabilities, "
                f"got {target._data.dtype}"
            )
        expected = () if squeeze else (x.shape[0], *x.shape[2:])
        if target.shape != expected:
            raise ValueError(
                f"{op}: for input of shape {x.shape} the class-index target must have shape "
                f"{expected}, got {target.shape}"
            )
        y = target._data
        # one pass: negative indices read as unsigned are huge, so ">= C" catches them too
        all_valid = not (y.view(f"u{y.dtype.itemsize}") >= C).any()
        bad = (y != ignore_index) & ((y < 0) | (y >= C)) if not all_valid else None
        if bad is not None and bad.any():
            v = int(y[bad].flat[0])
            raise ClassIndexError(
                f"{op}: target contains class index {v}, but there are {C} classes "
                f"(valid indices are 0..{C - 1}, or ignore_index={ignore_index})"
            )
    if squeeze:
        x = x.reshape(1, C)
        target = target.reshape(1, C) if probs else target.reshape(1)
    out = CrossEntropy.apply(
        x,
        target,
        weight=w,
        ignore_index=int(ignore_index),
        reduction=reduction,
        label_smoothing=float(label_smoothing),
        all_valid=all_valid and not 0 <= ignore_index < C,
    )
    if squeeze and reduction == "none":
        out = out.reshape(())
    return out


# --------------------------------------------------------------------------- nll


class NLLLoss(Function):
    """-weight[y] * x[y] over axis 1, with ignore_index and reduction."""

    def forward(
        self,
        x: np.ndarray,
        y: np.ndarray,
        weight: np.ndarray | None,
        ignore_index: int,
        reduction: str,
    ) -> np.ndarray:
        dt = x.dtype
        valid = y != ignore_index
        yc = np.where(valid, y, 0) if not valid.all() else y
        yidx = np.expand_dims(yc, 1)
        picked = np.take_along_axis(x, yidx, axis=1)[:, 0]
        validf = valid.astype(dt)
        wy = weight[yc] * validf if weight is not None else validf
        loss = -picked * wy
        self.reduction = reduction
        self.shape = x.shape
        self.saved = (yidx, wy)
        if reduction == "none":
            return loss
        if reduction == "sum":
            return np.asarray(loss.sum(), dtype=dt)
        self.denom = wy.sum()
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.asarray(loss.sum() / self.denom, dtype=dt)

    def backward(self, grad: np.ndarray) -> tuple[Any, ...]:
        yidx, wy = self.saved
        if self.reduction == "mean":
            scale = grad / self.denom if self.denom != 0 else np.zeros_like(grad)
            g = -(wy * scale)
        else:
            g = -(wy * grad)
        gx = np.zeros(self.shape, dtype=grad.dtype)
        np.put_along_axis(gx, yidx, np.expand_dims(g, 1), axis=1)
        return gx, None

    def backward_graph(self, grad: Tensor) -> tuple[Any, ...]:
        yidx, wy = self.saved
        if self.reduction == "mean":
            g = grad / float(self.denom) if self.denom != 0 else grad * 0.0
        else:
            g = grad
        onehot = np.zeros(self.shape, dtype=wy.dtype)
        np.put_along_axis(onehot, yidx, np.expand_dims(-wy, 1), axis=1)
        gu = g.unsqueeze(1) if self.reduction == "none" else g
        return Tensor._wrap(onehot) * gu, None


def nll_loss(
    input: Tensor,  # noqa: A002
    target: Tensor,
    weight: Tensor | None = None,
    ignore_index: int = -100,
    reduction: str = "mean",
) -> Tensor:
    """Negative log-likelihood of class indices given log-probabilities (e.g. from log_softmax).

    Shapes as :func:`cross_entropy` with index targets; 'mean' divides by the sum
    of the targets' weights.

    Example:
        >>> import gradfit as gf
        >>> from gradfit.ops.loss import nll_loss
        >>> nll_loss(gf.tensor([[-0.5, -2.0], [-3.0, -0.1]]), gf.tensor([0, 1]))
        tensor(0.3)
    """
    op = "nll_loss"
    x = _float_input(input, op)
    target = _tensor(target, op, "target")
    _check_reduction(reduction, op)
    if x.ndim == 0:
        raise ValueError(f"{op}: input must be (C,), (N, C) or (N, C, ...), got a 0-d tensor")
    squeeze = x.ndim == 1
    C = x.shape[0] if squeeze else x.shape[1]
    if target._data.dtype.kind not in "iu":
        raise TypeError(f"{op}: target must hold integer class indices, got {target._data.dtype}")
    expected = () if squeeze else (x.shape[0], *x.shape[2:])
    if target.shape != expected:
        raise ValueError(
            f"{op}: for input of shape {x.shape} the target must have shape {expected}, "
            f"got {target.shape}"
        )
    y = target._data
    bad = (y != ignore_index) & ((y < 0) | (y >= C))
    if bad.any():
        raise ClassIndexError(
            f"{op}: target contains class index {int(y[bad].flat[0])}, but there are {C} classes "
            f"(valid indices are 0..{C - 1}, or ignore_index={ignore_index})"
        )
    w = _const(weight, x._data.dtype, op, "weight")
    if w is not None and w.shape != (C,):
        raise ValueError(f"{op}: weight must have shape ({C},) (one per class), got {w.shape}")
    if squeeze:
        x, target = x.reshape(1, C), target.reshape(1)
    out = NLLLoss.apply(x, target, weight=w, ignore_index=int(ignore_index), reduction=reduction)
    return out.reshape(()) if squeeze and reduction == "none" else out


# --------------------------------------------------------------------------- regression


class PointwiseLoss(_Reduced):
    """mse / l1 / huber / smooth_l1 of d = x - y, with the derivative computed in one pass."""

    def forward(
        self, x: np.ndarray, y: np.ndarray, kind: str, delta: float, reduction: str
    ) -> np.ndarray:
        t = x.dtype.type
        d = x - y
        if kind == "mse":
            loss = d * d
            deriv = d * t(2)
        elif kind == "l1":
            loss = np.abs(d)
            deriv = np.sign(d)
        else:
            ad = np.abs(d)
            small = ad < delta
            dl = t(delta)
            if kind == "huber":  # 0.5 d^2 if |d| < delta else delta (|d| - 0.5 delta)
                loss = np.where(small, t(0.5) * d * d, dl * (ad - t(0.5) * dl))
                deriv = np.where(small, d, dl * np.sign(d))
            else:  # smooth_l1 = huber / beta (beta == 0: l1)
                if delta == 0:
                    loss, deriv = ad, np.sign(d)
                else:
                    loss = np.where(small, t(0.5) * d * d / dl, ad - t(0.5) * dl)
                    deriv = np.where(small, d / dl, np.sign(d))
        self.saved = (deriv,)
        self.shapes = (x.shape, y.shape)
        self.reduction = reduction
        self.kind = kind
        self.delta = delta  # for a double backward of huber / smooth_l1
        if x.shape != y.shape:  # broadcast (torch warns): x and y kept for a double backward
            self.broadcast_inputs = (x, y)
        self.n = loss.size
        return _reduce(loss, reduction)

    def backward(self, grad: np.ndarray) -> tuple[Any, ...]:
        (deriv,) = self.saved
        g = deriv * self._upstream(grad)
        sx, sy = self.shapes
        gx = _grad_to(g, sx, grad.dtype) if self.needs_input_grad[0] else None
        gy = _grad_to(-g, sy, grad.dtype) if self.needs_input_grad[1] else None
        return gx, gy

    def backward_graph(self, grad: Tensor) -> tuple[Any, ...]:
        (deriv,) = self.saved
        sx, sy = self.shapes
        g = grad / float(max(self.n, 1)) if self.reduction == "mean" else grad
        quadratic = {"mse": 0.5, "huber": 1.0, "smooth_l1": self.delta}.get(self.kind)
        if self.kind == "mse":
            gd = self._difference(deriv * 0.5) * 2.0 * g
        elif quadratic:  # huber / smooth_l1 (delta > 0): d / quadratic where |d| < delta
            small = np.abs(deriv) < (self.delta / quadratic)
            # d = deriv * quadratic where small; elsewhere deriv is a constant +-delta / quadratic
            d = self._difference(deriv * deriv.dtype.type(quadratic))
            gd = Where.apply(d / quadratic, Tensor._wrap(deriv), cond=small) * g
        else:  # l1, smooth_l1 with beta = 0: the sign, a constant
            gd = Tensor._wrap(deriv) * g
        gx = sum_to(gd.expand(deriv.shape), sx) if self.needs_input_grad[0] else None
        gy = sum_to(-gd.expand(deriv.shape), sy) if self.needs_input_grad[1] else None
        return gx, gy

    def _difference(self, d: np.ndarray) -> Tensor:
        """d = x - y in the graph: a stand-in of value ``d`` for x, minus one of value 0 for y
        (a difference's derivatives do not depend on the values); x - y itself when they
        were broadcast."""
        if self.shapes[0] != self.shapes[1]:
            x, y = self.broadcast_inputs
            return self.input_tensor(0, x) - self.input_tensor(1, y)
        t = self.input_standin(0, d)
        if self.needs_input_grad[1]:
            t = t - self.input_standin(1, np.zeros(self.shapes[1], d.dtype))
        return t


def _pair(input: Any, target: Any, op: str) -> tuple[Tensor, Tensor]:  # noqa: A002
    x = _float_input(input, op)
    y = _tensor(target, op, "target")
    y = _same_float(y, x._data.dtype)
    try:
        np.broadcast_shapes(x.shape, y.shape)
    except ValueError:
        raise ValueError(
            f"{op}: input shape {x.shape} and target shape {y.shape} cannot be broadcast together"
        ) from None
    if op in _WARN_BROADCAST and x.shape != y.shape:  # as torch: (4, 1) vs (4,) gives (4, 4)
        import warnings

        warnings.warn(
            f"Using a target size ({y.shape}) that is different to the input size ({x.shape}). "
            "This will likely lead to incorrect results due to broadcasting. "
            "Please ensure they have the same size.",
            UserWarning,
            stacklevel=3,
        )
    return x, y


_WARN_BROADCAST = ("mse_loss", "l1_loss", "huber_loss", "smooth_l1_loss")


def mse_loss(input: Tensor, target: Tensor, reduction: str = "mean") -> Tensor:  # noqa: A002
    """Mean squared error: (input - target)**2, reduced.

    Example:
        >>> import gradfit as gf
        >>> from gradfit.ops.loss import mse_loss
        >>> mse_loss(gf.tensor([1.0, 2.0]), gf.tensor([0.0, 0.0]))
        tensor(2.5)
    """
    _check_reduction(reduction, "mse_loss")
    x, y = _pair(input, target, "mse_loss")
    return PointwiseLoss.apply(x, y, kind="mse", delta=0.0, reduction=reduction)


def l1_loss(input: Tensor, target: Tensor, reduction: str = "mean") -> Tensor:  # noqa: A002
    """Mean absolute error: |input - target|, reduced (gradient 0 where they are equal).

    Example:
        >>> import gradfit as gf
        >>> from gradfit.ops.loss import l1_loss
        >>> l1_loss(gf.tensor([1.0, -2.0]), gf.tensor([0.0, 0.0]), reduction="sum")
        tensor(3.)
    """
    _check_reduction(reduction, "l1_loss")
    x, y = _pair(input, target, "l1_loss")
    return PointwiseLoss.apply(x, y, kind="l1", delta=0.0, reduction=reduction)


def huber_loss(
    input: Tensor,  # noqa: A002
    target: Tensor,
    reduction: str = "mean",
    delta: float = 1.0,
) -> Tensor:
    """Huber: 0.5 d**2 where |d| < delta, delta * (|d| - 0.5 delta) elsewhere (d = input - target).

    Example:
        >>> import gradfit as gf
        >>> from gradfit.ops.loss import huber_loss
        >>> huber_loss(gf.tensor([0.5, 3.0]), gf.zeros(2), reduction="none")
        tensor([0.125, 2.5  ])
    """
    _check_reduction(reduction, "huber_loss")
    if not delta > 0:
        raise ValueError(f"huber_loss: delta must be positive, got {delta}")
    x, y = _pair(input, target, "huber_loss")
    return PointwiseLoss.apply(x, y, kind="huber", delta=float(delta), reduction=reduction)


def smooth_l1_loss(
    input: Tensor,  # noqa: A002
    target: Tensor,
    reduction: str = "mean",
    beta: float = 1.0,
) -> Tensor:
    """Smooth L1: 0.5 d**2 / beta where |d| < beta, |d| - 0.5 beta elsewhere (huber / beta).

    Example:
        >>> import gradfit as gf
        >>> from gradfit.ops.loss import smooth_l1_loss
        >>> smooth_l1_loss(gf.tensor([0.5, 3.0]), gf.zeros(2), reduction="none", beta=2.0)
        tensor([0.0625, 2.    ])
    """
    _check_reduction(reduction, "smooth_l1_loss")
    if beta < 0:
        raise ValueError(f"smooth_l1_loss: beta must be non-negative, got {beta}")
    x, y = _pair(input, target, "smooth_l1_loss")
    return PointwiseLoss.apply(x, y, kind="smooth_l1", delta=float(beta), reduction=reduction)


# --------------------------------------------------------------------------- binary


def _softplus(x: np.ndarray) -> np.ndarray:
    """log(1 + exp(x)) without overflow: max(x, 0) + log1p(exp(-|x|))."""
    return np.maximum(x, x.dtype.type(0)) + np.log1p(np.exp(-np.abs(x)))


def _sigmoid(x: np.ndarray) -> np.ndarray:
    half = x.dtype.type(0.5)
    return half * (np.tanh(x * half) + x.dtype.type(1))


class BCEWithLogits(_Reduced):
    """w * [(1 - y + pw y) softplus(x) - pw y x], the stable form of -w[pw y log s + (1-y) log(1-s)]."""

    def forward(
        self,
        x: np.ndarray,
        y: np.ndarray,
        weight: np.ndarray | None,
        pos_weight: np.ndarray | None,
        reduction: str,
    ) -> np.ndarray:
        t = x.dtype.type
        sp = _softplus(x)
        if pos_weight is None:
            loss = sp - y * x
        else:
            pwy = pos_weight * y
            loss = (t(1) - y + pwy) * sp - pwy * x
        if weight is not None:
            loss = loss * weight
        self.weight, self.pos_weight = weight, pos_weight
        self.saved = (x, y, sp if self.needs_input_grad[1] else None)
        self.reduction = reduction
        self.n = loss.size
        return _reduce(loss, reduction)

    def backward(self, grad: np.ndarray) -> tuple[Any, ...]:
        x, y, sp = self.saved
        t = x.dtype.type
        g = self._upstream(grad)
        if self.weight is not None:
            g = g * self.weight
        pw = self.pos_weight
        gx = gy = None
        if self.needs_input_grad[0]:
            s = _sigmoid(x)
            d = s - y if pw is None else (t(1) - y + pw * y) * s - pw * y
            gx = _grad_to(d * g, x.shape, x.dtype)
        if self.needs_input_grad[1]:
            d = -x if pw is None else (pw - t(1)) * sp - pw * x
            gy = _grad_to(d * g, y.shape, y.dtype)
        return gx, gy

    def backward_graph(self, grad: Tensor) -> tuple[Any, ...]:
        from gradfit.ops.elementwise_extra import logaddexp

        x, y, _ = self.saved
        g = grad / float(max(self.n, 1)) if self.reduction == "mean" else grad
        if self.weight is not None:
            g = g * Tensor._wrap(self.weight)
        xt, yt = self.input_tensor(0, x), self.input_tensor(1, y)
        pw = None if self.pos_weight is None else Tensor._wrap(self.pos_weight)
        gx = gy = None
        if self.needs_input_grad[0]:
            s = xt.sigmoid()
            d = s - yt if pw is None else s * (1.0 - yt + pw * yt) - pw * yt
            gx = _grad_to_graph(d * g, x.shape)
        if self.needs_input_grad[1]:
            if pw is None:
                d = -xt
            else:
                sp = logaddexp(xt, Tensor._wrap(np.zeros((), dtype=x.dtype)))  # softplus
                d = (pw - 1.0) * sp - pw * xt
            gy = _grad_to_graph(d * g, y.shape)
        return gx, gy


def binary_cross_entropy_with_logits(
    input: Tensor,  # noqa: A002
    target: Tensor,
    weight: Tensor | None = None,
    reduction: str = "mean",
    pos_weight: Tensor | None = None,
) -> Tensor:
    """Binary cross-entropy on logits (sigmoid inside), stable for logits of any size.

    ``weight`` rescales each element (broadcast to the input); ``pos_weight``
    weighs the positive term per class (broadcast along the last dimension).

    Example:
        >>> import gradfit as gf
        >>> from gradfit.ops.loss import binary_cross_entropy_with_logits as bce
        >>> bce(gf.tensor([1e4, -1e4]), gf.tensor([0.0, 1.0]), reduction="none")
        tensor([10000., 10000.])
    """
    op = "binary_cross_entropy_with_logits"
    _check_reduction(reduction, op)
    x = _float_input(input, op)
    y = _same_float(_tensor(target, op, "target"), x._data.dtype)
    if y.shape != x.shape:
        raise ValueError(f"{op}: target size {y.shape} must be the same as input size {x.shape}")
    dt = x._data.dtype
    w = _const(weight, dt, op, "weight")
    pw = _const(pos_weight, dt, op, "pos_weight")
    for name, a in (("weight", w), ("pos_weight", pw)):
        if a is not None:
            try:
                if np.broadcast_shapes(a.shape, x.shape) != x.shape:
                    raise ValueError
            except ValueError:
                raise ValueError(
                    f"{op}: {name} of shape {a.shape} cannot be broadcast to the input's shape "
                    f"{x.shape}"
                ) from None
    return BCEWithLogits.apply(x, y, weight=w, pos_weight=pw, reduction=reduction)


class BCE(_Reduced):
    """-w [y log p + (1 - y) log(1 - p)] with the logs clamped at -100 (as in PyTorch)."""

    def forward(
        self, p: np.ndarray, y: np.ndarray, weight: np.ndarray | None, reduction: str
    ) -> np.ndarray:
        t = p.dtype.type
        with np.errstate(divide="ignore"):
            logp = np.maximum(np.log(p), t(-100))
            log1mp = np.maximum(np.log1p(-p), t(-100))
        loss = -(y * logp + (t(1) - y) * log1mp)
        if weight is not None:
            loss = loss * weight
        self.weight = weight
        self.saved = (p, y, logp, log1mp)
        self.reduction = reduction
        self.n = loss.size
        return _reduce(loss, reduction)

    def backward(self, grad: np.ndarray) -> tuple[Any, ...]:
        p, y, logp, log1mp = self.saved
        t = p.dtype.type
        g = self._upstream(grad)
        if self.weight is not None:
            g = g * self.weight
        gx = gy = None
        if self.needs_input_grad[0]:
            d = (p - y) / np.maximum((t(1) - p) * p, t(1e-12))
            gx = _grad_to(d * g, p.shape, p.dtype)
        if self.needs_input_grad[1]:
            gy = _grad_to((log1mp - logp) * g, y.shape, y.dtype)
        return gx, gy

    def backward_graph(self, grad: Tensor) -> tuple[Any, ...]:
        p, y = self.saved[:2]
        g = grad / float(max(self.n, 1)) if self.reduction == "mean" else grad
        if self.weight is not None:
            g = g * Tensor._wrap(self.weight)
        pt, yt = self.input_tensor(0, p), self.input_tensor(1, y)
        gx = gy = None
        if self.needs_input_grad[0]:
            gx = _grad_to_graph((pt - yt) / ((1.0 - pt) * pt).clamp(min=1e-12) * g, p.shape)
        if self.needs_input_grad[1]:
            d = (1.0 - pt).log().clamp(min=-100.0) - pt.log().clamp(min=-100.0)
            gy = _grad_to_graph(d * g, y.shape)
        return gx, gy


def binary_cross_entropy(
    input: Tensor,  # noqa: A002
    target: Tensor,
    weight: Tensor | None = None,
    reduction: str = "mean",
) -> Tensor:
    """Binary cross-entropy on probabilities in [0, 1] (prefer the ``_with_logits`` form).

    The logarithms are clamped at -100, as in PyTorch, so p = 0 or 1 gives a
    finite loss.

    Example:
        >>> import gradfit as gf
        >>> from gradfit.ops.loss import binary_cross_entropy
        >>> round(binary_cross_entropy(gf.tensor([0.5]), gf.tensor([1.0])).item(), 4)
        0.6931
    """
    op = "binary_cross_entropy"
    _check_reduction(reduction, op)
    x = _float_input(input, op)
    y = _same_float(_tensor(target, op, "target"), x._data.dtype)
    if y.shape != x.shape:
        raise ValueError(f"{op}: target size {y.shape} must be the same as input size {x.shape}")
    d = x._data
    if d.size and not ((d >= 0) & (d <= 1)).all():
        bad = d[~((d >= 0) & (d <= 1))].flat[0]
        raise ValueError(
            f"{op}: all elements of input should be probabilities in [0, 1], found {bad}; "
            "apply sigmoid first, or use binary_cross_entropy_with_logits on the logits"
        )
    w = _const(weight, x._data.dtype, op, "weight")
    if w is not None:
        try:
            if np.broadcast_shapes(w.shape, x.shape) != x.shape:
                raise ValueError
        except ValueError:
            raise ValueError(
                f"{op}: weight of shape {w.shape} cannot be broadcast to the input's shape {x.shape}"
            ) from None
    return BCE.apply(x, y, weight=w, reduction=reduction)


# --------------------------------------------------------------------------- KL divergence


class KLDiv(_Reduced):
    """target * (log target - input), 0 where target == 0; or exp(t) (t - input) for log targets."""

    def forward(self, x: np.ndarray, y: np.ndarray, log_target: bool, reduction: str) -> np.ndarray:
        t = x.dtype.type
        if log_target:
            ey = np.exp(y)
            loss = ey * (y - x)
            self.saved = (x, y, ey)
        else:
            pos = y > 0
            with np.errstate(divide="ignore", invalid="ignore"):
                logy = np.where(pos, np.log(np.where(pos, y, t(1))), t(0))
            loss = y * logy - y * x
            self.saved = (x, y, logy)
        self.log_target = log_target
        self.reduction = reduction
        self.n = loss.size
        if reduction == "batchmean":
            self.reduction = "batchmean"
            self.n = x.shape[0] if x.ndim else 1
            return np.asarray(loss.sum() / t(max(self.n, 1)), dtype=x.dtype)
        return _reduce(loss, reduction)

    def _upstream(self, grad: np.ndarray) -> np.ndarray:
        if self.reduction in ("mean", "batchmean"):
            return grad / grad.dtype.type(max(self.n, 1))
        return grad

    def backward(self, grad: np.ndarray) -> tuple[Any, ...]:
        x, y, aux = self.saved
        t = x.dtype.type
        g = self._upstream(grad)
        gx = gy = None
        if self.log_target:
            if self.needs_input_grad[0]:
                gx = _grad_to(-aux * g, x.shape, x.dtype)
            if self.needs_input_grad[1]:
                gy = _grad_to(aux * (y - x + t(1)) * g, y.shape, y.dtype)
        else:
            if self.needs_input_grad[0]:
                gx = _grad_to(-y * g, x.shape, x.dtype)
            if self.needs_input_grad[1]:
                gy = _grad_to((aux + t(1) - x) * g, y.shape, y.dtype)
        return gx, gy

    def backward_graph(self, grad: Tensor) -> tuple[Any, ...]:
        x, y = self.saved[:2]
        g = grad / float(max(self.n, 1)) if self.reduction in ("mean", "batchmean") else grad
        xt, yt = self.input_tensor(0, x), self.input_tensor(1, y)
        gx = gy = None
        if self.log_target:
            ey = yt.exp()
            if self.needs_input_grad[0]:
                gx = _grad_to_graph(-ey * g, x.shape)
            if self.needs_input_grad[1]:
                gy = _grad_to_graph(ey * (yt - xt + 1.0) * g, y.shape)
        else:
            if self.needs_input_grad[0]:
                gx = _grad_to_graph(-yt * g, x.shape)
            if self.needs_input_grad[1]:
                pos = y > 0  # log y, and 0 where y <= 0 (1 inside the log: no inf next time)
                one = Tensor._wrap(np.ones((), dtype=grad.dtype))
                logy = Where.apply(Where.apply(yt, one, cond=pos).log(), one * 0.0, cond=pos)
                gy = _grad_to_graph((logy + 1.0 - xt) * g, y.shape)
        return gx, gy


def kl_div(
    input: Tensor,  # noqa: A002
    target: Tensor,
    reduction: str = "mean",
    log_target: bool = False,
) -> Tensor:
    """Kullback-Leibler divergence KL(target || exp(input)), with ``input`` log-probabilities.

    ``reduction='batchmean'`` divides the sum by the batch size (the mathematical
    KL per sample); 'mean' divides by the number of elements, as PyTorch does.
    ``log_target=True`` takes the target as log-probabilities too.

    Example:
        >>> import gradfit as gf
        >>> from gradfit.ops.loss import kl_div
        >>> p = gf.tensor([[0.5, 0.5]])
        >>> kl_div(p.log(), p, reduction="batchmean")
        tensor(0.)
    """
    op = "kl_div"
    _check_reduction(reduction, op, ("batchmean",))
    x, y = _pair(input, target, op)
    if y.shape != x.shape:
        raise ValueError(f"{op}: target size {y.shape} must be the same as input size {x.shape}")
    return KLDiv.apply(x, y, log_target=bool(log_target), reduction=reduction)
