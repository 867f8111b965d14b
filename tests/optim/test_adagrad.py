"""Adagrad against torch.optim.Adagrad step by step, and its validation."""

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
        {"lr": 0.1},
        {"lr": 0.1, "lr_decay": 0.05},
        {"lr": 0.1, "weight_decay": 0.2},
        {"lr": 0.1, "initial_accumulator_value": 0.5},
        {"lr": 0.1, "eps": 1e-3},
        {"lr": 0.05, "maximize": True, "lr_decay": 0.01, "weight_decay": 0.1},
    ],
    ids=kwargs_id,
)
def test_adagrad_follows_torch(kwargs):
    follow_torch(gf.optim.Adagrad, torch.optim.Adagrad, kwargs)


def test_adagrad_param_groups_follow_torch():
    groups = [([0, 1], {"lr_decay": 0.1}), ([2], {"lr": 0.5, "weight_decay": 0.1})]
    follow_torch(gf.optim.Adagrad, torch.optim.Adagrad, {"lr": 0.1}, groups=groups)


def test_adagrad_group_initial_accumulator_value_is_used():
    """gradfit honours a group's own initial_accumulator_value (PyTorch uses the default's)."""
    w = gf.tensor([1.0], dtype="float64", requires_grad=True)
    v = gf.tensor([1.0], dtype="float64", requires_grad=True)
    opt = gf.optim.Adagrad([{"params": [w]}, {"params": [v], "initial_accumulator_value": 3.0}])
    w.grad = gf.tensor([1.0], dtype="float64")
    v.grad = gf.tensor([1.0], dtype="float64")
    opt.step()
    tv = torch.tensor([1.0], dtype=torch.float64, requires_grad=True)
    topt = torch.optim.Adagrad([tv], initial_accumulator_value=3.0)
    tv.grad = torch.tensor([1.0], dtype=torch.float64)
    topt.step()
    np.testing.assert_allclose(opt.state[v]["sum"], [4.0])
    np.testing.assert_allclose(opt.state[w]["sum"], [1.0])
    np.testing.assert_allclose(v._data, tv.detach().numpy(), rtol=0, atol=1e-12)


@pytest.mark.parametrize(
    ("kwargs", "bad"),
    [
        ({"lr": -0.01}, "lr"),
        ({"lr_decay": -0.1}, "lr_decay"),
        ({"weight_decay": -1.0}, "weight_decay"),
        ({"initial_accumulator_value": -0.1}, "initial_accumulator_value"),
        ({"eps": -1e-10}, "eps"),
    ],
)
def test_adagrad_rejects_bad_hyperparameters(kwargs, bad):
    with pytest.raises(ValueError, match=f"Adagrad.*{bad}"):
        gf.optim.Adagrad([gf.zeros(2, requires_grad=True)], **kwargs)


def test_adagrad_converges_on_quadratic():
    target = np.array([1.0, -2.0])
    w = gf.tensor([-3.0, 4.0], dtype="float64", requires_grad=True)
    opt = gf.optim.Adagrad([w], lr=1.0)
    for _ in range(500):
        opt.zero_grad()
        ((w - gf.tensor(target)) ** 2).sum().backward()
        opt.step()
    assert np.linalg.norm(w._data - target) < 1e-4
