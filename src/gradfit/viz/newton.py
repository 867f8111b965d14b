"""The Newton step beside the gradient step, drawn on a 2-D slice of the loss landscape.

At the weights ``w`` with gradient ``g`` and Hessian ``H``, gradient descent moves by
``-lr * g``: downhill, by an amount the learning rate sets. Newton's method moves to the
minimum of the quadratic model ``f(w) + g.s + s.H.s / 2``, by ``s = -H^-1 g``: it
stretches the step along flat directions and shrinks it along steep ones. Where ``H``
has a negative eigenvalue the quadratic model has no minimum and the Newton step heads
for a saddle point (``negative_curvature`` says so).

:func:`newton_step` computes both, as flat float64 vectors over the model's trainable
parameters: with the exact Hessian (one Hessian-vector product per parameter) for small
models, or by conjugate gradients on Hessian-vector products (``gf.autograd.grad`` with
``create_graph=True``, never forming ``H``) for large ones. :func:`newton_landscape`
evaluates the loss on a plane through ``w`` and returns both steps' coordinates on it:
by default the plane the two steps span, so both arrows lie in it exactly; with given
directions (say random filter-normalised ones) the steps are projected onto the plane.
:func:`plot_newton_landscape` draws the arrows on the contours.

Example:
    >>> import gradfit as gf
    >>> model = gf.nn.Linear(2, 1, bias=False)
    >>> with gf.no_grad():
    ...     _ = model.weight.copy_(gf.tensor([[0.0, 0.0]]))
    >>> X, y = gf.tensor([[1.0, 0.0], [0.0, 3.0]]), gf.tensor([[1.0], [3.0]])
    >>> loss_fn = lambda m: ((m(X) - y) ** 2).sum() / 2  # H = X^T X = diag(1, 9)
    >>> s = newton_step(model, loss_fn, lr=0.1)
    >>> s.newton.round(6).tolist()  # straight to the minimum w = (1, 1)
    [1.0, 1.0]
    >>> s.gradient.round(6).tolist()  # -lr * g = -0.1 * (-1, -9)
    [0.1, 0.9]
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from gradfit.viz._util import new_figure

__all__ = ["StepComparison", "newton_landscape", "newton_step", "plot_newton_landscape"]

EXACT_MAX_PARAMS = 400  # auto: the exact Hessian up to this many parameters, CG above


@dataclass
class StepComparison:
    """The gradient step and the Newton step at one point, as flat float64 vectors.

    Attributes:
        gradient: ``-lr * g``.
        newton: ``-H^-1 g`` (with ``damping``: ``-(H + damping I)^-1 g``; by CG: the
            iterate where it stopped).
        lr: the learning rate of the gradient step.
        method: ``"exact"`` or ``"cg"``.
        negative_curvature: ``H`` (plus damping) is not positive definite (exact: an
            eigenvalue <= 0; CG: it met a direction ``p`` with ``p.H.p <= 0`` and stopped).
        iterations: Hessian-vector products used.
        residual: ``|H s + g| / |g|`` of the Newton step (0 means solved exactly).
        loss: the loss at the point.

    Example:
        >>> s = StepComparison(np.ones(2), 2 * np.ones(2), 0.1, "exact", False, 2, 0.0, 1.0)
        >>> s.method
        'exact'
    """

    gradient: np.ndarray
    newton: np.ndarray
    lr: float
    method: str
    negative_curvature: bool
    iterations: int
    residual: float
    loss: float


class _Curvature:
    """Gradient and Hessian-vector products of ``loss_fn(model)`` at the current weights,
    on flat float64 vectors (the graph of the gradient is kept for the products)."""

    def __init__(self, model: Any, loss_fn: Callable[[Any], Any]) -> None:
        from gradfit.autograd import grad
        from gradfit.viz.landscape import _params

        self.params = _params(model)
        loss = loss_fn(model)
        if not hasattr(loss, "numel") or loss.numel() != 1:
            raise ValueError("newton_step: loss_fn(model) must return a scalar Tensor")
        if loss.grad_fn is None:
            raise ValueError(
                "newton_step: the loss does not depend on the parameters through a graph "
                "(was it computed under gf.no_grad()?)"
            )
        self.loss = float(loss.item())
        grads = grad(loss, self.params, create_graph=True, allow_unused=True)
        self.grads = list(grads)  # None where the loss ignores a parameter
        self.g = np.concatenate(
            [
                np.zeros(p.numel()) if g is None else np.asarray(g._data, np.float64).ravel()
                for p, g in zip(self.params, self.grads)
            ]
        )
        self.n, self.products = self.g.size, 0

    def hvp(self, v: np.ndarray) -> np.ndarray:
        from gradfit.autograd import grad
        from gradfit.tensor import Tensor

        dot, i = None, 0
        for p, g in zip(self.params, self.grads):
            k = p.numel()
            if g is not None:
                part = Tensor._wrap(v[i : i + k].reshape(p.shape).astype(g._data.dtype))
                term = (g * part).sum()
                dot = term if dot is None else dot + term
            i += k
        self.products += 1
        if dot is None:
            return np.zeros(self.n)
        hv = grad(dot, self.params, retain_graph=True, allow_unused=True)
        return np.concatenate(
            [
                np.zeros(p.numel()) if h is None else np.asarray(h._data, np.float64).ravel()
                for p, h in zip(self.params, hv)
            ]
        )


def _cg(curv: _Curvature, damping: float, max_iter: int, tol: float) -> tuple[np.ndarray, bool]:
    """Solve (H + damping I) s = -g by conjugate gradients; stop at negative curvature."""
    b = -curv.g
    s = np.zeros_like(b)
    r = b.copy()  # b - A s with s = 0
    p = r.copy()
    rr = float(r @ r)
    stop = tol * np.sqrt(rr)
    for _ in range(max_iter):
        if np.sqrt(rr) <= stop:
            break
        ap = curv.hvp(p) + damping * p
        curvature = float(p @ ap)
        if curvature <= 0:  # the quadratic model has no minimum along p
            return s, True
        alpha = rr / curvature
        s += alpha * p
        r -= alpha * ap
        rr_new = float(r @ r)
        p = r + (rr_new / rr) * p
        rr = rr_new
    return s, False


def newton_step(
    model: Any,
    loss_fn: Callable[[Any], Any],
    lr: float,
    method: str = "auto",
    damping: float = 0.0,
    max_iter: int = 100,
    tol: float = 1e-8,
) -> StepComparison:
    """The gradient step ``-lr * g`` and the Newton step ``-H^-1 g`` at the model's weights.

    Args:
        model: a ``gf.nn.Module``; its trainable parameters are the variables. Its weights
            are not changed; it is put in eval mode for the computation and its mode restored.
        loss_fn: ``loss_fn(model) -> scalar Tensor`` (recorded: not under ``gf.no_grad()``).
        lr: the gradient step's learning rate (> 0).
        method: ``"exact"`` (build ``H`` from one Hessian-vector product per parameter and
            solve), ``"cg"`` (conjugate gradients on Hessian-vector products, at most
            ``max_iter``, to a relative residual ``tol``) or ``"auto"`` (exact up to
            400 parameters).
        damping: ``lambda >= 0`` added to ``H``'s diagonal (a Levenberg-Marquardt step).

    Example:
        >>> import gradfit as gf
        >>> _ = gf.manual_seed(0)
        >>> model, X, y = gf.nn.Linear(3, 1), gf.randn(16, 3), gf.randn(16, 1)
        >>> loss_fn = lambda m: gf.nn.functional.mse_loss(m(X), y)
        >>> a = newton_step(model, loss_fn, lr=0.1, method="exact")
        >>> b = newton_step(model, loss_fn, lr=0.1, method="cg")
        >>> bool(np.allclose(a.newton, b.newton, atol=1e-4)), a.negative_curvature
        (True, False)
    """
    if not (isinstance(lr, int | float) and np.isfinite(lr) and lr > 0):
        raise ValueError(f"newton_step: lr must be a positive number, got {lr!r}")
    if method not in ("auto", "exact", "cg"):
        raise ValueError(f"newton_step: method must be 'auto', 'exact' or 'cg', got {method!r}")
    if not (np.isfinite(damping) and damping >= 0):
        raise ValueError(f"newton_step: damping must be >= 0, got {damping!r}")
    if max_iter < 1:
        raise ValueError(f"newton_step: max_iter must be at least 1, got {max_iter}")
    was_training = getattr(model, "training", None)
    if hasattr(model, "eval"):
        model.eval()
    try:
        curv = _Curvature(model, loss_fn)
        if method == "auto":
            method = "exact" if curv.n <= EXACT_MAX_PARAMS else "cg"
        if method == "exact":
            eye = np.eye(curv.n)
            H = np.stack([curv.hvp(eye[i]) for i in range(curv.n)])
            H = (H + H.T) / 2 + damping * eye  # symmetric up to rounding
            negative = bool(np.linalg.eigvalsh(H).min() <= 0)
            s = np.linalg.lstsq(H, -curv.g, rcond=None)[0]
            Hs = H @ s
        else:
            s, negative = _cg(curv, damping, max_iter, tol)
            Hs = curv.hvp(s) + damping * s
    finally:
        if was_training is not None and hasattr(model, "train"):
            model.train(was_training)
    gnorm = float(np.linalg.norm(curv.g))
    residual = float(np.linalg.norm(Hs + curv.g) / gnorm) if gnorm > 0 else 0.0
    return StepComparison(
        gradient=-lr * curv.g,
        newton=s,
        lr=float(lr),
        method=method,
        negative_curvature=negative,
        iterations=curv.products,
        residual=residual,
        loss=curv.loss,
    )


def _step_plane(steps: StepComparison) -> tuple[np.ndarray, np.ndarray]:
    """Orthonormal d1 along the gradient step, d2 along the Newton step's remainder."""
    g, s = steps.gradient, steps.newton
    d1 = g if np.linalg.norm(g) > 0 else s
    if np.linalg.norm(d1) == 0:
        raise ValueError("newton_landscape: the gradient is zero: a stationary point")
    d1 = d1 / np.linalg.norm(d1)
    rest = s - (s @ d1) * d1
    if np.linalg.norm(rest) <= 1e-9 * max(np.linalg.norm(s), 1e-300):  # parallel: any normal
        rest = np.random.default_rng(0).standard_normal(d1.size)
        rest -= (rest @ d1) * d1
    if np.linalg.norm(rest) == 0:  # one parameter: a line, drawn as a plane with a 0 axis
        return d1, np.zeros_like(d1)
    return d1, rest / np.linalg.norm(rest)


def newton_landscape(
    model: Any,
    loss_fn: Callable[[Any], Any],
    lr: float,
    directions: Any = None,
    steps: int = 21,
    margin: float = 0.3,
    **step_kwargs: Any,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, dict[str, tuple[float, float]], StepComparison]:
    """The loss on a plane through the weights, with the gradient and Newton steps on it.

    The plane is spanned by the two steps (unit, orthogonal directions: both arrows lie in
    it exactly and lengths are true distances in weight space) or by the two given
    ``directions`` (flat vectors or one array per parameter, as for
    :func:`gf.viz.loss_surface_2d <gradfit.viz.loss_surface_2d>`), onto which the steps are
    projected (least squares in the directions' coordinates). The grid covers both arrow
    tips plus ``margin``, with the same span on both axes. ``step_kwargs`` go to
    :func:`newton_step`.

    Returns:
        ``(alphas, betas, Z, arrows, steps)``: the grid and ``Z[j, i]`` as from
        ``loss_surface_2d``, ``arrows`` = ``{"gradient": (a, b), "newton": (a, b)}`` the
        steps' coordinates on the plane, and the :class:`StepComparison`.

    Example:
        >>> import gradfit as gf
        >>> _ = gf.manual_seed(0)
        >>> model, X, y = gf.nn.Linear(2, 1), gf.randn(16, 2), gf.randn(16, 1)
        >>> a, b, Z, arrows, s = newton_landscape(
        ...     model, lambda m: gf.nn.functional.mse_loss(m(X), y), lr=0.1, steps=5)
        >>> Z.shape, arrows["gradient"][1]
        ((5, 5), 0.0)
    """
    from gradfit.viz.landscape import _as_direction, _params, _unflatten, loss_surface_2d

    params = _params(model)
    comp = newton_step(model, loss_fn, lr, **step_kwargs)
    if directions is None:
        d1, d2 = _step_plane(comp)
        arrows = {
            "gradient": (float(comp.gradient @ d1), 0.0),
            "newton": (float(comp.newton @ d1), float(comp.newton @ d2)),
        }
        dirs = (_unflatten(d1, params), _unflatten(d2, params))
    else:
        if len(directions) != 2:
            raise ValueError("newton_landscape: directions must be a pair (d1, d2)")
        dirs = tuple(_as_direction(d, params) for d in directions)
        D = np.stack([np.concatenate([np.asarray(a, np.float64).ravel() for a in d]) for d in dirs])
        coef = np.linalg.lstsq(D.T, np.stack([comp.gradient, comp.newton], axis=1), rcond=None)[0]
        arrows = {
            "gradient": tuple(map(float, coef[:, 0])),
            "newton": tuple(map(float, coef[:, 1])),
        }
    reach = max(abs(v) for xy in arrows.values() for v in xy)
    span = reach * (1 + margin) if reach > 0 else 1.0
    alphas, betas, Z = loss_surface_2d(model, loss_fn, dirs, span=span, steps=steps)
    return alphas, betas, Z, arrows, comp


def plot_newton_landscape(
    alphas: np.ndarray,
    betas: np.ndarray,
    Z: np.ndarray,  # noqa: N803 - the usual name of a surface
    arrows: dict[str, tuple[float, float]],
    steps: StepComparison | None = None,
    ax: Any = None,
) -> Any:
    """Contours of the slice with arrows from the weights for the gradient step and the
    Newton step. Returns the Figure.

    Example:
        >>> a = np.linspace(-1, 1, 5)
        >>> fig = plot_newton_landscape(a, a, np.add.outer(a**2, 4 * a**2),
        ...                             {"gradient": (0.5, 0.0), "newton": (0.4, -0.3)})
        >>> [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
        ['gradient step -lr g', 'Newton step -H⁻¹ g']
    """
    from gradfit.viz.landscape import plot_surface_2d

    if ax is None:
        fig = new_figure(figsize=(6, 5))
        ax = fig.add_subplot()
    plot_surface_2d(alphas, betas, Z, ax=ax)
    labels = {"gradient": "gradient step -lr g", "newton": "Newton step -H⁻¹ g"}
    if steps is not None:  # the true lengths: one arrow is often far shorter than the other
        labels["gradient"] += f" (lr {steps.lr:.3g}, |s| = {np.linalg.norm(steps.gradient):.3g})"
        labels["newton"] += f" (|s| = {np.linalg.norm(steps.newton):.3g})"
    styles = {"gradient": ("white", labels["gradient"]), "newton": ("orange", labels["newton"])}
    for key, (color, label) in styles.items():
        if key not in arrows:
            continue
        a, b = arrows[key]
        ax.annotate(
            "", xy=(a, b), xytext=(0, 0),
            arrowprops={"arrowstyle": "-|>", "color": color, "lw": 2.2, "mutation_scale": 16},
        )  # fmt: skip
        ax.plot([a], [b], "o", color=color, mec="k", ms=5, label=label)
    ax.set_aspect("equal", adjustable="box")
    if arrows.get("gradient", (0.0, None))[1] == 0.0:  # the plane of the steps (the default)
        ax.set_xlabel("along -g (distance in weight space)")
        ax.set_ylabel("across, toward the Newton step")
    title = "Gradient step and Newton step"
    if steps is not None and steps.negative_curvature:
        title += "\n(H is not positive definite: " + (
            "the Newton step heads for a saddle)"
            if steps.method == "exact"
            else "CG stopped at negative curvature)"
        )
    ax.set_title(title, fontsize=10)
    ax.legend(fontsize=8, loc="upper left", framealpha=0.8)
    return ax.figure
