"""Matrix multiplication: 1-D, 2-D and batched, with broadcasting batch dimensions.

Example:
    >>> import gradfit as gf
    >>> x = gf.ones(32, 784)
    >>> w = gf.ones(784, 10, requires_grad=True)
    >>> (x @ w).shape
    (32, 10)
"""

from __future__ import annotations

from typing import Any

import numpy as np

from gradfit.autograd import Function, sum_to
from gradfit.ops.gemm import matmul_nt
from gradfit.tensor import Tensor, tensors_of


def _swap(a: np.ndarray) -> np.ndarray:
    return a.swapaxes(-1, -2)


class MatMul(Function):
    def forward(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        na, nb = self.needs_input_grad
        self.saved = (a if nb else None, b if na else None)
        self.shapes = (a.shape, b.shape)
        if a.ndim == 2 and b.ndim == 2 and b.T.flags.c_contiguous:  # x @ W.T: the faster layout
            return matmul_nt(a, b.T)
        return np.matmul(a, b)

    def backward(self, grad: np.ndarray) -> tuple[Any, Any]:
        a, b = self.saved
        sa, sb = self.shapes
        na, nb = self.needs_input_grad
        if len(sa) == 2 and len(sb) == 2:  # the hot path: no reshapes, no reductions
            return (matmul_nt(grad, b) if na else None, a.T @ grad if nb else None)
        if len(sa) == 1 and len(sb) == 1:  # dot product
            return (grad * b if na else None, grad * a if nb else None)
        # promote 1-D operands the way matmul does, then undo it
        g = grad
        if len(sa) == 1:
            g = np.expand_dims(g, -2)
        if len(sb) == 1:
            g = np.expand_dims(g, -1)
        ga = gb = None
        if na:
            b2 = b[:, None] if b.ndim == 1 else b
            ga = g @ _swap(b2)
            if len(sa) == 1:
                ga = ga[..., 0, :]
            ga = sum_to(ga, sa)
        if nb:
            a2 = a[None, :] if a.ndim == 1 else a
            gb = _swap(a2) @ g
            if len(sb) == 1:
                gb = gb[..., 0]
            gb = sum_to(gb, sb)
        return ga, gb

    def backward_graph(self, grad: Tensor) -> tuple[Any, Any]:
        a, b = self.saved
        sa, sb = self.shapes
        na, nb = self.needs_input_grad
        at = self.input_tensor(0, a) if nb else None
        bt = self.input_tensor(1, b) if na else None
        if len(sa) == 1 and len(sb) == 1:
            return (grad * bt if na else None, grad * at if nb else None)
        g = grad
        if len(sa) == 1:
            g = g.unsqueeze(-2)
        if len(sb) == 1:
            g = g.unsqueeze(-1)
        ga = gb = None
        if na:
            b2 = bt.unsqueeze(-1) if len(sb) == 1 else bt
            ga = g @ b2.transpose(-1, -2)
            if len(sa) == 1:
                ga = ga[..., 0, :]
            ga = sum_to(ga, sa)
        if nb:
            a2 = at.unsqueeze(0) if len(sa) == 1 else at
            gb = a2.transpose(-1, -2) @ g
            if len(sb) == 1:
                gb = gb[..., 0]
            gb = sum_to(gb, sb)
        return ga, gb


def matmul(a: Any, b: Any) -> Tensor:
    """Matrix product with NumPy/PyTorch semantics (``a @ b``).

    Raises ``ValueError`` naming both shapes when the inner dimensions differ.

    Example:
        >>> import gradfit as gf
        >>> gf.matmul(gf.ones(2, 3), gf.ones(3)).tolist()
        [3.0, 3.0]
    """
    ta, tb = tensors_of(a, b)
    sa, sb = ta.shape, tb.shape
    if len(sa) == 0 or len(sb) == 0:
        raise ValueError(f"matmul: both operands must have at least 1 dimension, got {sa} and {sb}")
    ka = sa[-1]
    kb = sb[0] if len(sb) == 1 else sb[-2]
    if ka != kb:
        raise ValueError(f"matmul: cannot multiply {sa} by {sb}: {ka} != {kb}")
    if len(sa) > 2 or len(sb) > 2:
        try:
            np.broadcast_shapes(sa[:-2], sb[:-2] if len(sb) > 1 else ())
        except ValueError:
            raise ValueError(
                f"matmul: batch dimensions of {sa} and {sb} cannot be broadcast together"
            ) from None
    return MatMul.apply(ta, tb)
