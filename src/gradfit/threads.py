"""Threads: the one place that sets how many threads gradfit and its BLAS use.

PyTorch's names and meaning: :func:`set_num_threads` sets the threads of intra-op
parallelism (here: the pool that runs batch chunks of convolution and pooling, and the
BLAS library's own threads, through ``threadpoolctl``; ReLU's forward and backward on
arrays of 1 MiB or more are split on the same pool by :func:`elementwise`, or by
:func:`spans` where a compiled kernel of :mod:`gradfit.kernels` runs, without the GIL);
:func:`get_num_threads` reads it.
The default is the ``OMP_NUM_THREADS`` environment variable when it is set (as PyTorch),
otherwise the number of cores this process may run on.

Once a convolution or pooling has run, BLAS is held at one thread per caller until the
next :func:`set_num_threads`: gradfit's pool is then the parallelism. Restoring BLAS's
own threads after each such operation costs more than it gives: OpenBLAS's idle threads spin
for about 0.1 s after every threaded call (even a small one, e.g. a CNN's last Linear) and
take the cores the pool needs (a LeNet step at 2 threads used 1.5-1.8x the CPU time of one
thread that way, against 1.0x with BLAS held; benchmarks/RESULTS.md). A program without
convolution or pooling (an MLP) keeps ``n`` BLAS threads. Each chunk writes its own part of the
output and anything summed over the batch is summed in a fixed chunk order, so results are
bit-identical whatever the number of threads.

``threadpoolctl`` is imported on first use (``import gradfit`` stays NumPy-only).

Example:
    >>> import gradfit as gf
    >>> n = gf.get_num_threads()
    >>> gf.set_num_threads(1)
    >>> gf.get_num_threads()
    1
    >>> gf.set_num_threads(n)
"""

from __future__ import annotations

import functools
import os
import threading
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

T = TypeVar("T")

_lock = threading.Lock()
_num_threads: int | None = None  # None: the default, read on first use
_interop_threads: int | None = None
_pool: Any = None  # concurrent.futures.ThreadPoolExecutor, made on first use
_pool_size = 0
_controller: Any = None  # threadpoolctl.ThreadpoolController, made on first use
_local = threading.local()  # .busy: this thread is already running a parallel task
_blas_held = False  # BLAS set to one thread by run_all (until set_num_threads)


def _after_fork_in_child() -> None:
    """A forked child (e.g. a DataLoader worker) has none of the parent's pool threads."""
    global _pool, _pool_size, _lock
    _pool, _pool_size = None, 0
    _lock = threading.Lock()
    _local.busy = False


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)


def _cores() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):  # not on Linux
        return max(1, os.cpu_count() or 1)


def _default_threads() -> int:
    env = os.environ.get("OMP_NUM_THREADS", "").strip()
    if env.isdigit() and int(env) > 0:
        return int(env)
    return _cores()


def _check(n: Any, name: str) -> int:
    """PyTorch's checks and error type (RuntimeError) for a number of threads."""
    if not isinstance(n, int) or isinstance(n, bool):
        raise RuntimeError(f"{name} expects an int, but got {type(n).__name__}")
    if n < 1:
        raise RuntimeError(f"{name} expects a positive integer, got {n}")
    return n


def _blas() -> Any:
    """The threadpoolctl controller of the BLAS/OpenMP libraries loaded now (made once)."""
    global _controller
    if _controller is None:
        from threadpoolctl import ThreadpoolController

        _controller = ThreadpoolController()
    return _controller


def _set_blas_threads(n: int) -> None:
    global _controller
    # a fresh controller (1 ms): it also sees the libraries loaded since the last one
    # (numba's first compilation loads SciPy's OpenBLAS beside NumPy's, gradfit.kernels)
    _controller = None
    for lib in _blas().lib_controllers:
        lib.set_num_threads(n)


def get_num_threads() -> int:
    """The number of threads used for intra-op parallelism (PyTorch's ``torch.get_num_threads``).

    Example:
        >>> import gradfit as gf
        >>> gf.get_num_threads() >= 1
        True
    """
    global _num_threads
    if _num_threads is None:
        _num_threads = _default_threads()
    return _num_threads


def blas_threads() -> int:
    """How many threads gradfit has BLAS use now: one once a convolution or pooling has held
    it (:func:`hold_blas`), else :func:`get_num_threads` (for layout choices that depend on it).

    Example:
        >>> from gradfit import threads
        >>> 1 <= threads.blas_threads() <= threads.get_num_threads()
        True
    """
    return 1 if _blas_held else get_num_threads()


def set_num_threads(n: int) -> None:
    """Set the threads of intra-op parallelism (PyTorch's ``torch.set_num_threads``).

    gradfit runs batch chunks of convolution and pooling on a pool of ``n`` threads and
    sets the BLAS library to ``n`` threads too (with ``threadpoolctl``). Once a convolution
    or pooling has run, BLAS stays at one thread per caller (until the next call of this
    function), so the two kinds of threads do not oversubscribe the cores.

    Args:
        n: a positive number of threads.

    Raises:
        RuntimeError: ``n`` is not an int or not positive (PyTorch's error type for both).

    Example:
        >>> import gradfit as gf
        >>> old = gf.get_num_threads()
        >>> gf.set_num_threads(2)
        >>> gf.get_num_threads()
        2
        >>> gf.set_num_threads(old)
    """
    global _num_threads, _blas_held
    n = _check(n, "set_num_threads")
    with _lock:
        _num_threads = n
        _blas_held = False
        _set_blas_threads(n)


def get_num_interop_threads() -> int:
    """The number of inter-op threads (PyTorch's ``torch.get_num_interop_threads``).

    gradfit runs one operation at a time: the value is recorded and reported, nothing uses it.

    Example:
        >>> import gradfit as gf
        >>> gf.get_num_interop_threads() >= 1
        True
    """
    return _interop_threads if _interop_threads is not None else _cores()


def set_num_interop_threads(n: int) -> None:
    """Set the number of inter-op threads (PyTorch's ``torch.set_num_interop_threads``).

    Accepted for PyTorch programs; gradfit runs one operation at a time, so it has no effect
    beyond :func:`get_num_interop_threads`.

    Example:
        >>> import gradfit as gf
        >>> gf.set_num_interop_threads(1)
        >>> gf.get_num_interop_threads()
        1
    """
    global _interop_threads
    _interop_threads = _check(n, "set_num_interop_threads")


def _executor(size: int) -> Any:
    global _pool, _pool_size
    from concurrent.futures import ThreadPoolExecutor

    with _lock:
        if _pool is None or _pool_size != size:
            if _pool is not None:
                _pool.shutdown(wait=False)
            _pool = ThreadPoolExecutor(max_workers=size, thread_name_prefix="gradfit")
            _pool_size = size
        return _pool


def _run_busy(fn: Callable[[], T]) -> T:
    busy = getattr(_local, "busy", False)
    _local.busy = True
    try:
        return fn()
    finally:
        _local.busy = busy


def workers(tasks: int) -> int:
    """How many pool threads a parallel run of ``tasks`` independent tasks would use (>= 1)."""
    if getattr(_local, "busy", False):
        return 1
    return max(1, min(tasks, get_num_threads()))


def hold_blas() -> None:
    """Set BLAS to one thread until the next :func:`set_num_threads` (no-op at 1 thread).

    Called by the ops that parallelise over the batch themselves (convolution, pooling),
    also when a call is too small to split: a small convolution's GEMMs gain nothing from
    BLAS threads, and OpenBLAS's idle threads would spin on the cores afterwards.
    """
    global _blas_held
    if _blas_held or get_num_threads() == 1:
        return
    with _lock:
        _set_blas_threads(1)
        _blas_held = True


def spans(a: Any, min_bytes: int = 1 << 20) -> list[tuple[int, int]]:
    """Ranges of ``a``'s first axis, one per pool thread, when ``a`` is large; ``[(0, len)]`` else.

    For ops that split an array across threads (with :func:`run_all`); arrays under
    ``min_bytes`` (or 0-d) are not split, so small ops pay no pool overhead.

    Example:
        >>> import numpy as np
        >>> from gradfit.threads import spans
        >>> spans(np.zeros((4, 3)))
        [(0, 4)]
    """
    n = a.shape[0] if a.ndim else 1
    k = workers(n) if a.ndim and a.nbytes >= min_bytes else 1
    return [(n * i // k, n * (i + 1) // k) for i in range(k)]


def over_spans(
    fn: Callable[[int, int], Any], a: Any, min_bytes: int = 1 << 20, hold: bool = False
) -> None:
    """``fn(start, stop)`` over the :func:`spans` of ``a``'s first axis, on the pool when
    there are several (a kernel writing its own rows; ``hold`` as in :func:`run_all`).

    Example:
        >>> import numpy as np
        >>> from gradfit.threads import over_spans
        >>> seen = []
        >>> over_spans(lambda s, e: seen.append((s, e)), np.zeros((4, 3)))
        >>> seen
        [(0, 4)]
    """
    run_all([functools.partial(fn, s, e) for s, e in spans(a, min_bytes)], hold=hold)


def elementwise(fn: Callable[..., Any], out: Any, *ins: Any, min_bytes: int = 1 << 20) -> Any:
    """``fn(*ins, out=out)`` for an elementwise ``fn``, in slices of the first axis on the pool.

    ``out`` is large (``min_bytes``, as :func:`spans`) and there are several threads: each
    thread computes its own rows of ``out``; the inputs (same shape as ``out``, or 0-d) are
    sliced alike. Elementwise work sums nothing, so the bits do not depend on the split.
    BLAS is left as it is (an MLP's ReLU must not take its GEMMs' threads). Returns ``out``.

    Example:
        >>> import numpy as np
        >>> from gradfit.threads import elementwise
        >>> elementwise(np.add, np.empty(3), np.ones(3), np.ones(3)).tolist()
        [2.0, 2.0, 2.0]
    """
    parts = spans(out, min_bytes)
    if len(parts) == 1:
        fn(*ins, out=out)
        return out

    def part(a: int, b: int) -> None:
        fn(*[x[a:b] if getattr(x, "ndim", 0) else x for x in ins], out=out[a:b])

    run_all([functools.partial(part, a, b) for a, b in parts], hold=False)
    return out


def run_all(fns: Sequence[Callable[[], T]], hold: bool = True) -> list[T]:
    """Run the callables, on the pool when there are several and more than one thread.

    Internal helper for ops: each callable must write only its own outputs. Results come back
    in order; with ``hold``, BLAS is set to one thread (and stays so until
    :func:`set_num_threads`; ops whose callables run no BLAS pass ``hold=False``). The
    first exception is raised after all have finished. Called from inside a pool task, it
    runs the callables in the calling thread.

    Example:
        >>> from gradfit.threads import run_all
        >>> run_all([lambda: 1, lambda: 2])
        [1, 2]
    """
    if len(fns) <= 1 or workers(len(fns)) == 1:
        return [fn() for fn in fns]
    pool = _executor(get_num_threads() - 1)  # the caller runs the first callable itself
    if hold:
        hold_blas()
    futures: list[Any] = []
    try:
        futures = [pool.submit(_run_busy, fn) for fn in fns[1:]]
        first = _run_busy(fns[0])
        return [first] + [f.result() for f in futures]
    finally:
        for f in futures:  # on an error, let the others finish before raising
            f.exception()
