"""``gradfit.utils``: PyTorch's ``torch.utils`` paths (``gradfit.utils.data``).

Example:
    >>> from gradfit.utils.data import DataLoader, TensorDataset
    >>> DataLoader is __import__("gradfit").data.DataLoader
    True
"""

from __future__ import annotations

from gradfit.utils import data

__all__ = ["data"]
