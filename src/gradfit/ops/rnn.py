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
from gradfit.ops.gemm import matmul_nt
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
        if mode != "GRU":  # (the GRU computes its own, gate-major)
            gi = (x.reshape(T * B, x.shape[2]) @ w_ih.T).reshape(T, B, w_ih.shape[0])
            if has_bias:
                gi += b_ih + b_hh
        # hs[0] = h0, hs[k + 1] = state after the k-th step taken; unpacked and forwards,
        # hs[1:] is the output itself: one buffer [h0 | out | h_n], no per-step copies
        shared = bs is None and not reverse
        n_out = T * B * P + B * P + (B * H if lstm else 0)
        buf = np.empty(B * P + n_out, dt) if shared else None
        hs = (buf[: (T + 1) * B * P] if shared else np.empty((T + 1) * B * P, dt)).reshape(
            T + 1, B, P
        )
        hs[0] = h0
        steps = range(T - 1, -1, -1) if reverse else range(T)
        sizes = [B] * T if bs is None else [int(n) for n in bs]
        out = hs[1:] if shared else np.zeros((T, B, P), dt)
        if lstm:
            cs = np.empty((T + 1, B, H), dt)
            cs[0] = c0
            gates = np.empty((T, B, 4 * H), dt)
            ms = np.empty((T, B, H), dt) if w_hr is not None else None
        elif mode == "GRU":
            gru_saved = _gru_forward(x, hs, w_ih, w_hh, b_ih, b_hh, steps, sizes)
        for k, t in enumerate(steps if mode != "GRU" else ()):
            n = sizes[t]
            hp = hs[k]
            h = hs[k + 1]
            h[n:] = hp[n:]  # finished sequences keep their state
            a = gi[t, :n]
            if mode in ("RNN_TANH", "RNN_RELU"):
                pre = matmul_nt(hp[:n], w_hh)
                pre += a
                if mode == "RNN_TANH":
                    np.tanh(pre, out=h[:n])
                else:
                    np.maximum(pre, 0, out=h[:n])
            elif lstm:
                g = gates[k, :n]
                matmul_nt(hp[:n], w_hh, out=g)
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
                    matmul_nt(m, w_hr, out=h[:n])
                else:
                    h[:n] = m
            if not shared:
                out[t, :n] = h[:n]
        if mode == "GRU" and not shared:
            for k, t in enumerate(steps):
                out[t, : sizes[t]] = hs[k + 1, : sizes[t]]
        self.mode, self.reverse, self.has_bias, self.sizes = mode, reverse, has_bias, sizes
        self.proj = w_hr is not None
        self.biases = (b_ih, b_hh)  # references only: for backward_graph's recomputation
        saved: list[Any] = [x, hs, w_ih, w_hh, w_hr]
        if lstm:
            saved += [cs, gates, ms]
        elif mode == "GRU":
            saved += list(gru_saved)
        self.saved = tuple(saved)
        if shared:
            res = buf[B * P :]
            res[T * B * P : T * B * P + B * P] = hs[T].reshape(-1)
            if lstm:
                res[T * B * P + B * P :] = cs[T].reshape(-1)
            return res
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
            return _gru_backward(x, hs, w_ih, w_hh, *rest, dout, dh, reverse, sizes,
                                 has_bias, self.needs_input_grad)  # fmt: skip
        G = w_ih.shape[0]
        dgi = np.zeros((T, B, G), dt)  # gradient of the gates' pre-activations, per step
        dgh = dgi
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


def _gru_forward(
    x: np.ndarray,
    hs: np.ndarray,
    w_ih: np.ndarray,
    w_hh: np.ndarray,
    b_ih: np.ndarray | None,
    b_hh: np.ndarray | None,
    steps: range,
    sizes: list[int],
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The GRU's time loop: fills ``hs[1:]``; returns what backward needs: ``rz (2, T, B, H)``
    (the r and z gates by step taken), ``n (T, B, H)`` and ``ghn = h W_hn^T + b_hn (T, B, H)``.

    Gate-major layout (the gate axis first): every per-step block is contiguous, so each
    NumPy pass is one inner loop rather than one per row (2-3x faster at these sizes). The
    hidden biases of r and z are added to the input part once, and the r and z parts of both
    products are halved once (exact in binary), so ``σ(a) = (1 + tanh(a/2)) / 2`` needs no
    per-step scaling.
    """
    T, B, n_in = x.shape
    H = w_ih.shape[0] // 3
    P = hs.shape[2]
    dt = hs.dtype
    gi = np.matmul(x.reshape(T * B, n_in), w_ih.reshape(3, H, n_in).transpose(0, 2, 1))
    gi = gi.reshape(3, T, B, H)  # input part of r, z, n at time t
    if b_ih is not None:
        gi += b_ih.reshape(3, 1, 1, H)
        gi[:2] += b_hh[: 2 * H].reshape(2, 1, 1, H)
    gi[:2] *= 0.5
    wh = np.ascontiguousarray(w_hh.reshape(3, H, P).transpose(0, 2, 1))  # (3, P, H)
    wh[:2] *= 0.5
    b_hn = None if b_hh is None else b_hh[2 * H :]
    rz = np.empty((2, T, B, H), dt)
    nn = np.empty((T, B, H), dt)
    ghn = np.empty((T, B, H), dt)
    gh_buf = np.empty((3, B, H), dt)
    for k, t in enumerate(steps):
        n = sizes[t]
        hp, h = hs[k], hs[k + 1]
        if n < B:
            h[n:] = hp[n:]  # finished sequences keep their state
        hpn, hc = hp[:n], h[:n]
        gh = np.matmul(hpn, wh, out=gh_buf[:, :n])
        g = rz[:, k, :n]
        np.add(gi[:2, t, :n], gh[:2], out=g)
        np.tanh(g, out=g)
        g += 1
        g *= 0.5
        hn = ghn[k, :n]
        if b_hn is None:
            hn[...] = gh[2]
        else:
            np.add(gh[2], b_hn, out=hn)
        nk = nn[k, :n]
        np.multiply(g[0], hn, out=nk)
        nk += gi[2, t, :n]
        np.tanh(nk, out=nk)
        np.subtract(hpn, nk, out=hc)  # h' = n + z (h - n)
        hc *= g[1]
        hc += nk
    return rz, nn, ghn


def _gru_backward(
    x: np.ndarray,
    hs: np.ndarray,
    w_ih: np.ndarray,
    w_hh: np.ndarray,
    rz: np.ndarray,
    nn: np.ndarray,
    ghn: np.ndarray,
    dout: np.ndarray,
    dh: np.ndarray,
    reverse: bool,
    sizes: list[int],
    has_bias: bool,
    needs: tuple[bool, ...],
) -> tuple[Any, ...]:
    """The GRU's loop back through time, then the weight gradients as one GEMM per gate.

    ``dg[:, t]`` holds the gradients of the hidden parts of r, z, n at time ``t`` (gate-major,
    as in :func:`_gru_forward`); the input parts are the same for r and z and ``dn`` (not
    ``dn * r``) for n. ``dh`` ends as the gradient of ``h0``.
    """
    T, B, n_in = x.shape
    H = nn.shape[2]
    P = hs.shape[2]
    dt = hs.dtype
    one = dt.type(1)
    alloc = np.zeros if min(sizes, default=B) < B else np.empty  # rows past an end stay 0
    dg = alloc((3, T, B, H), dt)
    dn_all = alloc((T, B, H), dt)
    whh = w_hh.reshape(3, H, P)
    back_buf = np.empty((3, B, P), dt)
    tmp = np.empty((B, H), dt)
    steps = range(T - 1, -1, -1) if reverse else range(T)
    for k in reversed(range(T)):
        t = steps[k]
        n = sizes[t]
        d = dh[:n]
        d += dout[t, :n]
        r, z, nk = rz[0, k, :n], rz[1, k, :n], nn[k, :n]
        dr, dz, dnr, dn = dg[0, t, :n], dg[1, t, :n], dg[2, t, :n], dn_all[t, :n]
        u = np.subtract(one, z, out=tmp[:n])  # 1 - z
        np.subtract(hs[k, :n], nk, out=dz)  # d (h - n) z (1 - z)
        dz *= d
        dz *= z
        dz *= u
        np.multiply(nk, nk, out=dn)  # d (1 - z) (1 - n^2)
        np.subtract(one, dn, out=dn)
        dn *= u
        dn *= d
        np.subtract(one, r, out=dr)  # dn ghn r (1 - r)
        dr *= r
        dr *= ghn[k, :n]
        dr *= dn
        np.multiply(dn, r, out=dnr)
        back = np.matmul(dg[:, t, :n], whh, out=back_buf[:, :n])  # one GEMM per gate
        d *= z
        d += back[0]
        d += back[1]
        d += back[2]
    # hs[k] is the state before step k; dg[:, t] pairs with it through steps[k] = t
    order = np.asarray(list(steps))
    h_prev = (hs[:T][np.argsort(order)] if reverse else hs[:T]).reshape(T * B, P)
    x2 = x.reshape(T * B, n_in)
    d_in = (dg[0].reshape(T * B, H), dg[1].reshape(T * B, H), dn_all.reshape(T * B, H))
    wih = w_ih.reshape(3, H, n_in)
    gx = None
    if needs[0]:
        gx = d_in[0] @ wih[0]
        gx += d_in[1] @ wih[1]
        gx += d_in[2] @ wih[2]
        gx = gx.reshape(x.shape)
    grads: list[Any] = [gx, dh if needs[1] else None]
    if needs[2]:
        gw_ih = np.empty_like(w_ih).reshape(3, H, n_in)
        for i in range(3):
            np.matmul(d_in[i].T, x2, out=gw_ih[i])
        grads.append(gw_ih.reshape(3 * H, n_in))
    else:
        grads.append(None)
    grads.append(
        np.matmul(dg.reshape(3, T * B, H).transpose(0, 2, 1), h_prev).reshape(3 * H, P)
        if needs[3]
        else None
    )
    if has_bias:
        ones = np.ones(T * B, dt)
        gb_h = np.matmul(ones, dg.reshape(3, T * B, H)).reshape(3 * H)
        if needs[4]:
            gb_i = gb_h.copy()
            gb_i[2 * H :] = ones @ d_in[2]
            grads.append(gb_i)
        else:
            grads.append(None)
        grads.append(gb_h if needs[5] else None)
    return tuple(grads)


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
