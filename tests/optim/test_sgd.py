"""SGD against torch.optim.SGD step by step, its validation, and convergence."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import gradfit as gf
from optim_harness import follow_torch, kwargs_id, minimize, quadratic, rosenbrock


@pytest.mark.parametrize(
    "kwargs",
    [
        {"lr": 0.05},
        {"lr": 0.05, "momentum": 0.9},
        {"lr": 0.05, "momentum": 0.9, "dampening": 0.3},
        {"lr": 0.05, "momentum": 0.9, "nesterov": True},
        {"lr": 0.05, "weight_decay": 0.1},
        {"lr": 0.05, "momentum": 0.5, "weight_decay": 0.1, "dampening": 0.5},
        {"lr": 0.05, "momentum": 0.9, "weight_decay": 0.01, "nesterov": True},
        {"lr": 0.01, "maximize": True},
        {"lr": 0.01, "momentum": 0.9, "weight_decay": 0.1, "nesterov": True, "maximize": True},
    ],
    ids=kwargs_id,
)
def test_sgd_follows_torch(kwargs, kernel_path):
    follow_torch(gf.optim.SGD, torch.optim.SGD, kwargs)


@pytest.mark.parametrize("kwargs", [{"lr": 0.05}, {"lr": 0.05, "momentum": 0.9}], ids=kwargs_id)
def test_sgd_float32_follows_torch(kwargs, kernel_path):
    follow_torch(gf.optim.SGD, torch.optim.SGD, kwargs, dtype="float32")


@pytest.mark.parametrize("momentum", [0.0, 0.9])
def test_sgd_compiled_step_gives_numpy_paths_bits(momentum):
    """The fused kernels (gradfit.kernels.sgd) do the NumPy path's float32 operations."""
    from gradfit import kernels

    if not kernels.available():
        pytest.skip("numba is not installed")
    rng = np.random.default_rng(3)
    w0 = [rng.standard_normal(s).astype(np.float32) for s in [(7, 5), (5,), (), (0, 3)]]
    grads = [[rng.standard_normal(a.shape).astype(np.float32) for a in w0] for _ in range(5)]
    results, before = [], kernels.enabled()
    for on in (False, True):
        kernels.set_enabled(on)
        try:
            ws = [gf.tensor(a.copy(), requires_grad=True) for a in w0]
            opt = gf.optim.SGD(ws, lr=0.1, momentum=momentum)
            for step in grads:
                for w, g in zip(ws, step, strict=True):
                    w.grad = gf.tensor(g)
                opt.step()
            results.append([w._data.copy() for w in ws])
        finally:
            kernels.set_enabled(before)
    for a, b in zip(*results, strict=True):
        assert a.dtype == np.float32
        np.testing.assert_array_equal(a, b)


def test_sgd_param_groups_with_different_options_follow_torch(kernel_path):
    groups = [([0], {"lr": 0.1, "momentum": 0.9}), ([1, 2], {"lr": 0.01, "nesterov": True})]
    follow_torch(gf.optim.SGD, torch.optim.SGD, {"lr": 0.03, "momentum": 0.5}, groups=groups)


def test_sgd_through_autograd_matches_torch():
    """The gradients come from gradfit's own backward (not fed in)."""
    rng = np.random.default_rng(1)
    x, y, w0 = rng.standard_normal((16, 3)), rng.standard_normal(16), rng.standard_normal(3)
    w = gf.tensor(w0.copy(), requires_grad=True)
    tw = torch.tensor(w0.copy(), requires_grad=True)
    opt = gf.optim.SGD([w], lr=0.05, momentum=0.9, nesterov=True)
    topt = torch.optim.SGD([tw], lr=0.05, momentum=0.9, nesterov=True)
    for _ in range(20):
        opt.zero_grad()
        ((gf.tensor(x) @ w - gf.tensor(y)) ** 2).mean().backward()
        opt.step()
        topt.zero_grad()
        ((torch.tensor(x) @ tw - torch.tensor(y)) ** 2).mean().backward()
        topt.step()
        np.testing.assert_allclose(w._data, tw.detach().numpy(), rtol=0, atol=1e-10)


@pytest.mark.parametrize(
    ("kwargs", "bad"),
    [
        ({"lr": -0.1}, "lr"),
        ({"lr": 0.1, "momentum": -0.5}, "momentum"),
        ({"lr": 0.1, "momentum": 1.0}, "momentum"),
        ({"lr": 0.1, "dampening": 1.5}, "dampening"),
        ({"lr": 0.1, "weight_decay": -1e-4}, "weight_decay"),
        ({"lr": 0.1, "nesterov": True}, "nesterov"),
        ({"lr": 0.1, "momentum": 0.9, "dampening": 0.1, "nesterov": True}, "nesterov"),
        ({"lr": float("nan")}, "lr"),
    ],
)
def test_sgd_rejects_bad_hyperparameters(kwargs, bad):
    with pytest.raises(ValueError, match=bad):
        gf.optim.SGD([gf.zeros(2, requires_grad=True)], **kwargs)


def test_sgd_rejects_bad_hyperparameter_in_added_group():
    opt = gf.optim.SGD([gf.zeros(2, requires_grad=True)], lr=0.1)
    with pytest.raises(ValueError, match="momentum"):
        opt.add_param_group({"params": [gf.zeros(1, requires_grad=True)], "momentum": 2.0})


def test_sgd_lr_type_error():
    with pytest.raises(TypeError, match="lr"):
        gf.optim.SGD([gf.zeros(2, requires_grad=True)], lr="0.1")


# ----------------------------------------------------------------------------- convergence
@pytest.mark.parametrize(
    ("kwargs", "steps"),
    [
        ({"lr": 0.15}, 200),
        ({"lr": 0.05, "momentum": 0.9}, 300),
        ({"lr": 0.05, "momentum": 0.9, "nesterov": True}, 300),
    ],
)
def test_sgd_reaches_minimum_of_quadratic(kwargs, steps):
    f, target = quadratic()
    w, loss = minimize(lambda p: gf.optim.SGD(p, **kwargs), f, [-3.0, 4.0], steps)
    assert np.linalg.norm(w._data - target) < 1e-4
    assert loss < 1e-8


@pytest.mark.parametrize(
    "kwargs",
    [{"lr": 1e-3}, {"lr": 2e-4, "momentum": 0.9}, {"lr": 2e-4, "momentum": 0.9, "nesterov": True}],
)
def test_sgd_makes_progress_on_rosenbrock(kwargs):
    start = rosenbrock(gf.tensor([-1.5, 2.0])).item()
    w, loss = minimize(lambda p: gf.optim.SGD(p, **kwargs), rosenbrock, [-1.5, 2.0], 2000)
    assert loss < 0.05 * start
    assert np.linalg.norm(w._data - 1.0) < np.linalg.norm(np.array([-1.5, 2.0]) - 1.0)
