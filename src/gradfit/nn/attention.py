"""Attention: ``F.scaled_dot_product_attention`` and ``nn.MultiheadAttention``, as in PyTorch.

Scaled dot-product attention mixes the values ``V`` with weights that say how well each
query matches each key: ``softmax(Q K^T / sqrt(d) + bias) V``. Masks enter as the bias:
``-inf`` where a query may not look (a boolean ``attn_mask`` is True where it *may*, as in
PyTorch's ``scaled_dot_product_attention``), ``is_causal`` hides the future. A query that
may look nowhere gets zeros, as PyTorch 2.13 gives (not NaN).

``MultiheadAttention`` projects queries, keys and values, runs ``num_heads`` attentions of
width ``embed_dim / num_heads`` side by side and projects their concatenation back. Its
parameters (``in_proj_weight``, ``in_proj_bias``, ``out_proj.weight``, ...), masks (a
boolean ``attn_mask``/``key_padding_mask`` is True where attention is *not* allowed, as in
PyTorch's ``MultiheadAttention``) and outputs follow PyTorch, so weights load one to one.

Example:
    >>> import gradfit as gf
    >>> import gradfit.nn.functional as F
    >>> q = k = v = gf.randn(2, 4, 8)   # (batch, sequence, features)
    >>> F.scaled_dot_product_attention(q, k, v, is_causal=True).shape
    (2, 4, 8)
    >>> mha = gf.nn.MultiheadAttention(8, num_heads=2, batch_first=True)
    >>> out, w = mha(q, k, v)
    >>> out.shape, w.shape
    ((2, 4, 8), (2, 4, 4))
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from gradfit import backend
from gradfit.nn import init
from gradfit.nn.linear import Linear
from gradfit.nn.module import Module, Parameter
from gradfit.tensor import Tensor


def _bias_from_mask(
    mask: Tensor | None, allowed_when_true: bool, dtype: np.dtype, who: str
) -> np.ndarray | None:
    """A boolean or float mask as an additive float bias (0 or -inf for booleans)."""
    if mask is None:
        return None
    if not isinstance(mask, Tensor):
        mask = Tensor(np.asarray(mask))
    arr = mask._data
    if arr.dtype == np.bool_:
        keep = arr if allowed_when_true else ~arr
        return np.where(keep, 0.0, -np.inf).astype(dtype)
    if arr.dtype.kind != "f":
        raise TypeError(f"{who}: a mask must be bool or float, got {arr.dtype}")
    return arr.astype(dtype, copy=False)


def _fusable(*ts: Tensor) -> bool:
    """Whether the fused attention op takes these: floating, no empty dimension."""
    dt = ts[0]._data.dtype
    return all(t._data.dtype == dt and dt.kind == "f" and t._data.size > 0 for t in ts)


def _attend(
    q: Tensor,
    k: Tensor,
    v: Tensor,
    bias: np.ndarray | None,
    dropout_p: float,
    scale: float,
    training: bool = True,
    need_weights: bool = True,
) -> tuple[Tensor, Tensor | None]:
    """``softmax(q k^T * scale + bias) v`` and the weights; rows with no allowed key give 0.

    Without dropout and with no weights asked for (``need_weights=False``), one fused op
    (:func:`gradfit.ops.attention.attention`) and no weights (None)."""
    from gradfit.nn.functional import dropout
    from gradfit.ops.softmax import softmax

    if not need_weights and (dropout_p == 0 or not training) and _fusable(q, k, v):
        from gradfit.ops.attention import attention

        return attention(q, k, v, bias, scale), None

    scores = (q @ k.transpose(-2, -1)) * scale
    dead = None
    if bias is not None:
        dead = np.isneginf(bias).all(axis=-1, keepdims=True)  # no key allowed at all
        if dead.any():
            bias = np.where(dead, 0.0, bias).astype(bias.dtype)
        else:
            dead = None
        scores = scores + Tensor._wrap(bias)
    w = softmax(scores, -1)
    if dead is not None:
        w = w * Tensor._wrap((~dead).astype(w.dtype))
    if dropout_p > 0 and training:
        w = dropout(w, dropout_p, training=True)
    return w @ v, w


def scaled_dot_product_attention(
    query: Tensor,
    key: Tensor,
    value: Tensor,
    attn_mask: Tensor | None = None,
    dropout_p: float = 0.0,
    is_causal: bool = False,
    scale: float | None = None,
    enable_gqa: bool = False,
) -> Tensor:
    """Attention of ``query (..., L, E)`` over ``key (..., S, E)`` and ``value (..., S, Ev)``.

    Args:
        query, key, value: tensors whose leading dimensions broadcast.
        attn_mask: broadcastable to ``(..., L, S)``; boolean True where a query may attend,
            or a float bias added to the scores.
        dropout_p: dropout on the attention weights (always applied when > 0, as PyTorch;
            pass 0.0 in evaluation).
        is_causal: query ``i`` sees keys ``0..i`` only (a lower-triangular mask); not with
            ``attn_mask``.
        scale: multiplies ``Q K^T`` (default ``1/sqrt(E)``).
        enable_gqa: grouped-query attention: key/value heads (dimension -3) are repeated to
            match the query's heads.

    Returns:
        ``(..., L, Ev)``.

    Example:
        >>> import gradfit as gf
        >>> q = gf.randn(1, 2, 3, 4); kv = gf.randn(1, 2, 5, 4)
        >>> mask = gf.ones(3, 5, dtype="bool")
        >>> scaled_dot_product_attention(q, kv, kv, attn_mask=mask).shape
        (1, 2, 3, 4)
    """
    who = "scaled_dot_product_attention"
    for name, t in (("query", query), ("key", key), ("value", value)):
        if not isinstance(t, Tensor):
            raise TypeError(f"{who}: {name} must be a Tensor, got {type(t).__name__}")
        if t.ndim < 2:
            raise ValueError(f"{who}: {name} must have at least 2 dimensions, got {t.ndim}")
    if query.shape[-1] != key.shape[-1]:
        raise RuntimeError(
            f"{who}: query and key must have the same last dimension, got {tuple(query.shape)} "
            f"and {tuple(key.shape)}"
        )
    if key.shape[-2] != value.shape[-2]:
        raise RuntimeError(
            f"{who}: key and value must have the same sequence length, got {tuple(key.shape)} "
            f"and {tuple(value.shape)}"
        )
    if not 0.0 <= dropout_p <= 1.0:
        raise ValueError(f"{who}: dropout_p must be in [0, 1], got {dropout_p}")
    if is_causal and attn_mask is not None:
        raise RuntimeError(f"{who}: Explicit attn_mask should not be set when is_causal=True")
    if enable_gqa and query.ndim >= 3 and key.shape[-3] != query.shape[-3]:
        hq, hk = query.shape[-3], key.shape[-3]
        if hq % hk:
            raise RuntimeError(
                f"{who}: with enable_gqa the query heads ({hq}) must be a multiple of the key "
                f"heads ({hk})"
            )
        from gradfit.ops.shape import cat

        rep = hq // hk
        key = cat([key[..., i : i + 1, :, :] for i in range(hk) for _ in range(rep)], -3)
        value = cat([value[..., i : i + 1, :, :] for i in range(hk) for _ in range(rep)], -3)
    L, S = query.shape[-2], key.shape[-2]
    dt = query.dtype
    bias = None
    if is_causal:
        bias = np.where(np.tril(np.ones((L, S), dtype=bool)), 0.0, -np.inf).astype(dt)
    if attn_mask is not None:
        bias = _bias_from_mask(attn_mask, True, dt, who)
        try:
            np.broadcast_shapes(bias.shape, (*query.shape[:-1], S))
        except ValueError:
            raise RuntimeError(
                f"{who}: attn_mask of shape {tuple(bias.shape)} cannot be broadcast to the "
                f"attention weights' shape {(*query.shape[:-1], S)}"
            ) from None
    sc = 1.0 / math.sqrt(query.shape[-1]) if scale is None else float(scale)
    out, _ = _attend(query, key, value, bias, float(dropout_p), sc, need_weights=False)
    return out


class NonDynamicallyQuantizableLinear(Linear):
    """A ``Linear`` under the name PyTorch gives ``MultiheadAttention.out_proj`` (same repr).

    Example:
        >>> import gradfit as gf
        >>> NonDynamicallyQuantizableLinear(2, 2)
        NonDynamicallyQuantizableLinear(in_features=2, out_features=2, bias=True)
    """


class MultiheadAttention(Module):
    """Multi-head attention (PyTorch's ``nn.MultiheadAttention``: same parameters and masks).

    Args:
        embed_dim: model width ``E`` (of queries and outputs).
        num_heads: parallel heads; ``E`` must be divisible by it.
        dropout: dropout on the attention weights in training.
        bias: biases in the input and output projections.
        add_bias_kv: learn a bias key and value appended to the sequences.
        add_zero_attn: append a zero key and value.
        kdim, vdim: widths of keys and values (default ``E``; different widths give
            separate ``q_proj_weight``/``k_proj_weight``/``v_proj_weight``).
        batch_first: inputs and outputs are ``(N, L, E)`` instead of ``(L, N, E)``.

    Forward: ``(query, key, value, key_padding_mask=None, need_weights=True,
    attn_mask=None, average_attn_weights=True, is_causal=False)`` returns ``(output,
    weights)``; ``weights`` is ``(N, L, S)`` averaged over heads (``(N, H, L, S)``
    otherwise), None when ``need_weights=False``. Boolean masks are True where attention
    is *not* allowed; float masks are added to the scores. ``is_causal`` is a hint, as in
    PyTorch: give the causal ``attn_mask`` too.

    Example:
        >>> import gradfit as gf
        >>> mha = gf.nn.MultiheadAttention(6, 3)
        >>> x = gf.randn(5, 2, 6)   # (L, N, E)
        >>> out, w = mha(x, x, x, average_attn_weights=False)
        >>> out.shape, w.shape
        ((5, 2, 6), (2, 3, 5, 5))
    """

    def __init__(
        self,
        embed_dim: int,
        num_heads: int,
        dropout: float = 0.0,
        bias: bool = True,
        add_bias_kv: bool = False,
        add_zero_attn: bool = False,
        kdim: int | None = None,
        vdim: int | None = None,
        batch_first: bool = False,
        device: Any = None,
        dtype: Any = None,
    ) -> None:
        super().__init__()
        if device is not None and str(device) not in ("cpu", "cpu:0"):
            raise RuntimeError(
                f"MultiheadAttention: gradfit runs on the CPU only, got device={device!r}"
            )
        if embed_dim <= 0 or num_heads <= 0:
            raise ValueError(
                f"embed_dim and num_heads must be greater than 0, got embed_dim={embed_dim} and "
                f"num_heads={num_heads} instead"
            )
        if embed_dim % num_heads:
            raise AssertionError("embed_dim must be divisible by num_heads")
        dt = backend.default_float if dtype is None else backend.to_dtype(dtype)
        self.embed_dim = embed_dim
        self.kdim = kdim if kdim is not None else embed_dim
        self.vdim = vdim if vdim is not None else embed_dim
        self._qkv_same_embed_dim = self.kdim == embed_dim and self.vdim == embed_dim
        self.num_heads = num_heads
        self.dropout = dropout
        self.batch_first = batch_first
        self.head_dim = embed_dim // num_heads
        self.add_zero_attn = add_zero_attn

        def p(*shape: int) -> Parameter:
            return Parameter(Tensor._wrap(np.empty(shape, dt)))

        if self._qkv_same_embed_dim:
            self.in_proj_weight = p(3 * embed_dim, embed_dim)
            self.register_parameter("q_proj_weight", None)
            self.register_parameter("k_proj_weight", None)
            self.register_parameter("v_proj_weight", None)
        else:
            self.q_proj_weight = p(embed_dim, embed_dim)
            self.k_proj_weight = p(embed_dim, self.kdim)
            self.v_proj_weight = p(embed_dim, self.vdim)
            self.register_parameter("in_proj_weight", None)
        if bias:
            self.in_proj_bias = p(3 * embed_dim)
        else:
            self.register_parameter("in_proj_bias", None)
        self.out_proj = NonDynamicallyQuantizableLinear(embed_dim, embed_dim, bias=bias, dtype=dt)
        if add_bias_kv:
            self.bias_k = p(1, 1, embed_dim)
            self.bias_v = p(1, 1, embed_dim)
        else:
            self.bias_k = self.bias_v = None
        self._reset_parameters()

    def _reset_parameters(self) -> None:
        if self._qkv_same_embed_dim:
            init.xavier_uniform_(self.in_proj_weight)
        else:
            init.xavier_uniform_(self.q_proj_weight)
            init.xavier_uniform_(self.k_proj_weight)
            init.xavier_uniform_(self.v_proj_weight)
        if self.in_proj_bias is not None:
            init.zeros_(self.in_proj_bias)
            init.zeros_(self.out_proj.bias)
        if self.bias_k is not None:
            init.xavier_normal_(self.bias_k)
            init.xavier_normal_(self.bias_v)

    def forward(
        self,
        query: Tensor,
        key: Tensor,
        value: Tensor,
        key_padding_mask: Tensor | None = None,
        need_weights: bool = True,
        attn_mask: Tensor | None = None,
        average_attn_weights: bool = True,
        is_causal: bool = False,
    ) -> tuple[Tensor, Tensor | None]:
        from gradfit.ops.linear import linear
        from gradfit.ops.shape import cat

        who = "MultiheadAttention"
        for name, t in (("query", query), ("key", key), ("value", value)):
            if not isinstance(t, Tensor):
                raise TypeError(f"{who}: {name} must be a Tensor, got {type(t).__name__}")
        batched = query.ndim == 3
        if query.ndim not in (2, 3) or key.ndim != query.ndim or value.ndim != query.ndim:
            raise AssertionError(
                f"{who}: query, key and value must all be 3-D (batched) or 2-D (unbatched), got "
                f"{query.ndim}-D, {key.ndim}-D and {value.ndim}-D"
            )
        if is_causal and attn_mask is None:
            raise RuntimeError(
                f"{who}: Need attn_mask if specifying the is_causal hint. You may use the "
                "Transformer module method `generate_square_subsequent_mask` to create this mask."
            )
        # self-attention without weights out or dropout: one packed projection, one fused op
        fast = (
            batched
            and query is key
            and key is value
            and self._qkv_same_embed_dim
            and self.bias_k is None
            and not self.add_zero_attn
            and not need_weights
            and (self.dropout == 0 or not self.training)
            and _fusable(query)
        )
        src = query
        if not batched:
            query, key, value = query.unsqueeze(1), key.unsqueeze(1), value.unsqueeze(1)
            if key_padding_mask is not None:
                key_padding_mask = key_padding_mask.unsqueeze(0)
        elif self.batch_first and not fast:
            query, key, value = (t.transpose(0, 1) for t in (query, key, value))
        L, N, E = query.shape
        if fast and self.batch_first:  # query not transposed: (N, L, E)
            N, L = L, N
        S = L if fast else key.shape[0]
        if self.embed_dim != E:
            raise AssertionError(
                f"{who}: was expecting embedding dimension of {self.embed_dim}, but got {E}"
            )
        if not fast and (key.shape[:2] != value.shape[:2] or key.shape[1] != N):
            raise AssertionError(
                f"{who}: key shape {tuple(key.shape)} does not match value shape "
                f"{tuple(value.shape)} (or the query's batch size {N})"
            )
        H, hd = self.num_heads, self.head_dim
        b = self.in_proj_bias
        if fast:
            pass  # the packed weight is used whole below
        elif self._qkv_same_embed_dim:
            bq, bk, bv = (None, None, None) if b is None else (b[:E], b[E : 2 * E], b[2 * E :])
            w = self.in_proj_weight
            wq, wk, wv = w[:E], w[E : 2 * E], w[2 * E :]
        else:
            bq, bk, bv = (None, None, None) if b is None else (b[:E], b[E : 2 * E], b[2 * E :])
            wq, wk, wv = self.q_proj_weight, self.k_proj_weight, self.v_proj_weight
            if key.shape[2] != self.kdim or value.shape[2] != self.vdim:
                raise AssertionError(
                    f"{who}: expected key/value widths {self.kdim}/{self.vdim}, got "
                    f"{key.shape[2]}/{value.shape[2]}"
                )
        dt = self.out_proj.weight.dtype
        attn_bias = _bias_from_mask(attn_mask, False, dt, who)
        if attn_bias is not None:
            if attn_bias.ndim == 2:
                if attn_bias.shape != (L, S):
                    raise RuntimeError(
                        f"{who}: The shape of the 2D attn_mask is {attn_bias.shape}, but should "
                        f"be {(L, S)}."
                    )
                attn_bias = attn_bias[None]
            elif attn_bias.ndim == 3:
                if attn_bias.shape != (N * H, L, S):
                    raise RuntimeError(
                        f"{who}: The shape of the 3D attn_mask is {attn_bias.shape}, but should "
                        f"be {(N * H, L, S)}."
                    )
            else:
                raise RuntimeError(
                    f"{who}: attn_mask's dimension {attn_bias.ndim} is not supported"
                )
        kpm = _bias_from_mask(key_padding_mask, False, dt, who)
        if kpm is not None and kpm.shape != (N, S):
            raise RuntimeError(
                f"{who}: expected key_padding_mask of shape {(N, S)}, got {kpm.shape}"
            )
        if fast:
            from gradfit.ops.attention import packed_self_attention

            bias = None
            if attn_bias is not None:
                bias = (
                    attn_bias.reshape(N, H, L, S)
                    if attn_bias.shape[0] == N * H
                    else attn_bias[None]
                )
            if kpm is not None:
                kb = kpm[:, None, None, :]
                bias = kb if bias is None else bias + kb
            qkv = linear(src, self.in_proj_weight, self.in_proj_bias)
            out = packed_self_attention(qkv, H, self.batch_first, bias, 1.0 / math.sqrt(hd))
            return self.out_proj(out), None
        q = linear(query, wq, bq)
        k = linear(key, wk, bk)
        v = linear(value, wv, bv)
        if self.bias_k is not None:
            k = cat([k, self.bias_k.expand(1, N, E)], 0)
            v = cat([v, self.bias_v.expand(1, N, E)], 0)
            if attn_bias is not None:
                attn_bias = np.pad(attn_bias, [(0, 0), (0, 0), (0, 1)])
            if kpm is not None:
                kpm = np.pad(kpm, [(0, 0), (0, 1)])
        # (L, N, E) -> (N, H, L, hd)
        q = q.reshape(L, N, H, hd).permute(1, 2, 0, 3)
        S2 = k.shape[0]
        k = k.reshape(S2, N, H, hd).permute(1, 2, 0, 3)
        v = v.reshape(S2, N, H, hd).permute(1, 2, 0, 3)
        if self.add_zero_attn:
            from gradfit.creation import zeros

            z = zeros(N, H, 1, hd, dtype=dt)
            k, v = cat([k, z], 2), cat([v, z], 2)
            if attn_bias is not None:
                attn_bias = np.pad(attn_bias, [(0, 0), (0, 0), (0, 1)])
            if kpm is not None:
                kpm = np.pad(kpm, [(0, 0), (0, 1)])
        S2 = k.shape[2]
        bias = None
        if attn_bias is not None:
            bias = (
                attn_bias.reshape(-1, H, L, S2) if attn_bias.shape[0] == N * H else attn_bias[None]
            )
        if kpm is not None:
            kb = kpm[:, None, None, :]
            bias = kb if bias is None else bias + kb
        out, w = _attend(
            q, k, v, bias, self.dropout, 1.0 / math.sqrt(hd), self.training, need_weights
        )
        out = out.permute(2, 0, 1, 3).reshape(L, N, E)
        out = self.out_proj(out)
        if not batched:
            out = out.squeeze(1)
        elif self.batch_first:
            out = out.transpose(0, 1)
        if not need_weights:
            return out, None
        if average_attn_weights:
            w = w.mean(1)
        if not batched:
            w = w.squeeze(0)
        return out, w

    def extra_repr(self) -> str:
        return ""


def multi_head_attention_forward(*args: Any, **kwargs: Any) -> Any:
    """Not provided: use :class:`MultiheadAttention` (PyTorch's functional form takes 20+ arguments).

    Example:
        >>> try:
        ...     multi_head_attention_forward()
        ... except NotImplementedError as e:
        ...     print("MultiheadAttention" in str(e))
        True
    """
    raise NotImplementedError(
        "F.multi_head_attention_forward is not provided; build a gf.nn.MultiheadAttention "
        "(same parameters) and call it"
    )
