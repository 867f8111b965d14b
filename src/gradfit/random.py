"""The one random generator that every random function in gradfit draws from.

``gf.manual_seed(n)`` resets it, so the same seed gives the same initial
weights, dropout masks and shuffles. Its state can be saved and restored
(checkpoints do this so that a resumed run matches an uninterrupted one).

Example:
    >>> import gradfit as gf
    >>> _ = gf.manual_seed(0); a = gf.rand(2)
    >>> _ = gf.manual_seed(0); b = gf.rand(2)
    >>> bool((a == b).all())
    True
"""

from __future__ import annotations

from typing import Any

import numpy as np

_generator = np.random.Generator(np.random.PCG64(0))


def manual_seed(seed: int) -> np.random.Generator:
    """Seed gradfit's generator; returns it (PyTorch returns its generator too).

    Example:
        >>> import gradfit as gf
        >>> _ = gf.manual_seed(42)
    """
    if not isinstance(seed, (int, np.integer)) or isinstance(seed, bool) or seed < 0:
        raise ValueError(f"manual_seed: expected a non-negative integer seed, got {seed!r}")
    _generator.bit_generator.state = np.random.PCG64(int(seed)).state
    return _generator


def default_generator() -> np.random.Generator:
    """The generator used when a function is given none.

    Example:
        >>> default_generator().random() < 1.0
        True
    """
    return _generator


def get_rng_state() -> dict[str, Any]:
    """The generator's state as a JSON-serialisable dict.

    Example:
        >>> s = get_rng_state(); x = default_generator().random()
        >>> set_rng_state(s); x == default_generator().random()
        True
    """
    return _generator.bit_generator.state


def set_rng_state(state: dict[str, Any]) -> None:
    """Restore a state returned by :func:`get_rng_state`.

    Example:
        >>> set_rng_state(get_rng_state())
    """
    _generator.bit_generator.state = state
