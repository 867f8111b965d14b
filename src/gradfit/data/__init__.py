"""``gf.data``: datasets, mini-batch loaders, transforms, and datasets to train on.

* :class:`Dataset`, :class:`ArrayDataset` / :class:`TensorDataset` (indexed in bulk),
  :class:`Subset`, :func:`random_split`, :class:`ConcatDataset`.
* :class:`DataLoader` with :class:`SequentialSampler`, :class:`RandomSampler`
  (``replacement=True`` to sample with replacement) and :class:`BatchSampler`.
* :mod:`gradfit.data.transforms`: ``Standardize`` (fit on the training split),
  ``ScaleTo01``, ``MinMax``, ``OneHot``, ``Flatten``, ``Compose``, and vectorised
  augmentation: ``RandomCrop`` / ``RandomShift`` / ``RandomHorizontalFlip`` for images,
  ``RandomShift1d`` for sequences.
* :func:`load_dataset` / :func:`list_datasets`: ``digits`` (the default: no download),
  ``mnist1d``, ``mnist``, ``fashion-mnist``, ``mnist-5k``, synthetic curves and 2-D
  problems, ``csv`` (your own table), ``movielens`` and ``synthetic-ratings``.

Importing this package needs only NumPy; each dataset's dependencies are imported when
it is loaded.

Example:
    >>> import gradfit as gf
    >>> ds = gf.data.load_dataset("digits")
    >>> loader = gf.data.DataLoader(gf.data.ArrayDataset(*ds.train), batch_size=64, shuffle=True, seed=0)
    >>> x, y = next(iter(loader))
    >>> x.shape, y.shape, x.dtype, y.dtype
    ((64, 64), (64,), dtype('float32'), dtype('int64'))
"""

from __future__ import annotations

from gradfit.data import transforms
from gradfit.data.collate import default_collate, default_convert
from gradfit.data.dataset import (
    ArrayDataset,
    ChainDataset,
    ConcatDataset,
    Dataset,
    IterableDataset,
    StackDataset,
    Subset,
    TensorDataset,
    random_split,
)
from gradfit.data.download import DownloadError, download_file
from gradfit.data.idx import IDXError, read_idx, write_idx
from gradfit.data.loader import DataLoader
from gradfit.data.registry import list_datasets, load_dataset
from gradfit.data.sampler import (
    BatchSampler,
    RandomSampler,
    Sampler,
    SequentialSampler,
    SubsetRandomSampler,
    WeightedRandomSampler,
)
from gradfit.data.splits import DatasetInfo, DatasetSplits, Split
from gradfit.data.worker import WorkerInfo, get_worker_info

__all__ = [
    "ArrayDataset",
    "BatchSampler",
    "ChainDataset",
    "ConcatDataset",
    "DataLoader",
    "Dataset",
    "DatasetInfo",
    "DatasetSplits",
    "DownloadError",
    "IDXError",
    "IterableDataset",
    "RandomSampler",
    "Sampler",
    "SequentialSampler",
    "Split",
    "StackDataset",
    "Subset",
    "SubsetRandomSampler",
    "TensorDataset",
    "WeightedRandomSampler",
    "WorkerInfo",
    "default_collate",
    "default_convert",
    "download_file",
    "get_worker_info",
    "list_datasets",
    "load_dataset",
    "random_split",
    "read_idx",
    "transforms",
    "write_idx",
]
