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

from collections.abc import Iterator, Sized

import numpy as np

from gradfit.random import default_generator


class Sampler:
    """Base class: ``indices()`` returns one epoch of indices as an int64 array.

    Example:
        >>> class Reverse(Sampler):
        ...     def __init__(self, n): self.n = n
        ...     def __len__(self): return self.n
        ...     def indices(self): return np.arange(self.n)[::-1].copy()
        >>> list(Reverse(3))
        [2, 1, 0]
    """

    def indices(self) -> np.ndarray:
        """One epoch of indices.

        Example:
            >>> SequentialSampler(range(3)).indices()
            array([0, 1, 2])
        """
        raise NotImplementedError(f"{type(self).__name__} must implement indices()")

    def __iter__(self) -> Iterator[int]:
        return iter(self.indices().tolist())

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
        if self.replacement:
            return gen.integers(0, n, size=m, dtype=np.int64)
        if m == n:
            return gen.permutation(n).astype(np.int64, copy=False)
        reps = -(-m // n)
        return np.concatenate([gen.permutation(n) for _ in range(reps)])[:m].astype(np.int64)


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

    def _epoch(self) -> np.ndarray:
        if isinstance(self.sampler, Sampler):
            return self.sampler.indices()
        return np.fromiter(iter(self.sampler), dtype=np.int64)

    def __iter__(self) -> Iterator[np.ndarray]:
        idx = self._epoch()
        n = idx.shape[0]
        stop = n - n % self.batch_size if self.drop_last else n
        for start in range(0, stop, self.batch_size):
            yield idx[start : start + self.batch_size]

    def __len__(self) -> int:
        n = len(self.sampler)
        if self.drop_last:
            return n // self.batch_size
        return -(-n // self.batch_size)
