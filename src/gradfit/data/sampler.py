"""Samplers: the order in which a loader visits a dataset, one epoch at a time.

Each sampler draws a whole epoch of indices as one NumPy array (:meth:`Sampler.indices`):
a permutation for :class:`RandomSampler` (every index exactly once, in a uniformly random
order), draws with replacement when ``replacement=True``. :class:`BatchSampler` cuts that
array into batches. Iterating a sampler yields Python ints, as in PyTorch.

Differences from PyTorch: ``generator`` is a NumPy ``Generator`` (gradfit's default
generator when None, so ``gf.manual_seed`` makes shuffles reproducible), and
:class:`BatchSampler` yields index arrays rather than lists.

Example:
    >>> import gradfit as gf
    >>> _ = gf.manual_seed(0)
    >>> sorted(RandomSampler(range(5)))
    [0, 1, 2, 3, 4]
    >>> [b.tolist() for b in BatchSampler(SequentialSampler(range(5)), 2, drop_last=False)]
    [[0, 1], [2, 3], [4]]
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Iterator, Sequence, Sized
from typing import Any

import numpy as np

from gradfit.random import default_generator

#: Epochs longer than this many indices are drawn lazily, one chunk at a time.
CHUNK = 1 << 20


class Sampler:
    """Base class: ``indices()`` returns one epoch of indices as an int64 array.

    A PyTorch-style sampler that defines only ``__iter__`` (and ``__len__``) works too:
    loaders then read its indices as it yields them.

    Example:
        >>> class Reverse(Sampler):
        ...     def __init__(self, n): self.n = n
        ...     def __len__(self): return self.n
        ...     def indices(self): return np.arange(self.n)[::-1].copy()
        >>> list(Reverse(3))
        [2, 1, 0]
    """

    def __init__(self, data_source: Sized | None = None) -> None:
        pass

    def indices(self) -> np.ndarray:
        """One epoch of indices.

        Example:
            >>> SequentialSampler(range(3)).indices()
            array([0, 1, 2])
        """
        if type(self).__iter__ is not Sampler.__iter__:
            return np.fromiter(iter(self), dtype=np.int64)
        raise NotImplementedError(f"{type(self).__name__} must implement indices() or __iter__")

    def chunks(self) -> Iterator[np.ndarray]:
        """One epoch as consecutive index arrays (one array unless the epoch is huge).

        Example:
            >>> [c.tolist() for c in SequentialSampler(range(3)).chunks()]
            [[0, 1, 2]]
        """
        if type(self).indices is Sampler.indices and type(self).__iter__ is not Sampler.__iter__:
            yield from iter_chunks(iter(self))
        else:
            yield self.indices()

    def __iter__(self) -> Iterator[int]:
        for chunk in self.chunks():
            yield from chunk.tolist()

    def __len__(self) -> int:
        raise NotImplementedError(f"{type(self).__name__} must implement __len__")


class SequentialSampler(Sampler):
    """Indices ``0, 1, ..., len(data_source) - 1`` in order.

    Example:
        >>> list(SequentialSampler([10, 20, 30]))
        [0, 1, 2]
    """

    def __init__(self, data_source: Sized) -> None:
        self.data_source = data_source

    def __len__(self) -> int:
        return len(self.data_source)

    def indices(self) -> np.ndarray:
        """``arange(len(data_source))``.

        Example:
            >>> SequentialSampler(range(2)).indices()
            array([0, 1])
        """
        return np.arange(len(self.data_source), dtype=np.int64)


class RandomSampler(Sampler):
    """A random order: a fresh permutation per epoch, or draws with replacement.

    Args:
        data_source: anything with a length.
        replacement: draw ``num_samples`` indices uniformly with replacement (an index
            may repeat or be missed); without replacement every index appears exactly
            once per epoch.
        num_samples: how many indices per epoch (default ``len(data_source)``); without
            replacement it may exceed the length, then whole permutations are chained.
        generator: a ``numpy.random.Generator``; gradfit's default generator when None
            (looked up at every epoch, so ``gf.manual_seed`` takes effect).

    Example:
        >>> g = np.random.default_rng(0)
        >>> idx = RandomSampler(range(6), generator=g).indices()
        >>> sorted(idx.tolist())
        [0, 1, 2, 3, 4, 5]
        >>> len(RandomSampler(range(6), replacement=True, num_samples=10))
        10
    """

    def __init__(
        self,
        data_source: Sized,
        replacement: bool = False,
        num_samples: int | None = None,
        generator: np.random.Generator | None = None,
    ) -> None:
        if not isinstance(replacement, bool):
            raise TypeError(f"RandomSampler: replacement must be a bool, got {replacement!r}")
        if num_samples is not None and (
            not isinstance(num_samples, int | np.integer) or num_samples <= 0
        ):
            raise ValueError(
                f"RandomSampler: num_samples must be a positive integer, got {num_samples!r}"
            )
        if generator is not None and not isinstance(generator, np.random.Generator):
            raise TypeError(
                "RandomSampler: generator must be a numpy.random.Generator, "
                f"got {type(generator).__name__}"
            )
        self.data_source = data_source
        self.replacement = replacement
        self._num_samples = num_samples
        self.generator = generator

    @property
    def num_samples(self) -> int:
        """Indices per epoch.

        Example:
            >>> RandomSampler(range(4)).num_samples
            4
        """
        return len(self.data_source) if self._num_samples is None else int(self._num_samples)

    def __len__(self) -> int:
        return self.num_samples

    def indices(self) -> np.ndarray:
        """One epoch: a permutation (or chained permutations), or uniform draws with replacement.

        Example:
            >>> idx = RandomSampler(range(3), generator=np.random.default_rng(1)).indices()
            >>> sorted(idx.tolist())
            [0, 1, 2]
        """
        n = len(self.data_source)
        if n == 0:
            raise ValueError("RandomSampler: the dataset is empty")
        gen = self.generator if self.generator is not None else default_generator()
        m = self.num_samples
        if m > CHUNK:
            return np.concatenate(list(self.chunks()))
        if self.replacement:
            return gen.integers(0, n, size=m, dtype=np.int64)
        if m == n:
            return gen.permutation(n).astype(np.int64, copy=False)
        reps = -(-m // n)
        return np.concatenate([gen.permutation(n) for _ in range(reps)])[:m].astype(np.int64)

    def chunks(self) -> Iterator[np.ndarray]:
        """Like :meth:`indices`, drawn lazily when the epoch is longer than :data:`CHUNK`.

        ``RandomSampler(ds, replacement=True, num_samples=10**10)`` costs memory for one
        chunk at a time, not for ten billion indices.

        Example:
            >>> s = RandomSampler(range(3), replacement=True, num_samples=10**10)
            >>> first = next(s.chunks()); first.shape, int(first.max()) < 3
            ((1048576,), True)
        """
        m = self.num_samples
        if m <= CHUNK:
            yield self.indices()
            return
        n = len(self.data_source)
        if n == 0:
            raise ValueError("RandomSampler: the dataset is empty")
        gen = self.generator if self.generator is not None else default_generator()
        left = m
        while left > 0:
            k = min(left, CHUNK) if self.replacement else min(left, n)
            if self.replacement:
                yield gen.integers(0, n, size=k, dtype=np.int64)
            else:
                yield gen.permutation(n)[:k].astype(np.int64, copy=False)
            left -= k


def iter_chunks(it: Iterable[Any], size: int = 4096) -> Iterator[np.ndarray]:
    """Read an iterable of ints as int64 arrays of up to ``size`` indices.

    Example:
        >>> [c.tolist() for c in iter_chunks(range(5), size=2)]
        [[0, 1], [2, 3], [4]]
    """
    it = iter(it)
    while True:
        chunk = np.fromiter(itertools.islice(it, size), dtype=np.int64)
        if chunk.size == 0:
            return
        yield chunk


class SubsetRandomSampler(Sampler):
    """The given indices in a random order, a new one each epoch (no replacement).

    Args:
        indices: the indices to visit.
        generator: a :class:`gradfit.Generator` (gradfit's default one when None).

    Example:
        >>> import gradfit as gf
        >>> sorted(SubsetRandomSampler([5, 1, 3], generator=gf.Generator().manual_seed(0)))
        [1, 3, 5]
    """

    def __init__(
        self, indices: Sequence[int] | np.ndarray, generator: np.random.Generator | None = None
    ) -> None:
        arr = np.asarray(indices)
        if arr.ndim != 1 or (arr.size and arr.dtype.kind not in "iu"):
            raise ValueError(
                f"SubsetRandomSampler: indices must be a 1-D sequence of integers, got {indices!r}"
            )
        self._indices = arr.astype(np.int64)
        self.generator = generator

    def __len__(self) -> int:
        return int(self._indices.shape[0])

    def indices(self) -> np.ndarray:
        gen = self.generator if self.generator is not None else default_generator()
        return self._indices[gen.permutation(self._indices.shape[0])]


class WeightedRandomSampler(Sampler):
    """Draw ``num_samples`` indices with probabilities proportional to ``weights``.

    Args:
        weights: one non-negative weight per index (need not sum to 1).
        num_samples: indices per epoch.
        replacement: draw with replacement (default, as PyTorch); without it each index
            appears at most once, so ``num_samples`` cannot exceed the non-zero weights.
        generator: a :class:`gradfit.Generator` (gradfit's default one when None).

    Example:
        >>> import gradfit as gf
        >>> s = WeightedRandomSampler([0.0, 1.0, 0.0], 4, generator=gf.Generator().manual_seed(0))
        >>> list(s)
        [1, 1, 1, 1]
    """

    def __init__(
        self,
        weights: Sequence[float] | np.ndarray,
        num_samples: int,
        replacement: bool = True,
        generator: np.random.Generator | None = None,
    ) -> None:
        if (
            not isinstance(num_samples, int | np.integer)
            or isinstance(num_samples, bool)
            or num_samples <= 0
        ):
            raise ValueError(
                f"WeightedRandomSampler: num_samples should be a positive integer value, but got "
                f"num_samples={num_samples!r}"
            )
        if not isinstance(replacement, bool):
            raise ValueError(
                f"WeightedRandomSampler: replacement should be a boolean value, but got "
                f"replacement={replacement!r}"
            )
        w = np.asarray(weights._data if hasattr(weights, "_data") else weights, dtype=np.float64)
        if w.ndim != 1:
            raise ValueError(
                f"WeightedRandomSampler: weights should be a 1-D sequence, got shape {w.shape}"
            )
        if not np.all(np.isfinite(w)) or np.any(w < 0) or w.sum() <= 0:
            raise RuntimeError(
                "WeightedRandomSampler: invalid weights (they must be finite, non-negative "
                "and have a positive sum)"
            )
        if not replacement and num_samples > np.count_nonzero(w):
            raise RuntimeError(
                f"WeightedRandomSampler: cannot draw {num_samples} samples without replacement "
                f"from {np.count_nonzero(w)} non-zero weights"
            )
        self.weights = w
        self.num_samples = int(num_samples)
        self.replacement = replacement
        self.generator = generator

    def __len__(self) -> int:
        return self.num_samples

    def indices(self) -> np.ndarray:
        gen = self.generator if self.generator is not None else default_generator()
        p = self.weights / self.weights.sum()
        return gen.choice(p.shape[0], size=self.num_samples, replace=self.replacement, p=p).astype(
            np.int64
        )


class BatchSampler:
    """Cuts another sampler's epoch into batches of ``batch_size`` index arrays.

    Args:
        sampler: a :class:`Sampler` (or any iterable of ints with a length).
        batch_size: indices per batch.
        drop_last: drop the last batch when it is smaller than ``batch_size``.

    Example:
        >>> bs = BatchSampler(SequentialSampler(range(7)), batch_size=3, drop_last=True)
        >>> len(bs), [b.tolist() for b in bs]
        (2, [[0, 1, 2], [3, 4, 5]])
    """

    def __init__(self, sampler: Sampler | Sized, batch_size: int, drop_last: bool) -> None:
        if (
            not isinstance(batch_size, int | np.integer)
            or isinstance(batch_size, bool)
            or batch_size <= 0
        ):
            raise ValueError(
                f"BatchSampler: batch_size must be a positive integer, got {batch_size!r}"
            )
        if not isinstance(drop_last, bool):
            raise TypeError(f"BatchSampler: drop_last must be a bool, got {drop_last!r}")
        self.sampler = sampler
        self.batch_size = int(batch_size)
        self.drop_last = drop_last

    def _chunks(self) -> Iterator[np.ndarray]:
        if isinstance(self.sampler, Sampler):
            return self.sampler.chunks()
        return iter_chunks(iter(self.sampler), max(4096, self.batch_size))

    def __iter__(self) -> Iterator[np.ndarray]:
        bs = self.batch_size
        carry: np.ndarray | None = None
        for chunk in self._chunks():
            idx = chunk if carry is None else np.concatenate([carry, chunk])
            full = idx.shape[0] - idx.shape[0] % bs
            for start in range(0, full, bs):
                yield idx[start : start + bs]
            carry = idx[full:] if full < idx.shape[0] else None
        if carry is not None and not self.drop_last:
            yield carry

    def __len__(self) -> int:
        n = len(self.sampler)
        if self.drop_last:
            return n // self.batch_size
        return -(-n // self.batch_size)
