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


class Generator(np.random.Generator):
    """A random number generator object, as ``torch.Generator``: pass it as ``generator=``.

    It is a NumPy ``Generator`` (PCG64) with PyTorch's methods on top, so anything in
    gradfit that takes ``generator=`` accepts it, and so does NumPy code. Same seed, same
    numbers; the numbers are not PyTorch's (the streams differ), the statistics are.
    ``get_state()`` returns a JSON-serialisable dict instead of a byte tensor.

    Args:
        device: only ``"cpu"`` (the one device gradfit runs on).

    Example:
        >>> import gradfit as gf
        >>> g = gf.Generator().manual_seed(0)
        >>> g.random() == gf.Generator().manual_seed(0).random()
        True
    """

    def __init__(self, device: Any = "cpu") -> None:
        if str(device) != "cpu":
            raise RuntimeError(
                f"Generator: gradfit runs on the CPU only, got device={device!r} (use 'cpu')"
            )
        super().__init__(np.random.PCG64(_DEFAULT_SEED))
        self._initial_seed = _DEFAULT_SEED
        self.device = "cpu"

    def manual_seed(self, seed: int) -> Generator:
        """Reset the generator to ``seed``; returns itself (so ``Generator().manual_seed(0)``)."""
        if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
            raise TypeError(f"manual_seed: expected an integer seed, got {seed!r}")
        seed = int(seed)
        if seed < 0:  # PyTorch accepts negative seeds (they wrap around 2**64)
            seed += 2**64
        if not 0 <= seed < 2**64:
            raise ValueError(f"manual_seed: seed {seed} is outside [-2**63, 2**64)")
        self.bit_generator.state = np.random.PCG64(seed).state
        self._initial_seed = seed
        return self

    def seed(self) -> int:
        """Seed from the operating system's entropy and return the seed chosen."""
        s = int(np.random.SeedSequence().entropy % 2**63)
        self.manual_seed(s)
        return s

    def initial_seed(self) -> int:
        """The seed this generator was last seeded with."""
        return self._initial_seed

    def get_state(self) -> dict[str, Any]:
        """The state as a JSON-serialisable dict (PyTorch gives a byte tensor)."""
        return self.bit_generator.state

    def set_state(self, state: dict[str, Any]) -> Generator:
        """Restore a state from :meth:`get_state`; returns itself."""
        self.bit_generator.state = state
        return self


_DEFAULT_SEED = 0
_generator = Generator()


def rng_of(generator: Any) -> np.random.Generator:
    """The NumPy generator to draw from: ``generator`` if given, else gradfit's default one.

    Example:
        >>> rng_of(None) is default_generator()
        True
    """
    if generator is None:
        return _generator
    if not isinstance(generator, np.random.Generator):
        raise TypeError(
            f"generator: expected a gf.Generator (or numpy Generator), got {type(generator).__name__}"
        )
    return generator


def manual_seed(seed: int) -> Generator:
    """Seed gradfit's generator; returns it (PyTorch returns its generator too).

    Example:
        >>> import gradfit as gf
        >>> _ = gf.manual_seed(42)
    """
    if not isinstance(seed, (int, np.integer)) or isinstance(seed, bool) or seed < 0:
        raise ValueError(f"manual_seed: expected a non-negative integer seed, got {seed!r}")
    return _generator.manual_seed(int(seed))


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
