"""``DataLoader``: mini-batches of gradfit Tensors drawn from a dataset.

For array-backed datasets an epoch costs one permutation (or one ``arange``) and one
fancy-indexing gather per batch and per array: no Python loop over samples. Other
datasets fall back to collecting samples one by one.

Randomness: with ``seed=`` the loader owns a private generator (two loaders with the
same seed give the same batches, epoch after epoch, whatever else draws random numbers);
with ``generator=`` it uses that NumPy ``Generator``; otherwise it draws from gradfit's
default generator, so ``gf.manual_seed(n)`` before building the loader reproduces a run.
The same generator is handed to gradfit transforms for augmentation.

Two paths, one interface (every keyword of ``torch.utils.data.DataLoader``):

* array-backed gradfit datasets (``ArrayDataset``/``TensorDataset``, their ``Subset`` and
  ``ConcatDataset``) are gathered in bulk, one fancy index per array, and yield a tuple
  of Tensors. ``num_workers`` is accepted and not needed there: the gather is already
  vectorised, so no processes are started.
* any other dataset (a Python ``__getitem__``, or an ``IterableDataset``) goes PyTorch's
  way: samples are fetched one by one (or with ``__getitems__``) and batched by
  ``collate_fn`` (:func:`~gradfit.data.collate.default_collate` by default), in worker
  processes when ``num_workers > 0`` (see :mod:`gradfit.data.worker`), with the same
  batches in the same order as ``num_workers=0``.

Differences from PyTorch: ``pin_memory`` is accepted and does nothing (there is no GPU to
copy to); ``generator`` is a :class:`gradfit.Generator` (or a NumPy ``Generator``), and
``seed=`` builds a private one; ``transform`` / ``target_transform`` (gradfit extras) are
applied per batch on the array path.

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

import itertools
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import numpy as np

from gradfit.data.collate import default_collate, default_convert
from gradfit.data.dataset import Dataset, IterableDataset
from gradfit.data.sampler import BatchSampler, RandomSampler, Sampler, SequentialSampler
from gradfit.data.transforms import Transform
from gradfit.data.worker import MultiProcessIter
from gradfit.random import default_generator


def _apply(t: Callable[..., Any] | None, arr: np.ndarray, gen: np.random.Generator) -> np.ndarray:
    if t is None:
        return arr
    out = t(arr, gen) if isinstance(t, Transform) else t(arr)
    return out._data if hasattr(out, "grad_fn") else np.asarray(out)


def _is_array_backed(dataset: Any) -> bool:
    """Whether ``dataset`` gathers batches in bulk (a gradfit ``get_batch`` of its own)."""
    get_batch = getattr(type(dataset), "get_batch", None)
    return get_batch is not None and get_batch is not Dataset.get_batch


class _MapFetcher:
    """Fetch a map-style batch: ``__getitems__`` or one ``dataset[i]`` per index, then collate."""

    def __init__(self, collate_fn: Callable[[Any], Any], auto_collation: bool) -> None:
        self.collate_fn = collate_fn
        self.auto_collation = auto_collation

    def __call__(self, dataset: Any, request: Any) -> Any:
        if not self.auto_collation:
            return self.collate_fn(dataset[request])
        getitems = getattr(dataset, "__getitems__", None)
        idx = [int(i) for i in request]
        samples = getitems(idx) if getitems is not None else [dataset[i] for i in idx]
        return self.collate_fn(samples)


class _IterFetcher:
    """Take the next batch from an iterable dataset's iterator (None when it is exhausted)."""

    def __init__(
        self, collate_fn: Callable[[Any], Any], batch_size: int | None, drop_last: bool
    ) -> None:
        self.collate_fn = collate_fn
        self.batch_size = batch_size
        self.drop_last = drop_last

    def __call__(self, it: Iterator[Any], request: Any) -> Any:
        if self.batch_size is None:
            for item in it:
                return self.collate_fn(item)
            return None
        items = list(itertools.islice(it, self.batch_size))
        if not items or (self.drop_last and len(items) < self.batch_size):
            return None
        return self.collate_fn(items)


def _check_int(name: str, value: Any, low: int) -> int:
    if not isinstance(value, int | np.integer) or isinstance(value, bool) or value < low:
        raise ValueError(f"DataLoader: {name} must be an integer >= {low}, got {value!r}")
    return int(value)


class DataLoader:
    """Iterate over ``dataset`` in mini-batches (PyTorch's ``DataLoader``, same keywords).

    Args:
        dataset: a gradfit ``ArrayDataset``/``TensorDataset`` (gathered in bulk), any object
            with ``__len__`` and ``__getitem__`` (samples fetched one by one and collated),
            or an :class:`~gradfit.data.IterableDataset`.
        batch_size: samples per batch; ``None`` yields samples one at a time (no batching).
        shuffle: a new uniformly random order every epoch, every sample exactly once.
            Not allowed together with ``sampler`` (as in PyTorch).
        sampler: a :class:`~gradfit.data.Sampler` (or any iterable of indices with a length)
            choosing the indices of each epoch, e.g. ``RandomSampler(ds, replacement=True)``.
        batch_sampler: yields a list of indices per batch; excludes ``batch_size``,
            ``shuffle``, ``sampler`` and ``drop_last``.
        num_workers: worker processes for datasets with a Python ``__getitem__`` (0: load in
            this process). Array-backed datasets never need them.
        collate_fn: turns a list of samples into a batch (default
            :func:`~gradfit.data.collate.default_collate`).
        pin_memory: accepted for PyTorch code; does nothing on the CPU.
        drop_last: drop the last, smaller batch.
        timeout: seconds to wait for a batch from the workers (0: no limit; a dead worker
            is still reported).
        worker_init_fn: called as ``worker_init_fn(worker_id)`` in each worker after seeding.
        multiprocessing_context: ``"fork"``, ``"spawn"``, ``"forkserver"`` or a context.
        generator: a :class:`gradfit.Generator` (or NumPy ``Generator``) for shuffling,
            workers' seeds and augmentation.
        prefetch_factor: batches loaded in advance per worker (default 2 with workers).
        persistent_workers: keep the worker processes between epochs.
        pin_memory_device: accepted, unused. in_order: only ``True`` is supported.
        seed: build a private generator from this seed (instead of ``generator``).
        transform: applied to the first array of each batch on the array path; gradfit
            :class:`~gradfit.data.transforms.Transform` objects receive the loader's
            generator; any other callable gets the array alone.
        target_transform: applied to the second array (the targets), e.g. ``OneHot``.

    Yields:
        Array path: a tuple of Tensors, one per array of the dataset (``(x, y)``). Other
        datasets: what ``collate_fn`` makes of each batch (PyTorch's structure).

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
        batch_size: int | None = 1,
        shuffle: bool | None = None,
        sampler: Sampler | Iterable[int] | None = None,
        batch_sampler: Iterable[Any] | None = None,
        num_workers: int = 0,
        collate_fn: Callable[[Any], Any] | None = None,
        pin_memory: bool = False,
        drop_last: bool = False,
        timeout: float = 0,
        worker_init_fn: Callable[[int], None] | None = None,
        multiprocessing_context: Any = None,
        generator: np.random.Generator | None = None,
        *,
        prefetch_factor: int | None = None,
        persistent_workers: bool = False,
        pin_memory_device: str = "",
        in_order: bool = True,
        seed: int | None = None,
        transform: Callable[..., Any] | None = None,
        target_transform: Callable[..., Any] | None = None,
    ) -> None:
        iterable = isinstance(dataset, IterableDataset)
        if not iterable and (
            not hasattr(dataset, "__len__") or not hasattr(dataset, "__getitem__")
        ):
            raise TypeError(
                "DataLoader: dataset must have __len__ and __getitem__ (a gradfit.data.Dataset) "
                f"or be an IterableDataset, got {type(dataset).__name__}"
            )
        if batch_size is not None:
            batch_size = _check_int("batch_size", batch_size, 1)
        if shuffle is None:
            shuffle = False
        if not isinstance(shuffle, bool):
            raise TypeError(f"DataLoader: shuffle must be a bool, got {shuffle!r}")
        if not isinstance(drop_last, bool):
            raise TypeError(f"DataLoader: drop_last must be a bool, got {drop_last!r}")
        num_workers = _check_int("num_workers", num_workers, 0)
        if not isinstance(timeout, int | float) or isinstance(timeout, bool) or not timeout >= 0:
            raise ValueError(f"DataLoader: timeout option should be non-negative, got {timeout!r}")
        if num_workers == 0 and prefetch_factor is not None:
            raise ValueError(
                "DataLoader: prefetch_factor option could only be specified in multiprocessing; "
                "let num_workers > 0 to enable multiprocessing, otherwise set prefetch_factor "
                "to None"
            )
        if prefetch_factor is None:
            prefetch_factor = 2
        prefetch_factor = _check_int("prefetch_factor", prefetch_factor, 1)
        if persistent_workers and num_workers == 0:
            raise ValueError("DataLoader: persistent_workers option needs num_workers > 0")
        if not in_order:
            raise ValueError("DataLoader: only in_order=True is supported")
        if iterable:
            if shuffle:
                raise ValueError(
                    "DataLoader with IterableDataset: expected unspecified shuffle option, "
                    f"but got shuffle={shuffle}"
                )
            if sampler is not None or batch_sampler is not None:
                raise ValueError(
                    "DataLoader with IterableDataset: expected unspecified sampler and "
                    "batch_sampler options"
                )
        if sampler is not None and shuffle:
            raise ValueError(
                "DataLoader: sampler option is mutually exclusive with shuffle (use "
                "RandomSampler(dataset) as the sampler to shuffle)"
            )
        if batch_sampler is not None:
            if batch_size != 1 or shuffle or sampler is not None or drop_last:
                raise ValueError(
                    "DataLoader: batch_sampler option is mutually exclusive with batch_size, "
                    "shuffle, sampler, and drop_last"
                )
            batch_size = None
        elif batch_size is None and drop_last:
            raise ValueError(
                "DataLoader: batch_size=None option disables auto-batching and is mutually "
                "exclusive with drop_last"
            )
        if generator is not None and seed is not None:
            raise ValueError("DataLoader: give generator= or seed=, not both")
        if generator is not None and not isinstance(generator, np.random.Generator):
            raise TypeError(
                f"DataLoader: generator must be a gf.Generator (a numpy.random.Generator), got "
                f"{type(generator).__name__}"
            )
        if seed is not None:
            if not isinstance(seed, int | np.integer) or isinstance(seed, bool) or seed < 0:
                raise ValueError(f"DataLoader: seed must be a non-negative integer, got {seed!r}")
            generator = np.random.Generator(np.random.PCG64(int(seed)))
        for name, fn in (
            ("transform", transform),
            ("target_transform", target_transform),
            ("collate_fn", collate_fn),
            ("worker_init_fn", worker_init_fn),
        ):
            if fn is not None and not callable(fn):
                raise TypeError(f"DataLoader: {name} must be callable, got {fn!r}")
        self._array_path = (
            not iterable
            and collate_fn is None
            and batch_size is not None
            and batch_sampler is None
            and _is_array_backed(dataset)
        )
        if self._array_path and len(dataset) == 0:
            raise ValueError("DataLoader: the dataset is empty")
        if not self._array_path and (transform is not None or target_transform is not None):
            raise ValueError(
                "DataLoader: transform= and target_transform= apply to array-backed datasets; "
                "for other datasets, transform the samples in the dataset or in collate_fn"
            )
        self.dataset = dataset
        self.batch_size = batch_size
        self.shuffle = shuffle
        self.drop_last = drop_last
        self.num_workers = num_workers
        self.pin_memory = bool(pin_memory)
        self.pin_memory_device = pin_memory_device
        self.timeout = float(timeout)
        self.worker_init_fn = worker_init_fn
        self.multiprocessing_context = multiprocessing_context
        self.prefetch_factor = prefetch_factor if num_workers > 0 else None
        self.persistent_workers = persistent_workers
        self.in_order = in_order
        self.generator = generator
        self.transform = transform
        self.target_transform = target_transform
        self._iterable = iterable
        self.collate_fn = collate_fn or (
            default_collate
            if batch_size is not None or batch_sampler is not None
            else default_convert
        )
        self._workers: MultiProcessIter | None = None
        if iterable:
            self.sampler = None
            self.batch_sampler = None
            return
        if sampler is None:
            sampler = (
                RandomSampler(dataset, generator=generator)
                if shuffle
                else SequentialSampler(dataset)
            )
        self.sampler = sampler
        if batch_sampler is None and batch_size is not None:
            batch_sampler = BatchSampler(sampler, batch_size, drop_last)
        self.batch_sampler = batch_sampler

    def _generator(self) -> np.random.Generator:
        return self.generator if self.generator is not None else default_generator()

    def _fetch(self, idx: np.ndarray) -> tuple[np.ndarray, ...]:
        get_batch = getattr(self.dataset, "get_batch", None)
        if get_batch is not None:
            return tuple(get_batch(idx))
        return Dataset.get_batch(self.dataset, idx)

    def __iter__(self) -> Iterator[Any]:
        if self._array_path:
            return self._iter_arrays()
        return self._iter_samples()

    def _iter_arrays(self) -> Iterator[tuple[Any, ...]]:
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

    def _requests(self) -> Iterator[Any]:
        if self._iterable:
            return itertools.repeat(self.batch_size)
        if self.batch_sampler is not None:
            return iter(self.batch_sampler)
        return iter(self.sampler)  # batch_size=None: one index per "batch"

    def _iter_samples(self) -> Iterator[Any]:
        # as PyTorch, every epoch draws the workers' base seed first, then the indices,
        # so num_workers=0 and num_workers=2 see the same batches in the same order
        base_seed = int(self._generator().integers(0, 2**63 - 1))
        if self._iterable:
            fetch: Any = _IterFetcher(self.collate_fn, self.batch_size, self.drop_last)
        else:
            fetch = _MapFetcher(
                self.collate_fn, self.batch_size is not None or self.batch_sampler is not None
            )
        if self.num_workers == 0:
            yield from self._iter_here(fetch)
            return
        workers = self._workers
        if workers is None or workers._closed:
            workers = MultiProcessIter(
                self.dataset,
                fetch,
                self.num_workers,
                self.prefetch_factor or 2,
                self.timeout,
                self.worker_init_fn,
                self.multiprocessing_context,
                base_seed,
                self._iterable,
            )
            if self.persistent_workers:
                self._workers = workers
        try:
            yield from workers.epoch(self._requests(), base_seed)
        finally:
            if not self.persistent_workers:
                workers.close()

    def _iter_here(self, fetch: Any) -> Iterator[Any]:
        if self._iterable:
            it = iter(self.dataset)
            while True:
                out = fetch(it, None)
                if out is None:
                    return
                yield out
        for request in self._requests():
            yield fetch(self.dataset, request)

    def __len__(self) -> int:
        if self._iterable:
            n = len(self.dataset)  # TypeError for an iterable dataset without a length
            if self.batch_size is None:
                return n
            return n // self.batch_size if self.drop_last else -(-n // self.batch_size)
        if self.batch_sampler is not None:
            return len(self.batch_sampler)
        return len(self.sampler)

    def __del__(self) -> None:
        workers = getattr(self, "_workers", None)
        if workers is not None:
            workers.close()

    def __repr__(self) -> str:
        n = "an iterable" if self._iterable else f"{len(self.dataset)}"
        return (
            f"DataLoader({type(self.dataset).__name__} of {n}, "
            f"batch_size={self.batch_size}, shuffle={self.shuffle}, drop_last={self.drop_last}, "
            f"num_workers={self.num_workers})"
        )
