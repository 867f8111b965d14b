"""Dropout: randomly zero activations during training (inverted dropout), identity in eval mode.

Example:
    >>> import gradfit as gf
    >>> drop = gf.nn.Dropout(p=0.5)
    >>> y = drop(gf.ones(1000))
    >>> sorted(set(y.tolist()))  # kept values are scaled by 1 / (1 - p)
    [0.0, 2.0]
    >>> bool((drop.eval()(gf.ones(3)) == 1).all())
    True
"""

from __future__ import annotations

from typing import Any

import numpy as np

from gradfit.autograd import Function
from gradfit.nn.module import Module
from gradfit.random import default_generator
from gradfit.tensor import Tensor


class _Dropout(Function):
    """Multiply by a saved mask already scaled by 1 / (1 - p)."""

    def forward(self, x: np.ndarray, mask: np.ndarray) -> np.ndarray:
        self.saved = (mask,)
        return x * mask

    def backward(self, grad: np.ndarray) -> tuple[Any, None]:
        return grad * self.saved[0], None

    def backward_graph(self, grad: Tensor) -> tuple[Any, None]:
        return grad * Tensor._wrap(self.saved[0]), None


def _check_p(p: Any, who: str) -> float:
    if isinstance(p, bool) or not isinstance(p, (int, float)) or not 0.0 <= p <= 1.0:
        raise ValueError(f"{who}: dropout probability has to be between 0 and 1, but got {p!r}")
    return float(p)


def dropout(
    x: Tensor,
    p: float = 0.5,
    training: bool = True,
    inplace: bool = False,
    generator: np.random.Generator | None = None,
) -> Tensor:
    """Zero each element with probability ``p`` and scale the rest by ``1 / (1 - p)``.

    Identity when ``training=False`` or ``p == 0``. The mask is drawn from
    gradfit's seeded generator (or ``generator``). ``inplace`` is accepted for
    compatibility and ignored (gradfit never modifies the input).

    Example:
        >>> import gradfit as gf
        >>> import gradfit.nn.functional as F
        >>> F.dropout(gf.ones(4), p=1.0)
        tensor([0., 0., 0., 0.])
        >>> F.dropout(gf.ones(2), p=0.9, training=False)
        tensor([1., 1.])
    """
    p = _check_p(p, "dropout")
    if not isinstance(x, Tensor):
        raise TypeError(f"dropout: expected a gf.Tensor, got {type(x).__name__}")
    if not training or p == 0.0:
        return x
    if x._data.dtype.kind != "f":
        raise TypeError(f"dropout: expected a floating-point tensor, got {x._data.dtype}")
    dt = x._data.dtype
    gen = default_generator() if generator is None else generator
    if p == 1.0:
        mask = np.zeros(x.shape, dtype=dt)
    else:
        keep = gen.random(x.shape, dtype=np.float32 if dt == np.float32 else np.float64) >= p
        mask = keep.astype(dt)
        mask *= dt.type(1.0 / (1.0 - p))
    return _Dropout.apply(x, Tensor._wrap(mask))


class Dropout(Module):
    """Inverted dropout: in training mode zero elements with probability ``p`` and scale the
    others by ``1 / (1 - p)`` so the expected activation is unchanged; in eval mode, identity.

    Example:
        >>> import gradfit as gf
        >>> gf.nn.Dropout(0.2)
        Dropout(p=0.2, inplace=False)
    """

    def __init__(self, p: float = 0.5, inplace: bool = False) -> None:
        super().__init__()
        self.p = _check_p(p, "Dropout")
        self.inplace = inplace

    def forward(self, x: Tensor) -> Tensor:
        return dropout(x, self.p, self.training)

    def extra_repr(self) -> str:
        return f"p={self.p}, inplace={self.inplace}"
