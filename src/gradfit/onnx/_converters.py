"""One converter per module type: it appends the ONNX nodes that compute that module.

A converter is ``fn(g, module, names, values) -> names`` where ``g`` is the
:class:`~gradfit.onnx._graph.Graph`, ``names`` the ONNX value names of the module's
inputs and ``values`` the example tensors flowing through it (gradfit's own forward
pass runs beside the export, so converters know every static shape). It returns the
output name, or a tuple of names for a module that returns a tuple (the recurrent
layers). Containers (``Sequential``) and the ready-made models with a custom forward
call :func:`convert` on their children. The lookup walks the module's class hierarchy,
so a subclass of ``Linear`` is exported as a ``Linear``; a class with no converter
(a user's module with its own ``forward``) is refused with ``NotImplementedError``
naming it, unless one is added with :func:`gradfit.onnx.register_converter`.

Example:
    >>> import gradfit as gf
    >>> from gradfit.onnx._converters import CONVERTERS
    >>> gf.nn.Linear in CONVERTERS and gf.nn.Sequential in CONVERTERS
    True
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any, NoReturn

import numpy as np

from gradfit import models as _models
from gradfit import models_sequence as _mseq
from gradfit import nn
from gradfit.nn.module import Module
from gradfit.onnx._graph import Graph
from gradfit.tensor import Tensor

Names = Any  # a str, or a tuple of them for a module that returns a tuple
Converter = Callable[[Graph, Module, list[str], list[Any]], Names]
CONVERTERS: dict[type, Converter] = {}


def converter(*classes: type) -> Callable[[Converter], Converter]:
    """Register ``fn`` as the converter of ``classes`` (and their subclasses)."""

    def deco(fn: Converter) -> Converter:
        for c in classes:
            CONVERTERS[c] = fn
        return fn

    return deco


def find(module: Module) -> Converter:
    """The converter for ``module``'s class, the nearest registered base class's otherwise."""
    for cls in type(module).__mro__:
        if cls in CONVERTERS:
            return CONVERTERS[cls]
        if cls is Module:
            break
    raise NotImplementedError(
        f"gf.onnx.export: no ONNX converter for layer {type(module).__name__} "
        f"({type(module).__module__}.{type(module).__qualname__}); supported layers: "
        f"{', '.join(sorted({c.__name__ for c in CONVERTERS}))}. Add one with "
        "gf.onnx.register_converter, or build the model from supported layers"
    )


def run(module: Module, values: list[Any]) -> Any:
    """Run ``module`` on the example values (no graph is recorded)."""
    from gradfit.autograd import no_grad

    with no_grad():
        return module(*values)


def convert(g: Graph, module: Module, names: list[str], values: list[Any]) -> tuple[Names, Any]:
    """Emit ``module``'s nodes; returns (its output names, its output values)."""
    out = find(module)(g, module, list(names), list(values))
    return out, run(module, values)


def _arr(t: Any) -> np.ndarray:
    return np.asarray(t._data if isinstance(t, Tensor) else t)


def _float_dtype(values: list[Any]) -> Any:
    return _arr(values[0]).dtype if _arr(values[0]).dtype.kind == "f" else np.float32


def _refuse(module: Module, why: str) -> NoReturn:
    raise NotImplementedError(f"gf.onnx.export: {type(module).__name__}: {why}")


def _single(module: Module, names: list[str]) -> str:
    if len(names) != 1:
        _refuse(module, f"exported with one input only, got {len(names)}")
    return names[0]


# ------------------------------------------------------------------------ containers
@converter(nn.Sequential)
def _sequential(g: Graph, m: Module, names: list[str], values: list[Any]) -> Names:
    x, v = names[0] if len(names) == 1 else tuple(names), values
    for child in m:
        x, out = convert(g, child, [x] if isinstance(x, str) else list(x), v)
        v = [out] if not isinstance(out, tuple) else list(out)
    return x


@converter(nn.Identity, nn.Dropout)
def _identity(g: Graph, m: Module, names: list[str], values: list[Any]) -> Names:
    return g.op("Identity", [_single(m, names)])


# ------------------------------------------------------------------------ linear, shape
@converter(nn.Linear)
def _linear(g: Graph, m: Module, names: list[str], values: list[Any]) -> Names:
    wt = np.ascontiguousarray(_arr(m.weight).T)  # (in, out): x @ W^T as one MatMul
    y = g.op("MatMul", [_single(m, names), g.const(wt, "weight_T")])
    if m.bias is not None:
        y = g.op("Add", [y, g.const(m.bias, "bias")])
    return y


@converter(nn.Flatten)
def _flatten(g: Graph, m: Module, names: list[str], values: list[Any]) -> Names:
    shape = _arr(values[0]).shape
    nd = max(len(shape), 1)
    s, e = m.start_dim % nd, m.end_dim % nd
    target = [0] * s + [-1] + list(shape[e + 1 :])
    return g.op("Reshape", [_single(m, names), g.ints(target)])


@converter(nn.Unflatten)
def _unflatten(g: Graph, m: Module, names: list[str], values: list[Any]) -> Names:
    out_shape = _arr(run(m, values)).shape
    shape = _arr(values[0]).shape
    d = m.dim % len(shape)
    sizes = list(out_shape[d : d + len(m.unflattened_size)])
    if d == 0:  # the (dynamic) leading dimension is the one split: keep the -1
        sizes = list(m.unflattened_size)
    target = [0] * d + sizes + list(shape[d + 1 :])
    return g.op("Reshape", [_single(m, names), g.ints(target)])


# ------------------------------------------------------------------------ activations
def _unary(op: str, **attrs: Any) -> Converter:
    def fn(g: Graph, m: Module, names: list[str], values: list[Any]) -> Names:
        return g.op(op, [_single(m, names)], **{k: f(m) for k, f in attrs.items()})

    return fn


converter(nn.ReLU)(_unary("Relu"))
converter(nn.Sigmoid)(_unary("Sigmoid"))
converter(nn.Tanh)(_unary("Tanh"))
converter(nn.LeakyReLU)(_unary("LeakyRelu", alpha=lambda m: float(m.negative_slope)))
converter(nn.ELU)(_unary("Elu", alpha=lambda m: float(m.alpha)))


def _scalar(g: Graph, value: float, dtype: Any) -> str:
    return g.const(np.asarray(value, dtype=dtype), "scalar")


def gelu(g: Graph, x: str, approximate: str, dtype: Any) -> str:
    """GELU from primitives (opset 17 has no Gelu op): exact via Erf, or the tanh form."""
    half = g.op("Mul", [x, _scalar(g, 0.5, dtype)])
    if approximate == "tanh":
        x3 = g.op("Mul", [g.op("Mul", [x, x]), x])
        inner = g.op("Add", [x, g.op("Mul", [x3, _scalar(g, 0.044715, dtype)])])
        t = g.op("Tanh", [g.op("Mul", [inner, _scalar(g, math.sqrt(2 / math.pi), dtype)])])
    else:
        t = g.op("Erf", [g.op("Mul", [x, _scalar(g, 1 / math.sqrt(2), dtype)])])
    return g.op("Mul", [half, g.op("Add", [t, _scalar(g, 1.0, dtype)])])


@converter(nn.GELU)
def _gelu(g: Graph, m: Module, names: list[str], values: list[Any]) -> Names:
    return gelu(g, _single(m, names), m.approximate, _float_dtype(values))


@converter(nn.SiLU)
def _silu(g: Graph, m: Module, names: list[str], values: list[Any]) -> Names:
    x = _single(m, names)
    return g.op("Mul", [x, g.op("Sigmoid", [x])])


@converter(nn.Softplus)
def _softplus(g: Graph, m: Module, names: list[str], values: list[Any]) -> Names:
    x, dt = _single(m, names), _float_dtype(values)
    bx = g.op("Mul", [x, _scalar(g, m.beta, dt)])
    soft = g.op("Div", [g.op("Softplus", [bx]), _scalar(g, m.beta, dt)])
    linear = g.op("Greater", [bx, _scalar(g, m.threshold, dt)])
    return g.op("Where", [linear, x, soft])


def _softmax_dim(m: Module, values: list[Any]) -> int:
    if m.dim is not None:
        return int(m.dim)
    return 0 if _arr(values[0]).ndim in (0, 1, 3) else 1  # torch's legacy implicit dim


@converter(nn.Softmax)
def _softmax(g: Graph, m: Module, names: list[str], values: list[Any]) -> Names:
    return g.op("Softmax", [_single(m, names)], axis=_softmax_dim(m, values))


@converter(nn.LogSoftmax)
def _log_softmax(g: Graph, m: Module, names: list[str], values: list[Any]) -> Names:
    return g.op("LogSoftmax", [_single(m, names)], axis=_softmax_dim(m, values))


# ------------------------------------------------------------------------ conv, pool
def _tup(v: Any, n: int) -> list[int]:
    return [int(i) for i in v] if isinstance(v, (tuple, list)) else [int(v)] * n


def _batched(m: Module, values: list[Any], n: int) -> None:
    if _arr(values[0]).ndim != n + 2:
        _refuse(m, f"only batched input (N, C, {'L' if n == 1 else 'H, W'}) is exported")


@converter(nn.Conv1d, nn.Conv2d)
def _conv(g: Graph, m: Module, names: list[str], values: list[Any]) -> Names:
    n = len(m.kernel_size)
    _batched(m, values, n)
    if m.padding == "same":
        total = [d * (k - 1) for d, k in zip(m.dilation, m.kernel_size, strict=True)]
        pads = [t // 2 for t in total] + [t - t // 2 for t in total]
    elif m.padding == "valid":
        pads = [0] * (2 * n)
    else:
        pads = _tup(m.padding, n) * 2
    inputs = [_single(m, names), g.const(m.weight, "weight")]
    if m.bias is not None:
        inputs.append(g.const(m.bias, "bias"))
    return g.op(
        "Conv", inputs, kernel_shape=list(m.kernel_size), strides=list(m.stride),
        dilations=list(m.dilation), group=int(m.groups), pads=pads,
    )  # fmt: skip


@converter(nn.MaxPool1d, nn.MaxPool2d)
def _max_pool(g: Graph, m: Module, names: list[str], values: list[Any]) -> Names:
    n = m._nsp
    _batched(m, values, n)
    return g.op(
        "MaxPool", [_single(m, names)], kernel_shape=_tup(m.kernel_size, n),
        strides=_tup(m.stride, n), pads=_tup(m.padding, n) * 2, dilations=_tup(m.dilation, n),
        ceil_mode=int(m.ceil_mode),
    )  # fmt: skip


@converter(nn.AvgPool1d, nn.AvgPool2d)
def _avg_pool(g: Graph, m: Module, names: list[str], values: list[Any]) -> Names:
    n = m._nsp
    _batched(m, values, n)
    if getattr(m, "divisor_override", None) is not None:
        _refuse(m, "divisor_override has no ONNX equivalent")
    return g.op(
        "AveragePool", [_single(m, names)], kernel_shape=_tup(m.kernel_size, n),
        strides=_tup(m.stride, n), pads=_tup(m.padding, n) * 2, ceil_mode=int(m.ceil_mode),
        count_include_pad=int(m.count_include_pad),
    )  # fmt: skip


@converter(nn.AdaptiveAvgPool2d)
def _adaptive_avg_pool(g: Graph, m: Module, names: list[str], values: list[Any]) -> Names:
    _batched(m, values, 2)
    x = _single(m, names)
    size = _arr(values[0]).shape[2:]
    out = m.output_size if isinstance(m.output_size, (tuple, list)) else (m.output_size,) * 2
    out = [s if o is None else o for s, o in zip(size, out, strict=True)]
    if out == [1, 1]:
        return g.op("GlobalAveragePool", [x])
    if any(s % o for s, o in zip(size, out, strict=True)):
        _refuse(
            m, f"output size {tuple(out)} does not divide the input size {tuple(size)}; "
            "only evenly divisible sizes map to an ONNX AveragePool",
        )  # fmt: skip
    k = [s // o for s, o in zip(size, out, strict=True)]
    return g.op("AveragePool", [x], kernel_shape=k, strides=k)


# ------------------------------------------------------------------------ norm, embedding
@converter(nn.BatchNorm1d, nn.BatchNorm2d)
def _batch_norm(g: Graph, m: Module, names: list[str], values: list[Any]) -> Names:
    if not m.track_running_stats or m.running_mean is None:
        _refuse(m, "track_running_stats=False normalises with batch statistics in eval mode")
    dt, c = _arr(m.running_mean).dtype, m.num_features
    scale = _arr(m.weight) if m.weight is not None else np.ones(c, dt)
    shift = _arr(m.bias) if getattr(m, "bias", None) is not None else np.zeros(c, dt)
    x = _single(m, names)
    args = [g.const(a, p) for a, p in ((scale, "scale"), (shift, "shift"))]
    args += [g.const(m.running_mean, "mean"), g.const(m.running_var, "var")]
    if _arr(values[0]).ndim == 1:
        _refuse(m, "only batched input is exported")
    return g.op("BatchNormalization", [x, *args], epsilon=float(m.eps))


def layer_norm(g: Graph, m: Module, x: str, values: list[Any]) -> str:
    """A LayerNormalization node for ``m`` (ones/zeros when it has no affine weights)."""
    shape, dt = tuple(m.normalized_shape), _float_dtype(values)
    scale = _arr(m.weight) if m.weight is not None else np.ones(shape, dt)
    shift = _arr(m.bias) if getattr(m, "bias", None) is not None else np.zeros(shape, dt)
    args = [x, g.const(scale, "ln_scale"), g.const(shift, "ln_shift")]
    return g.op("LayerNormalization", args, axis=-len(shape), epsilon=float(m.eps))


@converter(nn.LayerNorm)
def _layer_norm(g: Graph, m: Module, names: list[str], values: list[Any]) -> Names:
    return layer_norm(g, m, _single(m, names), values)


@converter(nn.Embedding)
def _embedding(g: Graph, m: Module, names: list[str], values: list[Any]) -> Names:
    if getattr(m, "max_norm", None) is not None:
        _refuse(m, "max_norm renormalises the table while looking up; not exportable")
    return g.op("Gather", [g.const(m.weight, "table"), _single(m, names)], axis=0)


# ------------------------------------------------------------------------ recurrent
_GATE_ORDER = {"LSTM": [0, 3, 1, 2], "GRU": [1, 0, 2], "RNN_TANH": [0], "RNN_RELU": [0]}
_ONNX_OP = {"LSTM": "LSTM", "GRU": "GRU", "RNN_TANH": "RNN", "RNN_RELU": "RNN"}


def _gates(w: np.ndarray, mode: str) -> np.ndarray:
    """torch's gate blocks (LSTM i,f,g,o; GRU r,z,n) in ONNX's order (i,o,f,c; z,r,h)."""
    blocks = np.split(w, len(_GATE_ORDER[mode]), axis=0)
    return np.concatenate([blocks[i] for i in _GATE_ORDER[mode]], axis=0)


def recurrent(g: Graph, m: Module, x: str, values: list[Any]) -> tuple[str, str, str | None]:
    """Nodes for an ``RNN``/``GRU``/``LSTM`` on time-major ``x`` ``(T, N, I)``.

    Returns (output ``(T, N, D*H)``, h_n ``(L*D, N, H)``, c_n or None).
    """
    if m.proj_size:
        _refuse(m, "proj_size has no ONNX equivalent")
    mode, hs = m.mode, m.hidden_size
    dirs = 2 if m.bidirectional else 1
    op, gates = _ONNX_OP[mode], len(_GATE_ORDER[mode])
    dt = _arr(m.weight_ih_l0).dtype
    hs_n, cs_n = [], []
    for layer in range(m.num_layers):
        ws, rs, bs = [], [], []
        for d in range(dirs):
            sfx = f"_l{layer}" + ("_reverse" if d else "")
            ws.append(_gates(_arr(getattr(m, "weight_ih" + sfx)), mode))
            rs.append(_gates(_arr(getattr(m, "weight_hh" + sfx)), mode))
            if m.bias:
                bi, bh = (_gates(_arr(getattr(m, b + sfx)), mode) for b in ("bias_ih", "bias_hh"))
            else:
                bi = bh = np.zeros(gates * hs, dt)
            bs.append(np.concatenate([bi, bh]))
        inputs = [x, g.const(np.stack(ws), "W"), g.const(np.stack(rs), "R")]
        inputs.append(g.const(np.stack(bs), "B"))
        attrs: dict[str, Any] = {"hidden_size": hs}
        if dirs == 2:
            attrs["direction"] = "bidirectional"
        if op == "GRU":
            attrs["linear_before_reset"] = 1  # torch applies r after the hidden projection
        if op == "RNN":
            attrs["activations"] = ["Relu" if mode == "RNN_RELU" else "Tanh"] * dirs
        outs = g.op(op, inputs, n_out=3 if op == "LSTM" else 2, **attrs)
        y = g.op("Transpose", [outs[0]], perm=[0, 2, 1, 3])  # (T, D, N, H) -> (T, N, D, H)
        x = g.op("Reshape", [y, g.ints([0, 0, -1])])
        hs_n.append(outs[1])
        if op == "LSTM":
            cs_n.append(outs[2])
    h = hs_n[0] if len(hs_n) == 1 else g.op("Concat", hs_n, axis=0)
    c = None
    if cs_n:
        c = cs_n[0] if len(cs_n) == 1 else g.op("Concat", cs_n, axis=0)
    return x, h, c


@converter(nn.RNN, nn.GRU, nn.LSTM)
def _rnn(g: Graph, m: Module, names: list[str], values: list[Any]) -> Names:
    if len(names) != 1:
        _refuse(m, "exported without an initial state (hx) only")
    if _arr(values[0]).ndim != 3:
        _refuse(m, "only batched input (3-D) is exported")
    x = names[0]
    if m.batch_first:
        x = g.op("Transpose", [x], perm=[1, 0, 2])
    y, h, c = recurrent(g, m, x, values)
    if m.batch_first:
        y = g.op("Transpose", [y], perm=[1, 0, 2])
    return (y, (h, c)) if c is not None else (y, h)


# ------------------------------------------------------------------------ attention
def attention(
    g: Graph,
    m: Module,
    q: str,
    k: str,
    v: str,
    values: list[Any],
    mask: Any,
    need_weights: bool = False,
) -> Any:
    """Nodes for ``MultiheadAttention(q, k, v, attn_mask=mask)``; ``mask`` a constant or None.

    Returns the output, or (output, weights averaged over the heads) with ``need_weights``.
    """  # fmt: skip
    if m.bias_k is not None or m.add_zero_attn:
        _refuse(m, "add_bias_kv and add_zero_attn are not exported")
    e, h, hd = m.embed_dim, m.num_heads, m.head_dim
    dt = _arr(m.out_proj.weight).dtype
    if not m.batch_first:  # (L, N, E) -> (N, L, E)
        q, k, v = (g.op("Transpose", [t], perm=[1, 0, 2]) for t in (q, k, v))
    b = None if m.in_proj_bias is None else _arr(m.in_proj_bias)
    if m._qkv_same_embed_dim:
        w = _arr(m.in_proj_weight)
        ws = [w[i * e : (i + 1) * e] for i in range(3)]
    else:
        ws = [_arr(getattr(m, f"{c}_proj_weight")) for c in "qkv"]
    heads = []
    for i, t in enumerate((q, k, v)):
        y = g.op("MatMul", [t, g.const(np.ascontiguousarray(ws[i].T), "w")])
        if b is not None:
            y = g.op("Add", [y, g.const(b[i * e : (i + 1) * e], "b")])
        y = g.op("Reshape", [y, g.ints([0, 0, h, hd])])  # (N, L, H, hd)
        heads.append(g.op("Transpose", [y], perm=[0, 2, 3, 1] if i == 1 else [0, 2, 1, 3]))
    qs = g.op("Mul", [heads[0], _scalar(g, 1 / math.sqrt(hd), dt)])
    scores = g.op("MatMul", [qs, heads[1]])  # (N, H, L, S)
    if mask is not None:
        mk = _arr(mask)
        if mk.dtype == np.bool_:
            mk = np.where(mk, -np.inf, 0.0)
        scores = g.op("Add", [scores, g.const(mk.astype(dt), "mask")])
    probs = g.op("Softmax", [scores], axis=-1)
    att = g.op("MatMul", [probs, heads[2]])  # (N, H, L, hd)
    y = g.op("Reshape", [g.op("Transpose", [att], perm=[0, 2, 1, 3]), g.ints([0, 0, e])])
    y = _linear(g, m.out_proj, [y], values)
    if not m.batch_first:
        y = g.op("Transpose", [y], perm=[1, 0, 2])
    if not need_weights:
        return y
    if g.opset < 18:  # ReduceMean's axes became an input in opset 18
        avg = g.op("ReduceMean", [probs], axes=[1], keepdims=0)
    else:
        avg = g.op("ReduceMean", [probs, g.ints([1])], keepdims=0)
    return y, avg


def self_attention(g: Graph, m: Module, x: str, values: list[Any], mask: Any) -> str:
    """``MultiheadAttention(x, x, x, attn_mask=mask)`` without weights."""
    return attention(g, m, x, x, x, values, mask)


def _activation_fn(g: Graph, m: Module, values: list[Any]) -> Callable[[str], str]:
    from gradfit.nn import functional as F

    if m.activation is F.relu:
        return lambda y: g.op("Relu", [y])
    if m.activation is F.gelu:
        return lambda y: gelu(g, y, "none", _arr(m.linear1.weight).dtype)
    _refuse(m, "only the 'relu' and 'gelu' activations are exported")


def _ff(g: Graph, m: Module, y: str, values: list[Any]) -> str:
    y = _activation_fn(g, m, values)(_linear(g, m.linear1, [y], values))
    return _linear(g, m.linear2, [y], values)


def encoder_layer(g: Graph, m: Module, x: str, values: list[Any], mask: Any) -> str:
    """Nodes for a ``TransformerEncoderLayer`` (relu or gelu, norm first or last)."""

    def sa(y: str) -> str:
        return self_attention(g, m.self_attn, y, values, mask)

    if m.norm_first:
        x = g.op("Add", [x, sa(layer_norm(g, m.norm1, x, values))])
        return g.op("Add", [x, _ff(g, m, layer_norm(g, m.norm2, x, values), values)])
    x = layer_norm(g, m.norm1, g.op("Add", [x, sa(x)]), values)
    return layer_norm(g, m.norm2, g.op("Add", [x, _ff(g, m, x, values)]), values)


def decoder_layer(g: Graph, m: Module, x: str, mem: str, values: list[Any]) -> str:
    """Nodes for a ``TransformerDecoderLayer`` (no masks)."""

    def sa(y: str) -> str:
        return self_attention(g, m.self_attn, y, values, None)

    def ca(y: str) -> str:
        return attention(g, m.multihead_attn, y, mem, mem, values, None)

    if m.norm_first:
        x = g.op("Add", [x, sa(layer_norm(g, m.norm1, x, values))])
        x = g.op("Add", [x, ca(layer_norm(g, m.norm2, x, values))])
        return g.op("Add", [x, _ff(g, m, layer_norm(g, m.norm3, x, values), values)])
    x = layer_norm(g, m.norm1, g.op("Add", [x, sa(x)]), values)
    x = layer_norm(g, m.norm2, g.op("Add", [x, ca(x)]), values)
    return layer_norm(g, m.norm3, g.op("Add", [x, _ff(g, m, x, values)]), values)


def _batched3(m: Module, values: list[Any]) -> None:
    if any(_arr(v).ndim != 3 for v in values):
        _refuse(m, "only batched input (3-D) is exported")


@converter(nn.TransformerEncoderLayer)
def _encoder_layer(g: Graph, m: Module, names: list[str], values: list[Any]) -> Names:
    _batched3(m, values)
    return encoder_layer(g, m, _single(m, names), values, None)


def encoder(g: Graph, m: Module, x: str, values: list[Any], mask: Any) -> str:
    """Nodes for a ``TransformerEncoder`` (its layers, then its optional norm)."""
    for layer in m.layers:
        x = encoder_layer(g, layer, x, values, mask)
    return layer_norm(g, m.norm, x, values) if m.norm is not None else x


@converter(nn.TransformerEncoder)
def _encoder(g: Graph, m: Module, names: list[str], values: list[Any]) -> Names:
    _batched3(m, values)
    return encoder(g, m, _single(m, names), values, None)


def _two(m: Module, names: list[str], what: str) -> tuple[str, str]:
    if len(names) != 2:
        _refuse(m, f"exported with two inputs ({what}) and no masks, got {len(names)}")
    return names[0], names[1]


@converter(nn.TransformerDecoderLayer)
def _decoder_layer(g: Graph, m: Module, names: list[str], values: list[Any]) -> Names:
    _batched3(m, values)
    return decoder_layer(g, m, *_two(m, names, "tgt, memory"), values)


def decoder(g: Graph, m: Module, x: str, mem: str, values: list[Any]) -> str:
    """Nodes for a ``TransformerDecoder`` (its layers, then its optional norm)."""
    for layer in m.layers:
        x = decoder_layer(g, layer, x, mem, values)
    return layer_norm(g, m.norm, x, values) if m.norm is not None else x


@converter(nn.TransformerDecoder)
def _decoder(g: Graph, m: Module, names: list[str], values: list[Any]) -> Names:
    _batched3(m, values)
    return decoder(g, m, *_two(m, names, "tgt, memory"), values)


@converter(nn.Transformer)
def _transformer(g: Graph, m: Module, names: list[str], values: list[Any]) -> Names:
    _batched3(m, values)
    src, tgt = _two(m, names, "src, tgt")
    mem, mem_value = convert(g, m.encoder, [src], values[:1])
    dec, _ = convert(g, m.decoder, [tgt, mem], [values[1], mem_value])
    return dec


@converter(nn.MultiheadAttention)
def _mha(g: Graph, m: Module, names: list[str], values: list[Any]) -> Names:
    if len(names) != 3:
        _refuse(m, f"exported with three inputs (query, key, value) and no masks, got {len(names)}")
    _batched3(m, values)
    return attention(g, m, *names, values, None, need_weights=True)


# ------------------------------------------------------------------------ ready-made models
@converter(_models.CNN)
def _cnn(g: Graph, m: Module, names: list[str], values: list[Any]) -> Names:
    x, v = _single(m, names), _arr(values[0])
    c, h, w = m.input_shape
    if v.ndim in (2, 3):
        x = g.op("Reshape", [x, g.ints([-1, c, h, w])])
    x4 = Tensor._wrap(v.reshape(v.shape[0], c, h, w))
    x, out = convert(g, m.features, [x], [x4])
    return convert(g, m.classifier, [x], [out])[0]


@converter(_models.CNN1d)
def _cnn1d(g: Graph, m: Module, names: list[str], values: list[Any]) -> Names:
    x, v = _single(m, names), _arr(values[0])
    if v.ndim == 2:
        x = g.op("Reshape", [x, g.ints([-1, 1, m.in_length])])
        values = [Tensor._wrap(v.reshape(v.shape[0], 1, m.in_length))]
    for conv in (m.conv1, m.conv2, m.conv3):
        x, out = convert(g, conv, [x], values)
        x, values = g.op("Relu", [x]), [out.relu()]
    x = g.op("Reshape", [x, g.ints([0, -1])])
    return _linear(g, m.linear, [x], values)


@converter(_models.MatrixFactorization)
def _matrix_factorization(g: Graph, m: Module, names: list[str], values: list[Any]) -> Names:
    if len(names) == 1:
        pairs = names[0]
        users, items = (
            g.op("Gather", [pairs, g.const(np.int64(i), "col")], axis=1) for i in (0, 1)
        )
    else:
        users, items = names
    dot = g.op(
        "Mul",
        [_embedding(g, m.user_factors, [users], []), _embedding(g, m.item_factors, [items], [])],
    )
    dot = g.op("ReduceSum", [dot, g.ints([-1])], keepdims=0)
    bias = g.op(
        "Add", [_embedding(g, m.user_bias, [users], []), _embedding(g, m.item_bias, [items], [])]
    )
    bias = g.op("Reshape", [bias, g.ints([-1])])
    return g.op("Add", [g.op("Add", [dot, bias]), g.const(m.global_bias, "global_bias")])


@converter(_mseq.RecurrentClassifier)
def _recurrent_classifier(g: Graph, m: Module, names: list[str], values: list[Any]) -> Names:
    x, v, f = _single(m, names), _arr(values[0]), m.in_features
    if v.ndim == 2 and f == 1:
        x = g.op("Unsqueeze", [x, g.ints([-1])])
    elif v.ndim == 3 and v.shape[1] == f and v.shape[2] != f:
        x = g.op("Transpose", [x], perm=[0, 2, 1])
    x = g.op("Transpose", [x], perm=[1, 0, 2])  # (T, N, F): the ONNX ops' layout
    _, h, _ = recurrent(g, m.rnn, x, values)
    last = g.op("Gather", [h, g.const(np.int64(-1), "last")], axis=0)
    return _linear(g, m.linear, [last], values)


@converter(_mseq.CharLM)
def _char_lm(g: Graph, m: Module, names: list[str], values: list[Any]) -> Names:
    x = _single(m, names)
    if m.arch == "bigram":
        last = g.op("Gather", [x, g.const(np.int64(-1), "last")], axis=1)
        return _embedding(g, m.table, [last], values)
    e = _embedding(g, m.embed, [x], values)  # (N, T, E)
    if m.arch == "mlp":
        hid = _linear(g, m.hidden, [g.op("Reshape", [e, g.ints([0, -1])])], values)
        return _linear(g, m.out, [g.op("Tanh", [hid])], values)
    if m.arch in ("rnn", "gru"):
        _, h, _ = recurrent(g, m.rnn, g.op("Transpose", [e], perm=[1, 0, 2]), values)
        return _linear(
            g, m.out, [g.op("Gather", [h, g.const(np.int64(-1), "last")], axis=0)], values
        )
    h = g.op("Add", [e, g.const(m.pos.weight, "pos")])  # pos(arange(T)) is the whole table
    h = encoder(g, m.blocks, h, values, m._mask)
    h = g.op("Gather", [h, g.const(np.int64(-1), "last")], axis=1)
    return _linear(g, m.out, [layer_norm(g, m.norm, h, values)], values)
