"""Simple models on the same split, to tell whether the network was worth it.

:func:`baselines` fits scikit-learn's logistic regression (classification) or linear and
ridge regression (regression), a decision tree, a random forest and the majority-class /
mean predictor on the training split, and measures them on the test split: accuracy for
classification, RMSE and R² for regression. For ratings data ``(user, item) -> rating``
it fits the global mean and the regularised user/item-bias model instead. Images are
flattened. scikit-learn is imported only when :func:`baselines` runs.

:func:`baselines_table` (rich) and :func:`format_baselines` (plain text) show the rows
beside the network's own result.

Example:
    >>> import numpy as np
    >>> from gradfit.train.baselines import baselines, format_baselines
    >>> rng = np.random.default_rng(0)
    >>> x = rng.normal(size=(200, 2)).astype(np.float32)
    >>> y = (x[:, 0] > 0).astype(np.int64)
    >>> rows = baselines((x[:150], y[:150], x[150:], y[150:]))
    >>> [(r["name"], r["accuracy"] > 0.9) for r in rows]
    [('majority class', False), ('logistic regression', True), ('decision tree', True), ('random forest', True)]
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from gradfit.train import metrics as _metrics

__all__ = ["baselines", "baselines_table", "format_baselines"]

_TASKS = ("classification", "regression", "ratings")


def _split_arrays(
    data: Any,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, str | None, dict]:
    """(X_train, y_train, X_test, y_test, task or None, extra info) from a dataset or a tuple."""
    if isinstance(data, (tuple, list)):
        if len(data) != 4:
            raise ValueError(
                "baselines: data must be a dataset from gf.data.load_dataset or a tuple "
                f"(X_train, y_train, X_test, y_test); got a sequence of {len(data)} items"
            )
        arrays = [
            _np(a, name)
            for a, name in zip(data, ("X_train", "y_train", "X_test", "y_test"), strict=True)
        ]
        return (*arrays, None, {})  # type: ignore[return-value]
    train, test = getattr(data, "train", None), getattr(data, "test", None)
    if train is None or test is None:
        raise TypeError(
            "baselines: data must be a dataset from gf.data.load_dataset (with .train and .test "
            f"splits) or a tuple (X_train, y_train, X_test, y_test), got {type(data).__name__}"
        )
    desc = getattr(data, "description", None)
    extra = dict(getattr(desc, "extra", {}) or {})
    task = getattr(data, "task", None)
    return (
        _np(train[0], "train inputs"),
        _np(train[1], "train targets"),
        _np(test[0], "test inputs"),
        _np(test[1], "test targets"),
        task,
        extra,
    )


def _np(a: Any, name: str) -> np.ndarray:
    arr = (
        a._data
        if hasattr(a, "data") and isinstance(getattr(a, "data", None), np.ndarray)
        else np.asarray(a)
    )
    if arr.dtype.kind not in "biuf":
        raise TypeError(f"baselines: {name} must be numeric, got dtype {arr.dtype}")
    return arr


def _infer_task(y: np.ndarray) -> str:
    return "classification" if y.dtype.kind in "iub" else "regression"


def _timed(fit: Callable[[], Any]) -> float:
    start = time.perf_counter()
    fit()
    return time.perf_counter() - start


def _subsample(
    x: np.ndarray, y: np.ndarray, limit: int | None, seed: int
) -> tuple[np.ndarray, np.ndarray]:
    if limit is None or len(y) <= limit:
        return x, y
    idx = np.sort(np.random.default_rng(seed).choice(len(y), size=limit, replace=False))
    return x[idx], y[idx]


def _classification(
    xtr: np.ndarray, ytr: np.ndarray, xte: np.ndarray, yte: np.ndarray, seed: int
) -> list[dict[str, Any]]:
    from sklearn.dummy import DummyClassifier
    from sklearn.ensemble import RandomForestClassifier
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler
    from sklearn.tree import DecisionTreeClassifier

    models = [
        ("majority class", DummyClassifier(strategy="most_frequent")),
        ("logistic regression", make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000))),
        ("decision tree", DecisionTreeClassifier(random_state=seed)),
        ("random forest", RandomForestClassifier(n_estimators=100, n_jobs=1, random_state=seed)),
    ]
    rows = []
    for name, model in models:
        fit_time = _timed(lambda m=model: m.fit(xtr, ytr))
        rows.append(
            {
                "name": name,
                "accuracy": _metrics.accuracy(model.predict(xte), yte),
                "fit_time": fit_time,
            }
        )
    return rows


def _regression(
    xtr: np.ndarray, ytr: np.ndarray, xte: np.ndarray, yte: np.ndarray, seed: int
) -> list[dict[str, Any]]:
    from sklearn.dummy import DummyRegressor
    from sklearn.ensemble import RandomForestRegressor
    from sklearn.linear_model import LinearRegression, Ridge
    from sklearn.tree import DecisionTreeRegressor

    models = [
        ("mean", DummyRegressor(strategy="mean")),
        ("linear regression", LinearRegression()),
        ("ridge regression", Ridge(alpha=1.0)),
        ("decision tree", DecisionTreeRegressor(random_state=seed)),
        ("random forest", RandomForestRegressor(n_estimators=100, n_jobs=1, random_state=seed)),
    ]
    rows = []
    for name, model in models:
        fit_time = _timed(lambda m=model: m.fit(xtr, ytr))
        pred = model.predict(xte)
        rows.append(
            {
                "name": name,
                "rmse": _metrics.rmse(pred, yte),
                "r2": _metrics.r2_score(pred, yte),
                "fit_time": fit_time,
            }
        )
    return rows


def _fit_biases(
    users: np.ndarray,
    items: np.ndarray,
    r: np.ndarray,
    n_users: int,
    n_items: int,
    reg: float,
    iters: int,
) -> tuple[float, np.ndarray, np.ndarray]:
    """Regularised user/item biases by alternating least squares (Koren's baseline predictor)."""
    mu = float(r.mean())
    bu, bi = np.zeros(n_users), np.zeros(n_items)
    n_u = np.bincount(users, minlength=n_users)
    n_i = np.bincount(items, minlength=n_items)
    for _ in range(iters):
        bi = np.bincount(items, weights=r - mu - bu[users], minlength=n_items) / (reg + n_i)
        bu = np.bincount(users, weights=r - mu - bi[items], minlength=n_users) / (reg + n_u)
    return mu, bu, bi


def _ratings(
    xtr: np.ndarray,
    ytr: np.ndarray,
    xte: np.ndarray,
    yte: np.ndarray,
    extra: dict,
    reg: float = 5.0,
) -> list[dict[str, Any]]:
    for name, x in (("train", xtr), ("test", xte)):
        if x.ndim != 2 or x.shape[1] != 2 or x.dtype.kind not in "iu":
            raise ValueError(
                f"baselines: ratings {name} inputs must be integer (user, item) pairs of shape (N, 2), "
                f"got {x.dtype} {x.shape}"
            )
    n_users = int(extra.get("n_users", 0)) or int(max(xtr[:, 0].max(), xte[:, 0].max())) + 1
    n_items = int(extra.get("n_items", 0)) or int(max(xtr[:, 1].max(), xte[:, 1].max())) + 1
    r = ytr.astype(np.float64).reshape(-1)
    u, i = xtr[:, 0].astype(np.int64), xtr[:, 1].astype(np.int64)
    ut, it = xte[:, 0].astype(np.int64), xte[:, 1].astype(np.int64)
    rows = []
    start = time.perf_counter()
    mu = float(r.mean())
    t_mean = time.perf_counter() - start
    pred = np.full(len(yte), mu)
    rows.append(
        {
            "name": "global mean",
            "rmse": _metrics.rmse(pred, yte),
            "r2": _metrics.r2_score(pred, yte),
            "fit_time": t_mean,
        }
    )
    start = time.perf_counter()
    mu, bu, bi = _fit_biases(u, i, r, n_users, n_items, reg, iters=10)
    t_bias = time.perf_counter() - start
    pred = mu + bu[ut] + bi[it]
    rows.append(
        {
            "name": "user/item bias",
            "rmse": _metrics.rmse(pred, yte),
            "r2": _metrics.r2_score(pred, yte),
            "fit_time": t_bias,
        }
    )
    return rows


def baselines(
    data: Any, task: str | None = None, seed: int = 0, max_train_samples: int | None = 20000
) -> list[dict[str, Any]]:
    """Fit simple models on the training split and score them on the test split.

    Args:
        data: what ``gf.data.load_dataset(...)`` returns, or a tuple
            ``(X_train, y_train, X_test, y_test)`` of arrays.
        task: ``"classification"``, ``"regression"`` or ``"ratings"``; by default the
            dataset's own task, or for tuples classification when the targets are integers.
        seed: ``random_state`` of the tree models and of the subsample.
        max_train_samples: fit on at most this many training samples (a seeded random
            subset; each row's ``n_train`` says how many were used), so that a large
            dataset such as MNIST stays quick. ``None`` uses all.

    Returns:
        One dict per model: ``name``, the test metric(s) (``accuracy``; or ``rmse`` and
        ``r2``), ``fit_time`` in seconds and ``n_train``.

    Example:
        >>> import numpy as np
        >>> from gradfit.train.baselines import baselines
        >>> x = np.arange(40, dtype=np.float32).reshape(20, 2)
        >>> y = x.sum(1) * 2 + 1
        >>> rows = baselines((x[:15], y[:15], x[15:], y[15:]), task="regression")
        >>> [r["name"] for r in rows]
        ['mean', 'linear regression', 'ridge regression', 'decision tree', 'random forest']
        >>> rows[1]["rmse"] < 1e-3, round(rows[1]["r2"], 6)
        (True, 1.0)
    """
    xtr, ytr, xte, yte, data_task, extra = _split_arrays(data)
    task = task or data_task or _infer_task(ytr)
    if task not in _TASKS:
        raise ValueError(f"baselines: unknown task {task!r}; valid tasks: {', '.join(_TASKS)}")
    if len(xtr) != len(ytr) or len(xte) != len(yte):
        raise ValueError(
            f"baselines: inputs and targets differ in length (train {len(xtr)} vs {len(ytr)}, "
            f"test {len(xte)} vs {len(yte)})"
        )
    if len(ytr) == 0 or len(yte) == 0:
        raise ValueError("baselines: the training and test splits must not be empty")
    if max_train_samples is not None and (
        isinstance(max_train_samples, bool)
        or not isinstance(max_train_samples, int)
        or max_train_samples < 1
    ):
        raise ValueError(
            f"baselines: max_train_samples must be a positive integer or None, got {max_train_samples!r}"
        )
    if task == "ratings":
        rows = _ratings(xtr, ytr, xte, yte, extra)
        n_train = len(ytr)
    else:
        xtr, ytr = _subsample(xtr, ytr, max_train_samples, seed)
        n_train = len(ytr)
        xtr, xte = xtr.reshape(len(xtr), -1), xte.reshape(len(xte), -1)  # images -> rows
        if task == "classification":
            if ytr.dtype.kind == "f":
                if not np.array_equal(ytr, np.rint(ytr)):
                    raise ValueError(
                        "baselines: classification targets must be integer class labels"
                    )
                ytr, yte = ytr.astype(np.int64), yte.astype(np.int64)
            rows = _classification(xtr, ytr.reshape(-1), xte, yte.reshape(-1), seed)
        else:
            if ytr.ndim == 2 and ytr.shape[1] == 1:
                ytr, yte = ytr.reshape(-1), yte.reshape(-1)
            rows = _regression(xtr, ytr, xte, yte, seed)
    for row in rows:
        row["n_train"] = n_train
    return rows


# ---------------------------------------------------------------------------- rendering
_HIGHER_BETTER = {"accuracy": True, "rmse": False, "r2": True, "mae": False, "mse": False}
_LABELS = {
    "accuracy": "test accuracy",
    "rmse": "test RMSE",
    "r2": "test R²",
    "fit_time": "fit time",
}


def _columns(rows: Sequence[dict[str, Any]]) -> list[str]:
    cols: list[str] = []
    for row in rows:
        for key in row:
            if key not in ("name", "fit_time", "n_train") and key not in cols:
                cols.append(key)
    return cols


def _cell(key: str, value: Any) -> str:
    if value is None:
        return "-"
    if key == "fit_time":
        return f"{value:.2f} s"
    if key == "accuracy":
        return f"{100 * value:.2f}%"
    if isinstance(value, float):
        return f"{round(value, 4) + 0.0:.4f}"  # + 0.0 turns -0.0 into 0.0
    return str(value)


def _all_rows(
    rows: Sequence[dict[str, Any]], network: dict[str, Any] | None
) -> list[dict[str, Any]]:
    out = list(rows)
    if network is not None:
        net = dict(network)
        net.setdefault("name", "network")
        out = [net, *out]
    return out


def _best(rows: Sequence[dict[str, Any]], col: str) -> Any:
    values = [r[col] for r in rows if isinstance(r.get(col), (int, float))]
    if not values:
        return None
    return max(values) if _HIGHER_BETTER.get(col, True) else min(values)


def format_baselines(rows: Sequence[dict[str, Any]], network: dict[str, Any] | None = None) -> str:
    """A plain-text table of baseline rows, with the network's row (if given) first.

    ``network`` is a dict like a row: ``{"name": "network (mlp)", "accuracy": 0.97,
    "fit_time": 12.0}``. The best value of each metric is marked with ``*``.

    Example:
        >>> rows = [{"name": "majority class", "accuracy": 0.1, "fit_time": 0.001}]
        >>> print(format_baselines(rows, {"name": "network", "accuracy": 0.97, "fit_time": 9.5}))
        model           test accuracy  fit time
        network               97.00%*    9.50 s
        majority class        10.00%     0.00 s
    """
    table = _all_rows(rows, network)
    cols = _columns(table)
    best = {c: _best(table, c) for c in cols}
    # metric cells end in a mark column ("*" or " "); headers get a blank there to align
    head = ["model", *(_LABELS.get(c, c) + " " for c in cols), "fit time"]
    body = []
    for r in table:
        cells = [str(r.get("name", "?"))]
        for c in cols:
            mark = "*" if best[c] is not None and r.get(c) == best[c] else " "
            cells.append(_cell(c, r.get(c)) + mark)
        cells.append(_cell("fit_time", r.get("fit_time")))
        body.append(cells)
    grid = [head, *body]
    widths = [max(len(row[i]) for row in grid) for i in range(len(head))]
    lines = [
        "  ".join(
            [row[0].ljust(widths[0]), *(row[i].rjust(widths[i]) for i in range(1, len(row)))]
        ).rstrip()
        for row in grid
    ]
    return "\n".join(lines)


def baselines_table(
    rows: Sequence[dict[str, Any]],
    network: dict[str, Any] | None = None,
    title: str | None = "Baselines",
) -> Any:
    """A ``rich.table.Table`` of the rows with the network's row first and best values in bold.

    Example:
        >>> rows = [{"name": "mean", "rmse": 2.0, "r2": 0.0, "fit_time": 0.0}]
        >>> baselines_table(rows, {"name": "network", "rmse": 0.5, "r2": 0.9}).row_count
        2
    """
    from rich.table import Table

    table = _all_rows(rows, network)
    cols = _columns(table)
    best = {c: _best(table, c) for c in cols}
    t = Table(title=title)
    t.add_column("model")
    for c in cols:
        t.add_column(_LABELS.get(c, c), justify="right")
    t.add_column("fit time", justify="right")
    for k, r in enumerate(table):
        cells = [str(r.get("name", "?"))]
        for c in cols:
            text = _cell(c, r.get(c))
            cells.append(
                f"[bold]{text}[/bold]" if best[c] is not None and r.get(c) == best[c] else text
            )
        cells.append(_cell("fit_time", r.get("fit_time")))
        t.add_row(*cells, end_section=network is not None and k == 0)
    return t
