"""Handles that take a registered hook off again (``torch.utils.hooks.RemovableHandle``).

Shared by module hooks (``Module.register_forward_hook``) and tensor hooks
(``Tensor.register_hook``); it lives apart from both so the engine does not import
``gradfit.nn``.

Example:
    >>> import gradfit as gf
    >>> x = gf.tensor([1.0, 2.0], requires_grad=True)
    >>> with x.register_hook(lambda g: g * 10):
    ...     (x * x).sum().backward()
    >>> x.grad
    tensor([20., 40.])
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Any
from weakref import ReferenceType, ref

__all__ = ["RemovableHandle"]


class RemovableHandle:
    """What ``register_forward_hook`` and ``register_forward_pre_hook`` return: ``remove()`` it.

    Like PyTorch's ``torch.utils.hooks.RemovableHandle``: ``remove()`` takes the hook
    off its module (calling it again does nothing), and a ``with`` block removes the
    hook when it ends. The handle refers to the module's hook table weakly, so it
    does not keep the module alive. ``copy.deepcopy`` of a handle together with its
    module gives a handle of the copy's hook.

    Example:
        >>> import gradfit as gf
        >>> relu = gf.nn.ReLU()
        >>> handle = relu.register_forward_hook(lambda m, args, out: out * 2)
        >>> relu(gf.tensor([1.0, -1.0]))
        tensor([2., 0.])
        >>> handle.remove()
        >>> relu(gf.tensor([1.0, -1.0]))
        tensor([1., 0.])
    """

    next_id: int = 0

    def __init__(self, hooks_dict: OrderedDict[int, Any]) -> None:
        self.hooks_dict_ref: ReferenceType[OrderedDict[int, Any]] = ref(hooks_dict)
        self.id = RemovableHandle.next_id
        RemovableHandle.next_id += 1

    def remove(self) -> None:
        """Take the hook off the module; a second call does nothing.

        Example:
            >>> import gradfit as gf
            >>> lin = gf.nn.Linear(2, 2)
            >>> h = lin.register_forward_pre_hook(lambda m, args: None)
            >>> h.remove(); h.remove()
            >>> len(lin._forward_pre_hooks)
            0
        """
        hooks = self.hooks_dict_ref()
        if hooks is not None:
            hooks.pop(self.id, None)

    def __getstate__(self) -> tuple[OrderedDict[int, Any] | None, int]:
        # copy/deepcopy and pickle store the table itself: a weak reference cannot be copied
        return (self.hooks_dict_ref(), self.id)

    def __setstate__(self, state: tuple[OrderedDict[int, Any] | None, int]) -> None:
        hooks, self.id = state
        self.hooks_dict_ref = ref(OrderedDict() if hooks is None else hooks)  # dead if None
        RemovableHandle.next_id = max(RemovableHandle.next_id, self.id + 1)

    def __enter__(self) -> RemovableHandle:
        return self

    def __exit__(self, *exc: object) -> None:
        self.remove()

    def __repr__(self) -> str:
        hooks = self.hooks_dict_ref()
        state = "active" if hooks is not None and self.id in hooks else "removed"
        return f"<RemovableHandle id={self.id} ({state})>"
