"""AdamW against torch.optim.AdamW step by step, and its validation."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import gradfit as gf
from optim_harness import follow_torch, kwargs_id


@pytest.mark.parametrize(
    "kwargs",
    [
        {},
        {"lr": 0.01},
        {"lr": 0.01, "weight_decay": 0.3},
        {"lr": 0.01, "weight_decay": 0.0},
        {"lr": 0.02, "amsgrad": True, "weight_decay": 0.1},
        {"lr": 0.01, "maximize": True, "weight_decay": 0.05},
        {"lr": 0.05, "betas": (0.7, 0.95), "eps": 1e-4},
    ],
    ids=kwargs_id,
)
def test_adamw_follows_torch(kwargs):
    follow_torch(gf.optim.AdamW, torch.optim.AdamW, kwargs)


def test_adamw_param_groups_follow_torch():
    groups = [([0], {"weight_decay": 0.0}), ([1, 2], {"lr": 0.05, "weight_decay": 0.5})]
    follow_torch(gf.optim.AdamW, torch.optim.AdamW, {"lr": 0.01}, groups=groups)


def test_adamw_decay_is_decoupled_from_the_gradient():
    """With a zero gradient AdamW still shrinks the weights by lr * weight_decay; Adam does not."""
    w1 = gf.tensor([2.0, -4.0], dtype="float64", requires_grad=True)
    w2 = gf.tensor([2.0, -4.0], dtype="float64", requires_grad=True)
    adamw = gf.optim.AdamW([w1], lr=0.1, weight_decay=0.5)
    adam = gf.optim.Adam([w2], lr=0.1, weight_decay=0.5)
    w1.grad = gf.zeros(2, dtype="float64")
    w2.grad = gf.zeros(2, dtype="float64")
    adamw.step()
    adam.step()
    np.testing.assert_allclose(w1._data, [2.0 * 0.95, -4.0 * 0.95], rtol=1e-12)
    # Adam's L2 term goes through the normalisation: a step of ~lr whatever the weight's size
    np.testing.assert_allclose(w2._data, [1.9, -3.9], rtol=1e-6)


@pytest.mark.parametrize(
    ("kwargs", "bad"),
    [
        ({"lr": -1e-3}, "lr"),
        ({"betas": (1.5, 0.999)}, "beta1"),
        ({"betas": (0.9, -0.1)}, "beta2"),
        ({"eps": -1.0}, "eps"),
        ({"weight_decay": -0.01}, "weight_decay"),
    ],
)
def test_adamw_rejects_bad_hyperparameters(kwargs, bad):
    with pytest.raises(ValueError, match=f"AdamW.*{bad}"):
        gf.optim.AdamW([gf.zeros(2, requires_grad=True)], **kwargs)
