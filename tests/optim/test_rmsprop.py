"""RMSprop against torch.optim.RMSprop step by step, and its validation."""

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
        {"lr": 0.01, "alpha": 0.9},
        {"lr": 0.01, "centered": True},
        {"lr": 0.005, "momentum": 0.9},
        {"lr": 0.005, "momentum": 0.8, "centered": True, "weight_decay": 0.1},
        {"lr": 0.01, "weight_decay": 0.2, "eps": 1e-3},
        {"lr": 0.01, "maximize": True, "momentum": 0.5},
        {"lr": 0.01, "alpha": 0.0},
    ],
    ids=kwargs_id,
)
def test_rmsprop_follows_torch(kwargs):
    follow_torch(gf.optim.RMSprop, torch.optim.RMSprop, kwargs)


def test_rmsprop_param_groups_follow_torch():
    groups = [([0], {"centered": True}), ([1, 2], {"lr": 0.001, "momentum": 0.9})]
    follow_torch(gf.optim.RMSprop, torch.optim.RMSprop, {"lr": 0.01}, groups=groups)


@pytest.mark.parametrize(
    ("kwargs", "bad"),
    [
        ({"lr": -0.01}, "lr"),
        ({"alpha": -0.1}, "alpha"),
        ({"alpha": 1.1}, "alpha"),
        ({"eps": -1e-8}, "eps"),
        ({"momentum": -0.1}, "momentum"),
        ({"momentum": 1.0}, "momentum"),
        ({"weight_decay": -1.0}, "weight_decay"),
    ],
)
def test_rmsprop_rejects_bad_hyperparameters(kwargs, bad):
    with pytest.raises(ValueError, match=f"RMSprop.*{bad}"):
        gf.optim.RMSprop([gf.zeros(2, requires_grad=True)], **kwargs)


def test_rmsprop_converges_on_quadratic():
    target = np.array([1.0, -2.0])
    w = gf.tensor([-3.0, 4.0], dtype="float64", requires_grad=True)
    opt = gf.optim.RMSprop([w], lr=0.05, momentum=0.5, centered=True)
    sched = gf.optim.lr_scheduler.StepLR(opt, step_size=300, gamma=0.1)
    for _ in range(900):
        opt.zero_grad()
        ((w - gf.tensor(target)) ** 2).sum().backward()
        opt.step()
        sched.step()
    assert np.linalg.norm(w._data - target) < 1e-6
