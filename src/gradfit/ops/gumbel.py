"""Gumbel-softmax sampling (PyTorch's ``F.gumbel_softmax``), with the straight-through ``hard`` form.

Example:
    >>> import gradfit as gf
    >>> y = gf.nn.functional.gumbel_softmax(gf.zeros(2, 5), hard=True)
    >>> y.sum(-1)
    tensor([1., 1.])
"""

from __future__ import annotations

from typing import Any

import numpy as np

from gradfit.ops.softmax import softmax
from gradfit.random import default_generator
from gradfit.tensor import Tensor


def gumbel_softmax(
    logits: Tensor,
    tau: float = 1.0,
    hard: bool = False,
    eps: float = 1e-10,
    dim: int = -1,
    generator: Any = None,
) -> Tensor:
    """``softmax((logits + g) / tau)`` with Gumbel(0, 1) noise ``g`` from gradfit's generator.

    ``hard=True`` returns one-hot samples whose gradient is the soft sample's
    (straight-through estimator). Same distribution as PyTorch's, not the same numbers.

    Example:
        >>> import gradfit as gf
        >>> gf.nn.functional.gumbel_softmax(gf.zeros(3, 4), tau=0.5).shape
        (3, 4)
    """
    if not isinstance(logits, Tensor):
        raise TypeError(f"gumbel_softmax: expected a gf.Tensor, got {type(logits).__name__}")
    dt = logits._data.dtype
    if dt.kind != "f":
        raise TypeError(f"gumbel_softmax: expected floating-point logits, got {dt}")
    gen = default_generator() if generator is None else generator
    gumbels = -np.log(gen.exponential(size=logits.shape)).astype(dt)
    y_soft = softmax((logits + Tensor._wrap(gumbels)) / tau, dim)
    if not hard:
        return y_soft
    ys = y_soft._data
    d = dim % max(ys.ndim, 1)
    idx = np.expand_dims(ys.argmax(axis=d), d) if ys.ndim else None
    y_hard = np.zeros_like(ys)
    if idx is None:
        y_hard[...] = 1
    else:
        np.put_along_axis(y_hard, idx, 1, axis=d)
    return y_soft + Tensor._wrap(y_hard - ys)
