"""The Optimizer base: parameter groups, zero_grad, closures, skipped params, dtypes, state_dict."""

from __future__ import annotations

import json

import numpy as np
import pytest

import gradfit as gf

OPTIMIZERS = {
    "SGD": lambda p: gf.optim.SGD(p, lr=0.05, momentum=0.9, nesterov=True, weight_decay=0.01),
    "SGD-dampening": lambda p: gf.optim.SGD(p, lr=0.05, momentum=0.5, dampening=0.2),
    "Adam": lambda p: gf.optim.Adam(p, lr=0.01, weight_decay=0.01),
    "Adam-amsgrad": lambda p: gf.optim.Adam(p, lr=0.01, amsgrad=True),
    "AdamW": lambda p: gf.optim.AdamW(p, lr=0.01, amsgrad=True),
    "RMSprop": lambda p: gf.optim.RMSprop(p, lr=0.01, momentum=0.9, centered=True),
    "Adagrad": lambda p: gf.optim.Adagrad(p, lr=0.1, lr_decay=0.01),
    "Adadelta": lambda p: gf.optim.Adadelta(p, lr=0.5, weight_decay=0.01),
    "Adamax": lambda p: gf.optim.Adamax(p, lr=0.01, weight_decay=0.01),
    "NAdam": lambda p: gf.optim.NAdam(p, lr=0.01, weight_decay=0.01, decoupled_weight_decay=True),
    "RAdam": lambda p: gf.optim.RAdam(p, lr=0.01, betas=(0.8, 0.9)),
    "ASGD": lambda p: gf.optim.ASGD(p, lr=0.01, t0=10),
    "Rprop": lambda p: gf.optim.Rprop(p, lr=0.01),
}


def _params(dtype="float64"):
    rng = np.random.default_rng(3)
    return [
        gf.tensor(rng.standard_normal((4, 3)).astype(dtype), requires_grad=True),
        gf.tensor(rng.standard_normal(3).astype(dtype), requires_grad=True),
    ]


def _train(opt, params, steps, start=0):
    """Deterministic gradients from a quadratic plus step-dependent noise."""
    for k in range(start, start + steps):
        rng = np.random.default_rng(1000 + k)
        opt.zero_grad()
        for p in params:
            g = 0.5 * p._data + rng.standard_normal(p.shape).astype(p.dtype)
            p.grad = gf.tensor(g)
        opt.step()


# ----------------------------------------------------------------------------- construction
def test_single_group_gets_the_defaults():
    ps = _params()
    opt = gf.optim.SGD(ps, lr=0.1, momentum=0.9)
    assert len(opt.param_groups) == 1
    group = opt.param_groups[0]
    assert group["params"] == ps or all(a is b for a, b in zip(group["params"], ps, strict=True))
    assert (group["lr"], group["momentum"], group["nesterov"]) == (0.1, 0.9, False)


def test_param_groups_override_defaults_and_add_param_group():
    a, b = _params()
    opt = gf.optim.Adam([{"params": [a], "lr": 0.5}, {"params": [b]}], lr=0.01, betas=(0.8, 0.9))
    assert [g["lr"] for g in opt.param_groups] == [0.5, 0.01]
    c = gf.zeros(2, requires_grad=True)
    opt.add_param_group({"params": c, "eps": 1e-3})
    assert opt.param_groups[2]["params"][0] is c
    assert opt.param_groups[2]["eps"] == 1e-3
    assert opt.param_groups[2]["betas"] == (0.8, 0.9)


def test_named_parameters_are_accepted():
    a, b = _params()
    opt = gf.optim.SGD([("w", a), ("b", b)], lr=0.1)
    assert opt.param_groups[0]["param_names"] == ["w", "b"]
    assert opt.param_groups[0]["params"][0] is a


def test_module_parameters_can_be_optimized():
    model = gf.nn.Linear(3, 2)
    opt = gf.optim.SGD(model.parameters(), lr=0.1)
    before = model.weight._data.copy()
    x = gf.randn(4, 3)
    model(x).sum().backward()
    opt.step()
    np.testing.assert_allclose(
        model.weight._data, before - 0.1 * model.weight.grad._data, rtol=1e-6
    )


def test_construction_errors():
    a, b = _params()
    with pytest.raises(TypeError, match="single Tensor"):
        gf.optim.SGD(a, lr=0.1)
    with pytest.raises(ValueError, match="empty parameter list"):
        gf.optim.SGD([], lr=0.1)
    with pytest.raises(TypeError, match="can only optimize Tensors"):
        gf.optim.SGD([np.zeros(3)], lr=0.1)
    with pytest.raises(ValueError, match="non-leaf"):
        gf.optim.SGD([a * 2], lr=0.1)
    with pytest.raises(ValueError, match="more than one parameter group"):
        gf.optim.SGD([{"params": [a]}, {"params": [a, b]}], lr=0.1)
    with pytest.raises(ValueError, match="same parameter twice"):
        gf.optim.SGD([a, a], lr=0.1)
    with pytest.raises(TypeError, match="set"):
        gf.optim.SGD({a, b}, lr=0.1)
    with pytest.raises(ValueError, match="'params'"):
        opt = gf.optim.SGD([a], lr=0.1)
        opt.add_param_group({"lr": 0.1})


# ----------------------------------------------------------------------------- stepping
def test_zero_grad_set_to_none_and_to_zeros():
    a, b = _params()
    opt = gf.optim.SGD([a, b], lr=0.1)
    (a.sum() + b.sum()).backward()
    held = a.grad._data
    held_copy = held.copy()
    opt.zero_grad(set_to_none=False)
    assert a.grad is not None and not a.grad._data.any() and a.grad.shape == a.shape
    np.testing.assert_array_equal(held, held_copy)  # an array the caller holds is not touched
    opt.zero_grad()
    assert a.grad is None and b.grad is None


def test_closure_is_evaluated_with_grad_and_its_loss_returned():
    w = gf.tensor([3.0], dtype="float64", requires_grad=True)
    opt = gf.optim.SGD([w], lr=0.1)

    def closure():
        opt.zero_grad()
        loss = (w * w).sum()
        loss.backward()
        return loss

    with gf.no_grad():
        loss = opt.step(closure)
    assert loss.item() == 9.0
    np.testing.assert_allclose(w._data, [3.0 - 0.1 * 6.0])


@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
def test_param_without_grad_is_skipped(name):
    a, b = _params()
    frozen = b._data.copy()
    opt = OPTIMIZERS[name]([a, b])
    for _ in range(3):
        a.grad = gf.tensor(np.ones_like(a._data))
        b.grad = None
        opt.step()
    np.testing.assert_array_equal(b._data, frozen)
    assert b not in opt.state or not opt.state[b]
    assert not np.allclose(a._data, _params()[0]._data)


@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
def test_float32_params_keep_float32_state(name):
    ps = _params("float32")
    arrays = [p._data for p in ps]
    opt = OPTIMIZERS[name](ps)
    _train(opt, ps, 3)
    for p, arr in zip(ps, arrays, strict=True):
        assert p._data is arr, "the update must be in place on the parameter's array"
        assert p._data.dtype == np.float32
        for key, value in opt.state[p].items():
            if isinstance(value, np.ndarray):
                assert value.dtype == np.float32, key
                assert value.shape == p.shape, key


@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
def test_update_does_not_modify_the_gradient(name):
    ps = _params()
    opt = OPTIMIZERS[name](ps)
    for _ in range(2):
        grads = [np.full(p.shape, 0.3) for p in ps]
        for p, g in zip(ps, grads, strict=True):
            p.grad = gf.Tensor._wrap(g)
        opt.step()
        for g in grads:
            np.testing.assert_array_equal(g, 0.3)


def test_step_counts_as_in_place_modification_for_autograd():
    """A graph built before the step cannot backpropagate with the updated weights."""
    w = gf.tensor([1.0, 2.0], requires_grad=True)
    opt = gf.optim.SGD([w], lr=0.1)
    loss = (w * w).sum()
    w.grad = gf.ones(2)
    opt.step()
    with pytest.raises(RuntimeError, match="in-place"):
        loss.backward()


def test_changing_group_lr_takes_effect():
    w = gf.tensor([1.0], dtype="float64", requires_grad=True)
    opt = gf.optim.SGD([w], lr=0.1)
    opt.param_groups[0]["lr"] = 0.5
    w.grad = gf.tensor([1.0], dtype="float64")
    opt.step()
    np.testing.assert_allclose(w._data, [0.5])


# ----------------------------------------------------------------------------- state_dict
@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
def test_state_dict_round_trip_resumes_exactly(name, dtype):
    ref = _params(dtype)
    ref_opt = OPTIMIZERS[name](ref)
    _train(ref_opt, ref, 40)

    ps = _params(dtype)
    opt = OPTIMIZERS[name](ps)
    _train(opt, ps, 20)
    saved_weights = [p._data.copy() for p in ps]
    saved = opt.state_dict()
    # the saved metadata survives JSON (what checkpoints store); the arrays go separately
    meta = json.loads(json.dumps(saved["param_groups"], allow_nan=False))

    fresh = [gf.tensor(w, requires_grad=True) for w in saved_weights]
    opt2 = OPTIMIZERS[name](fresh)
    opt2.load_state_dict({"state": saved["state"], "param_groups": meta})
    _train(opt2, fresh, 20, start=20)
    for a, b in zip(ref, fresh, strict=True):
        np.testing.assert_array_equal(a._data, b._data)


def test_state_dict_layout_is_pytorchs():
    a, b = _params()
    opt = gf.optim.Adam([{"params": [a]}, {"params": [b], "lr": 0.1}])
    _train(opt, [a, b], 2)
    sd = opt.state_dict()
    assert set(sd) == {"state", "param_groups"}
    assert [g["params"] for g in sd["param_groups"]] == [[0], [1]]
    assert sorted(sd["state"]) == [0, 1]
    assert sd["state"][1]["step"] == 2
    assert set(sd["state"][0]) == {"step", "exp_avg", "exp_avg_sq"}
    assert sd["param_groups"][1]["lr"] == 0.1


def test_state_dict_is_a_copy():
    a, b = _params()
    opt = gf.optim.SGD([a, b], lr=0.1, momentum=0.9)
    _train(opt, [a, b], 1)
    sd = opt.state_dict()
    buf = sd["state"][0]["momentum_buffer"].copy()
    sd["param_groups"][0]["lr"] = 99.0
    _train(opt, [a, b], 1, start=1)
    np.testing.assert_array_equal(sd["state"][0]["momentum_buffer"], buf)
    assert opt.param_groups[0]["lr"] == 0.1


def test_load_state_dict_accepts_string_keys_and_lists():
    a, b = _params()
    opt = gf.optim.SGD([a, b], lr=0.1, momentum=0.9)
    _train(opt, [a, b], 1)
    sd = opt.state_dict()
    as_json = {
        "state": {
            str(k): {n: v.tolist() if isinstance(v, np.ndarray) else v for n, v in s.items()}
            for k, s in sd["state"].items()
        },
        "param_groups": sd["param_groups"],
    }
    opt2 = gf.optim.SGD([a, b], lr=0.1, momentum=0.9)
    opt2.load_state_dict(json.loads(json.dumps(as_json)))
    np.testing.assert_array_equal(opt2.state[a]["momentum_buffer"], opt.state[a]["momentum_buffer"])


def test_load_state_dict_mismatches_are_errors():
    a, b = _params()
    opt = gf.optim.SGD([a, b], lr=0.1, momentum=0.9)
    _train(opt, [a, b], 1)
    sd = opt.state_dict()
    with pytest.raises(ValueError, match="parameter groups"):
        gf.optim.SGD([{"params": [a]}, {"params": [b]}], lr=0.1).load_state_dict(sd)
    with pytest.raises(ValueError, match="parameters"):
        gf.optim.SGD([a], lr=0.1).load_state_dict(sd)
    c = gf.zeros(5, requires_grad=True)
    with pytest.raises(ValueError, match="shape"):
        gf.optim.SGD([c, a], lr=0.1, momentum=0.9).load_state_dict(sd)
    with pytest.raises(ValueError, match="state_dict"):
        gf.optim.SGD([a, b], lr=0.1).load_state_dict({"state": {}})
