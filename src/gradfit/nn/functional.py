"""The functional interface (``import gradfit.nn.functional as F``): layers and losses as functions.

Example:
    >>> import gradfit as gf
    >>> import gradfit.nn.functional as F
    >>> F.relu(F.linear(gf.ones(2, 3), gf.ones(4, 3))).shape
    (2, 4)
"""

from __future__ import annotations

from gradfit.nn.dropout import dropout
from gradfit.ops.linear import linear
from gradfit.ops.softmax import log_softmax, softmax
from gradfit.ops.unary import elu, gelu, leaky_relu, relu, sigmoid, silu, softplus, tanh

__all__ = [
    "dropout",
    "elu",
    "gelu",
    "leaky_relu",
    "linear",
    "log_softmax",
    "relu",
    "sigmoid",
    "silu",
    "softmax",
    "softplus",
    "tanh",
]
