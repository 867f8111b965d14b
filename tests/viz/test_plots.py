"""Training and model plots: the drawn data equal the inputs."""

import numpy as np
import pytest

import gradfit as gf
from gradfit import nn
from gradfit.train import History
from gradfit.viz.plots import (
    grad_norms,
    layer_snapshot,
    most_confused,
    plot_confusion_matrix,
    plot_curve_fit,
    plot_curves,
    plot_decision_boundary,
    plot_first_layer_weights,
    plot_grad_norms,
    plot_histograms,
    plot_history,
    plot_lr,
    plot_most_confused,
    relu_kinks,
)


def _history():
    h = History()
    for e in range(1, 6):
        h.append({"epoch": e, "train_loss": 1.0 / e, "train_accuracy": 0.5 + 0.08 * e,
                  "val_loss": 1.2 / e + 0.05, "val_accuracy": 0.45 + 0.07 * e,
                  "lr": 0.1 * 0.5 ** (e - 1), "time": 0.1})  # fmt: skip
    return h


def test_history_curves_equal_the_columns():
    h = _history()
    fig = plot_history(h)
    assert [ax.get_title() for ax in fig.axes] == ["loss", "accuracy"]
    for ax, q in zip(fig.axes, ["loss", "accuracy"]):
        train, val = ax.lines
        assert train.get_label() == "train" and val.get_label() == "validation"
        np.testing.assert_array_equal(train.get_ydata(), h[f"train_{q}"])
        np.testing.assert_array_equal(val.get_ydata(), h[f"val_{q}"])
        np.testing.assert_array_equal(train.get_xdata(), h["epoch"])
    one = plot_curves(h, "accuracy")
    np.testing.assert_array_equal(one.axes[0].lines[1].get_ydata(), h["val_accuracy"])
    with pytest.raises(ValueError, match="rmse"):
        plot_curves(h, "rmse")
    with pytest.raises(ValueError, match="empty"):
        plot_history(History())


def test_lr_schedule():
    h = _history()
    np.testing.assert_array_equal(plot_lr(h).axes[0].lines[0].get_ydata(), h["lr"])
    with pytest.raises(ValueError, match="lr"):
        plot_lr(History([{"epoch": 1, "train_loss": 1.0}]))


def test_histograms_across_epochs():
    gf.manual_seed(0)
    net = nn.Sequential(nn.Linear(3, 16), nn.ReLU(), nn.Linear(16, 2))
    x = gf.randn(20, 3)
    opt = gf.optim.SGD(net.parameters(), lr=0.5)
    snaps = []
    for _ in range(3):
        opt.zero_grad()
        net(x).pow(2).mean().backward()
        snaps.append(layer_snapshot(net, x))
        opt.step()
    np.testing.assert_array_equal(
        snaps[0]["activations"]["1"], np.maximum(snaps[0]["activations"]["0"], 0)
    )
    assert set(snaps[0]["grads"]) == {"0.weight", "0.bias", "2.weight", "2.bias"}
    fig = plot_histograms(snaps, "weights")
    assert [ax.get_title() for ax in fig.axes] == [
        f"{n} (weights)" for n in ["0.weight", "0.bias", "2.weight", "2.bias"]
    ]
    # one outline per epoch, holding every value of that epoch
    assert len(fig.axes[0].patches) == 3
    fig2 = plot_histograms(snaps, "activations")
    assert len(fig2.axes) == 3
    with pytest.raises(ValueError, match="kind"):
        plot_histograms(snaps, "biases")
    with pytest.raises(ValueError, match="Sequential"):
        layer_snapshot(nn.Linear(3, 2), x)


def test_grad_norm_plot_shows_vanishing_gradients():
    gf.manual_seed(0)
    layers = []
    for _ in range(6):
        layers += [nn.Linear(8, 8), nn.Sigmoid()]
    net = nn.Sequential(*layers)
    net(gf.randn(16, 8)).sum().backward()
    norms = grad_norms(net)
    assert norms["0.weight"] == pytest.approx(float(np.linalg.norm(net[0].weight.grad.data)))
    fig = plot_grad_norms([norms])
    ax = fig.axes[0]
    ys = ax.lines[0].get_ydata()
    assert [t.get_text() for t in ax.get_xticklabels()] == [f"{2 * i}.weight" for i in range(6)]
    np.testing.assert_allclose(ys, [norms[f"{2 * i}.weight"] for i in range(6)])
    assert ys[0] < ys[-1] / 10  # sigmoids shrink the gradient towards the input
    assert ax.get_yscale() == "log"


def test_decision_boundary_regions_follow_the_model():
    lin = nn.Linear(2, 2)
    with gf.no_grad():
        lin.weight.data[...] = [[1.0, 0.0], [-1.0, 0.0]]
        lin.bias.data[...] = 0.0
    X = np.array([[-1.0, -1.0], [-0.5, 1.0], [0.5, 0.3], [1.0, -1.0]])
    y = np.array([1, 1, 0, 0])
    fig = plot_decision_boundary(lin, X, y, resolution=21)
    ax = fig.axes[0]
    np.testing.assert_array_equal(ax.collections[-1].get_offsets(), X)
    region = ax.collections[0]  # filled contour of the predicted class
    assert region.get_array() is not None
    with pytest.raises(ValueError, match=r"\(N, 2\)"):
        plot_decision_boundary(lin, np.zeros((3, 3)), y[:3])


def test_curve_fit_marks_the_relu_kinks_of_the_hidden_units():
    gf.manual_seed(0)
    net = nn.Sequential(nn.Linear(1, 5), nn.ReLU(), nn.Linear(1 * 5, 1))
    w = np.array([1.0, -2.0, 0.5, 3.0, 1.0], dtype=np.float32)
    b = np.array([0.5, 0.2, -0.3, 6.0, -1.5], dtype=np.float32)  # kinks at -b/w
    with gf.no_grad():
        net[0].weight.data[:, 0] = w
        net[0].bias.data[...] = b
        net[2].weight.data[...] = [[1.0, 0.7, -1.2, 0.9, 2.0]]
    x = np.linspace(-1.0, 1.0, 30)
    fig = plot_curve_fit(net, x, np.sin(3 * x))
    ax = fig.axes[0]
    (kinks,) = [ln for ln in ax.lines if ln.get_label() == "ReLU kinks"]
    expected = sorted(k for k in -b / w if -1 <= k <= 1)  # -0.5, 0.1, 0.6 (-2 is outside)
    np.testing.assert_allclose(np.sort(kinks.get_xdata()), expected, atol=2e-3)
    (network,) = [ln for ln in ax.lines if ln.get_label() == "network"]
    xs = network.get_xdata()
    ref = np.maximum(xs[:, None] * w + b, 0) @ net[2].weight.data[0] + net[2].bias.data[0]
    np.testing.assert_allclose(network.get_ydata(), ref, rtol=1e-5, atol=1e-5)


def test_relu_kinks_of_a_known_function():
    k = relu_kinks(lambda x: np.abs(x - 0.25) + 2 * np.maximum(x + 0.6, 0), -1, 1)
    np.testing.assert_allclose(k, [-0.6, 0.25], atol=1e-3)
    assert len(relu_kinks(lambda x: 3 * x + 1, -1, 1)) == 0


def test_first_layer_weights_as_images():
    lin = nn.Linear(16, 3)
    fig = plot_first_layer_weights(lin)
    assert len(fig.axes) == 3
    for k, ax in enumerate(fig.axes):
        np.testing.assert_allclose(ax.images[0].get_array(), lin.weight.data[k].reshape(4, 4))
    with pytest.raises(ValueError, match="image_shape"):
        plot_first_layer_weights(np.zeros((2, 10)))
    conv = np.arange(2 * 1 * 3 * 3, dtype=float).reshape(2, 1, 3, 3)
    np.testing.assert_array_equal(
        plot_first_layer_weights(conv).axes[1].images[0].get_array(), conv[1, 0]
    )


def test_confusion_matrix_shows_counts():
    cm = np.array([[7, 1, 0], [2, 5, 1], [0, 0, 9]])
    fig = plot_confusion_matrix(cm, ["a", "b", "c"])
    ax = fig.axes[0]
    np.testing.assert_array_equal(ax.images[0].get_array(), cm)
    assert [t.get_text() for t in ax.texts] == [str(v) for v in cm.ravel()]
    assert [t.get_text() for t in ax.get_yticklabels()] == ["a", "b", "c"]
    assert "0.840" in ax.get_title()  # 21 / 25
    norm = plot_confusion_matrix(cm, normalize=True).axes[0].images[0].get_array()
    np.testing.assert_allclose(norm.sum(axis=1), 1.0)
    with pytest.raises(ValueError, match="square"):
        plot_confusion_matrix(np.zeros((2, 3)))


def test_most_confused_examples():
    probs = np.array([[0.6, 0.4], [0.05, 0.95], [0.3, 0.7], [0.99, 0.01], [0.8, 0.2]])
    targets = np.array([1, 0, 1, 1, 0])
    # wrong: 0 (conf 0.6), 1 (0.95), 3 (0.99)
    assert most_confused(targets, probs, k=10).tolist() == [3, 1, 0]
    imgs = np.arange(5 * 4, dtype=float).reshape(5, 4)
    fig = plot_most_confused(
        imgs, targets, probs, k=2, image_shape=(2, 2), class_names=["cat", "dog"]
    )
    assert [ax.get_title() for ax in fig.axes] == ["dog -> cat (0.99)", "cat -> dog (0.95)"]
    np.testing.assert_array_equal(fig.axes[0].images[0].get_array(), imgs[3].reshape(2, 2))
