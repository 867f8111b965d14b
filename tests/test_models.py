"""gf.models: shapes, parameter counts, rebuilding from config, replace_head, and training."""

from __future__ import annotations

import json

import numpy as np
import pytest

import gradfit as gf
import gradfit.nn.functional as F
from gradfit import models

HAS_CONV = all(hasattr(gf.nn, n) for n in ("Conv1d", "Conv2d", "MaxPool2d", "BatchNorm2d"))
needs_conv = pytest.mark.skipif(
    not HAS_CONV, reason="gf.nn.Conv1d/Conv2d/MaxPool2d/BatchNorm2d not there yet"
)


def n_params(model: gf.nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


def linear_params(a: int, b: int) -> int:
    return a * b + b


# (config, an input for it, the expected output shape, the parameter count by hand)
CASES = [
    (
        {"name": "mlp", "sizes": [64, 32, 16, 10]},
        lambda: gf.randn(5, 64),
        (5, 10),
        linear_params(64, 32) + linear_params(32, 16) + linear_params(16, 10),
    ),
    (
        {
            "name": "mlp",
            "sizes": [64, 8, 3],
            "batch_norm": True,
            "dropout": 0.2,
            "activation": "tanh",
        },
        lambda: gf.randn(4, 1, 8, 8),
        (4, 3),
        linear_params(64, 8) + 2 * 8 + linear_params(8, 3),
    ),
    (
        {"name": "logistic", "in_features": 64, "num_classes": 10},
        lambda: gf.randn(3, 64),
        (3, 10),
        650,
    ),
    ({"name": "linear", "in_features": 5}, lambda: gf.randn(7, 5), (7, 1), 6),
    (
        {"name": "matrix_factorization", "n_users": 6, "n_items": 9, "dim": 4},
        lambda: gf.tensor([[0, 1], [5, 8], [2, 2]]),
        (3,),
        6 * 4 + 9 * 4 + 6 + 9 + 1,
    ),
]
CONV_CASES = [
    (
        {"name": "cnn", "image_size": 8},
        lambda: gf.randn(2, 1, 8, 8),
        (2, 10),
        # conv3x3 1->16, conv3x3 16->32, pool to 4x4, Linear(512, 64), Linear(64, 10)
        (9 * 16 + 16) + (9 * 16 * 32 + 32) + linear_params(32 * 4 * 4, 64) + linear_params(64, 10),
    ),
    (
        {"name": "cnn", "image_size": 28},
        lambda: gf.randn(2, 1, 28, 28),
        (2, 10),
        61706,  # LeNet-5's well-known parameter count
    ),
    (
        {
            "name": "cnn",
            "image_size": 8,
            "in_channels": 3,
            "num_classes": 4,
            "batch_norm": True,
            "dropout": 0.5,
        },
        lambda: gf.randn(1, 3, 8, 8),
        (1, 4),
        (27 * 16 + 16)
        + 32
        + (9 * 16 * 32 + 32)
        + 64
        + linear_params(512, 64)
        + linear_params(64, 4),
    ),
    (
        {"name": "cnn1d"},
        lambda: gf.randn(3, 40),
        (3, 10),
        # MNIST-1D ConvBase: 1->25 k5, 25->25 k3, 25->25 k3 (length 40 -> 19 -> 10 -> 5), Linear(125, 10)
        (5 * 25 + 25) + 2 * (3 * 25 * 25 + 25) + linear_params(125, 10),
    ),
]
ALL = CASES + [pytest.param(*c, marks=needs_conv) for c in CONV_CASES]


@pytest.mark.parametrize("config,make_input,out_shape,count", ALL)
def test_forward_shape_and_parameter_count(config, make_input, out_shape, count) -> None:
    model = models.build_model(config)
    assert model(make_input()).shape == out_shape
    assert n_params(model) == count


@pytest.mark.parametrize("config,make_input,out_shape,count", ALL)
def test_rebuild_from_json_config_gives_same_architecture_and_outputs(
    config, make_input, out_shape, count
) -> None:
    model = models.build_model(config)
    cfg = json.loads(json.dumps(model.config))  # what a checkpoint stores
    assert cfg == model.config
    clone = models.build_model(cfg)
    assert type(clone) is type(model)
    assert {k: v.shape for k, v in clone.state_dict().items()} == {
        k: v.shape for k, v in model.state_dict().items()
    }
    assert list(clone.state_dict()) == list(model.state_dict())
    clone.load_state_dict(model.state_dict())
    model.eval(), clone.eval()
    x = make_input()
    np.testing.assert_array_equal(clone(x).numpy(), model(x).numpy())


def test_config_has_defaults_filled_and_same_seed_same_weights() -> None:
    assert models.mlp([4, 2]).config == {
        "name": "mlp",
        "sizes": [4, 2],
        "activation": "relu",
        "dropout": 0.0,
        "batch_norm": False,
    }
    assert models.model_config("linear", in_features=3) == {
        "name": "linear",
        "in_features": 3,
        "out_features": 1,
    }
    gf.manual_seed(3)
    a = models.mlp((8, 4, 2)).state_dict()
    gf.manual_seed(3)
    b = models.build_model({"name": "mlp", "sizes": [8, 4, 2]}).state_dict()
    for k in a:
        np.testing.assert_array_equal(a[k], b[k])


def test_unknown_names_and_bad_arguments_give_clear_errors() -> None:
    with pytest.raises(
        ValueError,
        match="unknown model 'resnet'; valid models: char_lm, cnn, cnn1d, gru, linear, logistic",
    ):
        models.build_model({"name": "resnet"})
    with pytest.raises(ValueError, match="no 'name' key"):
        models.build_model({"sizes": [2, 2]})
    with pytest.raises(TypeError, match="config must be a dict"):
        models.build_model("mlp")
    with pytest.raises(
        TypeError, match="model 'mlp'.*hidden.*its arguments are: sizes, activation"
    ):
        models.build_model({"name": "mlp", "sizes": [2, 2], "hidden": 3})
    with pytest.raises(ValueError, match="unknown activation 'swish'; valid activations: relu"):
        models.mlp([2, 3, 1], activation="swish")
    with pytest.raises(ValueError, match="mlp: sizes must be a list of at least two"):
        models.mlp([5])
    with pytest.raises(ValueError, match="mlp: every size must be an integer >= 1, got 0"):
        models.mlp([5, 0, 2])
    with pytest.raises(ValueError, match="dropout must be a number in \\[0, 1\\)"):
        models.mlp([5, 2], dropout=1.0)
    with pytest.raises(ValueError, match="n_users"):
        models.matrix_factorization(0, 3)
    assert models.list_models() == [
        "char_lm",
        "cnn",
        "cnn1d",
        "gru",
        "linear",
        "logistic",
        "lstm",
        "matrix_factorization",
        "mlp",
    ]
    assert models.build_model({"name": "Matrix-Factorization", "n_users": 2, "n_items": 2}).config[
        "name"
    ] == ("matrix_factorization")


def test_mlp_layers_are_named_for_freezing() -> None:
    net = models.mlp([10, 8, 6, 2], batch_norm=True, dropout=0.1)
    names = [n for n, _ in net.named_children()]
    assert names == ["flatten", "fc1", "bn1", "act1", "drop1", "fc2", "bn2", "act2", "drop2", "out"]
    assert isinstance(net.bn1, gf.nn.BatchNorm1d) and isinstance(net.drop1, gf.nn.Dropout)


@needs_conv
def test_cnn_accepts_flat_and_channel_less_images_and_rejects_wrong_shapes() -> None:
    net = models.cnn(image_size=8).eval()
    x = gf.randn(3, 1, 8, 8)
    ref = net(x).numpy()
    np.testing.assert_allclose(net(x.reshape(3, 64)).numpy(), ref, rtol=1e-6)
    np.testing.assert_allclose(net(x.reshape(3, 8, 8)).numpy(), ref, rtol=1e-6)
    with pytest.raises(ValueError, match="expected input \\(N, 1, 8, 8\\) or \\(N, 64\\)"):
        net(gf.randn(3, 1, 9, 9))
    net1d = models.cnn1d()
    with pytest.raises(ValueError, match="expected input \\(N, 1, 40\\) or \\(N, 40\\)"):
        net1d(gf.randn(2, 41))


def test_replace_head_updates_layer_config_and_keeps_the_body() -> None:
    net = models.mlp([64, 32, 10])
    body = net.fc1.weight
    models.replace_head(net, 5)
    assert net.fc1.weight is body
    assert net(gf.randn(2, 64)).shape == (2, 5)
    assert [n for n, _ in net.named_children()][-1] == "out"
    assert net.config["sizes"] == [64, 32, 5]
    rebuilt = models.build_model(net.config)
    assert {k: v.shape for k, v in rebuilt.state_dict().items()} == {
        k: v.shape for k, v in net.state_dict().items()
    }
    lin = models.replace_head(models.linear(3), 2)
    assert lin.config["out_features"] == 2 and lin(gf.randn(4, 3)).shape == (4, 2)
    with pytest.raises(ValueError, match="matrix_factorization' has no output layer"):
        models.replace_head(models.matrix_factorization(3, 3), 2)
    with pytest.raises(ValueError, match="num_classes must be an integer >= 1"):
        models.replace_head(models.logistic(3, 2), 0)


@needs_conv
@pytest.mark.parametrize("config", [{"name": "cnn", "image_size": 8}, {"name": "cnn1d"}])
def test_replace_head_on_conv_models(config) -> None:
    net = models.build_model(config)
    models.replace_head(net, 3)
    assert net.config["num_classes"] == 3
    x = gf.randn(2, 64) if config["name"] == "cnn" else gf.randn(2, 40)
    assert net(x).shape == (2, 3)
    assert list(models.build_model(net.config).state_dict()) == list(net.state_dict())


def test_matrix_factorization_prediction_formula_and_input_forms() -> None:
    mf = models.matrix_factorization(4, 5, dim=3, global_mean=3.0)
    gf.nn.init.normal_(mf.user_bias.weight)
    gf.nn.init.normal_(mf.item_bias.weight)
    pairs = np.array([[0, 4], [3, 1], [3, 1], [2, 0]])
    U, V = mf.user_factors.weight.numpy(), mf.item_factors.weight.numpy()
    bu, bi = mf.user_bias.weight.numpy()[:, 0], mf.item_bias.weight.numpy()[:, 0]
    u, i = pairs[:, 0], pairs[:, 1]
    expected = (U[u] * V[i]).sum(1) + bu[u] + bi[i] + 3.0
    np.testing.assert_allclose(mf(gf.tensor(pairs)).numpy(), expected, rtol=1e-6)
    np.testing.assert_allclose(mf(gf.tensor(u), gf.tensor(i)).numpy(), expected, rtol=1e-6)
    assert mf(gf.tensor(pairs)).dtype == np.float32
    with pytest.raises(ValueError, match="item id 5 is out of range \\[0, 5\\)"):
        mf(gf.tensor([[0, 5]]))
    with pytest.raises(TypeError, match="ids must be integers"):
        mf(gf.tensor([[0.0, 1.0]]))
    with pytest.raises(ValueError, match="\\(N, 2\\)"):
        mf(gf.tensor([0, 1, 2]))


def test_matrix_factorization_recovers_a_low_rank_matrix() -> None:
    rng = np.random.default_rng(0)
    n_u, n_i = 30, 20
    truth = rng.normal(size=(n_u, 2)) @ rng.normal(size=(2, n_i)) + 3.0
    pairs = np.stack(np.meshgrid(np.arange(n_u), np.arange(n_i), indexing="ij"), -1).reshape(-1, 2)
    y = gf.tensor(truth.reshape(-1).astype(np.float32))
    mf = models.matrix_factorization(n_u, n_i, dim=2, global_mean=3.0)
    opt = gf.optim.Adam(mf.parameters(), lr=0.05)
    x = gf.tensor(pairs)
    for _ in range(300):
        opt.zero_grad()
        loss = F.mse_loss(mf(x), y)
        loss.backward()
        opt.step()
    assert loss.item() ** 0.5 < 0.05 * truth.std()


def test_mlp_trains_on_digits_with_sgd_momentum() -> None:
    from sklearn.datasets import load_digits

    X, y = load_digits(return_X_y=True)
    X = (X[:400] / 16.0).astype(np.float32)
    y = y[:400]
    gf.manual_seed(0)
    net = models.mlp([64, 64, 10])
    opt = gf.optim.SGD(net.parameters(), lr=0.1, momentum=0.9)
    order = np.random.default_rng(0).permutation(400)
    for _epoch in range(5):
        for start in range(0, 400, 32):
            idx = order[start : start + 32]
            opt.zero_grad()
            F.cross_entropy(net(gf.tensor(X[idx])), gf.tensor(y[idx])).backward()
            opt.step()
    with gf.no_grad():
        acc = (net(gf.tensor(X)).numpy().argmax(1) == y).mean()
    assert acc > 0.9


@needs_conv
@pytest.mark.parametrize(
    "config,shape",
    [
        ({"name": "cnn", "image_size": 8, "batch_norm": True}, (64, 1, 8, 8)),
        ({"name": "cnn1d"}, (64, 40)),
    ],
)
def test_conv_models_fit_a_small_batch(config, shape) -> None:
    rng = np.random.default_rng(1)
    x = gf.tensor(rng.normal(size=shape).astype(np.float32))
    y = gf.tensor(rng.integers(0, 10, shape[0]))
    net = models.build_model(config)
    opt = gf.optim.Adam(net.parameters(), lr=0.01)
    first = None
    for _ in range(30):
        opt.zero_grad()
        loss = F.cross_entropy(net(x), y)
        loss.backward()
        opt.step()
        first = first if first is not None else loss.item()
    assert loss.item() < 0.5 * first  # memorising 64 random labels: the gradients flow everywhere


# ---------------------------------------------------------------------------- load_model
@pytest.mark.parametrize("config,make_input,out_shape,count", ALL)
def test_load_model_gives_back_the_saved_model_and_draws_no_random_numbers(
    config, make_input, out_shape, count
) -> None:
    model = models.build_model(config)
    if any(isinstance(m, gf.nn.BatchNorm1d | gf.nn.BatchNorm2d) for m in model.modules()):
        model(make_input())  # move the running statistics away from their initial values
    saved = model.state_dict()
    cfg = json.loads(json.dumps(model.config))
    state = gf.random.get_rng_state()
    clone = models.load_model(cfg, saved)
    assert gf.random.get_rng_state() == state
    assert type(clone) is type(model) and clone.config == model.config
    assert list(clone.state_dict()) == list(saved)
    for k, v in clone.state_dict().items():
        np.testing.assert_array_equal(v, saved[k], err_msg=k)
    model.eval(), clone.eval()
    x = make_input()
    np.testing.assert_array_equal(clone(x).numpy(), model(x).numpy())


def test_load_model_refuses_a_config_larger_than_its_state_before_writing() -> None:
    saved = models.mlp([64, 32, 10]).state_dict()  # 2,410 elements in 4 tensors
    cfg = {"name": "mlp", "sizes": [12000, 12000, 10]}
    with pytest.raises(ValueError) as e:
        models.load_model(cfg, saved)
    msg = str(e.value)
    assert msg.startswith("load_model: model 'mlp' from config {'name': 'mlp', 'sizes': [12000,")
    assert "more weights than the state holds (2,410 elements in 4 tensors)" in msg
    # many small layers: stopped by the number of tensors, long before 100,000 are built
    with pytest.raises(ValueError, match="more weights than the state holds"):
        models.load_model({"name": "mlp", "sizes": [1] * 100_000}, saved)


def test_load_model_turns_absurd_sizes_into_one_line_value_errors() -> None:
    saved = models.mlp([64, 32, 10]).state_dict()
    # more than any machine can reserve, or more than an array may hold: one-line ValueErrors
    for sizes in ([200_000, 200_000, 10], [2**40, 2**40, 10], [10**30, 2, 1]):
        with pytest.raises(ValueError, match=r"^load_model: .*'mlp'") as e:
            models.load_model({"name": "mlp", "sizes": sizes}, saved)
        assert "\n" not in str(e.value)


def test_load_model_lists_the_first_mismatches() -> None:
    saved = models.mlp([64, 32, 10]).state_dict()
    with pytest.raises(ValueError) as e:
        models.load_model({"name": "mlp", "sizes": [64, 16, 10]}, saved)
    assert "shape mismatches: fc1.weight (32, 64) in the state vs (16, 64) in the model" in str(
        e.value
    )
    deep = models.mlp([8, 4, 4, 4, 4, 4, 4, 4, 2])  # fc1..fc7 and out
    state = {f"x.{k}": v for k, v in deep.state_dict().items()}
    with pytest.raises(ValueError) as e:
        models.load_model(deep.config, state)
    msg = str(e.value)
    assert "missing keys: 'fc1.weight', 'fc1.bias'," in msg and "and 11 more" in msg
    assert "unexpected keys: 'x.fc1.weight'," in msg
    assert "\n" not in msg
    bad = dict(saved, **{"fc1.bias": np.zeros(32, np.complex64)})
    with pytest.raises(
        ValueError, match=r"Sequential: Size mismatch\(es\): fc1.bias: .*complex64.*; No parameter"
    ):
        models.load_model({"name": "mlp", "sizes": [64, 32, 10]}, bad)


def test_load_model_bad_arguments() -> None:
    saved = models.mlp([4, 2]).state_dict()
    with pytest.raises(ValueError, match="cannot build model 'resnet'.*unknown model"):
        models.load_model({"name": "resnet"}, saved)
    with pytest.raises(ValueError, match="cannot build model 'mlp'.*arguments are"):
        models.load_model({"name": "mlp", "sizes": [4, 2], "depth": 3}, saved)
    with pytest.raises(TypeError, match="config must be a dict"):
        models.load_model([("name", "mlp")], saved)
    with pytest.raises(TypeError, match="state_dict must be a mapping"):
        models.load_model({"name": "mlp", "sizes": [4, 2]}, list(saved.values()))
