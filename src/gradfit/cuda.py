"""``gf.cuda``: what PyTorch code asks before choosing a device. gradfit has no GPU backend.

``gf.cuda.is_available()`` is False, so ``"cuda" if gf.cuda.is_available() else "cpu"``
picks the CPU. Seeding calls are accepted and do nothing (as PyTorch's without a GPU).

Example:
    >>> import gradfit as gf
    >>> gf.cuda.is_available(), gf.cuda.device_count()
    (False, 0)
"""

from __future__ import annotations


def is_available() -> bool:
    """False: gradfit runs on the CPU only.

    Example:
        >>> is_available()
        False
    """
    return False


def device_count() -> int:
    """0: no CUDA devices.

    Example:
        >>> device_count()
        0
    """
    return 0


def manual_seed(seed: int) -> None:
    """Does nothing (there is no CUDA generator), as PyTorch without a GPU.

    Example:
        >>> manual_seed(0)
    """


def manual_seed_all(seed: int) -> None:
    """Does nothing (there is no CUDA generator), as PyTorch without a GPU.

    Example:
        >>> manual_seed_all(0)
    """


def is_initialized() -> bool:
    """False: CUDA is never initialised.

    Example:
        >>> is_initialized()
        False
    """
    return False
