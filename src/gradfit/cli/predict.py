"""``gradfit predict CHECKPOINT INPUT``: predictions for new inputs (CSV or .npy) as CSV.

Classification writes the class and the probability of each class; regression
writes the predicted values. Output goes to ``--out`` or standard output.

Inputs are **raw data as in the dataset's files**: digits pixels 0..16, MNIST pixels
0..255, for a model trained on ``--data csv`` a CSV with the training table's columns
(by header name, in any order; the target column may be left out). The checkpoint carries
the preprocessing its training data had (``config["preprocess"]``) and it is applied
here with ``gf.data.preprocess.apply``, so train and predict never disagree. Checkpoints
without that record take the inputs as they are.

Example:
    >>> import argparse
    >>> p = argparse.ArgumentParser(); sub = p.add_subparsers(); register(sub)
    >>> p.parse_args(["predict", "ck", "x.csv"]).input
    'x.csv'
"""

from __future__ import annotations

import argparse
import csv
import io
import sys
from pathlib import Path
from typing import Any

import numpy as np

from gradfit.cli import common
from gradfit.cli.main import UsageError


def register(sub: Any) -> None:
    """Add the ``predict`` subcommand."""
    p = sub.add_parser("predict", help="predict for inputs in a CSV or .npy file")
    p.add_argument("checkpoint", help="a run directory or a .safetensors checkpoint")
    p.add_argument(
        "input",
        help="raw inputs as in the dataset's files (digits 0..16): a .npy array or a CSV "
        "(header optional; for a --data csv model, the training CSV's columns by name)",
    )
    p.add_argument("--out", help="write the CSV here instead of standard output")
    p.set_defaults(func=run)


def read_inputs(path: str) -> np.ndarray:
    """Read a .npy (never pickled) or a numeric CSV (an optional header row is skipped).

    Example:
        >>> read_inputs("/missing.csv")
        Traceback (most recent call last):
        ...
        gradfit.cli.main.UsageError: input /missing.csv: no such file
    """
    p = Path(path)
    if not p.is_file():
        raise UsageError(f"input {path}: no such file")
    if p.suffix.lower() == ".npy":
        _check_npy_header(p)
        try:
            arr = np.load(p, allow_pickle=False)
        except (ValueError, EOFError) as e:
            raise UsageError(f"input {path}: not a readable .npy array: {e}") from None
        except OSError as e:
            raise UsageError(f"input {path}: cannot read it: {e.strerror or e}") from None
        if arr.dtype.kind not in "fiub":
            raise UsageError(f"input {path}: expected numbers, got dtype {arr.dtype}")
        if arr.size == 0:
            raise UsageError(f"input {path}: the array is empty (shape {arr.shape})")
        return _check_finite(arr, path)
    if p.stat().st_size > MAX_CSV_BYTES:
        raise UsageError(
            f"input {path}: {p.stat().st_size} bytes is more than a CSV may have here "
            f"({MAX_CSV_BYTES}); save large inputs as .npy"
        )
    try:
        text = p.read_text(encoding="utf-8-sig")  # also reads Excel's "CSV UTF-8"
    except OSError as e:
        raise UsageError(f"input {path}: cannot read it: {e.strerror or e}") from None
    except UnicodeDecodeError:
        raise UsageError(
            f"input {path}: not a text CSV file (use .npy for binary arrays)"
        ) from None
    rows = list(csv.reader(io.StringIO(text)))
    rows = [r for r in rows if r]
    if not rows:
        raise UsageError(f"input {path}: the file is empty")
    start = 0
    if not any(_is_float(v) for v in rows[0]):
        start = 1  # a header: no field of the first row is a number
    out = []
    for i, r in enumerate(rows[start:], start=start + 1):
        try:
            out.append([float(v) for v in r])
        except ValueError:
            bad = next(v for v in r if not _is_float(v))
            raise UsageError(f"input {path}: row {i} has a non-numeric value {bad!r}") from None
    if len({len(r) for r in out}) > 1:
        raise UsageError(f"input {path}: rows have different numbers of values")
    if not out:
        raise UsageError(f"input {path}: no data rows")
    return _check_finite(np.asarray(out, dtype=np.float64), path, first_row=start + 1)


MAX_CSV_BYTES = 512 * 2**20


def _check_npy_header(p: Path) -> None:
    """Refuse a .npy whose header promises more data than the file holds, before reading it."""
    from numpy.lib import format as npformat

    try:
        with open(p, "rb") as f:
            version = npformat.read_magic(f)
            read = (
                npformat.read_array_header_1_0
                if version == (1, 0)
                else npformat.read_array_header_2_0
            )
            shape, _, dtype = read(f, max_header_size=10_000)
            offset = f.tell()
    except PermissionError as e:
        raise UsageError(f"input {p}: cannot read it: {e.strerror}") from None
    except (ValueError, OSError, EOFError, SyntaxError) as e:
        raise UsageError(f"input {p}: not a readable .npy array: {e}") from None
    if dtype.hasobject:
        raise UsageError(f"input {p}: not a readable .npy array: it holds Python objects")
    need = int(np.prod(shape, dtype=object)) * dtype.itemsize
    have = p.stat().st_size - offset
    if need != have:
        raise UsageError(
            f"input {p}: its header declares shape {tuple(shape)} of {dtype} ({need} bytes) "
            f"but the file holds {have} bytes of data (truncated or crafted)"
        )


def _check_finite(x: np.ndarray, path: str, first_row: int = 1) -> np.ndarray:
    """Refuse NaN, infinite values and numbers beyond float32 (they would predict nonsense).

    Example:
        >>> _check_finite(np.array([[1.0, np.nan]], np.float32), "x.csv")
        Traceback (most recent call last):
        ...
        gradfit.cli.main.UsageError: input x.csv: row 1, column 2 is nan; inputs must be finite numbers
    """
    limit = float(np.finfo(np.float32).max)
    with np.errstate(invalid="ignore"):
        bad = ~np.isfinite(x) | (np.abs(x) > limit) if x.dtype.kind == "f" else x != x
    if bad.any():
        idx = np.argwhere(bad)[0]
        row = int(idx[0]) + first_row if x.ndim >= 1 else first_row
        col = f", column {int(idx[1]) + 1}" if x.ndim >= 2 else ""
        value = x[tuple(idx)]
        what = "nan" if np.isnan(value) else "too large for float32 (or infinite)"
        raise UsageError(f"input {path}: row {row}{col} is {what}; inputs must be finite numbers")
    return x.astype(np.float32)


def _is_float(v: str) -> bool:
    try:
        float(v)
        return True
    except ValueError:
        return False


def _labels(run_cfg: dict[str, Any], outputs: int) -> list[int]:
    """The dataset's class label of each output (a ``--classes`` run relabelled them 0..k-1)."""
    from gradfit.cli.config import parse_classes

    try:
        classes = parse_classes(run_cfg.get("classes"))
    except UsageError:
        classes = None
    return classes if classes is not None and len(classes) == outputs else list(range(outputs))


def _read_table(path: str) -> tuple[list[str], list[list[str]]]:
    """A CSV's header and rows as strings (for a model trained on ``--data csv``)."""
    p = Path(path)
    if not p.is_file():
        raise UsageError(f"input {path}: no such file")
    if p.stat().st_size > MAX_CSV_BYTES:
        raise UsageError(f"input {path}: more than {MAX_CSV_BYTES} bytes; too large for a CSV")
    try:
        text = p.read_text(encoding="utf-8-sig")
    except OSError as e:
        raise UsageError(f"input {path}: cannot read it: {e.strerror or e}") from None
    except UnicodeDecodeError:
        raise UsageError(f"input {path}: not a text CSV file") from None
    rows = [r for r in csv.reader(io.StringIO(text)) if r and any(c.strip() for c in r)]
    if len(rows) < 2:
        raise UsageError(
            f"input {path}: expected a header row with the training CSV's column names and "
            "at least one data row"
        )
    return [c.strip() for c in rows[0]], rows[1:]


def _read_preprocessed(path: str, record: Any) -> np.ndarray:
    """Read raw inputs and apply the checkpoint's preprocessing (``gf.data.preprocess``).

    ``predict`` takes raw data as in the dataset's files: digits pixels 0..16, MNIST pixels
    0..255, a CSV with the training CSV's columns by header name (any order). Checkpoints
    saved without a record get the inputs as they are.
    """
    from gradfit.data import preprocess

    if not isinstance(record, dict):
        record = None
    try:
        if record and "columns" in record and Path(path).suffix.lower() != ".npy":
            header, rows = _read_table(path)
            x = preprocess.apply(record, rows, columns=header)
            return _check_finite(x, path, first_row=2)
        return _check_finite(preprocess.apply(record, read_inputs(path)), path)
    except ValueError as e:
        raise UsageError(f"input {path}: {e}") from None


def run(args: argparse.Namespace) -> int:
    """Predict; returns the exit code."""
    import gradfit as gf

    if args.out:
        common.check_output_file(args.out, "--out")
    ckpt = common.open_checkpoint(common.checkpoint_path(args.checkpoint))
    model = common.model_from_checkpoint(ckpt)
    cfg = ckpt.meta.get("config") or {}
    task = cfg.get("task", "classification")
    shape = tuple(cfg.get("input_shape") or ())
    x = _read_preprocessed(args.input, cfg.get("preprocess"))
    n_features = int(np.prod(shape)) if shape else None
    if n_features is not None:
        if x.ndim == 1:
            x = x[None, :] if x.size == n_features else x[:, None]
        per = int(np.prod(x.shape[1:]))
        if per != n_features:
            raise UsageError(
                f"input {args.input}: each row has {per} features, the model expects {n_features}"
            )
        x = x.reshape((len(x), *shape))
    with gf.no_grad():
        out = np.concatenate(
            [model(gf.tensor(x[i : i + 1024]))._data for i in range(0, len(x), 1024)]
        )
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    if task == "classification":
        probs = gf.tensor(out).softmax(1).numpy()
        labels = _labels(cfg.get("run") or {}, probs.shape[1])
        w.writerow(["class", *[f"p{c}" for c in labels]])
        for c, p in zip(out.argmax(1), probs, strict=True):
            w.writerow([labels[int(c)], *[f"{v:.6g}" for v in p]])
    else:
        out = out.reshape(len(out), -1)
        w.writerow([f"y{i}" for i in range(out.shape[1])] if out.shape[1] > 1 else ["value"])
        for r in out:
            w.writerow([f"{v:.6g}" for v in r])
    if args.out:
        from gradfit.train.checkpoint import atomic_write

        atomic_write(args.out, buf.getvalue().encode(), parents=False)
    else:
        sys.stdout.write(buf.getvalue())
    return 0
