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

from gradfit.nn import functional, init, utils
from gradfit.nn import parallel as parallel  # DistributedDataParallel (mpi4py loads on use)
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

# sequence models (recurrent layers, attention, transformers)
from gradfit.nn.attention import MultiheadAttention
from gradfit.nn.containers import ModuleDict, ModuleList, Sequential
from gradfit.nn.conv import Conv1d, Conv2d
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
from gradfit.nn.normalization import BatchNorm1d, BatchNorm2d, LayerNorm
from gradfit.nn.pool import AdaptiveAvgPool2d, AvgPool1d, AvgPool2d, MaxPool1d, MaxPool2d
from gradfit.nn.rnn import GRU, LSTM, RNN, GRUCell, LSTMCell, RNNBase, RNNCell
from gradfit.nn.transformer import (
    Transformer,
    TransformerDecoder,
    TransformerDecoderLayer,
    TransformerEncoder,
    TransformerEncoderLayer,
)

__all__ = [
    "ELU",
    "GELU",
    "GRU",
    "LSTM",
    "RNN",
    "AdaptiveAvgPool2d",
    "AvgPool1d",
    "AvgPool2d",
    "BCELoss",
    "BCEWithLogitsLoss",
    "BatchNorm1d",
    "BatchNorm2d",
    "Conv1d",
    "Conv2d",
    "CrossEntropyLoss",
    "Dropout",
    "Embedding",
    "Flatten",
    "GRUCell",
    "HuberLoss",
    "Identity",
    "KLDivLoss",
    "L1Loss",
    "LSTMCell",
    "LayerNorm",
    "LeakyReLU",
    "Linear",
    "LogSoftmax",
    "MSELoss",
    "MaxPool1d",
    "MaxPool2d",
    "Module",
    "ModuleDict",
    "ModuleList",
    "MultiheadAttention",
    "NLLLoss",
    "Parameter",
    "RNNBase",
    "RNNCell",
    "ReLU",
    "Sequential",
    "SiLU",
    "Sigmoid",
    "SmoothL1Loss",
    "Softmax",
    "Softplus",
    "StateDictError",
    "Tanh",
    "Transformer",
    "TransformerDecoder",
    "TransformerDecoderLayer",
    "TransformerEncoder",
    "TransformerEncoderLayer",
    "Unflatten",
    "functional",
    "init",
    "utils",
]
