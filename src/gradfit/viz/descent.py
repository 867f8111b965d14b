"""Descent paths of the real optimizers on 2-D test functions, as contour plots and GIFs.

Each test function is a gradfit expression in ``x`` and ``y`` (it also evaluates NumPy
grids for the contours). :func:`descent_paths` puts a 2-element ``Parameter`` at a start
point and runs ``gf.optim`` optimizers on it, step by step, recording where they go;
:func:`plot_descent` draws the paths on the function's contours and
:func:`animate_descent` writes them as an animated GIF. The learning rate is the knob:
too small crawls along the valley of the ill-conditioned bowl, momentum speeds it up, too
large bounces across the valley and diverges.

Example:
    >>> import gradfit as gf
    >>> paths = gf.viz.descent_paths("bowl", steps=200, lr=0.4,
    ...                              optimizers={"GD": (gf.optim.SGD, {})})
    >>> [round(float(v), 4) + 0.0 for v in paths["GD"].points[-1]]
    [0.0, 0.0]
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from gradfit.viz._util import new_figure

__all__ = [
    "FUNCTIONS",
    "DescentPath",
    "TestFunction",
    "animate_descent",
    "default_optimizers",
    "descent_paths",
    "get_function",
    "plot_descent",
]


@dataclass
class TestFunction:
    """A 2-D function to minimise, with its plotting window, minima and suggested step sizes.

    ``f(x, y)`` uses only arithmetic operators, so it works on gradfit Tensors (for the
    optimizers) and on NumPy arrays (for the contours). ``lr`` maps optimizer name to a
    learning rate that shows it well.

    Example:
        >>> f = get_function("rosenbrock")
        >>> f(1.0, 1.0), f.global_min
        (0.0, (1.0, 1.0))
    """

    __test__ = False  # not a pytest test class

    name: str
    title: str
    f: Callable[[Any, Any], Any]
    xlim: tuple[float, float]
    ylim: tuple[float, float]
    minima: list[tuple[float, float]]
    start: tuple[float, float]
    lr: dict[str, float] = field(default_factory=dict)
    steps: int = 100

    @property
    def global_min(self) -> tuple[float, float]:
        """The lowest of ``minima``."""
        return min(self.minima, key=lambda m: float(self.f(np.float64(m[0]), np.float64(m[1]))))

    def __call__(self, x: Any, y: Any) -> Any:
        return self.f(x, y)


def _bowl(x: Any, y: Any) -> Any:
    return 0.1 * x**2 + 2.0 * y**2


def _rosenbrock(x: Any, y: Any) -> Any:
    return (1 - x) ** 2 + 100 * (y - x**2) ** 2


def _beale(x: Any, y: Any) -> Any:
    return (1.5 - x + x * y) ** 2 + (2.25 - x + x * y**2) ** 2 + (2.625 - x + x * y**3) ** 2


def _two_minima(x: Any, y: Any) -> Any:
    return (x**2 - 1) ** 2 + 0.3 * x + y**2


def _two_minima_points() -> list[tuple[float, float]]:
    # stationary points of (x^2-1)^2 + 0.3x in x: 4x^3 - 4x + 0.3 = 0; the outer two are minima
    r = np.sort(np.roots([4.0, 0.0, -4.0, 0.3]).real)
    return [(float(r[0]), 0.0), (float(r[2]), 0.0)]


_SGD_FAMILY = ("SGD", "Momentum", "Nesterov")

FUNCTIONS: dict[str, TestFunction] = {
    "bowl": TestFunction(
        "bowl",
        "ill-conditioned quadratic bowl 0.1x² + 2y² (condition number 20)",
        _bowl,
        (-5.0, 5.0),
        (-2.5, 2.5),
        [(0.0, 0.0)],
        (-4.5, 2.0),
        {"SGD": 0.05, "Momentum": 0.05, "Nesterov": 0.05, "RMSprop": 0.05, "Adam": 0.3},
    ),
    "rosenbrock": TestFunction(
        "rosenbrock",
        "Rosenbrock (1-x)² + 100(y-x²)²",
        _rosenbrock,
        (-2.0, 2.0),
        (-1.0, 3.0),
        [(1.0, 1.0)],
        (-1.2, 1.0),
        {"SGD": 1e-3, "Momentum": 2e-4, "Nesterov": 2e-4, "RMSprop": 1e-2, "Adam": 0.05},
        500,
    ),
    "beale": TestFunction(
        "beale",
        "Beale's function",
        _beale,
        (-1.0, 4.5),
        (-1.5, 2.0),
        [(3.0, 0.5)],
        (0.5, 1.5),
        {"SGD": 5e-3, "Momentum": 1e-3, "Nesterov": 1e-3, "RMSprop": 1e-3, "Adam": 0.05},
        300,
    ),
    "two_minima": TestFunction(
        "two_minima",
        "(x²-1)² + 0.3x + y²: a local and a global minimum",
        _two_minima,
        (-2.0, 2.0),
        (-1.5, 1.5),
        _two_minima_points(),
        (1.8, 1.2),
        {"SGD": 0.05, "Momentum": 0.05, "Nesterov": 0.05, "RMSprop": 0.05, "Adam": 0.1},
    ),
}
FUNCTIONS["quadratic"] = FUNCTIONS["bowl"]


def get_function(fn: str | TestFunction) -> TestFunction:
    """A test function by name (``bowl``/``quadratic``, ``rosenbrock``, ``beale``, ``two_minima``).

    Example:
        >>> get_function("beale").global_min
        (3.0, 0.5)
    """
    if isinstance(fn, TestFunction):
        return fn
    if isinstance(fn, str) and fn in FUNCTIONS:
        return FUNCTIONS[fn]
    raise ValueError(
        f"descent: unknown test function {fn!r}; choose one of {sorted(FUNCTIONS)} "
        "or pass a TestFunction"
    )


def default_optimizers(
    fn: str | TestFunction = "bowl", lr: float | None = None
) -> dict[str, tuple[type, dict[str, Any]]]:
    """SGD, momentum, Nesterov, RMSprop and Adam as ``name -> (class, kwargs)``.

    With ``lr`` None each gets the test function's suggested learning rate; with a number,
    all of them use it (the knob).

    Example:
        >>> opts = default_optimizers("bowl", lr=0.01)
        >>> sorted(opts), opts["Nesterov"][1]
        (['Adam', 'Momentum', 'Nesterov', 'RMSprop', 'SGD'], {'lr': 0.01, 'momentum': 0.9, 'nesterov': True})
    """
    from gradfit import optim

    f = get_function(fn)
    if lr is not None and not (isinstance(lr, int | float) and lr > 0):
        raise ValueError(f"descent: lr must be a positive number, got {lr!r}")

    def rate(name: str) -> float:
        return float(lr) if lr is not None else f.lr.get(name, 1e-2)

    return {
        "SGD": (optim.SGD, {"lr": rate("SGD")}),
        "Momentum": (optim.SGD, {"lr": rate("Momentum"), "momentum": 0.9}),
        "Nesterov": (optim.SGD, {"lr": rate("Nesterov"), "momentum": 0.9, "nesterov": True}),
        "RMSprop": (optim.RMSprop, {"lr": rate("RMSprop")}),
        "Adam": (optim.Adam, {"lr": rate("Adam")}),
    }


@dataclass
class DescentPath:
    """Where one optimizer went: ``points`` (steps+1, 2), ``losses`` (steps+1,), ``diverged``.

    Example:
        >>> p = DescentPath("GD", np.zeros((3, 2)), np.zeros(3))
        >>> p.steps, p.final_loss
        (2, 0.0)
    """

    name: str
    points: np.ndarray
    losses: np.ndarray
    diverged: bool = False

    @property
    def steps(self) -> int:
        """Steps taken (fewer than asked when it diverged)."""
        return len(self.points) - 1

    @property
    def final_loss(self) -> float:
        """The function's value at the last point."""
        return float(self.losses[-1])


def descent_paths(
    fn: str | TestFunction,
    start: tuple[float, float] | None = None,
    optimizers: Mapping[str, tuple[type, dict[str, Any]]] | None = None,
    steps: int | None = None,
    lr: float | None = None,
    max_norm: float = 1e6,
) -> dict[str, DescentPath]:
    """Run each optimizer from ``start`` on ``fn`` for ``steps`` steps and record the path.

    Args:
        fn: a test function or its name (see :data:`FUNCTIONS`).
        start: the starting point (default: the function's ``start``).
        optimizers: ``name -> (optimizer class, kwargs)``, e.g.
            ``{"SGD": (gf.optim.SGD, {"lr": 0.01})}``; default :func:`default_optimizers`.
            When ``lr`` is given it is used where kwargs give none.
        steps: optimizer steps per path (default: the function's ``steps``).
        lr: the learning rate (the knob); None uses the suggested ones.
        max_norm: a path whose point leaves this radius is stopped and marked diverged.

    The parameter is a float64 ``gf.nn.Parameter`` of 2 elements; each step is
    ``zero_grad()``, the forward expression, ``backward()`` and the optimizer's ``step()``.

    Example:
        >>> import gradfit as gf
        >>> out = gf.viz.descent_paths("bowl", steps=5, lr=0.6,
        ...                            optimizers={"GD": (gf.optim.SGD, {})})
        >>> out["GD"].points[:3, 1]  # y: 2 -> 2 - 0.6*4*2 = -2.8 -> 3.92: too large a step
        array([ 2.  , -2.8 ,  3.92])
    """
    from gradfit.autograd import no_grad
    from gradfit.nn import Parameter

    f = get_function(fn)
    if start is None:
        start = f.start
    start_arr = np.asarray(start, dtype=np.float64)
    if start_arr.shape != (2,) or not np.all(np.isfinite(start_arr)):
        raise ValueError(f"descent_paths: start must be two finite numbers, got {start!r}")
    if steps is None:
        steps = f.steps
    if not isinstance(steps, int) or steps < 0:
        raise ValueError(f"descent_paths: steps must be a non-negative int, got {steps!r}")
    if optimizers is None:
        optimizers = default_optimizers(f, lr)
    out: dict[str, DescentPath] = {}
    for name, spec in optimizers.items():
        try:
            cls, kwargs = spec
        except (TypeError, ValueError):
            raise TypeError(
                f"descent_paths: optimizers[{name!r}] must be (optimizer class, kwargs dict), "
                f"got {spec!r}"
            ) from None
        kwargs = dict(kwargs)
        if lr is not None:
            kwargs.setdefault("lr", lr)
        p = Parameter(start_arr.copy())
        opt = cls([p], **kwargs)
        points = [start_arr.copy()]
        losses: list[float] = []
        diverged = False
        for _ in range(steps):
            opt.zero_grad()
            loss = f(p[0], p[1])
            loss.backward()
            losses.append(float(loss.item()))
            with no_grad():
                opt.step()
            now = p._data.copy()
            if not np.all(np.isfinite(now)):
                diverged = True
                break
            points.append(now)
            if float(np.hypot(now[0], now[1])) > max_norm:
                diverged = True
                break
        last = points[-1]
        if len(losses) < len(points):
            losses.append(float(f(np.float64(last[0]), np.float64(last[1]))))
        out[name] = DescentPath(name, np.array(points), np.array(losses[: len(points)]), diverged)
    return out


def _contour(ax: Any, f: TestFunction, n: int = 200, levels: int = 30) -> None:
    xs = np.linspace(*f.xlim, n)
    ys = np.linspace(*f.ylim, n)
    X, Y = np.meshgrid(xs, ys)
    Z = np.asarray(f(X, Y), dtype=np.float64)
    # levels packed near the minimum (quantiles), so valleys and plateaus both show
    lv = np.unique(np.quantile(Z, np.linspace(0.0, 1.0, levels) ** 2.5))
    ax.contourf(X, Y, Z, levels=lv, cmap="viridis", alpha=0.55)
    ax.contour(X, Y, Z, levels=lv, colors="k", linewidths=0.3, alpha=0.5)
    ax.set_xlim(*f.xlim)
    ax.set_ylim(*f.ylim)
    ax.set_xlabel("x")
    ax.set_ylabel("y")


def _draw_paths(ax: Any, f: TestFunction, paths: Mapping[str, DescentPath], upto: int | None):
    import matplotlib

    colors = matplotlib.colormaps["tab10"]
    lines = []
    for k, (name, path) in enumerate(paths.items()):
        pts = path.points if upto is None else path.points[: upto + 1]
        note = " (diverged)" if path.diverged else f": f={path.final_loss:.3g}"
        (ln,) = ax.plot(
            pts[:, 0], pts[:, 1], "-o", ms=2.0, lw=1.4, color=colors(k % 10), label=name + note
        )
        lines.append(ln)
    return lines


def plot_descent(
    fn: str | TestFunction,
    paths: Mapping[str, DescentPath],
    ax: Any = None,
    title: str | None = None,
) -> Any:
    """Draw ``paths`` (from :func:`descent_paths`) on the contour plot of ``fn``.

    Returns the matplotlib Figure. Each path is one line (label: its name and final value);
    the start is a black dot, the minima are stars (the global one gold).

    Example:
        >>> import gradfit as gf
        >>> paths = gf.viz.descent_paths("rosenbrock", steps=20)
        >>> fig = gf.viz.plot_descent("rosenbrock", paths)
        >>> [ln.get_label().split(":")[0] for ln in fig.axes[0].lines[:2]]
        ['SGD', 'Momentum']
    """
    f = get_function(fn)
    if ax is None:
        fig = new_figure(figsize=(7, 5.5))
        ax = fig.add_subplot()
    else:
        fig = ax.figure
    _contour(ax, f)
    _draw_paths(ax, f, paths, None)
    _decorate(ax, f, paths, title)
    return fig


def _decorate(ax: Any, f: TestFunction, paths: Mapping[str, DescentPath], title: str | None):
    starts = {tuple(p.points[0]) for p in paths.values()}
    for s in starts:
        ax.plot([s[0]], [s[1]], "ko", ms=6, label="_start")
    g = f.global_min
    for m in f.minima:
        ax.plot([m[0]], [m[1]], "*", ms=14, mec="k", color="gold" if m == g else "white",
                label="_minimum")  # fmt: skip
    ax.set_title(title or f.title, fontsize=10)
    ax.legend(loc="upper right", fontsize=8, framealpha=0.85)


def animate_descent(
    fn: str | TestFunction,
    paths: Mapping[str, DescentPath],
    path: str | os.PathLike[str],
    fps: int = 12,
    max_frames: int = 60,
    dpi: int = 80,
) -> Path:
    """Write the paths as an animated GIF (matplotlib's ``PillowWriter``), atomically.

    Frame k shows every path up to step ``k * stride`` (at most ``max_frames`` frames).

    Example:
        >>> import os, tempfile, gradfit as gf
        >>> paths = gf.viz.descent_paths("bowl", steps=6)
        >>> out = gf.viz.animate_descent("bowl", paths, os.path.join(tempfile.mkdtemp(), "d.gif"))
        >>> out.suffix, out.stat().st_size > 0
        ('.gif', True)
    """
    from matplotlib.animation import PillowWriter

    f = get_function(fn)
    dest = Path(path)
    if dest.suffix.lower() != ".gif":
        raise ValueError(f"animate_descent: the file name must end in .gif, got {dest}")
    if not dest.parent.is_dir():
        raise FileNotFoundError(f"animate_descent: folder {dest.parent} does not exist")
    n = max((p.steps for p in paths.values()), default=0) + 1
    stride = max(1, -(-n // max_frames))
    frames = list(range(0, n, stride))
    if frames[-1] != n - 1:
        frames.append(n - 1)
    fig = new_figure(figsize=(6, 4.8))
    ax = fig.add_subplot()
    _contour(ax, f)
    lines = _draw_paths(ax, f, paths, 0)
    _decorate(ax, f, paths, None)
    fd, tmp = tempfile.mkstemp(dir=dest.parent, prefix=f".{dest.stem}.", suffix=".tmp.gif")
    os.close(fd)
    try:
        writer = PillowWriter(fps=fps)
        with writer.saving(fig, tmp, dpi):
            for k in frames:
                for ln, p in zip(lines, paths.values()):
                    pts = p.points[: k + 1]
                    ln.set_data(pts[:, 0], pts[:, 1])
                ax.set_title(f"{f.title}: step {k}", fontsize=10)
                writer.grab_frame()
        with open(tmp, "rb+") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp, dest)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return dest
