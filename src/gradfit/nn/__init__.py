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

# --- nn-layers (one block)
from gradfit.nn.activation import (
    CELU,
    ELU,
    GELU,
    GLU,
    SELU,
    Hardshrink,
    Hardsigmoid,
    Hardswish,
    Hardtanh,
    LeakyReLU,
    LogSigmoid,
    LogSoftmax,
    Mish,
    PReLU,
    ReLU,
    ReLU6,
    Sigmoid,
    SiLU,
    Softmax,
    Softmin,
    Softplus,
    Softshrink,
    Softsign,
    Tanh,
    Tanhshrink,
    Threshold,
)

# sequence models (recurrent layers, attention, transformers)
from gradfit.nn.attention import MultiheadAttention
from gradfit.nn.bilinear import Bilinear
from gradfit.nn.containers import ModuleDict, ModuleList, ParameterDict, ParameterList, Sequential
from gradfit.nn.conv import Conv1d, Conv2d
from gradfit.nn.distance import CosineSimilarity, PairwiseDistance
from gradfit.nn.dropout import AlphaDropout, Dropout, Dropout1d, Dropout2d
from gradfit.nn.embedding import Embedding
from gradfit.nn.embedding_bag import EmbeddingBag
from gradfit.nn.linear import Flatten, Identity, Linear, Unflatten
from gradfit.nn.loss import (
    BCELoss,
    BCEWithLogitsLoss,
    CosineEmbeddingLoss,
    CrossEntropyLoss,
    GaussianNLLLoss,
    HingeEmbeddingLoss,
    HuberLoss,
    KLDivLoss,
    L1Loss,
    MarginRankingLoss,
    MSELoss,
    MultiLabelSoftMarginLoss,
    NLLLoss,
    PoissonNLLLoss,
    SmoothL1Loss,
    SoftMarginLoss,
    TripletMarginLoss,
)
from gradfit.nn.module import Module, Parameter, StateDictError
from gradfit.nn.normalization import (
    BatchNorm1d,
    BatchNorm2d,
    GroupNorm,
    InstanceNorm1d,
    InstanceNorm2d,
    LayerNorm,
)
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
    "Softmin",
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

# Spatial layers (torch's names): transposed convolutions, padding, upsampling, fold, pixel shuffle.
from gradfit.nn.conv import ConvTranspose1d, ConvTranspose2d
from gradfit.nn.fold import Fold, Unfold
from gradfit.nn.padding import (
    CircularPad1d,
    CircularPad2d,
    CircularPad3d,
    ConstantPad1d,
    ConstantPad2d,
    ConstantPad3d,
    ReflectionPad1d,
    ReflectionPad2d,
    ReflectionPad3d,
    ReplicationPad1d,
    ReplicationPad2d,
    ReplicationPad3d,
    ZeroPad1d,
    ZeroPad2d,
    ZeroPad3d,
)
from gradfit.nn.pixelshuffle import PixelShuffle, PixelUnshuffle
from gradfit.nn.pool import AdaptiveAvgPool1d, AdaptiveMaxPool1d, AdaptiveMaxPool2d
from gradfit.nn.upsample import Upsample, UpsamplingBilinear2d, UpsamplingNearest2d

__all__ += [
    "AdaptiveAvgPool1d",
    "AdaptiveMaxPool1d",
    "AdaptiveMaxPool2d",
    "CircularPad1d",
    "CircularPad2d",
    "CircularPad3d",
    "ConstantPad1d",
    "ConstantPad2d",
    "ConstantPad3d",
    "ConvTranspose1d",
    "ConvTranspose2d",
    "Fold",
    "PixelShuffle",
    "PixelUnshuffle",
    "ReflectionPad1d",
    "ReflectionPad2d",
    "ReflectionPad3d",
    "ReplicationPad1d",
    "ReplicationPad2d",
    "ReplicationPad3d",
    "Unfold",
    "Upsample",
    "UpsamplingBilinear2d",
    "UpsamplingNearest2d",
    "ZeroPad1d",
    "ZeroPad2d",
    "ZeroPad3d",
]
__all__ += [
    "CELU",
    "GLU",
    "SELU",
    "AlphaDropout",
    "Bilinear",
    "CosineEmbeddingLoss",
    "CosineSimilarity",
    "Dropout1d",
    "Dropout2d",
    "EmbeddingBag",
    "GaussianNLLLoss",
    "GroupNorm",
    "Hardshrink",
    "Hardsigmoid",
    "Hardswish",
    "Hardtanh",
    "HingeEmbeddingLoss",
    "InstanceNorm1d",
    "InstanceNorm2d",
    "LogSigmoid",
    "MarginRankingLoss",
    "Mish",
    "MultiLabelSoftMarginLoss",
    "PReLU",
    "PairwiseDistance",
    "ParameterDict",
    "ParameterList",
    "PoissonNLLLoss",
    "ReLU6",
    "SoftMarginLoss",
    "Softshrink",
    "Softsign",
    "Tanhshrink",
    "Threshold",
    "TripletMarginLoss",
]
