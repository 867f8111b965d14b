"""Transposed convolution (``conv_transpose1d/2d``), built on the convolution's own code.

A transposed convolution ``y = conv_transpose(x, w)`` is the input gradient of the
convolution ``x = conv(y, w)`` (same weight, stride, padding, dilation, groups), so:

* its forward is that convolution's input-gradient step: for stride 1
  :class:`~gradfit.ops.conv.ConvNd`'s own (the convolution with the flipped kernel); for
  strides, the same column scatter (col2im) in a batch-last layout, where the strided
  slice additions run over contiguous runs of samples;
* the gradient w.r.t. its input is the plain convolution of the output gradient, and
  the weight gradient is the convolution's weight-gradient GEMM against the unfolding
  of the output gradient made on the way (unfolding @ input^T: BLAS's plain orientation).

With compiled kernels (:mod:`gradfit.kernels`), the strided scatter and the strided
backward's unfolding are single-pass loops (:mod:`gradfit.kernels.col2im`) that read and
write NCHW directly; the NumPy path stays, and gives the same forward bits. The GEMM
operands of the strided paths have rows padded apart when they would be a multiple of
2 KiB (:func:`_ld`): OpenBLAS ran 1.2-1.3x slower on 1,024- and 2,048-column chunks.

``output_padding`` adds rows (columns) at the end that no input reaches; the convolution
that this op transposes sees them as negative bottom (right) padding.

Example:
    >>> import gradfit as gf
    >>> x = gf.randn(2, 4, 5, 5)
    >>> w = gf.randn(4, 3, 3, 3, requires_grad=True)
    >>> conv_transpose2d(x, w, stride=2, padding=1, output_padding=1).shape
    (2, 3, 10, 10)
"""

from __future__ import annotations

import itertools
import math
from typing import Any

import numpy as np

from gradfit import kernels, threads
from gradfit.kernels.col2im import col2im_batch_last, im2col_batch_last
from gradfit.ops.conv import (
    _MIN_CHUNK_COLS,
    _MIN_CHUNKS,
    _TO,
    ConvNd,
    _chunks,
    _groups,
    _parallel,
    _Plan,
    _row_block,
    _scratch,
    _slots,
    _span,
    _take,
    _tuple,
    _unfold,
    _Work,
)
from gradfit.tensor import Tensor

# the strided forward scatters chunks of samples whose buffers take about this many bytes
_SCATTER_BYTES = 4 << 20


def _batch_last(src: np.ndarray, dst: np.ndarray) -> None:
    """Copy a (n, C, H, W) view into a (C, H, W, n) view in two steps.

    First whole (H, W) planes move to (C, n, H, W) (contiguous runs), then each channel's
    (n, H*W) block is transposed while it is in cache: several times faster than one
    copy whose reads stride across the batch (power-of-two strides thrash the cache).
    """
    n, C, H, W = src.shape
    tmp = _scratch.empty((C, n, H, W), src.dtype)
    np.copyto(tmp, src.transpose(1, 0, 2, 3))
    np.copyto(dst, tmp.transpose(0, 2, 3, 1))
    del tmp


def _ld(cols: int, dt: Any) -> int:
    """A GEMM operand's row length for ``cols`` columns: one cache line more when the
    rows would be a multiple of 2 KiB apart.

    Rows 4 or 8 KiB apart (1,024 or 2,048 float32 columns: a chunk of 16 or 32 samples of
    an 8x8 map) map onto the same few cache sets; OpenBLAS's GEMMs on such operands ran
    1.2-1.3x slower here (1-D layer: 0.93-1.03 ms against 0.75-0.80 ms padded).
    """
    isz = np.dtype(dt).itemsize
    return cols + 64 // isz if cols and (cols * isz) % 2048 == 0 else cols


def _padded(rows: int, cols: int, dt: Any) -> tuple[np.ndarray, np.ndarray]:
    """A (rows, ld) C-contiguous scratch array (``ld`` from :func:`_ld`) and its
    (rows, cols) view."""
    full = _scratch.empty((rows, _ld(cols, dt)), dt)
    return full, full[:, :cols]


def _bias_grad(grad: np.ndarray) -> np.ndarray:
    """The bias gradient, ``grad.sum(axis=(0, 2, 3))`` of a (N, C, H, W) gradient, as two
    GEMVs (over the batch, then over each channel's plane): 0.04 ms against 0.3 ms for
    NumPy's strided reduction on the DCGAN layer's (64, 32, 16, 16) gradient."""
    N, C, H, W = grad.shape
    per = np.ones(N, grad.dtype) @ grad.reshape(N, C * H * W)  # a view if grad is contiguous
    return per.reshape(C, H * W) @ np.ones(H * W, grad.dtype)


def _unfold_batch_last(src: np.ndarray, ybuf: np.ndarray, p: _Plan, pt: int, pl: int,
                       u: np.ndarray) -> None:  # fmt: skip
    """The strided backward's unfolding of a (n, C, Hc, Wc) chunk of the output gradient,
    zero-padded by ``pt``, ``pl`` (and up to the plan's padded size), into the batch-last
    ``u`` (C, kh, kw, OH, OW, n), in NumPy.

    Padded column ``sw * q + r`` goes to ``yp[:, :, r, q]`` (a copy in ``ybuf``): a window
    of columns at stride ``sw`` is then a run of ``OW * n`` contiguous elements.
    """
    n, C, Hc, Wc = src.shape
    sw = p.sw
    yp = _take(ybuf, (C, p.Hp, sw, -(-p.Wp // sw), n))
    yp.fill(0)
    tmp = _scratch.empty((C, n, Hc, Wc), src.dtype)
    np.copyto(tmp, src.transpose(1, 0, 2, 3))
    for r in range(sw):
        w0 = (r - pl) % sw  # the first input column that lands in phase r
        if w0 < Wc:
            cnt, q0 = len(range(w0, Wc, sw)), (w0 + pl) // sw
            dst = yp[:, pt : pt + Hc, r, q0 : q0 + cnt]
            np.copyto(dst, tmp[:, :, :, w0::sw].transpose(0, 2, 3, 1))
    del tmp
    for i in range(p.kh):
        rows = _span(i * p.dh, p.OH, p.sh)
        for j in range(p.kw):
            q0, r = divmod(j * p.dw, sw)
            u[:, i, j] = yp[:, rows, r, q0 : q0 + p.OW]


class ConvTransposeNd(ConvNd):
    """Transposed convolution of a (N, C_in, H, W) or (N, C_in, L) input (1-D as 2-D, H = 1).

    ``w`` is (C_in, C_out / groups, kH, kW): the weight of the convolution it transposes.
    ``size`` is the output's (H, W); ``pads`` are (top, bottom, left, right) of that
    convolution, the bottom/right ones reduced by ``output_padding``.
    """

    def backward_graph(self, grad: Tensor) -> tuple[Any, ...]:
        """The backward as recorded conv ops, for gradients of any order (see
        :mod:`gradfit.ops.conv_transpose_grad`)."""
        from gradfit.ops.conv_transpose_grad import conv_transpose_backward_graph

        return conv_transpose_backward_graph(self, grad)

    def forward(  # type: ignore[override]
        self,
        x: np.ndarray,
        w: np.ndarray,
        b: np.ndarray | None = None,
        *,
        stride: tuple[int, int],
        pads: tuple[int, int, int, int],
        dilation: tuple[int, int],
        groups: int,
        size: tuple[int, int],
    ) -> np.ndarray:
        threads.hold_blas()  # BLAS at one thread once gradfit's ops parallelise (threads.py)
        one_d = x.ndim == 3
        needs = self.needs_input_grad
        # the inputs as given (what backward_graph differentiates through)
        self.saved = (x if needs[1] else None, w if needs[0] else None)
        if one_d:
            x = x[:, :, None, :]
            w = w[:, :, None, :]
        self.one_d, self.tpads, self.in_hw = one_d, pads, x.shape[2:]
        N = x.shape[0]
        H, W = size
        pt, pb, pl, pr = pads
        # rows the convolution would crop (negative padding) receive nothing: compute the
        # rest with that padding at zero, the cropped rows stay zero
        Hc, Wc = H + min(pb, 0), W + min(pr, 0)
        cpads = (pt, max(pb, 0), pl, max(pr, 0))
        if stride == (1, 1):  # the stride-1 path crops by itself
            Hc, Wc, cpads = H, W, pads
        y_shape = (N, w.shape[1] * groups, Hc, Wc)
        self.x_shape = y_shape
        p = _Plan(y_shape, cpads, w.shape, stride, dilation, groups)
        self.plan, self.cpads, self.opts = p, cpads, (stride, cpads, dilation, groups)
        self.has_bias = b is not None
        dt = x.dtype
        isz = dt.itemsize
        per = (p.C * p.kh * p.kw * p.OH * p.OW + p.C * p.Hp * p.Wp) * isz
        per = max(per, math.prod(p.unfold_shape(1)) * isz)
        chunks = _chunks(N, per, p.OH * p.OW)
        self.chunks = chunks
        nmax = max(n1 - n0 for n0, n1 in chunks)
        full = (Hc, Wc) == (H, W)
        jit = stride != (1, 1) and kernels.enabled()  # the compiled scatter writes every value
        empty = full or jit
        res = np.empty((N, y_shape[1], H, W), dt) if empty else np.zeros((N, y_shape[1], H, W), dt)
        inner = res if full else res[:, :, :Hc, :Wc]
        if stride == (1, 1):  # chunks on the thread pool (no sum over the batch here)
            slots = _slots(len(chunks))
            step = self._conv_step(w, p, cpads, dilation, groups, nmax, dt, slots)

            def body(group: range, slot: int) -> None:
                for c in group:
                    n0, n1 = chunks[c]
                    step(x[n0:n1], None, n0, n1, inner, slot)

            _parallel(len(chunks), body, slots)
            step = body = None  # release the scratch buffers (closure cells: no del)
        else:  # the bias is the scatter's starting value where it covers the whole output
            self._scatter(x, w, p, cpads, res if jit else inner, b if full else None, jit)
        if b is not None and (stride == (1, 1) or not full):
            res += b.reshape(-1, 1, 1)
        return res[:, :, 0, :] if one_d else res

    @staticmethod
    def _scatter(
        x: np.ndarray,
        w: np.ndarray,
        p: _Plan,
        pads: Any,
        out: np.ndarray,
        b: Any = None,
        jit: bool = False,
    ) -> None:
        """Strided: columns = W^T @ x, then each kernel offset's slice added into the output.

        The convolution's col2im step, in a batch-last layout (C, H, W, n): the strided
        slice additions then run over contiguous runs of n samples instead of rows of
        W / stride elements (about twice as fast for a DCGAN-sized layer). A bias ``b``
        is the starting value of the scattered sums (``out`` is then the whole output).
        Chunks of samples run on the thread pool. With ``jit`` the compiled gather
        (:mod:`gradfit.kernels.col2im`) writes every value of ``out`` (the whole output,
        rows no column reaches as zeros) in one pass.
        """
        N = x.shape[0]
        dt = x.dtype
        C, kh, kw, OH, OW = p.C, p.kh, p.kw, p.OH, p.OW
        K = p.Cg * kh * kw
        pt, pl = pads[0], pads[2]
        H, W = out.shape[2], out.shape[3]
        wt = w.reshape(p.G, p.Og, K).swapaxes(1, 2)
        per = (C * kh * kw * OH * OW + C * p.Hp * p.Wp + p.G * p.Og * OH * OW) * dt.itemsize
        k = max(1, -(-N // max(1, _SCATTER_BYTES // per)))  # chunks of balanced sizes
        # enough to share between threads, each of at least _MIN_CHUNK_COLS GEMM columns
        k = max(k, min(_MIN_CHUNKS, N // -(-_MIN_CHUNK_COLS // max(1, OH * OW))))
        chunks = list(itertools.pairwise([N * i // k for i in range(k + 1)]))
        geom = (kh, kw, OH, OW, pt, pl, p.sh, p.sw, p.dh, p.dw)
        bias = None if not jit else np.zeros(1, dt) if b is None else b

        def one(n0: int, n1: int) -> None:
            n = n1 - n0
            M = OH * OW * n
            gt = _padded(p.G * p.Og, M, dt)[1]
            _batch_last(x[n0:n1], gt.reshape(p.G * p.Og, OH, OW, n))
            dfull, dcol = _padded(p.G * K, M, dt)
            np.matmul(wt, gt.reshape(p.G, p.Og, M), out=dcol.reshape(p.G, K, M))
            del gt
            if jit:
                col2im_batch_last(dfull, geom, n, bias, b is not None, out[n0:n1])
                return
            dcol6 = dcol.reshape(C, kh, kw, OH, OW, n)
            dxp = _scratch.empty((C * p.Hp * p.Wp * n,), dt).reshape(C, p.Hp, p.Wp, n)
            if b is None:
                dxp.fill(0)
            else:
                np.copyto(dxp, b.reshape(C, 1, 1, 1))
            for i in range(kh):
                rows = _span(i * p.dh, OH, p.sh)
                for j in range(kw):
                    dxp[:, rows, _span(j * p.dw, OW, p.sw)] += dcol6[:, i, j]
            del dcol, dcol6, dfull
            np.copyto(out[n0:n1], dxp[:, pt : pt + H, pl : pl + W].transpose(3, 0, 1, 2))

        def body(group: range, slot: int) -> None:
            for c in group:
                one(*chunks[c])

        # chunks on the thread pool: each writes its own samples (the same bits at any
        # thread count; the chunking depends only on the shapes)
        _parallel(len(chunks), body, _slots(len(chunks)))

    def backward(self, grad: np.ndarray) -> tuple[Any, ...]:  # type: ignore[override]
        x, w = self.saved
        p: _Plan = self.plan
        needs = self.needs_input_grad
        if self.one_d:
            grad = grad[:, :, None, :]
            x = None if x is None else x[:, :, None, :]
            w = None if w is None else w[:, :, None, :]
        dt = grad.dtype
        gb = _bias_grad(grad) if self.has_bias and needs[2] else None
        N, _, Hc, Wc = self.x_shape
        src = grad[:, :, :Hc, :Wc]
        chunks = self.chunks
        nmax = max(n1 - n0 for n0, n1 in chunks)
        gx = gw = None
        if (needs[0] or needs[1]) and p.sh * p.sw > 1:
            gx, gw = self._backward_batch_last(src, x, w, dt)
        elif needs[0] or needs[1]:
            # the convolution of the output gradient is the input gradient; each chunk's
            # unfolding, still in cache, feeds the weight gradient's GEMMs right away
            # (groups of chunks on the thread pool, as the convolution's backward)
            wk = w if w is not None else np.zeros((p.G * p.Og, p.Cg, p.kh, p.kw), dt)
            slots = _slots(len(chunks))
            cgroups = _groups(len(chunks))
            work = _Work(p, self.cpads, wk, None, nmax, dt, slots=slots)
            gx = np.empty((N, p.G * p.Og, p.OH, p.OW), dt) if needs[0] else None
            acc = _WeightGrad(p, nmax, dt, len(cgroups), slots) if needs[1] else None

            def body(group: range, slot: int) -> None:
                g = cgroups.index(group)
                for c in group:
                    n0, n1 = chunks[c]
                    if gx is not None:
                        u = work.run(src[n0:n1], gx[n0:n1], slot=slot)
                    else:  # the unfolding alone
                        u = _take(work.ubufs[slot], p.unfold_shape(n1 - n0))
                        _unfold(src[n0:n1], self.cpads, p, u, work.xbufs[slot])
                    if acc is not None:
                        acc.add(x[n0:n1], u, g, slot, first=c == group[0])
                    del u

            _parallel(len(chunks), body, slots)
            work = body = None  # release the scratch buffers (closure cells: no del)
            if acc is not None:
                gw = acc.result()
        if self.one_d:
            gx = None if gx is None else gx[:, :, 0, :]
            gw = None if gw is None else gw[:, :, 0, :]
        return (gx, gw, gb) if self.has_bias else (gx, gw)

    def _backward_batch_last(
        self, src: np.ndarray, x: Any, w: Any, dt: Any
    ) -> tuple[np.ndarray | None, np.ndarray | None]:
        """Strided: both gradients from one unfolding of the output gradient per chunk, in
        a batch-last layout (C, kh, kw, OH, OW, n).

        In NumPy (:func:`_unfold_batch_last`) through a (C, H, column phase, W / stride, n)
        copy whose strided windows are contiguous runs of OW * n elements (a (C, n, H, W)
        or (C, H, n, W) unfolding copies runs of W / stride elements at a stride); with
        kernels, the compiled gather (:mod:`gradfit.kernels.col2im`). The input gradient is
        one GEMM with the weight, the weight gradient one GEMM against the input in
        batch-last layout (C, H, W, n).
        """
        p: _Plan = self.plan
        pt, pl = self.cpads[0], self.cpads[2]
        N, C = self.x_shape[:2]
        kh, kw, OH, OW = p.kh, p.kw, p.OH, p.OW
        K, n_in = p.Cg * kh * kw, p.G * p.Og
        isz = np.dtype(dt).itemsize
        per = (C * p.Hp * p.Wp + C * kh * kw * OH * OW + 2 * n_in * OH * OW) * isz
        chunks = _chunks(N, per, OH * OW)  # as the convolution's: the same at any thread count
        cgroups = _groups(len(chunks))
        slots = _slots(len(chunks))
        nmax = max(n1 - n0 for n0, n1 in chunks)
        sw = p.sw
        Wq = -(-p.Wp // sw)
        jit = kernels.enabled()
        geom = (kh, kw, OH, OW, pt, pl, p.sh, p.sw, p.dh, p.dw)
        if jit and not (src.flags.c_contiguous and src.flags.writeable):
            src = src.copy()  # one array type for the kernel (fewer compilations)
        gx = np.empty((N, n_in, OH, OW), dt) if w is not None else None
        # accumulated transposed, (K, Og): unfolding @ x^T reads the unfolding in BLAS's
        # plain orientation (as the convolution's weight gradient), 1.25x faster here
        # than x @ unfolding^T; x^T is a transposed view (BLAS's flag), not a copy
        acc = np.zeros((len(cgroups), p.G, K, p.Og), dt) if x is not None else None
        wm = None if w is None else w.reshape(p.G, p.Og, K)

        def body(group: range, slot: int) -> None:
            gi = cgroups.index(group)
            ybuf = None if jit else _scratch.empty((C * p.Hp * sw * Wq * nmax,), dt)
            tmp = None if acc is None else np.empty(acc.shape[1:], dt)
            for c in group:
                n0, n1 = chunks[c]
                n = n1 - n0
                M = OH * OW * n
                # the GEMM operands (K, M) and (n_in, M), rows padded apart (_ld)
                ufull, u = _padded(C * kh * kw, M, dt)
                if ybuf is None:  # the compiled gather: one pass from NCHW
                    im2col_batch_last(src, n0, geom, n, ufull)
                else:
                    _unfold_batch_last(src[n0:n1], ybuf, p, pt, pl, u.reshape(C, kh, kw, OH, OW, n))
                um = u.reshape(p.G, K, M)
                o = _padded(n_in, M, dt)[1]
                if gx is not None:
                    np.matmul(wm, um, out=o.reshape(p.G, p.Og, M))
                    np.copyto(gx[n0:n1], o.reshape(n_in, OH, OW, n).transpose(3, 0, 1, 2))
                if acc is not None:
                    _batch_last(x[n0:n1], o.reshape(n_in, OH, OW, n))
                    first = c == group[0]
                    xtt = o.reshape(p.G, p.Og, M).swapaxes(1, 2)
                    np.matmul(um, xtt, out=acc[gi] if first else tmp)
                    if not first:
                        acc[gi] += tmp
                del ufull, u, um, o

        _parallel(len(chunks), body, slots)
        gw = None
        if acc is not None:
            total = acc[0]
            for g in range(1, acc.shape[0]):  # in group order: the same bits at any thread count
                total += acc[g]
            gw = np.ascontiguousarray(total.swapaxes(1, 2)).reshape(n_in, p.Cg, kh, kw)
        return gx, gw


class _WeightGrad:
    """The convolution's weight-gradient GEMMs, chunk by chunk, with ``x`` as its output
    gradient and the unfolding of the transposed convolution's output gradient."""

    def __init__(self, p: _Plan, nmax: int, dt: Any, groups: int = 1, slots: int = 1) -> None:
        self.p = p
        self.K = p.Cg * p.kh * p.kw if p.full else p.Cg * p.kw
        self.rows = 1 if p.full else p.kh
        # one sum per group, transposed (K, Og): unfolding @ x^T, both in BLAS's plain
        # orientation (as the convolution's weight gradient)
        self.acc = np.empty((groups, self.rows, p.G, self.K, p.Og), dt)
        self.tmps = [np.empty((p.G, self.K, p.Og), dt) for _ in range(slots)]
        size = p.G * p.Og * p.OH * p.OW * nmax
        self.gtbufs = [_scratch.empty((size,), dt) for _ in range(slots)]

    def add(self, x: np.ndarray, u: np.ndarray, group: int, slot: int, first: bool) -> None:
        p = self.p
        n = x.shape[0]
        M = p.OH * p.OW * n
        gt = _take(self.gtbufs[slot], (p.G, p.Og, M))
        np.copyto(gt.reshape(p.out_shape(n)), x.transpose(_TO[p.full]))
        acc, tmp = self.acc[group], self.tmps[slot]
        for i in range(self.rows):
            m = u.reshape(p.G, self.K, M) if p.full else _row_block(u, p, i)
            np.matmul(m, gt.swapaxes(1, 2), out=acc[i] if first else tmp)
            if not first:
                acc[i] += tmp

    def result(self) -> np.ndarray:
        """The group sums added in group order (the same bits at any thread count)."""
        p = self.p
        n_out = p.G * p.Og
        total = self.acc[0]
        for g in range(1, self.acc.shape[0]):
            total += self.acc[g]
        total = total.swapaxes(-1, -2)  # (rows, G, Og, K)
        if p.full:
            return np.ascontiguousarray(total).reshape(n_out, p.Cg, p.kh, p.kw)
        gw = total.reshape(p.kh, n_out, p.Cg, p.kw).transpose(1, 2, 0, 3)
        return np.ascontiguousarray(gw)


def _conv_transpose(
    op: str,
    nsp: int,
    input: Any,  # noqa: A002 - PyTorch's name
    weight: Any,
    bias: Any,
    stride: Any,
    padding: Any,
    output_padding: Any,
    groups: Any,
    dilation: Any,
    output_size: Any = None,
) -> Tensor:
    if not isinstance(input, Tensor) or not isinstance(weight, Tensor):
        raise TypeError(f"{op}: input and weight must be gf.Tensor, got "
                        f"{type(input).__name__} and {type(weight).__name__}")  # fmt: skip
    if bias is not None and not isinstance(bias, Tensor):
        raise TypeError(f"{op}: bias must be a gf.Tensor or None, got {type(bias).__name__}")
    dt = input._data.dtype
    if dt.kind != "f" or weight._data.dtype != dt or (bias is not None and bias._data.dtype != dt):
        bdt = None if bias is None else bias._data.dtype
        raise TypeError(
            f"{op}: input, weight and bias must share one float dtype, got input {dt}, "
            f"weight {weight._data.dtype}, bias {bdt}"
        )
    if not isinstance(groups, (int, np.integer)) or isinstance(groups, bool):
        raise TypeError(f"{op}: groups must be an int, got {groups!r}")
    if groups < 1:
        raise RuntimeError(f"{op}: groups must be a positive integer, got {groups!r}")
    groups = int(groups)
    if isinstance(padding, str):
        raise TypeError(f"{op}: padding must be an int or a tuple of ints, got {padding!r}")
    try:  # out-of-range values are RuntimeErrors here, as in PyTorch
        stride = _tuple(stride, nsp, "stride", op, 1)
        dilation = _tuple(dilation, nsp, "dilation", op, 1)
        padding = _tuple(padding, nsp, "padding", op, 0)
        output_padding = _tuple(output_padding, nsp, "output_padding", op, 0)
    except ValueError as e:
        raise RuntimeError(str(e)) from None
    if weight.ndim != nsp + 2:
        raise ValueError(
            f"{op}: weight must have {nsp + 2} dimensions (in_channels, out_channels/groups, "
            f"{'kL' if nsp == 1 else 'kH, kW'}), got shape {weight.shape}"
        )
    unbatched = input.ndim == nsp + 1
    if input.ndim not in (nsp + 1, nsp + 2):
        names = "(N, C, L) or (C, L)" if nsp == 1 else "(N, C, H, W) or (C, H, W)"
        raise RuntimeError(f"{op}: expected input {names}, got shape {input.shape}")
    x = input.reshape(1, *input.shape) if unbatched else input
    C = x.shape[1]
    if weight.shape[0] != C:
        raise RuntimeError(
            f"{op}: input has {C} channels but weight {weight.shape} expects {weight.shape[0]} "
            f"(weight is (in_channels, out_channels/groups, ...))"
        )
    if C % groups:
        raise RuntimeError(f"{op}: in_channels ({C}) must be divisible by groups ({groups})")
    n_out = weight.shape[1] * groups
    if bias is not None and bias.shape != (n_out,):
        raise RuntimeError(f"{op}: bias must have shape ({n_out},), got {bias.shape}")
    ks = weight.shape[2:]
    if any(k == 0 for k in ks):
        raise RuntimeError(f"{op}: kernel size must be positive, got weight shape {weight.shape}")
    for op_, s, d in zip(output_padding, stride, dilation, strict=True):
        if op_ >= s and op_ >= d:
            raise RuntimeError(
                f"{op}: output_padding {output_padding} must be smaller than either stride "
                f"{stride} or dilation {dilation}"
            )
    sizes = x.shape[2:]
    outs = [
        (i - 1) * s - 2 * p + d * (k - 1) + 1
        for i, s, p, d, k in zip(sizes, stride, padding, dilation, ks, strict=True)
    ]
    if output_size is not None:
        want = list(output_size)[-nsp:] if len(output_size) in (nsp, nsp + 1, nsp + 2) else None
        if want is None:
            raise ValueError(
                f"{op}: output_size must have {nsp} or {nsp + 2} elements, got {output_size!r}"
            )
        output_padding = []
        for m, w_, s in zip(outs, want, stride, strict=True):
            if not m <= int(w_) < m + s:
                raise ValueError(
                    f"{op}: requested an output size of {tuple(want)}, but valid sizes range from "
                    f"{tuple(outs)} to {tuple(o + s - 1 for o, s in zip(outs, stride, strict=True))}"
                    f" (for an input of {tuple(sizes)})"
                )
            output_padding.append(int(w_) - m)
        output_padding = tuple(output_padding)
    outs = [o + q for o, q in zip(outs, output_padding, strict=True)]
    if any(o <= 0 for o in outs):
        raise RuntimeError(
            f"{op}: the output size {tuple(outs)} for input {tuple(sizes)} is not positive"
        )
    if nsp == 1:
        pads = (0, 0, padding[0], padding[0] - output_padding[0])
        stride, dilation, size = (1, stride[0]), (1, dilation[0]), (1, outs[0])
    else:
        pads = (padding[0], padding[0] - output_padding[0],
                padding[1], padding[1] - output_padding[1])  # fmt: skip
        size = (outs[0], outs[1])
    args = (x, weight) if bias is None else (x, weight, bias)
    out = ConvTransposeNd.apply(
        *args, stride=stride, pads=pads, dilation=dilation, groups=groups, size=size
    )
    return out.reshape(*out.shape[1:]) if unbatched else out


def conv_transpose1d(
    input: Tensor,  # noqa: A002 - PyTorch's name
    weight: Tensor,
    bias: Tensor | None = None,
    stride: int | tuple[int] = 1,
    padding: int | tuple[int] = 0,
    output_padding: int | tuple[int] = 0,
    groups: int = 1,
    dilation: int | tuple[int] = 1,
) -> Tensor:
    """1-D transposed convolution of a (N, C_in, L) or (C_in, L) input (PyTorch's arguments).

    Args:
        input: (N, C_in, L) or unbatched (C_in, L).
        weight: (C_in, C_out / groups, kL).
        bias: (C_out,) or None.
        stride, padding, output_padding, dilation: int or 1-tuple.
        groups: split the channels into this many independent transposed convolutions.

    Output length: ``(L - 1) stride - 2 padding + dilation (kL - 1) + output_padding + 1``.

    Example:
        >>> import gradfit as gf
        >>> conv_transpose1d(gf.ones(1, 1, 3), gf.ones(1, 1, 2)).tolist()
        [[[1.0, 2.0, 2.0, 1.0]]]
    """
    return _conv_transpose("conv_transpose1d", 1, input, weight, bias, stride, padding,
                           output_padding, groups, dilation)  # fmt: skip


def conv_transpose2d(
    input: Tensor,  # noqa: A002 - PyTorch's name
    weight: Tensor,
    bias: Tensor | None = None,
    stride: int | tuple[int, int] = 1,
    padding: int | tuple[int, int] = 0,
    output_padding: int | tuple[int, int] = 0,
    groups: int = 1,
    dilation: int | tuple[int, int] = 1,
) -> Tensor:
    """2-D transposed convolution of a (N, C_in, H, W) or (C_in, H, W) input (PyTorch's arguments).

    Args:
        input: (N, C_in, H, W) or unbatched (C_in, H, W).
        weight: (C_in, C_out / groups, kH, kW).
        bias: (C_out,) or None.
        stride, padding, output_padding, dilation: int or pair.
        groups: split the channels into this many independent transposed convolutions.

    Output size: ``(H - 1) sH - 2 pH + dH (kH - 1) + output_padding_H + 1`` (likewise W).

    Example:
        >>> import gradfit as gf
        >>> conv_transpose2d(gf.ones(1, 1, 2, 2), gf.ones(1, 1, 2, 2), stride=2)[0, 0].shape
        (4, 4)
    """
    return _conv_transpose("conv_transpose2d", 2, input, weight, bias, stride, padding,
                           output_padding, groups, dilation)  # fmt: skip
