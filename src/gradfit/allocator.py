"""Keep freed memory for the next step: glibc's malloc told not to hand large blocks back at once.

A CNN step allocates and frees tens of megabytes of arrays the user can see (each
convolution's, ReLU's and pooling's output and gradient: 3-6 MB apiece for a LeNet at
batch 128). glibc returns the top of its heap to the OS as soon as more than a little is
free there, so every step the same memory comes back as fresh pages, each a page fault
(about 2,600 a LeNet step, 10-15% of its CPU time; benchmarks/RESULTS.md). PyTorch's
CPU allocator pays them too; NumPy has no hook for a caching allocator without C.

:func:`tune` (called once when gradfit is imported; the transformer and GRU steps gain as much
as the CNN: 6,350 and 3,940 faults a step before, 3 after) sets two
of glibc's ``mallopt`` parameters, as the ``MALLOC_TOP_PAD_`` and ``MALLOC_MMAP_THRESHOLD_``
environment variables would:

* ``M_TOP_PAD`` 64 MiB: the heap keeps up to 64 MiB free at its top instead of trimming it
  (the pages stay resident and are reused without faults; the peak is unchanged);
* ``M_MMAP_THRESHOLD`` 32 MiB (glibc's own upper bound for its adaptive threshold): blocks
  under it come from the heap, larger ones are still mapped and unmapped on their own.

Nothing happens off glibc (macOS, Windows, musl), when the program set either variable
itself, or when ``GRADFIT_MALLOC_TUNE=0`` is in the environment.

Example:
    >>> from gradfit import allocator
    >>> allocator.tune() in (True, False)
    True
"""

from __future__ import annotations

import os
import sys

TOP_PAD = 64 << 20
MMAP_THRESHOLD = 32 << 20
_M_TOP_PAD, _M_MMAP_THRESHOLD = -2, -3  # glibc's malloc.h
_done: bool | None = None  # None: not tried yet; else whether the parameters were set


def tune() -> bool:
    """Set glibc's heap padding and mmap threshold once per process; True if they are set.

    Example:
        >>> from gradfit.allocator import tune
        >>> tune() == tune()
        True
    """
    global _done
    if _done is not None:
        return _done
    _done = False
    if not sys.platform.startswith("linux") or os.environ.get("GRADFIT_MALLOC_TUNE") == "0":
        return False
    if "MALLOC_TOP_PAD_" in os.environ or "MALLOC_MMAP_THRESHOLD_" in os.environ:
        return False
    try:
        import ctypes

        libc = ctypes.CDLL(None)
        if not hasattr(libc, "gnu_get_libc_version"):  # musl or another libc: leave it
            return False
        ok = libc.mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD) == 1
        ok = libc.mallopt(_M_TOP_PAD, TOP_PAD) == 1 and ok
    except (OSError, AttributeError):
        return False
    _done = ok
    return ok
