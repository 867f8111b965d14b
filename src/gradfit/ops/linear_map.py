"""A linear map on arrays and its transpose as one differentiable op, for double backward.

The backward of an op that is linear in its input (average pooling, padding, resampling,
fold/unfold), or linear in the output gradient once its routing is fixed (max pooling sends
each gradient to a saved argmax), is a linear map ``B`` of the gradient. Under
``create_graph=True`` that map must itself be recorded: :func:`linear_map` applies ``B`` as
a graph node whose backward is ``B``'s transpose ``B^T`` (for a linear op, the op's own
forward; for max pooling, a gather at the saved argmax), and whose ``backward_graph``
applies ``B^T`` as another such node. So gradients of every order exist, with only the
op's own array code: nothing is written twice.

Example:
    >>> import numpy as np
    >>> import gradfit as gf
    >>> from gradfit.ops.linear_map import linear_map
    >>> g = gf.tensor([1.0, 2.0], requires_grad=True)
    >>> m = np.array([[1.0, 0.0], [1.0, 1.0], [0.0, 2.0]], dtype=np.float32)
    >>> y = linear_map(g, lambda a: m @ a, lambda a: m.T @ a)  # (3,)
    >>> y.sum().backward()
    >>> g.grad
    tensor([2., 3.])
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from gradfit.autograd import Function
from gradfit.tensor import Tensor

ArrayMap = Callable[[np.ndarray], np.ndarray]


class LinearMap(Function):
    """``apply(x)`` for a linear ``apply`` whose transpose is ``transpose``."""

    def forward(self, x: np.ndarray, apply: ArrayMap, transpose: ArrayMap, name: str) -> np.ndarray:
        self.maps, self.op = (apply, transpose), name
        return apply(x)

    def backward(self, grad: np.ndarray) -> tuple[Any]:
        return (self.maps[1](grad),)

    def backward_graph(self, grad: Tensor) -> tuple[Any]:
        apply, transpose = self.maps
        return (linear_map(grad, transpose, apply, self.op),)

    @property
    def name(self) -> str:
        return f"LinearMap({self.op})"


def snapshot(fn: Function) -> Function:
    """A copy of node ``fn`` (its options and saved arrays, not its place in the graph) for
    maps that call its ``backward`` later: a backward pass releases ``fn.saved`` as it
    passes ``fn``, possibly before it reaches a map recorded from ``fn``'s gradient.

    Example:
        >>> import gradfit as gf
        >>> y = gf.nn.functional.max_pool2d(gf.randn(1, 1, 2, 2, requires_grad=True), 2)
        >>> snapshot(y.grad_fn).saved is y.grad_fn.saved
        True
    """
    cp = object.__new__(type(fn))
    cp.saved, cp.needs_input_grad = fn.saved, fn.needs_input_grad
    cp.__dict__.update(getattr(fn, "__dict__", {}))
    return cp


def linear_map(x: Tensor, apply: ArrayMap, transpose: ArrayMap, name: str = "linear_map") -> Tensor:
    """``apply(x)`` as a graph node, with ``transpose`` (``apply``'s adjoint) as its backward.

    Both take and return arrays; ``name`` (the op whose backward this is) appears in errors.

    Example:
        >>> import gradfit as gf
        >>> linear_map(gf.ones(2), lambda a: 3 * a, lambda a: 3 * a, "triple")
        tensor([3., 3.])
    """
    return LinearMap.apply(x, apply=apply, transpose=transpose, name=name)


def linear_backward_graph(
    fn: Function, grad: Tensor, *transposes: ArrayMap | None
) -> tuple[Tensor | None, ...]:
    """``fn.backward_graph`` for an op linear in every input that needs a gradient (gather,
    scatter, index_select, cumsum, diagonal...): input ``i``'s gradient is ``fn.backward``'s
    (the same array code), recorded as a linear map whose transpose is ``transposes[i]``, the
    op's forward in that input alone (the other inputs zero); ``None`` for an input with no
    gradient (an index).

    Example:
        >>> import gradfit as gf
        >>> x = gf.tensor([1.0, 2.0, 3.0], requires_grad=True)
        >>> (g,) = gf.autograd.grad((gf.cumsum(x, 0) ** 2).sum(), x, create_graph=True)
        >>> gf.autograd.grad(g.sum(), x)  # 2 C^T C 1, C the cumulative-sum matrix
        (tensor([12., 10.,  6.]),)
    """
    src = snapshot(fn)  # its saved arrays may be released before a later order needs them
    grads: list[Tensor | None] = []
    for i, (need, transpose) in enumerate(zip(fn.needs_input_grad, transposes, strict=True)):
        if not need or transpose is None:
            grads.append(None)
            continue

        def backward_i(g: np.ndarray, i: int = i) -> np.ndarray:
            out = src.backward(g)[i]
            # a fresh array: the gradient is a new tensor, never an alias of ``grad``
            return out.copy() if np.may_share_memory(out, g) else out

        grads.append(linear_map(grad, backward_i, transpose, fn.name))
    return tuple(grads)


__all__ = ["LinearMap", "linear_backward_graph", "linear_map", "snapshot"]
