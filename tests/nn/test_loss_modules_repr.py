"""Every loss module prints as PyTorch's does (issue 13: ``__repr__`` as torch prints it)."""

from __future__ import annotations

import pytest
import torch

import gradfit as gf

LOSSES = sorted(n for n in dir(torch.nn) if n.endswith("Loss") and hasattr(gf.nn, n))


def test_the_losses_compared_cover_both_families():
    assert {"CrossEntropyLoss", "MSELoss", "KLDivLoss", "MarginRankingLoss"} <= set(LOSSES)


@pytest.mark.parametrize("name", LOSSES)
@pytest.mark.parametrize("kwargs", [{}, {"reduction": "sum"}])
def test_loss_repr_matches_torch(name, kwargs):
    assert repr(getattr(gf.nn, name)(**kwargs)) == repr(getattr(torch.nn, name)(**kwargs))
