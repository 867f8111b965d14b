"""The process group over MPI: ``init_process_group(backend="mpi")`` and its collectives.

Built on mpi4py (``pip install "gradfit[distributed]"`` brings mpi4py and the ``mpich``
wheel, whose ``mpiexec`` starts the processes). Every rank runs the same program::

    mpiexec -n 2 python train.py

Collectives work on gradfit Tensors (or NumPy arrays) in place, like torch's. Each one
waits with a deadline (the ``timeout`` of :func:`init_process_group`): it starts a
non-blocking MPI operation and polls it; when a rank has died or hangs, the ranks still
alive print which collective timed out and call ``MPI_Abort``, so ``mpiexec`` ends every
process with a nonzero exit code instead of hanging.

Without :func:`init_process_group` (or when mpi4py is absent) :func:`is_initialized` is
False and the collectives raise ``RuntimeError``, as in PyTorch.

Example:
    >>> import gradfit.distributed as dist
    >>> dist.is_initialized()
    False
    >>> dist.ReduceOp.SUM
    <ReduceOp.SUM: 'sum'>
"""

from __future__ import annotations

import datetime
import enum
import os
import sys
import time
from typing import Any

import numpy as np

#: torch's default for a process group's collectives (30 minutes).
DEFAULT_TIMEOUT = datetime.timedelta(minutes=30)


class ReduceOp(enum.Enum):
    """How :func:`all_reduce` combines the ranks' values (torch's ``ReduceOp``).

    ``AVG`` divides the sum by the world size (torch offers it on NCCL only; here on MPI).

    Example:
        >>> ReduceOp.MAX.name
        'MAX'
    """

    SUM = "sum"
    AVG = "avg"
    PRODUCT = "product"
    MIN = "min"
    MAX = "max"
    BAND = "band"
    BOR = "bor"
    BXOR = "bxor"


class _Group:
    """The state of the one process group (the world)."""

    def __init__(self, comm: Any, mpi: Any, timeout: float) -> None:
        self.comm = comm
        self.MPI = mpi
        self.timeout = timeout


_group: _Group | None = None


def is_available() -> bool:
    """True when mpi4py can be imported (the ``distributed`` extra is installed).

    Example:
        >>> isinstance(is_available(), bool)
        True
    """
    try:
        import mpi4py  # noqa: F401
    except ImportError:
        return False
    return True


def is_mpi_available() -> bool:
    """torch's name for :func:`is_available` with the MPI backend.

    Example:
        >>> is_mpi_available() == is_available()
        True
    """
    return is_available()


def _seconds(timeout: Any) -> float:
    if timeout is None:
        return DEFAULT_TIMEOUT.total_seconds()
    if isinstance(timeout, datetime.timedelta):
        secs = timeout.total_seconds()
    elif isinstance(timeout, int | float) and not isinstance(timeout, bool):
        secs = float(timeout)
    else:
        raise TypeError(
            "init_process_group: timeout must be a datetime.timedelta (or seconds), "
            f"got {type(timeout).__name__}"
        )
    if not secs > 0:
        raise ValueError(f"init_process_group: timeout must be positive, got {timeout!r}")
    return secs


def init_process_group(
    backend: str | None = "mpi",
    init_method: str | None = None,
    timeout: datetime.timedelta | float | None = None,
    world_size: int = -1,
    rank: int = -1,
    store: Any = None,
    group_name: str = "",
    pg_options: Any = None,
    device_id: Any = None,
) -> None:
    """Join the world of processes that ``mpiexec`` started (torch's signature).

    Args:
        backend: ``"mpi"`` (the only backend; ``None`` means it too).
        init_method: must be None or ``"env://"``: MPI itself tells each process its rank.
        timeout: how long a collective may wait for the other ranks before every rank is
            aborted with a message (a ``timedelta`` or seconds; default 30 minutes, or the
            ``GRADFIT_DIST_TIMEOUT`` environment variable in seconds).
        world_size, rank: may be given; then they must match what MPI says.
        store, group_name, pg_options, device_id: accepted for torch's signature; unused.

    Run without ``mpiexec``, the world is this one process (rank 0 of 1).

    Example:
        >>> import gradfit.distributed as dist
        >>> dist.init_process_group("gloo")
        Traceback (most recent call last):
        ...
        ValueError: init_process_group: backend 'gloo' is not available in gradfit; use backend='mpi' and start the processes with mpiexec
    """
    global _group
    if backend is not None and str(backend).lower() != "mpi":
        raise ValueError(
            f"init_process_group: backend {backend!r} is not available in gradfit; "
            "use backend='mpi' and start the processes with mpiexec"
        )
    if init_method not in (None, "env://"):
        raise ValueError(
            f"init_process_group: init_method {init_method!r} is not supported with MPI; "
            "mpiexec tells every process its rank (leave init_method None)"
        )
    if _group is not None:
        raise RuntimeError(
            "init_process_group: trying to initialize the default process group twice!"
        )
    if timeout is None and os.environ.get("GRADFIT_DIST_TIMEOUT"):
        timeout = float(os.environ["GRADFIT_DIST_TIMEOUT"])
    secs = _seconds(timeout)
    try:
        from mpi4py import MPI
    except ImportError as e:
        raise RuntimeError(
            "init_process_group: mpi4py is not installed; install the extra: "
            'pip install "gradfit[distributed]" (mpi4py and the mpich wheel)'
        ) from e
    comm = MPI.COMM_WORLD.Dup()
    for name, given, actual in (("world_size", world_size, comm.size), ("rank", rank, comm.rank)):
        if given not in (-1, None) and given != actual:
            raise ValueError(
                f"init_process_group: {name}={given} but mpiexec started this process with "
                f"{name}={actual}"
            )
    _group = _Group(comm, MPI, secs)


def is_initialized() -> bool:
    """True between :func:`init_process_group` and :func:`destroy_process_group`.

    Example:
        >>> is_initialized()
        False
    """
    return _group is not None


def _need(op: str) -> _Group:
    if _group is None:
        raise RuntimeError(
            f"{op}: Default process group has not been initialized, please make sure to call "
            "init_process_group."
        )
    return _group


def get_rank(group: Any = None) -> int:
    """This process's rank, 0 .. world size - 1.

    Example:
        >>> get_rank()
        Traceback (most recent call last):
        ...
        RuntimeError: get_rank: Default process group has not been initialized, please make sure to call init_process_group.
    """
    return int(_need("get_rank").comm.rank)


def get_world_size(group: Any = None) -> int:
    """The number of processes.

    Example:
        >>> is_initialized() or get_world_size()
        Traceback (most recent call last):
        ...
        RuntimeError: get_world_size: Default process group has not been initialized, please make sure to call init_process_group.
    """
    return int(_need("get_world_size").comm.size)


def get_backend(group: Any = None) -> str:
    """``"mpi"``.

    Example:
        >>> is_initialized() or get_backend()
        Traceback (most recent call last):
        ...
        RuntimeError: get_backend: Default process group has not been initialized, please make sure to call init_process_group.
    """
    _need("get_backend")
    return "mpi"


def destroy_process_group(group: Any = None) -> None:
    """Leave the process group (MPI itself is finalized when Python exits).

    Example:
        >>> destroy_process_group()  # nothing to destroy: does nothing
    """
    global _group
    if _group is not None:
        _group.comm.Free()
        _group = None


def _abort(g: _Group, what: str) -> None:
    rank = g.comm.rank
    msg = (
        f"gradfit.distributed: rank {rank}: {what} did not complete within {g.timeout:g} s; "
        "another rank has died or is stuck. Aborting every rank (MPI_Abort)."
    )
    print(msg, file=sys.stderr, flush=True)
    # MPICH's launcher stops forwarding output once it hears of the abort: without a pause
    # the message (and MPICH's own) was lost in about one run of eight, leaving exit 1 and
    # an empty stderr; 0.5 s lets it drain the pipe first
    time.sleep(0.5)
    g.MPI.COMM_WORLD.Abort(1)


def wait(request: Any, what: str = "collective") -> None:
    """Wait for an MPI request, polling it until the group's timeout, then abort.

    A low-level helper used by the collectives and by DistributedDataParallel.

    Example:
        >>> callable(wait)
        True
    """
    g = _need(what)
    if request.Test():
        return
    start = time.monotonic()
    deadline = start + g.timeout
    polls = 0
    while not request.Test():
        # spin for the first 50 ms: a reduction usually takes well under a millisecond, and
        # each Test() drives MPI's progress (yielding the core between polls made a 2 MB
        # all-reduce 3.5x slower); a longer wait means a slow rank: poll every millisecond
        polls += 1
        if polls % 256:
            continue
        now = time.monotonic()
        if now > deadline:
            _abort(g, what)
        if now - start > 0.05:
            time.sleep(1e-3)


def _array(tensor: Any, op: str) -> np.ndarray:
    data = getattr(tensor, "_data", tensor)
    if not isinstance(data, np.ndarray):
        raise TypeError(
            f"{op}: expected a gradfit Tensor or NumPy array, got {type(tensor).__name__}"
        )
    return data


def _mpi_op(g: _Group, op: Any, name: str) -> Any:
    if not isinstance(op, ReduceOp):
        raise TypeError(f"{name}: op must be a ReduceOp, got {op!r}")
    mpi = g.MPI
    table = {
        ReduceOp.SUM: mpi.SUM,
        ReduceOp.AVG: mpi.SUM,
        ReduceOp.PRODUCT: mpi.PROD,
        ReduceOp.MIN: mpi.MIN,
        ReduceOp.MAX: mpi.MAX,
        ReduceOp.BAND: mpi.BAND,
        ReduceOp.BOR: mpi.BOR,
        ReduceOp.BXOR: mpi.BXOR,
    }
    return table[op]


def all_reduce(
    tensor: Any, op: ReduceOp = ReduceOp.SUM, group: Any = None, async_op: bool = False
) -> None:
    """Combine ``tensor`` over every rank, in place: afterwards each rank holds the result.

    Example:
        >>> import gradfit as gf
        >>> is_initialized() or all_reduce(gf.ones(2))
        Traceback (most recent call last):
        ...
        RuntimeError: all_reduce: Default process group has not been initialized, please make sure to call init_process_group.
    """
    g = _need("all_reduce")
    data = _array(tensor, "all_reduce")
    mop = _mpi_op(g, op, "all_reduce")
    buf = data if data.flags.c_contiguous else np.ascontiguousarray(data)
    out = np.empty_like(buf)
    wait(g.comm.Iallreduce(buf, out, op=mop), "all_reduce")
    if op is ReduceOp.AVG:
        out /= g.comm.size
    data[...] = out


def broadcast(tensor: Any, src: int, group: Any = None, async_op: bool = False) -> None:
    """Copy rank ``src``'s ``tensor`` into every rank's ``tensor``, in place.

    Example:
        >>> import gradfit as gf
        >>> is_initialized() or broadcast(gf.ones(2), src=0)
        Traceback (most recent call last):
        ...
        RuntimeError: broadcast: Default process group has not been initialized, please make sure to call init_process_group.
    """
    g = _need("broadcast")
    data = _array(tensor, "broadcast")
    if not 0 <= src < g.comm.size:
        raise ValueError(f"broadcast: src must be a rank in [0, {g.comm.size - 1}], got {src}")
    buf = data if data.flags.c_contiguous else np.ascontiguousarray(data)
    wait(g.comm.Ibcast(buf, root=src), "broadcast")
    if buf is not data:
        data[...] = buf


def barrier(group: Any = None, async_op: bool = False, device_ids: Any = None) -> None:
    """Wait until every rank gets here (with the group's timeout).

    Example:
        >>> is_initialized() or barrier()
        Traceback (most recent call last):
        ...
        RuntimeError: barrier: Default process group has not been initialized, please make sure to call init_process_group.
    """
    g = _need("barrier")
    wait(g.comm.Ibarrier(), "barrier")


def all_gather(
    tensor_list: list[Any], tensor: Any, group: Any = None, async_op: bool = False
) -> None:
    """Fill ``tensor_list[r]`` with rank ``r``'s ``tensor`` (same shape and dtype on every rank).

    Example:
        >>> import gradfit as gf
        >>> is_initialized() or all_gather([gf.ones(1)], gf.ones(1))
        Traceback (most recent call last):
        ...
        RuntimeError: all_gather: Default process group has not been initialized, please make sure to call init_process_group.
    """
    g = _need("all_gather")
    data = np.ascontiguousarray(_array(tensor, "all_gather"))
    if len(tensor_list) != g.comm.size:
        raise ValueError(
            f"all_gather: tensor_list must have one tensor per rank ({g.comm.size}), "
            f"got {len(tensor_list)}"
        )
    out = np.empty((g.comm.size, *data.shape), dtype=data.dtype)
    wait(g.comm.Iallgather(data, out), "all_gather")
    for r, t in enumerate(tensor_list):
        dst = _array(t, "all_gather")
        if dst.shape != data.shape:
            raise ValueError(
                f"all_gather: tensor_list[{r}] has shape {dst.shape}, expected {data.shape}"
            )
        dst[...] = out[r]


def all_gather_object(object_list: list[Any], obj: Any, group: Any = None) -> None:
    """Gather a JSON-able Python object from every rank into ``object_list`` (no pickle).

    Differs from torch: objects travel as JSON (gradfit never unpickles), so they must be
    JSON-serialisable.

    Example:
        >>> is_initialized() or all_gather_object([None], 1)
        Traceback (most recent call last):
        ...
        RuntimeError: all_gather_object: Default process group has not been initialized, please make sure to call init_process_group.
    """
    import json

    g = _need("all_gather_object")
    raw = np.frombuffer(json.dumps(obj).encode(), dtype=np.uint8)
    sizes = np.zeros(g.comm.size, dtype=np.int64)
    wait(g.comm.Iallgather(np.array([raw.size], dtype=np.int64), sizes), "all_gather_object")
    out = np.empty(int(sizes.sum()), dtype=np.uint8)
    offsets = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    wait(
        g.comm.Iallgatherv(raw, [out, (sizes, offsets), g.MPI.BYTE]),
        "all_gather_object",
    )
    for r in range(g.comm.size):
        object_list[r] = json.loads(out[offsets[r] : offsets[r] + sizes[r]].tobytes())
