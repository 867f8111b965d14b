"""``gf.backends.cuda``: gradfit is not built with CUDA.

Example:
    >>> import gradfit as gf
    >>> gf.backends.cuda.is_built()
    False
"""

from __future__ import annotations


def is_built() -> bool:
    """False: gradfit has no CUDA backend."""
    return False
