"""gf.nn.functional and gf.nn export every name of the issue, and re-export the conv helper's ops."""

from __future__ import annotations

import importlib

import pytest

import gradfit as gf
import gradfit.nn.functional as F

FUNCTIONAL = [
    "linear", "conv1d", "conv2d", "max_pool1d", "max_pool2d", "avg_pool1d", "avg_pool2d",
    "adaptive_avg_pool2d", "dropout", "embedding", "one_hot", "relu", "leaky_relu", "elu", "gelu",
    "silu", "sigmoid", "tanh", "softplus", "softmax", "log_softmax", "cross_entropy", "nll_loss",
    "mse_loss", "l1_loss", "huber_loss", "smooth_l1_loss", "binary_cross_entropy",
    "binary_cross_entropy_with_logits", "kl_div", "batch_norm", "layer_norm",
]  # fmt: skip
MODULES = [
    "Module", "Parameter", "Sequential", "ModuleList", "ModuleDict", "Identity", "Flatten",
    "Unflatten", "Linear", "Dropout", "Embedding", "ReLU", "LeakyReLU", "ELU", "GELU", "SiLU",
    "Sigmoid", "Tanh", "Softplus", "Softmax", "LogSoftmax", "CrossEntropyLoss", "NLLLoss",
    "MSELoss", "L1Loss", "HuberLoss", "SmoothL1Loss", "BCELoss", "BCEWithLogitsLoss", "KLDivLoss",
    "Conv1d", "Conv2d", "MaxPool1d", "MaxPool2d", "AvgPool1d", "AvgPool2d", "AdaptiveAvgPool2d",
    "BatchNorm1d", "BatchNorm2d", "LayerNorm",
]  # fmt: skip


@pytest.mark.parametrize("name", FUNCTIONAL)
def test_functional_exports(name):
    assert callable(getattr(F, name))


@pytest.mark.parametrize("name", MODULES)
def test_nn_exports(name):
    assert isinstance(getattr(gf.nn, name), type)


@pytest.mark.parametrize(
    "name,module",
    [("conv2d", "gradfit.ops.conv"), ("max_pool2d", "gradfit.ops.pool"),
     ("batch_norm", "gradfit.ops.normalization"), ("layer_norm", "gradfit.ops.normalization")],
)  # fmt: skip
def test_functional_reexports_are_the_ops(name, module):
    mod = importlib.import_module(module)
    assert getattr(F, name) is getattr(mod, name)


@pytest.mark.parametrize(
    "name,module",
    [("Conv1d", "gradfit.nn.conv"), ("Conv2d", "gradfit.nn.conv"), ("MaxPool2d", "gradfit.nn.pool"),
     ("AdaptiveAvgPool2d", "gradfit.nn.pool"), ("BatchNorm2d", "gradfit.nn.normalization"),
     ("LayerNorm", "gradfit.nn.normalization")],
)  # fmt: skip
def test_nn_reexports_conv_pool_norm_layers(name, module):
    mod = importlib.import_module(module)
    assert getattr(gf.nn, name) is getattr(mod, name)


def test_unknown_name_is_an_attribute_error():
    with pytest.raises(AttributeError, match="no attribute 'Conv3d'"):
        gf.nn.Conv3d  # noqa: B018
    assert set(gf.nn.__all__) >= set(MODULES) and set(F.__all__) >= set(FUNCTIONAL)
