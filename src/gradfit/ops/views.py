"""Which tensors are views of which: the live views of a base, for in-place changes.

A view (``reshape``, ``view``, ``transpose``, basic indexing, ...) shares its base's memory
and version counter. When the base, or another view of it, changes in place, the view's
values change with it, and so must its place in the graph: PyTorch regenerates a view's
``grad_fn`` from its base's new history. gradfit does it at the in-place change
(:func:`gradfit.ops.inplace.record`): every live view of the base that was made while the
graph was recorded gets a new node that gathers its elements from the base. This module
keeps the list: weak references, so a view that is gone costs nothing.

Example:
    >>> import gradfit as gf
    >>> a = gf.ones(2, 3, requires_grad=True)
    >>> t = a * 1
    >>> y = t.reshape(6)      # a view of t
    >>> _ = t.mul_(3)         # t changes in place: y's node now reads t's new history
    >>> y.sum().backward()
    >>> a.grad
    tensor([[3., 3., 3.],
            [3., 3., 3.]])
"""

from __future__ import annotations

import weakref
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from gradfit.tensor import Tensor

_PRUNE_AT = 64  # a base's list is cleared of dead views at this length and its doublings


def note_view(base: Tensor, view: Tensor) -> None:
    """Remember ``view`` as a view of ``base`` (the root base, not a view itself).

    Example:
        >>> import gradfit as gf
        >>> t = gf.ones(4)
        >>> v = gf.ones(2)
        >>> note_view(t, v)
        >>> live_views(t) == [v]
        True
    """
    refs = getattr(base, "_views", None)
    if refs is None:
        refs = base._views = []
    else:
        n = len(refs)
        if n >= _PRUNE_AT and n & (n - 1) == 0:  # at 64, 128, 256, ...: O(1) a view on average
            refs[:] = [r for r in refs if r() is not None]
    refs.append(weakref.ref(view))


def live_views(base: Tensor) -> list[Tensor]:
    """The views of ``base`` noted by :func:`note_view` that still exist.

    Example:
        >>> import gradfit as gf
        >>> live_views(gf.ones(3))
        []
    """
    refs = getattr(base, "_views", None)
    if not refs:
        return []
    alive = [v for v in (r() for r in refs) if v is not None]
    if len(alive) < len(refs):
        refs[:] = [weakref.ref(v) for v in alive]
    return alive
