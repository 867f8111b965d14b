"""``History``: what a training run measured, epoch by epoch.

Each epoch is one row (a dict) with ``epoch`` (1-based), ``train_loss``,
``train_<metric>``, ``val_loss``, ``val_<metric>`` (when there is validation
data), ``lr`` and ``time`` (seconds). It serialises to JSON and CSV.

Example:
    >>> h = History()
    >>> h.append({"epoch": 1, "train_loss": 0.9, "val_loss": 1.0, "lr": 0.1, "time": 0.5})
    >>> h.append({"epoch": 2, "train_loss": 0.5, "val_loss": 0.7, "lr": 0.1, "time": 0.5})
    >>> h["val_loss"]
    [1.0, 0.7]
    >>> h.best("val_loss")
    (2, 0.7)
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any


@dataclass
class History:
    """Per-epoch records of a run; ``history[key]`` gives one column as a list.

    Example:
        >>> History([{"epoch": 1, "train_loss": 2.0}]).keys()
        ['epoch', 'train_loss']
    """

    rows: list[dict[str, Any]] = field(default_factory=list)

    def append(self, row: dict[str, Any]) -> None:
        """Add one epoch's record."""
        self.rows.append(dict(row))

    def __len__(self) -> int:
        return len(self.rows)

    def __iter__(self) -> Iterator[dict[str, Any]]:
        return iter(self.rows)

    def __getitem__(self, key: str) -> list[Any]:
        if not any(key in r for r in self.rows):
            raise KeyError(f"History has no column {key!r}; it has {self.keys()}")
        return [r.get(key, math.nan) for r in self.rows]

    def __contains__(self, key: object) -> bool:
        return any(key in r for r in self.rows)

    def keys(self) -> list[str]:
        """Column names in first-seen order."""
        out: list[str] = []
        for r in self.rows:
            out += [k for k in r if k not in out]
        return out

    def last(self, key: str, default: Any = None) -> Any:
        """The latest value of a column (``default`` if never recorded)."""
        for r in reversed(self.rows):
            if key in r:
                return r[key]
        return default

    def best(self, key: str, mode: str = "min") -> tuple[int, float]:
        """``(epoch, value)`` of the best value of ``key`` (``mode`` 'min' or 'max')."""
        vals = [(r.get("epoch", i + 1), r[key]) for i, r in enumerate(self.rows) if key in r]
        if not vals:
            raise KeyError(f"History has no column {key!r}")
        finite = [v for v in vals if not math.isnan(v[1])] or vals
        return (min if mode == "min" else max)(finite, key=lambda v: v[1])

    def to_dict(self) -> dict[str, list[Any]]:
        """Columns as lists (JSON-friendly)."""
        return {k: self[k] for k in self.keys()}

    @classmethod
    def from_rows(cls, rows: list[dict[str, Any]]) -> History:
        """Rebuild from ``rows`` (as stored in a checkpoint's JSON)."""
        return cls([dict(r) for r in rows])

    def to_csv(self) -> str:
        """The history as CSV text, one row per epoch."""
        buf = io.StringIO()
        w = csv.DictWriter(buf, fieldnames=self.keys(), lineterminator="\n")
        w.writeheader()
        for r in self.rows:
            w.writerow(r)
        return buf.getvalue()
