"""``gf.backends``: PyTorch's backend switches, as far as CPU-only code reads them.

``gf.backends.mps.is_available()`` and ``gf.backends.cuda.is_built()`` are False; the
``gf.backends.cudnn`` flags (``deterministic``, ``benchmark``) can be set and do nothing.

Example:
    >>> import gradfit as gf
    >>> gf.backends.mps.is_available()
    False
"""

from __future__ import annotations

from gradfit.backends import cuda, cudnn, mps

__all__ = ["cuda", "cudnn", "mps"]
