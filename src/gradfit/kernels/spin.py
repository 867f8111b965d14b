"""A compiled busy-wait (numba) for :mod:`gradfit.awake`: spin without the GIL until a
counter moves or a number of rounds has passed.

A plain ``while flags[i] == seen`` loop would not do: nothing in it writes memory, so LLVM
may read ``flags[i]`` once and spin forever on the copy. Each round here also adds one to
another slot of the same array, at an index known only at run time, which LLVM cannot
prove distinct from ``i``: it must read ``flags[i]`` again every round.

Example:
    >>> import numpy as np
    >>> from gradfit import kernels
    >>> from gradfit.kernels.spin import spin_while
    >>> flags = np.zeros(16, np.int64)
    >>> if kernels.enabled():
    ...     spun = spin_while(flags, 0, 0, 8, 1000)  # nothing moves flags[0]: all 1000 rounds
    ... else:
    ...     spun = 1000
    >>> spun
    1000
"""

from __future__ import annotations

from typing import Any

from gradfit.kernels import Kernel

__all__ = ["spin_while"]


def _spin_while(flags: Any, i: int, seen: int, scratch: int, rounds: int) -> int:
    """Spin while ``flags[i] == seen``, at most ``rounds`` rounds; returns the rounds spun."""
    n = 0
    while n < rounds:
        if flags[i] != seen:
            return n
        flags[scratch] += 1
        n += 1
    return n


spin_while = Kernel(_spin_while)
