"""Loss landscape slices of a real model, and trajectory projection."""

import numpy as np
import pytest

import gradfit as gf
from gradfit import nn
from gradfit.viz.landscape import (
    flatten_params,
    loss_slice_1d,
    loss_surface_2d,
    plot_slice_1d,
    plot_surface_2d,
    project_trajectory,
    random_directions,
    trajectory_landscape,
)


def _problem():
    gf.manual_seed(3)
    model = nn.Sequential(nn.Linear(2, 8), nn.Tanh(), nn.Linear(8, 1))
    X = gf.randn(32, 2)
    y = (X[:, :1] * X[:, 1:]).detach()

    def loss_fn(m):
        return ((m(X) - y) ** 2).mean()

    return model, loss_fn


def _train(model, loss_fn, epochs=15):
    opt = gf.optim.SGD(model.parameters(), lr=0.2, momentum=0.9)
    traj = [flatten_params(model)]
    for _ in range(epochs):
        opt.zero_grad()
        loss_fn(model).backward()
        opt.step()
        traj.append(flatten_params(model))
    return traj


def test_filter_normalised_directions():
    model, _ = _problem()
    (d,) = random_directions(model, 1)
    w = model[0].weight._data
    np.testing.assert_allclose(np.linalg.norm(d[0], axis=1), np.linalg.norm(w, axis=1), rtol=1e-5)
    assert np.all(d[1] == 0)  # biases ignored
    assert d[0].dtype == np.float32
    gf.manual_seed(5)
    a = random_directions(model, 1)[0][0]
    gf.manual_seed(5)
    np.testing.assert_array_equal(a, random_directions(model, 1)[0][0])  # seeded


def test_1d_slice_centre_is_the_models_loss_and_weights_are_restored():
    model, loss_fn = _problem()
    _train(model, loss_fn)
    before = [p._data.copy() for p in model.parameters()]
    expected = loss_fn(model).item()
    alphas, losses = loss_slice_1d(model, loss_fn, steps=9, span=0.5)
    assert alphas[4] == 0.0 and losses[4] == expected
    for p, b in zip(model.parameters(), before):
        np.testing.assert_array_equal(p._data, b)
    # the other points are the loss at w + a d: check one by hand
    d = random_directions(model, 1, generator=np.random.default_rng(0))[0]
    a2, l2 = loss_slice_1d(model, loss_fn, direction=d, steps=3, span=0.5)
    for p, di in zip(model.parameters(), d):
        p._data += 0.5 * di
    assert l2[2] == pytest.approx(loss_fn(model).item(), rel=1e-6)
    assert l2[2] > l2[1]  # trained weights sit lower than a step away


def test_2d_surface_centre_and_restore_even_on_error():
    model, loss_fn = _problem()
    before = flatten_params(model)
    a, b, Z = loss_surface_2d(model, loss_fn, steps=5)
    assert Z.shape == (5, 5) and Z[2, 2] == loss_fn(model).item()
    np.testing.assert_array_equal(flatten_params(model), before)
    calls = []

    def bad(m):
        calls.append(1)
        if len(calls) == 3:
            raise RuntimeError("boom")
        return loss_fn(m)

    model.train()
    with pytest.raises(RuntimeError, match="boom"):
        loss_surface_2d(model, bad, steps=3)
    np.testing.assert_array_equal(flatten_params(model), before)
    assert model.training  # mode restored


def test_project_trajectory_pca_and_given_directions():
    rng = np.random.default_rng(0)
    u, v = rng.standard_normal(10), rng.standard_normal(10)
    t = np.linspace(0, 1, 12)
    traj = [3 * s * u + s**2 * v + 1.0 for s in t[::-1]]  # ends at the centre
    p = project_trajectory(traj)
    np.testing.assert_allclose(p.coords[-1], 0, atol=1e-12)
    assert p.explained.sum() == pytest.approx(1.0)  # the path lies in a plane
    # projected distances equal the real ones when the path is in the plane
    real = np.linalg.norm(np.array(traj) - traj[-1], axis=1)
    np.testing.assert_allclose(np.linalg.norm(p.coords, axis=1), real, rtol=1e-8)
    q = project_trajectory(traj, directions=[u, v])
    np.testing.assert_allclose(np.linalg.norm(q.coords, axis=1), real, rtol=1e-8)
    with pytest.raises(ValueError, match="at least 2"):
        project_trajectory([np.zeros(3)])


def test_trajectory_landscape_on_a_trained_model():
    model, loss_fn = _problem()
    traj = _train(model, loss_fn)
    a, b, Z, proj = trajectory_landscape(model, loss_fn, traj, steps=7)
    assert Z[3, 3] == loss_fn(model).item()
    assert np.abs(proj.coords[:, 0]).max() <= a.max() and np.abs(proj.coords[:, 1]).max() <= b.max()
    np.testing.assert_array_equal(flatten_params(model), traj[-1])
    fig = plot_surface_2d(a, b, Z, trajectory=proj.coords)
    np.testing.assert_allclose(fig.axes[0].lines[0].get_xydata(), proj.coords)
    fig1 = plot_slice_1d(*loss_slice_1d(model, loss_fn, steps=5))
    assert len(fig1.axes[0].lines[0].get_ydata()) == 5


def test_bad_inputs():
    model, loss_fn = _problem()
    with pytest.raises(ValueError, match="steps"):
        loss_slice_1d(model, loss_fn, steps=1)
    with pytest.raises(ValueError, match="flat direction"):
        loss_slice_1d(model, loss_fn, direction=np.ones(3))
    with pytest.raises(TypeError, match="Module"):
        flatten_params(object())
    with pytest.raises(ValueError, match="normalize"):
        random_directions(model, normalize="bogus")
