"""Sampling as PyTorch does it: multinomial, randperm, normal, bernoulli, poisson, and the
in-place random fills (``Tensor.uniform_``, ``exponential_``, ...), each with ``generator=``.

The numbers come from NumPy's PCG64 stream, so they are not PyTorch's; the
distributions, shapes, dtypes and errors are. Without ``generator=`` they draw from
gradfit's default generator (``gf.manual_seed``).

Example:
    >>> import gradfit as gf
    >>> g = gf.Generator().manual_seed(0)
    >>> gf.multinomial(gf.tensor([0.0, 1.0, 0.0]), 2, replacement=True, generator=g)
    tensor([1, 1])
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from gradfit import backend
from gradfit.autograd import Function
from gradfit.device import check_device
from gradfit.random import _generator, rng_of
from gradfit.tensor import Tensor


def _tensor(x: Any, op: str) -> Tensor:
    if not isinstance(x, Tensor):
        raise TypeError(f"{op}: expected a Tensor, got {type(x).__name__}")
    return x


def multinomial(
    input: Tensor,  # noqa: A002 - PyTorch's name
    num_samples: int,
    replacement: bool = False,
    generator: Any = None,
) -> Tensor:
    """Draw category indices with probabilities proportional to ``input`` (rows of a 2-D one).

    Without replacement every index appears at most once per row, drawn in order (the
    first is the most likely one first, and so on). Returns int64 of shape
    ``(num_samples,)`` or ``(rows, num_samples)``. The weights need not sum to 1.

    Example:
        >>> import gradfit as gf
        >>> g = gf.Generator().manual_seed(1)
        >>> sorted(gf.multinomial(gf.tensor([1.0, 1.0, 0.0]), 2, generator=g).tolist())
        [0, 1]
    """
    t = _tensor(input, "multinomial")
    p = t._data
    if p.ndim not in (1, 2):
        raise RuntimeError(f"multinomial: prob_dist must be 1 or 2 dim, got {p.ndim} dims")
    if p.dtype.kind != "f":
        raise RuntimeError(
            f"multinomial only supports floating-point dtypes for input, got: {p.dtype}"
        )
    n = int(num_samples)
    if n <= 0:
        raise RuntimeError(f"multinomial: cannot sample n_sample <= 0 samples (got {n})")
    k = p.shape[-1]
    if not replacement and n > k:
        raise RuntimeError(
            f"multinomial: cannot sample n_sample > prob_dist.size(-1) samples without "
            f"replacement ({n} > {k})"
        )
    rows = p.reshape(p.shape[0] if p.ndim == 2 else 1, k).astype(np.float64)
    if rows.shape[0] == 0:
        return Tensor._wrap(np.zeros((0, n), dtype=np.int64))
    if not np.isfinite(rows).all() or (rows < 0).any():
        raise RuntimeError(
            "multinomial: probability tensor contains either `inf`, `nan` or element < 0"
        )
    total = rows.sum(axis=1, keepdims=True)
    if k == 0 or (total <= 0).any():
        raise RuntimeError(
            "multinomial: invalid multinomial distribution (sum of probabilities <= 0)"
        )
    rng = rng_of(generator)
    m = rows.shape[0]
    if replacement:
        cdf = np.cumsum(rows, axis=1)
        cdf /= cdf[:, -1:]  # the last nonzero category ends at exactly 1.0
        offs = np.arange(m, dtype=np.float64)[:, None]
        u = rng.random((m, n)) + offs  # each row searches its own segment of the flat cdf
        idx = np.searchsorted((cdf + offs).ravel(), u.ravel(), side="right").reshape(m, n)
        out = np.minimum(idx - np.arange(m)[:, None] * k, k - 1)
    else:  # the largest p / Exp(1) keys, in order: sequential sampling without replacement
        with np.errstate(divide="ignore"):
            keys = rows / rng.standard_exponential((m, k))
        out = np.argsort(-keys, axis=1, kind="stable")[:, :n]
    out = out.astype(np.int64)
    return Tensor._wrap(out[0] if p.ndim == 1 else out)


def randperm(
    n: int,
    generator: Any = None,
    dtype: Any = None,
    requires_grad: bool = False,
    device: Any = None,
) -> Tensor:
    """A random permutation of ``0 .. n-1`` (int64 unless ``dtype`` is given).

    Example:
        >>> import gradfit as gf
        >>> sorted(gf.randperm(4).tolist())
        [0, 1, 2, 3]
    """
    check_device(device, "randperm")
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)):
        raise TypeError(f"randperm: n must be an int, got {type(n).__name__}")
    if n < 0:
        raise RuntimeError(f"randperm: n must be non-negative, got {n}")
    dt = backend.default_int if dtype is None else backend.to_dtype(dtype)
    t = Tensor._wrap(rng_of(generator).permutation(int(n)).astype(dt))
    return t.requires_grad_() if requires_grad else t


class _Normal(Function):
    """``mean + std * eps``, with PyTorch's gradients: zero for ``mean`` and ``std`` (torch's
    ``normal`` is not reparameterised; write ``mean + std * gf.randn_like(std)`` for that)."""

    def forward(self, mean: np.ndarray, std: np.ndarray, eps: np.ndarray) -> np.ndarray:
        self.saved = (mean.shape, std.shape)
        return mean + std * eps

    def backward(self, grad: np.ndarray) -> tuple[Any, Any, None]:
        sm, ss = self.saved
        nm, ns, _ = self.needs_input_grad
        zero = grad.dtype.type(0)
        return (
            np.full(sm, zero) if nm else None,
            np.full(ss, zero) if ns else None,
            None,
        )

    def backward_graph(self, grad: Tensor) -> tuple[Any, Any, None]:
        g = self.backward(grad._data)  # zeros: a constant, whose derivative is zero
        return tuple(None if a is None else Tensor._wrap(a) for a in g)  # type: ignore[return-value]


def normal(
    mean: Any = 0.0,
    std: Any = 1.0,
    size: Sequence[int] | None = None,
    generator: Any = None,
    dtype: Any = None,
    requires_grad: bool = False,
    device: Any = None,
) -> Tensor:
    """Samples from N(mean, std**2), with PyTorch's overloads: tensor ``mean`` and/or ``std``
    (broadcast together; as in PyTorch their gradients are zero), or float ``mean`` and ``std`` with ``size``.

    Example:
        >>> import gradfit as gf
        >>> gf.normal(0.0, 1.0, (2, 3)).shape
        (2, 3)
        >>> gf.normal(gf.zeros(2, 1), gf.ones(3)).shape
        (2, 3)
    """
    check_device(device, "normal")
    rng = rng_of(generator)
    tm, ts = isinstance(mean, Tensor), isinstance(std, Tensor)
    if not tm and not ts:
        if size is None:
            raise TypeError("normal: with float mean and std, give size= (the output's shape)")
        if std < 0:
            raise RuntimeError(f"normal expects std >= 0.0, but found std {std}")
        dt = backend.default_float if dtype is None else backend.to_dtype(dtype)
        shape = (int(size),) if isinstance(size, (int, np.integer)) else tuple(size)
        t = Tensor._wrap(rng.normal(mean, std, shape).astype(dt))
        return t.requires_grad_() if requires_grad else t
    for v in (mean, std):
        if isinstance(v, Tensor) and v._data.dtype.kind != "f":
            raise NotImplementedError(f"normal: not implemented for {v._data.dtype} tensors")
    dt = backend.result_type(
        mean._data.dtype if tm else std._data.dtype, std._data.dtype if ts else mean._data.dtype
    )
    m = mean if tm else Tensor._wrap(np.asarray(mean, dtype=dt))
    s = std if ts else Tensor._wrap(np.asarray(std, dtype=dt))
    if (s._data < 0).any():
        bad = s._data[s._data < 0].ravel()[0]
        raise RuntimeError(f"normal expects all elements of std >= 0.0, but found std {bad}")
    try:
        shape = np.broadcast_shapes(m.shape, s.shape)
    except ValueError:
        raise RuntimeError(
            f"normal: the shapes of mean {m.shape} and std {s.shape} cannot be broadcast"
        ) from None
    eps = Tensor._wrap(rng.standard_normal(shape).astype(dt))
    return _Normal.apply(m.astype(dt), s.astype(dt), eps)


def bernoulli(input: Tensor, p: float | None = None, generator: Any = None) -> Tensor:  # noqa: A002
    """0/1 samples with probability ``input`` (or the constant ``p``), in ``input``'s dtype.

    Example:
        >>> import gradfit as gf
        >>> gf.bernoulli(gf.tensor([0.0, 1.0]))
        tensor([0., 1.])
    """
    t = _tensor(input, "bernoulli")
    if t._data.dtype.kind != "f":
        raise NotImplementedError(f"bernoulli: not implemented for {t._data.dtype} tensors")
    prob = t._data if p is None else p
    _check_p(prob, "bernoulli")
    u = rng_of(generator).random(t.shape)
    return Tensor._wrap((u < prob).astype(t._data.dtype))


def _check_p(prob: Any, op: str) -> None:
    arr = np.asarray(prob)
    if arr.size and not ((arr >= 0) & (arr <= 1)).all():
        raise RuntimeError(f"{op}: expected every probability p to be in [0, 1]")


def poisson(input: Tensor, generator: Any = None) -> Tensor:  # noqa: A002
    """Poisson samples with rates ``input`` (a float tensor), in its dtype.

    Example:
        >>> import gradfit as gf
        >>> gf.poisson(gf.zeros(2))
        tensor([0., 0.])
    """
    t = _tensor(input, "poisson")
    if t._data.dtype.kind != "f":
        raise NotImplementedError(f"poisson: not implemented for {t._data.dtype} tensors")
    if (t._data < 0).any() or np.isnan(t._data).any():
        raise RuntimeError("poisson: invalid Poisson rate, expected rate to be non-negative")
    return Tensor._wrap(np.asarray(rng_of(generator).poisson(t._data)).astype(t._data.dtype))


def seed() -> int:
    """Seed gradfit's default generator from the operating system and return the seed.

    Example:
        >>> import gradfit as gf
        >>> s = gf.seed(); gf.initial_seed() == s
        True
    """
    return _generator.seed()


def initial_seed() -> int:
    """The seed gradfit's default generator was last seeded with.

    Example:
        >>> import gradfit as gf
        >>> _ = gf.manual_seed(7); gf.initial_seed()
        7
    """
    return _generator.initial_seed()


# ----------------------------------------------------------------- in-place random fills


def fill_(
    t: Tensor,
    op: str,
    generator: Any,
    draw: Callable[[np.random.Generator, tuple[int, ...]], np.ndarray],
    check: bool = True,
    msg: str = "",
    floats_only: bool = True,
) -> Tensor:
    """Fill ``t`` in place with ``draw(rng, shape)`` (the shared body of ``uniform_`` etc.)."""
    if floats_only and t._data.dtype.kind != "f":
        raise NotImplementedError(f"{op}: not implemented for {t._data.dtype} tensors")
    if not check:
        raise RuntimeError(msg)
    t._check_inplace(op)
    t._data[...] = draw(rng_of(generator), t.shape)
    t._version[0] += 1
    return t


def _bernoulli_(self: Tensor, p: Any = 0.5, generator: Any = None) -> Tensor:
    prob = p._data if isinstance(p, Tensor) else p
    _check_p(prob, "bernoulli_")
    return fill_(self, "bernoulli_", generator, lambda r, n: r.random(n) < prob, floats_only=False)


def _exponential_(self: Tensor, lambd: float = 1.0, generator: Any = None) -> Tensor:
    return fill_(
        self, "exponential_", generator, lambda r, n: r.exponential(1.0 / lambd, n),
        check=lambd > 0, msg=f"exponential_ expects lambda > 0.0, but found lambda={lambd}",
    )  # fmt: skip


def _geometric_(self: Tensor, p: float, generator: Any = None) -> Tensor:
    return fill_(
        self, "geometric_", generator, lambda r, n: r.geometric(p, n),
        check=0 < p < 1, msg=f"geometric_ expects p to be in (0, 1), but got p={p}",
        floats_only=False,
    )  # fmt: skip


def _cauchy_(
    self: Tensor, median: float = 0.0, sigma: float = 1.0, generator: Any = None
) -> Tensor:
    return fill_(
        self, "cauchy_", generator, lambda r, n: median + sigma * r.standard_cauchy(n),
        check=sigma > 0, msg=f"cauchy_ expects sigma > 0.0, but found sigma={sigma}",
    )  # fmt: skip


def _log_normal_(
    self: Tensor, mean: float = 1.0, std: float = 2.0, generator: Any = None
) -> Tensor:
    return fill_(
        self, "log_normal_", generator, lambda r, n: r.lognormal(mean, std, n),
        check=std > 0, msg=f"log_normal_ expects std > 0.0, but found std={std}",
    )  # fmt: skip


def _random_(self: Tensor, *args: int, generator: Any = None, **kwargs: int) -> Tensor:
    """``random_()``, ``random_(to)``, ``random_(from, to)``: integers in [from, to)."""
    lo = kwargs.pop("from", None)
    hi = kwargs.pop("to", None)
    if kwargs:
        raise TypeError(f"random_: unexpected keyword arguments {sorted(kwargs)}")
    if len(args) == 1:
        lo, hi = (0, args[0]) if lo is None and hi is None else (args[0], hi)
    elif len(args) == 2:
        lo, hi = args
    elif len(args) > 2:
        raise TypeError("random_: expected at most two arguments (from, to)")
    lo = 0 if lo is None else int(lo)
    dt = self._data.dtype
    if hi is None:
        if dt.kind == "f":
            hi = 2 ** (np.finfo(dt).nmant + 1) + 1
        elif dt.kind == "b":
            hi = 2
        else:
            hi = int(np.iinfo(dt).max) + 1
    hi = int(hi)
    if lo >= hi:
        raise RuntimeError(
            f"random_ expects 'from' to be less than 'to', but got from={lo} >= to={hi}"
        )
    return fill_(
        self, "random_", generator,
        lambda r, n: r.integers(lo, hi, n, dtype=np.int64 if hi <= 2**63 else np.uint64),
        floats_only=False,
    )  # fmt: skip


def _tensor_bernoulli(self: Tensor, p: float | None = None, generator: Any = None) -> Tensor:
    return bernoulli(self, p, generator=generator)


def _tensor_multinomial(
    self: Tensor, num_samples: int, replacement: bool = False, generator: Any = None
) -> Tensor:
    return multinomial(self, num_samples, replacement, generator=generator)


def _install() -> None:
    T = Tensor
    T.bernoulli_ = _bernoulli_
    T.exponential_ = _exponential_
    T.geometric_ = _geometric_
    T.cauchy_ = _cauchy_
    T.log_normal_ = _log_normal_
    T.random_ = _random_
    T.bernoulli = _tensor_bernoulli
    T.multinomial = _tensor_multinomial


_install()
