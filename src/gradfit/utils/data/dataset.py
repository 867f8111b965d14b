"""``gradfit.utils.data.dataset``: torch's module path for the dataset classes.

Example:
    >>> from gradfit.utils.data.dataset import TensorDataset
    >>> len(TensorDataset([1, 2, 3]))
    3
"""

from __future__ import annotations

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

__all__ = [
    "ChainDataset",
    "ConcatDataset",
    "Dataset",
    "IterableDataset",
    "StackDataset",
    "Subset",
    "TensorDataset",
    "random_split",
]
