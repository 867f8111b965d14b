"""Datasets: what a :class:`~gradfit.data.DataLoader` draws mini-batches from.

A dataset has a length and returns one sample per index, as in PyTorch. Array-backed
datasets (:class:`ArrayDataset`, :class:`TensorDataset`, and :class:`Subset` or
:class:`ConcatDataset` of them) also answer a whole batch of indices at once with
:meth:`Dataset.get_batch`, by NumPy fancy indexing: that is how the loader batches them,
with no Python loop per sample.

Example:
    >>> import numpy as np
    >>> from gradfit.data import ArrayDataset
    >>> ds = ArrayDataset(np.arange(10.0).reshape(5, 2), np.arange(5))
    >>> len(ds), ds[1]
    (5, (array([2., 3.]), np.int64(1)))
    >>> ds.get_batch(np.array([4, 0]))[0]
    array([[8., 9.],
           [0., 1.]])
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np

from gradfit.random import default_generator


def _as_index_array(indices: Any, n: int, who: str) -> np.ndarray:
    """``indices`` as an int64 array, with negative indices wrapped and bounds checked."""
    idx = np.asarray(indices)
    if idx.dtype.kind not in "iu":
        if idx.size == 0:
            idx = idx.astype(np.int64)
        else:
            raise TypeError(f"{who}: indices must be integers, got dtype {idx.dtype}")
    idx = idx.astype(np.int64, copy=False)
    if idx.size and (idx.min() < -n or idx.max() >= n):
        bad = idx[(idx < -n) | (idx >= n)][0]
        raise IndexError(f"{who}: index {int(bad)} is out of range for a dataset of length {n}")
    if idx.size and idx.min() < 0:
        idx = np.where(idx < 0, idx + n, idx)
    return idx


class Dataset:
    """The base class: a sized collection of samples (PyTorch's ``torch.utils.data.Dataset``).

    Subclasses implement ``__getitem__(i)`` (one sample, usually a tuple ``(x, y)``) and
    ``__len__``. :meth:`get_batch` has a generic implementation that stacks samples one by
    one; array-backed subclasses override it with fancy indexing. ``ds1 + ds2`` concatenates.

    Example:
        >>> class Squares(Dataset):
        ...     def __len__(self): return 4
        ...     def __getitem__(self, i): return (float(i), i * i)
        >>> Squares().get_batch([1, 3])
        (array([1., 3.]), array([1, 9]))
    """

    def __getitem__(self, index: int) -> Any:
        raise NotImplementedError(f"{type(self).__name__} must implement __getitem__")

    def __len__(self) -> int:
        raise NotImplementedError(f"{type(self).__name__} must implement __len__")

    def get_batch(self, indices: Sequence[int] | np.ndarray) -> tuple[np.ndarray, ...]:
        """The samples at ``indices``, stacked into one array per field.

        Example:
            >>> ArrayDataset(np.arange(3)).get_batch([2, 0])
            (array([2, 0]),)
        """
        samples = [self[int(i)] for i in np.asarray(indices).reshape(-1)]
        if not samples:
            raise ValueError(f"{type(self).__name__}.get_batch: no indices given")
        if isinstance(samples[0], tuple | list):
            return tuple(
                np.stack([np.asarray(s[k]) for s in samples]) for k in range(len(samples[0]))
            )
        return (np.stack([np.asarray(s) for s in samples]),)

    def __add__(self, other: Dataset) -> ConcatDataset:
        return ConcatDataset([self, other])


class IterableDataset(Dataset):
    """A dataset that is a stream: it defines ``__iter__`` instead of ``__getitem__``.

    As PyTorch's ``IterableDataset``: the loader takes ``batch_size`` samples at a time
    from ``iter(dataset)``. With ``num_workers > 0`` every worker iterates its own copy,
    so split the work with :func:`~gradfit.data.get_worker_info` to avoid duplicates.

    Example:
        >>> import gradfit as gf
        >>> class Count(gf.data.IterableDataset):
        ...     def __iter__(self): return iter(range(5))
        >>> [b.tolist() for b in gf.data.DataLoader(Count(), batch_size=2)]
        [[0, 1], [2, 3], [4]]
    """

    def __iter__(self) -> Any:
        raise NotImplementedError(f"{type(self).__name__} must implement __iter__")

    def __getitem__(self, index: int) -> Any:
        raise TypeError(f"{type(self).__name__} is an IterableDataset: iterate it, do not index it")

    def __len__(self) -> int:
        raise TypeError(f"{type(self).__name__} is an IterableDataset without a length")

    def __add__(self, other: Any) -> ChainDataset:
        return ChainDataset([self, other])


class ChainDataset(IterableDataset):
    """Iterable datasets one after the other (PyTorch's ``ChainDataset``).

    Example:
        >>> import gradfit as gf
        >>> class R(gf.data.IterableDataset):
        ...     def __init__(self, n): self.n = n
        ...     def __iter__(self): return iter(range(self.n))
        >>> list(ChainDataset([R(2), R(3)]))
        [0, 1, 0, 1, 2]
    """

    def __init__(self, datasets: Iterable[Any]) -> None:
        self.datasets = list(datasets)

    def __iter__(self) -> Any:
        for d in self.datasets:
            yield from d

    def __len__(self) -> int:
        return sum(len(d) for d in self.datasets)


class StackDataset(Dataset):
    """Several datasets of one length side by side: sample ``i`` is a tuple (or dict).

    Example:
        >>> StackDataset([1, 2], [3, 4])[1]
        (2, 4)
        >>> StackDataset(x=[1, 2], y=[3, 4])[0]
        {'x': 1, 'y': 3}
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        if args and kwargs:
            raise ValueError(
                "StackDataset: supported either tuple-like (positional) or dict-like (keyword) "
                "input, but both were given"
            )
        parts = list(args) or list(kwargs.values())
        if not parts:
            raise ValueError("StackDataset: at least one dataset should be passed")
        lengths = {len(p) for p in parts}
        if len(lengths) != 1:
            raise ValueError(f"StackDataset: size mismatch between datasets: {sorted(lengths)}")
        self._length = lengths.pop()
        self.datasets: Any = tuple(args) if args else dict(kwargs)

    def __len__(self) -> int:
        return self._length

    def __getitem__(self, index: int) -> Any:
        if isinstance(self.datasets, dict):
            return {k: d[index] for k, d in self.datasets.items()}
        return tuple(d[index] for d in self.datasets)


class ArrayDataset(Dataset):
    """Samples held in NumPy arrays with equal first dimensions, indexed in bulk.

    ``ds[i]`` is the tuple ``(a[i], b[i], ...)``; ``ds[idx]`` with an index array or a slice
    returns the whole batch at once (one fancy-indexing operation per array). The arrays are
    kept as given (no copy); batches are copies, so training never writes into the dataset.

    Args:
        *arrays: one or more array-likes, all with the same length along axis 0.

    Example:
        >>> x = np.zeros((6, 3), dtype=np.float32); y = np.arange(6)
        >>> ds = ArrayDataset(x, y)
        >>> xb, yb = ds[np.array([0, 5])]
        >>> xb.shape, yb
        ((2, 3), array([0, 5]))
    """

    def __init__(self, *arrays: Any) -> None:
        if not arrays:
            raise ValueError(f"{type(self).__name__}: expected at least one array, got none")
        arrs = tuple(self._to_array(a) for a in arrays)
        for k, a in enumerate(arrs):
            if a.ndim == 0:
                raise ValueError(
                    f"{type(self).__name__}: array {k} is a scalar; every array needs a first "
                    "(sample) dimension"
                )
        n = arrs[0].shape[0]
        for k, a in enumerate(arrs[1:], start=1):
            if a.shape[0] != n:
                raise ValueError(
                    f"{type(self).__name__}: every array must have the same length along axis 0; "
                    f"array 0 has {n}, array {k} has {a.shape[0]}"
                )
        self.arrays = arrs

    @staticmethod
    def _to_array(a: Any) -> np.ndarray:
        return np.asarray(getattr(a, "data", a) if not isinstance(a, np.ndarray) else a)

    def __len__(self) -> int:
        return int(self.arrays[0].shape[0])

    def __getitem__(self, index: Any) -> tuple[Any, ...]:
        if isinstance(index, int | np.integer):
            n = len(self)
            if not -n <= index < n:
                raise IndexError(
                    f"{type(self).__name__}: index {int(index)} is out of range for length {n}"
                )
            return tuple(a[index] for a in self.arrays)
        if isinstance(index, slice):
            return tuple(a[index].copy() for a in self.arrays)
        return self.get_batch(index)

    def get_batch(self, indices: Sequence[int] | np.ndarray) -> tuple[np.ndarray, ...]:
        """One fancy-indexing gather per array (a copy).

        Example:
            >>> ArrayDataset(np.arange(4) * 10).get_batch(np.array([3, 1]))
            (array([30, 10]),)
        """
        idx = _as_index_array(indices, len(self), f"{type(self).__name__}.get_batch")
        return tuple(a.take(idx, axis=0) for a in self.arrays)

    def __repr__(self) -> str:
        shapes = ", ".join(f"{a.shape} {a.dtype}" for a in self.arrays)
        return f"{type(self).__name__}({len(self)} samples: {shapes})"


class TensorDataset(ArrayDataset):
    """PyTorch's ``TensorDataset``: gradfit Tensors (or arrays) sharing their first dimension.

    Indexing returns Tensors; the DataLoader batches the underlying arrays in bulk like
    :class:`ArrayDataset` and yields Tensors.

    Example:
        >>> import gradfit as gf
        >>> ds = TensorDataset(gf.ones(4, 2), gf.arange(4))
        >>> x, y = ds[2]
        >>> x, y
        (tensor([1., 1.]), tensor(2))
    """

    def __getitem__(self, index: Any) -> tuple[Any, ...]:
        from gradfit.tensor import Tensor

        return tuple(Tensor(np.asarray(a)) for a in super().__getitem__(index))


class Subset(Dataset):
    """The samples of ``dataset`` at ``indices`` (PyTorch's ``Subset``).

    Example:
        >>> base = ArrayDataset(np.arange(10))
        >>> sub = Subset(base, [7, 2, 5])
        >>> len(sub), sub[0], sub.get_batch([2, 1])
        (3, (np.int64(7),), (array([5, 2]),))
    """

    def __init__(self, dataset: Dataset, indices: Sequence[int] | np.ndarray) -> None:
        self.dataset = dataset
        self.indices = _as_index_array(indices, len(dataset), "Subset").reshape(-1)

    def __len__(self) -> int:
        return int(self.indices.shape[0])

    def __getitem__(self, index: Any) -> Any:
        if isinstance(index, int | np.integer):
            n = len(self)
            if not -n <= index < n:
                raise IndexError(f"Subset: index {int(index)} is out of range for length {n}")
            return self.dataset[int(self.indices[index])]
        return self.get_batch(np.arange(len(self))[index] if isinstance(index, slice) else index)

    def get_batch(self, indices: Sequence[int] | np.ndarray) -> tuple[np.ndarray, ...]:
        """Maps the indices through the subset and gathers from the parent in bulk.

        Example:
            >>> Subset(ArrayDataset(np.arange(5)), [4, 3]).get_batch([0])
            (array([4]),)
        """
        idx = _as_index_array(indices, len(self), "Subset.get_batch")
        return self.dataset.get_batch(self.indices[idx])


class ConcatDataset(Dataset):
    """Several datasets one after another (PyTorch's ``ConcatDataset``).

    ``get_batch`` groups the requested indices by the dataset they fall in, gathers each
    group in bulk and puts the results back in the requested order.

    Example:
        >>> a = ArrayDataset(np.array([0, 1, 2])); b = ArrayDataset(np.array([10, 11]))
        >>> cat = ConcatDataset([a, b])
        >>> len(cat), cat.get_batch([4, 0, 3])
        (5, (array([11,  0, 10]),))
    """

    def __init__(self, datasets: Iterable[Dataset]) -> None:
        self.datasets = list(datasets)
        if not self.datasets:
            raise ValueError("ConcatDataset: expected at least one dataset, got none")
        self.cumulative_sizes = np.cumsum([len(d) for d in self.datasets]).astype(np.int64)

    def __len__(self) -> int:
        return int(self.cumulative_sizes[-1])

    def _locate(self, idx: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        which = np.searchsorted(self.cumulative_sizes, idx, side="right")
        starts = np.concatenate([[0], self.cumulative_sizes[:-1]])
        return which, idx - starts[which]

    def __getitem__(self, index: Any) -> Any:
        if isinstance(index, int | np.integer):
            idx = _as_index_array(np.array([index]), len(self), "ConcatDataset")
            which, local = self._locate(idx)
            return self.datasets[int(which[0])][int(local[0])]
        return self.get_batch(np.arange(len(self))[index] if isinstance(index, slice) else index)

    def get_batch(self, indices: Sequence[int] | np.ndarray) -> tuple[np.ndarray, ...]:
        """Gather per constituent dataset, then reassemble in the requested order.

        Example:
            >>> cat = ArrayDataset(np.array([1, 2])) + ArrayDataset(np.array([3]))
            >>> cat.get_batch([2, 1])
            (array([3, 2]),)
        """
        idx = _as_index_array(indices, len(self), "ConcatDataset.get_batch").reshape(-1)
        which, local = self._locate(idx)
        out: list[np.ndarray] | None = None
        for k in np.unique(which):
            mask = which == k
            part = self.datasets[int(k)].get_batch(local[mask])
            if out is None:
                out = [np.empty((idx.shape[0], *p.shape[1:]), dtype=p.dtype) for p in part]
            if len(part) != len(out):
                raise ValueError(
                    f"ConcatDataset: dataset {int(k)} returns {len(part)} fields per sample, "
                    f"dataset {int(which[0])} returns {len(out)}"
                )
            for o, p in zip(out, part, strict=True):
                o[mask] = p
        if out is None:
            raise ValueError("ConcatDataset.get_batch: no indices given")
        return tuple(out)


def random_split(
    dataset: Dataset,
    lengths: Sequence[int | float],
    generator: np.random.Generator | None = None,
) -> list[Subset]:
    """Split ``dataset`` into non-overlapping random subsets (PyTorch's ``random_split``).

    ``lengths`` are either counts summing to ``len(dataset)`` or fractions summing to 1
    (the remainder of the floor goes one sample at a time to the first subsets, as in
    PyTorch). ``generator`` is a NumPy ``Generator`` (gradfit's default when None).

    Example:
        >>> import gradfit as gf
        >>> _ = gf.manual_seed(0)
        >>> train, val = random_split(ArrayDataset(np.arange(10)), [0.8, 0.2])
        >>> len(train), len(val), sorted(np.concatenate([train.indices, val.indices])) == list(range(10))
        (8, 2, True)
    """
    n = len(dataset)
    lengths = list(lengths)
    if not lengths:
        raise ValueError("random_split: lengths is empty")
    if any(x < 0 for x in lengths):
        raise ValueError(f"random_split: lengths must be non-negative, got {lengths}")
    if all(isinstance(x, float) for x in lengths) and math.isclose(sum(lengths), 1.0):
        counts = [math.floor(n * f) for f in lengths]
        for i in range(n - sum(counts)):
            counts[i % len(counts)] += 1
    else:
        if not all(isinstance(x, int | np.integer) for x in lengths):
            raise ValueError(
                "random_split: lengths must be all integers (summing to the dataset's length) "
                f"or all fractions summing to 1, got {lengths}"
            )
        counts = [int(x) for x in lengths]
    if sum(counts) != n:
        raise ValueError(
            f"random_split: the lengths sum to {sum(counts)} but the dataset has {n} samples"
        )
    gen = generator if generator is not None else default_generator()
    perm = gen.permutation(n)
    bounds = np.cumsum([0, *counts])
    return [Subset(dataset, perm[bounds[i] : bounds[i + 1]]) for i in range(len(counts))]
