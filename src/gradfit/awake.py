"""Keep idle cores awake for a moment after parallel work (Linux, with compiled kernels).

In a virtual machine whose idle cores halt at once (no guest halt polling, as on this
project's 2-core Firecracker VMs), waking a sleeping thread is a trip through the
hypervisor: a lock handed from one Python thread to another and back took 66 µs there, and
one parallel region of two empty tasks 117 µs. A training step of a small CNN has a dozen
parallel regions and a hundred GIL hand-overs between the pool's threads, each paying it.
OpenMP runtimes (PyTorch's threads) avoid this by spinning for a while before they sleep.

gradfit does the same with one *keep-awake* thread per core: at ``SCHED_IDLE`` priority, so
it runs only on a core that has nothing else to run and gives way at once to any other
thread, it spins without the GIL (:mod:`gradfit.kernels.spin`), which keeps the core from
halting. :func:`gradfit.threads.run_all` arms them each time it runs tasks on the pool; they
go back to sleep after about 20 ms without parallel work. With them a hand-over takes about
9 µs on that VM. They exist only on Linux, with more than one thread, and when compiled
kernels are on (numba); ``GRADFIT_SPIN=0`` turns them off.

Example:
    >>> from gradfit import awake
    >>> isinstance(awake.supported(), bool)
    True
"""

from __future__ import annotations

import os
import sys
import threading
from typing import Any

__all__ = ["arm", "supported"]

_ROUNDS = 1_000_000  # spin rounds per check (about a millisecond)
_IDLE_CHECKS = 20  # checks without activity before a keep-awake thread sleeps
_ACT = 0  # flags[_ACT]: the activity counter (bumped by arm)
_STRIDE = 8  # one 64-byte line per slot: a thread's scratch slot shares no line with another's

_lock = threading.Lock()
_state: dict[str, Any] = {"supported": None, "threads": None, "flags": None, "event": None}


def supported() -> bool:
    """Whether keep-awake threads can run here (Linux, numba kernels on, ``GRADFIT_SPIN`` not 0).

    Example:
        >>> from gradfit import awake
        >>> awake.supported() in (True, False)
        True
    """
    if _state["supported"] is None:
        from gradfit import kernels

        _state["supported"] = (
            sys.platform.startswith("linux")
            and hasattr(os, "SCHED_IDLE")
            and os.environ.get("GRADFIT_SPIN", "1").strip() != "0"
            and kernels.enabled()
        )
    return bool(_state["supported"])


def _keep_awake(cpu: int, slot: int) -> None:
    import numpy as np  # noqa: F401 - the flags are a NumPy array

    from gradfit.kernels.spin import spin_while

    try:
        os.sched_setaffinity(0, {cpu})
        os.sched_setscheduler(0, os.SCHED_IDLE, os.sched_param(0))
    except OSError:  # not allowed here: spin as an ordinary thread would take real CPU time
        return
    flags, event = _state["flags"], _state["event"]
    scratch = _STRIDE * (slot + 1)
    while True:
        event.wait()
        idle = 0
        while idle < _IDLE_CHECKS:
            seen = int(flags[_ACT])
            spin_while(flags, _ACT, seen, scratch, _ROUNDS)
            idle = 0 if flags[_ACT] != seen else idle + 1
        with _lock:
            if flags[_ACT] == seen:  # nothing since: sleep until the next arm
                event.clear()


def _start() -> None:
    import numpy as np

    try:
        cpus = sorted(os.sched_getaffinity(0))
    except OSError:
        cpus = []
    if len(cpus) < 2:
        _state["supported"] = False
        return
    _state["flags"] = np.zeros(_STRIDE * (len(cpus) + 1), np.int64)
    _state["event"] = threading.Event()
    _state["threads"] = []
    for slot, cpu in enumerate(cpus):
        t = threading.Thread(target=_keep_awake, args=(cpu, slot), daemon=True,
                             name=f"gradfit-awake-{cpu}")  # fmt: skip
        t.start()
        _state["threads"].append(t)


def arm() -> None:
    """Note parallel work: keep-awake threads spin for about 20 ms more (started on first use).

    Example:
        >>> from gradfit import awake
        >>> awake.arm()  # a no-op where keep-awake threads are not supported
    """
    if not supported():
        return
    flags = _state["flags"]
    if flags is None:
        with _lock:
            if _state["flags"] is None:
                _start()
        flags = _state["flags"]
        if flags is None:
            return
    flags[_ACT] += 1
    event = _state["event"]
    if not event.is_set():
        with _lock:
            event.set()


def _after_fork_in_child() -> None:
    """A forked child has none of the parent's threads: start again on first use."""
    global _lock
    _lock = threading.Lock()
    _state.update(threads=None, flags=None, event=None)


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)
