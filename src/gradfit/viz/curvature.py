"""Curvature of the loss: the top Hessian eigenvalue ("sharpness") over training.

Gradient descent with learning rate ``lr`` on a quadratic is stable only while the
largest eigenvalue of the Hessian stays below ``2 / lr``; along a real training run
the sharpness often rises until it meets that limit and hovers there (the "edge of
stability"). :func:`top_hessian_eigenvalue` finds it by power iteration on
Hessian-vector products (two backward passes each, with ``create_graph=True``),
:func:`sharpness_during_training` records it while full-batch gradient descent runs,
and :func:`plot_sharpness` draws it next to ``2 / lr``.

Example:
    >>> import gradfit as gf
    >>> _ = gf.manual_seed(0)
    >>> model = gf.nn.Linear(2, 1)
    >>> x, y = gf.tensor([[1.0, 0.0], [0.0, 2.0]]), gf.tensor([[1.0], [2.0]])
    >>> lam = top_hessian_eigenvalue(model, gf.nn.functional.mse_loss, x, y)
    >>> round(lam, 2)  # mean squared error over N = 2: the Hessian is [X 1]^T [X 1]
    5.3
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from gradfit.autograd import grad as autograd_grad
from gradfit.autograd import no_grad
from gradfit.tensor import Tensor
from gradfit.viz._util import new_figure

Loss = Callable[[Tensor, Tensor], Tensor]


def _hvp(
    params: list[Tensor], grads: tuple[Tensor, ...], vec: list[np.ndarray]
) -> list[np.ndarray]:
    dot = None
    for g, v in zip(grads, vec):
        term = (g * Tensor._wrap(v.astype(g.dtype))).sum()
        dot = term if dot is None else dot + term
    hv = autograd_grad(dot, params, retain_graph=True, allow_unused=True)
    return [
        np.zeros(p.shape, np.float64) if h is None else h.numpy().astype(np.float64)
        for h, p in zip(hv, params)
    ]


def top_hessian_eigenvalue(
    model: Any,
    loss_fn: Loss,
    inputs: Tensor,
    targets: Tensor,
    iters: int = 30,
    tol: float = 1e-4,
    seed: int = 0,
) -> float:
    """The largest-magnitude eigenvalue of the Hessian of ``loss_fn(model(inputs), targets)``
    with respect to the model's parameters, by power iteration on Hessian-vector products.

    Stops after ``iters`` products or once the estimate changes by less than ``tol``
    (relative). The model's parameters and their ``.grad`` are left as they were.

    Example:
        >>> import gradfit as gf
        >>> _ = gf.manual_seed(0)
        >>> lam = top_hessian_eigenvalue(
        ...     gf.nn.Linear(3, 1), gf.nn.functional.mse_loss, gf.randn(8, 3), gf.randn(8, 1))
        >>> lam > 0
        True
    """
    if iters < 1:
        raise ValueError(f"top_hessian_eigenvalue: iters must be at least 1, got {iters}")
    params = [p for p in model.parameters() if p.requires_grad]
    if not params:
        raise ValueError("top_hessian_eigenvalue: the model has no parameter that requires grad")
    loss = loss_fn(model(inputs), targets)
    if loss.numel() != 1:
        raise ValueError(
            f"top_hessian_eigenvalue: loss_fn must return a scalar, got shape {tuple(loss.shape)}"
        )
    grads = autograd_grad(loss, params, create_graph=True, allow_unused=True)
    pairs = [(p, g) for p, g in zip(params, grads) if g is not None]
    params, grads = [p for p, _ in pairs], tuple(g for _, g in pairs)
    rng = np.random.default_rng(seed)
    vec = [rng.standard_normal(p.shape) for p in params]
    norm = np.sqrt(sum(float((v * v).sum()) for v in vec))
    vec = [v / norm for v in vec]
    lam = 0.0
    for _ in range(iters):
        hv = _hvp(params, grads, vec)
        new = sum(float((h * v).sum()) for h, v in zip(hv, vec))  # Rayleigh quotient
        norm = np.sqrt(sum(float((h * h).sum()) for h in hv))
        if norm == 0:
            return 0.0
        vec = [h / norm for h in hv]
        if abs(new - lam) <= tol * max(abs(new), 1e-12):
            return new
        lam = new
    return lam


@dataclass
class SharpnessSeries:
    """Sharpness recorded during training: ``steps[i]``, ``sharpness[i]`` (the top Hessian
    eigenvalue) and ``loss[i]``; ``limit`` is gradient descent's stability limit 2 / lr.

    A run whose learning rate changes (a schedule) gives ``lrs[i]``, the learning rate at
    ``steps[i]``; ``momentum`` > 0 (heavy-ball SGD) moves the limit to 2 (1 + momentum) / lr.
    ``unit`` names the x axis ("step" or "epoch"); ``note`` is printed under the plot.

    Example:
        >>> s = SharpnessSeries(lr=0.1)
        >>> s.limit
        20.0
        >>> SharpnessSeries(lr=0.1, momentum=0.9).limit
        38.0
    """

    lr: float
    steps: list[int] = field(default_factory=list)
    sharpness: list[float] = field(default_factory=list)
    loss: list[float] = field(default_factory=list)
    lrs: list[float] | None = None
    momentum: float = 0.0
    unit: str = "step"
    note: str = ""

    @property
    def limit(self) -> float:
        return 2.0 * (1.0 + self.momentum) / self.lr


def sharpness_from_history(history: Any, momentum: float = 0.0) -> SharpnessSeries:
    """The ``sharpness`` column of a training history (recorded by
    :class:`gradfit.train.TrackSharpness`, ``gradfit train --track-curvature K``) with each
    epoch's ``lr``, ready for :func:`plot_sharpness`.

    ``history`` is a :class:`gradfit.train.History` or its rows (dicts with ``epoch``,
    ``lr`` and, on measured epochs, ``sharpness``). Raises ValueError when no row holds
    a sharpness.

    Example:
        >>> rows = [{"epoch": 1, "lr": 0.1, "train_loss": 1.0, "sharpness": 3.0},
        ...         {"epoch": 2, "lr": 0.05, "train_loss": 0.5}]
        >>> s = sharpness_from_history(rows)
        >>> s.steps, s.sharpness, s.lrs, s.unit
        ([1], [3.0], [0.1], 'epoch')
    """
    rows = list(getattr(history, "rows", history))
    picked = [r for r in rows if _finite(r.get("sharpness")) and _finite(r.get("lr"))]
    if not picked:
        raise ValueError(
            "sharpness_from_history: no epoch records a sharpness (train with "
            "gf.train.TrackSharpness, or gradfit train --track-curvature K)"
        )
    lrs = [float(r["lr"]) for r in picked]
    return SharpnessSeries(
        lr=lrs[-1],
        steps=[int(r.get("epoch", i + 1)) for i, r in enumerate(picked)],
        sharpness=[float(r["sharpness"]) for r in picked],
        loss=[float(r["train_loss"]) for r in picked if _finite(r.get("train_loss"))],
        lrs=lrs,
        momentum=float(momentum),
        unit="epoch",
    )


def _finite(v: Any) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool) and np.isfinite(v)


def sharpness_during_training(
    model: Any,
    loss_fn: Loss,
    inputs: Tensor,
    targets: Tensor,
    lr: float,
    steps: int = 100,
    every: int = 10,
    iters: int = 20,
) -> SharpnessSeries:
    """Train ``model`` by full-batch gradient descent (``w -= lr * grad``) for ``steps``
    steps, recording the top Hessian eigenvalue every ``every`` steps (and at the end).

    Example:
        >>> import gradfit as gf
        >>> _ = gf.manual_seed(0)
        >>> s = sharpness_during_training(gf.nn.Linear(2, 1), gf.nn.functional.mse_loss,
        ...     gf.randn(16, 2), gf.randn(16, 1), lr=0.1, steps=4, every=2, iters=5)
        >>> s.steps
        [0, 2, 4]
    """
    if lr <= 0:
        raise ValueError(f"sharpness_during_training: lr must be positive, got {lr}")
    if every < 1:
        raise ValueError(f"sharpness_during_training: every must be at least 1, got {every}")
    series = SharpnessSeries(lr=lr)
    params = [p for p in model.parameters() if p.requires_grad]
    for step in range(steps + 1):
        if step % every == 0 or step == steps:
            series.steps.append(step)
            series.sharpness.append(top_hessian_eigenvalue(model, loss_fn, inputs, targets, iters))
        loss = loss_fn(model(inputs), targets)
        if step % every == 0 or step == steps:
            series.loss.append(float(loss.item()))
        if step == steps:
            break
        gs = autograd_grad(loss, params, allow_unused=True)
        with no_grad():
            for p, g in zip(params, gs):
                if g is not None:
                    p._data -= p._data.dtype.type(lr) * g._data
                    p._version[0] += 1
    return series


def plot_sharpness(series: SharpnessSeries, ax: Any = None, limit_curve: Any = None) -> Any:
    """Draw the sharpness over training with the stability limit 2 / lr as a dashed line
    (a curve when the learning rate changes: ``series.lrs``).

    ``limit_curve`` = ``(steps, lrs)`` draws the limit along other points than the
    measured ones (every epoch of a run measured only at its checkpoints).

    Example:
        >>> fig = plot_sharpness(SharpnessSeries(lr=0.5, steps=[0, 1], sharpness=[1.0, 3.0]))
        >>> fig.axes[0].lines[0].get_ydata().tolist()
        [1.0, 3.0]
    """
    if ax is None:
        fig = new_figure(figsize=(5.5, 3.8) if series.note else (5, 3.5))
        ax = fig.add_subplot()
    many = len(series.steps) > 1
    ax.plot(
        series.steps, series.sharpness, "o-" if many else "o", lw=1.8, ms=3 if many else 7,
        label="top Hessian eigenvalue",
    )  # fmt: skip
    factor = 2.0 * (1.0 + series.momentum)
    name = "2 (1 + momentum) / lr" if series.momentum else "2 / lr"
    if limit_curve is None and series.lrs is not None:
        limit_curve = (series.steps, series.lrs)
    if limit_curve is None:
        ax.axhline(series.limit, ls="--", color="crimson", label=f"{name} = {series.limit:.3g}")
    else:
        xs, lrs = (np.asarray(v, np.float64) for v in limit_curve)
        limit = factor / lrs
        same = np.allclose(limit, limit[0])
        label = f"{name} = {limit[0]:.3g}" if same else f"{name} (the lr changes)"
        if len(xs) == 1:
            ax.axhline(limit[0], ls="--", color="crimson", label=label)
        else:
            ax.plot(xs, limit, "--", color="crimson", drawstyle="steps-mid", label=label)
        if series.momentum:  # plain gradient descent's limit, for comparison
            ax.plot(xs, 2.0 / lrs, ":", color="gray", drawstyle="steps-mid", label="2 / lr")
    ax.set_xlabel(series.unit)
    ax.set_ylabel("sharpness")
    top = max([abs(v) for v in series.sharpness if np.isfinite(v)], default=0.0)
    if top > 0 and max(ax.get_ylim()) > 8 * top:  # far below its limit: both on a log scale
        if min(series.sharpness) > 0:
            ax.set_yscale("log")
        else:  # a negative top eigenvalue (a saddle): linear near zero
            ax.set_yscale("symlog", linthresh=min(1.0, top))
    if series.unit == "epoch":
        from matplotlib.ticker import MaxNLocator

        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    title = "gradient descent" if series.unit == "step" else "training run"
    ax.set_title(f"Curvature over training ({title})", fontsize=10)
    ax.legend(fontsize=8)
    if series.note:
        import textwrap

        ax.figure.text(0.01, 0.005, textwrap.fill(series.note, 95), fontsize=7, va="bottom")
        ax.figure.get_layout_engine().set(rect=(0, 0.1, 1, 0.9))
    return ax.figure
