"""``gf.backends.cudnn``: flags reproducibility boilerplate sets; they change nothing here.

gradfit's CPU kernels are deterministic, so ``deterministic = True`` already holds.

Example:
    >>> import gradfit as gf
    >>> gf.backends.cudnn.deterministic = True
    >>> gf.backends.cudnn.is_available()
    False
"""

from __future__ import annotations

enabled = True
benchmark = False
deterministic = False


def is_available() -> bool:
    """False: there is no cuDNN."""
    return False
