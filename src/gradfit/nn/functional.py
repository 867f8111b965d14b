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

# --- nn-layers: activations, normalization, distances, dropout variants, losses (one block)
from gradfit.nn.bilinear import bilinear
from gradfit.nn.dropout import alpha_dropout, dropout, dropout1d, dropout2d
from gradfit.nn.embedding_bag import embedding_bag
from gradfit.ops.activation import (
    celu,
    glu,
    hardshrink,
    hardsigmoid,
    hardswish,
    hardtanh,
    logsigmoid,
    mish,
    prelu,
    relu6,
    selu,
    softshrink,
    softsign,
    tanhshrink,
    threshold,
)
from gradfit.ops.conv import conv1d, conv2d

# Spatial functions (torch's names): transposed convolutions, padding, interpolation, fold.
from gradfit.ops.conv_transpose import conv_transpose1d, conv_transpose2d
from gradfit.ops.distance import cosine_similarity, normalize, pairwise_distance
from gradfit.ops.embedding import embedding, one_hot
from gradfit.ops.fold import fold, unfold
from gradfit.ops.group_norm import group_norm, instance_norm
from gradfit.ops.gumbel import gumbel_softmax
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
from gradfit.ops.margin_loss import (
    cosine_embedding_loss,
    gaussian_nll_loss,
    hinge_embedding_loss,
    margin_ranking_loss,
    multilabel_soft_margin_loss,
    poisson_nll_loss,
    soft_margin_loss,
    triplet_margin_loss,
)
from gradfit.ops.normalization import batch_norm, layer_norm
from gradfit.ops.padding import pad
from gradfit.ops.pool import (
    adaptive_avg_pool1d,
    adaptive_avg_pool2d,
    adaptive_max_pool1d,
    adaptive_max_pool2d,
    avg_pool1d,
    avg_pool2d,
    max_pool1d,
    max_pool2d,
)
from gradfit.ops.resample import (
    interpolate,
    pixel_shuffle,
    pixel_unshuffle,
    upsample,
    upsample_bilinear,
    upsample_nearest,
)
from gradfit.ops.softmax import log_softmax, softmax, softmin
from gradfit.ops.unary import elu, gelu, leaky_relu, relu, sigmoid, silu, softplus, tanh

__all__ = [
    "adaptive_avg_pool1d",
    "adaptive_avg_pool2d",
    "adaptive_max_pool1d",
    "adaptive_max_pool2d",
    "alpha_dropout",
    "avg_pool1d",
    "avg_pool2d",
    "batch_norm",
    "bilinear",
    "binary_cross_entropy",
    "binary_cross_entropy_with_logits",
    "celu",
    "conv1d",
    "conv2d",
    "conv_transpose1d",
    "conv_transpose2d",
    "cosine_embedding_loss",
    "cosine_similarity",
    "cross_entropy",
    "dropout",
    "dropout1d",
    "dropout2d",
    "elu",
    "embedding",
    "embedding_bag",
    "fold",
    "gaussian_nll_loss",
    "gelu",
    "glu",
    "group_norm",
    "gumbel_softmax",
    "hardshrink",
    "hardsigmoid",
    "hardswish",
    "hardtanh",
    "hinge_embedding_loss",
    "huber_loss",
    "instance_norm",
    "interpolate",
    "kl_div",
    "l1_loss",
    "layer_norm",
    "leaky_relu",
    "linear",
    "log_softmax",
    "logsigmoid",
    "margin_ranking_loss",
    "max_pool1d",
    "max_pool2d",
    "mish",
    "mse_loss",
    "multi_head_attention_forward",
    "multilabel_soft_margin_loss",
    "nll_loss",
    "normalize",
    "one_hot",
    "pad",
    "pairwise_distance",
    "pixel_shuffle",
    "pixel_unshuffle",
    "poisson_nll_loss",
    "prelu",
    "relu",
    "relu6",
    "scaled_dot_product_attention",
    "selu",
    "sigmoid",
    "silu",
    "smooth_l1_loss",
    "soft_margin_loss",
    "softmax",
    "softmin",
    "softplus",
    "softshrink",
    "softsign",
    "tanh",
    "tanhshrink",
    "threshold",
    "triplet_margin_loss",
    "unfold",
    "upsample",
    "upsample_bilinear",
    "upsample_nearest",
]
