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

from typing import Any

from gradfit.creation import empty
from gradfit.nn import init as _init
from gradfit.nn.module import Module, Parameter
from gradfit.ops import activation as _a
from gradfit.ops import unary as _u
from gradfit.ops.softmax import log_softmax as _log_softmax
from gradfit.ops.softmax import softmax as _softmax
from gradfit.ops.softmax import softmin as _softmin
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


class Softmin(Module):
    """exp(-x) / sum(exp(-x)) along ``dim``: the softmax of ``-x``.

    Example:
        >>> import gradfit as gf
        >>> gf.nn.Softmin(dim=1)(gf.zeros(1, 2))
        tensor([[0.5, 0.5]])
    """

    def __init__(self, dim: int | None = None) -> None:
        super().__init__()
        self.dim = dim

    def forward(self, x: Tensor) -> Tensor:
        return _softmin(_tensor(self, x), self.dim)

    def extra_repr(self) -> str:
        return f"dim={self.dim}"


# ---------------------------------------------------------------- more activations (torch names)


def _inplace(inplace: bool) -> str:
    return "inplace=True" if inplace else ""


class Hardtanh(Module):
    """Clamp into ``[min_val, max_val]``.

    Example:
        >>> import gradfit as gf
        >>> gf.nn.Hardtanh(-2.0, 2.0)
        Hardtanh(min_val=-2.0, max_val=2.0)
    """

    def __init__(self, min_val: float = -1.0, max_val: float = 1.0, inplace: bool = False) -> None:
        super().__init__()
        if min_val > max_val:
            raise ValueError(f"Hardtanh: min_val ({min_val}) must not exceed max_val ({max_val})")
        self.min_val, self.max_val, self.inplace = min_val, max_val, inplace

    def forward(self, x: Tensor) -> Tensor:
        return _a.hardtanh(_tensor(self, x), self.min_val, self.max_val)

    def extra_repr(self) -> str:
        s = f"min_val={self.min_val}, max_val={self.max_val}"
        return s + (", inplace=True" if self.inplace else "")


class ReLU6(Hardtanh):
    """``min(max(x, 0), 6)``.

    Example:
        >>> import gradfit as gf
        >>> gf.nn.ReLU6()(gf.tensor([-1.0, 9.0]))
        tensor([0., 6.])
    """

    def __init__(self, inplace: bool = False) -> None:
        super().__init__(0.0, 6.0, inplace)

    def extra_repr(self) -> str:
        return _inplace(self.inplace)


class _Simple(Module):
    """An activation without options: ``forward`` calls ``_fn`` (set by subclasses)."""

    _fn: Any = None

    def __init__(self, inplace: bool = False) -> None:
        super().__init__()
        self.inplace = inplace

    def forward(self, x: Tensor) -> Tensor:
        return type(self)._fn(_tensor(self, x))

    def extra_repr(self) -> str:
        return _inplace(self.inplace)


class Mish(_Simple):
    """``x * tanh(softplus(x))``.

    Example:
        >>> import gradfit as gf
        >>> gf.nn.Mish()
        Mish()
    """

    _fn = staticmethod(_a.mish)


class Hardswish(_Simple):
    """``x * relu6(x + 3) / 6``.

    Example:
        >>> import gradfit as gf
        >>> gf.nn.Hardswish()(gf.tensor([4.0]))
        tensor([4.])
    """

    _fn = staticmethod(_a.hardswish)


class Hardsigmoid(_Simple):
    """``relu6(x + 3) / 6``.

    Example:
        >>> import gradfit as gf
        >>> gf.nn.Hardsigmoid()(gf.tensor([0.0]))
        tensor([0.5])
    """

    _fn = staticmethod(_a.hardsigmoid)


class SELU(_Simple):
    """Scaled ELU.

    Example:
        >>> import gradfit as gf
        >>> gf.nn.SELU()(gf.tensor([0.0]))
        tensor([0.])
    """

    _fn = staticmethod(_a.selu)


class LogSigmoid(Module):
    """``log(sigmoid(x))``.

    Example:
        >>> import gradfit as gf
        >>> gf.nn.LogSigmoid()
        LogSigmoid()
    """

    def forward(self, x: Tensor) -> Tensor:
        return _a.logsigmoid(_tensor(self, x))


class Softsign(Module):
    """``x / (1 + |x|)``.

    Example:
        >>> import gradfit as gf
        >>> gf.nn.Softsign()(gf.tensor([1.0]))
        tensor([0.5])
    """

    def forward(self, x: Tensor) -> Tensor:
        return _a.softsign(_tensor(self, x))


class Tanhshrink(Module):
    """``x - tanh(x)``.

    Example:
        >>> import gradfit as gf
        >>> gf.nn.Tanhshrink()(gf.tensor([0.0]))
        tensor([0.])
    """

    def forward(self, x: Tensor) -> Tensor:
        return _a.tanhshrink(_tensor(self, x))


class GLU(Module):
    """Gated linear unit over ``dim``: ``a * sigmoid(b)`` for the two halves.

    Example:
        >>> import gradfit as gf
        >>> gf.nn.GLU()(gf.zeros(2, 4)).shape
        (2, 2)
    """

    def __init__(self, dim: int = -1) -> None:
        super().__init__()
        self.dim = dim

    def forward(self, x: Tensor) -> Tensor:
        return _a.glu(_tensor(self, x), self.dim)

    def extra_repr(self) -> str:
        return f"dim={self.dim}"


class Softshrink(Module):
    """Shrink towards 0 by ``lambd``.

    Example:
        >>> import gradfit as gf
        >>> gf.nn.Softshrink()
        Softshrink(0.5)
    """

    def __init__(self, lambd: float = 0.5) -> None:
        super().__init__()
        self.lambd = lambd

    def forward(self, x: Tensor) -> Tensor:
        return _a.softshrink(_tensor(self, x), self.lambd)

    def extra_repr(self) -> str:
        return str(self.lambd)


class Hardshrink(Softshrink):
    """Zero where ``|x| <= lambd``.

    Example:
        >>> import gradfit as gf
        >>> gf.nn.Hardshrink()(gf.tensor([1.0, 0.1]))
        tensor([1., 0.])
    """

    def forward(self, x: Tensor) -> Tensor:
        return _a.hardshrink(_tensor(self, x), self.lambd)


class Threshold(Module):
    """``x`` where ``x > threshold``, ``value`` elsewhere.

    Example:
        >>> import gradfit as gf
        >>> gf.nn.Threshold(0.1, 20.0)
        Threshold(threshold=0.1, value=20.0)
    """

    def __init__(self, threshold: float, value: float, inplace: bool = False) -> None:
        super().__init__()
        self.threshold, self.value, self.inplace = threshold, value, inplace

    def forward(self, x: Tensor) -> Tensor:
        return _a.threshold(_tensor(self, x), self.threshold, self.value)

    def extra_repr(self) -> str:
        s = f"threshold={self.threshold}, value={self.value}"
        return s + (", inplace=True" if self.inplace else "")


class CELU(Module):
    """Continuously differentiable ELU.

    Example:
        >>> import gradfit as gf
        >>> gf.nn.CELU()
        CELU(alpha=1.0)
    """

    def __init__(self, alpha: float = 1.0, inplace: bool = False) -> None:
        super().__init__()
        self.alpha, self.inplace = alpha, inplace

    def forward(self, x: Tensor) -> Tensor:
        return _a.celu(_tensor(self, x), self.alpha)

    def extra_repr(self) -> str:
        return f"alpha={self.alpha}" + (", inplace=True" if self.inplace else "")


class PReLU(Module):
    """LeakyReLU with a learned slope: one (``num_parameters=1``) or one per channel, init ``init``.

    Example:
        >>> import gradfit as gf
        >>> m = gf.nn.PReLU(3)
        >>> m, tuple(m.weight.shape)
        (PReLU(num_parameters=3), (3,))
    """

    def __init__(
        self, num_parameters: int = 1, init: float = 0.25, device: Any = None, dtype: Any = None
    ) -> None:
        super().__init__()
        self.num_parameters = num_parameters
        self.init = init
        self.weight = Parameter(empty(num_parameters, dtype=dtype))
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Fill the slope with ``init``."""
        _init.constant_(self.weight, self.init)

    def forward(self, x: Tensor) -> Tensor:
        return _a.prelu(_tensor(self, x), self.weight)

    def extra_repr(self) -> str:
        return f"num_parameters={self.num_parameters}"
