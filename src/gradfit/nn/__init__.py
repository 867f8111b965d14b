"""Neural-network building blocks with PyTorch's names: modules, layers, losses, init.

Example:
    >>> import gradfit as gf
    >>> from gradfit import nn
    >>> import gradfit.nn.functional as F
    >>> model = nn.Sequential(nn.Linear(4, 16), nn.ReLU(), nn.Linear(16, 3))
    >>> F.relu(model(gf.randn(8, 4))).sum().backward()
    >>> model[0].weight.grad.shape
    (16, 4)
"""

from __future__ import annotations

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
from gradfit.nn.linear import Flatten, Identity, Linear, Unflatten
from gradfit.nn.module import Module, Parameter, StateDictError

__all__ = [
    "ELU",
    "GELU",
    "Dropout",
    "Flatten",
    "Identity",
    "LeakyReLU",
    "Linear",
    "LogSoftmax",
    "Module",
    "ModuleDict",
    "ModuleList",
    "Parameter",
    "ReLU",
    "Sequential",
    "SiLU",
    "Sigmoid",
    "Softmax",
    "Softplus",
    "StateDictError",
    "Tanh",
    "Unflatten",
    "functional",
    "init",
    "utils",
]
