"""``gf.inference_mode()``: PyTorch's faster ``no_grad`` for evaluation; here it is ``no_grad``.

Example:
    >>> import gradfit as gf
    >>> w = gf.ones(2, requires_grad=True)
    >>> with gf.inference_mode():
    ...     y = w * 2
    >>> y.requires_grad
    False
"""

from __future__ import annotations

import functools
from typing import Any

from gradfit.autograd import _GradMode, is_grad_enabled


class inference_mode(_GradMode):
    """Do not record operations (a context manager, or a decorator with or without ``()``).

    ``inference_mode(False)`` leaves grad mode as it is. Unlike PyTorch, tensors made
    inside are ordinary tensors (gradfit has no separate inference tensors).

    Example:
        >>> import gradfit as gf
        >>> @gf.inference_mode
        ... def predict(x):
        ...     return x * 2
        >>> predict(gf.ones(1, requires_grad=True)).requires_grad
        False
    """

    def __new__(cls, mode: Any = True) -> Any:
        if callable(mode):  # bare decorator: @gf.inference_mode
            return cls(True)(mode)
        return super().__new__(cls)

    def __init__(self, mode: bool = True) -> None:
        self.enabled = bool(mode)

    def __enter__(self) -> None:
        self.mode = False if self.enabled else is_grad_enabled()
        super().__enter__()

    def __call__(self, fn: Any) -> Any:
        enabled = self.enabled

        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            with inference_mode(enabled):
                return fn(*args, **kwargs)

        return wrapper


def is_inference_mode_enabled() -> bool:
    """Whether gradfit is inside an ``inference_mode`` block (read as: grad mode is off).

    Example:
        >>> import gradfit as gf
        >>> with gf.inference_mode():
        ...     gf.is_inference_mode_enabled()
        True
    """
    return not is_grad_enabled()
