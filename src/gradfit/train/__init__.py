"""Training: the loop, callbacks, metrics, checkpoints and baselines.

Example:
    >>> from gradfit.train import History
    >>> len(History())
    0
"""

from __future__ import annotations

from gradfit.train.history import History

__all__ = ["History"]
