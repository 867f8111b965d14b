"""LBFGS against torch.optim.LBFGS: the same trajectory when fitting a small curve (fixed step and
strong-Wolfe line search, float64 and float32), state_dict resume, and its errors."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import gradfit as gf

X = np.linspace(-2, 2, 25)
Y = 1.5 * np.tanh(1.3 * X - 0.4) + 0.2 * X + 0.05 * np.cos(7 * X)


def _fit(lib, opt_cls, kwargs, steps, dtype, start=(0.5, 0.5, 0.0, 0.0), opt_state=None):
    """Fit y = a tanh(b x + c) + e x by ``steps`` LBFGS steps; weights and loss after each."""
    w = lib.tensor(np.array(start, dtype=dtype), requires_grad=True)
    x, y = lib.tensor(X.astype(dtype)), lib.tensor(Y.astype(dtype))
    opt = opt_cls([w], **kwargs)
    if opt_state is not None:
        opt.load_state_dict(opt_state)

    def closure():
        opt.zero_grad()
        pred = w[0] * lib.tanh(w[1] * x + w[2]) + w[3] * x
        loss = ((pred - y) ** 2).mean()
        loss.backward()
        return loss

    path = []
    for _ in range(steps):
        loss = opt.step(closure)
        path.append((np.array(w.detach().numpy()), float(loss.item())))
    return path, opt


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize(
    "kwargs",
    [
        {},
        {"lr": 0.5, "max_iter": 5},
        {"line_search_fn": "strong_wolfe"},
        {"line_search_fn": "strong_wolfe", "history_size": 3, "max_iter": 7},
        {"lr": 0.8, "history_size": 2, "tolerance_change": 1e-6},
    ],
    ids=lambda k: ",".join(f"{a}={b}" for a, b in k.items()) or "defaults",
)
def test_lbfgs_curve_fit_follows_torch(kwargs, dtype):
    steps = 6
    ours, opt = _fit(gf, gf.optim.LBFGS, kwargs, steps, dtype)
    theirs, topt = _fit(torch, torch.optim.LBFGS, kwargs, steps, dtype)
    tol = {"rtol": 1e-7, "atol": 1e-9} if dtype == "float64" else {"rtol": 2e-3, "atol": 2e-4}
    for k, ((w, loss), (tw, tloss)) in enumerate(zip(ours, theirs, strict=True)):
        assert w.dtype == np.dtype(dtype)
        np.testing.assert_allclose(w, tw, err_msg=f"step {k}", **tol)
        np.testing.assert_allclose(loss, tloss, err_msg=f"loss {k}", **tol)
    state, tstate = opt.state[opt._params[0]], topt.state[topt._params[0]]
    assert set(state) == set(tstate)
    if dtype == "float64":
        assert (state["func_evals"], state["n_iter"]) == (tstate["func_evals"], tstate["n_iter"])
    assert ours[-1][1] < 0.1 * ours[0][1]  # it fits


@pytest.mark.parametrize("kwargs", [{}, {"line_search_fn": "strong_wolfe", "history_size": 4}])
def test_lbfgs_state_dict_resumes_exactly(kwargs):
    ref, _ = _fit(gf, gf.optim.LBFGS, kwargs, 4, "float64")
    first, opt = _fit(gf, gf.optim.LBFGS, kwargs, 2, "float64")
    rest, _ = _fit(
        gf, gf.optim.LBFGS, kwargs, 2, "float64", start=first[-1][0], opt_state=opt.state_dict()
    )
    for (w, loss), (rw, rloss) in zip(rest, ref[2:], strict=True):
        np.testing.assert_array_equal(w, rw)
        assert loss == rloss


def test_lbfgs_stops_at_once_when_the_gradient_is_zero():
    w = gf.tensor([1.0, 2.0], dtype="float64", requires_grad=True)
    opt = gf.optim.LBFGS([w])
    calls = []

    def closure():
        calls.append(1)
        opt.zero_grad()
        loss = (w * 0).sum()
        loss.backward()
        return loss

    opt.step(closure)
    assert len(calls) == 1
    np.testing.assert_array_equal(w._data, [1.0, 2.0])


def test_lbfgs_errors():
    a, b = gf.zeros(2, requires_grad=True), gf.zeros(1, requires_grad=True)
    with pytest.raises(ValueError, match="parameter groups"):
        gf.optim.LBFGS([{"params": [a]}, {"params": [b]}])
    with pytest.raises(ValueError, match="parameter groups"):
        torch.optim.LBFGS([{"params": [torch.zeros(1)]}, {"params": [torch.zeros(1)]}])
    with pytest.raises(ValueError, match="lr"):
        gf.optim.LBFGS([a], lr=-1.0)
    with pytest.raises(ValueError, match="line_search_fn"):
        gf.optim.LBFGS([a], line_search_fn="armijo")
    with pytest.raises(ValueError, match="history_size"):
        gf.optim.LBFGS([a], history_size=0)
    with pytest.raises(TypeError, match="closure"):
        gf.optim.LBFGS([a]).step(None)
    with pytest.raises(TypeError):
        gf.optim.LBFGS([a]).step()
