"""Scaled dot-product attention as one fused operation: ``softmax(q k^T * scale + bias) v``.

Composed from small ops, attention is a transpose, two batched products, a scale, a bias add,
a softmax and a mask, each a node with its own temporaries. Fused, the forward is two batched
GEMMs (``np.matmul`` over all batches and heads at once) with the softmax done in place on
the scores, and the backward four GEMMs. :class:`PackedSelfAttention` goes one step further
for self-attention in ``nn.MultiheadAttention``: it takes the packed projection ``[q | k | v]``
of shape ``(N, L, 3E)`` (or ``(L, N, 3E)``) and splits the heads as strided views, writes its
output straight in ``(N, L, E)`` layout for the output projection, and its gradient straight
into one ``(N, L, 3E)`` array: no copy of any head anywhere.

The softmax subtracts one maximum per (batch, head) block of scores rather than per row (a
row-wise max over 32 keys is the slowest step in NumPy); where some row of the block would
then lose precision (its sum of exponentials under 1e-10, or not finite) the scores are
recomputed with the exact row maximum. Rows where every key is masked (``-inf``) give zero
weights and zero output, as PyTorch 2.13 gives.

Example:
    >>> import gradfit as gf
    >>> from gradfit.ops.attention import attention
    >>> q = gf.randn(2, 3, 4, requires_grad=True)
    >>> attention(q, q, q, None, 0.5).sum().backward()
    >>> q.grad.shape
    (2, 3, 4)
"""

from __future__ import annotations

from typing import Any

import numpy as np

from gradfit import kernels, threads
from gradfit.autograd import Function, sum_to
from gradfit.tensor import Tensor

_TINY_ROW_SUM = 1e-10  # below this a block-max shift may have cost a row its precision


def _dead_rows(bias: np.ndarray | None) -> tuple[np.ndarray | None, np.ndarray | None]:
    """The bias with rows that allow no key set to 0, and a 0/1 mask of the live rows."""
    if bias is None:
        return None, None
    dead = np.isneginf(bias).all(axis=-1, keepdims=True)
    if not dead.any():
        return bias, None
    return np.where(dead, 0, bias).astype(bias.dtype), (~dead).astype(bias.dtype)


def _matmul_t(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``a @ b^T`` over the batch dimensions. NumPy's batched matmul is about twice as slow
    with a transposed second operand as with a contiguous one (131 vs 60 us for the
    transformer's (32, 4, 32, 16) heads), so ``b^T`` is copied first (33 us)."""
    return np.matmul(a, np.ascontiguousarray(b.swapaxes(-1, -2)))


def _scores(q: np.ndarray, k: np.ndarray, scale: float, bias: np.ndarray | None) -> np.ndarray:
    s = _matmul_t(q, k)
    s *= scale
    if bias is not None:
        if np.broadcast_shapes(s.shape, bias.shape) == s.shape:
            s += bias
        else:
            s = s + bias
    return s


def _weights(
    q: np.ndarray, k: np.ndarray, scale: float, bias: np.ndarray | None, alive: np.ndarray | None
) -> np.ndarray:
    """``softmax(q k^T * scale + bias)`` along the keys, computed in place on the scores."""
    if q.dtype == k.dtype == np.float32 and kernels.enabled():
        w = _weights_kernel(q, k, scale, bias)
        if w is not None:
            return w if alive is None else np.multiply(w, alive, out=w)
    s = _scores(q, k, scale, bias)
    L, S = s.shape[-2:]
    ones = np.ones((S, 1), s.dtype)
    m = s.reshape(-1, L * S).max(axis=1).reshape(*s.shape[:-2], 1, 1)
    s -= m
    np.exp(s, out=s)
    tot = np.matmul(s, ones)  # row sums as one GEMM: faster than a reduction over 32 keys
    if not tot.min() > _TINY_ROW_SUM:  # (also when NaN) redo with the exact row maximum
        s = _scores(q, k, scale, bias)
        s -= s.max(axis=-1, keepdims=True)
        np.exp(s, out=s)
        tot = s.sum(axis=-1, keepdims=True)
    s /= tot
    if alive is not None:
        s *= alive
    return s


_SPLIT_BYTES = 1 << 20  # scores from this size are split across gradfit's thread pool


def _weights_kernel(
    q: np.ndarray, k: np.ndarray, scale: float, bias: np.ndarray | None
) -> np.ndarray | None:
    """:func:`_weights` by the compiled softmax (gradfit.kernels.softmax) on float32 scores,
    when ``bias`` is one (L, S) matrix for all batches and heads (or None); else None."""
    from gradfit.kernels.softmax import softmax_forward

    L, S = q.shape[-2], k.shape[-2]
    if bias is None:
        b2 = np.zeros((L, S), np.float32)
    elif bias.ndim <= 2 or all(d == 1 for d in bias.shape[:-2]):
        b2 = bias.reshape(bias.shape[-2:]) if bias.ndim > 2 else bias
        b2 = np.ascontiguousarray(np.broadcast_to(b2, (L, S)), dtype=np.float32)
    else:  # a bias per batch or head: the NumPy path
        return None
    s = _matmul_t(q, k)
    if s.size:
        s3, sc = s.reshape(-1, L, S), np.float32(scale)
        threads.over_spans(lambda a, b: softmax_forward(s3[a:b], sc, b2), s3, _SPLIT_BYTES)
    return s


def _softmax_backward(w: np.ndarray, dw: np.ndarray, scale: float) -> np.ndarray:
    """Gradient of the scores from that of the weights ``w``: ``w * (dw - sum(dw * w))``
    times ``scale``, in place on ``dw``."""
    if (
        w.dtype == dw.dtype == np.float32
        and w.shape == dw.shape
        and w.flags.c_contiguous
        and dw.flags.c_contiguous
        and w.ndim >= 2
        and kernels.enabled()
    ):
        from gradfit.kernels.softmax import softmax_backward

        L, S = w.shape[-2:]
        if w.size:
            w3, dw3, sc = w.reshape(-1, L, S), dw.reshape(-1, L, S), np.float32(scale)
            threads.over_spans(
                lambda a, b: softmax_backward(w3[a:b], dw3[a:b], sc), w3, _SPLIT_BYTES
            )
        return dw
    dw *= w
    r = np.matmul(dw, np.ones((dw.shape[-1], 1), dw.dtype))
    dw -= w * r
    dw *= dw.dtype.type(scale)
    return dw


def _weights_graph(
    q: Tensor, k: Tensor, scale: float, bias: np.ndarray | None, alive: np.ndarray | None
) -> Tensor:
    """:func:`_weights` with recorded Tensor ops (for double backward)."""
    from gradfit.ops.softmax import softmax

    s = (q @ k.transpose(-2, -1)) * scale
    if bias is not None:
        s = s + Tensor._wrap(bias)
    w = softmax(s, -1)
    return w if alive is None else w * Tensor._wrap(alive)


def _grads_graph(
    grad: Tensor, q: Tensor, k: Tensor, v: Tensor, w: Tensor, scale: float
) -> tuple[Tensor, Tensor, Tensor]:
    dv = w.transpose(-2, -1) @ grad
    dw = grad @ v.transpose(-2, -1)
    ds = w * (dw - (dw * w).sum(dim=-1, keepdim=True)) * scale
    return ds @ k, ds.transpose(-2, -1) @ q, dv


class ScaledDotProductAttention(Function):
    """``softmax(q k^T * scale + bias) v`` for q ``(..., L, E)``, k ``(..., S, E)``,
    v ``(..., S, Ev)`` whose batch dimensions broadcast; ``bias`` is a constant array."""

    def forward(
        self,
        q: np.ndarray,
        k: np.ndarray,
        v: np.ndarray,
        bias: np.ndarray | None = None,
        scale: float = 1.0,
    ) -> np.ndarray:
        bias, alive = _dead_rows(bias)
        w = _weights(q, k, scale, bias, alive)
        self.saved = (q, k, v, w)
        self.bias, self.alive, self.scale = bias, alive, scale
        return np.matmul(w, v)

    def backward(self, grad: np.ndarray) -> tuple[Any, ...]:
        q, k, v, w = self.saved
        nq, nk, nv = self.needs_input_grad
        dv = sum_to(np.matmul(w.swapaxes(-1, -2), grad), v.shape) if nv else None
        dq = dk = None
        if nq or nk:
            ds = _softmax_backward(w, _matmul_t(grad, v), self.scale)
            if nq:
                dq = sum_to(np.matmul(ds, k), q.shape)
            if nk:
                dk = sum_to(np.matmul(ds.swapaxes(-1, -2), q), k.shape)
        return dq, dk, dv

    def backward_graph(self, grad: Tensor) -> tuple[Any, ...]:
        q, k, v, _ = self.saved
        qt, kt, vt = (self.input_tensor(i, a) for i, a in enumerate((q, k, v)))
        w = _weights_graph(qt, kt, self.scale, self.bias, self.alive)
        dq, dk, dv = _grads_graph(grad, qt, kt, vt, w, self.scale)
        needs = self.needs_input_grad
        return tuple(
            sum_to(g, a.shape) if n else None
            for g, a, n in zip((dq, dk, dv), (q, k, v), needs, strict=True)
        )


def _heads(qkv: np.ndarray, heads: int, batch_first: bool) -> tuple[np.ndarray, ...]:
    """Views ``(N, H, L, hd)`` of q, k and v in a packed ``(N, L, 3E)`` or ``(L, N, 3E)``."""
    a, b, three_e = qkv.shape
    hd = three_e // (3 * heads)
    r = qkv.reshape(a, b, 3, heads, hd)
    perm = (0, 2, 1, 3) if batch_first else (1, 2, 0, 3)
    return tuple(r[:, :, i].transpose(perm) for i in range(3))


class PackedSelfAttention(Function):
    """Multi-head self-attention on the packed projection ``[q | k | v]``, ``(N, L, 3E)``
    (``batch_first``) or ``(L, N, 3E)``; the output is ``(N, L, E)`` or ``(L, N, E)``, the
    heads side by side, ready for the output projection. ``bias`` broadcasts to
    ``(N, H, L, L)``."""

    def forward(
        self,
        qkv: np.ndarray,
        heads: int = 1,
        batch_first: bool = True,
        bias: np.ndarray | None = None,
        scale: float = 1.0,
    ) -> np.ndarray:
        q, k, v = _heads(qkv, heads, batch_first)
        bias, alive = _dead_rows(bias)
        w = _weights(q, k, scale, bias, alive)
        a, b, three_e = qkv.shape
        out = np.empty((a, b, heads, three_e // (3 * heads)), qkv.dtype)
        np.matmul(w, v, out=out.transpose((0, 2, 1, 3) if batch_first else (1, 2, 0, 3)))
        self.saved = (qkv, w)
        self.heads, self.batch_first = heads, batch_first
        self.bias, self.alive, self.scale = bias, alive, scale
        return out.reshape(a, b, three_e // 3)

    def backward(self, grad: np.ndarray) -> tuple[Any, ...]:
        qkv, w = self.saved
        H, bf = self.heads, self.batch_first
        q, k, v = _heads(qkv, H, bf)
        a, b, e = grad.shape
        g = grad.reshape(a, b, H, e // H).transpose((0, 2, 1, 3) if bf else (1, 2, 0, 3))
        out = np.empty_like(qkv)
        dq, dk, dv = _heads(out, H, bf)
        np.matmul(w.swapaxes(-1, -2), g, out=dv)
        ds = _softmax_backward(w, _matmul_t(g, v), self.scale)
        np.matmul(ds, k, out=dq)
        np.matmul(ds.swapaxes(-1, -2), q, out=dk)
        return (out,)

    def backward_graph(self, grad: Tensor) -> tuple[Any]:
        from gradfit.ops.shape import cat

        qkv, _ = self.saved
        H, bf = self.heads, self.batch_first
        a, b, three_e = qkv.shape
        e, perm = three_e // 3, ((0, 2, 1, 3) if bf else (1, 2, 0, 3))
        x = self.input_tensor(0, qkv)
        q, k, v = (x[:, :, i * e : (i + 1) * e].reshape(a, b, H, e // H).permute(*perm)
                   for i in range(3))  # fmt: skip
        w = _weights_graph(q, k, self.scale, self.bias, self.alive)
        g = grad.reshape(a, b, H, e // H).permute(*perm)
        grads = _grads_graph(g, q, k, v, w, self.scale)
        return (cat([d.permute(*perm).reshape(a, b, e) for d in grads], -1),)


def attention(q: Tensor, k: Tensor, v: Tensor, bias: np.ndarray | None, scale: float) -> Tensor:
    """``softmax(q @ k^T * scale + bias) @ v`` as one op (``bias``: a constant array or None).

    Example:
        >>> import gradfit as gf
        >>> attention(gf.ones(1, 2, 4), gf.ones(1, 3, 4), gf.ones(1, 3, 5), None, 0.5).shape
        (1, 2, 5)
    """
    return ScaledDotProductAttention.apply(q, k, v, bias=bias, scale=float(scale))


def packed_self_attention(
    qkv: Tensor, heads: int, batch_first: bool, bias: np.ndarray | None, scale: float
) -> Tensor:
    """Multi-head self-attention of a packed ``[q | k | v]`` projection (see
    :class:`PackedSelfAttention`): ``(N, L, 3E)`` -> ``(N, L, E)`` (or sequence first).

    Example:
        >>> import gradfit as gf
        >>> packed_self_attention(gf.randn(2, 5, 12), 2, True, None, 0.5).shape
        (2, 5, 4)
    """
    return PackedSelfAttention.apply(
        qkv, heads=heads, batch_first=batch_first, bias=bias, scale=float(scale)
    )
