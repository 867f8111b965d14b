"""Adam against torch.optim.Adam step by step, its validation, and convergence."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import gradfit as gf
from optim_harness import follow_torch, kwargs_id, minimize, quadratic, rosenbrock


@pytest.mark.parametrize(
    "kwargs",
    [
        {"lr": 0.01},
        {"lr": 0.05, "betas": (0.8, 0.99), "eps": 1e-6},
        {"lr": 0.01, "amsgrad": True},
        {"lr": 0.01, "weight_decay": 0.1},
        {"lr": 0.01, "maximize": True},
        {"lr": 0.02, "amsgrad": True, "weight_decay": 0.05, "maximize": True},
        {"lr": 0.01, "weight_decay": 0.1, "decoupled_weight_decay": True},
        {"lr": 0.01, "betas": (0.0, 0.0)},
    ],
    ids=kwargs_id,
)
def test_adam_follows_torch(kwargs):
    follow_torch(gf.optim.Adam, torch.optim.Adam, kwargs)


def test_adam_param_groups_with_different_options_follow_torch():
    groups = [([0, 2], {"lr": 0.05, "amsgrad": True}), ([1], {"lr": 0.001, "betas": (0.5, 0.9)})]
    follow_torch(gf.optim.Adam, torch.optim.Adam, {"lr": 0.01}, groups=groups)


@pytest.mark.parametrize(
    ("kwargs", "bad"),
    [
        ({"lr": -1e-3}, "lr"),
        ({"betas": (1.0, 0.999)}, "beta1"),
        ({"betas": (-0.1, 0.999)}, "beta1"),
        ({"betas": (0.9, 1.0)}, "beta2"),
        ({"betas": (0.9,)}, "betas"),
        ({"eps": -1e-8}, "eps"),
        ({"weight_decay": -0.1}, "weight_decay"),
    ],
)
def test_adam_rejects_bad_hyperparameters(kwargs, bad):
    with pytest.raises(ValueError, match=bad):
        gf.optim.Adam([gf.zeros(2, requires_grad=True)], **kwargs)


# ----------------------------------------------------------------------------- convergence
def test_adam_reaches_minimum_of_quadratic():
    f, target = quadratic()
    w, loss = minimize(lambda p: gf.optim.Adam(p, lr=0.05), f, [-3.0, 4.0], 600)
    assert np.linalg.norm(w._data - target) < 1e-5
    assert loss < 1e-10


def test_adam_makes_progress_on_rosenbrock():
    start = rosenbrock(gf.tensor([-1.5, 2.0])).item()
    w, loss = minimize(lambda p: gf.optim.Adam(p, lr=0.02), rosenbrock, [-1.5, 2.0], 2000)
    assert loss < 0.01 * start
    assert np.linalg.norm(w._data - 1.0) < 0.5
