"""``gf.backends.mps``: Apple's GPU backend is not available in gradfit.

Example:
    >>> import gradfit as gf
    >>> gf.backends.mps.is_available(), gf.backends.mps.is_built()
    (False, False)
"""

from __future__ import annotations


def is_available() -> bool:
    """False: gradfit runs on the CPU only."""
    return False


def is_built() -> bool:
    """False: gradfit has no MPS backend."""
    return False
