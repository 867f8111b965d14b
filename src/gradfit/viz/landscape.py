"""The loss landscape of a real model around its weights, and its training trajectory.

Following Li et al. (2018), "Visualizing the Loss Landscape of Neural Nets": draw random
directions in weight space, rescale each filter of each direction to the norm of the same
filter of the weights (*filter normalisation*, so layers of different scales are
comparable), and evaluate the loss at ``w + a*d1 (+ b*d2)`` on a grid of ``a`` (and ``b``).
A training trajectory (a list of flattened weight vectors) is projected onto a plane, by
PCA of the trajectory or onto two given directions, and drawn on the 2-D slice.

The weights are changed in place to evaluate the slice and are always restored, even if
the loss function raises. The model is put in eval mode for the evaluation and its mode
restored afterwards.

Example:
    >>> import gradfit as gf
    >>> _ = gf.manual_seed(0)
    >>> model = gf.nn.Linear(2, 1)
    >>> X, y = gf.randn(16, 2), gf.randn(16, 1)
    >>> loss_fn = lambda m: ((m(X) - y) ** 2).mean()
    >>> alphas, losses = gf.viz.loss_slice_1d(model, loss_fn, steps=5)
    >>> alphas.tolist()
    [-1.0, -0.5, 0.0, 0.5, 1.0]
    >>> bool(losses[2] == loss_fn(model).item())
    True
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import numpy as np

from gradfit.viz._util import new_figure

__all__ = [
    "Projection",
    "flatten_params",
    "loss_slice_1d",
    "loss_surface_2d",
    "plot_slice_1d",
    "plot_surface_2d",
    "project_trajectory",
    "random_directions",
    "trajectory_landscape",
]

Direction = list[np.ndarray]


def _params(model: Any) -> list[Any]:
    if not hasattr(model, "parameters"):
        raise TypeError(f"landscape: expected a gf.nn.Module, got {type(model).__name__}")
    ps = [p for p in model.parameters() if p.requires_grad]
    if not ps:
        raise ValueError("landscape: the model has no trainable parameters")
    return ps


def flatten_params(model: Any) -> np.ndarray:
    """All trainable parameters of ``model`` as one float64 vector (a copy).

    Call it after each epoch to record a training trajectory.

    Example:
        >>> import gradfit as gf
        >>> flatten_params(gf.nn.Linear(3, 2)).shape
        (8,)
    """
    return np.concatenate([np.asarray(p._data, np.float64).ravel() for p in _params(model)])


def _unflatten(vec: np.ndarray, params: Sequence[Any]) -> Direction:
    total = sum(p._data.size for p in params)
    vec = np.asarray(vec)
    if vec.shape != (total,):
        raise ValueError(
            f"landscape: a flat direction must have {total} elements (the model's trainable "
            f"parameters), got shape {vec.shape}"
        )
    out, i = [], 0
    for p in params:
        out.append(vec[i : i + p._data.size].reshape(p._data.shape).astype(p._data.dtype))
        i += p._data.size
    return out


def _as_direction(d: Any, params: Sequence[Any]) -> Direction:
    one_vector = len(params) == 1 and params[0]._data.ndim == 1
    if isinstance(d, np.ndarray) and d.ndim == 1 and params and not one_vector:
        return _unflatten(d, params)
    d = list(d)
    if len(d) != len(params) or any(np.shape(a) != p._data.shape for a, p in zip(d, params)):
        raise ValueError(
            "landscape: a direction must be a flat vector or one array per trainable parameter "
            f"with the same shapes ({[p._data.shape for p in params]})"
        )
    return [np.asarray(a, dtype=p._data.dtype) for a, p in zip(d, params)]


def random_directions(
    model: Any,
    n: int = 2,
    normalize: str = "filter",
    ignore_1d: bool = True,
    generator: np.random.Generator | None = None,
) -> list[Direction]:
    """``n`` random directions in the model's weight space, one array per parameter each.

    Args:
        normalize: ``"filter"``: each filter (slice along dim 0) of a direction gets the
            norm of the same filter of the weights (Li et al.); ``"layer"``: each
            parameter's direction gets that parameter's norm; ``"none"``: unit normal draws.
        ignore_1d: zero the direction for 1-D parameters (biases, norm scales), as Li et al.
        generator: the NumPy generator (default gradfit's, so ``gf.manual_seed`` applies).

    Example:
        >>> import gradfit as gf
        >>> lin = gf.nn.Linear(3, 2)
        >>> (d,) = random_directions(lin, n=1)
        >>> bool(np.allclose(np.linalg.norm(d[0], axis=1), np.linalg.norm(lin.weight.numpy(), axis=1)))
        True
        >>> d[1].tolist()
        [0.0, 0.0]
    """
    from gradfit.random import default_generator

    if normalize not in ("filter", "layer", "none"):
        raise ValueError(
            f"random_directions: normalize must be 'filter', 'layer' or 'none', got {normalize!r}"
        )
    rng = generator if generator is not None else default_generator()
    params = _params(model)
    dirs = []
    for _ in range(n):
        d: Direction = []
        for p in params:
            w = np.asarray(p._data, np.float64)
            r = rng.standard_normal(w.shape)
            if w.ndim <= 1 and ignore_1d:
                r = np.zeros_like(w)
            elif normalize == "filter" and w.ndim >= 2:
                axes = tuple(range(1, w.ndim))
                wn = np.sqrt((w * w).sum(axis=axes, keepdims=True))
                rn = np.sqrt((r * r).sum(axis=axes, keepdims=True))
                r = r * wn / np.maximum(rn, 1e-12)
            elif normalize in ("filter", "layer"):
                r = r * np.linalg.norm(w) / max(np.linalg.norm(r), 1e-12)
            d.append(r.astype(p._data.dtype))
        dirs.append(d)
    return dirs


@contextmanager
def _perturbing(model: Any):
    """Yield a function ``set(offsets)`` that sets w = w0 + offset; restore w0 and mode after."""
    params = _params(model)
    saved = [p._data.copy() for p in params]
    was_training = getattr(model, "training", None)
    if hasattr(model, "eval"):
        model.eval()

    def set_offsets(offsets: Sequence[np.ndarray | float]) -> None:
        for p, w0, off in zip(params, saved, offsets):
            np.add(w0, off, out=p._data, casting="unsafe")

    try:
        yield params, saved, set_offsets
    finally:
        for p, w0 in zip(params, saved):
            np.copyto(p._data, w0)
        if was_training is not None and hasattr(model, "train"):
            model.train(was_training)


def _loss_value(loss_fn: Callable[[Any], Any], model: Any) -> float:
    from gradfit.autograd import no_grad

    with no_grad():
        v = loss_fn(model)
    return float(v.item() if hasattr(v, "item") else v)


def _grid(span: float | tuple[float, float], steps: int, name: str) -> np.ndarray:
    if not isinstance(steps, int) or steps < 2:
        raise ValueError(f"{name}: steps must be an int >= 2, got {steps!r}")
    lo, hi = (-float(span), float(span)) if np.isscalar(span) else map(float, span)  # type: ignore[arg-type]
    if not lo < hi:
        raise ValueError(f"{name}: span must give lo < hi, got {span!r}")
    g = np.linspace(lo, hi, steps)
    if steps % 2 == 1 and lo == -hi:
        g[steps // 2] = 0.0  # exactly the trained weights
    return g


def loss_slice_1d(
    model: Any,
    loss_fn: Callable[[Any], Any],
    direction: Any = None,
    span: float | tuple[float, float] = 1.0,
    steps: int = 21,
    generator: np.random.Generator | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """The loss along ``w + a*d`` for ``a`` in ``linspace(-span, span, steps)``.

    Args:
        model: a ``gf.nn.Module`` (its trainable parameters are perturbed and restored).
        loss_fn: ``loss_fn(model) -> scalar`` (a Tensor or float), e.g.
            ``lambda m: F.cross_entropy(m(X), y)``; evaluated under ``gf.no_grad()``.
        direction: one array per parameter or a flat vector; default one filter-normalised
            random direction (:func:`random_directions`).
        span: half-width of the interval, or ``(lo, hi)``.
        steps: number of points (odd puts ``a = 0``, the trained weights, in the middle).

    Returns:
        ``(alphas, losses)`` as float64 arrays.
    """
    params = _params(model)
    d = (
        random_directions(model, 1, generator=generator)[0]
        if direction is None
        else _as_direction(direction, params)
    )
    alphas = _grid(span, steps, "loss_slice_1d")
    losses = np.empty(len(alphas))
    with _perturbing(model) as (_, _, set_offsets):
        for i, a in enumerate(alphas):
            set_offsets([a * di for di in d])
            losses[i] = _loss_value(loss_fn, model)
    return alphas, losses


def loss_surface_2d(
    model: Any,
    loss_fn: Callable[[Any], Any],
    directions: Any = None,
    span: float | tuple[float, float] = 1.0,
    steps: int = 21,
    span_y: float | tuple[float, float] | None = None,
    generator: np.random.Generator | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The loss on the plane ``w + a*d1 + b*d2``: returns ``(alphas, betas, Z)``.

    ``Z[j, i]`` is the loss at ``(alphas[i], betas[j])`` (the layout ``contour`` expects).
    ``directions`` is a pair of directions (per-parameter arrays or flat vectors); default
    two filter-normalised random ones. ``span_y`` defaults to ``span``.

    Example:
        >>> import gradfit as gf
        >>> _ = gf.manual_seed(0)
        >>> model = gf.nn.Linear(2, 1)
        >>> X, y = gf.randn(8, 2), gf.randn(8, 1)
        >>> a, b, Z = loss_surface_2d(model, lambda m: ((m(X) - y) ** 2).mean(), steps=3)
        >>> Z.shape, bool(Z[1, 1] == ((model(X) - y) ** 2).mean().item())
        ((3, 3), True)
    """
    params = _params(model)
    if directions is None:
        d1, d2 = random_directions(model, 2, generator=generator)
    else:
        if len(directions) != 2:
            raise ValueError("loss_surface_2d: directions must be a pair (d1, d2)")
        d1, d2 = (_as_direction(d, params) for d in directions)
    alphas = _grid(span, steps, "loss_surface_2d")
    betas = _grid(span if span_y is None else span_y, steps, "loss_surface_2d")
    Z = np.empty((len(betas), len(alphas)))
    with _perturbing(model) as (_, _, set_offsets):
        for j, b in enumerate(betas):
            for i, a in enumerate(alphas):
                set_offsets([a * x + b * y for x, y in zip(d1, d2)])
                Z[j, i] = _loss_value(loss_fn, model)
    return alphas, betas, Z


@dataclass
class Projection:
    """A trajectory projected on a plane.

    ``coords`` (T, 2) are the coordinates of each point relative to ``center`` along the
    unit-norm ``directions`` (2, n); ``explained`` is the fraction of the trajectory's
    variance each PCA direction explains (None for given directions).

    Example:
        >>> t = [np.array([0.0, 0.0, 0.0]), np.array([1.0, 0.0, 0.0]), np.array([2.0, 1.0, 0.0])]
        >>> p = project_trajectory(t)
        >>> p.coords.shape, bool(np.allclose(p.coords[-1], 0))
        ((3, 2), True)
    """

    coords: np.ndarray
    directions: np.ndarray
    center: np.ndarray
    explained: np.ndarray | None = None


def project_trajectory(
    trajectory: Sequence[np.ndarray],
    center: np.ndarray | None = None,
    directions: Any = None,
) -> Projection:
    """Project a list of flat parameter vectors onto a plane.

    Args:
        trajectory: the weights at each recorded time (:func:`flatten_params`), T >= 2.
        center: the origin of the plane (default the last point: the trained weights).
        directions: two flat vectors spanning the plane; default the two principal
            components of the trajectory's displacements from ``center`` (as Li et al.).
            Given directions are orthonormalised (Gram-Schmidt) and points are projected
            orthogonally onto the plane they span.

    Example:
        >>> t = [np.array([3.0, 4.0]), np.array([0.0, 0.0])]
        >>> project_trajectory(t, directions=[np.array([1.0, 0]), np.array([0, 2.0])]).coords[0]
        array([3., 4.])
    """
    T = np.asarray([np.asarray(v, np.float64).ravel() for v in trajectory])
    if T.ndim != 2 or len(T) < 2:
        raise ValueError(
            "project_trajectory: expected at least 2 parameter vectors of the same length"
        )
    c = T[-1].copy() if center is None else np.asarray(center, np.float64).ravel()
    if c.shape != T.shape[1:]:
        raise ValueError(f"project_trajectory: center has {c.size} elements, vectors {T.shape[1]}")
    M = T - c
    explained = None
    if directions is None:
        _, s, vt = np.linalg.svd(M - M.mean(axis=0), full_matrices=False)
        D = vt[:2]
        if D.shape[0] < 2:  # a 1-parameter model: pad with a zero direction
            D = np.vstack([D, np.zeros_like(D)])
        var = s**2
        explained = var[:2] / var.sum() if var.sum() > 0 else np.zeros(2)
    else:
        D = np.asarray([np.asarray(d, np.float64).ravel() for d in directions])
        if D.shape != (2, T.shape[1]):
            raise ValueError(
                f"project_trajectory: directions must be two vectors of {T.shape[1]} elements"
            )
        q, _ = np.linalg.qr(D.T)
        D = q.T * np.sign(np.sum(q.T * D, axis=1, keepdims=True) + 1e-300)
    coords = M @ D.T
    return Projection(coords, D, c, explained)


def trajectory_landscape(
    model: Any,
    loss_fn: Callable[[Any], Any],
    trajectory: Sequence[np.ndarray],
    steps: int = 21,
    margin: float = 0.25,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, Projection]:
    """The 2-D loss surface on the PCA plane of ``trajectory`` around the model's weights.

    The plane is centred at the model's current weights; the grid covers the projected
    trajectory plus ``margin``. Returns ``(alphas, betas, Z, projection)``; draw with
    ``plot_surface_2d(alphas, betas, Z, trajectory=projection.coords)``.
    """
    params = _params(model)
    center = flatten_params(model)
    proj = project_trajectory(trajectory, center=center)
    ext = np.abs(proj.coords).max(axis=0) * (1 + margin)
    ext = np.where(ext > 0, ext, 1.0)
    d1, d2 = (_unflatten(d, params) for d in proj.directions)
    a, b, Z = loss_surface_2d(
        model, loss_fn, (d1, d2), span=float(ext[0]), span_y=float(ext[1]), steps=steps
    )
    return a, b, Z, proj


def plot_slice_1d(alphas: np.ndarray, losses: np.ndarray, ax: Any = None, label: str = "loss"):
    """Plot a 1-D loss slice; the trained weights (a = 0) are marked. Returns the Figure.

    Example:
        >>> fig = plot_slice_1d(np.array([-1.0, 0.0, 1.0]), np.array([2.0, 1.0, 3.0]))
        >>> fig.axes[0].lines[0].get_ydata().tolist()
        [2.0, 1.0, 3.0]
    """
    if ax is None:
        fig = new_figure(figsize=(5, 3.5))
        ax = fig.add_subplot()
    ax.plot(alphas, losses, "-", lw=1.8, label=label)
    i0 = int(np.argmin(np.abs(alphas)))
    ax.plot([alphas[i0]], [losses[i0]], "o", color="crimson", label="trained weights")
    ax.set_xlabel("step along the direction (a)")
    ax.set_ylabel("loss")
    ax.set_title("1-D slice of the loss landscape", fontsize=10)
    ax.legend(fontsize=8)
    return ax.figure


def plot_surface_2d(
    alphas: np.ndarray,
    betas: np.ndarray,
    Z: np.ndarray,  # noqa: N803 - the usual name of a surface
    trajectory: np.ndarray | None = None,
    ax: Any = None,
    levels: int = 25,
):
    """Contours of a 2-D loss slice, with an optional projected trajectory. Returns the Figure.

    Example:
        >>> a = np.linspace(-1, 1, 5)
        >>> fig = plot_surface_2d(a, a, np.add.outer(a**2, a**2), trajectory=np.array([[1.0, 1], [0, 0]]))
        >>> fig.axes[0].lines[0].get_xydata().tolist()
        [[1.0, 1.0], [0.0, 0.0]]
    """
    if ax is None:
        fig = new_figure(figsize=(5.5, 4.5))
        ax = fig.add_subplot()
    A, B = np.meshgrid(alphas, betas)
    cs = ax.contourf(A, B, Z, levels=levels, cmap="viridis")
    ax.contour(A, B, Z, levels=levels, colors="k", linewidths=0.3, alpha=0.5)
    ax.figure.colorbar(cs, ax=ax, label="loss")
    if trajectory is not None:
        tr = np.asarray(trajectory)
        ax.plot(tr[:, 0], tr[:, 1], "-o", color="white", mec="k", ms=4, lw=1.5, label="training")
        ax.legend(fontsize=8)
    ax.plot([0], [0], "*", color="crimson", ms=12, label="_trained")
    ax.set_xlabel("direction 1")
    ax.set_ylabel("direction 2")
    ax.set_title("2-D slice of the loss landscape", fontsize=10)
    return ax.figure
