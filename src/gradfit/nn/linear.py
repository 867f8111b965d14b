"""Linear layers and shape helpers: ``Linear``, ``Identity``, ``Flatten``, ``Unflatten``.

Example:
    >>> import gradfit as gf
    >>> from gradfit import nn
    >>> net = nn.Sequential(nn.Flatten(), nn.Linear(28 * 28, 10))
    >>> net(gf.randn(4, 1, 28, 28)).shape
    (4, 10)
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from gradfit import backend
from gradfit.nn import init
from gradfit.nn.module import Module, Parameter
from gradfit.ops.linear import Linear as _LinearFn
from gradfit.tensor import Tensor, _norm_dim


def _check_features(n: Any, name: str, layer: str) -> int:
    if not isinstance(n, int) or isinstance(n, bool) or n < 0:
        raise ValueError(f"{layer}: {name} must be a non-negative integer, got {n!r}")
    return n


class Linear(Module):
    """Fully connected layer: ``y = x @ weight.T + bias``.

    Args:
        in_features: size of each input sample (the last dimension).
        out_features: size of each output sample.
        bias: learn an additive bias (default True).
        dtype: parameter dtype (float32 by default).

    Shape: input ``(*, in_features)``, output ``(*, out_features)``.

    Initialisation as PyTorch's: ``weight`` by ``kaiming_uniform_(a=sqrt(5))``,
    i.e. U(-1/sqrt(in_features), 1/sqrt(in_features)), and ``bias`` from the same
    range, drawn from gradfit's seeded generator.

    Example:
        >>> import gradfit as gf
        >>> lin = gf.nn.Linear(784, 128)
        >>> lin(gf.randn(32, 784)).shape
        (32, 128)
        >>> lin(gf.randn(32, 100))
        Traceback (most recent call last):
        ...
        ValueError: Linear(in_features=784, out_features=128, bias=True): expected input (*, 784), got (32, 100)
    """

    def __init__(
        self, in_features: int, out_features: int, bias: bool = True, dtype: Any = None
    ) -> None:
        super().__init__()
        self.in_features = _check_features(in_features, "in_features", "Linear")
        self.out_features = _check_features(out_features, "out_features", "Linear")
        dt = backend.default_float if dtype is None else backend.to_dtype(dtype)
        self.weight = Parameter(Tensor._wrap(backend.xp.empty((out_features, in_features), dt)))
        if bias:
            self.bias = Parameter(Tensor._wrap(backend.xp.empty((out_features,), dt)))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Re-draw the weights with PyTorch's default initialisation.

        Example:
            >>> import gradfit as gf
            >>> gf.nn.Linear(4, 3).reset_parameters()
        """
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            bound = 1 / math.sqrt(self.in_features) if self.in_features > 0 else 0.0
            init.uniform_(self.bias, -bound, bound)

    def forward(self, x: Tensor) -> Tensor:
        if not isinstance(x, Tensor):
            raise TypeError(f"{self._layer_str()}: expected a gf.Tensor, got {type(x).__name__}")
        if x.ndim == 0 or x.shape[-1] != self.in_features:
            raise self.input_shape_error(f"(*, {self.in_features})", x.shape)
        w = self.weight
        if x._data.dtype != w._data.dtype:
            if x._data.dtype.kind in "iub":
                x = x.astype(w._data.dtype)
            else:
                raise TypeError(
                    f"{self._layer_str()}: input is {x._data.dtype} but the layer's weights are "
                    f"{w._data.dtype}; convert the input (x.float()) or the model"
                )
        b = self.bias
        if b is None:
            return _LinearFn.apply(x, w)
        return _LinearFn.apply(x, w, b)

    def extra_repr(self) -> str:
        return (
            f"in_features={self.in_features}, out_features={self.out_features}, "
            f"bias={self.bias is not None}"
        )


class Identity(Module):
    """Returns its input unchanged (a placeholder, e.g. to remove a layer); takes any arguments.

    Example:
        >>> import gradfit as gf
        >>> x = gf.ones(2)
        >>> gf.nn.Identity(54, unused="x")(x) is x
        True
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__()

    def forward(self, x: Any) -> Any:
        return x


class Flatten(Module):
    """Flatten dimensions ``start_dim`` to ``end_dim`` (default: all but the batch dimension).

    Example:
        >>> import gradfit as gf
        >>> gf.nn.Flatten()(gf.zeros(32, 1, 28, 28)).shape
        (32, 784)
    """

    def __init__(self, start_dim: int = 1, end_dim: int = -1) -> None:
        super().__init__()
        self.start_dim = start_dim
        self.end_dim = end_dim

    def forward(self, x: Tensor) -> Tensor:
        nd = max(x.ndim, 1)
        s, e = self.start_dim, self.end_dim
        if not (-nd <= s < nd and -nd <= e < nd) or (s % nd) > (e % nd):
            raise self.input_shape_error(
                f"a tensor with dimensions {s}..{e} (start_dim <= end_dim)", x.shape
            )
        return x.flatten(s, e)

    def extra_repr(self) -> str:
        return f"start_dim={self.start_dim}, end_dim={self.end_dim}"


class Unflatten(Module):
    """Expand dimension ``dim`` into ``unflattened_size`` (one entry may be -1).

    Example:
        >>> import gradfit as gf
        >>> gf.nn.Unflatten(1, (1, 28, 28))(gf.zeros(32, 784)).shape
        (32, 1, 28, 28)
    """

    def __init__(self, dim: int, unflattened_size: Sequence[int]) -> None:
        super().__init__()
        if not isinstance(unflattened_size, (tuple, list)) or not all(
            isinstance(s, int) for s in unflattened_size
        ):
            raise TypeError(
                f"Unflatten: unflattened_size must be a tuple of ints, got {unflattened_size!r}"
            )
        self.dim = dim
        self.unflattened_size = tuple(unflattened_size)

    def forward(self, x: Tensor) -> Tensor:
        try:
            d = _norm_dim(self.dim, x.ndim, "Unflatten")
        except IndexError:
            raise self.input_shape_error(f"a tensor with a dimension {self.dim}", x.shape) from None
        sizes = self.unflattened_size
        known = math.prod(s for s in sizes if s != -1)
        n = x.shape[d]
        if (-1 in sizes and (known == 0 or n % known)) or (-1 not in sizes and known != n):
            raise self.input_shape_error(
                f"dimension {self.dim} of size {known} (= prod{sizes})", x.shape
            )
        return x.reshape(*x.shape[:d], *sizes, *x.shape[d + 1 :])

    def extra_repr(self) -> str:
        return f"dim={self.dim}, unflattened_size={self.unflattened_size}"
