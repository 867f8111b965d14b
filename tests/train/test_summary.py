"""Model summary: parameter counts, output shapes, multiply-adds, and that the model is left as it was."""

from __future__ import annotations

import numpy as np
import pytest

import gradfit as gf
from gradfit import models
from gradfit.train.summary import summary


def test_mlp_rows_shapes_params_and_macs() -> None:
    net = models.mlp([64, 32, 16, 10])
    s = summary(net, (64,))
    assert [(r.name, r.type, r.output_shape) for r in s.rows] == [
        ("flatten", "Flatten", (64,)),
        ("fc1", "Linear", (32,)),
        ("act1", "ReLU", (32,)),
        ("fc2", "Linear", (16,)),
        ("act2", "ReLU", (16,)),
        ("out", "Linear", (10,)),
    ]
    assert [r.macs for r in s.rows] == [0, 64 * 32, 0, 32 * 16, 0, 16 * 10]
    assert s.total_macs == 64 * 32 + 32 * 16 + 16 * 10
    assert s.total_params == sum(p.numel() for p in net.parameters())
    assert sum(r.params for r in s.rows) == s.total_params
    assert s.param_bytes == 4 * s.total_params
    text = str(s)
    assert "fc1" in text and f"{s.total_params:,}" in text and "(N, 32)" in text


def test_cnn_output_shapes_and_conv_macs_by_hand() -> None:
    net = models.cnn(image_size=28)  # LeNet-5
    s = summary(net, (1, 28, 28))
    by_name = {r.name: r for r in s.rows}
    assert by_name["features.conv1"].output_shape == (6, 28, 28)
    assert by_name["features.pool1"].output_shape == (6, 14, 14)
    assert by_name["features.conv2"].output_shape == (16, 10, 10)
    assert by_name["features.pool2"].output_shape == (16, 5, 5)
    assert by_name["classifier.flatten"].output_shape == (400,)
    assert by_name["classifier.out"].output_shape == (10,)
    # conv MACs = k*k*C_in*C_out*H_out*W_out
    assert by_name["features.conv1"].macs == 5 * 5 * 1 * 6 * 28 * 28
    assert by_name["features.conv2"].macs == 5 * 5 * 6 * 16 * 10 * 10
    assert by_name["classifier.fc1"].macs == 400 * 120
    assert s.total_macs == 5 * 5 * 6 * 784 + 5 * 5 * 6 * 16 * 100 + 400 * 120 + 120 * 84 + 84 * 10
    assert s.total_params == 61706 == sum(r.params for r in s.rows)


def test_conv1d_with_stride_and_grouped_conv_macs() -> None:
    s = summary(models.cnn1d(), (40,))
    rows = {r.name: r for r in s.rows}
    assert [rows[n].output_shape for n in ("conv1", "conv2", "conv3")] == [
        (25, 19),
        (25, 10),
        (25, 5),
    ]
    assert rows["conv1"].macs == 5 * 1 * 25 * 19
    assert rows["conv2"].macs == 3 * 25 * 25 * 10
    grouped = gf.nn.Conv2d(4, 8, 3, padding=1, groups=2)
    g = summary(grouped, (4, 6, 6))
    assert g.rows[0].macs == 3 * 3 * (4 // 2) * 8 * 6 * 6


def test_frozen_parameters_and_shared_modules_are_counted_once() -> None:
    shared = gf.nn.Linear(5, 5)
    net = gf.nn.Sequential(shared, gf.nn.ReLU(), shared, gf.nn.Linear(5, 2))
    net[3].requires_grad_(False)
    s = summary(net, (5,))
    assert s.total_params == 30 + 12
    assert s.trainable_params == 30 and s.frozen_params == 12
    assert [r.name for r in s.rows] == ["0", "1", "3"]
    assert s.rows[2].trainable == 0 and s.rows[2].params == 12


def test_model_state_is_restored() -> None:
    net = models.mlp([8, 4, 2], dropout=0.5, batch_norm=True)
    before = {k: v.numpy().copy() for k, v in net.state_dict().items()}
    summary(net, (8,))
    assert net.training and all(m.training for m in net.modules())
    assert all("forward" not in m.__dict__ for m in net.modules())
    for k, v in net.state_dict().items():
        np.testing.assert_array_equal(v, before[k])  # BatchNorm running stats untouched (eval pass)
    net.eval()
    summary(net, (8,))
    assert not net.training


def test_matrix_factorization_with_integer_input() -> None:
    mf = models.matrix_factorization(7, 9, dim=4)
    s = summary(mf, (2,), dtype="int64")
    assert s.rows[0].name == "(model)" and s.rows[0].params == 1 and s.rows[0].output_shape == ()
    assert s.total_params == 7 * 4 + 9 * 4 + 7 + 9 + 1
    assert s.total_macs == 0


def test_bad_input_shape_gives_clear_error_and_restores_model() -> None:
    net = models.mlp([8, 4, 2])
    with pytest.raises(
        ValueError, match="summary: the forward pass on input shape \\(N, 7\\) failed"
    ):
        summary(net, (7,))
    assert all("forward" not in m.__dict__ for m in net.modules())
    with pytest.raises(ValueError, match="positive sizes"):
        summary(net, (0,))
    with pytest.raises(TypeError, match="gf.nn.Module"):
        summary("net", (8,))


def test_rich_rendering() -> None:
    t = summary(models.mlp([4, 3, 2]), (4,)).to_rich()
    assert t.row_count == 4
