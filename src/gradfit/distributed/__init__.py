"""Data-parallel training over MPI with torch's names (``torch.distributed``).

Start one process per core (or per host) with ``mpiexec``; every process runs the same
script, calls :func:`init_process_group`, wraps its model in
:class:`gradfit.nn.parallel.DistributedDataParallel` and reads its share of the data
through :class:`DistributedSampler`::

    mpiexec -n 2 python train.py

mpi4py is imported only by :func:`init_process_group`: ``import gradfit.distributed``
needs nothing beyond NumPy.

Example:
    >>> import gradfit as gf
    >>> import gradfit.distributed as dist
    >>> dist.is_initialized()
    False
"""

from __future__ import annotations

from gradfit.distributed.callbacks import DistributedSync
from gradfit.distributed.process_group import (
    DEFAULT_TIMEOUT,
    ReduceOp,
    all_gather,
    all_gather_object,
    all_reduce,
    barrier,
    broadcast,
    destroy_process_group,
    get_backend,
    get_rank,
    get_world_size,
    init_process_group,
    is_available,
    is_initialized,
    is_mpi_available,
)
from gradfit.distributed.sampler import DistributedSampler

__all__ = [
    "DEFAULT_TIMEOUT",
    "DistributedSampler",
    "DistributedSync",
    "ReduceOp",
    "all_gather",
    "all_gather_object",
    "all_reduce",
    "barrier",
    "broadcast",
    "destroy_process_group",
    "get_backend",
    "get_rank",
    "get_world_size",
    "init_process_group",
    "is_available",
    "is_initialized",
    "is_mpi_available",
]
