"""Activation functions as modules: ReLU, LeakyReLU, ELU, GELU, SiLU, Sigmoid, Tanh, Softplus,
Softmax, LogSoftmax.

Each wraps the op of the same name in :mod:`gradfit.ops` (also ``gf.nn.functional``).

Example:
    >>> import gradfit as gf
    >>> from gradfit import nn
    >>> nn.LeakyReLU(0.1)(gf.tensor([-1.0, 2.0]))
    tensor([-0.1,  2. ])
    >>> nn.Softmax(dim=-1)(gf.zeros(1, 4))
    tensor([[0.25, 0.25, 0.25, 0.25]])
"""

from __future__ import annotations

from gradfit.nn.module import Module
from gradfit.ops import unary as _u
from gradfit.ops.softmax import log_softmax as _log_softmax
from gradfit.ops.softmax import softmax as _softmax
from gradfit.tensor import Tensor


def _tensor(layer: Module, x: object) -> Tensor:
    if not isinstance(x, Tensor):
        raise TypeError(f"{layer._layer_str()}: expected a gf.Tensor, got {type(x).__name__}")
    return x


class ReLU(Module):
    """max(x, 0) elementwise. (``inplace`` is accepted for compatibility and ignored.)

    Example:
        >>> import gradfit as gf
        >>> gf.nn.ReLU()(gf.tensor([-1.0, 3.0]))
        tensor([0., 3.])
    """

    def __init__(self, inplace: bool = False) -> None:
        super().__init__()
        self.inplace = inplace

    def forward(self, x: Tensor) -> Tensor:
        return _u.relu(_tensor(self, x))


class LeakyReLU(Module):
    """x for x > 0, ``negative_slope * x`` otherwise.

    Example:
        >>> import gradfit as gf
        >>> gf.nn.LeakyReLU()
        LeakyReLU(negative_slope=0.01)
    """

    def __init__(self, negative_slope: float = 0.01, inplace: bool = False) -> None:
        super().__init__()
        self.negative_slope = negative_slope
        self.inplace = inplace

    def forward(self, x: Tensor) -> Tensor:
        return _u.leaky_relu(_tensor(self, x), self.negative_slope)

    def extra_repr(self) -> str:
        return f"negative_slope={self.negative_slope}"


class ELU(Module):
    """x for x > 0, ``alpha * (exp(x) - 1)`` otherwise.

    Example:
        >>> import gradfit as gf
        >>> gf.nn.ELU(alpha=0.5)
        ELU(alpha=0.5)
    """

    def __init__(self, alpha: float = 1.0, inplace: bool = False) -> None:
        super().__init__()
        self.alpha = alpha
        self.inplace = inplace

    def forward(self, x: Tensor) -> Tensor:
        return _u.elu(_tensor(self, x), self.alpha)

    def extra_repr(self) -> str:
        return f"alpha={self.alpha}"


class GELU(Module):
    """x * Phi(x), exact (``approximate='none'``) or the tanh approximation.

    Example:
        >>> import gradfit as gf
        >>> gf.nn.GELU(approximate="tanh")
        GELU(approximate='tanh')
    """

    def __init__(self, approximate: str = "none") -> None:
        super().__init__()
        if approximate not in ("none", "tanh"):
            raise ValueError(f"GELU: approximate must be 'none' or 'tanh', got {approximate!r}")
        self.approximate = approximate

    def forward(self, x: Tensor) -> Tensor:
        return _u.gelu(_tensor(self, x), self.approximate)

    def extra_repr(self) -> str:
        return f"approximate={self.approximate!r}"


class SiLU(Module):
    """x * sigmoid(x) (swish).

    Example:
        >>> import gradfit as gf
        >>> gf.nn.SiLU()(gf.zeros(2))
        tensor([0., 0.])
    """

    def __init__(self, inplace: bool = False) -> None:
        super().__init__()
        self.inplace = inplace

    def forward(self, x: Tensor) -> Tensor:
        return _u.silu(_tensor(self, x))


class Sigmoid(Module):
    """The logistic function 1 / (1 + exp(-x)), stable for any magnitude.

    Example:
        >>> import gradfit as gf
        >>> gf.nn.Sigmoid()(gf.zeros(1))
        tensor([0.5])
    """

    def forward(self, x: Tensor) -> Tensor:
        return _u.sigmoid(_tensor(self, x))


class Tanh(Module):
    """Hyperbolic tangent.

    Example:
        >>> import gradfit as gf
        >>> gf.nn.Tanh()(gf.zeros(1))
        tensor([0.])
    """

    def forward(self, x: Tensor) -> Tensor:
        return _u.tanh(_tensor(self, x))


class Softplus(Module):
    """log(1 + exp(beta * x)) / beta, linear where beta * x > threshold.

    Example:
        >>> import gradfit as gf
        >>> gf.nn.Softplus(beta=2)
        Softplus(beta=2, threshold=20.0)
    """

    def __init__(self, beta: float = 1.0, threshold: float = 20.0) -> None:
        super().__init__()
        self.beta = beta
        self.threshold = threshold

    def forward(self, x: Tensor) -> Tensor:
        return _u.softplus(_tensor(self, x), self.beta, self.threshold)

    def extra_repr(self) -> str:
        return f"beta={self.beta}, threshold={self.threshold}"


class Softmax(Module):
    """exp(x) / sum(exp(x)) along ``dim`` (required: PyTorch's implicit dim is deprecated).

    Example:
        >>> import gradfit as gf
        >>> gf.nn.Softmax(dim=1)
        Softmax(dim=1)
    """

    def __init__(self, dim: int | None = None) -> None:
        super().__init__()
        self.dim = dim

    def forward(self, x: Tensor) -> Tensor:
        return _softmax(_tensor(self, x), self.dim)

    def extra_repr(self) -> str:
        return f"dim={self.dim}"


class LogSoftmax(Module):
    """log(softmax(x)) along ``dim``, computed stably.

    Example:
        >>> import gradfit as gf
        >>> gf.nn.LogSoftmax(dim=1)(gf.zeros(1, 2)).exp()
        tensor([[0.5, 0.5]])
    """

    def __init__(self, dim: int | None = None) -> None:
        super().__init__()
        self.dim = dim

    def forward(self, x: Tensor) -> Tensor:
        return _log_softmax(_tensor(self, x), self.dim)

    def extra_repr(self) -> str:
        return f"dim={self.dim}"
