"""Weight initialisation, in place, with PyTorch's names, formulas and gains.

Every function fills a tensor in place without recording a graph (like
``torch.nn.init``), draws from gradfit's seeded generator (or the ``generator``
given), and returns the tensor. The scale rules keep activations from
vanishing or exploding through depth: Xavier/Glorot for tanh/sigmoid networks,
Kaiming/He for ReLU networks.

Inside :func:`no_init` (what :func:`gradfit.nn.utils.skip_init` uses) every
function checks its arguments and then leaves the tensor as it is: building a
module there allocates its weights without writing them or drawing any random
numbers.

Example:
    >>> import gradfit as gf
    >>> w = gf.nn.Parameter(gf.empty(256, 512))
    >>> _ = gf.nn.init.kaiming_normal_(w, nonlinearity="relu")
    >>> round(float(w.std()) / (2 / 512) ** 0.5, 1)
    1.0
"""

from __future__ import annotations

import contextlib
import contextvars
import math
from collections.abc import Iterator
from typing import Any

import numpy as np

from gradfit.random import default_generator
from gradfit.tensor import Tensor

__all__ = [
    "calculate_gain",
    "constant_",
    "eye_",
    "kaiming_normal_",
    "kaiming_uniform_",
    "no_init",
    "normal_",
    "ones_",
    "orthogonal_",
    "trunc_normal_",
    "uniform_",
    "xavier_normal_",
    "xavier_uniform_",
    "zeros_",
]

_LINEAR_FNS = (
    "linear",
    "conv1d",
    "conv2d",
    "conv3d",
    "conv_transpose1d",
    "conv_transpose2d",
    "conv_transpose3d",
    "sigmoid",
)


def calculate_gain(nonlinearity: str, param: float | None = None) -> float:
    """The recommended scale for weights feeding ``nonlinearity`` (PyTorch's table).

    linear/conv/sigmoid: 1; tanh: 5/3; relu: sqrt(2); leaky_relu:
    sqrt(2 / (1 + slope**2)) with slope ``param`` (default 0.01); selu: 3/4.

    Example:
        >>> round(calculate_gain("relu"), 4), round(calculate_gain("tanh"), 4)
        (1.4142, 1.6667)
    """
    if nonlinearity in _LINEAR_FNS:
        return 1.0
    if nonlinearity == "tanh":
        return 5.0 / 3
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        if param is None:
            slope = 0.01
        elif isinstance(param, (int, float)) and not isinstance(param, bool):
            slope = float(param)
        else:
            raise ValueError(f"calculate_gain: negative_slope {param!r} is not a valid number")
        return math.sqrt(2.0 / (1 + slope**2))
    if nonlinearity == "selu":
        return 3.0 / 4
    known = ", ".join((*_LINEAR_FNS, "tanh", "relu", "leaky_relu", "selu"))
    raise ValueError(f"calculate_gain: unsupported nonlinearity {nonlinearity!r}; one of {known}")


class _LimitError(MemoryError):
    """What :func:`no_init` raises when its limits are passed (models.load_model words it)."""


class _Skipping:
    """The state of one :func:`no_init` block: its limits and what it has skipped so far."""

    __slots__ = ("max_numel", "max_tensors", "numel", "seen")

    def __init__(self, max_numel: int | None, max_tensors: int | None) -> None:
        self.max_numel, self.max_tensors = max_numel, max_tensors
        self.numel = 0
        self.seen: set[int] = set()

    def count(self, tensor: Tensor) -> None:
        key = id(tensor._data)
        if key in self.seen:  # the same weights initialised twice (e.g. re-drawn by a model)
            return
        self.seen.add(key)
        self.numel += int(tensor._data.size)
        if self.max_tensors is not None and len(self.seen) > self.max_tensors:
            raise _LimitError(
                f"init.no_init: more than {self.max_tensors:,} tensors were built, the limit"
            )
        if self.max_numel is not None and self.numel > self.max_numel:
            raise _LimitError(
                f"init.no_init: the tensors built hold more than {self.max_numel:,} elements, "
                f"the limit (the last one has shape {tuple(tensor.shape)})"
            )


_SKIP: contextvars.ContextVar[_Skipping | None] = contextvars.ContextVar(
    "gradfit_no_init", default=None
)


@contextlib.contextmanager
def no_init(max_numel: int | None = None, max_tensors: int | None = None) -> Iterator[None]:
    """Make every initialiser in this module a no-op while the block runs.

    Inside the block each function still checks its arguments, then returns the
    tensor unchanged: no value is written and no random number is drawn, so a
    layer built here keeps whatever its freshly allocated (``empty``) memory held.
    Those values are garbage until you load real ones (``load_state_dict``).
    :func:`gradfit.nn.utils.skip_init` is the one-call form.

    ``max_numel`` and ``max_tensors`` bound what may be built: each tensor an
    initialiser is called on is counted once, and a ``MemoryError`` is raised as
    soon as the tensors counted hold more than ``max_numel`` elements, or there
    are more than ``max_tensors`` of them. gradfit's layers allocate a weight with
    ``empty`` (which reserves memory without touching it) and then initialise it,
    so a too-large model is stopped before any of its memory is written.
    Weights made without these initialisers are not counted. The flag is per
    thread (a context variable); a nested block without limits keeps the outer
    block's.

    Example:
        >>> import gradfit as gf
        >>> w = gf.zeros(3)
        >>> with gf.nn.init.no_init():
        ...     _ = gf.nn.init.ones_(w)
        >>> w
        tensor([0., 0., 0.])
        >>> try:
        ...     with gf.nn.init.no_init(max_numel=100):
        ...         _ = gf.nn.init.kaiming_uniform_(gf.empty(20, 10))
        ... except MemoryError as e:
        ...     print(e)
        init.no_init: the tensors built hold more than 100 elements, the limit (the last one has shape (20, 10))
    """
    for name, limit in (("max_numel", max_numel), ("max_tensors", max_tensors)):
        if limit is not None and (
            isinstance(limit, bool) or not isinstance(limit, (int, np.integer)) or limit < 0
        ):
            raise ValueError(f"init.no_init: {name} must be a non-negative integer, got {limit!r}")
    outer = _SKIP.get()
    if outer is not None and max_numel is None and max_tensors is None:
        state = outer
    else:
        state = _Skipping(
            None if max_numel is None else int(max_numel),
            None if max_tensors is None else int(max_tensors),
        )
    token = _SKIP.set(state)
    try:
        yield
    finally:
        _SKIP.reset(token)


def _skipped(tensor: Tensor) -> bool:
    """True inside :func:`no_init` (after counting ``tensor`` against its limits)."""
    state = _SKIP.get()
    if state is None:
        return False
    state.count(tensor)
    return True


def _check(tensor: Any, fn: str) -> Tensor:
    if not isinstance(tensor, Tensor):
        raise TypeError(f"init.{fn}: expected a gf.Tensor, got {type(tensor).__name__}")
    if tensor._data.dtype.kind != "f":
        raise TypeError(f"init.{fn}: expected a floating-point tensor, got {tensor._data.dtype}")
    return tensor


def _fill(tensor: Tensor, values: Any) -> Tensor:
    """Write ``values`` into the tensor's array in place (no graph) and bump its version."""
    tensor._data[...] = values
    tensor._version[0] += 1
    return tensor


def _gen(generator: np.random.Generator | None) -> np.random.Generator:
    return default_generator() if generator is None else generator


def _calculate_fan_in_and_fan_out(tensor: Tensor, fn: str = "init") -> tuple[int, int]:
    if tensor.ndim < 2:
        raise ValueError(
            f"init.{fn}: fan in and fan out cannot be computed for a tensor with fewer than 2 "
            f"dimensions (got shape {tensor.shape})"
        )
    receptive = int(np.prod(tensor.shape[2:])) if tensor.ndim > 2 else 1
    return tensor.shape[1] * receptive, tensor.shape[0] * receptive


def _fan(tensor: Tensor, mode: str, fn: str) -> int:
    if mode not in ("fan_in", "fan_out"):
        raise ValueError(f"init.{fn}: mode must be 'fan_in' or 'fan_out', got {mode!r}")
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor, fn)
    return fan_in if mode == "fan_in" else fan_out


def uniform_(
    tensor: Tensor, a: float = 0.0, b: float = 1.0, generator: np.random.Generator | None = None
) -> Tensor:
    """Fill with samples from U(a, b).

    Example:
        >>> import gradfit as gf
        >>> t = gf.nn.init.uniform_(gf.empty(1000), -1, 1)
        >>> bool((t.abs() <= 1).all())
        True
    """
    _check(tensor, "uniform_")
    if not a <= b:
        raise ValueError(f"init.uniform_: expected a <= b, got a={a}, b={b}")
    if _skipped(tensor):
        return tensor
    return _fill(tensor, _gen(generator).uniform(a, b, tensor.shape))


def normal_(
    tensor: Tensor,
    mean: float = 0.0,
    std: float = 1.0,
    generator: np.random.Generator | None = None,
) -> Tensor:
    """Fill with samples from N(mean, std**2).

    Example:
        >>> import gradfit as gf
        >>> t = gf.nn.init.normal_(gf.empty(10000), 3.0, 0.1)
        >>> round(float(t.mean()), 1)
        3.0
    """
    _check(tensor, "normal_")
    if std < 0:
        raise ValueError(f"init.normal_: std must be non-negative, got {std}")
    if _skipped(tensor):
        return tensor
    return _fill(tensor, _gen(generator).normal(mean, std, tensor.shape))


def trunc_normal_(
    tensor: Tensor,
    mean: float = 0.0,
    std: float = 1.0,
    a: float = -2.0,
    b: float = 2.0,
    generator: np.random.Generator | None = None,
) -> Tensor:
    """Fill with N(mean, std**2) samples conditioned on lying in [a, b] (by resampling).

    Example:
        >>> import gradfit as gf
        >>> t = gf.nn.init.trunc_normal_(gf.empty(1000), std=1.0, a=-0.5, b=0.5)
        >>> bool((t.abs() <= 0.5).all())
        True
    """
    _check(tensor, "trunc_normal_")
    if not a < b:
        raise ValueError(f"init.trunc_normal_: expected a < b, got a={a}, b={b}")
    if _skipped(tensor):
        return tensor
    gen = _gen(generator)
    out = gen.normal(mean, std, tensor._data.size)
    bad = (out < a) | (out > b)
    while bad.any():
        out[bad] = gen.normal(mean, std, int(bad.sum()))
        bad = (out < a) | (out > b)
    return _fill(tensor, out.reshape(tensor.shape))


def constant_(tensor: Tensor, val: float) -> Tensor:
    """Fill with ``val``.

    Example:
        >>> import gradfit as gf
        >>> gf.nn.init.constant_(gf.empty(2), 0.5)
        tensor([0.5, 0.5])
    """
    _check(tensor, "constant_")
    if _skipped(tensor):
        return tensor
    return _fill(tensor, val)


def zeros_(tensor: Tensor) -> Tensor:
    """Fill with zeros.

    Example:
        >>> import gradfit as gf
        >>> gf.nn.init.zeros_(gf.empty(2))
        tensor([0., 0.])
    """
    _check(tensor, "zeros_")
    if _skipped(tensor):
        return tensor
    return _fill(tensor, 0)


def ones_(tensor: Tensor) -> Tensor:
    """Fill with ones.

    Example:
        >>> import gradfit as gf
        >>> gf.nn.init.ones_(gf.empty(2))
        tensor([1., 1.])
    """
    _check(tensor, "ones_")
    if _skipped(tensor):
        return tensor
    return _fill(tensor, 1)


def eye_(tensor: Tensor) -> Tensor:
    """Fill a 2-D tensor with the identity matrix (ones on the diagonal).

    Example:
        >>> import gradfit as gf
        >>> gf.nn.init.eye_(gf.empty(2, 3)).tolist()
        [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]]
    """
    _check(tensor, "eye_")
    if tensor.ndim != 2:
        raise ValueError(f"init.eye_: expected a 2-D tensor, got shape {tensor.shape}")
    if _skipped(tensor):
        return tensor
    return _fill(tensor, np.eye(*tensor.shape))


def xavier_uniform_(
    tensor: Tensor, gain: float = 1.0, generator: np.random.Generator | None = None
) -> Tensor:
    """Glorot uniform: U(-a, a) with a = gain * sqrt(6 / (fan_in + fan_out)).

    Example:
        >>> import gradfit as gf
        >>> t = gf.nn.init.xavier_uniform_(gf.empty(30, 20))
        >>> bool((t.abs() <= (6 / 50) ** 0.5).all())
        True
    """
    _check(tensor, "xavier_uniform_")
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor, "xavier_uniform_")
    if _skipped(tensor):
        return tensor
    std = gain * math.sqrt(2.0 / float(fan_in + fan_out))
    a = math.sqrt(3.0) * std
    return _fill(tensor, _gen(generator).uniform(-a, a, tensor.shape))


def xavier_normal_(
    tensor: Tensor, gain: float = 1.0, generator: np.random.Generator | None = None
) -> Tensor:
    """Glorot normal: N(0, std**2) with std = gain * sqrt(2 / (fan_in + fan_out)).

    Example:
        >>> import gradfit as gf
        >>> t = gf.nn.init.xavier_normal_(gf.empty(400, 600))
        >>> round(float(t.std()) / (2 / 1000) ** 0.5, 1)
        1.0
    """
    _check(tensor, "xavier_normal_")
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor, "xavier_normal_")
    if _skipped(tensor):
        return tensor
    std = gain * math.sqrt(2.0 / float(fan_in + fan_out))
    return _fill(tensor, _gen(generator).normal(0.0, std, tensor.shape))


def kaiming_uniform_(
    tensor: Tensor,
    a: float = 0.0,
    mode: str = "fan_in",
    nonlinearity: str = "leaky_relu",
    generator: np.random.Generator | None = None,
) -> Tensor:
    """He uniform: U(-bound, bound), bound = gain * sqrt(3 / fan), gain from ``nonlinearity``.

    ``a`` is the negative slope for ``leaky_relu``; ``mode`` picks fan_in
    (preserves the forward pass's variance) or fan_out (the backward pass's).

    Example:
        >>> import gradfit as gf
        >>> t = gf.nn.init.kaiming_uniform_(gf.empty(64, 100), nonlinearity="relu")
        >>> bool((t.abs() <= (6 / 100) ** 0.5).all())
        True
    """
    _check(tensor, "kaiming_uniform_")
    fan = _fan(tensor, mode, "kaiming_uniform_")
    if _skipped(tensor) or 0 in tensor.shape:
        return tensor
    std = calculate_gain(nonlinearity, a) / math.sqrt(fan)
    bound = math.sqrt(3.0) * std
    return _fill(tensor, _gen(generator).uniform(-bound, bound, tensor.shape))


def kaiming_normal_(
    tensor: Tensor,
    a: float = 0.0,
    mode: str = "fan_in",
    nonlinearity: str = "leaky_relu",
    generator: np.random.Generator | None = None,
) -> Tensor:
    """He normal: N(0, std**2), std = gain / sqrt(fan).

    Example:
        >>> import gradfit as gf
        >>> t = gf.nn.init.kaiming_normal_(gf.empty(500, 200), mode="fan_out")
        >>> round(float(t.std()) / (2 / 500) ** 0.5, 1)
        1.0
    """
    _check(tensor, "kaiming_normal_")
    fan = _fan(tensor, mode, "kaiming_normal_")
    if _skipped(tensor) or 0 in tensor.shape:
        return tensor
    std = calculate_gain(nonlinearity, a) / math.sqrt(fan)
    return _fill(tensor, _gen(generator).normal(0.0, std, tensor.shape))


def orthogonal_(
    tensor: Tensor, gain: float = 1.0, generator: np.random.Generator | None = None
) -> Tensor:
    """A (semi-)orthogonal matrix times ``gain``; dimensions after the first are flattened.

    Made, as in PyTorch, from the QR decomposition of a Gaussian matrix with the
    signs fixed so that the result is uniformly distributed.

    Example:
        >>> import gradfit as gf
        >>> import numpy as np
        >>> q = gf.nn.init.orthogonal_(gf.empty(3, 5)).numpy()
        >>> bool(np.allclose(q @ q.T, np.eye(3), atol=1e-5))
        True
    """
    _check(tensor, "orthogonal_")
    if tensor.ndim < 2:
        raise ValueError(
            f"init.orthogonal_: only tensors with 2 or more dimensions are supported, "
            f"got shape {tensor.shape}"
        )
    if _skipped(tensor) or tensor._data.size == 0:
        return tensor
    rows = tensor.shape[0]
    cols = tensor._data.size // rows
    flat = _gen(generator).normal(0.0, 1.0, (rows, cols))
    if rows < cols:
        flat = flat.T
    q, r = np.linalg.qr(flat)
    d = np.sign(np.diag(r))
    d[d == 0] = 1
    q = q * d
    if rows < cols:
        q = q.T
    return _fill(tensor, (q * gain).reshape(tensor.shape))
