"""Adadelta, Adamax, NAdam, RAdam, ASGD and Rprop against torch.optim step by step (50 steps, float32
and float64, weight decay, maximize, parameter groups), their validation and state_dict layout."""

from __future__ import annotations

import inspect

import numpy as np
import pytest
import torch

import gradfit as gf
from optim_harness import follow_torch, kwargs_id

CASES = {
    "Adadelta": [
        {},
        {"lr": 0.5, "rho": 0.8, "eps": 1e-4},
        {"lr": 0.5, "weight_decay": 0.1},
        {"lr": 0.5, "maximize": True, "weight_decay": 0.05},
    ],
    "Adamax": [
        {"lr": 0.01},
        {"lr": 0.02, "betas": (0.8, 0.99), "eps": 1e-6},
        {"lr": 0.01, "weight_decay": 0.1},
        {"lr": 0.01, "maximize": True, "weight_decay": 0.05},
    ],
    "NAdam": [
        {"lr": 0.01},
        {"lr": 0.02, "betas": (0.8, 0.99), "momentum_decay": 0.01},
        {"lr": 0.01, "weight_decay": 0.1},
        {"lr": 0.01, "weight_decay": 0.1, "decoupled_weight_decay": True},
        {"lr": 0.01, "maximize": True},
    ],
    "RAdam": [
        {"lr": 0.01},
        {"lr": 0.02, "betas": (0.8, 0.9)},  # rho_t > 5 from step 7: both branches run
        {"lr": 0.01, "betas": (0.9, 0.5)},  # rho_t never exceeds 5
        {"lr": 0.01, "weight_decay": 0.1},
        {"lr": 0.01, "weight_decay": 0.1, "decoupled_weight_decay": True},
        {"lr": 0.01, "maximize": True},
    ],
    "ASGD": [
        {"lr": 0.02},
        {"lr": 0.02, "lambd": 0.01, "alpha": 0.5, "t0": 10},
        {"lr": 0.02, "weight_decay": 0.1, "t0": 5},
        {"lr": 0.01, "maximize": True},
    ],
    "Rprop": [
        {},
        {"lr": 0.05, "etas": (0.3, 1.5), "step_sizes": (1e-3, 0.2)},
        {"lr": 0.01, "maximize": True},
    ],
}
PARAMS = [(name, kw) for name, kws in CASES.items() for kw in kws]


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize(("name", "kwargs"), PARAMS, ids=[f"{n}-{kwargs_id(k)}" for n, k in PARAMS])
def test_follows_torch(name, kwargs, dtype):
    follow_torch(getattr(gf.optim, name), getattr(torch.optim, name), kwargs, dtype=dtype)


GROUPS = {
    "Adadelta": [([0, 2], {"lr": 0.5}), ([1], {"rho": 0.5, "weight_decay": 0.1})],
    "Adamax": [([0, 2], {"lr": 0.05}), ([1], {"betas": (0.5, 0.9)})],
    "NAdam": [([0], {"lr": 0.05, "momentum_decay": 0.0}), ([1, 2], {"weight_decay": 0.1})],
    "RAdam": [([0], {"lr": 0.05}), ([1, 2], {"weight_decay": 0.1, "decoupled_weight_decay": True})],
    "ASGD": [([0, 2], {"lr": 0.05, "t0": 3}), ([1], {"lambd": 0.1})],
    "Rprop": [([0, 2], {"lr": 0.05}), ([1], {"etas": (0.4, 1.1)})],
}


@pytest.mark.parametrize("name", sorted(GROUPS))
def test_param_groups_follow_torch(name):
    follow_torch(
        getattr(gf.optim, name), getattr(torch.optim, name), {"lr": 0.01}, groups=GROUPS[name]
    )


@pytest.mark.parametrize("name", sorted(CASES))
def test_state_and_group_keys_are_torchs(name):
    w = gf.tensor([1.0, -2.0], requires_grad=True)
    tw = torch.tensor([1.0, -2.0], requires_grad=True)
    opt, topt = getattr(gf.optim, name)([w]), getattr(torch.optim, name)([tw])
    w.grad, tw.grad = gf.tensor([0.5, 0.5]), torch.tensor([0.5, 0.5])
    opt.step()
    topt.step()
    sd, tsd = opt.state_dict(), topt.state_dict()
    assert set(sd["state"][0]) == set(tsd["state"][0])
    assert set(sd["param_groups"][0]) == set(tsd["param_groups"][0])
    for key, value in tsd["param_groups"][0].items():
        if key != "params":
            assert sd["param_groups"][0][key] == value, key


BAD = [
    ("Adadelta", {"lr": -1.0}, "lr"),
    ("Adadelta", {"rho": 1.5}, "rho"),
    ("Adadelta", {"eps": -1.0}, "eps"),
    ("Adadelta", {"weight_decay": -1.0}, "weight_decay"),
    ("Adamax", {"lr": -1.0}, "lr"),
    ("Adamax", {"betas": (1.0, 0.9)}, "beta1"),
    ("Adamax", {"betas": (0.9, -0.1)}, "beta2"),
    ("Adamax", {"eps": -1.0}, "eps"),
    ("Adamax", {"weight_decay": -1.0}, "weight_decay"),
    ("NAdam", {"lr": -1.0}, "lr"),
    ("NAdam", {"betas": (0.9, 1.0)}, "beta2"),
    ("NAdam", {"momentum_decay": -1.0}, "momentum_decay"),
    ("NAdam", {"weight_decay": -1.0}, "weight_decay"),
    ("RAdam", {"lr": -1.0}, "lr"),
    ("RAdam", {"betas": (-0.5, 0.9)}, "beta1"),
    ("RAdam", {"eps": -1.0}, "eps"),
    ("ASGD", {"lr": -1.0}, "lr"),
    ("ASGD", {"weight_decay": -1.0}, "weight_decay"),
    ("Rprop", {"lr": -1.0}, "lr"),
    ("Rprop", {"etas": (1.5, 1.2)}, "eta"),
    ("Rprop", {"etas": (0.5, 0.9)}, "eta"),
]


@pytest.mark.parametrize(("name", "kwargs", "bad"), BAD, ids=[f"{n}-{b}" for n, _, b in BAD])
def test_bad_hyperparameters_are_value_errors_like_torch(name, kwargs, bad):
    with pytest.raises(ValueError, match=bad):
        getattr(gf.optim, name)([gf.zeros(2, requires_grad=True)], **kwargs)
    with pytest.raises(ValueError):
        getattr(torch.optim, name)([torch.zeros(2, requires_grad=True)], **kwargs)


@pytest.mark.parametrize("name", [*sorted(CASES), "SGD", "Adam", "AdamW", "RMSprop", "Adagrad"])
def test_backend_switches_are_accepted(name):
    w = gf.tensor([1.0], requires_grad=True)
    opt = getattr(gf.optim, name)([w], lr=0.1, foreach=False, differentiable=False)
    assert opt.param_groups[0]["foreach"] is False
    w.grad = gf.tensor([1.0])
    opt.step()
    assert w.item() != 1.0


def test_fused_and_foreach_together_are_refused_like_torch():
    with pytest.raises(ValueError, match="fused"):
        gf.optim.Adam([gf.zeros(1, requires_grad=True)], fused=True, foreach=True)
    with pytest.raises(RuntimeError, match="fused"):
        torch.optim.Adam([torch.zeros(1, requires_grad=True)], fused=True, foreach=True)


def test_asgd_keeps_the_average_of_the_iterates():
    w = gf.tensor([1.0], dtype="float64", requires_grad=True)
    opt = gf.optim.ASGD([w], lr=0.1, lambd=0.0, t0=0)
    seen = []
    for _ in range(5):
        w.grad = gf.tensor([1.0], dtype="float64")
        opt.step()
        seen.append(w.item())
    # mu = 1 / max(1, t - t0): ax copies p up to step 2, then averages from there on
    np.testing.assert_allclose(opt.state[w]["ax"], [np.mean(seen[1:])], rtol=1e-6)


OLDER = [
    ("SGD", {"lr": 0.05, "momentum": 0.9, "nesterov": True, "weight_decay": 0.01}),
    ("SGD", {"lr": 0.05, "momentum": 0.5, "dampening": 0.3, "maximize": True}),
    ("Adam", {"lr": 0.01, "amsgrad": True, "weight_decay": 0.05}),
    ("Adam", {"lr": 0.01, "maximize": True, "decoupled_weight_decay": True, "weight_decay": 0.1}),
    ("AdamW", {"lr": 0.01, "amsgrad": True, "maximize": True}),
    ("RMSprop", {"lr": 0.01, "momentum": 0.9, "centered": True, "weight_decay": 0.01}),
    ("Adagrad", {"lr": 0.1, "lr_decay": 0.01, "maximize": True}),
]


@pytest.mark.parametrize(("name", "kwargs"), OLDER, ids=[f"{n}-{kwargs_id(k)}" for n, k in OLDER])
def test_older_optimizers_follow_torch_in_float32(name, kwargs):
    follow_torch(getattr(gf.optim, name), getattr(torch.optim, name), kwargs, dtype="float32")


ALL = [*sorted(CASES), "SGD", "Adam", "AdamW", "RMSprop", "Adagrad", "LBFGS"]


@pytest.mark.parametrize("name", ALL)
def test_signature_is_torchs(name):
    """Same parameter names, order, kinds (positional or keyword-only) and defaults."""
    ours = inspect.signature(getattr(gf.optim, name).__init__).parameters
    theirs = inspect.signature(getattr(torch.optim, name).__init__).parameters
    assert list(ours) == list(theirs)
    for key, p in theirs.items():
        assert ours[key].kind == p.kind, key
        assert ours[key].default == p.default, key
