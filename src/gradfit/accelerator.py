"""``gf.accelerator``: PyTorch's device-agnostic accelerator queries; gradfit has none.

Example:
    >>> import gradfit as gf
    >>> gf.accelerator.is_available(), gf.accelerator.current_accelerator()
    (False, None)
"""

from __future__ import annotations

from typing import Any


def is_available() -> bool:
    """False: gradfit runs on the CPU only.

    Example:
        >>> is_available()
        False
    """
    return False


def current_accelerator(check_available: bool = False) -> Any:
    """None: there is no accelerator (PyTorch returns None too when it has none).

    Example:
        >>> current_accelerator() is None
        True
    """
    return None


def device_count() -> int:
    """0: no accelerators.

    Example:
        >>> device_count()
        0
    """
    return 0
