"""Batch normalisation and layer normalisation, each one fused operation (forward and backward).

``batch_norm`` normalises each channel (dimension 1) over the batch and spatial
dimensions; in training it uses the batch statistics and updates the running
statistics in place as PyTorch does (biased variance to normalise, unbiased
variance into ``running_var``). ``layer_norm`` normalises each sample over its
last ``len(normalized_shape)`` dimensions.

The backward passes use the closed forms (no graph of small ops):
``dx = invstd * (dxhat - mean(dxhat) - xhat * mean(dxhat * xhat))``.

Example:
    >>> import gradfit as gf
    >>> x = gf.randn(8, 3)
    >>> y = batch_norm(x, None, None, training=True)
    >>> [round(v, 4) + 0.0 for v in y.mean(dim=0).tolist()]
    [0.0, 0.0, 0.0]
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from gradfit import kernels, threads
from gradfit.autograd import Function
from gradfit.tensor import Tensor


def _param_shape(ndim: int) -> tuple[int, ...]:
    return (1, -1) + (1,) * (ndim - 2)


class BatchNorm(Function):
    """Inputs: x, then weight and/or bias (``has_weight`` / ``has_bias`` options)."""

    def forward(
        self,
        x: np.ndarray,
        *wb: np.ndarray,
        running_mean: np.ndarray | None,
        running_var: np.ndarray | None,
        training: bool,
        momentum: float,
        eps: float,
        has_weight: bool,
        has_bias: bool,
    ) -> np.ndarray:
        axes = (0, *range(2, x.ndim))
        shape = _param_shape(x.ndim)
        dt = x.dtype.type
        self.training = training
        if training:
            n = x.size // x.shape[1]
            mean = x.mean(axis=axes)
            xc = x - mean.reshape(shape)
            var = np.square(xc).mean(axis=axes)
            if running_mean is not None:
                m = dt(momentum)
                running_mean *= dt(1) - m
                running_mean += m * mean.astype(running_mean.dtype, copy=False)
            if running_var is not None:
                m = dt(momentum)
                unbiased = var * dt(n / (n - 1)) if n > 1 else var
                running_var *= dt(1) - m
                running_var += m * unbiased.astype(running_var.dtype, copy=False)
        else:
            mean, var = running_mean.astype(x.dtype), running_var.astype(x.dtype)
            xc = x - mean.reshape(shape)
        invstd = (var + dt(eps)) ** dt(-0.5)
        xhat = xc
        xhat *= invstd.reshape(shape)
        w = wb[0] if has_weight else None
        b = wb[-1] if has_bias else None
        self.flags, self.eps = (has_weight, has_bias), eps
        self.saved = (xhat, invstd, w)
        out = xhat if w is None else xhat * w.reshape(shape)
        if b is not None:
            out = out + b.reshape(shape)
        return out

    def backward(self, grad: np.ndarray) -> tuple[Any, ...]:
        xhat, invstd, w = self.saved
        axes = (0, *range(2, grad.ndim))
        shape = _param_shape(grad.ndim)
        dt = grad.dtype.type
        needs = self.needs_input_grad
        gsum = grad.sum(axis=axes)
        gdot = (grad * xhat).sum(axis=axes)
        gx = None
        if needs[0]:
            scale = invstd if w is None else invstd * w
            if self.training:
                n = dt(grad.size // grad.shape[1])
                gx = grad - (gsum / n).reshape(shape)
                gx -= xhat * (gdot / n).reshape(shape)
                gx *= scale.reshape(shape)
            else:
                gx = grad * scale.reshape(shape)
        grads: list[Any] = [gx]
        has_weight, has_bias = self.flags
        if has_weight:
            grads.append(gdot if needs[1] else None)
        if has_bias:
            grads.append(gsum if needs[len(grads)] else None)
        return tuple(grads)

    def backward_graph(self, grad: Tensor) -> tuple[Any, ...]:
        # x minus its (batch or running) mean, xhat / invstd, stands in for x: batch norm is
        # invariant to shifting a channel by a constant, so the derivatives are the same.
        xhat, invstd, w = self.saved
        axes = (0, *range(2, grad.ndim))
        shape = _param_shape(grad.ndim)
        needs = self.needs_input_grad
        inv_c = invstd.reshape(shape)
        x = self.input_standin(0, xhat / inv_c)
        if self.training:
            xc = x - x.mean(dim=axes, keepdim=True)
            inv = ((xc * xc).mean(dim=axes, keepdim=True) + float(self.eps)) ** -0.5
        else:
            xc, inv = x, Tensor._wrap(inv_c)
        xh = xc * inv
        wt = None if w is None else self.input_tensor(1, w).reshape(shape)
        gx = None
        if needs[0]:
            gxh = grad if wt is None else grad * wt
            if self.training:
                gx = gxh - gxh.mean(dim=axes, keepdim=True)
                gx = (gx - xh * (gxh * xh).mean(dim=axes, keepdim=True)) * inv
            else:
                gx = gxh * inv
        grads: list[Any] = [gx]
        has_weight, has_bias = self.flags
        if has_weight:
            grads.append((grad * xh).sum(dim=axes) if needs[1] else None)
        if has_bias:
            grads.append(grad.sum(dim=axes) if needs[len(grads)] else None)
        return tuple(grads)


class LayerNorm(Function):
    """Inputs: x, then weight and/or bias (``has_weight`` / ``has_bias`` options)."""

    def forward(
        self, x: np.ndarray, *wb: np.ndarray, nd: int, eps: float, has_weight: bool, has_bias: bool
    ) -> np.ndarray:
        # one pass per step on a 2-D view (rows, features); the row sums are GEMVs or
        # einsum dot products, much faster than NumPy's reductions over short rows
        dt = x.dtype.type
        lead = x.shape[: x.ndim - nd]
        D = math.prod(x.shape[x.ndim - nd :])
        self.nd, self.flags, self.eps = nd, (has_weight, has_bias), eps
        if x.dtype == np.float32 and x.size and kernels.enabled():
            return self._forward_kernel(x, wb, lead, D)
        x2 = x.reshape(-1, D) if D else x.reshape(math.prod(lead), 0)
        mean = x2 @ np.full(D, 1 / D if D else 0, x.dtype)
        xhat = x2 - mean[:, None]
        var = np.einsum("ij,ij->i", xhat, xhat)
        var *= dt(1 / D) if D else dt(np.nan)
        var += dt(eps)
        invstd = np.sqrt(var, out=var)
        np.reciprocal(invstd, out=invstd)
        xhat *= invstd[:, None]
        w = wb[0] if has_weight else None
        b = wb[-1] if has_bias else None
        # saved in the input's layout (views): invstd broadcasts against xhat
        self.saved = (xhat.reshape(x.shape), invstd.reshape(lead + (1,) * nd), w)
        if w is None:
            out = xhat if b is None else xhat + b.reshape(D)
        else:
            out = xhat * w.reshape(D)
            if b is not None:
                out += b.reshape(D)
        return out.reshape(x.shape)

    def _forward_kernel(
        self, x: np.ndarray, wb: tuple[np.ndarray, ...], lead: tuple[int, ...], feat: int
    ) -> np.ndarray:
        """float32 rows by the compiled kernel (gradfit.kernels.layer_norm), in row slices
        on the thread pool when large; saves what the NumPy path saves."""
        from gradfit.kernels.layer_norm import layer_norm_forward

        has_weight, has_bias = self.flags
        D = feat
        x2 = np.ascontiguousarray(x).reshape(-1, D)
        w = wb[0] if has_weight else None
        w1 = np.ascontiguousarray(w).reshape(D) if has_weight else np.ones(D, x.dtype)
        b1 = np.ascontiguousarray(wb[-1]).reshape(D) if has_bias else np.zeros(D, x.dtype)
        out, xhat = np.empty_like(x2), np.empty_like(x2)
        invstd = np.empty(x2.shape[0], x.dtype)
        eps = np.float32(self.eps)

        def rows(a: int, b: int) -> None:
            layer_norm_forward(x2[a:b], w1, b1, eps, out[a:b], xhat[a:b], invstd[a:b])

        threads.over_spans(rows, x2, _SPLIT_BYTES)
        self.saved = (xhat.reshape(x.shape), invstd.reshape(lead + (1,) * self.nd), w)
        return out.reshape(x.shape)

    def _backward_kernel(self, grad: np.ndarray, feat: int) -> tuple[Any, ...]:
        from gradfit.kernels.layer_norm import layer_norm_backward

        D = feat
        xhat, invstd, w = self.saved
        has_weight, has_bias = self.flags
        needs = self.needs_input_grad
        g2 = np.ascontiguousarray(grad).reshape(-1, D)
        xh, inv = xhat.reshape(g2.shape), invstd.reshape(-1)
        w1 = np.ascontiguousarray(w).reshape(D) if has_weight else np.ones(D, g2.dtype)
        need_dx = bool(needs[0])
        need_dwb = any(needs[1:])
        dx = np.empty_like(g2) if need_dx else g2
        # row blocks fixed by the shape alone (not by the thread count), their float64 dw/db
        # partial sums added in block order: the same bits on any number of threads
        n = g2.shape[0]
        step = max(1, _SPLIT_BYTES // max(g2.itemsize * D, 1)) if g2.nbytes >= _SPLIT_BYTES else n
        parts = [(a, min(a + step, n)) for a in range(0, n, step)] or [(0, 0)]
        sums = np.zeros((len(parts), 2, D if need_dwb else 0))  # float64: per block dw, db

        def rows(a: int, b: int, k: int = 0) -> None:
            dw, db = sums[k]
            layer_norm_backward(g2[a:b], xh[a:b], inv[a:b], w1, dx[a:b], dw, db, need_dx,
                                need_dwb)  # fmt: skip

        if len(parts) == 1:
            rows(0, g2.shape[0])
        else:
            threads.run_all([lambda a=a, b=b, k=k: rows(a, b, k)
                             for k, (a, b) in enumerate(parts)], hold=False)  # fmt: skip
        dw, db = sums.sum(axis=0).astype(g2.dtype) if need_dwb else (None, None)
        grads: list[Any] = [dx.reshape(grad.shape) if need_dx else None]
        if has_weight:
            grads.append(dw.reshape(w.shape) if needs[1] else None)
        if has_bias:
            shape = grad.shape[grad.ndim - self.nd :]
            grads.append(db.reshape(shape) if needs[len(grads)] else None)
        return tuple(grads)

    def backward(self, grad: np.ndarray) -> tuple[Any, ...]:
        xhat, invstd, w = self.saved
        has_weight, has_bias = self.flags
        D = math.prod(grad.shape[grad.ndim - self.nd :])
        if grad.dtype == xhat.dtype == np.float32 and grad.size and kernels.enabled():
            return self._backward_kernel(grad, D)
        g2 = grad.reshape(-1, D)
        xh = xhat.reshape(g2.shape)
        dt = xhat.dtype
        needs = self.needs_input_grad
        grads: list[Any] = []
        if needs[0]:
            gxh = g2 * w.reshape(D) if w is not None else g2.copy()
            a = gxh @ np.full(D, 1 / D if D else 0, dt)  # row means of gxh and of gxh * xhat
            c = np.einsum("ij,ij->i", gxh, xh)
            c *= dt.type(1 / D) if D else dt.type(0)
            t = xh * c[:, None]
            t += a[:, None]
            gxh -= t
            gxh *= invstd.reshape(-1, 1)
            grads.append(gxh.reshape(grad.shape))
        else:
            grads.append(None)
        ones = np.ones(g2.shape[0], dt)
        if has_weight:
            grads.append((ones @ (g2 * xh)).reshape(w.shape) if needs[1] else None)
        if has_bias:
            grads.append((ones @ g2).reshape(grad.shape[grad.ndim - self.nd :])
                         if needs[len(grads)] else None)  # fmt: skip
        return tuple(grads)

    def backward_graph(self, grad: Tensor) -> tuple[Any, ...]:
        # Layer norm is invariant to shifting each normalized slice by a constant, so
        # xhat / invstd (x minus its mean) stands in for x: same derivatives of every order.
        xhat, invstd, w = self.saved
        nd = self.nd
        has_weight, has_bias = self.flags
        axes = tuple(range(grad.ndim - nd, grad.ndim))
        lead = tuple(range(grad.ndim - nd))
        needs = self.needs_input_grad
        x = self.input_standin(0, xhat / invstd)
        xc = x - x.mean(dim=axes, keepdim=True)
        inv = ((xc * xc).mean(dim=axes, keepdim=True) + float(self.eps)) ** -0.5
        xh = xc * inv
        grads: list[Any] = []
        if needs[0]:
            gxh = grad if w is None else grad * self.input_tensor(1, w)
            gx = gxh - gxh.mean(dim=axes, keepdim=True)
            gx = (gx - xh * (gxh * xh).mean(dim=axes, keepdim=True)) * inv
            grads.append(gx)
        else:
            grads.append(None)

        def lead_sum(t: Tensor) -> Tensor:
            return t.sum(dim=lead) if lead else t

        if has_weight:
            grads.append(lead_sum(grad * xh) if needs[1] else None)
        if has_bias:
            grads.append(lead_sum(grad) if needs[len(grads)] else None)
        return tuple(grads)


# layer norm's rows split across gradfit's thread pool from this many bytes (kernel path)
_SPLIT_BYTES = 1 << 20


def _check_param(p: Any, name: str, shape: tuple[int, ...], dtype: Any, op: str) -> None:
    if p is None:
        return
    if not isinstance(p, Tensor):
        raise TypeError(f"{op}: {name} must be a gf.Tensor or None, got {type(p).__name__}")
    if p.shape != shape:
        raise ValueError(f"{op}: {name} must have shape {shape}, got {p.shape}")
    if p._data.dtype != dtype:
        raise TypeError(f"{op}: {name} is {p._data.dtype} but the input is {dtype}")


def batch_norm(
    input: Tensor,  # noqa: A002 - PyTorch's name
    running_mean: Tensor | None,
    running_var: Tensor | None,
    weight: Tensor | None = None,
    bias: Tensor | None = None,
    training: bool = False,
    momentum: float = 0.1,
    eps: float = 1e-5,
) -> Tensor:
    """Batch normalisation over dimension 1 of a (N, C) or (N, C, *) input.

    In training (or when no running statistics are given) the batch mean and
    biased variance normalise the input, and ``running_mean``/``running_var`` (if
    given) are updated in place: ``r = (1 - momentum) * r + momentum * stat`` with
    the unbiased variance. In evaluation the running statistics normalise.
    ``weight`` and ``bias`` (shape (C,)) are optional, independently.

    Example:
        >>> import gradfit as gf
        >>> rm, rv = gf.zeros(2), gf.ones(2)
        >>> _ = batch_norm(gf.tensor([[1.0, 2.0], [3.0, 6.0]]), rm, rv, training=True)
        >>> rm.tolist(), rv.tolist()
        ([0.2, 0.4], [1.1, 1.7])
    """
    op = "batch_norm"
    if not isinstance(input, Tensor):
        raise TypeError(f"{op}: expected a gf.Tensor, got {type(input).__name__}")
    dt = input._data.dtype
    if dt.kind != "f":
        raise TypeError(f"{op}: expected a float tensor, got {dt}")
    if input.ndim < 2:
        raise ValueError(f"{op}: expected input (N, C) or (N, C, *), got shape {input.shape}")
    C = input.shape[1]
    for name, t in (("running_mean", running_mean), ("running_var", running_var)):
        if t is not None and (not isinstance(t, Tensor) or t.shape != (C,)):
            got = t.shape if isinstance(t, Tensor) else type(t).__name__
            raise ValueError(f"{op}: {name} must be a gf.Tensor of shape ({C},), got {got}")
    _check_param(weight, "weight", (C,), dt, op)
    _check_param(bias, "bias", (C,), dt, op)
    if not training and (running_mean is None or running_var is None):
        raise ValueError(
            f"{op}: running_mean and running_var are required when training=False "
            "(pass training=True to normalise with the batch statistics)"
        )
    if training and input.size(0) * math.prod(input.shape[2:]) <= 1:
        raise ValueError(
            f"{op}: expected more than 1 value per channel when training, got input of shape "
            f"{input.shape}"
        )
    if momentum is None or not isinstance(momentum, (int, float)) or not 0 <= momentum <= 1:
        raise ValueError(f"{op}: momentum must be a float in [0, 1], got {momentum!r}")
    if training and running_mean is not None:
        running_mean._version[0] += 1
    if training and running_var is not None:
        running_var._version[0] += 1
    args = [input] + [t for t in (weight, bias) if t is not None]
    return BatchNorm.apply(
        *args,
        running_mean=None if running_mean is None else running_mean._data,
        running_var=None if running_var is None else running_var._data,
        training=bool(training),
        momentum=float(momentum),
        eps=float(eps),
        has_weight=weight is not None,
        has_bias=bias is not None,
    )


def layer_norm(
    input: Tensor,  # noqa: A002 - PyTorch's name
    normalized_shape: int | tuple[int, ...] | list[int],
    weight: Tensor | None = None,
    bias: Tensor | None = None,
    eps: float = 1e-5,
) -> Tensor:
    """Normalise each sample over its last ``len(normalized_shape)`` dimensions.

    ``y = (x - mean) / sqrt(var + eps) * weight + bias`` with the biased variance.

    Example:
        >>> import gradfit as gf
        >>> y = layer_norm(gf.tensor([[1.0, 2.0, 3.0]]), (3,))
        >>> [round(v, 3) for v in y[0].tolist()]
        [-1.225, 0.0, 1.225]
    """
    op = "layer_norm"
    if not isinstance(input, Tensor):
        raise TypeError(f"{op}: expected a gf.Tensor, got {type(input).__name__}")
    dt = input._data.dtype
    if dt.kind != "f":
        raise TypeError(f"{op}: expected a float tensor, got {dt}")
    shape = (
        (normalized_shape,) if isinstance(normalized_shape, (int, np.integer)) else normalized_shape
    )
    try:
        shape = tuple(int(s) for s in shape)
    except TypeError:
        raise TypeError(
            f"{op}: normalized_shape must be an int or a tuple of ints, got {normalized_shape!r}"
        ) from None
    nd = len(shape)
    if nd == 0 or input.ndim < nd or tuple(input.shape[-nd:]) != shape:
        raise ValueError(
            f"{op}: input of shape {input.shape} does not end with normalized_shape {shape}"
        )
    _check_param(weight, "weight", shape, dt, op)
    _check_param(bias, "bias", shape, dt, op)
    args = [input] + [t for t in (weight, bias) if t is not None]
    return LayerNorm.apply(
        *args, nd=nd, eps=float(eps), has_weight=weight is not None, has_bias=bias is not None
    )
