"""The bilinear layer ``y = x1^T A x2 + b`` (PyTorch's ``nn.Bilinear`` and ``F.bilinear``).

Example:
    >>> import gradfit as gf
    >>> gf.nn.Bilinear(2, 3, 4)(gf.ones(5, 2), gf.ones(5, 3)).shape
    (5, 4)
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from gradfit import backend
from gradfit.nn import init
from gradfit.nn.module import Module, Parameter
from gradfit.tensor import Tensor


def bilinear(input1: Tensor, input2: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """``y[..., o] = sum_ij input1[..., i] * weight[o, i, j] * input2[..., j] + bias[o]``.

    Example:
        >>> import gradfit as gf
        >>> gf.nn.functional.bilinear(gf.ones(1, 2), gf.ones(1, 2), gf.ones(3, 2, 2))
        tensor([[4., 4., 4.]])
    """
    for name, t in (("input1", input1), ("input2", input2), ("weight", weight)):
        if not isinstance(t, Tensor):
            raise TypeError(f"bilinear: {name} must be a gf.Tensor, got {type(t).__name__}")
    if weight.ndim != 3:
        raise RuntimeError(
            f"bilinear: expected a 3-D weight (out, in1, in2), got shape {weight.shape}"
        )
    out_f, in1, in2 = weight.shape
    if (
        input1.shape[-1:] != (in1,)
        or input2.shape[-1:] != (in2,)
        or input1.shape[:-1] != input2.shape[:-1]
    ):
        raise RuntimeError(
            f"bilinear: expected input1 (*, {in1}) and input2 (*, {in2}) with the same leading dims, "
            f"got {input1.shape} and {input2.shape}"
        )
    lead = input1.shape[:-1]
    n = int(np.prod(lead))
    x1 = input1.reshape((n, in1))
    x2 = input2.reshape((n, 1, in2))
    w = weight.permute(1, 0, 2).reshape((in1, out_f * in2))
    y = ((x1 @ w).reshape((n, out_f, in2)) * x2).sum(-1)
    if bias is not None:
        y = y + bias
    return y.reshape(lead + (out_f,))


class Bilinear(Module):
    """Bilinear map of two inputs; weight ``(out, in1, in2)`` and bias ``(out,)`` ~ U(-1/sqrt(in1), 1/sqrt(in1)).

    Example:
        >>> import gradfit as gf
        >>> gf.nn.Bilinear(2, 3, 4)
        Bilinear(in1_features=2, in2_features=3, out_features=4, bias=True)
    """

    def __init__(
        self,
        in1_features: int,
        in2_features: int,
        out_features: int,
        bias: bool = True,
        device: Any = None,
        dtype: Any = None,
    ) -> None:
        super().__init__()
        self.in1_features, self.in2_features, self.out_features = (
            in1_features,
            in2_features,
            out_features,
        )
        dt = np.dtype(dtype) if dtype is not None else backend.default_float
        self.weight = Parameter(
            Tensor._wrap(np.empty((out_features, in1_features, in2_features), dt))
        )
        if bias:
            self.bias = Parameter(Tensor._wrap(np.empty(out_features, dt)))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Uniform in ``(-1/sqrt(in1_features), 1/sqrt(in1_features))``, as PyTorch."""
        bound = 1 / math.sqrt(self.weight.shape[1]) if self.weight.shape[1] else 0.0
        init.uniform_(self.weight, -bound, bound)
        if self.bias is not None:
            init.uniform_(self.bias, -bound, bound)

    def forward(self, input1: Tensor, input2: Tensor) -> Tensor:
        return bilinear(input1, input2, self.weight, self.bias)

    def extra_repr(self) -> str:
        return (
            f"in1_features={self.in1_features}, in2_features={self.in2_features}, "
            f"out_features={self.out_features}, bias={self.bias is not None}"
        )
