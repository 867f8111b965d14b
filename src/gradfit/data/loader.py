"""``DataLoader``: mini-batches of gradfit Tensors drawn from a dataset.

For array-backed datasets an epoch costs one permutation (or one ``arange``) and one
fancy-indexing gather per batch and per array: no Python loop over samples. Other
datasets fall back to collecting samples one by one.

Randomness: with ``seed=`` the loader owns a private generator (two loaders with the
same seed give the same batches, epoch after epoch, whatever else draws random numbers);
with ``generator=`` it uses that NumPy ``Generator``; otherwise it draws from gradfit's
default generator, so ``gf.manual_seed(n)`` before building the loader reproduces a run.
The same generator is handed to gradfit transforms for augmentation.

Differences from PyTorch: no worker processes (``num_workers`` is not an argument: the
gather is already vectorised), ``generator`` is a NumPy ``Generator``, batches from a
``(x, y)`` dataset are a tuple ``(x, y)`` of Tensors, and ``transform`` /
``target_transform`` are applied here, per batch, instead of per sample in the dataset.

Example:
    >>> import numpy as np
    >>> from gradfit.data import ArrayDataset, DataLoader
    >>> ds = ArrayDataset(np.arange(10, dtype=np.float32).reshape(5, 2), np.arange(5))
    >>> loader = DataLoader(ds, batch_size=2, shuffle=True, seed=0)
    >>> len(loader)
    3
    >>> x, y = next(iter(loader))
    >>> x.shape, x.dtype, y.dtype
    ((2, 2), dtype('float32'), dtype('int64'))
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

from gradfit.data.dataset import Dataset
from gradfit.data.sampler import BatchSampler, RandomSampler, Sampler, SequentialSampler
from gradfit.data.transforms import Transform
from gradfit.random import default_generator


def _apply(t: Callable[..., Any] | None, arr: np.ndarray, gen: np.random.Generator) -> np.ndarray:
    if t is None:
        return arr
    out = t(arr, gen) if isinstance(t, Transform) else t(arr)
    return out._data if hasattr(out, "grad_fn") else np.asarray(out)


class DataLoader:
    """Iterate over ``dataset`` in mini-batches.

    Args:
        dataset: a :class:`~gradfit.data.Dataset` (bulk-indexed when array-backed), or any
            object with ``__len__`` and ``__getitem__``.
        batch_size: samples per batch.
        shuffle: a new uniformly random order every epoch, every sample exactly once
            (sampling without replacement). Not allowed together with ``sampler``
            (as in PyTorch).
        drop_last: drop the last, smaller batch.
        sampler: a :class:`~gradfit.data.Sampler` choosing the indices of each epoch, e.g.
            ``RandomSampler(ds, replacement=True)``.
        generator: a ``numpy.random.Generator`` for shuffling and augmentation.
        seed: build a private generator from this seed (instead of ``generator``).
        transform: applied to the first array of each batch (the inputs); gradfit
            :class:`~gradfit.data.transforms.Transform` objects receive the loader's
            generator; any other callable gets the array alone.
        target_transform: applied to the second array (the targets), e.g. ``OneHot``.

    Yields:
        A tuple of Tensors, one per array of the dataset (``(x, y)`` for a labelled set).

    Example:
        >>> import numpy as np
        >>> from gradfit.data import ArrayDataset
        >>> ds = ArrayDataset(np.arange(7))
        >>> [b[0].tolist() for b in DataLoader(ds, batch_size=3)]
        [[0, 1, 2], [3, 4, 5], [6]]
        >>> [b[0].tolist() for b in DataLoader(ds, batch_size=3, drop_last=True)]
        [[0, 1, 2], [3, 4, 5]]
    """

    def __init__(
        self,
        dataset: Any,
        batch_size: int = 1,
        shuffle: bool = False,
        drop_last: bool = False,
        sampler: Sampler | None = None,
        generator: np.random.Generator | None = None,
        seed: int | None = None,
        transform: Callable[..., Any] | None = None,
        target_transform: Callable[..., Any] | None = None,
    ) -> None:
        if not hasattr(dataset, "__len__") or not hasattr(dataset, "__getitem__"):
            raise TypeError(
                "DataLoader: dataset must have __len__ and __getitem__ (a gradfit.data.Dataset), "
                f"got {type(dataset).__name__}"
            )
        if (
            not isinstance(batch_size, int | np.integer)
            or isinstance(batch_size, bool)
            or batch_size <= 0
        ):
            raise ValueError(
                f"DataLoader: batch_size must be a positive integer, got {batch_size!r}"
            )
        if not isinstance(shuffle, bool):
            raise TypeError(f"DataLoader: shuffle must be a bool, got {shuffle!r}")
        if shuffle and sampler is not None:
            raise ValueError(
                "DataLoader: shuffle=True and sampler= are mutually exclusive; use "
                "RandomSampler(dataset) as the sampler to shuffle"
            )
        if generator is not None and seed is not None:
            raise ValueError("DataLoader: give generator= or seed=, not both")
        if generator is not None and not isinstance(generator, np.random.Generator):
            raise TypeError(
                "DataLoader: generator must be a numpy.random.Generator, "
                f"got {type(generator).__name__}"
            )
        if seed is not None:
            if not isinstance(seed, int | np.integer) or isinstance(seed, bool) or seed < 0:
                raise ValueError(f"DataLoader: seed must be a non-negative integer, got {seed!r}")
            generator = np.random.Generator(np.random.PCG64(int(seed)))
        for name, t in (("transform", transform), ("target_transform", target_transform)):
            if t is not None and not callable(t):
                raise TypeError(f"DataLoader: {name} must be callable, got {t!r}")
        if len(dataset) == 0:
            raise ValueError("DataLoader: the dataset is empty")
        self.dataset = dataset
        self.batch_size = int(batch_size)
        self.shuffle = shuffle
        self.drop_last = drop_last
        self.generator = generator
        self.transform = transform
        self.target_transform = target_transform
        if sampler is None:
            sampler = (
                RandomSampler(dataset, generator=generator)
                if shuffle
                else SequentialSampler(dataset)
            )
        self.sampler = sampler
        self.batch_sampler = BatchSampler(sampler, self.batch_size, drop_last)

    def _generator(self) -> np.random.Generator:
        return self.generator if self.generator is not None else default_generator()

    def _fetch(self, idx: np.ndarray) -> tuple[np.ndarray, ...]:
        get_batch = getattr(self.dataset, "get_batch", None)
        if get_batch is not None:
            return tuple(get_batch(idx))
        return Dataset.get_batch(self.dataset, idx)

    def __iter__(self) -> Iterator[tuple[Any, ...]]:
        from gradfit.tensor import Tensor

        gen = self._generator()
        for idx in self.batch_sampler:
            arrays = list(self._fetch(idx))
            if self.transform is not None:
                arrays[0] = _apply(self.transform, arrays[0], gen)
            if self.target_transform is not None:
                if len(arrays) < 2:
                    raise ValueError(
                        "DataLoader: target_transform given but the dataset has no targets "
                        "(one array per sample)"
                    )
                arrays[1] = _apply(self.target_transform, arrays[1], gen)
            yield tuple(Tensor._wrap(a) for a in arrays)

    def __len__(self) -> int:
        return len(self.batch_sampler)

    def __repr__(self) -> str:
        return (
            f"DataLoader({type(self.dataset).__name__} of {len(self.dataset)}, "
            f"batch_size={self.batch_size}, shuffle={self.shuffle}, drop_last={self.drop_last}, "
            f"batches={len(self)})"
        )
