"""Activation modules against torch.nn's, forward and gradient, with reprs and float64 gradcheck."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import gradfit as gf
from gradfit import nn
from oracle import check

CASES = [
    (nn.ReLU(), torch.nn.ReLU()),
    (nn.LeakyReLU(0.2), torch.nn.LeakyReLU(0.2)),
    (nn.ELU(alpha=0.7), torch.nn.ELU(alpha=0.7)),
    (nn.GELU(), torch.nn.GELU()),
    (nn.GELU(approximate="tanh"), torch.nn.GELU(approximate="tanh")),
    (nn.SiLU(), torch.nn.SiLU()),
    (nn.Sigmoid(), torch.nn.Sigmoid()),
    (nn.Tanh(), torch.nn.Tanh()),
    (nn.Softplus(beta=2.0, threshold=5.0), torch.nn.Softplus(beta=2.0, threshold=5.0)),
    (nn.Softmax(dim=1), torch.nn.Softmax(dim=1)),
    (nn.LogSoftmax(dim=-1), torch.nn.LogSoftmax(dim=-1)),
]
IDS = [repr(c[0]) for c in CASES]


@pytest.mark.parametrize("shape", [(1, 4), (6, 5), (2, 3, 4)])
@pytest.mark.parametrize("mods", CASES, ids=IDS)
def test_activation_module_matches_torch(mods, shape):
    ours, theirs = mods
    x = (np.random.default_rng(0).standard_normal(shape) * 3).astype(np.float32)
    x.flat[0] = 0.37  # keep clear of the kink at 0
    check(ours, theirs, [x])


@pytest.mark.parametrize("mods", CASES, ids=IDS)
def test_activation_module_gradcheck(mods):
    x = gf.tensor(
        np.random.default_rng(1).standard_normal((3, 4)) + 0.05, dtype="float64", requires_grad=True
    )
    assert gf.gradcheck(mods[0], [x])


@pytest.mark.parametrize("mods", CASES, ids=IDS)
def test_activation_repr_matches_torch(mods):
    assert repr(mods[0]) == repr(mods[1])


def test_activation_errors():
    with pytest.raises(ValueError, match="approximate must be 'none' or 'tanh'"):
        nn.GELU(approximate="fast")
    with pytest.raises(TypeError, match=r"ReLU\(\): expected a gf.Tensor, got list"):
        nn.ReLU()([1.0])
