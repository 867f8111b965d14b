"""Recurrent layers as one fused operation per layer and direction: RNN (tanh/ReLU), LSTM, GRU.

Backpropagation through time is the chain rule over the unrolled steps. Writing each
step as a dozen small graph nodes works (and is how the cells are explained), but costs
per-node overhead that dwarfs the arithmetic at small sizes; here a whole sequence is one
node whose forward loops over time and whose backward loops back, so a 1,000-step
sequence is one node and one loop, with no recursion.

What is fused:

* the input part of every gate for every step is one GEMM, ``X (T*B, I) @ W_ih.T``, before
  the loop; only ``h_{t-1} @ W_hh.T`` is left inside it;
* in backward, the per-step gate gradients are stored, and ``dW_ih``, ``dW_hh``, ``dX``
  and the biases come out of one GEMM (or sum) each after the loop.

Layout and variable lengths follow PyTorch's packed sequences: ``x`` is time-major
``(T, B, I)`` with the batch sorted by decreasing length, and ``batch_sizes[t]`` says how
many sequences are still running at step ``t`` (all ``B`` without packing). Rows past their
end keep their state (so the final state of each sequence is the one at its last step)
and output zeros. The reverse direction walks ``t = T-1 .. 0`` with the same rule, which
starts each sequence at its own last step.

The op returns one flat array (outputs, then ``h_n``, then ``c_n``) that
:func:`recurrent` splits into tensors with views, because a graph node has one output.

Equations (PyTorch's, gate order included):

* RNN: ``h' = tanh(x W_ih^T + b_ih + h W_hh^T + b_hh)`` (or ReLU)
* LSTM: ``i, f, g, o = σ, σ, tanh, σ`` of the four gate blocks; ``c' = f c + i g``;
  ``h' = o tanh(c')``, then ``h' @ W_hr^T`` with ``proj_size``
* GRU: ``r, z = σ(·)``; ``n = tanh(x W_in^T + b_in + r (h W_hn^T + b_hn))``; ``h' = (1 - z) n + z h``

Example:
    >>> import gradfit as gf
    >>> from gradfit.ops.rnn import recurrent
    >>> x = gf.randn(5, 2, 3)  # (T, B, I)
    >>> w_ih, w_hh = gf.randn(8, 3, requires_grad=True), gf.randn(8, 2, requires_grad=True)
    >>> out, h, c = recurrent("LSTM", x, gf.zeros(2, 2), gf.zeros(2, 2), w_ih, w_hh)
    >>> out.shape, h.shape, c.shape
    ((5, 2, 2), (2, 2), (2, 2))
    >>> out.sum().backward(); w_hh.grad.shape
    (8, 2)
"""

from __future__ import annotations

from typing import Any

import numpy as np

from gradfit.autograd import Function
from gradfit.tensor import Tensor

MODES = ("RNN_TANH", "RNN_RELU", "LSTM", "GRU")
GATES = {"RNN_TANH": 1, "RNN_RELU": 1, "LSTM": 4, "GRU": 3}


def _sigmoid(x: np.ndarray) -> np.ndarray:
    # 0.5 * (1 + tanh(x / 2)): stable for any x, one transcendental
    out = np.multiply(x, 0.5, dtype=x.dtype)
    np.tanh(out, out=out)
    out += 1
    out *= 0.5
    return out


class RecurrentSeq(Function):
    """One layer, one direction, the whole sequence (see the module docstring).

    Inputs, in order: ``x (T, B, I)``, ``h0 (B, P)``, ``c0 (B, H)`` (LSTM only), ``w_ih (G*H, I)``,
    ``w_hh (G*H, P)``, then ``b_ih``, ``b_hh`` (when ``has_bias``) and ``w_hr (P, H)`` (LSTM
    with ``proj_size``). ``P`` is ``proj_size`` or ``H``.
    """

    def forward(self, *arrays: np.ndarray, **opt: Any) -> np.ndarray:
        mode: str = opt["mode"]
        reverse: bool = opt["reverse"]
        has_bias: bool = opt["has_bias"]
        bs: np.ndarray | None = opt["batch_sizes"]
        lstm = mode == "LSTM"
        it = iter(arrays)
        x = next(it)
        h0 = next(it)
        c0 = next(it) if lstm else None
        w_ih, w_hh = next(it), next(it)
        b_ih, b_hh = (next(it), next(it)) if has_bias else (None, None)
        w_hr = next(it, None)
        T, B, _ = x.shape
        H = w_ih.shape[0] // GATES[mode]
        P = h0.shape[1]
        dt = x.dtype
        # the input part of every gate at every step: one GEMM
        gi = (x.reshape(T * B, x.shape[2]) @ w_ih.T).reshape(T, B, w_ih.shape[0])
        if has_bias:
            gi += b_ih if mode == "GRU" else b_ih + b_hh
        hs = np.empty((T + 1, B, P), dt)  # hs[0] = h0, hs[k + 1] = state after the k-th step taken
        hs[0] = h0
        steps = range(T - 1, -1, -1) if reverse else range(T)
        sizes = [B] * T if bs is None else [int(n) for n in bs]
        out = np.zeros((T, B, P), dt)
        if lstm:
            cs = np.empty((T + 1, B, H), dt)
            cs[0] = c0
            gates = np.empty((T, B, 4 * H), dt)
            ms = np.empty((T, B, H), dt) if w_hr is not None else None
        elif mode == "GRU":
            gates = np.empty((T, B, 3 * H), dt)  # r, z, n
            ghn = np.empty((T, B, H), dt)  # h W_hn^T + b_hn, needed for dr
        for k, t in enumerate(steps):
            n = sizes[t]
            hp = hs[k]
            h = hs[k + 1]
            h[n:] = hp[n:]  # finished sequences keep their state
            a = gi[t, :n]
            if mode in ("RNN_TANH", "RNN_RELU"):
                pre = hp[:n] @ w_hh.T
                pre += a
                if mode == "RNN_TANH":
                    np.tanh(pre, out=h[:n])
                else:
                    np.maximum(pre, 0, out=h[:n])
            elif lstm:
                g = gates[k, :n]
                np.matmul(hp[:n], w_hh.T, out=g)
                g += a
                g[:, : 2 * H] = _sigmoid(g[:, : 2 * H])
                np.tanh(g[:, 2 * H : 3 * H], out=g[:, 2 * H : 3 * H])
                g[:, 3 * H :] = _sigmoid(g[:, 3 * H :])
                i, f, gg, o = g[:, :H], g[:, H : 2 * H], g[:, 2 * H : 3 * H], g[:, 3 * H :]
                c = cs[k + 1]
                c[n:] = cs[k][n:]
                np.multiply(f, cs[k][:n], out=c[:n])
                c[:n] += i * gg
                m = o * np.tanh(c[:n])
                if w_hr is not None:
                    ms[k, :n] = m
                    np.matmul(m, w_hr.T, out=h[:n])
                else:
                    h[:n] = m
            else:  # GRU
                gh = hp[:n] @ w_hh.T
                if has_bias:
                    gh += b_hh
                g = gates[k, :n]
                np.add(a[:, : 2 * H], gh[:, : 2 * H], out=g[:, : 2 * H])
                g[:, : 2 * H] = _sigmoid(g[:, : 2 * H])
                r, z = g[:, :H], g[:, H : 2 * H]
                ghn[k, :n] = gh[:, 2 * H :]
                nn_ = g[:, 2 * H :]
                np.multiply(r, gh[:, 2 * H :], out=nn_)
                nn_ += a[:, 2 * H :]
                np.tanh(nn_, out=nn_)
                # h' = n + z (h - n)
                np.subtract(hp[:n], nn_, out=h[:n])
                h[:n] *= z
                h[:n] += nn_
            out[t, :n] = h[:n]
        self.mode, self.reverse, self.has_bias, self.sizes = mode, reverse, has_bias, sizes
        self.proj = w_hr is not None
        self.biases = (b_ih, b_hh)  # references only: for backward_graph's recomputation
        saved: list[Any] = [x, hs, w_ih, w_hh, w_hr]
        if lstm:
            saved += [cs, gates, ms]
        elif mode == "GRU":
            saved += [gates, ghn]
        self.saved = tuple(saved)
        flat = [out.reshape(-1), hs[T].reshape(-1)]
        if lstm:
            flat.append(cs[T].reshape(-1))
        return np.concatenate(flat)

    def backward(self, grad: np.ndarray) -> tuple[Any, ...]:
        mode, reverse, has_bias, sizes = self.mode, self.reverse, self.has_bias, self.sizes
        lstm = mode == "LSTM"
        x, hs, w_ih, w_hh, w_hr, *rest = self.saved
        T, B, _ = x.shape
        P = hs.shape[2]
        H = w_ih.shape[0] // GATES[mode]
        dt = x.dtype
        dout = grad[: T * B * P].reshape(T, B, P)
        dh = grad[T * B * P : T * B * P + B * P].reshape(B, P).copy()
        if lstm:
            cs, gates, ms = rest
            dc = grad[T * B * P + B * P :].reshape(B, H).copy()
            dw_hr = np.zeros_like(w_hr) if w_hr is not None else None
        elif mode == "GRU":
            gates, ghn = rest
        G = w_ih.shape[0]
        dgi = np.zeros((T, B, G), dt)  # gradient of the input part of the gates, per step
        dgh = np.zeros((T, B, G), dt) if mode == "GRU" else dgi  # of the hidden part
        steps = range(T - 1, -1, -1) if reverse else range(T)
        for k in reversed(range(T)):
            t = steps[k]
            n = sizes[t]
            d = dh[:n]
            d += dout[t, :n]
            if mode == "RNN_TANH":
                h = hs[k + 1, :n]
                da = dgi[t, :n]
                np.multiply(h, h, out=da)
                np.subtract(1, da, out=da)
                da *= d
                dh[:n] = da @ w_hh
            elif mode == "RNN_RELU":
                da = dgi[t, :n]
                np.multiply(d, hs[k + 1, :n] > 0, out=da)
                dh[:n] = da @ w_hh
            elif lstm:
                g = gates[k, :n]
                i, f, gg, o = g[:, :H], g[:, H : 2 * H], g[:, 2 * H : 3 * H], g[:, 3 * H :]
                if w_hr is not None:
                    dw_hr += d.T @ ms[k, :n]
                    dm = d @ w_hr
                else:
                    dm = d
                tc = np.tanh(cs[k + 1, :n])
                dcn = dc[:n]
                dcn += dm * o * (1 - tc * tc)
                da = dgi[t, :n]
                np.multiply(dcn * gg, i * (1 - i), out=da[:, :H])
                np.multiply(dcn * cs[k, :n], f * (1 - f), out=da[:, H : 2 * H])
                np.multiply(dcn * i, 1 - gg * gg, out=da[:, 2 * H : 3 * H])
                np.multiply(dm * tc, o * (1 - o), out=da[:, 3 * H :])
                dcn *= f
                dh[:n] = da @ w_hh
            else:  # GRU
                g = gates[k, :n]
                r, z, nn_ = g[:, :H], g[:, H : 2 * H], g[:, 2 * H :]
                hp = hs[k, :n]
                dn_a = d * (1 - z) * (1 - nn_ * nn_)
                da_i, da_h = dgi[t, :n], dgh[t, :n]
                dr_a = dn_a * ghn[k, :n] * r * (1 - r)
                dz_a = d * (hp - nn_) * z * (1 - z)
                da_i[:, :H] = dr_a
                da_i[:, H : 2 * H] = dz_a
                da_i[:, 2 * H :] = dn_a
                da_h[:, :H] = dr_a
                da_h[:, H : 2 * H] = dz_a
                np.multiply(dn_a, r, out=da_h[:, 2 * H :])
                dh[:n] = d * z + da_h @ w_hh
        needs = self.needs_input_grad
        # hs[k] is the state before step k; dgh[t] pairs with it through steps[k] = t
        order = np.asarray(list(steps))
        h_prev = hs[:T][np.argsort(order)] if reverse else hs[:T]
        gx = (dgi.reshape(T * B, G) @ w_ih).reshape(x.shape) if needs[0] else None
        grads: list[Any] = [gx, dh if needs[1] else None]
        if lstm:
            grads.append(dc if needs[2] else None)
        j = 3 if lstm else 2
        grads.append(dgi.reshape(T * B, G).T @ x.reshape(T * B, x.shape[2]) if needs[j] else None)
        grads.append(dgh.reshape(T * B, G).T @ h_prev.reshape(T * B, P) if needs[j + 1] else None)
        if has_bias:
            gb_h = dgh.reshape(T * B, G).sum(axis=0)
            gb_i = gb_h if dgh is dgi else dgi.reshape(T * B, G).sum(axis=0)
            grads.append(gb_i if needs[j + 2] else None)
            grads.append(gb_h if needs[j + 3] else None)
        if w_hr is not None:
            grads.append(dw_hr if needs[-1] else None)
        return tuple(grads)

    def backward_graph(self, grad: Tensor) -> tuple[Any, ...]:
        """The sequence run again as a chain of Tensor ops (:func:`_unrolled`), and its
        gradient taken with ``create_graph``: recorded, so differentiable again."""
        from gradfit.autograd import grad as autograd_grad

        x, hs, w_ih, w_hh, w_hr, *rest = self.saved
        arrays = [x, hs[0]] + ([rest[0][0]] if self.mode == "LSTM" else []) + [w_ih, w_hh]
        if self.has_bias:
            arrays += list(self.biases)
        if w_hr is not None:
            arrays.append(w_hr)
        needs = self.needs_input_grad
        # each input that needs a gradient gets a node of its own (a recorded copy): the
        # gradient is taken there even when one tensor is passed as two inputs
        ins = [
            self.input_tensor(i, a).clone() if needs[i] else Tensor._wrap(a)
            for i, a in enumerate(arrays)
        ]
        flat = _unrolled(self.mode, self.reverse, self.sizes, ins, self.has_bias)
        wanted = [t for t, need in zip(ins, needs, strict=True) if need]
        got = iter(autograd_grad(flat, wanted, grad, create_graph=True, allow_unused=True))
        return tuple(next(got) if need else None for need in needs)


def _unrolled(
    mode: str, reverse: bool, sizes: list[int], ins: list[Tensor], has_bias: bool
) -> Tensor:
    """What :class:`RecurrentSeq` computes, one step at a time with Tensor ops (its flat
    output: the outputs, ``h_n``, then ``c_n``), for gradients of gradients."""
    from gradfit.creation import zeros
    from gradfit.ops.shape import cat, stack

    lstm = mode == "LSTM"
    it = iter(ins)
    x, h = next(it), next(it)
    c = next(it) if lstm else None
    w_ih, w_hh = next(it), next(it)
    b_ih, b_hh = (next(it), next(it)) if has_bias else (None, None)
    w_hr = next(it, None)
    T, B, _ = x.shape
    H = w_ih.shape[0] // GATES[mode]
    P = h.shape[1]
    gi = x @ w_ih.T  # (T, B, G*H): the input part of every gate
    if has_bias:
        gi = gi + (b_ih if mode == "GRU" else b_ih + b_hh)
    outs: list[Any] = [None] * T
    for t in range(T - 1, -1, -1) if reverse else range(T):
        n = sizes[t]
        a, hp = gi[t, :n], h[:n]
        gh = hp @ w_hh.T
        if mode in ("RNN_TANH", "RNN_RELU"):
            hn = (a + gh).tanh() if mode == "RNN_TANH" else (a + gh).relu()
        elif lstm:
            g = a + gh
            i, f = g[:, :H].sigmoid(), g[:, H : 2 * H].sigmoid()
            gg, o = g[:, 2 * H : 3 * H].tanh(), g[:, 3 * H :].sigmoid()
            cn = f * c[:n] + i * gg
            hn = o * cn.tanh()
            if w_hr is not None:
                hn = hn @ w_hr.T
            c = cn if n == B else cat([cn, c[n:]])
        else:  # GRU
            if has_bias:
                gh = gh + b_hh
            r = (a[:, :H] + gh[:, :H]).sigmoid()
            z = (a[:, H : 2 * H] + gh[:, H : 2 * H]).sigmoid()
            nn_ = (a[:, 2 * H :] + r * gh[:, 2 * H :]).tanh()
            hn = nn_ + z * (hp - nn_)
        h = hn if n == B else cat([hn, h[n:]])
        outs[t] = hn if n == B else cat([hn, zeros(B - n, P, dtype=x.dtype)])
    flat = [stack(outs).reshape(-1), h.reshape(-1)]
    if lstm:
        flat.append(c.reshape(-1))
    return cat(flat)


def recurrent(
    mode: str,
    x: Tensor,
    h0: Tensor,
    c0: Tensor | None,
    w_ih: Tensor,
    w_hh: Tensor,
    b_ih: Tensor | None = None,
    b_hh: Tensor | None = None,
    w_hr: Tensor | None = None,
    reverse: bool = False,
    batch_sizes: np.ndarray | None = None,
) -> tuple[Tensor, Tensor, Tensor | None]:
    """Run one recurrent layer in one direction over a time-major sequence.

    Args:
        mode: ``"RNN_TANH"``, ``"RNN_RELU"``, ``"LSTM"`` or ``"GRU"``.
        x: ``(T, B, I)``; with ``batch_sizes``, the batch is sorted by decreasing length.
        h0: ``(B, P)`` initial hidden state; ``c0``: ``(B, H)`` initial cell state (LSTM).
        w_ih, w_hh, b_ih, b_hh, w_hr: PyTorch's parameters of one layer and direction.
        reverse: walk the sequence backwards (the second direction of a bidirectional layer).
        batch_sizes: sequences still running at each step (a packed sequence's), or None.

    Returns:
        ``(output (T, B, P), h_n (B, P), c_n (B, H) or None)``.

    Example:
        >>> import gradfit as gf
        >>> out, h, _ = recurrent("GRU", gf.ones(4, 1, 2), gf.zeros(1, 3), None,
        ...                       gf.zeros(9, 2), gf.zeros(9, 3))
        >>> out.shape, float(h.sum())
        ((4, 1, 3), 0.0)
    """
    if mode not in MODES:
        raise ValueError(f"recurrent: mode must be one of {MODES}, got {mode!r}")
    lstm = mode == "LSTM"
    if lstm != (c0 is not None):
        raise ValueError("recurrent: c0 is given for LSTM and only for LSTM")
    if (b_ih is None) != (b_hh is None):
        raise ValueError("recurrent: give both biases or neither")
    inputs = [x, h0] + ([c0] if lstm else []) + [w_ih, w_hh]
    has_bias = b_ih is not None
    if has_bias:
        inputs += [b_ih, b_hh]
    if w_hr is not None:
        inputs.append(w_hr)
    flat = RecurrentSeq.apply(
        *inputs, mode=mode, reverse=reverse, has_bias=has_bias, batch_sizes=batch_sizes
    )
    T, B, _ = x.shape
    P = h0.shape[1]
    a, b = T * B * P, T * B * P + B * P
    out = flat[:a].reshape(T, B, P)
    h_n = flat[a:b].reshape(B, P)
    c_n = flat[b:].reshape(B, c0.shape[1]) if lstm else None
    return out, h_n, c_n
