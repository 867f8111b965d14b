"""Keep freed memory for reuse instead of handing it back to the OS after every operation.

Each operation allocates fresh arrays for its result; a training step of a small transformer
makes and frees hundreds of them, from 100 KB to a few MB. glibc's ``malloc`` serves blocks
above its *mmap threshold* (128 KB to start) with fresh ``mmap`` pages and returns the free
top of its heap to the OS once it exceeds the *trim threshold*. Either way the next step
touches new pages: thousands of page faults per step, each one a trip into the kernel to zero
a page (a third of a small model's step time went there). PyTorch's CPU tensors come from
the same allocator but it frees and reuses fewer temporaries.

:func:`tune_allocator` (called once when gradfit is imported) raises both thresholds, so
blocks up to 32 MB come from the heap and up to 256 MB of freed heap stays mapped for the
next step. That memory is still reused by the process, only not returned to the OS at once.
It applies to glibc on Linux only and does nothing elsewhere; set the environment variable
``GRADFIT_MALLOC_TUNE=0`` before importing gradfit to leave ``malloc`` as it is.

Example:
    >>> from gradfit.allocator import tune_allocator
    >>> tune_allocator() in (True, False)   # False where there is no glibc (or opted out)
    True
"""

from __future__ import annotations

import ctypes
import os
import sys

__all__ = ["tune_allocator"]

_M_TRIM_THRESHOLD = -1  # glibc's mallopt parameter numbers (malloc.h)
_M_MMAP_THRESHOLD = -3
MMAP_THRESHOLD = 32 * 1024 * 1024  # glibc's largest (DEFAULT_MMAP_THRESHOLD_MAX on 64-bit)
TRIM_THRESHOLD = 256 * 1024 * 1024

_done: bool | None = None


def tune_allocator() -> bool:
    """Raise glibc malloc's mmap and trim thresholds (once); True if they were set.

    Example:
        >>> import gradfit as gf
        >>> gf.allocator.tune_allocator() == gf.allocator.tune_allocator()  # idempotent
        True
    """
    global _done
    if _done is not None:
        return _done
    _done = False
    if sys.platform != "linux" or os.environ.get("GRADFIT_MALLOC_TUNE", "1") == "0":
        return False
    try:
        libc = ctypes.CDLL(None)
        mallopt = libc.mallopt
    except (OSError, AttributeError):  # not glibc (musl has no mallopt)
        return False
    mallopt.argtypes, mallopt.restype = [ctypes.c_int, ctypes.c_int], ctypes.c_int
    ok = mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD) == 1
    ok = mallopt(_M_TRIM_THRESHOLD, TRIM_THRESHOLD) == 1 and ok
    _done = ok
    return ok
