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
    # a model without sub-modules gives its own output
    lin = nn.Linear(3, 2)
    with gf.no_grad():
        expected = lin(x).numpy()
    np.testing.assert_array_equal(layer_snapshot(lin, x)["activations"]["output"], expected)


def _no_hooks_left(model):
    return all(not m._forward_hooks and not m._forward_pre_hooks for m in model.modules())


def test_layer_snapshot_records_the_leaf_layers_of_a_non_sequential_model():
    gf.manual_seed(0)
    model = gf.models.cnn1d()
    assert not isinstance(model, nn.Sequential)
    model.train()
    model.conv2.eval()  # a mixed state, to be restored module by module
    x = gf.randn(6, 40)
    snap = layer_snapshot(model, x)
    acts = snap["activations"]
    assert list(acts) == ["conv1", "conv2", "conv3", "linear"]
    with gf.no_grad():
        c1 = model.conv1(x.reshape(6, 1, 40))
        c2 = model.conv2(c1.relu())
        c3 = model.conv3(c2.relu())
        out = model(x)
    np.testing.assert_array_equal(acts["conv1"], c1.numpy())
    np.testing.assert_array_equal(acts["conv2"], c2.numpy())
    np.testing.assert_array_equal(acts["conv3"], c3.numpy())
    np.testing.assert_array_equal(acts["linear"], out.numpy())
    assert list(snap["weights"]) == [n for n, _ in model.named_parameters()]
    assert _no_hooks_left(model)
    assert [m.training for m in model.modules()] == [True, True, False, True, True]
    # copies: a later change of the weights does not change the snapshot
    with gf.no_grad():
        model.linear.weight._data[...] = 0.0
    assert np.abs(snap["weights"]["linear.weight"]).sum() > 0
    fig = plot_histograms([snap, layer_snapshot(model, x)], "activations")
    assert [ax.get_title() for ax in fig.axes] == [f"{n} (activations)" for n in acts]


class _Pair(nn.Module):
    """Nested blocks, a shared activation used twice, and a layer returning a tuple."""

    def __init__(self):
        super().__init__()
        self.block = nn.Sequential(nn.Linear(3, 5), nn.Dropout(0.9), nn.Tanh())
        self.act = nn.ReLU()
        self.head = nn.Linear(5, 2)
        self.split = _Split()

    def forward(self, x):
        h = self.act(self.block(x))
        a, b = self.split(h)
        return self.act(self.head(a + b)), b


class _Split(nn.Module):
    def forward(self, h):
        return h * 0.5, h * 0.5


def test_layer_snapshot_on_a_custom_module_with_dropout_and_a_tuple_output():
    gf.manual_seed(1)
    model = _Pair()
    model.train()
    x = gf.randn(4, 3)
    acts = layer_snapshot(model, x)["activations"]
    assert model.training and _no_hooks_left(model)
    # leaves by dotted name, in module order; _Split returned a tuple and is skipped
    assert list(acts) == ["block.0", "block.1", "block.2", "act", "head"]
    model.eval()
    with gf.no_grad():
        h0 = model.block[0](x)
        hb = model.block(x)
        out, _ = model(x)
    np.testing.assert_array_equal(acts["block.0"], h0.numpy())
    np.testing.assert_array_equal(acts["block.1"], h0.numpy())  # eval mode: Dropout is off
    np.testing.assert_array_equal(acts["block.2"], hb.numpy())
    # the shared ReLU has one name, so it keeps its first call, not the model's output
    np.testing.assert_array_equal(acts["act"], np.maximum(hb.numpy(), 0))
    with gf.no_grad():
        np.testing.assert_array_equal(acts["head"], model.head(model.act(hb)).numpy())
    assert acts["act"].shape == (4, 5) and out.shape == (4, 2)  # not the second call


def test_layer_snapshot_sequential_with_a_shared_layer_records_each_position():
    relu = nn.ReLU()
    net = nn.Sequential(nn.Linear(2, 3), relu, nn.Linear(3, 3), relu)
    x = gf.randn(5, 2)
    acts = layer_snapshot(net, x)["activations"]
    assert list(acts) == ["0", "1", "2", "3"]
    with gf.no_grad():
        np.testing.assert_array_equal(acts["3"], net(x).numpy())
        np.testing.assert_array_equal(acts["1"], relu(net[0](x)).numpy())
    # a Sequential keeps its direct children as the layers, as before hooks, even nested
    nested = nn.Sequential(nn.Sequential(nn.Linear(2, 3), nn.ReLU()), nn.Identity())
    acts = layer_snapshot(nested, x)["activations"]
    assert list(acts) == ["0", "1"]
    with gf.no_grad():
        np.testing.assert_array_equal(acts["0"], nested[0](x).numpy())
    # copies: Identity hands its input through, yet changing x later leaves the snapshot
    before = x.numpy().copy()
    acts = layer_snapshot(nn.Sequential(nn.Identity()), x)["activations"]
    with gf.no_grad():
        x._data[...] = 0.0
    np.testing.assert_array_equal(acts["0"], before)


def test_layer_snapshot_removes_its_hooks_when_the_forward_pass_fails():
    model = gf.models.cnn1d()
    model.train()
    with pytest.raises(ValueError):
        layer_snapshot(model, gf.randn(2, 7))
    assert _no_hooks_left(model) and all(m.training for m in model.modules())
    with pytest.raises(TypeError, match="Module"):
        layer_snapshot(object(), gf.randn(2, 7))


def test_grad_norm_plot_shows_vanishing_gradients():
    gf.manual_seed(0)
    layers = []
    for _ in range(6):
        layers += [nn.Linear(8, 8), nn.Sigmoid()]
    net = nn.Sequential(*layers)
    net(gf.randn(16, 8)).sum().backward()
    norms = grad_norms(net)
    assert norms["0.weight"] == pytest.approx(float(np.linalg.norm(net[0].weight.grad._data)))
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
        lin.weight._data[...] = [[1.0, 0.0], [-1.0, 0.0]]
        lin.bias._data[...] = 0.0
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
        net[0].weight._data[:, 0] = w
        net[0].bias._data[...] = b
        net[2].weight._data[...] = [[1.0, 0.7, -1.2, 0.9, 2.0]]
    x = np.linspace(-1.0, 1.0, 30)
    fig = plot_curve_fit(net, x, np.sin(3 * x))
    ax = fig.axes[0]
    (kinks,) = [ln for ln in ax.lines if ln.get_label() == "ReLU kinks"]
    expected = sorted(k for k in -b / w if -1 <= k <= 1)  # -0.5, 0.1, 0.6 (-2 is outside)
    np.testing.assert_allclose(np.sort(kinks.get_xdata()), expected, atol=2e-3)
    (network,) = [ln for ln in ax.lines if ln.get_label() == "network"]
    xs = network.get_xdata()
    ref = np.maximum(xs[:, None] * w + b, 0) @ net[2].weight._data[0] + net[2].bias._data[0]
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
        np.testing.assert_allclose(ax.images[0].get_array(), lin.weight._data[k].reshape(4, 4))
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


def test_plot_lr_finder_draws_the_measured_curve_and_the_suggestion():
    from gradfit.optim.lr_finder import LRFinderResult, find_lr
    from gradfit.viz import plot_lr_finder

    gf.manual_seed(0)
    x = gf.randn(64, 3)
    y = x @ gf.tensor([[1.0], [-2.0], [0.5]])
    model = gf.nn.Linear(3, 1)
    opt = gf.optim.SGD(model.parameters(), lr=1e-4)
    res = find_lr(model, gf.nn.MSELoss(), opt, [(x, y)] * 4, start_lr=1e-4, end_lr=10, num_iter=40)
    ax = plot_lr_finder(res).axes[0]
    curve, mark = ax.lines
    np.testing.assert_allclose(curve.get_xdata(), res.lrs)
    np.testing.assert_allclose(curve.get_ydata(), res.losses)
    assert res.suggestion is not None and mark.get_xdata()[0] == res.suggestion
    assert ax.get_xscale() == "log"
    none = LRFinderResult(lrs=[0.1, 1.0], losses=[1.0, 9.0], raw_losses=[1.0, 9.0],
                          suggestion=None, best_lr=0.1)  # fmt: skip
    assert len(plot_lr_finder(none).axes[0].lines) == 1
    with pytest.raises(TypeError, match="plot_lr_finder: expected what find_lr returns"):
        plot_lr_finder([0.1, 0.2])
