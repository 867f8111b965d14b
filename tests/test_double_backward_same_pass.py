"""Loss and input-gradient penalty in ONE backward pass, for every op with a double backward.

"Double backpropagation" (gradient penalties, WGAN-GP, Jacobian regularisation)::

    f = head(op(x))
    (g,) = autograd.grad(f, x, create_graph=True)
    (f + (g * g).sum()).backward()          # no retain_graph

The last backward walks the op's node *and* the nodes its ``backward_graph`` recorded, and
releases each node's saved arrays as it passes. A recorded node that reads its source node
lazily (a linear map that calls the source's ``backward`` later, a closure over
``self.saved``) finds them gone if the walk reached the source first: a TypeError on None.
Every case is compared with torch (the gradients of all inputs) in five modes:

* head ``sin``: ``f = sin(out).sum()``; the gradient reaching the op depends on its output,
  so the walk meets the recorded nodes before the op's own;
* head ``linear``: ``f = (out * v).sum()`` with a leaf ``v``; the gradient reaching the op
  depends on ``v`` alone and the walk may reach the op's node first (the order that broke
  max pooling and embedding);
* ``loss`` / ``penalty``: ``f + pen`` or ``pen + f`` (other walk orders);
* ``backward``: ``f.backward(create_graph=True)``, then a penalty on the ``.grad`` left in
  the graph, backward again: that pass adds to a ``.grad`` whose array it still reads (in
  place, this broke every op with two inputs).

The same runs one order higher (``f + |g1|^2 + |g2|^2``), through the nodes that
backward_graphs record.

To cover a new op: add one entry to ``CASES`` (name -> :class:`Case`); ``fn(lib, F, *ts)``
gets ``gf``/``torch``, its ``nn.functional`` and the tensors (differentiable ones first,
then the constants) and returns the op's output. A guard test fails, naming the op, when an
engine node with a ``backward_graph`` appears in no case's graph.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pytest
import torch

import gradfit as gf
from oracle import assert_close

torch.set_num_threads(1)

R = np.random.default_rng(11)


def rn(*shape: int) -> np.ndarray:
    return R.standard_normal(shape)


def pos(*shape: int) -> np.ndarray:
    return R.uniform(0.5, 2.0, shape)


@dataclass
class Case:
    fn: Callable[..., Any]
    arrays: list[np.ndarray]  # inputs that require grad (float64)
    consts: list[np.ndarray] = field(default_factory=list)  # inputs that do not
    rtol: float = 1e-8
    # third order: None (torch's op is the oracle), False (torch cannot: skipped), or
    # fn(torch, F, *ts), the same function written with ops whose third order torch gets right
    third: Any = None


IDX = np.array([[0, 2, 1], [3, 3, 0]])
TGT = np.array([1, 0, 3])
MASK = rn(3, 4) > 0
LAYER: dict[Any, Any] = {}  # (kind, lib) -> recurrent layer, the same weights in both libraries


def _rnn(lib: Any, kind: str, x: Any) -> Any:
    """The layer's output (only x is compared: its weights' .grad accumulate, unchecked)."""
    key = (kind, lib)
    if key not in LAYER:
        mods = {}
        for lb in (gf, torch):
            mods[lb] = getattr(lb.nn, kind)(3, 4, num_layers=1, batch_first=True).double()
        with torch.no_grad():
            for pt, pg in zip(mods[torch].parameters(), mods[gf].parameters(), strict=True):
                pt.copy_(torch.tensor(pg.detach().numpy()))
        LAYER.update({(kind, lb): m for lb, m in mods.items()})
    return LAYER[key](x)[0]


def _cube(lib: Any) -> Any:
    """A user-defined Function (PyTorch's ctx style) whose backward is itself differentiable."""

    class Cube(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x**3

        @staticmethod
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            return 3 * g * x * x

    return Cube


CUBE = {lib: _cube(lib) for lib in (gf, torch)}


def _torch_batch_norm(lib: Any, F: Any, x: Any, w: Any, b: Any) -> Any:
    # torch 2.13's native batch_norm/layer_norm get the third derivative wrong (off by
    # about 100% from finite differences); these compositions get it right
    xc = x - x.mean(dim=(0, 2), keepdim=True)
    inv = ((xc * xc).mean(dim=(0, 2), keepdim=True) + 1e-5) ** -0.5
    return xc * inv * w[:, None] + b[:, None]


def _torch_layer_norm(lib: Any, F: Any, x: Any, w: Any, b: Any) -> Any:
    xc = x - x.mean(dim=-1, keepdim=True)
    return xc * ((xc * xc).mean(dim=-1, keepdim=True) + 1e-5) ** -0.5 * w + b


def _setitem(lib: Any, x: Any, s: Any) -> Any:
    """Assignment into a non-leaf (SetItem) and an in-place op on its view (GatherFlat,
    ScatterFlat)."""
    y = x * x
    y[1] = s * s
    y[0].mul_(s)
    return y * x


def _packed_attention(lib: Any, F: Any, x: Any) -> Any:
    """Two-head self-attention of a packed (N, L, 3E) projection; torch: its composition."""
    if lib is gf:
        from gradfit.ops.attention import packed_self_attention

        return packed_self_attention(x * x, 2, True, None, 0.5**0.5)
    n, seq, _ = x.shape
    q, k, v = ((x * x).reshape(n, seq, 3, 2, 2)[:, :, i].transpose(1, 2) for i in range(3))
    return _torch_attention(F, q, k, v).transpose(1, 2).reshape(n, seq, 4)


def _torch_attention(F: Any, q: Any, k: Any, v: Any) -> Any:
    # torch 2.13's CPU scaled_dot_product_attention has no double backward: its composition
    return F.softmax(q @ k.transpose(-2, -1) * q.shape[-1] ** -0.5, dim=-1) @ v


CASES: dict[str, Case] = {
    # arithmetic
    "add": Case(lambda lib, F, x, y: (x + y) * x, [rn(3, 4), rn(4)]),
    "sub": Case(lambda lib, F, x, y: (x - y) * y, [rn(3, 4), rn(3, 1)]),
    "mul": Case(lambda lib, F, x, y: x * y, [rn(3, 4), rn(4)]),
    "div": Case(lambda lib, F, x, y: x / y, [rn(3, 4), pos(3, 4)]),
    "add_mul_scalar_neg": Case(lambda lib, F, x: -(x * 3.0 + 1.5) * x, [rn(3, 4)]),
    "pow_scalar": Case(lambda lib, F, x: x**3, [rn(3, 4)]),
    "rpow_scalar": Case(lambda lib, F, x: 2.0**x, [rn(3, 4)]),
    "pow_tensor": Case(lambda lib, F, x, y: x**y, [pos(3, 4), rn(3, 4)]),
    "maximum_minimum": Case(
        lambda lib, F, x, y: lib.maximum(x, y) * lib.minimum(x, y) ** 2, [rn(3, 4), rn(3, 4)]
    ),
    "where": Case(lambda lib, F, x, y, m: lib.where(m, x * x, y), [rn(3, 4), rn(3, 4)], [MASK]),
    "clamp": Case(lambda lib, F, x: x.clamp(-0.5, 0.7) * x, [rn(3, 4)]),
    "clamp_tensor": Case(
        lambda lib, F, x, lo, hi: lib.clamp(x * x, lo, hi) * x,
        [rn(3, 4), rn(3, 4) * 0.2, rn(3, 4) * 0.2 + 1.0],
    ),
    # reductions
    "sum_mean": Case(lambda lib, F, x: x.sum(1) * (x * x).mean(0)[:3], [rn(3, 4)]),
    "amax": Case(lambda lib, F, x: lib.amax(x * x, dim=1), [rn(3, 4)]),
    "max_dim": Case(lambda lib, F, x: (x * x).max(dim=0)[0], [rn(3, 4)]),
    "var_std": Case(lambda lib, F, x: x.var(1) + (x * x).std(0).sum(), [rn(3, 4)]),
    "norm": Case(lambda lib, F, x: (x * x).norm(dim=1) + x.norm(), [rn(3, 4)]),
    "logsumexp": Case(lambda lib, F, x: lib.logsumexp(x * x, dim=1), [rn(3, 4)]),
    # shape
    "reshape_permute": Case(lambda lib, F, x: (x * x).reshape(4, 3).permute(1, 0), [rn(3, 4)]),
    "expand_repeat": Case(
        lambda lib, F, x: (x * x).expand(2, 3, 4) * x.repeat(2, 1, 2)[:, :, :4], [rn(3, 4)]
    ),
    "cat_stack": Case(
        lambda lib, F, x, y: lib.cat([x * y, y], 0) * lib.stack([x, y * y], 0).reshape(6, 4),
        [rn(3, 4), rn(3, 4)],
    ),
    "pad_constant": Case(
        lambda lib, F, x: (lib.pad if lib is gf else F.pad)(x * x, (1, 2)) * 2.0, [rn(3, 4)]
    ),
    "flip": Case(lambda lib, F, x: lib.flip(x * x, [0, 1]) * x, [rn(3, 4)]),
    "getitem_basic": Case(lambda lib, F, x: (x * x)[1:, ::2], [rn(3, 4)]),
    "getitem_advanced": Case(lambda lib, F, x, i: (x * x)[i] * 2.0, [rn(4, 3)], [IDX]),
    "getitem_mask": Case(lambda lib, F, x, m: (x * x)[m], [rn(3, 4)], [MASK]),
    "cast": Case(lambda lib, F, x: (x * x).float().double() * x, [rn(3, 4)], rtol=1e-6),
    "clone_view": Case(lambda lib, F, x: (x * x).clone().view(12), [rn(3, 4)]),
    "alias": Case(lambda lib, F, x: (x * x).reshape(3, 4).expand(3, 4) * x, [rn(3, 4)]),
    # unary
    **{
        f"unary_{name}": Case(lambda lib, F, x, name=name: getattr(x * 1.5, name)(), [rn(3, 4)])
        for name in ("exp", "sin", "cos", "tanh", "sigmoid", "relu", "abs")
    },
    "unary_log_sqrt_log1p": Case(lambda lib, F, x: x.log() + x.sqrt() * x.log1p(), [pos(3, 4)]),
    "unary_sign": Case(lambda lib, F, x: x.sign() * x * x, [rn(3, 4)]),
    "leaky_relu_elu": Case(lambda lib, F, x: F.leaky_relu(x, 0.1) * F.elu(x), [rn(3, 4)]),
    "gelu": Case(lambda lib, F, x: F.gelu(x) + F.gelu(x, approximate="tanh"), [rn(3, 4)]),
    "silu_softplus": Case(lambda lib, F, x: F.silu(x) * F.softplus(x, beta=2.0), [rn(3, 4)]),
    # linear algebra, softmax, losses
    "matmul": Case(lambda lib, F, a, b: a @ b, [rn(3, 4), rn(4, 2)]),
    "linear": Case(lambda lib, F, x, w, b: F.linear(x, w, b), [rn(3, 4), rn(2, 4), rn(2)]),
    "softmax": Case(lambda lib, F, x: F.softmax(x, dim=1), [rn(3, 4)]),
    "log_softmax": Case(lambda lib, F, x: F.log_softmax(x, dim=0), [rn(3, 4)]),
    "cross_entropy": Case(lambda lib, F, x, t: F.cross_entropy(x * x, t), [rn(3, 4)], [TGT]),
    "cross_entropy_smoothing_none": Case(
        lambda lib, F, x, t: F.cross_entropy(x, t, reduction="none", label_smoothing=0.1),
        [rn(3, 4)],
        [TGT],
    ),
    "nll_loss": Case(lambda lib, F, x, t: F.nll_loss(F.log_softmax(x, 1), t), [rn(3, 4)], [TGT]),
    "mse_l1": Case(
        lambda lib, F, x, y: F.mse_loss(x * x, y) + F.l1_loss(x, y, reduction="sum"),
        [rn(3, 4), rn(3, 4)],
    ),
    "bce_with_logits": Case(
        lambda lib, F, x, t: F.binary_cross_entropy_with_logits(
            x * x, t, pos_weight=lib.tensor([1.0, 2.0, 0.5, 1.0], dtype=lib.float64)
        ),
        [rn(3, 4)],
        [R.uniform(0, 1, (3, 4))],
    ),
    # layers
    "conv2d": Case(
        lambda lib, F, x, w, b: F.conv2d(x, w, b, stride=2, padding=1),
        [rn(2, 2, 5, 5), rn(3, 2, 3, 3), rn(3)],
    ),
    "conv1d_groups": Case(
        lambda lib, F, x, w: F.conv1d(x, w, groups=2, dilation=2), [rn(2, 4, 7), rn(4, 2, 2)]
    ),
    "conv_transpose2d": Case(
        lambda lib, F, x, w, b: F.conv_transpose2d(x, w, b, stride=2, padding=1, output_padding=1),
        [rn(2, 2, 3, 3), rn(2, 3, 3, 3), rn(3)],
        third=False,  # torch refuses output_padding past the second order
    ),
    "conv_transpose2d_dilation": Case(
        lambda lib, F, x, w: F.conv_transpose2d(x, w, stride=2, padding=1, dilation=2),
        [rn(1, 2, 3, 3), rn(2, 2, 2, 2)],
    ),
    "conv_transpose1d": Case(
        lambda lib, F, x, w: F.conv_transpose1d(x, w, stride=2, groups=2),
        [rn(2, 4, 4), rn(4, 1, 3)],
    ),
    "max_pool2d": Case(lambda lib, F, x: F.max_pool2d(x * x, 3, 2, 1), [rn(2, 1, 5, 5)]),
    "avg_pool2d": Case(
        lambda lib, F, x: F.avg_pool2d(x * x, 3, 2, 1, count_include_pad=False), [rn(2, 1, 5, 5)]
    ),
    "adaptive_avg_pool2d": Case(
        lambda lib, F, x: F.adaptive_avg_pool2d(x * x, (2, 3)), [rn(2, 1, 5, 7)]
    ),
    "adaptive_max_pool2d": Case(
        lambda lib, F, x: F.adaptive_max_pool2d(x * x, (2, 3)), [rn(2, 1, 5, 7)]
    ),
    "pad_reflect": Case(lambda lib, F, x: F.pad(x * x, (2, 1), mode="reflect"), [rn(2, 1, 5)]),
    "pad_replicate": Case(
        lambda lib, F, x: F.pad(x * x, (1, 2, 2, 0), mode="replicate"), [rn(1, 1, 3, 4)]
    ),
    "pad_circular": Case(lambda lib, F, x: F.pad(x * x, (2, 1), mode="circular"), [rn(2, 1, 5)]),
    "pad_f_constant": Case(lambda lib, F, x: F.pad(x * x, (1, -1, 2, 1)), [rn(1, 1, 3, 4)]),
    "interpolate": Case(
        lambda lib, F, x: F.interpolate(x * x, scale_factor=2, mode="bilinear"), [rn(1, 1, 3, 4)]
    ),
    "unfold": Case(lambda lib, F, x: F.unfold(x * x, 2, stride=1, padding=1), [rn(1, 2, 3, 3)]),
    "fold": Case(lambda lib, F, x: F.fold(x * x, (3, 3), 2), [rn(1, 8, 4)]),
    "batch_norm": Case(
        lambda lib, F, x, w, b: F.batch_norm(x, None, None, w, b, training=True),
        [rn(4, 3, 2), rn(3), rn(3)],
        third=_torch_batch_norm,
    ),
    "batch_norm_eval": Case(
        lambda lib, F, x, w, b, m, v: F.batch_norm(x * x, m, v, w, b, training=False),
        [rn(4, 3, 2), rn(3), rn(3)],
        [rn(3), pos(3)],
    ),
    "layer_norm": Case(
        lambda lib, F, x, w, b: F.layer_norm(x, (4,), w, b),
        [rn(3, 4), rn(4), rn(4)],
        third=_torch_layer_norm,
    ),
    "group_norm": Case(
        lambda lib, F, x, w, b: F.group_norm(x, 2, w, b), [rn(2, 4, 3), rn(4), rn(4)]
    ),
    "embedding": Case(lambda lib, F, w, i: F.embedding(i, w * w), [rn(4, 3)], [IDX]),
    "rnn_tanh": Case(lambda lib, F, x: _rnn(lib, "RNN", x), [rn(2, 3, 3)]),
    "lstm": Case(lambda lib, F, x: _rnn(lib, "LSTM", x), [rn(2, 3, 3)]),
    "gru": Case(lambda lib, F, x: _rnn(lib, "GRU", x), [rn(2, 3, 3)]),
    "custom_function": Case(lambda lib, F, x: CUBE[lib].apply(x * x), [rn(3, 4)]),
    # unary and binary elementwise (more)
    **{
        f"unary_{name}": Case(lambda lib, F, x, name=name: getattr(lib, name)(x * 0.4), [rn(3, 4)])
        for name in (
            "asin",
            "acos",
            "atan",
            "asinh",
            "atanh",
            "sinh",
            "cosh",
            "tan",
            "erf",
            "erfc",
            "erfinv",
            "exp2",
            "expm1",
        )
    },
    "unary_acosh_log2_log10": Case(
        lambda lib, F, x: lib.acosh(x + 1.5) * lib.log2(x) + lib.log10(x), [pos(3, 4)]
    ),
    "round_frac": Case(
        lambda lib, F, x: lib.floor(x) * x + lib.round(x * x) + lib.frac(x) * x, [rn(3, 4) * 2]
    ),
    "nan_to_num": Case(lambda lib, F, x: lib.nan_to_num(x * x) * x, [rn(3, 4)]),
    "atan2_hypot": Case(
        lambda lib, F, x, y: lib.atan2(x, y) + lib.hypot(x * y, y), [rn(3, 4), rn(3, 4)]
    ),
    "copysign_mod": Case(
        lambda lib, F, x, y: lib.copysign(x, y) * x + lib.fmod(x * 3, y) + lib.remainder(x, y),
        [rn(3, 4), pos(3, 4)],
    ),
    "fmax_fmin": Case(
        lambda lib, F, x, y: lib.fmax(x, y) * lib.fmin(x * x, y), [rn(3, 4), rn(3, 4)]
    ),
    "logaddexp_xlogy": Case(
        lambda lib, F, x, y: lib.logaddexp(x, y * y) + lib.xlogy(x, y), [rn(3, 4), pos(3, 4)]
    ),
    # activations (more)
    "activations_piecewise": Case(
        lambda lib, F, x: (
            F.hardtanh(x, -0.5, 0.7) * x
            + F.hardshrink(x, 0.3) * x
            + F.softshrink(x, 0.3) * x
            + F.threshold(x, 0.1, -1.0) * x
        ),
        [rn(3, 4)],
    ),
    "activations_smooth": Case(
        lambda lib, F, x: F.selu(x) * F.mish(x) + F.logsigmoid(x) + F.softsign(x) * F.tanhshrink(x),
        [rn(3, 4)],
    ),
    "celu": Case(
        lambda lib, F, x: F.celu(x, 0.7) * x,
        [rn(3, 4)],
        # torch 2.13's float64 celu derivatives are off by ~1e-8 relative from exp(x/alpha)
        # (gradfit's match it to rounding)
        rtol=1e-6,
    ),
    "hardsigmoid_hardswish": Case(
        lambda lib, F, x: (
            (F.hardsigmoid(x * 3) if lib is gf else (x / 2 + 0.5).clamp(0, 1)) * x
            + F.hardswish(x * 3)
        ),
        [rn(3, 4)],
    ),  # torch has no double backward of hardsigmoid: its composition there
    # reductions and scans (more)
    "prod": Case(lambda lib, F, x: x.prod(1) * (x * x).prod(), [rn(3, 4)]),
    "norm_p3": Case(lambda lib, F, x: (x * x).norm(p=3, dim=1) + x.norm(p=3), [rn(3, 4)]),
    "cumsum_cumprod": Case(lambda lib, F, x: lib.cumsum(x * x, 1) * lib.cumprod(x, 0), [rn(3, 4)]),
    "logcumsumexp": Case(
        lambda lib, F, x: lib.logcumsumexp(x * x, 1),
        [rn(3, 4)],
        third=lambda lib, F, x: (x * x).exp().cumsum(1).log(),  # torch's third order: nan
    ),
    # structure
    "tril_triu_roll": Case(
        lambda lib, F, x: lib.tril(x * x, -1) + lib.triu(x, 1) * lib.roll(x, 1, 0), [rn(3, 4)]
    ),
    "diagonal_diag_embed": Case(
        lambda lib, F, x: lib.diag_embed(lib.diagonal(x * x, 1), 0) * 2.0, [rn(3, 4)]
    ),
    "einsum": Case(lambda lib, F, a, b: lib.einsum("ij,jk->ik", a * a, b), [rn(3, 4), rn(4, 2)]),
    "cross": Case(lambda lib, F, a, b: lib.cross(a * a, b, dim=1), [rn(2, 3), rn(2, 3)]),
    "cdist": Case(
        lambda lib, F, a, b: (
            lib.cdist(a, b) if lib is gf else ((a[:, None] - b[None]) ** 2).sum(-1).sqrt()
        ),
        [rn(3, 2), rn(4, 2)],
    ),  # torch has no double backward of cdist: its composition there
    # indexing
    "gather_take_along": Case(
        lambda lib, F, x, i: (
            lib.gather(x * x, 1, i) * lib.take_along_dim(x, i, 1) + lib.sort(x * x, 1).values[:, :3]
        ),
        [rn(2, 4)],
        [IDX],
    ),
    "take_index_select": Case(
        lambda lib, F, x, i: lib.take(x * x, i) + lib.index_select(x, 0, i[:, 0] % 3)[:, :3],
        [rn(3, 4)],
        [IDX],
    ),
    "scatter": Case(
        lambda lib, F, x, s, i: lib.scatter(x * x, 1, i, s * s),
        [rn(2, 4), rn(2, 3)],
        [np.array([[0, 2, 1], [3, 1, 0]])],
    ),
    "scatter_reduce": Case(
        lambda lib, F, x, s, i: lib.scatter_reduce(x * x, 1, i, s, "sum"),
        [rn(2, 4), rn(2, 3)],
        [IDX[:, :3] % 4],
    ),
    "index_put": Case(
        lambda lib, F, x, s: (
            lib.index_add(x * x, 0, lib.tensor([0, 2]), s * s)
            + lib.index_copy(x, 0, lib.tensor([1, 0]), s)
        ),
        [rn(3, 4), rn(2, 4)],
    ),
    "masked": Case(
        lambda lib, F, x, s, m: (
            lib.masked_fill(x * x, m, 2.0) * x
            + lib.masked_scatter(x, m, s * s)
            + lib.masked_select(x * x, m).sum()
        ),
        [rn(3, 4), rn(3, 4)],
        [MASK],
    ),
    "setitem_inplace_view": Case(lambda lib, F, x, s: _setitem(lib, x, s), [rn(3, 4), rn(4)]),
    # losses and attention (more)
    "bce_kl_div": Case(
        lambda lib, F, x, t: (
            F.binary_cross_entropy(x.sigmoid(), t) + F.kl_div(x, t, reduction="batchmean")
        ),
        [rn(3, 4)],
        [R.uniform(0.1, 1, (3, 4))],
    ),
    "scaled_dot_product_attention": Case(
        lambda lib, F, q, k, v: (
            F.scaled_dot_product_attention(q, k, v) if lib is gf else _torch_attention(F, q, k, v)
        ),
        [rn(1, 2, 3), rn(1, 4, 3), rn(1, 4, 2)],
    ),
    "packed_self_attention": Case(lambda lib, F, x: _packed_attention(lib, F, x), [rn(2, 3, 12)]),
    "normal": Case(lambda lib, F, x, s: lib.normal(x, s) * 0.0 + x * s, [rn(3, 4), pos(3, 4)]),
}


def _run(lib: Any, case: Case, mode: str) -> list[Any]:
    F = lib.nn.functional
    head, how, first = mode.split("/")
    xs = [lib.tensor(a.copy(), requires_grad=True) for a in case.arrays]
    cs = [lib.tensor(a.copy()) for a in case.consts]
    out = case.fn(lib, F, *xs, *cs)
    r = np.random.default_rng(out.numel())
    v = lib.tensor(r.standard_normal(tuple(out.shape)), requires_grad=True)
    # "sin": the gradient reaching the op depends on its output; "linear": on a leaf only,
    # so the walk may reach the op's node before the nodes recorded from its gradient
    f = out.sin().sum() if head == "sin" else (out * v).sum()
    if how == "backward":  # the gradients left in .grad, in the graph; then the penalty's pass
        f.backward(create_graph=True)
        sum((x.grad * x.grad).sum() for x in xs if x.grad is not None).backward()
    else:
        gs = lib.autograd.grad(f, xs, create_graph=True, allow_unused=True)
        pen = sum((g * g).sum() for g in gs if g is not None)
        (pen + f if first == "penalty" else f + pen).backward()  # once, no retain_graph
    grads = [x.grad for x in xs] + ([v.grad] if head == "linear" else [])
    return [None if g is None else g.detach() for g in grads]


MODES = ["sin/grad/loss", "sin/grad/penalty", "linear/grad/loss", "linear/grad/penalty",
         "linear/backward/penalty"]  # fmt: skip


@pytest.mark.filterwarnings("ignore:Using backward.. with create_graph=True:UserWarning")
@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("name", sorted(CASES))
def test_loss_and_gradient_penalty_in_one_backward(name, mode):
    case = CASES[name]
    got = _run(gf, case, mode)
    want = _run(torch, case, mode)
    for k, (a, e) in enumerate(zip(got, want, strict=True)):
        what = f"{name} {'v' if k == len(case.arrays) else f'input {k}'}"
        if e is None:
            assert a is None or np.allclose(a.numpy(), 0), what
            continue
        assert a is not None, f"{what}: gradfit gave none"
        assert_close(a, e, rtol=case.rtol, atol=1e-10, what=what)


@pytest.mark.filterwarnings("ignore:Using backward.. with create_graph=True:UserWarning")
@pytest.mark.parametrize("mode", ["sin/grad/loss", "linear/backward/penalty"])
def test_group_norm_in_one_backward_on_both_paths(mode, kernel_path):
    # group_norm's compiled kernels save what its graph backward reads, as its NumPy path does
    got, want = _run(gf, CASES["group_norm"], mode), _run(torch, CASES["group_norm"], mode)
    for k, (a, e) in enumerate(zip(got, want, strict=True)):
        assert_close(a, e, rtol=CASES["group_norm"].rtol, atol=1e-10, what=f"input {k}")


@pytest.mark.filterwarnings("ignore:Using backward.. with create_graph=True:UserWarning")
def test_grad_from_create_graph_is_not_added_to_in_place():
    # x.grad and y.grad are in the graph; the penalty's pass reads y.grad's array after the
    # first gradient for y arrives, so that one must not be added into it in place
    r = np.random.default_rng(0)
    a, b = r.standard_normal(2), r.standard_normal(2)
    res = {}
    for lib in (gf, torch):
        x, y = (lib.tensor(t.copy(), requires_grad=True) for t in (a, b))
        (x * y * x).sum().backward(create_graph=True)
        ((x.grad * x.grad).sum() + (y.grad * y.grad).sum()).backward()
        res[lib] = (x.grad.detach(), y.grad.detach())
    # d/dx of x^2 y + 4 x^2 y^2 + x^4, and d/dy of x^2 y + 4 x^2 y^2 (at the first pass: 2xy, x^2)
    assert_close(res[gf][0], 2 * a * b + 8 * a * b**2 + 4 * a**3, rtol=1e-12, atol=1e-14)
    assert_close(res[gf][1], a**2 + 8 * a**2 * b, rtol=1e-12, atol=1e-14)
    for got, want in zip(res[gf], res[torch], strict=True):
        assert_close(got, want, rtol=1e-12, atol=1e-14)


def test_dropout_in_one_backward():
    # the mask is random: compare with the same computation written with that mask
    x = gf.tensor(rn(4, 5), requires_grad=True)
    gf.manual_seed(0)
    y = gf.nn.functional.dropout(x * x, 0.5, training=True)
    keep = gf.tensor((y.detach().numpy() != 0) * 2.0)
    for penalty_first in (False, True):
        x.grad = None
        gf.manual_seed(0)  # the same mask again
        y = gf.nn.functional.dropout(x * x, 0.5, training=True)
        f = y.sin().sum()
        (g,) = gf.autograd.grad(f, [x], create_graph=True)
        ((g * g).sum() + f if penalty_first else f + (g * g).sum()).backward()
        xr = x.detach().clone().requires_grad_(True)
        fr = ((xr * xr) * keep).sin().sum()
        (gr,) = gf.autograd.grad(fr, [xr], create_graph=True)
        (fr + (gr * gr).sum()).backward()
        assert_close(x.grad, xr.grad, rtol=1e-10, atol=1e-12)


def _run3(lib: Any, case: Case) -> list[Any]:
    """Third order in one pass: f + |df/dx|^2 + |d|df/dx|^2/dx|^2."""
    F = lib.nn.functional
    xs = [lib.tensor(a.copy(), requires_grad=True) for a in case.arrays]
    cs = [lib.tensor(a.copy()) for a in case.consts]
    fn = case.third if lib is torch and callable(case.third) else case.fn
    out = fn(lib, F, *xs, *cs)
    r = np.random.default_rng(out.numel())
    v = lib.tensor(r.standard_normal(tuple(out.shape)), requires_grad=True)
    f = (out * v).sum()
    g1 = lib.autograd.grad(f, xs, create_graph=True, allow_unused=True)
    p1 = sum((g * g).sum() for g in g1 if g is not None)
    g2 = lib.autograd.grad(p1, xs, create_graph=True, allow_unused=True)
    p2 = sum((g * g).sum() for g in g2 if g is not None)
    (f + p1 + p2).backward()
    return [x.grad for x in xs] + [v.grad]


@pytest.mark.parametrize("name", sorted(CASES))
def test_third_order_penalties_in_one_backward(name):
    case = CASES[name]
    if case.third is False:
        pytest.skip("torch has no third derivative of this op to compare with")
    got = _run3(gf, case)
    want = _run3(torch, case)
    for k, (a, e) in enumerate(zip(got, want, strict=True)):
        what = f"{name} {'v' if k == len(case.arrays) else f'input {k}'}"
        if e is None:
            assert a is None or np.allclose(a.numpy(), 0), what
            continue
        assert a is not None, f"{what}: gradfit gave none"
        assert_close(a, e, rtol=case.rtol, atol=1e-10, what=what)


# Nodes that only a backward_graph records (their own backward_graph runs at the third
# order above) and nodes covered by their own test here.
NOT_AN_OP = {"LinearMap", "_GELUDeriv", "_EmbeddingBackward", "_GetItemBackward", "_Route"}
OWN_TEST = {"_Dropout"}
# Bases never applied as nodes themselves (their subclasses are, and have cases), and
# Select, the output picker of a torch-style Function with several outputs, whose
# backward_graph only raises: such a Function has no double backward to test.
NO_DOUBLE_BACKWARD = {"_Elementwise", "_Unary", "Select"}


def _graph_types(t: Any) -> set[str]:
    seen, stack, names = set(), [t.grad_fn], set()
    while stack:
        fn = stack.pop()
        if fn is None or id(fn) in seen:
            continue
        seen.add(id(fn))
        names.add(type(fn).__name__)
        stack.extend(p for p in fn.parents if isinstance(p, gf.Function))
    return names


def _subclasses(cls: type) -> set[type]:
    out, stack = set(), [cls]
    while stack:
        for sub in stack.pop().__subclasses__():
            if sub not in out:
                out.add(sub)
                stack.append(sub)
    return out


def test_every_op_with_a_double_backward_has_a_case():
    # a guard for new ops: each engine node with a backward_graph appears in some case's graph
    for mod in pkgutil.iter_modules(gf.ops.__path__, "gradfit.ops."):
        importlib.import_module(mod.name)
    importlib.import_module("gradfit.nn.dropout")
    with_bg = {
        c.__name__
        for c in _subclasses(gf.Function)
        if c.__module__.startswith("gradfit.")
        and c.backward_graph is not gf.Function.backward_graph
        and not isinstance(c.__dict__.get("forward"), staticmethod)  # torch-style: CtxNode
    }
    covered = set()
    for case in CASES.values():
        xs = [gf.tensor(a, requires_grad=True) for a in case.arrays]
        covered |= _graph_types(case.fn(gf, gf.nn.functional, *xs, *map(gf.tensor, case.consts)))
    missing = with_bg - covered - NOT_AN_OP - OWN_TEST - NO_DOUBLE_BACKWARD
    assert not missing, (
        f"ops with a backward_graph but no case in {__name__}.CASES: {sorted(missing)}; "
        "add one (see the module docstring)"
    )


def test_grad_used_as_a_constant_then_accumulated_is_never_silently_wrong():
    # x.grad (no graph) used in the next loss while that backward adds to x.grad in place:
    # torch sums into it after every node ran; gradfit adds as gradients arrive, so a node
    # that saved x.grad and runs later must raise, not read the sum
    res = {}
    for lib in (gf, torch):
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        w = lib.tensor([3.0, -1.0], requires_grad=True)
        (x * x).sum().backward()
        g = x.grad
        try:
            ((x * w).sum() + (g * w * x).sum()).backward()
        except RuntimeError as e:
            assert lib is gf and "Mul" in str(e) and "in-place" in str(e)
            continue
        res[lib] = (x.grad, w.grad)
    if gf in res:
        for a, e in zip(res[gf], res[torch], strict=True):
            assert_close(a, e, rtol=1e-12, atol=1e-14)
