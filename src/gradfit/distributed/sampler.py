"""``DistributedSampler``: each rank reads its own share of a dataset, as in PyTorch.

The index arithmetic is torch's: shuffle with a generator seeded by ``seed + epoch``
(the same on every rank), pad by repeating indices from the start until the length is a
multiple of ``num_replicas`` (or drop the tail with ``drop_last``), then rank ``r`` takes
indices ``r, r + num_replicas, r + 2 * num_replicas, ...``. The shuffle reproduces
``torch.randperm`` with a ``torch.Generator`` seeded the same way (torch's Mersenne
Twister and Fisher-Yates swaps), so a gradfit rank reads exactly the samples a torch rank
would.

Example:
    >>> s = DistributedSampler(range(10), num_replicas=3, rank=1, shuffle=False)
    >>> list(s)
    [1, 4, 7, 0]
"""

from __future__ import annotations

import math
from collections.abc import Sized

import numpy as np

from gradfit.data.sampler import Sampler


def torch_randperm(n: int, seed: int) -> np.ndarray:
    """``torch.randperm(n, generator=torch.Generator().manual_seed(seed))`` in NumPy.

    torch draws 32-bit outputs of MT19937 (seeded as NumPy's legacy ``RandomState``)
    and swaps ``r[i]`` with ``r[i + out % (n - i)]`` for ``i = 0 .. n - 2``.

    Example:
        >>> sorted(torch_randperm(5, 0).tolist())
        [0, 1, 2, 3, 4]
    """
    if n >= 0xFFFFFFFF // 20:
        raise ValueError(f"torch_randperm: n={n} is too large (torch switches generators there)")
    raw = np.random.RandomState(seed & 0xFFFFFFFF)._bit_generator.random_raw(max(n - 1, 0))
    z = (raw % np.arange(n, 1, -1, dtype=np.uint64)).tolist()  # the swap offsets
    r = list(range(n))
    for i, k in enumerate(z):  # sequential swaps: inherently one step per index
        j = i + k
        r[i], r[j] = r[j], r[i]
    return np.asarray(r, dtype=np.int64)


class DistributedSampler(Sampler):
    """Restrict loading to this rank's share of ``dataset`` (torch's ``DistributedSampler``).

    Args:
        dataset: anything with a length.
        num_replicas: number of ranks (default: the process group's world size).
        rank: this rank (default: the process group's rank).
        shuffle: a new permutation every epoch (call :meth:`set_epoch` each epoch).
        seed: the shuffle's seed; must be the same on every rank.
        drop_last: drop the tail so every rank gets the same number of distinct samples
            (otherwise the first indices are repeated to pad).

    Use it as the ``sampler`` of a :class:`~gradfit.data.DataLoader` (with
    ``shuffle=False`` there); each rank's batch size is its share of the global batch.

    Example:
        >>> s = DistributedSampler(range(7), num_replicas=2, rank=0, seed=1)
        >>> len(s)
        4
        >>> s1 = DistributedSampler(range(7), num_replicas=2, rank=1, seed=1)
        >>> s.set_epoch(3); s1.set_epoch(3)
        >>> sorted(set(s.indices().tolist()) | set(s1.indices().tolist()))
        [0, 1, 2, 3, 4, 5, 6]
    """

    def __init__(
        self,
        dataset: Sized,
        num_replicas: int | None = None,
        rank: int | None = None,
        shuffle: bool = True,
        seed: int = 0,
        drop_last: bool = False,
    ) -> None:
        if num_replicas is None or rank is None:
            from gradfit import distributed as dist

            if not dist.is_initialized():
                raise RuntimeError(
                    "DistributedSampler: Requires distributed package to be available "
                    "(call gf.distributed.init_process_group, or pass num_replicas and rank)"
                )
            num_replicas = dist.get_world_size() if num_replicas is None else num_replicas
            rank = dist.get_rank() if rank is None else rank
        if not isinstance(num_replicas, int) or num_replicas < 1:
            raise ValueError(
                f"DistributedSampler: num_replicas must be a positive integer, got {num_replicas!r}"
            )
        if rank >= num_replicas or rank < 0:
            raise ValueError(
                f"Invalid rank {rank}, rank should be in the interval [0, {num_replicas - 1}]"
            )
        self.dataset = dataset
        self.num_replicas = num_replicas
        self.rank = rank
        self.epoch = 0
        self.drop_last = drop_last
        n = len(dataset)
        if self.drop_last and n % self.num_replicas != 0:
            self.num_samples = math.ceil((n - self.num_replicas) / self.num_replicas)
        else:
            self.num_samples = math.ceil(n / self.num_replicas)
        self.total_size = self.num_samples * self.num_replicas
        self.shuffle = shuffle
        self.seed = seed

    def indices(self) -> np.ndarray:
        """This rank's indices for the current epoch.

        Example:
            >>> DistributedSampler(range(5), 2, 1, shuffle=False).indices()
            array([1, 3, 0])
        """
        n = len(self.dataset)
        if self.shuffle:
            idx = torch_randperm(n, self.seed + self.epoch)
        else:
            idx = np.arange(n, dtype=np.int64)
        if not self.drop_last:
            padding = self.total_size - len(idx)
            if padding > 0 and len(idx):
                idx = np.concatenate([idx, np.resize(idx, padding)])  # repeat from the start
        else:
            idx = idx[: self.total_size]
        if len(idx) != self.total_size:
            raise ValueError(
                f"DistributedSampler: cannot share an empty dataset among {self.num_replicas} ranks"
            )
        return idx[self.rank : self.total_size : self.num_replicas].copy()

    def __len__(self) -> int:
        return self.num_samples

    def set_epoch(self, epoch: int) -> None:
        """Set the epoch: with ``shuffle``, each epoch gets its own permutation (same on all ranks).

        Example:
            >>> s = DistributedSampler(range(4), 2, 0)
            >>> s.set_epoch(1); s.epoch
            1
        """
        self.epoch = epoch
