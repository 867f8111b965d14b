"""The functional interface (``import gradfit.nn.functional as F``): layers and losses as functions.

Example:
    >>> import gradfit as gf
    >>> import gradfit.nn.functional as F
    >>> F.relu(F.linear(gf.ones(2, 3), gf.ones(4, 3))).shape
    (2, 4)
    >>> round(F.cross_entropy(gf.zeros(2, 4), gf.tensor([1, 3])).item(), 4)
    1.3863
"""

from __future__ import annotations

from gradfit.nn.attention import multi_head_attention_forward, scaled_dot_product_attention
from gradfit.nn.dropout import dropout
from gradfit.ops.conv import conv1d, conv2d
from gradfit.ops.embedding import embedding, one_hot
from gradfit.ops.linear import linear
from gradfit.ops.loss import (
    binary_cross_entropy,
    binary_cross_entropy_with_logits,
    cross_entropy,
    huber_loss,
    kl_div,
    l1_loss,
    mse_loss,
    nll_loss,
    smooth_l1_loss,
)
from gradfit.ops.normalization import batch_norm, layer_norm
from gradfit.ops.pool import adaptive_avg_pool2d, avg_pool1d, avg_pool2d, max_pool1d, max_pool2d
from gradfit.ops.softmax import log_softmax, softmax
from gradfit.ops.unary import elu, gelu, leaky_relu, relu, sigmoid, silu, softplus, tanh

__all__ = [
    "adaptive_avg_pool2d",
    "avg_pool1d",
    "avg_pool2d",
    "batch_norm",
    "binary_cross_entropy",
    "binary_cross_entropy_with_logits",
    "conv1d",
    "conv2d",
    "cross_entropy",
    "dropout",
    "elu",
    "embedding",
    "gelu",
    "huber_loss",
    "kl_div",
    "l1_loss",
    "layer_norm",
    "leaky_relu",
    "linear",
    "log_softmax",
    "max_pool1d",
    "max_pool2d",
    "mse_loss",
    "multi_head_attention_forward",
    "nll_loss",
    "one_hot",
    "relu",
    "scaled_dot_product_attention",
    "sigmoid",
    "silu",
    "smooth_l1_loss",
    "softmax",
    "softplus",
    "tanh",
]

# Spatial functions (torch's names): transposed convolutions, padding, interpolation, fold.
from gradfit.ops.conv_transpose import conv_transpose1d, conv_transpose2d
from gradfit.ops.fold import fold, unfold
from gradfit.ops.padding import pad
from gradfit.ops.pool import adaptive_avg_pool1d, adaptive_max_pool1d, adaptive_max_pool2d
from gradfit.ops.resample import (
    interpolate,
    pixel_shuffle,
    pixel_unshuffle,
    upsample,
    upsample_bilinear,
    upsample_nearest,
)

__all__ += [
    "adaptive_avg_pool1d",
    "adaptive_max_pool1d",
    "adaptive_max_pool2d",
    "conv_transpose1d",
    "conv_transpose2d",
    "fold",
    "interpolate",
    "pad",
    "pixel_shuffle",
    "pixel_unshuffle",
    "unfold",
    "upsample",
    "upsample_bilinear",
    "upsample_nearest",
]
