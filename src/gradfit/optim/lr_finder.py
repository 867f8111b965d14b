"""The learning-rate range test (Smith, 2017; made popular by fastai's ``lr_find``).

Train for a few mini-batches while the learning rate grows exponentially from ``start_lr``
to ``end_lr``, recording a smoothed loss. The loss first barely moves (lr too small), then
falls quickly, then blows up (lr too large). A good lr is where the loss falls fastest: the
*steepest descent* of the smoothed loss against log(lr). The model, the optimizer and
gradfit's random generator are restored afterwards, so the test leaves no trace.

Plotting the curve is for :mod:`gradfit.viz`; this module returns the data.

Example:
    >>> import numpy as np
    >>> import gradfit as gf
    >>> _ = gf.manual_seed(0)
    >>> x = np.linspace(-1, 1, 64, dtype=np.float32).reshape(-1, 1)
    >>> y = 3 * x
    >>> model = gf.nn.Linear(1, 1)
    >>> opt = gf.optim.SGD(model.parameters(), lr=0.1)
    >>> before = model.weight.numpy().copy()
    >>> mse = lambda out, target: ((out - target) ** 2).mean()
    >>> res = gf.optim.lr_finder.find_lr(
    ...     model, mse, opt, [(x, y)], start_lr=1e-4, end_lr=100, num_iter=60
    ... )
    >>> bool(1e-2 < res.suggestion < 10), bool((model.weight.numpy() == before).all())
    (True, True)
"""

from __future__ import annotations

import copy
import math
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from gradfit.optim.optimizer import Optimizer
from gradfit.random import get_rng_state, set_rng_state
from gradfit.tensor import Tensor

__all__ = ["LRFinderResult", "find_lr", "suggest_lr"]


@dataclass
class LRFinderResult:
    """What the range test measured.

    Attributes:
        lrs: the learning rate of each iteration run.
        losses: the smoothed loss of each iteration (fastai's bias-corrected exponential
            moving average of the mini-batch losses).
        raw_losses: the mini-batch losses themselves.
        suggestion: the lr where the smoothed loss falls fastest against log(lr)
            (None when too few iterations ran to tell).
        best_lr: the lr at the lowest smoothed loss (usually too large to train with;
            a tenth of it is fastai's other rule of thumb).
        diverged: whether the test stopped early because the loss blew up.

    Example:
        >>> r = LRFinderResult(lrs=[0.1], losses=[1.0], raw_losses=[1.0], suggestion=None,
        ...                    best_lr=0.1)
        >>> r.best_lr
        0.1
    """

    lrs: list[float]
    losses: list[float]
    raw_losses: list[float]
    suggestion: float | None
    best_lr: float
    diverged: bool = field(default=False)


def suggest_lr(
    lrs: Iterable[float], losses: Iterable[float], skip_start: int = 10, skip_end: int = 5
) -> float | None:
    """The lr where ``losses`` fall fastest against log10(lr) (the minimum of the slope).

    The first ``skip_start`` and last ``skip_end`` points are left out (noisy ends), unless
    that leaves fewer than 3 points, in which case the ends are trimmed less. The slope at
    point ``i`` is the centred difference ``(y[i+k] - y[i-k]) / (x[i+k] - x[i-k])`` with
    ``k = max(1, n // 10)`` for ``n`` points left: with ``k = 1`` that is ``np.gradient``,
    and the wider step keeps mini-batch noise in the smoothed curve (which is amplified by
    differentiating over the small log-lr spacing) from outweighing the real descent.
    Only points up to the lowest loss are candidates.
    None when fewer than 2 points are given.

    Example:
        >>> lrs = [10.0 ** k for k in range(-5, 1)]
        >>> suggest_lr(lrs, [1.0, 0.99, 0.9, 0.4, 0.3, 0.29], skip_start=0, skip_end=0)
        0.01
    """
    x = np.log10(np.asarray(list(lrs), dtype=np.float64))
    y = np.asarray(list(losses), dtype=np.float64)
    if x.shape != y.shape:
        raise ValueError(f"suggest_lr: got {x.size} lrs and {y.size} losses")
    n = x.size
    if n < 2:
        return None
    start, end = skip_start, n - skip_end
    while end - start < 3 and (start > 0 or end < n):
        start, end = max(start - 1, 0), min(end + 1, n)
    xs, ys = x[start:end], y[start:end]
    finite = np.isfinite(ys)
    xs, ys = xs[finite], ys[finite]
    m = xs.size
    if m < 2:
        return None
    if m < 3:
        return float(10.0 ** xs[0]) if ys[1] < ys[0] else None
    k = max(1, m // 10)
    idx = np.arange(m)
    lo, hi = np.maximum(idx - k, 0), np.minimum(idx + k, m - 1)
    slopes = (ys[hi] - ys[lo]) / (xs[hi] - xs[lo])
    # the descent that matters leads to the lowest loss: look no further than it
    last = int(np.argmin(ys))
    return float(10.0 ** xs[int(np.argmin(slopes[: last + 1]))])


def _as_tensor(v: Any) -> Any:
    if isinstance(v, Tensor):
        return v
    if isinstance(v, np.ndarray):
        return Tensor(v)
    return v


def _batches(loader: Iterable[Any]) -> Iterator[Any]:
    """Batches from ``loader``, starting it again each time it ends."""
    while True:
        it = iter(loader)
        first = next(it, None)
        if first is None:
            raise ValueError("find_lr: the loader gave no batches")
        yield first
        yield from it


def _snapshot(state: Any) -> Any:
    """A deep copy of a state_dict (arrays and tensors copied)."""
    if isinstance(state, Tensor):
        return state._data.copy()
    if isinstance(state, np.ndarray):
        return state.copy()
    if isinstance(state, dict):
        out = type(state)() if type(state) is not dict else {}
        for k, v in state.items():
            out[k] = _snapshot(v)
        return out
    return copy.deepcopy(state)


def find_lr(
    model: Any,
    loss_fn: Callable[[Any, Any], Tensor],
    optimizer: Optimizer,
    loader: Iterable[Any],
    start_lr: float = 1e-7,
    end_lr: float = 10.0,
    num_iter: int = 100,
    smooth: float = 0.98,
    diverge_threshold: float = 4.0,
) -> LRFinderResult:
    """Run the learning-rate range test and restore everything afterwards.

    Args:
        model: a callable with ``state_dict()``/``load_state_dict()`` (a ``gf.nn.Module``).
        loss_fn: ``loss_fn(model(x), y)`` returns a scalar Tensor.
        optimizer: the optimizer to test; every group's lr is set each iteration.
        loader: an iterable of ``(x, y)`` batches (Tensors or arrays), started again if
            it ends before ``num_iter`` iterations.
        start_lr, end_lr: the first and last lr; iteration ``i`` uses
            ``start_lr * (end_lr / start_lr) ** (i / (num_iter - 1))``.
        num_iter: the most iterations to run.
        smooth: the smoothing factor of the loss's moving average (0 = no smoothing).
        diverge_threshold: stop when the smoothed loss exceeds this multiple of the best
            so far (or is not finite).

    Returns:
        An :class:`LRFinderResult` with ``lrs``, ``losses`` (smoothed), ``suggestion`` and
        ``best_lr``.

    The model's parameters and buffers, the optimizer's state and hyper-parameters, and
    the parameters' ``.grad`` and gradfit's global random generator are exactly as before when this returns (also if it
    raises). The model's train/eval mode is left as given.

    Example:
        >>> import numpy as np
        >>> import gradfit as gf
        >>> model = gf.nn.Linear(2, 1)
        >>> opt = gf.optim.SGD(model.parameters(), lr=0.1)
        >>> x = np.ones((8, 2), dtype=np.float32); y = np.zeros((8, 1), dtype=np.float32)
        >>> mse = lambda out, target: ((out - target) ** 2).mean()
        >>> res = gf.optim.lr_finder.find_lr(model, mse, opt, [(x, y)], num_iter=5)
        >>> len(res.lrs), res.lrs[0]
        (5, 1e-07)
    """
    if not isinstance(optimizer, Optimizer):
        raise TypeError(f"find_lr: expected a gradfit Optimizer, got {type(optimizer).__name__}")
    if not (start_lr > 0 and end_lr > start_lr):
        raise ValueError(
            f"find_lr: expected 0 < start_lr < end_lr, got start_lr={start_lr!r}, end_lr={end_lr!r}"
        )
    if isinstance(num_iter, bool) or not isinstance(num_iter, int) or num_iter < 2:
        raise ValueError(f"find_lr: num_iter must be an integer >= 2, got {num_iter!r}")
    if not 0 <= smooth < 1:
        raise ValueError(f"find_lr: smooth must be in [0, 1), got {smooth!r}")
    if not diverge_threshold > 1:
        raise ValueError(f"find_lr: diverge_threshold must be > 1, got {diverge_threshold!r}")

    model_state = _snapshot(model.state_dict())
    opt_state = _snapshot(optimizer.state_dict())
    rng_state = get_rng_state()
    params = [p for group in optimizer.param_groups for p in group["params"]]
    grads = [p.grad for p in params]

    lrs: list[float] = []
    smoothed: list[float] = []
    raw: list[float] = []
    diverged = False
    ratio = end_lr / start_lr
    avg = 0.0
    best = math.inf
    try:
        for i, batch in zip(range(num_iter), _batches(loader)):
            try:
                x, y = batch
            except (TypeError, ValueError) as e:
                raise TypeError(
                    f"find_lr: each batch must be an (x, y) pair, got {type(batch).__name__}"
                ) from e
            lr = start_lr * ratio ** (i / (num_iter - 1))
            for group in optimizer.param_groups:
                group["lr"] = lr
            optimizer.zero_grad()
            loss = loss_fn(model(_as_tensor(x)), _as_tensor(y))
            value = float(loss.item())
            if not math.isfinite(value):
                diverged = True
                break
            loss.backward()
            optimizer.step()
            avg = smooth * avg + (1 - smooth) * value
            s = avg / (1 - smooth ** (i + 1))
            lrs.append(lr)
            raw.append(value)
            smoothed.append(s)
            best = min(best, s)
            if i > 0 and s > diverge_threshold * best:
                diverged = True
                break
    finally:
        model.load_state_dict(model_state)
        for p, g in zip(params, grads, strict=True):
            p.grad = g
        optimizer.load_state_dict(opt_state)
        set_rng_state(rng_state)

    if not lrs:
        raise ValueError("find_lr: the loss was not finite at the first iteration")
    best_lr = lrs[int(np.argmin(smoothed))]
    # stop the curve at the divergence point: what follows the blow-up says nothing
    end = len(lrs) - 1 if diverged and len(lrs) > 2 else len(lrs)
    suggestion = suggest_lr(lrs[:end], smoothed[:end])
    return LRFinderResult(
        lrs=lrs,
        losses=smoothed,
        raw_losses=raw,
        suggestion=suggestion,
        best_lr=best_lr,
        diverged=diverged,
    )
