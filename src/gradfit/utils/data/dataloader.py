"""``gradfit.utils.data.dataloader``: torch's module path for ``DataLoader``.

Example:
    >>> from gradfit.utils.data.dataloader import DataLoader, default_collate
    >>> default_collate([1, 2]).tolist()
    [1, 2]
"""

from __future__ import annotations

from gradfit.data.collate import default_collate, default_convert
from gradfit.data.loader import DataLoader
from gradfit.data.worker import get_worker_info

__all__ = ["DataLoader", "default_collate", "default_convert", "get_worker_info"]
