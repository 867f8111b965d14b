"""Evaluation metrics for classification and regression, and a streaming accumulator.

Every metric takes ``(outputs, targets)`` in that order (like a loss, and like
``torchmetrics``; scikit-learn's order is the reverse, ``(y_true, y_pred)``). Inputs are
NumPy arrays, gradfit Tensors or anything ``np.asarray`` accepts; results are Python
floats (or NumPy arrays for per-class values). Everything is vectorised.

Classification ``outputs`` are either scores ``(N, C)`` (logits or probabilities; the
prediction is the arg-max), a single binary logit ``(N, 1)`` (class 1 where it is > 0),
or predicted labels ``(N,)``. ``targets`` are integer labels ``(N,)``.

:class:`MetricAccumulator` collects the same numbers over mini-batches: classification
metrics from an integer confusion matrix (so they equal the whole-set values exactly),
regression metrics from float64 sums (equal up to summation order, ~1e-15 relative).

Example:
    >>> import numpy as np
    >>> from gradfit.train.metrics import accuracy, get_metric
    >>> logits = np.array([[2.0, 0.1], [0.3, 0.9], [1.0, 0.0]])
    >>> accuracy(logits, np.array([0, 1, 1]))
    0.6666666666666666
    >>> get_metric("rmse")(np.array([1.0, 2.0]), np.array([1.0, 4.0]))
    1.4142135623730951
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np

from gradfit.tensor import Tensor

__all__ = [
    "MetricAccumulator",
    "accuracy",
    "confusion_matrix",
    "f1_score",
    "get_metric",
    "list_metrics",
    "mae",
    "metric_mode",
    "mse",
    "precision",
    "precision_recall_f1",
    "predicted_labels",
    "r2_score",
    "recall",
    "rmse",
    "top_k_accuracy",
]


# ---------------------------------------------------------------------------- inputs
def _array(x: Any, who: str, what: str) -> np.ndarray:
    if isinstance(x, Tensor):
        return x._data
    if hasattr(x, "detach") and hasattr(x, "cpu"):  # a torch tensor, duck-typed
        x = x.detach().cpu().numpy()
    try:
        arr = np.asarray(x)
    except (TypeError, ValueError) as e:
        raise TypeError(f"{who}: cannot read {what} as an array ({e})") from None
    if arr.dtype.kind not in "biuf":
        raise TypeError(f"{who}: {what} must be numeric, got dtype {arr.dtype}")
    return arr


def _int_labels(arr: np.ndarray, who: str, what: str) -> np.ndarray:
    if arr.dtype.kind in "iub":
        return arr.astype(np.int64, copy=False)
    rounded = np.rint(arr)
    if not np.array_equal(rounded, arr):
        raise ValueError(
            f"{who}: {what} must be integer class labels, got non-integer values "
            f"(pass scores of shape (N, C) as outputs to take their arg-max)"
        )
    return rounded.astype(np.int64)


def predicted_labels(
    outputs: Any, targets: Any, who: str = "metric"
) -> tuple[np.ndarray, np.ndarray]:
    """Flat integer ``(predictions, targets)`` from classification outputs and targets.

    Scores ``(..., C)`` with ``C >= 2`` give their arg-max; a single logit ``(..., 1)``
    gives ``logit > 0``; outputs with the targets' shape are taken as labels.

    Example:
        >>> import numpy as np
        >>> predicted_labels(np.array([[0.1, 0.9], [0.8, 0.2]]), np.array([1, 1]))
        (array([1, 0]), array([1, 1]))
    """
    out = _array(outputs, who, "outputs")
    tgt = _int_labels(_array(targets, who, "targets"), who, "targets")
    if out.ndim == tgt.ndim + 1 and out.shape[:-1] == tgt.shape:
        if out.shape[-1] >= 2:
            pred = out.argmax(axis=-1)
        elif out.shape[-1] == 1:
            pred = (out[..., 0] > 0).astype(np.int64)
        else:
            raise ValueError(f"{who}: outputs have 0 classes (shape {out.shape})")
    elif out.shape == tgt.shape:
        pred = _int_labels(out, who, "outputs (same shape as targets, so read as labels)")
    else:
        raise ValueError(
            f"{who}: outputs of shape {out.shape} do not match targets of shape {tgt.shape} "
            "(expected scores (N, C) or labels (N,) for targets (N,))"
        )
    pred, tgt = pred.reshape(-1).astype(np.int64, copy=False), tgt.reshape(-1)
    if tgt.size == 0:
        raise ValueError(f"{who}: no samples (empty outputs and targets)")
    if tgt.min() < 0 or pred.min() < 0:
        raise ValueError(
            f"{who}: class labels must be non-negative, got {min(tgt.min(), pred.min())}"
        )
    return pred, tgt


# ---------------------------------------------------------------------------- classification
def accuracy(outputs: Any, targets: Any) -> float:
    """Fraction of samples whose predicted class equals the target.

    Example:
        >>> import numpy as np
        >>> accuracy(np.array([1, 0, 2, 2]), np.array([1, 1, 2, 2]))
        0.75
    """
    pred, tgt = predicted_labels(outputs, targets, "accuracy")
    return int(np.count_nonzero(pred == tgt)) / tgt.size


def _topk_hits(outputs: Any, targets: Any, k: int, who: str) -> tuple[int, int]:
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 1:
        raise ValueError(f"{who}: k must be a positive integer, got {k!r}")
    out = _array(outputs, who, "outputs")
    tgt = _int_labels(_array(targets, who, "targets"), who, "targets").reshape(-1)
    if out.ndim < 2 or out.shape[-1] < 2:
        raise ValueError(
            f"{who}: outputs must be scores of shape (N, C) with C >= 2, got {out.shape}"
        )
    out = out.reshape(-1, out.shape[-1])
    if out.shape[0] != tgt.size:
        raise ValueError(f"{who}: {out.shape[0]} rows of outputs for {tgt.size} targets")
    if tgt.size == 0:
        raise ValueError(f"{who}: no samples (empty outputs and targets)")
    if tgt.min() < 0 or tgt.max() >= out.shape[1]:
        raise ValueError(
            f"{who}: targets must be in [0, {out.shape[1]}), got {tgt.min()}..{tgt.max()}"
        )
    true_score = np.take_along_axis(out, tgt[:, None], axis=1)
    above = np.count_nonzero(out > true_score, axis=1)
    return int(np.count_nonzero(above < k)), int(tgt.size)


def top_k_accuracy(outputs: Any, targets: Any, k: int = 5) -> float:
    """Fraction of samples whose target is among the ``k`` highest scores.

    A sample counts as a hit when fewer than ``k`` classes score strictly higher than
    the target class (ties are resolved in the target's favour). ``k >= C`` gives 1.0.

    Example:
        >>> import numpy as np
        >>> scores = np.array([[0.5, 0.3, 0.2], [0.1, 0.2, 0.7]])
        >>> top_k_accuracy(scores, np.array([1, 0]), k=2)
        0.5
    """
    hits, n = _topk_hits(outputs, targets, k, "top_k_accuracy")
    return hits / n


def _confusion(pred: np.ndarray, tgt: np.ndarray, num_classes: int | None, who: str) -> np.ndarray:
    top = int(max(pred.max(), tgt.max())) + 1
    if num_classes is None:
        k = top
    else:
        if (
            isinstance(num_classes, bool)
            or not isinstance(num_classes, (int, np.integer))
            or num_classes < 1
        ):
            raise ValueError(f"{who}: num_classes must be a positive integer, got {num_classes!r}")
        k = int(num_classes)
        if top > k:
            raise ValueError(f"{who}: label {top - 1} is out of range for num_classes={k}")
    return np.bincount(tgt * k + pred, minlength=k * k).reshape(k, k)


def confusion_matrix(outputs: Any, targets: Any, num_classes: int | None = None) -> np.ndarray:
    """Counts ``C[i, j]`` of samples of true class ``i`` predicted as class ``j`` (int64).

    Rows are true classes, columns predictions (scikit-learn's convention). The size is
    ``num_classes``, or else the largest label seen (or the number of score columns) + 1.

    Example:
        >>> import numpy as np
        >>> confusion_matrix(np.array([0, 1, 1]), np.array([0, 0, 1]))
        array([[1, 1],
               [0, 1]])
    """
    pred, tgt = predicted_labels(outputs, targets, "confusion_matrix")
    out = _array(outputs, "confusion_matrix", "outputs")
    if num_classes is None and out.ndim == tgt.ndim + 1 and out.shape[-1] >= 2:
        num_classes = max(out.shape[-1], int(tgt.max()) + 1)
    return _confusion(pred, tgt, num_classes, "confusion_matrix")


def _safe_div(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    out = np.zeros(num.shape, dtype=np.float64)
    np.divide(num, den, out=out, where=den > 0)
    return out


_AVERAGES = (None, "macro", "micro", "weighted")


def _prf_from_cm(cm: np.ndarray, average: str | None, who: str) -> tuple[Any, Any, Any]:
    if average not in _AVERAGES:
        raise ValueError(
            f"{who}: unknown average {average!r}; valid: None, 'macro', 'micro', 'weighted'"
        )
    tp = np.diagonal(cm).astype(np.float64)
    predicted = cm.sum(axis=0).astype(np.float64)
    support = cm.sum(axis=1).astype(np.float64)
    p = _safe_div(tp, predicted)
    r = _safe_div(tp, support)
    f = _safe_div(2 * tp, predicted + support)
    if average is None:
        return p, r, f
    if average == "micro":
        acc = float(tp.sum() / support.sum())
        return acc, acc, acc
    present = (predicted + support) > 0
    if average == "macro":
        return tuple(float(v[present].mean()) for v in (p, r, f))  # type: ignore[return-value]
    w = support / support.sum()
    return tuple(float((v * w).sum()) for v in (p, r, f))  # type: ignore[return-value]


def precision_recall_f1(
    outputs: Any, targets: Any, num_classes: int | None = None, average: str | None = None
) -> tuple[Any, Any, Any]:
    """Precision, recall and F1: per class (arrays, ``average=None``) or averaged (floats).

    A class never predicted has precision 0, one absent from the targets recall 0
    (scikit-learn's ``zero_division=0``). ``"macro"`` averages over the classes that
    occur in the targets or the predictions (as scikit-learn does without ``labels``);
    ``"weighted"`` weights by support; ``"micro"`` equals accuracy for single-label data.

    Example:
        >>> import numpy as np
        >>> p, r, f = precision_recall_f1(np.array([0, 1, 1, 1]), np.array([0, 0, 1, 1]))
        >>> p.round(3).tolist(), r.tolist(), f.round(3).tolist()
        ([1.0, 0.667], [0.5, 1.0], [0.667, 0.8])
    """
    cm = confusion_matrix(outputs, targets, num_classes)
    return _prf_from_cm(cm, average, "precision_recall_f1")


def precision(
    outputs: Any, targets: Any, num_classes: int | None = None, average: str | None = "macro"
) -> Any:
    """Precision ``tp / (tp + fp)``, macro-averaged by default (see :func:`precision_recall_f1`).

    Example:
        >>> import numpy as np
        >>> precision(np.array([0, 1, 1, 1]), np.array([0, 0, 1, 1]))
        0.8333333333333333
    """
    return precision_recall_f1(outputs, targets, num_classes, average)[0]


def recall(
    outputs: Any, targets: Any, num_classes: int | None = None, average: str | None = "macro"
) -> Any:
    """Recall ``tp / (tp + fn)``, macro-averaged by default (see :func:`precision_recall_f1`).

    Example:
        >>> import numpy as np
        >>> recall(np.array([0, 1, 1, 1]), np.array([0, 0, 1, 1]))
        0.75
    """
    return precision_recall_f1(outputs, targets, num_classes, average)[1]


def f1_score(
    outputs: Any, targets: Any, num_classes: int | None = None, average: str | None = "macro"
) -> Any:
    """F1, the harmonic mean of precision and recall, macro-averaged by default.

    Example:
        >>> import numpy as np
        >>> round(f1_score(np.array([0, 1, 1, 1]), np.array([0, 0, 1, 1])), 4)
        0.7333
    """
    return precision_recall_f1(outputs, targets, num_classes, average)[2]


# ---------------------------------------------------------------------------- regression
def _regression_pair(outputs: Any, targets: Any, who: str) -> tuple[np.ndarray, np.ndarray]:
    out = _array(outputs, who, "outputs").astype(np.float64, copy=False)
    tgt = _array(targets, who, "targets").astype(np.float64, copy=False)
    if out.shape != tgt.shape:
        if out.size == tgt.size and out.squeeze().shape == tgt.squeeze().shape:
            out, tgt = out.reshape(-1), tgt.reshape(-1)  # (N, 1) against (N,)
        else:
            raise ValueError(
                f"{who}: outputs of shape {out.shape} do not match targets of shape {tgt.shape}"
            )
    if tgt.size == 0:
        raise ValueError(f"{who}: no samples (empty outputs and targets)")
    if out.ndim != 2:
        out, tgt = out.reshape(-1, 1), tgt.reshape(-1, 1)
    return out, tgt  # (N, D): one column per output


def mse(outputs: Any, targets: Any) -> float:
    """Mean squared error over all elements.

    Example:
        >>> import numpy as np
        >>> mse(np.array([1.0, 2.0, 3.0]), np.array([1.0, 2.0, 5.0]))
        1.3333333333333333
    """
    out, tgt = _regression_pair(outputs, targets, "mse")
    return _RegStats.of(out, tgt).compute("mse")


def rmse(outputs: Any, targets: Any) -> float:
    """Root mean squared error (the square root of :func:`mse`), in the targets' units.

    Example:
        >>> import numpy as np
        >>> rmse(np.array([0.0, 0.0]), np.array([3.0, 4.0]))
        3.5355339059327378
    """
    out, tgt = _regression_pair(outputs, targets, "rmse")
    return _RegStats.of(out, tgt).compute("rmse")


def mae(outputs: Any, targets: Any) -> float:
    """Mean absolute error over all elements.

    Example:
        >>> import numpy as np
        >>> mae(np.array([1.0, 2.0]), np.array([2.0, 0.0]))
        1.5
    """
    out, tgt = _regression_pair(outputs, targets, "mae")
    return _RegStats.of(out, tgt).compute("mae")


def r2_score(outputs: Any, targets: Any) -> float:
    """Coefficient of determination ``1 - SS_res / SS_tot``; 1 is perfect, 0 is the mean.

    For several outputs ``(N, D)`` it is the mean of the per-column scores (scikit-learn's
    ``uniform_average``). Constant targets give 1.0 for a perfect fit and 0.0 otherwise
    (scikit-learn's ``force_finite``).

    Example:
        >>> import numpy as np
        >>> r2_score(np.array([1.0, 2.0, 3.0]), np.array([1.0, 2.0, 4.0]))
        0.7857142857142857
    """
    out, tgt = _regression_pair(outputs, targets, "r2_score")
    return _RegStats.of(out, tgt).compute("r2")


@dataclass
class _RegStats:
    """Per-column sums that regression metrics need, mergeable across batches."""

    n: int
    sse: np.ndarray  # sum of squared errors per column
    sae: np.ndarray  # sum of absolute errors per column
    mean: np.ndarray  # mean target per column
    m2: np.ndarray  # sum of squared deviations of targets from their mean, per column

    @classmethod
    def of(cls, out: np.ndarray, tgt: np.ndarray) -> _RegStats:
        err = out - tgt
        mean = tgt.mean(axis=0)
        return cls(
            n=tgt.shape[0],
            sse=np.einsum("ij,ij->j", err, err),
            sae=np.abs(err).sum(axis=0),
            mean=mean,
            m2=((tgt - mean) ** 2).sum(axis=0),
        )

    def merge(self, other: _RegStats) -> _RegStats:
        if self.sse.shape != other.sse.shape:
            raise ValueError(
                f"MetricAccumulator: a batch has {other.sse.shape[0]} output columns, "
                f"earlier batches {self.sse.shape[0]}"
            )
        n = self.n + other.n
        delta = other.mean - self.mean
        mean = self.mean + delta * (other.n / n)
        m2 = self.m2 + other.m2 + delta**2 * (self.n * other.n / n)  # Chan et al.
        return _RegStats(n, self.sse + other.sse, self.sae + other.sae, mean, m2)

    def compute(self, name: str) -> float:
        count = self.n * self.sse.shape[0]
        if name == "mse":
            return float(self.sse.sum() / count)
        if name == "rmse":
            return math.sqrt(float(self.sse.sum() / count))
        if name == "mae":
            return float(self.sae.sum() / count)
        # r2, per column then averaged
        scores = np.where(
            self.m2 > 0, 1.0 - _safe_div(self.sse, self.m2), np.where(self.sse == 0, 1.0, 0.0)
        )
        return float(scores.mean())


# ---------------------------------------------------------------------------- registry
@dataclass(frozen=True)
class _Spec:
    kind: str  # "cm" (confusion matrix), "topk", "reg"
    mode: str  # "max" or "min": which direction is better
    k: int = 0


_SPECS: dict[str, _Spec] = {
    "accuracy": _Spec("cm", "max"),
    "precision": _Spec("cm", "max"),
    "recall": _Spec("cm", "max"),
    "f1": _Spec("cm", "max"),
    "top_k_accuracy": _Spec("topk", "max", 5),
    "mse": _Spec("reg", "min"),
    "rmse": _Spec("reg", "min"),
    "mae": _Spec("reg", "min"),
    "r2": _Spec("reg", "max"),
}
_ALIASES = {
    "acc": "accuracy",
    "f1_score": "f1",
    "r2_score": "r2",
    "precision_macro": "precision",
    "recall_macro": "recall",
    "f1_macro": "f1",
}
_TOPK = re.compile(r"^top_?(\d+)(_accuracy)?$")


def list_metrics() -> list[str]:
    """The names :func:`get_metric` accepts (``top3_accuracy`` style names also work).

    Example:
        >>> list_metrics()
        ['accuracy', 'f1', 'mae', 'mse', 'precision', 'r2', 'recall', 'rmse', 'top_k_accuracy']
    """
    return sorted(_SPECS)


def _spec(name: Any, who: str = "get_metric") -> tuple[str, _Spec]:
    if not isinstance(name, str):
        raise TypeError(f"{who}: a metric name must be a string, got {type(name).__name__}")
    key = name.strip().lower().replace("-", "_")
    key = _ALIASES.get(key, key)
    if key in _SPECS:
        return key, _SPECS[key]
    m = _TOPK.match(key)
    if m and int(m.group(1)) >= 1:
        return f"top{int(m.group(1))}_accuracy", _Spec("topk", "max", int(m.group(1)))
    raise ValueError(
        f"{who}: unknown metric {name!r}; valid metrics: {', '.join(list_metrics())} "
        "(and topK_accuracy, e.g. top3_accuracy)"
    )


def metric_mode(name: str) -> str:
    """``"max"`` if a larger value of metric ``name`` is better, else ``"min"`` (for early stopping).

    Example:
        >>> metric_mode("accuracy"), metric_mode("rmse")
        ('max', 'min')
    """
    return _spec(name, "metric_mode")[1].mode


def get_metric(name: str) -> Callable[[Any, Any], float]:
    """The metric function called ``name``: ``fn(outputs, targets) -> float``.

    ``precision``, ``recall`` and ``f1`` are macro averages; ``top_k_accuracy`` uses
    k = 5 and ``topK_accuracy`` (e.g. ``top3_accuracy``) any k.

    Example:
        >>> import numpy as np
        >>> get_metric("top2_accuracy")(np.array([[0.1, 0.5, 0.4]]), np.array([2]))
        1.0
        >>> get_metric("auc")
        Traceback (most recent call last):
        ...
        ValueError: get_metric: unknown metric 'auc'; valid metrics: accuracy, f1, mae, mse, precision, r2, recall, rmse, top_k_accuracy (and topK_accuracy, e.g. top3_accuracy)
    """
    key, spec = _spec(name)
    fns: dict[str, Callable[[Any, Any], float]] = {
        "accuracy": accuracy,
        "precision": precision,
        "recall": recall,
        "f1": f1_score,
        "mse": mse,
        "rmse": rmse,
        "mae": mae,
        "r2": r2_score,
    }
    if spec.kind == "topk":
        k = spec.k

        def topk(outputs: Any, targets: Any) -> float:
            return top_k_accuracy(outputs, targets, k)

        topk.__name__ = key
        return topk
    return fns[key]


# ---------------------------------------------------------------------------- streaming
class MetricAccumulator:
    """Accumulates metrics over mini-batches: ``update(outputs, targets)`` per batch, then ``compute()``.

    Classification metrics come from an integer confusion matrix (grown as new labels
    appear, or of size ``num_classes``), top-k from hit counts, regression metrics from
    float64 sums merged exactly as in Chan et al.'s parallel variance; so the result
    equals computing each metric on the concatenated batches (exactly for
    classification, to rounding for regression). Nothing per sample is kept.

    Example:
        >>> import numpy as np
        >>> acc = MetricAccumulator(["accuracy", "f1"])
        >>> acc.update(np.array([[0.9, 0.1], [0.2, 0.8]]), np.array([0, 0]))
        >>> acc.update(np.array([1]), np.array([1]))
        >>> {k: round(v, 4) for k, v in acc.compute().items()}
        {'accuracy': 0.6667, 'f1': 0.6667}
        >>> acc.confusion_matrix()
        array([[1, 1],
               [0, 1]])
    """

    def __init__(
        self, metrics: Iterable[str] = ("accuracy",), num_classes: int | None = None
    ) -> None:
        if isinstance(metrics, str):
            metrics = (metrics,)
        self.names: list[str] = []
        self._specs: dict[str, _Spec] = {}
        for m in metrics:
            key, spec = _spec(m, "MetricAccumulator")
            if key not in self._specs:
                self.names.append(key)
                self._specs[key] = spec
        if num_classes is not None and (
            isinstance(num_classes, bool)
            or not isinstance(num_classes, (int, np.integer))
            or num_classes < 1
        ):
            raise ValueError(
                f"MetricAccumulator: num_classes must be a positive integer, got {num_classes!r}"
            )
        self.num_classes = num_classes
        self.reset()

    def reset(self) -> None:
        """Forget every batch seen so far.

        Example:
            >>> import numpy as np
            >>> acc = MetricAccumulator()
            >>> acc.update(np.array([1]), np.array([1])); acc.reset(); acc.count
            0
        """
        self.count = 0
        self._cm: np.ndarray | None = None
        self._hits: dict[int, int] = {}
        self._topk_n: dict[int, int] = {}
        self._reg: _RegStats | None = None

    def update(self, outputs: Any, targets: Any) -> None:
        """Add one batch of outputs (scores, labels or values) and targets.

        Example:
            >>> import numpy as np
            >>> acc = MetricAccumulator(["mse"])
            >>> acc.update(np.array([1.0, 2.0]), np.array([1.0, 3.0])); acc.count
            2
        """
        # compute everything for the batch first, then commit: a bad batch changes nothing
        kinds = {s.kind for s in self._specs.values()}
        n = 0
        cm = None
        if "cm" in kinds:
            pred, tgt = predicted_labels(outputs, targets, "MetricAccumulator")
            out = _array(outputs, "MetricAccumulator", "outputs")
            k = self.num_classes
            if k is None:
                width = out.shape[-1] if out.ndim == tgt.ndim + 1 and out.shape[-1] >= 2 else 0
                k = max(int(pred.max()) + 1, int(tgt.max()) + 1, width)
                if self._cm is not None:
                    k = max(k, self._cm.shape[0])
            cm = _confusion(pred, tgt, k, "MetricAccumulator")
            n = tgt.size
        topk: dict[int, tuple[int, int]] = {}
        for spec in self._specs.values():
            if spec.kind == "topk":
                topk[spec.k] = _topk_hits(outputs, targets, spec.k, "MetricAccumulator")
                n = topk[spec.k][1]
        reg = None
        if "reg" in kinds:
            out, tgt = _regression_pair(outputs, targets, "MetricAccumulator")
            reg = _RegStats.of(out, tgt)
            reg = reg if self._reg is None else self._reg.merge(reg)
            n = out.shape[0]
        if cm is not None:
            if self._cm is not None:
                k, old = cm.shape[0], self._cm.shape[0]
                cm[:old, :old] += self._cm
            self._cm = cm
        for k, (hits, count) in topk.items():
            self._hits[k] = self._hits.get(k, 0) + hits
            self._topk_n[k] = self._topk_n.get(k, 0) + count
        if reg is not None:
            self._reg = reg
        self.count += n

    def compute(self) -> dict[str, float]:
        """Every metric over all batches seen since the last ``reset()``, by name.

        Example:
            >>> import numpy as np
            >>> acc = MetricAccumulator(["rmse", "r2"])
            >>> acc.update(np.array([1.0, 2.0]), np.array([1.0, 2.0]))
            >>> acc.compute()
            {'rmse': 0.0, 'r2': 1.0}
        """
        if self.count == 0:
            raise ValueError(
                "MetricAccumulator.compute: no batches were added (call update() first)"
            )
        result: dict[str, float] = {}
        for name in self.names:
            spec = self._specs[name]
            if spec.kind == "cm" and self._cm is not None:
                if name == "accuracy":
                    result[name] = int(np.trace(self._cm)) / int(self._cm.sum())
                else:
                    p, r, f = _prf_from_cm(self._cm, "macro", "MetricAccumulator")
                    result[name] = {"precision": p, "recall": r, "f1": f}[name]
            elif spec.kind == "topk":
                result[name] = self._hits[spec.k] / self._topk_n[spec.k]
            elif self._reg is not None:
                result[name] = self._reg.compute(name)
        return result

    def confusion_matrix(self) -> np.ndarray:
        """The accumulated confusion matrix (rows: true class, columns: predicted).

        Example:
            >>> import numpy as np
            >>> acc = MetricAccumulator(["accuracy"], num_classes=3)
            >>> acc.update(np.array([2]), np.array([1])); acc.confusion_matrix().tolist()
            [[0, 0, 0], [0, 0, 1], [0, 0, 0]]
        """
        if self._cm is None:
            raise ValueError(
                "MetricAccumulator.confusion_matrix: no classification batches were added "
                "(the metrics must include accuracy, precision, recall or f1)"
            )
        return self._cm.copy()
