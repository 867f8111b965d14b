"""Descent paths: the real gf.optim optimizers on 2-D test functions."""

import numpy as np
import pytest
from PIL import Image

import gradfit as gf
from gradfit.viz.descent import (
    FUNCTIONS,
    animate_descent,
    default_optimizers,
    descent_paths,
    get_function,
    plot_descent,
)


def test_gradient_descent_on_quadratic_converges_to_its_minimum():
    paths = descent_paths(
        "bowl", start=(-4.0, 2.0), steps=300, optimizers={"GD": (gf.optim.SGD, {"lr": 0.2})}
    )
    p = paths["GD"]
    assert p.points.shape == (301, 2) and not p.diverged
    np.testing.assert_allclose(p.points[-1], [0.0, 0.0], atol=1e-4)
    # each step is exactly p - lr * grad of 0.1x^2 + 2y^2
    x, y = p.points[0]
    np.testing.assert_allclose(p.points[1], [x - 0.2 * 0.2 * x, y - 0.2 * 4 * y])
    assert np.all(np.diff(p.losses) <= 0)


def test_losses_are_the_function_along_the_path():
    paths = descent_paths("rosenbrock", steps=20)
    f = get_function("rosenbrock")
    for p in paths.values():
        np.testing.assert_allclose(p.losses, f(p.points[:, 0], p.points[:, 1]), rtol=1e-12)


def test_momentum_beats_plain_gd_on_the_ill_conditioned_bowl():
    opts = {
        "GD": (gf.optim.SGD, {"lr": 0.05}),
        "momentum": (gf.optim.SGD, {"lr": 0.05, "momentum": 0.9}),
    }
    paths = descent_paths("bowl", steps=100, optimizers=opts)
    assert paths["momentum"].final_loss < 0.01 * paths["GD"].final_loss


def test_matches_torch_sgd_momentum_step_by_step():
    torch = pytest.importorskip("torch")
    paths = descent_paths("beale", start=(1.0, 1.0), steps=15, optimizers={"m": (gf.optim.SGD, {"lr": 1e-3, "momentum": 0.9, "nesterov": True})})  # fmt: skip
    p = torch.tensor([1.0, 1.0], dtype=torch.float64, requires_grad=True)
    opt = torch.optim.SGD([p], lr=1e-3, momentum=0.9, nesterov=True)
    pts = [p.detach().numpy().copy()]
    for _ in range(15):
        opt.zero_grad()
        FUNCTIONS["beale"](p[0], p[1]).backward()
        opt.step()
        pts.append(p.detach().numpy().copy())
    np.testing.assert_allclose(paths["m"].points, np.array(pts), rtol=1e-10)


def test_too_large_a_step_diverges_and_stops():
    paths = descent_paths("bowl", steps=200, lr=0.6, optimizers={"GD": (gf.optim.SGD, {})})
    p = paths["GD"]
    assert p.diverged and p.steps < 200
    assert np.all(np.isfinite(p.points))
    ys = p.points[:, 1]
    assert np.all(np.sign(ys[1:]) == -np.sign(ys[:-1]))  # bounces across the valley


def test_two_minima_gd_stays_local_and_knows_the_global_minimum():
    f = get_function("two_minima")
    gx, gy = f.global_min
    assert gx < 0 and f(gx, gy) < min(f(m[0], m[1]) for m in f.minima if m != f.global_min)
    paths = descent_paths(f, steps=200, optimizers={"GD": (gf.optim.SGD, {"lr": 0.05})})
    local = next(m for m in f.minima if m != f.global_min)
    np.testing.assert_allclose(paths["GD"].points[-1], local, atol=1e-3)


def test_default_optimizers_and_lr_knob():
    opts = default_optimizers("rosenbrock")
    assert list(opts) == ["SGD", "Momentum", "Nesterov", "RMSprop", "Adam"]
    assert opts["SGD"][1]["lr"] == FUNCTIONS["rosenbrock"].lr["SGD"]
    assert all(kw["lr"] == 0.02 for _, kw in default_optimizers("bowl", lr=0.02).values())
    with pytest.raises(ValueError, match="lr"):
        default_optimizers("bowl", lr=-1.0)
    with pytest.raises(ValueError, match="unknown test function"):
        descent_paths("himmelblau")
    with pytest.raises(ValueError, match="start"):
        descent_paths("bowl", start=(1.0,))


def test_plot_descent_draws_each_path():
    paths = descent_paths("beale", steps=10)
    fig = plot_descent("beale", paths)
    ax = fig.axes[0]
    for name, p in paths.items():
        (line,) = [ln for ln in ax.lines if ln.get_label().startswith(name + ":")]
        np.testing.assert_array_equal(line.get_xydata(), p.points)
    assert ax.get_xlim() == FUNCTIONS["beale"].xlim


def test_animate_descent_writes_a_gif_whose_frames_advance(tmp_path):
    paths = descent_paths("bowl", steps=9, optimizers={"GD": (gf.optim.SGD, {"lr": 0.3})})
    out = animate_descent("bowl", paths, tmp_path / "d.gif", max_frames=5)
    im = Image.open(out)
    assert im.format == "GIF" and im.n_frames == 6  # steps 0,2,4,6,8 and the last, 9
    frames = []
    for k in range(im.n_frames):
        im.seek(k)
        frames.append(np.asarray(im.convert("RGB"), dtype=np.int16))
    assert np.abs(frames[0] - frames[-1]).sum() > 0
    assert [p.name for p in tmp_path.iterdir()] == ["d.gif"]  # no temp file left
    with pytest.raises(ValueError, match=".gif"):
        animate_descent("bowl", paths, tmp_path / "d.png")
