"""The input preprocessing a dataset applied, as a small JSON record a checkpoint carries.

A loader that changes its inputs (digits divides the 0..16 intensities by 16, MNIST the
0..255 pixels by 255, a CSV table becomes numeric columns with one-hot categories)
records what it did in ``description.extra["preprocess"]``. ``gf.train.run`` stores that
record in the checkpoint's metadata (``config["preprocess"]``) and ``gradfit predict``
applies it with :func:`apply` right after reading its input, so train and predict can
never disagree. ``predict`` therefore expects **raw data as in the dataset's files**:
digits pixels 0..16, MNIST pixels 0..255, a CSV with the training CSV's columns (in any
order, matched by header name; the target column may be absent).

Record keys (each optional, applied in this order):

* ``columns``: a CSV's feature columns, each ``{"name": column}`` (numeric) or
  ``{"name": column, "values": [...]}`` (categorical, one-hot in this order); ``target``
  names the target column. Needs the input's header (``columns=`` of :func:`apply`).
* ``scale``: multiply by this number.
* ``mean`` and ``std``: standardise per feature, ``(x - mean) / std``.

Example:
    >>> import numpy as np
    >>> apply({"scale": 1 / 16}, np.array([[16.0, 8.0]]))
    array([[1. , 0.5]], dtype=float32)
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np


def record_for(data: Any) -> dict[str, Any] | None:
    """The preprocessing record of a loaded dataset (None when it applied none).

    Example:
        >>> import gradfit as gf
        >>> record_for(gf.data.load_dataset("digits"))
        {'scale': 0.0625}
    """
    extra = getattr(getattr(data, "description", None), "extra", None) or {}
    record = extra.get("preprocess")
    return dict(record) if isinstance(record, Mapping) else None


def _table(record: Mapping[str, Any], x: Any, columns: Sequence[str] | None) -> np.ndarray:
    """A CSV's rows (strings or numbers, columns named by ``columns``) -> the feature matrix."""
    spec = record["columns"]
    names = [str(c["name"]) for c in spec]
    if columns is None:  # no header: the rows hold the training columns in their order
        columns = names
    columns = [str(c).strip() for c in columns]
    missing = [n for n in names if n not in columns]
    if missing:
        raise ValueError(
            f"preprocess: the input has no column(s) {', '.join(map(repr, missing))}; the model "
            f"was trained on columns {', '.join(names)} (given: {', '.join(columns)})"
        )
    rows = [list(r) for r in x]
    where = {c: j for j, c in enumerate(columns)}
    blocks: list[np.ndarray] = []
    for c in spec:
        j = where[str(c["name"])]
        cells = [r[j] if j < len(r) else "" for r in rows]
        if "values" in c:
            values = [str(v) for v in c["values"]]
            onehot = np.zeros((len(rows), len(values)), dtype=np.float32)
            for i, cell in enumerate(cells):
                text = str(cell).strip()
                if text not in values:
                    raise ValueError(
                        f"preprocess: row {i + 1}: column {c['name']!r} has value {text!r}, "
                        f"not seen in training (known: {', '.join(values)})"
                    )
                onehot[i, values.index(text)] = 1.0
            blocks.append(onehot)
        else:
            col = np.empty((len(rows), 1), dtype=np.float64)
            for i, cell in enumerate(cells):
                try:
                    col[i, 0] = float(cell)
                except (TypeError, ValueError):
                    raise ValueError(
                        f"preprocess: row {i + 1}: column {c['name']!r} has a non-numeric "
                        f"value {cell!r}"
                    ) from None
            blocks.append(col)
    if not blocks:
        return np.zeros((len(rows), 0), dtype=np.float32)
    return np.concatenate(blocks, axis=1).astype(np.float32)


def apply(
    record: Mapping[str, Any] | None, x: Any, columns: Sequence[str] | None = None
) -> np.ndarray:
    """Apply a preprocessing ``record`` to raw inputs ``x`` (as float32).

    Args:
        record: what :func:`record_for` gave at training time (None or ``{}``: nothing).
        x: raw inputs: an array, or for a ``columns`` record the rows of a table.
        columns: the table's header (for a ``columns`` record; None: the training order).

    Raises:
        ValueError: a missing column, an unseen category, a non-numeric value, or a
            record that is not well formed.

    Example:
        >>> rec = {"columns": [{"name": "size"}, {"name": "colour", "values": ["blue", "red"]}]}
        >>> apply(rec, [["red", "1.5"]], columns=["colour", "size"])
        array([[1.5, 0. , 1. ]], dtype=float32)
    """
    if not record:
        return np.asarray(x, dtype=np.float32)
    if not isinstance(record, Mapping):
        raise ValueError(f"preprocess: the record must be a mapping, got {type(record).__name__}")
    try:
        if "columns" in record:
            out = _table(record, x, columns)
        else:
            out = np.asarray(x, dtype=np.float32)
        if "scale" in record:
            out = out * np.float32(float(record["scale"]))
        if "mean" in record or "std" in record:
            mean = np.asarray(record.get("mean", 0.0), dtype=np.float32)
            std = np.asarray(record.get("std", 1.0), dtype=np.float32)
            out = (out - mean) / np.where(std == 0, np.float32(1), std)
    except (KeyError, TypeError) as e:
        raise ValueError(f"preprocess: a malformed record ({type(e).__name__}: {e})") from None
    return np.asarray(out, dtype=np.float32)
