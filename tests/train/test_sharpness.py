"""TrackSharpness / --track-curvature: the top Hessian eigenvalue recorded while training."""

from __future__ import annotations

import numpy as np
import pytest

import gradfit as gf
from gradfit.train import TrackSharpness


def _problem():
    rng = np.random.default_rng(0)
    x = gf.tensor(rng.standard_normal((64, 3)).astype(np.float32))
    y = gf.tensor(rng.standard_normal((64, 1)).astype(np.float32))
    return x, y


def _train(callbacks, epochs=4):
    x, y = _problem()
    gf.manual_seed(0)
    model = gf.nn.Sequential(
        gf.nn.Linear(3, 8), gf.nn.Tanh(), gf.nn.Dropout(0.2), gf.nn.Linear(8, 1)
    )
    opt = gf.optim.SGD(model.parameters(), lr=0.05)
    loader = gf.data.DataLoader(gf.data.TensorDataset(x, y), batch_size=16, shuffle=True)
    t = gf.train.Trainer(model, gf.nn.MSELoss(), opt, metrics=(), callbacks=callbacks)
    t.fit(loader, epochs=epochs)
    return t, x, y


def test_records_every_k_epochs_the_first_and_the_last_without_changing_training():
    x, y = _problem()
    tracked, _, _ = _train([TrackSharpness(x[:32], y[:32], every=2, iters=40)], epochs=5)
    plain, _, _ = _train([], epochs=5)
    assert [r["epoch"] for r in tracked.history if "sharpness" in r] == [1, 2, 4, 5]
    # measuring draws no random numbers and leaves weights, grads and mode alone
    for a, b in zip(tracked.model.parameters(), plain.model.parameters()):
        np.testing.assert_array_equal(a.numpy(), b.numpy())
    assert tracked.model.training
    # the last value is the top eigenvalue of the final model's loss (in eval mode)
    tracked.model.eval()
    lam = gf.viz.top_hessian_eigenvalue(tracked.model, gf.nn.MSELoss(), x[:32], y[:32], iters=40)
    assert tracked.history.rows[-1]["sharpness"] == pytest.approx(lam, rel=1e-5)


def test_bad_arguments():
    x, y = _problem()
    with pytest.raises(ValueError, match="every"):
        TrackSharpness(x, y, every=0)
    with pytest.raises(ValueError, match="iters"):
        TrackSharpness(x, y, iters=0)
    with pytest.raises(ValueError, match="same length"):
        TrackSharpness(x, y[:3])


def test_sharpness_from_history_and_its_plot():
    rows = [
        {"epoch": 1, "lr": 0.1, "train_loss": 2.0, "sharpness": 4.0},
        {"epoch": 2, "lr": 0.1, "train_loss": 1.0},
        {"epoch": 3, "lr": 0.05, "train_loss": 0.5, "sharpness": 9.0},
    ]
    s = gf.viz.sharpness_from_history(gf.train.History(rows), momentum=0.5)
    assert (s.steps, s.sharpness, s.lrs) == ([1, 3], [4.0, 9.0], [0.1, 0.05])
    assert s.limit == pytest.approx(2 * 1.5 / 0.05)
    ax = gf.viz.plot_sharpness(s).axes[0]
    assert ax.lines[0].get_ydata().tolist() == [4.0, 9.0]
    assert ax.lines[1].get_ydata().tolist() == pytest.approx([30.0, 60.0])  # 2 (1 + m) / lr
    assert ax.lines[2].get_ydata().tolist() == pytest.approx([20.0, 40.0])  # 2 / lr
    with pytest.raises(ValueError, match="track-curvature"):
        gf.viz.sharpness_from_history(rows[1:2])
