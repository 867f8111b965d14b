"""``csv``: the user's own table, ``load_dataset("csv", path=..., target="column")``.

The first row is the header. Read with the standard library's ``csv`` module.

Column rules:

* A feature column is **numeric** when more than half of its values parse as numbers;
  then every value must be a finite number, and one that is not (or an empty cell) is an
  error naming the column and the line. Other columns, and those listed in
  ``categorical=``, are **categorical** and one-hot encoded into one float32 column per
  distinct value (named ``column=value``; the vocabulary is taken from the whole file,
  which leaks no statistics). Columns in ``drop=`` are ignored (e.g. an id).
* The **task** is classification when the target column is non-numeric, or when all its
  values are integers and there are at most ``max_classes`` (default 20) distinct ones;
  otherwise regression. ``task="classification"`` or ``task="regression"`` overrides.
  Class labels are 0..K-1 in sorted order of the original values (numerically sorted for
  numbers), kept in ``description.classes``; regression targets are float32 ``(N, 1)``.

Features are not rescaled: fit a :class:`~gradfit.data.transforms.Standardize` on
``ds.train.x``. The split is seeded, and stratified for classification.

Example:
    >>> import os, tempfile
    >>> p = os.path.join(tempfile.mkdtemp(), "t.csv")
    >>> _ = open(p, "w").write("size,colour,label\\n1.5,red,yes\\n2.0,blue,no\\n0.5,red,yes\\n3,blue,no\\n")
    >>> ds = load(p, target="label", val_fraction=0.0, test_fraction=0.5)
    >>> ds.description.feature_names, ds.description.classes, ds.sizes
    (('size', 'colour=blue', 'colour=red'), ('no', 'yes'), {'train': 2, 'val': 0, 'test': 2})
"""

from __future__ import annotations

import csv as _csv
import math
import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from gradfit.data.splits import DatasetInfo, DatasetSplits, make_splits


def _parse_number(s: str) -> float | None:
    try:
        v = float(s)
    except ValueError:
        return None
    return v


def _numeric_column(values: list[str], lines: list[int], column: str, path: Path) -> np.ndarray:
    out = np.empty(len(values), dtype=np.float64)
    for i, s in enumerate(values):
        v = _parse_number(s)
        if s == "":
            raise ValueError(
                f"csv {path}: empty value in numeric column {column!r} at line {lines[i]}; "
                "fill it in or drop the row"
            )
        if v is None:
            raise ValueError(
                f"csv {path}: non-numeric value {s!r} in numeric column {column!r} at line "
                f"{lines[i]} (pass categorical=[{column!r}] if the column is categorical)"
            )
        if not math.isfinite(v):
            raise ValueError(
                f"csv {path}: non-finite value {s!r} in numeric column {column!r} at line {lines[i]}"
            )
        out[i] = v
    return out


def _is_numeric(values: list[str]) -> bool:
    parsed = sum(_parse_number(s) is not None for s in values if s != "")
    return parsed * 2 > len(values)


def load(
    path: str | os.PathLike[str],
    target: str,
    task: str | None = None,
    categorical: Sequence[str] = (),
    drop: Sequence[str] = (),
    delimiter: str = ",",
    max_classes: int = 20,
    val_fraction: float = 0.1,
    test_fraction: float = 0.2,
    seed: int = 0,
) -> DatasetSplits:
    """Load a CSV table with a header row.

    Args:
        path: the file.
        target: the column to predict.
        task: ``"classification"`` or ``"regression"`` to override the rule above.
        categorical: feature columns to one-hot encode even if they look numeric.
        drop: columns to ignore.
        delimiter: the field separator.
        max_classes: an integer target with at most this many distinct values is a class label.
        val_fraction, test_fraction, seed: the split.

    Raises:
        FileNotFoundError: no such file.
        ValueError: an empty file, no data rows, a missing target column, a row with the
            wrong number of fields, or a bad value in a numeric column (naming the column
            and the line).

    Example:
        >>> import os, tempfile
        >>> p = os.path.join(tempfile.mkdtemp(), "r.csv")
        >>> _ = open(p, "w").write("x,y\\n" + "".join(f"{i},{i * 0.5}\\n" for i in range(10)))
        >>> ds = load(p, target="y")
        >>> ds.task, ds.train.y.shape, ds.train.y.dtype
        ('regression', (7, 1), dtype('float32'))
    """
    path = Path(path).expanduser()
    if task not in (None, "classification", "regression"):
        raise ValueError(f"csv: task must be 'classification', 'regression' or None, got {task!r}")
    if not path.is_file():
        raise FileNotFoundError(f"csv: no such file: {path}")
    with open(path, newline="", encoding="utf-8-sig") as f:
        reader = _csv.reader(f, delimiter=delimiter)
        header: list[str] | None = None
        rows: list[list[str]] = []
        lines: list[int] = []
        for row in reader:
            if not row or all(c.strip() == "" for c in row):
                continue  # blank lines
            if header is None:
                header = [c.strip() for c in row]
                continue
            if len(row) != len(header):
                raise ValueError(
                    f"csv {path}: line {reader.line_num} has {len(row)} fields, the header has "
                    f"{len(header)}"
                )
            rows.append([c.strip() for c in row])
            lines.append(reader.line_num)
    if header is None:
        raise ValueError(f"csv {path}: the file is empty (expected a header row and data rows)")
    if not rows:
        raise ValueError(f"csv {path}: the file has a header but no data rows")
    dupes = sorted({h for h in header if header.count(h) > 1})
    if dupes:
        raise ValueError(f"csv {path}: duplicate column name(s) {dupes}")
    if target not in header:
        raise ValueError(
            f"csv {path}: no target column {target!r}; the columns are {', '.join(header)}"
        )
    for name, cols in (("categorical", categorical), ("drop", drop)):
        unknown = [c for c in cols if c not in header]
        if unknown:
            raise ValueError(
                f"csv {path}: {name}= names unknown column(s) {unknown}; the columns are "
                f"{', '.join(header)}"
            )
    columns = {h: [r[j] for r in rows] for j, h in enumerate(header)}

    # ---- features
    blocks: list[np.ndarray] = []
    names: list[str] = []
    spec: list[dict[str, object]] = []  # the columns predict reads (gradfit.data.preprocess)
    for h in header:
        if h == target or h in drop:
            continue
        values = columns[h]
        if h not in categorical and _is_numeric(values):
            blocks.append(_numeric_column(values, lines, h, path)[:, None])
            names.append(h)
            spec.append({"name": h})
            continue
        for i, s in enumerate(values):
            if s == "":
                raise ValueError(
                    f"csv {path}: empty value in categorical column {h!r} at line {lines[i]}"
                )
        vocab, codes = np.unique(np.array(values, dtype=object).astype(str), return_inverse=True)
        blocks.append(np.eye(len(vocab), dtype=np.float64)[codes.reshape(-1)])
        names.extend(f"{h}={v}" for v in vocab)
        spec.append({"name": h, "values": [str(v) for v in vocab]})
    if blocks:
        x = np.concatenate(blocks, axis=1).astype(np.float32)
    else:
        x = np.zeros((len(rows), 0), dtype=np.float32)

    # ---- target
    tvals = columns[target]
    tnum: np.ndarray | None = None
    inferred = "classification"
    if _is_numeric(tvals):  # a number column: a bad value is an error naming the line
        tnum = _numeric_column(tvals, lines, target, path)
        integer_like = bool(np.all(tnum == np.round(tnum)))
        if not (integer_like and np.unique(tnum).shape[0] <= max_classes):
            inferred = "regression"
    chosen = task or inferred
    classes: tuple[str, ...] | None = None
    if chosen == "regression":
        if tnum is None:
            tnum = _numeric_column(tvals, lines, target, path)  # raises, naming the line
        y = tnum.astype(np.float32)[:, None]
        target_shape: tuple[int, ...] = (1,)
    else:
        if tnum is not None:
            uniq, codes = np.unique(tnum, return_inverse=True)
            classes = tuple(f"{v:g}" for v in uniq)
        else:
            for i, s in enumerate(tvals):
                if s == "":
                    raise ValueError(
                        f"csv {path}: empty value in target column {target!r} at line {lines[i]}"
                    )
            uniq, codes = np.unique(np.array(tvals, dtype=str), return_inverse=True)
            classes = tuple(str(v) for v in uniq)
        y = codes.reshape(-1).astype(np.int64)
        target_shape = ()
    info = DatasetInfo(
        name="csv",
        task=chosen,
        source=f"user file {path}",
        licence="the user's own data",
        input_shape=(x.shape[1],),
        target_shape=target_shape,
        classes=classes,
        summary=f"{len(rows)} rows from {path.name}, target {target!r}",
        feature_names=tuple(names),
        extra={"target": target, "preprocess": {"columns": spec, "target": target}},
    )
    # stratify when every class has at least two samples to share between the splits
    stratify = classes is not None and int(np.bincount(y).min()) >= 2
    return make_splits(
        x,
        y,
        info,
        val_fraction=val_fraction,
        test_fraction=test_fraction,
        seed=seed,
        stratify=stratify,
    )
