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

    Example:
        >>> s = SharpnessSeries(lr=0.1)
        >>> s.limit
        20.0
    """

    lr: float
    steps: list[int] = field(default_factory=list)
    sharpness: list[float] = field(default_factory=list)
    loss: list[float] = field(default_factory=list)

    @property
    def limit(self) -> float:
        return 2.0 / self.lr


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


def plot_sharpness(series: SharpnessSeries, ax: Any = None) -> Any:
    """Draw the sharpness over training with the stability limit 2 / lr as a dashed line.

    Example:
        >>> fig = plot_sharpness(SharpnessSeries(lr=0.5, steps=[0, 1], sharpness=[1.0, 3.0]))
        >>> fig.axes[0].lines[0].get_ydata().tolist()
        [1.0, 3.0]
    """
    if ax is None:
        fig = new_figure(figsize=(5, 3.5))
        ax = fig.add_subplot()
    ax.plot(series.steps, series.sharpness, "o-", lw=1.8, ms=3, label="top Hessian eigenvalue")
    ax.axhline(series.limit, ls="--", color="crimson", label=f"2 / lr = {series.limit:.3g}")
    ax.set_xlabel("step")
    ax.set_ylabel("sharpness")
    ax.set_title("Curvature over training (gradient descent)", fontsize=10)
    ax.legend(fontsize=8)
    return ax.figure
