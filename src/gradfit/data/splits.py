"""What :func:`~gradfit.data.load_dataset` returns, and the seeded splits behind it.

A :class:`DatasetSplits` holds three named splits, ``train``, ``val`` and ``test``, each a
:class:`Split` ``(x, y)`` of NumPy arrays (float32 inputs; int64 class labels or float32
targets), and a :class:`DatasetInfo` description (source, licence, task, shapes, classes).
Splits are made with a NumPy generator seeded by the dataset's ``seed`` option, not with
gradfit's global generator, so the same options always give the same split.

Example:
    >>> import numpy as np
    >>> y = np.repeat(np.arange(2), 10)
    >>> tr, va, te = split_indices(y, val_fraction=0.1, test_fraction=0.2, seed=0, stratify=True)
    >>> len(tr), len(va), len(te), np.bincount(y[te]).tolist()
    (14, 2, 4, [2, 2])
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import numpy as np


class Split(NamedTuple):
    """One split: inputs ``x`` and targets ``y`` (unpacks as ``x, y = ds.train``).

    Example:
        >>> s = Split(np.zeros((3, 2), np.float32), np.zeros(3, np.int64))
        >>> x, y = s
        >>> s.x.shape, len(s.y)
        ((3, 2), 3)
    """

    x: np.ndarray
    y: np.ndarray


@dataclass
class DatasetInfo:
    """What a dataset is: where it comes from, its licence, task, shapes and classes.

    ``task`` is ``"classification"``, ``"regression"`` or ``"ratings"``. ``input_shape`` is
    the shape of one sample of ``x``; ``target_shape`` that of one ``y`` (``()`` for labels).

    Example:
        >>> info = DatasetInfo("toy", "classification", "made up", "CC0", (2,), (), ("a", "b"))
        >>> info.num_classes
        2
    """

    name: str
    task: str
    source: str
    licence: str
    input_shape: tuple[int, ...]
    target_shape: tuple[int, ...]
    classes: tuple[str, ...] | None = None
    summary: str = ""
    feature_names: tuple[str, ...] | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def num_classes(self) -> int | None:
        """The number of classes (None unless the task is classification).

        Example:
            >>> DatasetInfo("t", "regression", "s", "l", (1,), (1,)).num_classes is None
            True
        """
        return None if self.classes is None else len(self.classes)

    def __str__(self) -> str:
        lines = [f"{self.name}: {self.summary}" if self.summary else self.name]
        lines.append(f"  task:    {self.task}")
        lines.append(f"  inputs:  {self.input_shape}   targets: {self.target_shape}")
        if self.classes is not None:
            shown = ", ".join(self.classes[:12]) + (", ..." if len(self.classes) > 12 else "")
            lines.append(f"  classes: {len(self.classes)} ({shown})")
        for k, v in self.extra.items():
            lines.append(f"  {k}: {v}")
        lines.append(f"  source:  {self.source}")
        lines.append(f"  licence: {self.licence}")
        return "\n".join(lines)


class DatasetSplits:
    """Named splits ``train`` / ``val`` / ``test`` and a ``description``.

    ``ds["train"]`` and ``ds.train`` are the same :class:`Split`. ``extras`` holds
    anything else a dataset provides (e.g. the true factors of ``synthetic-ratings``).

    Example:
        >>> z = Split(np.zeros((2, 1), np.float32), np.zeros(2, np.int64))
        >>> info = DatasetInfo("toy", "classification", "s", "l", (1,), (), ("0",))
        >>> ds = DatasetSplits(z, z, z, info)
        >>> ds.sizes
        {'train': 2, 'val': 2, 'test': 2}
    """

    split_names = ("train", "val", "test")

    def __init__(
        self,
        train: Split,
        val: Split,
        test: Split,
        description: DatasetInfo,
        extras: dict[str, Any] | None = None,
    ) -> None:
        self.train, self.val, self.test = (Split(*s) for s in (train, val, test))
        self.description = description
        self.extras = dict(extras or {})

    def __getitem__(self, name: str) -> Split:
        if name not in self.split_names:
            raise KeyError(f"no split {name!r}; the splits are {', '.join(self.split_names)}")
        return getattr(self, name)

    @property
    def sizes(self) -> dict[str, int]:
        """Samples per split.

        Example:
            >>> from gradfit.data import load_dataset
            >>> load_dataset("xor", n_samples=100).sizes
            {'train': 70, 'val': 10, 'test': 20}
        """
        return {n: int(self[n].x.shape[0]) for n in self.split_names}

    @property
    def task(self) -> str:
        """``"classification"``, ``"regression"`` or ``"ratings"``.

        Example:
            >>> from gradfit.data import load_dataset
            >>> load_dataset("sine", n_samples=20).task
            'regression'
        """
        return self.description.task

    @property
    def num_classes(self) -> int | None:
        """Number of classes for classification, else None.

        Example:
            >>> from gradfit.data import load_dataset
            >>> load_dataset("moons", n_samples=20).num_classes
            2
        """
        return self.description.num_classes

    def select_classes(
        self, classes: Sequence[int], train_per_class: int | None = None, seed: int = 0
    ) -> DatasetSplits:
        """Keep only ``classes`` (relabelled ``0..k-1`` in the order given), optionally few.

        The tool of transfer-learning experiments: train on some classes, fine-tune on the
        others from a handful of examples. ``train_per_class`` keeps that many training
        samples of each class, drawn without replacement with ``seed``; validation and
        test keep every sample of the chosen classes, so the accuracy stays comparable.

        Raises:
            ValueError: not a classification dataset, a class that does not exist or is
                repeated, or fewer training samples of a class than ``train_per_class``.

        Example:
            >>> from gradfit.data import load_dataset
            >>> ds = load_dataset("digits").select_classes([5, 6, 7, 8, 9], train_per_class=10)
            >>> ds.sizes["train"], ds.num_classes, ds.description.classes[0]
            (50, 5, '5')
            >>> sorted(set(ds.test.y.tolist()))
            [0, 1, 2, 3, 4]
        """
        info = self.description
        who = f"select_classes ({info.name})"
        if info.classes is None:
            raise ValueError(f"{who}: only classification datasets have classes ({info.task})")
        picked = [int(c) for c in classes]
        bad = [c for c in picked if not 0 <= c < len(info.classes)]
        if bad or not picked or len(set(picked)) != len(picked):
            raise ValueError(
                f"{who}: classes must be distinct labels in 0..{len(info.classes) - 1}, "
                f"got {list(classes)}"
            )
        if train_per_class is not None and (
            isinstance(train_per_class, bool) or int(train_per_class) < 1
        ):
            raise ValueError(f"{who}: train_per_class must be >= 1, got {train_per_class!r}")
        lookup = np.full(len(info.classes), -1, dtype=np.int64)
        lookup[picked] = np.arange(len(picked))
        rng = np.random.default_rng(seed)

        def keep(split: Split, per_class: int | None) -> Split:
            new = lookup[split.y]
            idx = np.flatnonzero(new >= 0)
            if per_class is not None:
                chosen = []
                for k, c in enumerate(picked):
                    hits = idx[new[idx] == k]
                    if len(hits) < per_class:
                        raise ValueError(
                            f"{who}: class {info.classes[c]!r} has {len(hits)} training samples, "
                            f"fewer than train_per_class={per_class}"
                        )
                    chosen.append(np.sort(rng.choice(hits, per_class, replace=False)))
                idx = np.concatenate(chosen)
            return Split(split.x[idx], new[idx])

        described = dataclasses.replace(info, classes=tuple(info.classes[c] for c in picked))
        return DatasetSplits(
            keep(self.train, train_per_class),
            keep(self.val, None),
            keep(self.test, None),
            described,
            self.extras,
        )

    def __repr__(self) -> str:
        sizes = ", ".join(f"{k}={v}" for k, v in self.sizes.items())
        return (
            f"DatasetSplits({self.description.name!r}, {self.description.task}, {sizes}, "
            f"input_shape={self.description.input_shape})"
        )


def _apportion(counts: np.ndarray, k: int) -> np.ndarray:
    """Split ``k`` among groups proportionally to ``counts`` (largest remainder)."""
    total = int(counts.sum())
    if k == 0 or total == 0:
        return np.zeros_like(counts)
    quota = counts * (k / total)
    alloc = np.floor(quota).astype(np.int64)
    rest = k - int(alloc.sum())
    if rest > 0:
        order = np.argsort(-(quota - alloc), kind="stable")
        alloc[order[:rest]] += 1
    return np.minimum(alloc, counts)


def split_indices(
    y: np.ndarray | int,
    val_fraction: float,
    test_fraction: float,
    seed: int,
    stratify: bool,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Seeded train / val / test index arrays.

    The test split has ``round(test_fraction * n)`` samples and the validation split
    ``round(val_fraction * n)``; the rest is training. With ``stratify`` every class keeps
    its proportion in each split (up to rounding: largest-remainder allocation per class).
    ``y`` may be an int ``n`` when not stratifying.

    Example:
        >>> tr, va, te = split_indices(10, 0.2, 0.2, seed=0, stratify=False)
        >>> len(tr), len(va), len(te), sorted(np.concatenate([tr, va, te]).tolist()) == list(range(10))
        (6, 2, 2, True)
    """
    for name, f in (("val_fraction", val_fraction), ("test_fraction", test_fraction)):
        if not 0.0 <= f < 1.0:
            raise ValueError(f"{name} must be in [0, 1), got {f}")
    if val_fraction + test_fraction >= 1.0:
        raise ValueError(
            f"val_fraction + test_fraction must be below 1 (leave some training data), got "
            f"{val_fraction} + {test_fraction}"
        )
    n = int(y) if isinstance(y, int | np.integer) else int(np.asarray(y).shape[0])
    n_test, n_val = round(test_fraction * n), round(val_fraction * n)
    gen = np.random.Generator(np.random.PCG64(seed))
    if not stratify:
        perm = gen.permutation(n)
        return perm[n_test + n_val :], perm[n_test : n_test + n_val], perm[:n_test]
    labels = np.asarray(y)
    _, inv = np.unique(labels, return_inverse=True)
    inv = inv.reshape(-1)
    counts = np.bincount(inv)
    a_test = _apportion(counts, n_test)
    a_val = _apportion(counts - a_test, n_val)
    parts: tuple[list[np.ndarray], list[np.ndarray], list[np.ndarray]] = ([], [], [])
    for c in range(counts.shape[0]):
        idx = gen.permutation(np.flatnonzero(inv == c))
        t, v = int(a_test[c]), int(a_val[c])
        parts[2].append(idx[:t])
        parts[1].append(idx[t : t + v])
        parts[0].append(idx[t + v :])
    tr, va, te = (gen.permutation(np.concatenate(p)) for p in parts)
    return tr, va, te


def make_splits(
    x: np.ndarray,
    y: np.ndarray,
    info: DatasetInfo,
    *,
    val_fraction: float,
    test_fraction: float,
    seed: int,
    stratify: bool,
    extras: dict[str, Any] | None = None,
) -> DatasetSplits:
    """Split one pool of samples into a :class:`DatasetSplits`.

    Example:
        >>> info = DatasetInfo("toy", "regression", "s", "l", (1,), (1,))
        >>> x = np.arange(10, dtype=np.float32)[:, None]
        >>> make_splits(x, x, info, val_fraction=0.1, test_fraction=0.2, seed=0, stratify=False).sizes
        {'train': 7, 'val': 1, 'test': 2}
    """
    tr, va, te = split_indices(
        y if stratify else x.shape[0], val_fraction, test_fraction, seed, stratify
    )
    return DatasetSplits(
        Split(x[tr], y[tr]), Split(x[va], y[va]), Split(x[te], y[te]), info, extras
    )


def carve_validation(
    x_train: np.ndarray,
    y_train: np.ndarray,
    x_test: np.ndarray,
    y_test: np.ndarray,
    info: DatasetInfo,
    *,
    val_fraction: float,
    seed: int,
    stratify: bool,
) -> DatasetSplits:
    """Keep a dataset's own test set; take a seeded validation split out of its training set.

    Example:
        >>> info = DatasetInfo("toy", "classification", "s", "l", (1,), (), ("0", "1"))
        >>> x = np.zeros((10, 1), np.float32); y = np.arange(10) % 2
        >>> carve_validation(x, y, x[:3], y[:3], info, val_fraction=0.2, seed=0, stratify=True).sizes
        {'train': 8, 'val': 2, 'test': 3}
    """
    tr, va, _ = split_indices(
        y_train if stratify else x_train.shape[0], val_fraction, 0.0, seed, stratify
    )
    return DatasetSplits(
        Split(x_train[tr], y_train[tr]),
        Split(x_train[va], y_train[va]),
        Split(x_test, y_test),
        info,
    )
