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


# ------------------------------------------------------------ channel-wise and alpha dropout
def _feature_dropout(
    x: Tensor, p: float, training: bool, who: str, ndims: tuple[int, int], generator: Any
) -> Tensor:
    p = _check_p(p, who)
    if not isinstance(x, Tensor):
        raise TypeError(f"{who}: expected a gf.Tensor, got {type(x).__name__}")
    if x.ndim not in ndims:
        raise RuntimeError(
            f"{who}: Expected {ndims[0]}D or {ndims[1]}D input, but received a {x.ndim}D input"
        )
    if not training or p == 0.0:
        return x
    if x._data.dtype.kind != "f":
        raise TypeError(f"{who}: expected a floating-point tensor, got {x._data.dtype}")
    dt = x._data.dtype
    batched = x.ndim == ndims[1]
    mshape = x.shape[: 2 if batched else 1] + (1,) * (x.ndim - (2 if batched else 1))
    if p == 1.0:
        mask = np.zeros(mshape, dtype=dt)
    else:
        gen = default_generator() if generator is None else generator
        mask = (gen.random(mshape) >= p).astype(dt)
        mask *= dt.type(1.0 / (1.0 - p))
    return x * Tensor._wrap(mask)


def dropout1d(
    input: Tensor,  # noqa: A002
    p: float = 0.5,
    training: bool = True,
    inplace: bool = False,
    generator: Any = None,
) -> Tensor:
    """Zero whole channels of ``(N, C, L)`` or ``(C, L)`` input with probability ``p``; scale the rest.

    Example:
        >>> import gradfit as gf
        >>> gf.nn.functional.dropout1d(gf.ones(2, 3, 4), p=1.0).sum()
        tensor(0.)
    """
    return _feature_dropout(input, p, training, "dropout1d", (2, 3), generator)


def dropout2d(
    input: Tensor,  # noqa: A002
    p: float = 0.5,
    training: bool = True,
    inplace: bool = False,
    generator: Any = None,
) -> Tensor:
    """Zero whole channels of ``(N, C, H, W)`` or ``(C, H, W)`` input with probability ``p``.

    Example:
        >>> import gradfit as gf
        >>> gf.nn.functional.dropout2d(gf.ones(1, 2, 2, 2), training=False).shape
        (1, 2, 2, 2)
    """
    return _feature_dropout(input, p, training, "dropout2d", (3, 4), generator)


_ALPHA = 1.7580993408473766  # -SELU's negative saturation value


def alpha_dropout(
    input: Tensor,  # noqa: A002
    p: float = 0.5,
    training: bool = False,
    inplace: bool = False,
    generator: Any = None,
) -> Tensor:
    """Dropout that keeps SELU activations' mean and variance (drops to SELU's saturation value).

    Note PyTorch's default ``training=False`` for the functional form.

    Example:
        >>> import gradfit as gf
        >>> gf.nn.functional.alpha_dropout(gf.ones(3), 0.5)
        tensor([1., 1., 1.])
    """
    p = _check_p(p, "alpha_dropout")
    if not isinstance(input, Tensor):
        raise TypeError(f"alpha_dropout: expected a gf.Tensor, got {type(input).__name__}")
    if not training or p == 0.0:
        return input
    dt = input._data.dtype
    if dt.kind != "f":
        raise TypeError(f"alpha_dropout: expected a floating-point tensor, got {dt}")
    if p == 1.0:
        return input * Tensor._wrap(np.zeros((), dt))
    gen = default_generator() if generator is None else generator
    keep = (gen.random(input.shape) >= p).astype(np.float64)
    a = 1.0 / np.sqrt((_ALPHA * _ALPHA * p + 1) * (1 - p))
    b = (keep - 1) * (_ALPHA * a) + _ALPHA * a * p
    return input * Tensor._wrap((keep * a).astype(dt)) + Tensor._wrap(b.astype(dt))


class _DropoutN(Module):
    _fn: Any = None

    def __init__(self, p: float = 0.5, inplace: bool = False) -> None:
        super().__init__()
        self.p = _check_p(p, type(self).__name__)
        self.inplace = inplace

    def forward(self, x: Tensor) -> Tensor:
        return type(self)._fn(x, self.p, self.training)

    def extra_repr(self) -> str:
        return f"p={self.p}, inplace={self.inplace}"


class Dropout1d(_DropoutN):
    """Channel-wise dropout for ``(N, C, L)`` / ``(C, L)`` inputs.

    Example:
        >>> import gradfit as gf
        >>> gf.nn.Dropout1d(0.2)
        Dropout1d(p=0.2, inplace=False)
    """

    _fn = staticmethod(dropout1d)


class Dropout2d(_DropoutN):
    """Channel-wise dropout for ``(N, C, H, W)`` / ``(C, H, W)`` inputs.

    Example:
        >>> import gradfit as gf
        >>> gf.nn.Dropout2d()
        Dropout2d(p=0.5, inplace=False)
    """

    _fn = staticmethod(dropout2d)


class AlphaDropout(_DropoutN):
    """Alpha dropout (for SELU networks); identity in eval mode.

    Example:
        >>> import gradfit as gf
        >>> gf.nn.AlphaDropout(0.2).eval()(gf.ones(2))
        tensor([1., 1.])
    """

    _fn = staticmethod(alpha_dropout)
