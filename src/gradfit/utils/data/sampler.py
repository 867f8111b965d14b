"""``gradfit.utils.data.sampler``: torch's module path for the samplers.

Example:
    >>> from gradfit.utils.data.sampler import SequentialSampler
    >>> list(SequentialSampler(range(3)))
    [0, 1, 2]
"""

from __future__ import annotations

from gradfit.data.sampler import (
    BatchSampler,
    RandomSampler,
    Sampler,
    SequentialSampler,
    SubsetRandomSampler,
    WeightedRandomSampler,
)

__all__ = [
    "BatchSampler",
    "RandomSampler",
    "Sampler",
    "SequentialSampler",
    "SubsetRandomSampler",
    "WeightedRandomSampler",
]
