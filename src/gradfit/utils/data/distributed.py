"""``gradfit.utils.data.distributed``: the import path of ``torch.utils.data.distributed``.

Example:
    >>> from gradfit.utils.data.distributed import DistributedSampler
    >>> list(DistributedSampler(range(4), num_replicas=2, rank=1, shuffle=False))
    [1, 3]
"""

from __future__ import annotations

from gradfit.distributed.sampler import DistributedSampler

__all__ = ["DistributedSampler"]
