"""``gf.set_flush_denormal``: flush subnormal floats to zero in CPU arithmetic, as PyTorch's.

Arithmetic on subnormal floats (magnitude below 1.2e-38 in float32) is 30-100x slower on many
x86 CPUs. The CPU can instead treat them as zero: the FTZ (flush-to-zero) and DAZ
(denormals-are-zero) bits of the SSE control register MXCSR. PyTorch sets them with
``torch.set_flush_denormal(True)``; NumPy has no such switch, so on x86-64 Linux gradfit reads
and writes MXCSR with two tiny machine-code functions (``stmxcsr`` / ``ldmxcsr``, 10 bytes
each) placed in a page mapped read-write, then made read-execute with ``mprotect`` (never
writable and executable at once), and called through ``ctypes``. Where that is not possible
(another CPU or OS, or a system that forbids executable mappings) it returns False, as PyTorch
does on unsupported CPUs.

Like PyTorch's, the setting belongs to the calling thread: NumPy's elementwise operations (run
in that thread) see it; BLAS worker threads (large matrix products) and other processes do not.
It changes every float computation in the thread (subnormal inputs read as 0, subnormal results
become 0), so it is off by default. The optimizers need none of it: they flush their own state
(see ``Optimizer.flush_subnormals``).

Example:
    >>> import gradfit as gf
    >>> import numpy as np
    >>> if gf.set_flush_denormal(True):  # False where unsupported
    ...     assert np.float32(1e-39) * np.float32(1.0) == 0.0
    >>> _ = gf.set_flush_denormal(False)
    >>> float(np.float32(1e-39) * np.float32(1.0)) > 0
    True
"""

from __future__ import annotations

import ctypes
import mmap
import platform
import sys
from collections.abc import Callable

__all__ = ["set_flush_denormal"]

_FTZ = 1 << 15  # flush-to-zero: subnormal results become 0
_DAZ = 1 << 6  # denormals-are-zero: subnormal inputs read as 0

# System V x86-64 (Linux): the first argument is in edi; the 128 bytes below rsp are free (red zone)
_GET_MXCSR = bytes.fromhex("0fae5c24fc8b4424fcc3")  # stmxcsr [rsp-4]; mov eax,[rsp-4]; ret
_SET_MXCSR = bytes.fromhex("897c24fc0fae5424fcc3")  # mov [rsp-4],edi; ldmxcsr [rsp-4]; ret

_funcs: tuple[Callable[[], int], Callable[[int], None]] | None = None
_unsupported = False
_keep: list[object] = []  # the code page and its views live as long as the process


def _mxcsr_functions() -> tuple[Callable[[], int], Callable[[int], None]] | None:
    global _funcs, _unsupported
    if _funcs is not None or _unsupported:
        return _funcs
    _unsupported = True
    if sys.platform != "linux" or platform.machine().lower() not in ("x86_64", "amd64"):
        return None
    if ctypes.sizeof(ctypes.c_void_p) != 8:
        return None
    try:
        page = mmap.mmap(-1, mmap.PAGESIZE, prot=mmap.PROT_READ | mmap.PROT_WRITE)
        page[: len(_GET_MXCSR)] = _GET_MXCSR
        page[64 : 64 + len(_SET_MXCSR)] = _SET_MXCSR
        base = ctypes.addressof(ctypes.c_char.from_buffer(page))
        libc = ctypes.CDLL(None, use_errno=True)
        libc.mprotect.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int]
        libc.mprotect.restype = ctypes.c_int
        if libc.mprotect(base, mmap.PAGESIZE, mmap.PROT_READ | mmap.PROT_EXEC) != 0:
            return None
        get = ctypes.CFUNCTYPE(ctypes.c_uint32)(base)
        set_ = ctypes.CFUNCTYPE(None, ctypes.c_uint32)(base + 64)
        # sanity: the register must read back what was written
        before = get()
        set_(before)
        if get() != before:
            return None
    except (OSError, ValueError, TypeError, AttributeError):
        return None
    _keep.append(page)
    _funcs = (get, set_)
    _unsupported = False
    return _funcs


def set_flush_denormal(mode: bool) -> bool:
    """Turn flush-to-zero and denormals-are-zero on (``True``) or off in the calling thread.

    Returns True if the CPU and system support it and the mode was set, else False (nothing
    changed), like ``torch.set_flush_denormal``. See the module docstring for what it affects.

    Example:
        >>> import gradfit as gf
        >>> gf.set_flush_denormal(False) in (True, False)
        True
    """
    funcs = _mxcsr_functions()
    if funcs is None:
        return False
    get, set_ = funcs
    value = get()
    value = (value | _FTZ | _DAZ) if mode else (value & ~(_FTZ | _DAZ))
    set_(value & 0xFFFFFFFF)
    return True
