"""``gf.Size``: a shape, as ``torch.Size``: a tuple of ints with ``numel()``.

``Tensor.size()`` returns one, so ``x.size().numel()`` works as in PyTorch. It prints as a
plain tuple (``(2, 3)``), and ``Tensor.shape`` stays a plain tuple: the shape is read on
every operation, and a tuple costs nothing to make.

Example:
    >>> import gradfit as gf
    >>> s = gf.zeros(2, 3).size()
    >>> s, s.numel(), s == (2, 3)
    ((2, 3), 6, True)
"""

from __future__ import annotations

import math


class Size(tuple):
    """A tuple of dimension sizes with PyTorch's ``numel()``.

    Example:
        >>> Size((4, 5)).numel()
        20
    """

    __slots__ = ()

    def numel(self) -> int:
        """The number of elements a tensor of this shape holds (1 for ``()``)."""
        return math.prod(self)
