"""The double backward of the linear ops (indexing, scatter, cumsum, padding, roll, ...).

An op that is linear in an input (its output is a fixed linear map of it: gather, take,
index_select, scatter, cumsum, diagonal, pad...) has a backward that is linear in ``grad``
and does not depend on the input's value. Differentiating it again needs only its adjoint:
the op's own forward in that input alone (the other inputs set to zero). :class:`LinearMap`
records ``f(x)`` for a linear ``f`` on arrays given with its adjoint ``ft``, so its gradient,
``ft(grad)``, is again a LinearMap (of ``ft``, adjoint ``f``): differentiable to any order.

:func:`linear_backward_graph` is then the whole double backward of such an op: input ``i``'s
gradient is the op's first-order ``backward`` (the very same array code), recorded as a
LinearMap whose adjoint is ``adjoints[i]``.

Example:
    >>> import numpy as np
    >>> import gradfit as gf
    >>> x = gf.tensor([1.0, 2.0, 3.0], requires_grad=True)
    >>> y = LinearMap.apply(x, f=lambda a: np.cumsum(a), ft=lambda g: np.cumsum(g[::-1])[::-1])
    >>> (g,) = gf.autograd.grad((y * y).sum(), x, create_graph=True)
    >>> gf.autograd.grad(g.sum(), x)
    (tensor([12., 10.,  6.]),)
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from gradfit.autograd import Function
from gradfit.tensor import Tensor

ArrayMap = Callable[[np.ndarray], np.ndarray]


class LinearMap(Function):
    """``f(x)`` for a linear ``f`` on arrays with adjoint ``ft``; its gradient is ``ft(grad)``."""

    def forward(self, x: np.ndarray, f: ArrayMap, ft: ArrayMap) -> np.ndarray:
        self.f, self.ft = f, ft
        out = np.asarray(f(x))
        # a fresh array: the result is a new tensor, never an alias of its input
        return out.copy() if np.may_share_memory(out, x) else out

    def backward(self, grad: np.ndarray) -> tuple[Any]:
        return (self.ft(grad),)

    def backward_graph(self, grad: Tensor) -> tuple[Any]:
        return (LinearMap.apply(grad, f=self.ft, ft=self.f),)


def linear_backward_graph(
    fn: Function, grad: Tensor, *adjoints: ArrayMap | None
) -> tuple[Tensor | None, ...]:
    """``fn.backward_graph`` for an op linear in every input that needs a gradient.

    ``adjoints[i]`` is the op's forward in input ``i`` alone (an array of the input's shape to
    one of the output's); ``None`` for an input that is not differentiable (an index).
    """
    grads: list[Tensor | None] = []
    for i, (need, adjoint) in enumerate(zip(fn.needs_input_grad, adjoints, strict=True)):
        if not need or adjoint is None:
            grads.append(None)
            continue

        def backward_i(g: np.ndarray, i: int = i) -> np.ndarray:
            return fn.backward(g)[i]

        grads.append(LinearMap.apply(grad, f=backward_i, ft=adjoint))
    return tuple(grads)
