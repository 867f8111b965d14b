"""``gradfit.utils.data``: the import path of ``torch.utils.data``, over :mod:`gradfit.data`.

``from torch.utils.data import DataLoader, Dataset, TensorDataset, random_split`` becomes
``from gradfit.utils.data import ...`` and names the same objects as ``gf.data``.

Example:
    >>> import numpy as np
    >>> from gradfit.utils.data import DataLoader, TensorDataset
    >>> ds = TensorDataset(np.arange(6.0, dtype=np.float32).reshape(3, 2), np.arange(3))
    >>> [tuple(t.shape) for t in next(iter(DataLoader(ds, batch_size=2)))]
    [(2, 2), (2,)]
"""

from __future__ import annotations

from gradfit.data.collate import default_collate, default_convert
from gradfit.data.dataset import (
    ChainDataset,
    ConcatDataset,
    Dataset,
    IterableDataset,
    StackDataset,
    Subset,
    TensorDataset,
    random_split,
)
from gradfit.data.loader import DataLoader
from gradfit.data.sampler import (
    BatchSampler,
    RandomSampler,
    Sampler,
    SequentialSampler,
    SubsetRandomSampler,
    WeightedRandomSampler,
)
from gradfit.data.worker import WorkerInfo, get_worker_info
from gradfit.utils.data import dataloader, dataset, distributed, sampler
from gradfit.utils.data.distributed import DistributedSampler

__all__ = [
    "BatchSampler",
    "ChainDataset",
    "ConcatDataset",
    "DataLoader",
    "Dataset",
    "DistributedSampler",
    "IterableDataset",
    "RandomSampler",
    "Sampler",
    "SequentialSampler",
    "StackDataset",
    "Subset",
    "SubsetRandomSampler",
    "TensorDataset",
    "WeightedRandomSampler",
    "WorkerInfo",
    "dataloader",
    "dataset",
    "default_collate",
    "default_convert",
    "distributed",
    "get_worker_info",
    "random_split",
    "sampler",
]
