"""The hand-written NumPy reference MLP: the same initialisation and maths as gradfit, no autograd.

A ReLU multi-layer perceptron trained with softmax cross-entropy (mean over the batch) and SGD
with momentum (PyTorch's form: ``v = momentum * v + g; w -= lr * v``), written the way a careful
person writes it by hand: one GEMM per product, ``x @ W.T + b`` forward, the chain rule backward,
no graph and no framework. It is the floor gradfit's overhead is measured against
(``benchmarks/run.py``) and the oracle ``tests/test_benchmarks.py`` checks gradfit's gradients
against.

Initialisation is PyTorch's (and gradfit's) ``nn.Linear`` default: weight and bias uniform in
``[-1/sqrt(fan_in), 1/sqrt(fan_in)]``; weights are stored ``(out, in)`` like ``nn.Linear``.

Example:
    >>> import numpy as np
    >>> from benchmarks.numpy_mlp import NumpyMLP
    >>> net = NumpyMLP([4, 8, 3], seed=0)
    >>> x = np.ones((2, 4), np.float32)
    >>> loss, grads = net.loss_and_grads(x, np.array([0, 2]))
    >>> [g.shape for g in grads]
    [(8, 4), (8,), (3, 8), (3,)]
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence

import numpy as np


class NumpyMLP:
    """A ReLU MLP ``sizes = [in, hidden..., out]`` with hand-written forward, backward and SGD.

    Args:
        sizes: layer widths, input first.
        seed: seed of the NumPy generator that draws the initial weights.
        dtype: the parameters' dtype (float32 by default).
    """

    def __init__(self, sizes: Sequence[int], seed: int = 0, dtype: type = np.float32) -> None:
        rng = np.random.default_rng(seed)
        self.params: list[np.ndarray] = []
        for fan_in, fan_out in itertools.pairwise(sizes):
            bound = 1.0 / np.sqrt(fan_in)
            self.params.append(rng.uniform(-bound, bound, (fan_out, fan_in)).astype(dtype))
            self.params.append(rng.uniform(-bound, bound, fan_out).astype(dtype))
        self.velocity: list[np.ndarray] | None = None

    @classmethod
    def from_params(cls, params: Sequence[np.ndarray]) -> NumpyMLP:
        """A reference MLP holding copies of ``[W1, b1, W2, b2, ...]`` (e.g. a gradfit model's)."""
        net = cls.__new__(cls)
        net.params = [np.array(p, copy=True) for p in params]
        net.velocity = None
        return net

    def loss_and_grads(self, x: np.ndarray, y: np.ndarray) -> tuple[float, list[np.ndarray]]:
        """Mean softmax cross-entropy of the batch and its gradient for every parameter."""
        ws, bs = self.params[0::2], self.params[1::2]
        acts = [x]  # the input of each layer
        h = x
        for i, (w, b) in enumerate(zip(ws, bs, strict=True)):
            h = h @ w.T + b
            if i < len(ws) - 1:
                h = np.maximum(h, 0)
                acts.append(h)
        # softmax cross-entropy, stable
        n = x.shape[0]
        z = h - h.max(axis=1, keepdims=True)
        e = np.exp(z)
        s = e.sum(axis=1, keepdims=True)
        rows = np.arange(n)
        loss = float(np.mean(np.log(s[:, 0]) - z[rows, y]))
        d = e / s
        d[rows, y] -= 1
        d /= d.dtype.type(n)
        grads: list[np.ndarray] = [None] * len(self.params)  # type: ignore[list-item]
        for i in range(len(ws) - 1, -1, -1):
            a = acts[i]
            grads[2 * i] = d.T @ a
            grads[2 * i + 1] = d.sum(axis=0)
            if i > 0:
                d = d @ ws[i]
                d *= a > 0
        return loss, grads

    def sgd_step(self, grads: Sequence[np.ndarray], lr: float, momentum: float = 0.0) -> None:
        """``v = momentum * v + g; p -= lr * v`` (PyTorch's SGD; ``v = g`` on the first step)."""
        if momentum == 0:
            for p, g in zip(self.params, grads, strict=True):
                p -= p.dtype.type(lr) * g
            return
        if self.velocity is None:
            self.velocity = [np.array(g, copy=True) for g in grads]
        else:
            for v, g in zip(self.velocity, grads, strict=True):
                v *= v.dtype.type(momentum)
                v += g
        for p, v in zip(self.params, self.velocity, strict=True):
            p -= p.dtype.type(lr) * v

    def train_step(self, x: np.ndarray, y: np.ndarray, lr: float, momentum: float = 0.0) -> float:
        """One SGD step on a batch; returns the batch's loss."""
        loss, grads = self.loss_and_grads(x, y)
        self.sgd_step(grads, lr, momentum)
        return loss

    def predict(self, x: np.ndarray) -> np.ndarray:
        """The logits of ``x`` (inference: no activations kept)."""
        h = x
        n = len(self.params) // 2
        for i in range(n):
            h = h @ self.params[2 * i].T + self.params[2 * i + 1]
            if i < n - 1:
                np.maximum(h, 0, out=h)
        return h
