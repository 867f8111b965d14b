"""Neural-network building blocks with PyTorch's names: modules, layers, losses, init.

Example:
    >>> import gradfit as gf
    >>> from gradfit import nn
    >>> import gradfit.nn.functional as F
    >>> model = nn.Sequential(nn.Linear(4, 16), nn.ReLU(), nn.Linear(16, 3))
    >>> loss = F.cross_entropy(model(gf.randn(8, 4)), gf.tensor([0, 1, 2, 0, 1, 2, 0, 1]))
    >>> loss.backward()
    >>> model[0].weight.grad.shape
    (16, 4)
"""

from __future__ import annotations

from typing import Any

from gradfit.nn import functional, init, utils
from gradfit.nn.activation import (
    ELU,
    GELU,
    LeakyReLU,
    LogSoftmax,
    ReLU,
    Sigmoid,
    SiLU,
    Softmax,
    Softplus,
    Tanh,
)
from gradfit.nn.containers import ModuleDict, ModuleList, Sequential
from gradfit.nn.dropout import Dropout
from gradfit.nn.embedding import Embedding
from gradfit.nn.linear import Flatten, Identity, Linear, Unflatten
from gradfit.nn.loss import (
    BCELoss,
    BCEWithLogitsLoss,
    CrossEntropyLoss,
    HuberLoss,
    KLDivLoss,
    L1Loss,
    MSELoss,
    NLLLoss,
    SmoothL1Loss,
)
from gradfit.nn.module import Module, Parameter, StateDictError

__all__ = [
    "ELU",
    "GELU",
    "BCELoss",
    "BCEWithLogitsLoss",
    "CrossEntropyLoss",
    "Dropout",
    "Embedding",
    "Flatten",
    "HuberLoss",
    "Identity",
    "KLDivLoss",
    "L1Loss",
    "LeakyReLU",
    "Linear",
    "LogSoftmax",
    "MSELoss",
    "Module",
    "ModuleDict",
    "ModuleList",
    "NLLLoss",
    "Parameter",
    "ReLU",
    "Sequential",
    "SiLU",
    "Sigmoid",
    "SmoothL1Loss",
    "Softmax",
    "Softplus",
    "StateDictError",
    "Tanh",
    "Unflatten",
    "functional",
    "init",
    "utils",
]

# Convolution, pooling and normalisation layers, loaded on first use so that
# ``import gradfit.nn`` works whether or not those files are present yet.
_LAZY = {
    "Conv1d": "gradfit.nn.conv",
    "Conv2d": "gradfit.nn.conv",
    "MaxPool1d": "gradfit.nn.pool",
    "MaxPool2d": "gradfit.nn.pool",
    "AvgPool1d": "gradfit.nn.pool",
    "AvgPool2d": "gradfit.nn.pool",
    "AdaptiveAvgPool2d": "gradfit.nn.pool",
    "BatchNorm1d": "gradfit.nn.normalization",
    "BatchNorm2d": "gradfit.nn.normalization",
    "LayerNorm": "gradfit.nn.normalization",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        try:
            return getattr(importlib.import_module(_LAZY[name]), name)
        except (ImportError, AttributeError) as e:
            raise AttributeError(f"gradfit.nn.{name} is not available: {e}") from e
    raise AttributeError(f"module 'gradfit.nn' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted([*globals(), *_LAZY])
