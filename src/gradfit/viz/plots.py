"""Plots of training and of what a model learned, each returning a matplotlib Figure.

Training dynamics: loss and metric curves from a :class:`gradfit.train.History`, the
learning-rate schedule, per-layer histograms of weights, activations or gradients across
epochs, and per-layer gradient norms (vanishing or exploding gradients). What a model
learned: decision boundaries on 2-D data, a 1-D curve fit with the ReLU kinks marked,
first-layer weights as images, a confusion matrix and the most-confused examples.

Figures are not registered with pyplot (nothing to close); save with ``fig.savefig``.

Example:
    >>> from gradfit.train import History
    >>> h = History([{"epoch": 1, "train_loss": 1.0, "val_loss": 1.2},
    ...              {"epoch": 2, "train_loss": 0.5, "val_loss": 0.8}])
    >>> fig = plot_history(h)
    >>> [ln.get_label() for ln in fig.axes[0].lines]
    ['train', 'validation']
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

from gradfit.viz._util import new_figure, save_figure

__all__ = [
    "grad_norms",
    "layer_snapshot",
    "most_confused",
    "plot_confusion_matrix",
    "plot_curve_fit",
    "plot_curves",
    "plot_decision_boundary",
    "plot_first_layer_weights",
    "plot_grad_norms",
    "plot_histograms",
    "plot_history",
    "plot_lr",
    "plot_lr_finder",
    "plot_most_confused",
    "relu_kinks",
    "save_figure",
]


def _grid_axes(n: int, ncols: int, size: tuple[float, float]) -> tuple[Any, list[Any]]:
    ncols = max(1, min(ncols, n))
    nrows = -(-n // ncols)
    fig = new_figure(figsize=(size[0] * ncols, size[1] * nrows))
    axes = [fig.add_subplot(nrows, ncols, i + 1) for i in range(n)]
    return fig, axes


def _integer_ticks(ax: Any) -> None:
    from matplotlib.ticker import MaxNLocator

    ax.xaxis.set_major_locator(MaxNLocator(integer=True))


def _rows(history: Any) -> list[dict[str, Any]]:
    rows = getattr(history, "rows", history)
    if not isinstance(rows, list) or not all(isinstance(r, Mapping) for r in rows):
        raise TypeError(
            f"expected a gf.train.History or a list of per-epoch dicts, got {type(history).__name__}"
        )
    if not rows:
        raise ValueError("the History is empty: train at least one epoch first")
    return rows


def _column(rows: list[dict[str, Any]], key: str) -> np.ndarray:
    return np.array([float(r.get(key, np.nan)) for r in rows], dtype=np.float64)


def plot_history(history: Any, metrics: Sequence[str] | None = None) -> Any:
    """Loss and metric curves, train and validation, one panel per quantity.

    Args:
        history: a ``gf.train.History`` (or its rows): columns ``train_<q>``/``val_<q>``.
        metrics: the quantities to draw (default ``loss`` and every other ``train_``/``val_``
            column). Panel i is quantity i; its lines are ``train`` then ``validation``.

    Example:
        >>> from gradfit.train import History
        >>> h = History([{"epoch": 1, "train_loss": 1.0, "train_accuracy": 0.5}])
        >>> [ax.get_title() for ax in plot_history(h).axes]
        ['loss', 'accuracy']
    """
    rows = _rows(history)
    keys: list[str] = []
    for r in rows:
        keys += [k for k in r if k not in keys]
    if metrics is None:
        qs: list[str] = []
        for k in keys:
            for pre in ("train_", "val_"):
                if k.startswith(pre) and k[len(pre) :] not in qs:
                    qs.append(k[len(pre) :])
        metrics = sorted(qs, key=lambda q: q != "loss")
    if not metrics:
        raise ValueError(f"plot_history: no train_/val_ columns in the History (has {keys})")
    if "epoch" not in keys:
        rows = [{**r, "epoch": i + 1} for i, r in enumerate(rows)]
    fig, axes = _grid_axes(len(metrics), 3, (4.2, 3.2))
    for ax, q in zip(axes, metrics):
        plot_curves(rows, q, ax=ax)
    return fig


def plot_curves(history: Any, metric: str = "loss", ax: Any = None) -> Any:
    """One quantity per epoch: ``train_<metric>`` and ``val_<metric>`` (when recorded).

    Example:
        >>> from gradfit.train import History
        >>> h = History([{"epoch": 1, "train_loss": 1.0, "val_loss": 1.5},
        ...              {"epoch": 2, "train_loss": 0.6, "val_loss": 0.9}])
        >>> fig = plot_curves(h, "loss")
        >>> [ln.get_ydata().tolist() for ln in fig.axes[0].lines]
        [[1.0, 0.6], [1.5, 0.9]]
    """
    rows = _rows(history)
    if ax is None:
        fig = new_figure(figsize=(5, 3.5))
        ax = fig.add_subplot()
    epochs = (
        _column(rows, "epoch") if all("epoch" in r for r in rows) else np.arange(1.0, len(rows) + 1)
    )
    drawn = False
    for pre, label, style in (("train_", "train", "-o"), ("val_", "validation", "-s")):
        if any(pre + metric in r for r in rows):
            ax.plot(epochs, _column(rows, pre + metric), style, ms=3, label=label)
            drawn = True
    if not drawn:
        raise ValueError(f"plot_curves: the History has no train_{metric} or val_{metric} column")
    ax.set_xlabel("epoch")
    _integer_ticks(ax)
    ax.set_ylabel(metric)
    ax.set_title(metric)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    return ax.figure


def plot_lr(history: Any, ax: Any = None) -> Any:
    """The learning rate per epoch (a History with an ``lr`` column) or per step (a list).

    Example:
        >>> fig = plot_lr([0.1, 0.05, 0.025])
        >>> fig.axes[0].lines[0].get_ydata().tolist()
        [0.1, 0.05, 0.025]
    """
    if isinstance(history, Sequence) and not isinstance(history, str) and history and not isinstance(history[0], Mapping):  # fmt: skip
        lrs = np.asarray(history, dtype=np.float64)
        xs = np.arange(len(lrs))
        xlabel = "step"
    else:
        rows = _rows(history)
        if not any("lr" in r for r in rows):
            raise ValueError("plot_lr: the History has no 'lr' column")
        lrs = _column(rows, "lr")
        xs = (
            _column(rows, "epoch")
            if all("epoch" in r for r in rows)
            else np.arange(1, len(rows) + 1)
        )
        xlabel = "epoch"
    if ax is None:
        fig = new_figure(figsize=(4.5, 3.2))
        ax = fig.add_subplot()
    ax.plot(xs, lrs, "-", lw=1.8)
    ax.set_xlabel(xlabel)
    _integer_ticks(ax)
    ax.set_ylabel("learning rate")
    ax.set_title("learning-rate schedule")
    ax.grid(alpha=0.3)
    return ax.figure


def plot_lr_finder(result: Any, ax: Any = None) -> Any:
    """The learning-rate range test: smoothed loss against lr (log scale), the suggestion marked.

    ``result`` is what :func:`gradfit.optim.lr_finder.find_lr` returns. The dashed line is
    its suggested lr (where the loss falls fastest), drawn when there is one.

    Example:
        >>> from gradfit.optim.lr_finder import LRFinderResult
        >>> r = LRFinderResult(lrs=[1e-3, 1e-2, 1e-1], losses=[2.0, 1.5, 3.0],
        ...                    raw_losses=[2.0, 1.5, 3.0], suggestion=1e-2, best_lr=1e-2)
        >>> fig = plot_lr_finder(r)
        >>> fig.axes[0].get_xscale(), len(fig.axes[0].lines)
        ('log', 2)
    """
    if not hasattr(result, "lrs") or not hasattr(result, "losses"):
        raise TypeError(
            f"plot_lr_finder: expected what find_lr returns (lrs, losses, suggestion), "
            f"got {type(result).__name__}"
        )
    if ax is None:
        fig = new_figure(figsize=(5, 3.5))
        ax = fig.add_subplot()
    ax.plot(result.lrs, result.losses, lw=1.8, label="smoothed loss")
    if result.suggestion is not None:
        ax.axvline(
            result.suggestion, color="tab:red", ls="--", label=f"suggested {result.suggestion:.2g}"
        )
    ax.set(xscale="log", xlabel="learning rate", ylabel="smoothed loss", title="LR range test")
    ax.legend()
    ax.grid(alpha=0.3)
    return ax.figure


# ----------------------------------------------------------------------- layer statistics
def layer_snapshot(model: Any, x: Any = None) -> dict[str, dict[str, np.ndarray]]:
    """Copies of a model's weights and gradients per parameter, and activations per layer.

    With ``x``, activations of any ``gf.nn.Module`` are recorded by forward hooks
    during one pass ``model(x)`` in evaluation mode under ``gf.no_grad()``: for a
    ``Sequential`` the output of each direct child (keys ``"0"``, ``"1"``, ... or the
    children's names); for any other model the output of each leaf module (one without
    sub-modules) under its dotted name, such as ``"conv1"`` or ``"block.fc"``; a model
    without sub-modules gives its own output as ``"output"``. Only layers that are
    modules are seen (``x.relu()`` inside ``forward`` is not one). A module used in
    several places records its k-th call under its k-th name; further calls, and
    outputs that are not tensors, are skipped. Afterwards every module's training mode
    is restored and the hooks removed, also when the forward pass fails. Call it once
    per epoch and pass the list to :func:`plot_histograms`.

    Args:
        model: a ``gf.nn.Module`` (for weights and gradients, anything with
            ``named_parameters()``).
        x: an input batch for the activations; None records weights and gradients only.

    Returns:
        ``{"weights": {...}, "grads": {...}, "activations": {...}}``, each mapping a name
        to a NumPy array copy; ``grads`` holds the parameters that have a gradient.

    Example:
        >>> import gradfit as gf
        >>> net = gf.nn.Sequential(gf.nn.Linear(2, 4), gf.nn.ReLU())
        >>> snap = layer_snapshot(net, gf.randn(3, 2))
        >>> sorted(snap["weights"]), sorted(snap["activations"])
        (['0.bias', '0.weight'], ['0', '1'])
        >>> acts = layer_snapshot(gf.models.cnn1d(), gf.randn(3, 40))["activations"]
        >>> {name: a.shape for name, a in acts.items()}
        {'conv1': (3, 25, 19), 'conv2': (3, 25, 10), 'conv3': (3, 25, 5), 'linear': (3, 10)}
    """
    from gradfit.autograd import no_grad
    from gradfit.nn import Module, Sequential
    from gradfit.tensor import Tensor

    if x is not None and not isinstance(model, Module):
        raise TypeError(
            f"layer_snapshot: activations need a gf.nn.Module, got {type(model).__name__}; "
            "pass x=None for weights and gradients only"
        )
    snap: dict[str, dict[str, np.ndarray]] = {"weights": {}, "grads": {}, "activations": {}}
    for name, p in model.named_parameters():
        snap["weights"][name] = np.array(p._data, copy=True)
        if p.grad is not None:
            snap["grads"][name] = np.array(p.grad._data, copy=True)
    if x is None:
        return snap
    if isinstance(model, Sequential):
        layers = [(n, m) for n, m in model._modules.items() if m is not None]
    else:
        layers = [
            (n, m)
            for n, m in model.named_modules(remove_duplicate=False)
            if n and not any(c is not None for c in m._modules.values())
        ]
    if not layers:
        layers = [("output", model)]
    names: dict[int, list[str]] = {}  # a shared module has several names, one per use
    for name, m in layers:
        names.setdefault(id(m), []).append(name)
    calls: dict[int, int] = {}
    recorded: dict[str, np.ndarray] = {}

    def record(module: Any, args: tuple[Any, ...], output: Any) -> None:
        k = calls.get(id(module), 0)
        calls[id(module)] = k + 1
        own = names[id(module)]
        if k < len(own) and isinstance(output, Tensor):
            recorded[own[k]] = np.array(output._data, copy=True)

    modes = [(m, m.training) for m in model.modules()]
    handles = []
    try:
        for _, m in layers:
            if id(m) not in calls:  # one hook per module, however many names it has
                calls[id(m)] = 0
                handles.append(m.register_forward_hook(record))
        model.eval()
        with no_grad():
            model(x)
    finally:
        for h in handles:
            h.remove()
        for m, mode in modes:
            m.training = mode
    snap["activations"] = {n: recorded[n] for n, _ in layers if n in recorded}
    return snap


def plot_histograms(
    snapshots: Sequence[Mapping[str, Any]],
    kind: str = "weights",
    labels: Sequence[Any] | None = None,
    bins: int = 40,
    layers: Sequence[str] | None = None,
) -> Any:
    """Per-layer histograms across epochs: one panel per layer, one outline per snapshot.

    Args:
        snapshots: from :func:`layer_snapshot`, one per epoch (or dicts name -> array).
        kind: ``"weights"``, ``"grads"`` or ``"activations"``.
        labels: a label per snapshot (default ``epoch 1..n``); colours go dark to light.

    Example:
        >>> snaps = [{"weights": {"w": np.zeros(5)}}, {"weights": {"w": np.ones(5)}}]
        >>> fig = plot_histograms(snaps)
        >>> fig.axes[0].get_title(), len(fig.axes[0].patches)
        ('w (weights)', 2)
    """
    import matplotlib

    if kind not in ("weights", "grads", "activations"):
        raise ValueError(
            f"plot_histograms: kind must be weights, grads or activations, got {kind!r}"
        )
    if not snapshots:
        raise ValueError("plot_histograms: no snapshots")
    dicts = [s.get(kind, s) for s in snapshots]
    names = list(layers) if layers is not None else list(dicts[-1])
    if not names:
        raise ValueError(f"plot_histograms: the snapshots hold no {kind}")
    labels = list(labels) if labels is not None else [f"epoch {i + 1}" for i in range(len(dicts))]
    cmap = matplotlib.colormaps["viridis"]
    fig, axes = _grid_axes(len(names), 3, (4.0, 2.8))
    for ax, name in zip(axes, names):
        vals = [np.asarray(d[name], np.float64).ravel() for d in dicts if name in d]
        lo = min(float(v.min()) for v in vals)
        hi = max(float(v.max()) for v in vals)
        edges = np.linspace(lo, hi if hi > lo else lo + 1e-8, bins + 1)
        for k, (v, lab) in enumerate(zip(vals, labels)):
            c = cmap(k / max(1, len(vals) - 1) * 0.9)
            ax.hist(v, bins=edges, histtype="step", color=c, label=str(lab), lw=1.2)
        ax.set_title(f"{name} ({kind})", fontsize=9)
        ax.tick_params(labelsize=7)
    axes[0].legend(fontsize=7)
    return fig


def grad_norms(model: Any) -> dict[str, float]:
    """The L2 norm of each parameter's gradient (after ``backward()``), by name.

    Example:
        >>> import gradfit as gf
        >>> lin = gf.nn.Linear(2, 1)
        >>> lin(gf.ones(1, 2)).sum().backward()
        >>> grad_norms(lin)["bias"]
        1.0
    """
    return {
        n: float(np.linalg.norm(np.asarray(p.grad._data, np.float64)))
        for n, p in model.named_parameters()
        if p.grad is not None
    }


def plot_grad_norms(
    records: Mapping[str, float] | Sequence[Mapping[str, float]],
    labels: Sequence[Any] | None = None,
    weights_only: bool = True,
) -> Any:
    """Gradient norm per layer, input side on the left, on a log scale: one line per record.

    Gradients shrinking towards the input (left) are vanishing; growing, exploding.

    Args:
        records: a dict name -> norm (:func:`grad_norms`), or a list of them (per epoch).
        weights_only: leave out 1-D parameters (biases, norm scales).

    Example:
        >>> fig = plot_grad_norms({"0.weight": 1e-4, "2.weight": 1e-2, "4.weight": 1.0})
        >>> fig.axes[0].lines[0].get_ydata().tolist()
        [0.0001, 0.01, 1.0]
    """
    recs = [records] if isinstance(records, Mapping) else list(records)
    if not recs:
        raise ValueError("plot_grad_norms: no records")
    names = [n for n in recs[-1] if not weights_only or not n.endswith("bias")]
    if not names:
        names = list(recs[-1])
    labels = list(labels) if labels is not None else [f"epoch {i + 1}" for i in range(len(recs))]
    fig = new_figure(figsize=(max(4.5, 0.6 * len(names) + 2), 3.6))
    ax = fig.add_subplot()
    xs = np.arange(len(names))
    for r, lab in zip(recs, labels):
        ys = np.array([r.get(n, np.nan) for n in names], dtype=np.float64)
        ax.plot(xs, ys, "-o", ms=4, label=str(lab))
    ax.set_yscale("log")
    ax.set_xticks(xs, names, rotation=45, ha="right", fontsize=8)
    ax.set_ylabel("gradient norm")
    ax.set_title("gradient norm per layer (input side left)", fontsize=10)
    ax.grid(alpha=0.3, which="both")
    if len(recs) > 1:
        ax.legend(fontsize=7)
    return fig


# ------------------------------------------------------------------- what a model learned
def _predict(model: Any, X: np.ndarray) -> np.ndarray:  # noqa: N803
    from gradfit.autograd import no_grad
    from gradfit.tensor import Tensor

    was = getattr(model, "training", None)
    if was is not None:
        model.eval()
    try:
        with no_grad():
            out = model(Tensor(X.astype(np.float32)))
    finally:
        if was is not None:
            model.train(was)
    return np.asarray(out._data, dtype=np.float64)


def plot_decision_boundary(
    model: Any,
    X: Any,  # noqa: N803 - data matrix, as scikit-learn
    y: Any,
    ax: Any = None,
    resolution: int = 150,
    title: str | None = None,
) -> Any:
    """The classes a model predicts over the plane, with the data points on top.

    Multi-class outputs are argmax-ed; a single output is a logit (class 1 where > 0).
    Call it on saved weights of several epochs (one ``ax`` each) to watch the boundary form.

    Example:
        >>> import gradfit as gf
        >>> X = np.array([[-1.0, 0.0], [1.0, 0.0]]); y = np.array([0, 1])
        >>> lin = gf.nn.Linear(2, 1)
        >>> lin.weight.data = gf.tensor([[1.0, 0.0]])
        >>> _ = lin.bias.data.zero_()
        >>> fig = plot_decision_boundary(lin, X, y, resolution=5)
        >>> fig.axes[0].collections[-1].get_offsets().tolist()
        [[-1.0, 0.0], [1.0, 0.0]]
    """
    X = np.asarray(getattr(X, "data", X), dtype=np.float64)
    y = np.asarray(getattr(y, "data", y))
    if X.ndim != 2 or X.shape[1] != 2:
        raise ValueError(f"plot_decision_boundary: X must have shape (N, 2), got {X.shape}")
    pad = 0.1 * (X.max(axis=0) - X.min(axis=0) + 1e-9)
    (x0, y0), (x1, y1) = X.min(axis=0) - pad, X.max(axis=0) + pad
    gx, gy = np.meshgrid(np.linspace(x0, x1, resolution), np.linspace(y0, y1, resolution))
    out = _predict(model, np.c_[gx.ravel(), gy.ravel()])
    pred = (out[:, 0] > 0).astype(int) if out.ndim == 1 or out.shape[1] == 1 else out.argmax(1)
    ncls = int(max(pred.max(), y.max() if y.size else 0)) + 1
    if ax is None:
        fig = new_figure(figsize=(4.8, 4.2))
        ax = fig.add_subplot()
    ax.contourf(gx, gy, pred.reshape(gx.shape), levels=np.arange(ncls + 1) - 0.5, cmap="coolwarm" if ncls == 2 else "tab10", alpha=0.3)  # fmt: skip
    ax.scatter(X[:, 0], X[:, 1], c=y, cmap="coolwarm" if ncls == 2 else "tab10", s=14, edgecolors="k", linewidths=0.4, vmin=0, vmax=max(1, ncls - 1))  # fmt: skip
    ax.set_xlim(x0, x1)
    ax.set_ylim(y0, y1)
    ax.set_title(title or "decision boundary", fontsize=10)
    return ax.figure


def relu_kinks(
    f: Callable[[np.ndarray], np.ndarray],
    lo: float,
    hi: float,
    n: int = 4001,
    tol: float = 1e-3,
    eps: float = float(np.finfo(np.float32).eps),
) -> np.ndarray:
    """Where a piecewise-linear 1-D function (a ReLU network) changes slope, in [lo, hi].

    ``f`` maps an array of x to an array of y. The function is sampled on ``n`` points;
    where the slope changes between neighbouring cells, the kink is placed where the two
    lines meet. Kinks closer together than the grid spacing merge. A slope change counts
    when it exceeds ``tol`` times the largest slope and the rounding noise of values
    computed with machine epsilon ``eps`` (float32 by default, as networks compute).

    Example:
        >>> relu_kinks(lambda x: np.maximum(x - 0.3, 0) + np.maximum(-x - 0.5, 0), -1, 1).round(3)
        array([-0.5,  0.3])
    """
    x = np.linspace(lo, hi, n)
    yv = np.asarray(f(x), dtype=np.float64).ravel()
    s = np.diff(yv) / np.diff(x)
    ds = np.abs(np.diff(s))
    noise = 64 * eps * max(1.0, float(np.abs(yv).max())) / float(x[1] - x[0])
    thresh = max(tol * max(1.0, float(np.abs(s).max())), noise)
    idx = np.nonzero(ds > thresh)[0]
    kinks: list[float] = []
    i = 0
    while i < len(idx):  # a kink inside cell j changes the slope of cells j and j+1 at once
        j = idx[i]
        run = [j]
        while i + 1 < len(idx) and idx[i + 1] == run[-1] + 1:
            i += 1
            run.append(idx[i])
        a, b = run[0], run[-1] + 1  # slopes s[a] (left line) and s[b] (right line)
        if abs(s[b] - s[a]) > thresh:
            xk = (yv[b] - s[b] * x[b] - yv[a] + s[a] * x[a]) / (s[a] - s[b])
            kinks.append(float(np.clip(xk, x[a], x[b + 1])))
        i += 1
    return np.array(kinks)


def plot_curve_fit(
    model: Any,
    x: Any,
    y: Any,
    ax: Any = None,
    target: Callable[[np.ndarray], np.ndarray] | None = None,
    n: int = 2001,
) -> Any:
    """A network fitting a 1-D curve, with its ReLU pieces: the kinks are marked.

    The model maps ``(N, 1)`` to ``(N, 1)``. The line labelled ``"ReLU kinks"`` holds the
    x where the fitted function changes slope (:func:`relu_kinks`); for one hidden layer
    of ReLUs they are the points ``-b_i / w_i`` of the hidden units.

    Example:
        >>> import gradfit as gf
        >>> net = gf.nn.Sequential(gf.nn.Linear(1, 3), gf.nn.ReLU(), gf.nn.Linear(3, 1))
        >>> x = np.linspace(-1, 1, 9)
        >>> fig = plot_curve_fit(net, x, x ** 2)
        >>> [ln.get_label() for ln in fig.axes[0].lines][:2]
        ['data', 'network']
    """
    x = np.asarray(getattr(x, "data", x), dtype=np.float64).ravel()
    y = np.asarray(getattr(y, "data", y), dtype=np.float64).ravel()
    lo, hi = float(x.min()), float(x.max())
    xs = np.linspace(lo, hi, n)

    def f(v: np.ndarray) -> np.ndarray:
        return _predict(model, v.reshape(-1, 1)).ravel()

    ys = f(xs)
    kinks = relu_kinks(f, lo, hi, n=n)
    if ax is None:
        fig = new_figure(figsize=(6, 3.8))
        ax = fig.add_subplot()
    ax.plot(x, y, ".", color="gray", ms=5, label="data")
    ax.plot(xs, ys, "-", color="C0", lw=1.8, label="network")
    if target is not None:
        ax.plot(xs, target(xs), "--", color="k", lw=1, label="target")
    ky = f(kinks) if len(kinks) else np.array([])
    ax.plot(kinks, ky, "v", color="crimson", ms=6, label="ReLU kinks")
    for k in kinks:
        ax.axvline(k, color="crimson", lw=0.4, alpha=0.35)
    ax.set_title(f"curve fit: {len(kinks)} linear pieces joined at ReLU kinks", fontsize=10)
    ax.legend(fontsize=8)
    return ax.figure


def plot_first_layer_weights(
    weights: Any, image_shape: tuple[int, ...] | None = None, max_units: int = 64, ncols: int = 8
) -> Any:
    """First-layer weights as images: one tile per hidden unit (or conv filter).

    ``weights`` is a model (its first parameter with 2+ dims is used), a Parameter or an
    array ``(units, inputs)`` or ``(filters, C, kH, kW)``. ``image_shape`` reshapes a row
    (e.g. ``(8, 8)`` for digits, ``(28, 28)`` for MNIST); default a square if it is one.
    Each tile's colours are symmetric around zero (red positive, blue negative).

    Example:
        >>> w = np.arange(8.0).reshape(2, 4)
        >>> fig = plot_first_layer_weights(w, image_shape=(2, 2))
        >>> fig.axes[1].images[0].get_array().tolist()
        [[4.0, 5.0], [6.0, 7.0]]
    """
    if hasattr(weights, "named_parameters"):
        cand = [p for _, p in weights.named_parameters() if p._data.ndim >= 2]
        if not cand:
            raise ValueError("plot_first_layer_weights: the model has no weight matrix")
        weights = cand[0]
    W = np.asarray(getattr(weights, "data", weights), dtype=np.float64)
    if W.ndim == 4:  # conv filters: show channel 0 (or the mean over channels)
        tiles = W.mean(axis=1) if W.shape[1] > 1 else W[:, 0]
    elif W.ndim == 2:
        if image_shape is None:
            side = math.isqrt(W.shape[1])
            if side * side != W.shape[1]:
                raise ValueError(
                    f"plot_first_layer_weights: rows of {W.shape[1]} inputs are not square; "
                    "pass image_shape"
                )
            image_shape = (side, side)
        if int(np.prod(image_shape)) != W.shape[1]:
            raise ValueError(
                f"plot_first_layer_weights: image_shape {image_shape} does not hold "
                f"{W.shape[1]} inputs"
            )
        tiles = W.reshape(W.shape[0], *image_shape)
        if tiles.ndim == 4:  # (C, H, W) images: average the channels
            tiles = tiles.mean(axis=1)
    else:
        raise ValueError(f"plot_first_layer_weights: expected a 2-D or 4-D weight, got {W.shape}")
    tiles = tiles[:max_units]
    fig, axes = _grid_axes(len(tiles), ncols, (1.2, 1.2))
    for k, (ax, t) in enumerate(zip(axes, tiles)):
        m = float(np.abs(t).max()) or 1.0
        ax.imshow(t, cmap="RdBu_r", vmin=-m, vmax=m, interpolation="nearest")
        ax.set_axis_off()
        ax.set_title(str(k), fontsize=7)
    fig.suptitle("first-layer weights", fontsize=10)
    return fig


def plot_confusion_matrix(
    cm: Any, class_names: Sequence[str] | None = None, normalize: bool = False, ax: Any = None
) -> Any:
    """A confusion matrix (rows: true class, columns: predicted) with the counts written in.

    Example:
        >>> fig = plot_confusion_matrix([[5, 1], [0, 4]], class_names=["a", "b"])
        >>> fig.axes[0].images[0].get_array().tolist()
        [[5.0, 1.0], [0.0, 4.0]]
        >>> [t.get_text() for t in fig.axes[0].texts]
        ['5', '1', '0', '4']
    """
    cm = np.asarray(cm, dtype=np.float64)
    if cm.ndim != 2 or cm.shape[0] != cm.shape[1]:
        raise ValueError(f"plot_confusion_matrix: expected a square matrix, got shape {cm.shape}")
    k = cm.shape[0]
    names = list(class_names) if class_names is not None else [str(i) for i in range(k)]
    if len(names) != k:
        raise ValueError(f"plot_confusion_matrix: {len(names)} class names for {k} classes")
    shown = cm / np.maximum(cm.sum(axis=1, keepdims=True), 1) if normalize else cm
    if ax is None:
        fig = new_figure(figsize=(1.0 + 0.45 * k + 2, 0.45 * k + 2))
        ax = fig.add_subplot()
    im = ax.imshow(shown, cmap="Blues", interpolation="nearest")
    ax.figure.colorbar(im, ax=ax, fraction=0.046)
    thresh = shown.max() / 2 if shown.size else 0
    if k <= 30:
        for i in range(k):
            for j in range(k):
                txt = f"{shown[i, j]:.2f}" if normalize else f"{int(cm[i, j])}"
                ax.text(j, i, txt, ha="center", va="center", fontsize=8,
                        color="white" if shown[i, j] > thresh else "black")  # fmt: skip
    ax.set_xticks(range(k), names, rotation=45 if k > 6 else 0, fontsize=8)
    ax.set_yticks(range(k), names, fontsize=8)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    acc = np.trace(cm) / cm.sum() if cm.sum() else float("nan")
    ax.set_title(f"confusion matrix (accuracy {acc:.3f})", fontsize=10)
    return ax.figure


def most_confused(targets: Any, probs: Any, k: int = 16) -> np.ndarray:
    """Indices of the ``k`` misclassified examples the model was most sure about.

    ``probs`` are class probabilities (or logits) ``(N, C)``; examples are ranked by the
    probability the model gave to its (wrong) prediction, highest first.

    Example:
        >>> p = np.array([[0.9, 0.1], [0.2, 0.8], [0.4, 0.6], [0.3, 0.7]])
        >>> most_confused([1, 1, 0, 0], p, k=2).tolist()
        [0, 3]
    """
    t = np.asarray(getattr(targets, "data", targets)).ravel().astype(np.int64)
    P = np.asarray(getattr(probs, "data", probs), dtype=np.float64)
    if P.ndim != 2 or len(P) != len(t):
        raise ValueError(
            f"most_confused: probs must be (N, C) with N = {len(t)} targets, got {P.shape}"
        )
    pred = P.argmax(1)
    wrong = np.nonzero(pred != t)[0]
    conf = P[wrong, pred[wrong]]
    order = np.argsort(-conf, kind="stable")
    return wrong[order[:k]]


def plot_most_confused(
    images: Any,
    targets: Any,
    probs: Any,
    k: int = 16,
    image_shape: tuple[int, ...] | None = None,
    class_names: Sequence[str] | None = None,
    ncols: int = 8,
) -> Any:
    """The most-confused test examples as images, titled ``true -> predicted (prob)``.

    Example:
        >>> imgs = np.zeros((3, 4)); p = np.array([[0.9, 0.1], [0.1, 0.9], [0.8, 0.2]])
        >>> fig = plot_most_confused(imgs, [1, 1, 0], p, image_shape=(2, 2))
        >>> [ax.get_title() for ax in fig.axes]
        ['1 -> 0 (0.90)']
    """
    X = np.asarray(getattr(images, "data", images), dtype=np.float64)
    P = np.asarray(getattr(probs, "data", probs), dtype=np.float64)
    t = np.asarray(getattr(targets, "data", targets)).ravel().astype(np.int64)
    idx = most_confused(t, P, k)
    names = list(class_names) if class_names is not None else None
    if len(idx) == 0:
        fig = new_figure(figsize=(4, 1.5))
        fig.text(0.5, 0.5, "no misclassified examples", ha="center", va="center")
        return fig
    fig, axes = _grid_axes(len(idx), ncols, (1.4, 1.5))
    for ax, i in zip(axes, idx):
        img = X[i]
        if image_shape is not None:
            img = img.reshape(image_shape)
        elif img.ndim == 1:
            side = math.isqrt(img.size)
            img = img.reshape(side, side) if side * side == img.size else img[None, :]
        if img.ndim == 3:  # (C, H, W)
            img = img[0] if img.shape[0] == 1 else np.moveaxis(img, 0, -1)
        ax.imshow(img, cmap="gray" if img.ndim == 2 else None, interpolation="nearest")
        ax.set_axis_off()
        p = int(P[i].argmax())
        tn = names[t[i]] if names else str(t[i])
        pn = names[p] if names else str(p)
        ax.set_title(f"{tn} -> {pn} ({P[i, p]:.2f})", fontsize=7)
    return fig
