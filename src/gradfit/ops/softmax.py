"""Softmax and log-softmax along any dimension, stable for logits of any magnitude.

Both subtract the maximum before exponentiating, so logits of 1e4 give no
overflow, no NaN and no warning.

Example:
    >>> import gradfit as gf
    >>> gf.softmax(gf.tensor([1e4, 1e4]), dim=0)
    tensor([0.5, 0.5])
"""

from __future__ import annotations

from typing import Any

import numpy as np

from gradfit.autograd import Function
from gradfit.tensor import Tensor, _norm_dim


class Softmax(Function):
    def forward(self, x: np.ndarray, dim: int) -> np.ndarray:
        e = np.asarray(x - x.max(axis=dim, keepdims=True))  # an array even for 0-d input
        np.exp(e, out=e)
        e /= e.sum(axis=dim, keepdims=True)
        self.saved = (e,)
        self.dim = dim
        return e

    def backward(self, grad: np.ndarray) -> tuple[Any]:
        (s,) = self.saved
        gs = grad * s
        gs -= s * gs.sum(axis=self.dim, keepdims=True)
        return (gs,)

    def backward_graph(self, grad: Tensor) -> tuple[Any]:
        s = self.output_tensor(self.saved[0])
        gs = grad * s
        return (gs - s * gs.sum(dim=self.dim, keepdim=True),)


class LogSoftmax(Function):
    def forward(self, x: np.ndarray, dim: int) -> np.ndarray:
        shifted = np.asarray(x - x.max(axis=dim, keepdims=True))
        lse = np.log(np.exp(shifted).sum(axis=dim, keepdims=True))
        shifted -= lse
        self.saved = (shifted,)
        self.dim = dim
        return shifted

    def backward(self, grad: np.ndarray) -> tuple[Any]:
        (out,) = self.saved
        return (grad - np.exp(out) * grad.sum(axis=self.dim, keepdims=True),)

    def backward_graph(self, grad: Tensor) -> tuple[Any]:
        out = self.output_tensor(self.saved[0])
        return (grad - out.exp() * grad.sum(dim=self.dim, keepdim=True),)


def _check(x: Tensor, dim: int | None, op: str) -> tuple[Tensor, int]:
    if dim is None:
        raise TypeError(f"{op}: dim is required (PyTorch's implicit dim is deprecated)")
    if x._data.dtype.kind != "f":
        x = x.float()
    if x.ndim == 0:
        return x, 0
    return x, _norm_dim(dim, x.ndim, op)


def softmax(x: Tensor, dim: int | None = None) -> Tensor:
    """exp(x) / sum(exp(x)) along ``dim``.

    Example:
        >>> import gradfit as gf
        >>> gf.softmax(gf.zeros(2, 4), dim=1).sum(dim=1)
        tensor([1., 1.])
    """
    x, d = _check(x, dim, "softmax")
    return Softmax.apply(x, dim=d if x.ndim else None)


def log_softmax(x: Tensor, dim: int | None = None) -> Tensor:
    """log(softmax(x)) along ``dim``, computed without forming softmax (stable).

    Example:
        >>> import gradfit as gf
        >>> gf.log_softmax(gf.tensor([0.0, -1e4]), dim=0)
        tensor([     0., -10000.])
    """
    x, d = _check(x, dim, "log_softmax")
    return LogSoftmax.apply(x, dim=d if x.ndim else None)


def softmin(x: Tensor, dim: int | None = None, dtype: Any = None) -> Tensor:
    """exp(-x) / sum(exp(-x)) along ``dim``: softmax of ``-x`` (PyTorch's ``F.softmin``).

    ``dtype`` casts the input first, as PyTorch does.

    Example:
        >>> import gradfit as gf
        >>> gf.nn.functional.softmin(gf.tensor([0.0, 1e4]), dim=0)
        tensor([1., 0.])
    """
    if dtype is not None:
        x = x.to(dtype)
    _check(x, dim, "softmin")
    return softmax(-x, dim=dim)
