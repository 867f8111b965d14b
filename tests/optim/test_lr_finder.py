"""The LR range test: a sensible suggestion on a problem with a known good lr, and no trace left."""

from __future__ import annotations

import numpy as np
import pytest

import gradfit as gf
from gradfit.optim.lr_finder import find_lr, suggest_lr


def mse(out, target):
    return ((out - target) ** 2).mean()


def _regression(seed, n=256, d=4, batch=32, as_tensors=False):
    """Linear regression with standardised features: the loss's Hessian (w.r.t. weight and
    bias) is H = 2/n [X 1]'[X 1], well conditioned, so plain SGD is stable for lr < 2/lam_max
    and lr = 1/lam_max is the known good lr (it removes the error along the top eigenvector
    in one step)."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, d)).astype(np.float32)
    w = rng.standard_normal((d, 1))
    y = (x @ w + 1.0 + 0.1 * rng.standard_normal((n, 1))).astype(np.float32)
    a = np.hstack([x, np.ones((n, 1))])
    lam_max = float(np.linalg.eigvalsh(2.0 / n * a.T @ a).max())
    wrap = gf.tensor if as_tensors else (lambda v: v)
    loader = [(wrap(x[i : i + batch]), wrap(y[i : i + batch])) for i in range(0, n, batch)]
    return loader, lam_max


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_suggestion_is_near_the_known_good_lr(seed):
    loader, lam_max = _regression(seed, as_tensors=seed == 1)
    gf.manual_seed(seed)
    model = gf.nn.Linear(4, 1)
    opt = gf.optim.SGD(model.parameters(), lr=0.1)
    res = find_lr(model, mse, opt, loader)
    good = 1.0 / lam_max
    assert 0.1 * good <= res.suggestion <= 10 * good
    assert res.suggestion < 2.0 / lam_max  # inside the stable range
    assert res.diverged  # the sweep to lr=10 passes the stability limit
    assert res.best_lr > res.suggestion
    assert len(res.lrs) == len(res.losses) == len(res.raw_losses) < 100


def test_model_and_optimizer_are_restored_exactly():
    loader, _ = _regression(0)
    model = gf.nn.Linear(4, 1)
    opt = gf.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    for x, y in loader[:3]:  # some history: momentum buffers exist
        opt.zero_grad()
        mse(model(gf.tensor(x)), gf.tensor(y)).backward()
        opt.step()
    arrays = [p._data for p in model.parameters()]
    weights = [a.copy() for a in arrays]
    grads = [p.grad for p in model.parameters()]
    opt_before = opt.state_dict()
    rng_before = gf.get_rng_state()

    res = find_lr(model, mse, opt, loader, num_iter=50)
    assert len(res.lrs) > 10

    for p, arr, w, g in zip(model.parameters(), arrays, weights, grads, strict=True):
        assert p._data is arr
        np.testing.assert_array_equal(p._data, w)
        assert p.grad is g
    opt_after = opt.state_dict()
    assert opt_after["param_groups"] == opt_before["param_groups"]
    for k, state in opt_before["state"].items():
        np.testing.assert_array_equal(
            opt_after["state"][k]["momentum_buffer"], state["momentum_buffer"]
        )
    assert gf.get_rng_state() == rng_before

    # and training continues exactly as if the test had never run
    twin = gf.nn.Linear(4, 1)
    twin.load_state_dict(model.state_dict())
    twin_opt = gf.optim.SGD(twin.parameters(), lr=0.05, momentum=0.9)
    twin_opt.load_state_dict(opt_before)
    for m, o in ((model, opt), (twin, twin_opt)):
        x, y = loader[3]
        o.zero_grad()
        mse(m(gf.tensor(x)), gf.tensor(y)).backward()
        o.step()
    np.testing.assert_array_equal(model.weight._data, twin.weight._data)


def test_adam_state_is_restored_and_lr_put_back():
    loader, _ = _regression(1)
    model = gf.nn.Linear(4, 1)
    opt = gf.optim.Adam(model.parameters(), lr=3e-3)
    x, y = loader[0]
    mse(model(gf.tensor(x)), gf.tensor(y)).backward()
    opt.step()
    before = opt.state_dict()
    find_lr(model, mse, opt, loader, num_iter=30)
    after = opt.state_dict()
    assert after["param_groups"][0]["lr"] == 3e-3
    for k in before["state"]:
        assert after["state"][k]["step"] == 1
        np.testing.assert_array_equal(
            after["state"][k]["exp_avg_sq"], before["state"][k]["exp_avg_sq"]
        )


def test_everything_is_restored_when_the_loss_raises():
    loader, _ = _regression(0)
    model = gf.nn.Linear(4, 1)
    opt = gf.optim.SGD(model.parameters(), lr=0.1)
    w = model.weight._data.copy()
    calls = []

    def bad_loss(out, target):
        calls.append(1)
        if len(calls) == 5:
            raise RuntimeError("boom")
        return mse(out, target)

    with pytest.raises(RuntimeError, match="boom"):
        find_lr(model, bad_loss, opt, loader)
    np.testing.assert_array_equal(model.weight._data, w)
    assert opt.param_groups[0]["lr"] == 0.1


def test_lrs_grow_exponentially_and_the_loader_is_cycled():
    loader, _ = _regression(0, batch=128)  # two batches only
    model = gf.nn.Linear(4, 1)
    opt = gf.optim.SGD(model.parameters(), lr=0.1)
    res = find_lr(model, mse, opt, loader, start_lr=1e-6, end_lr=1e-4, num_iter=21)
    assert len(res.lrs) == 21 and not res.diverged
    np.testing.assert_allclose(res.lrs, np.logspace(-6, -4, 21), rtol=1e-12)
    # the smoothed loss is bias-corrected: its first value is the first loss itself
    assert res.losses[0] == res.raw_losses[0]
    # cycling: batches 0, 1, 0, 1, ... with almost no learning at these lrs
    assert res.raw_losses[2] == pytest.approx(res.raw_losses[0], rel=1e-3)
    assert res.raw_losses[2] != pytest.approx(res.raw_losses[1], rel=1e-3)


def test_suggest_lr_finds_the_steepest_descent():
    lrs = np.logspace(-6, 1, 100)
    center = 1e-2
    # a smooth drop centred at 1e-2 (in log lr), then a blow-up
    losses = 1.0 - 0.9 / (1 + np.exp(-4 * (np.log10(lrs) - np.log10(center))))
    losses[-3:] = [2.0, 5.0, 20.0]
    got = suggest_lr(lrs, losses)
    assert center / 1.5 < got < center * 1.5
    assert suggest_lr([1e-3], [1.0]) is None


@pytest.mark.parametrize(
    ("kwargs", "bad"),
    [
        ({"start_lr": 1.0, "end_lr": 0.1}, "start_lr"),
        ({"start_lr": 0.0}, "start_lr"),
        ({"num_iter": 1}, "num_iter"),
        ({"smooth": 1.0}, "smooth"),
        ({"diverge_threshold": 1.0}, "diverge_threshold"),
    ],
)
def test_bad_arguments_are_errors(kwargs, bad):
    loader, _ = _regression(0)
    model = gf.nn.Linear(4, 1)
    opt = gf.optim.SGD(model.parameters(), lr=0.1)
    with pytest.raises(ValueError, match=bad):
        find_lr(model, mse, opt, loader, **kwargs)


def test_empty_loader_is_an_error():
    model = gf.nn.Linear(4, 1)
    opt = gf.optim.SGD(model.parameters(), lr=0.1)
    with pytest.raises(ValueError, match="no batches"):
        find_lr(model, mse, opt, [])
