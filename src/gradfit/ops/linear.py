"""The affine map ``x @ W.T + b`` as one fused operation (the hot path of every MLP).

Forward is one GEMM on a 2-D view of the input plus an in-place bias add;
backward is two GEMMs and one column sum, each skipped when that gradient is
not needed. ``W.T`` is a view, so NumPy hands BLAS a transposed operand with
no copy; the forward's layout is the faster of two for the shape
(:mod:`gradfit.ops.gemm`, same bits).

Example:
    >>> import gradfit as gf
    >>> from gradfit.ops.linear import linear
    >>> x = gf.ones(2, 3)
    >>> w = gf.ones(4, 3, requires_grad=True)
    >>> b = gf.zeros(4, requires_grad=True)
    >>> y = linear(x, w, b)
    >>> y.shape
    (2, 4)
    >>> y.sum().backward()
    >>> w.grad[0], b.grad
    (tensor([2., 2., 2.]), tensor([2., 2., 2., 2.]))
"""

from __future__ import annotations

from typing import Any

import numpy as np

from gradfit.autograd import Function
from gradfit.ops.gemm import matmul_nt, ones_vector
from gradfit.tensor import Tensor


class Linear(Function):
    """y = x @ w.T + b for x of shape (*, in), w (out, in), b (out,) or absent."""

    def forward(self, x: np.ndarray, w: np.ndarray, b: np.ndarray | None = None) -> np.ndarray:
        lead = x.shape[:-1]
        x2 = x.reshape(-1, x.shape[-1]) if x.ndim != 2 else x
        out = matmul_nt(x2, w)
        if b is not None:
            out += b
        needs = self.needs_input_grad
        self.has_bias = b is not None
        self.lead = lead
        # save only what backward needs: x for dW, w for dx
        self.saved = (x2 if needs[1] else None, w if needs[0] else None)
        return out.reshape(*lead, w.shape[0]) if x.ndim != 2 else out

    def backward(self, grad: np.ndarray) -> tuple[Any, ...]:
        x2, w = self.saved
        needs = self.needs_input_grad
        g2 = grad.reshape(-1, grad.shape[-1]) if grad.ndim != 2 else grad
        gx = gw = gb = None
        if needs[0]:
            gx = g2 @ w
            if grad.ndim != 2:
                gx = gx.reshape(*self.lead, w.shape[1])
        if needs[1]:
            gw = g2.T @ x2
        if self.has_bias:
            if needs[2]:  # a column sum as a GEMV: several times faster than NumPy's sum
                gb = ones_vector(g2.shape[0], g2.dtype) @ g2 if g2.shape[0] else g2.sum(axis=0)
            return gx, gw, gb
        return gx, gw

    def backward_graph(self, grad: Tensor) -> tuple[Any, ...]:
        x2, w = self.saved
        needs = self.needs_input_grad
        n_out = grad.shape[-1]
        g2 = grad.reshape(-1, n_out)
        gx = gw = gb = None
        if needs[0]:
            gx = (g2 @ self.input_tensor(1, w)).reshape(*self.lead, w.shape[1])
        if needs[1]:
            x = self.input_tensor(0, x2.reshape(*self.lead, x2.shape[-1]))
            gw = g2.transpose(0, 1) @ x.reshape(-1, x2.shape[-1])
        if self.has_bias:
            if needs[2]:
                gb = g2.sum(dim=0)
            return gx, gw, gb
        return gx, gw


def linear(x: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """``x @ weight.T + bias`` in one fused op; x is (*, in), weight (out, in), bias (out,).

    Integer inputs are converted to the weight's dtype; float inputs must match
    it (as in PyTorch): a float64 input to a float32 layer raises ``TypeError``.

    Example:
        >>> import gradfit as gf
        >>> from gradfit.ops.linear import linear
        >>> linear(gf.ones(5, 3), gf.ones(2, 3)).tolist()[0]
        [3.0, 3.0]
    """
    for name, t in (("input", x), ("weight", weight), ("bias", bias)):
        if t is not None and not isinstance(t, Tensor):
            raise TypeError(f"linear: {name} must be a Tensor, got {type(t).__name__}")
    wdt = weight._data.dtype
    if weight.ndim != 2:
        raise ValueError(
            f"linear: weight must be 2-D (out_features, in_features), got {weight.shape}"
        )
    if x.ndim == 0:
        raise ValueError("linear: input must have at least 1 dimension, got a 0-d tensor")
    if x.shape[-1] != weight.shape[1]:
        raise ValueError(
            f"linear: input's last dimension is {x.shape[-1]} but the weight {weight.shape} "
            f"expects {weight.shape[1]} (input shape {x.shape})"
        )
    if bias is not None and bias.shape != (weight.shape[0],):
        raise ValueError(f"linear: bias must have shape ({weight.shape[0]},), got {bias.shape}")
    if x._data.dtype != wdt:
        if x._data.dtype.kind in "iub":
            x = x.astype(wdt)
        else:
            raise TypeError(
                f"linear: input is {x._data.dtype} but the weight is {wdt}; convert one of them "
                f"(e.g. x.float() for a float32 model)"
            )
    if bias is not None and bias._data.dtype != wdt:
        raise TypeError(f"linear: bias is {bias._data.dtype} but the weight is {wdt}")
    if bias is None:
        return Linear.apply(x, weight)
    return Linear.apply(x, weight, bias)
