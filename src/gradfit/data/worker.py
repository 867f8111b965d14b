"""DataLoader worker processes: ``num_workers > 0`` for datasets with a Python ``__getitem__``.

Each worker is a process with its own copy of the dataset. The main process draws the
epoch's indices (so the batches and their order are exactly those of ``num_workers=0``),
hands batch ``i`` to worker ``i % num_workers`` through that worker's index queue, and
yields the results in order, keeping ``prefetch_factor * num_workers`` batches in flight.
As in PyTorch, worker ``k`` seeds Python's ``random``, NumPy's global generator and
gradfit's default generator from ``base_seed + k`` (``base_seed`` is drawn from the
loader's generator each epoch), then calls ``worker_init_fn(k)``; inside a worker
:func:`get_worker_info` says which one it is.

Batches travel back through a ``multiprocessing`` queue (pickled between this process
and its own children: nothing read from a file is ever unpickled). A worker's exception
is re-raised in the main process with the worker's traceback; a worker that dies (killed,
crashed) or a ``timeout`` that passes is a ``RuntimeError`` naming it, never a hang.

Example:
    >>> from gradfit.data.worker import get_worker_info
    >>> get_worker_info() is None  # in the main process
    True
"""

from __future__ import annotations

import contextlib
import itertools
import multiprocessing as mp
import os
import queue
import random
import traceback
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np

_POLL_S = 1.0  # how often the main process checks that its workers are alive


@dataclass(frozen=True)
class WorkerInfo:
    """What a worker knows about itself (``torch.utils.data.get_worker_info()``).

    Attributes:
        id: the worker's index, ``0 <= id < num_workers``.
        num_workers: how many workers the loader runs.
        seed: the seed this worker's generators were given (``base_seed + id``).
        dataset: this worker's copy of the dataset.

    Example:
        >>> WorkerInfo(id=0, num_workers=2, seed=7, dataset=None).num_workers
        2
    """

    id: int
    num_workers: int
    seed: int
    dataset: Any


_worker_info: WorkerInfo | None = None


def get_worker_info() -> WorkerInfo | None:
    """In a DataLoader worker, its :class:`WorkerInfo`; ``None`` in the main process.

    Use it in an ``IterableDataset.__iter__`` to give each worker its own share of the
    data, or in ``worker_init_fn``.

    Example:
        >>> get_worker_info() is None
        True
    """
    return _worker_info


class _WorkerError:
    """An exception raised in a worker, carried to the main process as text."""

    def __init__(self, worker_id: int, exc: BaseException) -> None:
        self.worker_id = worker_id
        self.exc_type = type(exc)
        self.message = "".join(traceback.format_exception(exc))

    def reraise(self) -> None:
        msg = (
            f"Caught {self.exc_type.__name__} in DataLoader worker process {self.worker_id}.\n"
            f"Original {self.message}"
        )
        try:
            err = self.exc_type(msg)
        except Exception:  # an exception type whose constructor wants other arguments
            err = RuntimeError(msg)
        raise err


class _IterableEnd:
    """Sent by a worker whose IterableDataset iterator is exhausted."""

    def __init__(self, worker_id: int) -> None:
        self.worker_id = worker_id


def _seed_worker(seed: int) -> None:
    from gradfit.random import manual_seed

    random.seed(seed)
    np.random.seed(seed % 2**32)
    manual_seed(seed % 2**63)


def _worker_loop(
    worker_id: int,
    num_workers: int,
    dataset: Any,
    index_queue: Any,
    result_queue: Any,
    fetch: Callable[[Any, Any], Any],
    base_seed: int,
    worker_init_fn: Callable[[int], None] | None,
    iterable: bool,
) -> None:
    """The body of one worker process: fetch and collate what the main process asks for."""
    global _worker_info
    seed = base_seed + worker_id
    _worker_info = WorkerInfo(worker_id, num_workers, seed, dataset)
    it: Iterator[Any] | None = None
    try:
        _seed_worker(seed)
        if worker_init_fn is not None:
            worker_init_fn(worker_id)
    except BaseException as e:
        result_queue.put((None, _WorkerError(worker_id, e)))
        return
    while True:
        try:
            task = index_queue.get(timeout=_POLL_S)
        except queue.Empty:
            if os.getppid() == 1:  # the main process is gone
                return
            continue
        if task is None:
            return
        batch_no, request = task
        try:
            if iterable:
                if isinstance(request, tuple) and request[0] == "reset":
                    # a new epoch: a fresh iterator, seeded for this epoch
                    seed = request[1] + worker_id
                    _worker_info = WorkerInfo(worker_id, num_workers, seed, dataset)
                    _seed_worker(seed)
                    it = iter(dataset)
                    continue
                if it is None:
                    it = iter(dataset)
                out = fetch(it, request)
                if out is None:
                    result_queue.put((batch_no, _IterableEnd(worker_id)))
                    continue
            else:
                out = fetch(dataset, request)
        except BaseException as e:
            out = _WorkerError(worker_id, e)
        result_queue.put((batch_no, out))


class MultiProcessIter:
    """One epoch (or, with ``persistent_workers``, every epoch) over worker processes.

    Created by :class:`~gradfit.data.DataLoader`; not meant to be built directly.

    Example:
        >>> import numpy as np, gradfit as gf
        >>> class Squares(gf.data.Dataset):
        ...     def __len__(self): return 6
        ...     def __getitem__(self, i): return np.float32(i * i)
        >>> loader = gf.data.DataLoader(Squares(), batch_size=4, num_workers=2)
        >>> [b.tolist() for b in loader]
        [[0.0, 1.0, 4.0, 9.0], [16.0, 25.0]]
    """

    def __init__(
        self,
        dataset: Any,
        fetch: Callable[[Any, Any], Any],
        num_workers: int,
        prefetch_factor: int,
        timeout: float,
        worker_init_fn: Callable[[int], None] | None,
        context: Any,
        base_seed: int,
        iterable: bool,
    ) -> None:
        ctx = mp.get_context(context) if isinstance(context, str) or context is None else context
        self.num_workers = num_workers
        self.prefetch = prefetch_factor * num_workers
        self.timeout = timeout
        self.iterable = iterable
        self.result_queue = ctx.Queue()
        self.index_queues = []
        self.workers = []
        for k in range(num_workers):
            iq = ctx.Queue()
            w = ctx.Process(
                target=_worker_loop,
                args=(
                    k,
                    num_workers,
                    dataset,
                    iq,
                    self.result_queue,
                    fetch,
                    base_seed,
                    worker_init_fn,
                    iterable,
                ),
                daemon=True,
            )
            w.start()
            self.index_queues.append(iq)
            self.workers.append(w)
        self._first_epoch = True
        self._closed = False

    def epoch(self, requests: Iterator[Any], base_seed: int) -> Iterator[Any]:
        """Yield the results of ``requests`` (index arrays, or batch sizes for iterables) in order."""
        if self.iterable and not self._first_epoch:
            for iq in self.index_queues:
                iq.put((-1, ("reset", base_seed)))
        self._first_epoch = False
        pending: dict[int, Any] = {}
        sent = 0
        want = 0
        active = list(range(self.num_workers))  # workers still producing (iterables)
        req_iter = iter(requests)
        owner: dict[int, int] = {}
        rr = itertools.cycle(range(self.num_workers))
        exhausted = False

        def send() -> bool:
            nonlocal sent
            if not active:
                return False
            try:
                req = next(req_iter)
            except StopIteration:
                return False
            k = next(rr)
            while k not in active:
                k = next(rr)
            owner[sent] = k
            self.index_queues[k].put((sent, req))
            sent += 1
            return True

        try:
            while sent < self.prefetch and send():
                pass
            while want < sent:
                if want in pending:
                    out = pending.pop(want)
                else:
                    batch_no, out = self._get()
                    if batch_no is None:  # a worker failed before its first task
                        out.reraise()
                    if batch_no != want:
                        pending[batch_no] = out
                        continue
                want += 1
                if isinstance(out, _WorkerError):
                    out.reraise()
                if isinstance(out, _IterableEnd):
                    if out.worker_id in active:
                        active.remove(out.worker_id)
                else:
                    yield out
                if not exhausted and not send():
                    exhausted = True
        except BaseException:
            self.close(force=True)
            raise

    def _get(self) -> tuple[Any, Any]:
        waited = 0.0
        while True:
            step = _POLL_S if self.timeout <= 0 else min(_POLL_S, self.timeout - waited)
            try:
                return self.result_queue.get(timeout=max(step, 0.001))
            except queue.Empty:
                waited += step
                for k, w in enumerate(self.workers):
                    if not w.is_alive():
                        self.close(force=True)
                        raise RuntimeError(
                            f"DataLoader worker {k} (pid {w.pid}) exited unexpectedly with "
                            f"exit code {w.exitcode}"
                        ) from None
                if self.timeout > 0 and waited >= self.timeout:
                    self.close(force=True)
                    raise RuntimeError(
                        f"DataLoader timed out after {self.timeout} seconds waiting for a batch"
                    ) from None

    def close(self, force: bool = False) -> None:
        """Stop the workers: asked to finish, then terminated (at once when ``force``)."""
        if self._closed:
            return
        self._closed = True
        for iq in self.index_queues:
            with contextlib.suppress(OSError, ValueError):
                iq.put(None)
        for w in self.workers:
            w.join(timeout=0.0 if force else 2.0)
            if w.is_alive():
                w.terminate()
                w.join(timeout=1.0)
        for q in (*self.index_queues, self.result_queue):
            q.cancel_join_thread()
            q.close()

    def __del__(self) -> None:
        with contextlib.suppress(Exception):  # interpreter shutdown
            self.close()
