"""1-D and 2-D convolution (cross-correlation, as PyTorch) with stride, padding, dilation, groups.

How it computes. The batch is processed in chunks of samples (about 2 MB of unfolding
each, :func:`_chunks`), so each chunk's unfolding and GEMM results are still in cache when
the GEMM reads them and when they are copied out. A chunk is copied once, zero-padded, into
an internal layout:

* **row unfolding** (wide layers), layout ``(C, H, n, W)``: only the ``kw`` shifts along
  W are copied, ``P[(c, j), h, n, ow]`` (for a ``'same'``-width convolution, as one long
  shifted copy per channel); then for each kernel row ``i`` the rows ``h = oh + i`` of
  ``P`` are a plain 2-D matrix view, and ``out += W[:, :, i, :] @ P_i`` is one BLAS GEMM
  on it (``kh`` GEMMs in all, nothing else copied; with stride 1 along H they are one
  stacked ``matmul`` call over a strided view, :func:`_row_blocks`; with numba the
  unfolding and the sum + bias + NCHW finish are one GIL-free call each,
  :mod:`gradfit.kernels.conv`);
* **full im2col** (narrow layers, e.g. one input channel), layout ``(C, n, H, W)``:
  one copy of a strided view (every kernel offset's window at once; it was ``kh * kw``
  slice copies, each a Python call holding the GIL) makes ``col[(c, i, j), n, oh, ow]``
  and one GEMM gives the
  output as ``(O, n, OH, OW)``, which becomes NCHW by moving whole ``OH * OW`` planes.

The output is a C-contiguous NCHW array (bias added to each chunk before its one layout
copy), so the elementwise ops and pooling after a convolution run on contiguous memory.
The temporaries (unfoldings, GEMM results) come from a few reused scratch buffers
(:class:`_Scratch`), which spares the page faults of fresh memory every step.

Threads. The chunks form at most sixteen groups of consecutive chunks, which run on gradfit's
thread pool (:mod:`gradfit.threads`, ``gf.set_num_threads``), each thread with its own
scratch and BLAS at one thread: first its own consecutive share of the groups, then what
is left of the others' (:func:`_parallel`). The chunking depends only on the shapes, and a
weight or bias gradient is summed chunk by chunk inside a group, then group by group, so
results are bit-identical whatever the number of threads.

The backward pass works on the same chunks: the output gradient is copied to the
layout once per chunk, the weight gradient accumulates the same GEMMs against the saved
unfolding, the bias gradient is one GEMV, and the input gradient of a stride-1
convolution is the convolution of the padded output gradient with the flipped,
transposed kernel (same code path as the forward, unfolded from the chunk already in
the layout). Strided convolutions scatter the columns back (col2im) by adding
``kh * kw`` strided slices: no ``np.add.at``, no per-sample loop.

Example:
    >>> import gradfit as gf
    >>> x = gf.randn(2, 3, 8, 8)
    >>> w = gf.randn(4, 3, 3, 3, requires_grad=True)
    >>> conv2d(x, w, padding="same").shape
    (2, 4, 8, 8)
"""

from __future__ import annotations

import functools
import itertools
import math
import sys
import threading
from typing import Any

import numpy as np

from gradfit import allocator, kernels, threads
from gradfit.autograd import Function, retaining_saved
from gradfit.kernels.col2im import col2im_strided
from gradfit.kernels.conv import finish_full, finish_rows, unfold_rows
from gradfit.ops.gemm import ones_vector
from gradfit.ops.unary import _zeros_like
from gradfit.tensor import Tensor

# A kernel whose unfolded column (channels per group * kh * kw) is at most this long uses
# full im2col (one GEMM); wider kernels use row unfolding (kh GEMMs, kh times less copying).
_FULL_IM2COL_MAX_K = 160
# The batch is processed in chunks of samples whose unfolding takes about this many bytes
# (it and the GEMM results stay in cache), each at least this many GEMM columns wide.
_CHUNK_BYTES = 2 << 20
_MIN_CHUNK_COLS = 1024
# The batch is split into at least this many chunks where _MIN_CHUNK_COLS allows, so the
# chunks can run on several threads; a chunk count above _GROUPS is rounded up to a
# multiple of it. The chunks form at most _MAX_GROUPS groups of consecutive chunks, the
# units of parallel work (small ones: the last group to finish keeps the other threads
# waiting for less): a weight gradient is summed chunk by chunk inside a group and then
# group by group, in an order that does not depend on the number of threads.
_MIN_CHUNKS = 8
_GROUPS = 8
_MAX_GROUPS = 16

Pads = tuple[int, int, int, int]  # top, bottom, left, right


# --------------------------------------------------------------------------- scratch buffers


class _Scratch:
    """Large uninitialised arrays drawn from a few flat buffers kept between calls.

    A CNN step allocates and frees tens of megabytes of temporaries (padded inputs,
    unfoldings, GEMM results). Freed, that memory goes back to the OS and every new
    page costs a page fault on the next step (about 3,000 faults, 10 ms of a 70 ms LeNet
    step). The buffers here are kept instead. A buffer is handed out only while nothing
    else refers to it (its reference count shows the pool's own references alone, and
    every view of it counts), so an unfolding saved for backward stays untouched until
    the graph has released it. Arrays returned to the user are never drawn from here.
    """

    MIN_BYTES = 1 << 20  # smaller arrays come from np.empty (the allocator reuses them)
    MAX_BUFFERS = 16  # at one thread; each more thread of the pool gets 8 more (own scratch)

    def __init__(self) -> None:
        self.buffers: list[np.ndarray] = []
        self.lock = threading.Lock()

    def empty(self, shape: tuple[int, ...], dtype: Any) -> np.ndarray:
        dtype = np.dtype(dtype)
        n = math.prod(shape)
        nbytes = n * dtype.itemsize
        if nbytes < self.MIN_BYTES:
            return np.empty(shape, dtype)
        with self.lock:
            bufs = self.buffers
            pick = spare = -1
            for k in range(len(bufs)):
                # references: the list, getrefcount's argument; any more means it is in use
                if sys.getrefcount(bufs[k]) > 2:
                    continue
                size = bufs[k].size
                if size >= nbytes and (pick < 0 or size < bufs[pick].size):
                    pick = k
                elif size < nbytes and (spare < 0 or size < bufs[spare].size):
                    spare = k
            if pick < 0:
                buf = np.empty(nbytes, np.uint8)
                if spare >= 0:
                    bufs[spare] = buf  # a free buffer too small for this: replace it
                    pick = spare
                elif len(bufs) < self.MAX_BUFFERS + 8 * (threads.get_num_threads() - 1):
                    bufs.append(buf)
                    pick = len(bufs) - 1
                else:
                    return buf.view(dtype).reshape(shape)
            return bufs[pick][:nbytes].view(dtype).reshape(shape)

    def clear(self) -> None:
        with self.lock:
            self.buffers.clear()


_scratch = _Scratch()


# --------------------------------------------------------------------------- layout helpers
#
# Two internal layouts of a chunk of n samples of a (N, C, H, W) batch:
# * "CHNW" (C, H, n, W) for row unfolding: rows h..h+OH of every sample are one contiguous
#   block, so a kernel row's shift is a plain 2-D matrix view;
# * "CNHW" (C, n, H, W) for full im2col: the GEMM result (O, n, OH, OW) becomes NCHW by
#   swapping the first two axes, moving whole OH*OW planes (cheap).

_TO = {True: (1, 0, 2, 3), False: (1, 2, 0, 3)}  # NCHW -> layout (keyed by "full")
_FROM = {True: (1, 0, 2, 3), False: (2, 0, 1, 3)}  # layout -> NCHW


def _span(start: int, count: int, step: int) -> slice:
    return slice(start, start + step * (count - 1) + 1, step)


def _valid(pad: int, size: int, start: int, step: int, count: int) -> tuple[int, int]:
    """Output positions ``o`` in ``[a, b)`` whose input index ``start + o*step - pad`` is in range."""
    a = max(0, -((start - pad) // step))
    b = min(count, -((start - pad - size) // step))
    return a, max(a, b)


def _crop(src: np.ndarray, pads: Pads) -> tuple[np.ndarray, Pads]:
    """A (n, C, H, W) view cropped by the negative pads, and the pads clipped at 0."""
    if min(pads) >= 0:
        return src, pads
    pt, pb, pl, pr = pads
    H, W = src.shape[2:]
    src = src[:, :, max(-pt, 0) : H - max(-pb, 0), max(-pl, 0) : W - max(-pr, 0)]
    return src, (max(pt, 0), max(pb, 0), max(pl, 0), max(pr, 0))


def _take(flat: np.ndarray, shape: tuple[int, ...], offset: int = 0) -> np.ndarray:
    """A C-contiguous array of ``shape`` carved from a flat buffer at ``offset`` (elements)."""
    return flat[offset : offset + math.prod(shape)].reshape(shape)


class _Plan:
    """Shapes and options of one convolution (per sample) in its internal layout."""

    __slots__ = ("C", "Cg", "G", "Hp", "OH", "OW", "Og", "Wp", "dh", "dw", "full", "kh", "kw",
                 "pads", "sh", "sw")  # fmt: skip

    def __init__(self, x_shape: tuple[int, ...], pads: Pads, w_shape: tuple[int, ...],
                 stride: Any, dilation: Any, groups: int,
                 full_max_k: int | None = None) -> None:  # fmt: skip
        _, C, H, W = x_shape
        pt, pb, pl, pr = pads
        self.C, self.pads = C, pads
        self.Hp, self.Wp = H + pt + pb, W + pl + pr
        n_out, Cg, kh, kw = w_shape
        self.G, self.Cg, self.Og = groups, Cg, n_out // groups
        self.kh, self.kw = kh, kw
        self.sh, self.sw = stride
        self.dh, self.dw = dilation
        self.OH = (self.Hp - self.dh * (kh - 1) - 1) // self.sh + 1
        self.OW = (self.Wp - self.dw * (kw - 1) - 1) // self.sw + 1
        full_max_k = _FULL_IM2COL_MAX_K if full_max_k is None else full_max_k
        self.full = kh == 1 or Cg * kh * kw <= full_max_k

    def unfold_shape(self, n: int) -> tuple[int, ...]:
        """Full im2col ``(C, kh, kw, n, OH, OW)`` or row unfolding ``(C, kw, Hp, n, OW)``."""
        if self.full:
            return (self.C, self.kh, self.kw, n, self.OH, self.OW)
        return (self.C, self.kw, self.Hp, n, self.OW)

    def out_shape(self, n: int) -> tuple[int, ...]:
        """The (n_out, ...) result of the GEMMs in this layout, as 4-D."""
        n_out = self.G * self.Og
        return (n_out, n, self.OH, self.OW) if self.full else (n_out, self.OH, n, self.OW)

    def weights(self, w: np.ndarray) -> np.ndarray:
        """The GEMMs' left matrices: (1, G, Og, Cg*kh*kw), or (kh, G, Og, Cg*kw), one per kernel row."""
        if self.full:
            return w.reshape(1, self.G, self.Og, self.Cg * self.kh * self.kw)
        w5 = w.reshape(self.G, self.Og, self.Cg, self.kh, self.kw).transpose(3, 0, 1, 2, 4)
        return np.ascontiguousarray(w5).reshape(self.kh, self.G, self.Og, self.Cg * self.kw)

    @property
    def stacked(self) -> bool:
        """Whether a row unfolding's kernel rows are one stack of matrices (stride 1 along H):
        their GEMMs are then one ``matmul`` call (:func:`_row_blocks`)."""
        return not self.full and self.sh == 1


# The three layouts below depend on shapes and on the module's tuning constants only, and a
# training loop asks for the same ones every step: each is cached, keyed on the constants too
# (tests and experiments change them).


def _plan(x_shape: tuple[int, ...], pads: Pads, w_shape: tuple[int, ...], stride: Any,
          dilation: Any, groups: int) -> _Plan:  # fmt: skip
    """The :class:`_Plan` of these shapes and options (cached: plans are never changed)."""
    return _plan_cached(x_shape, pads, w_shape, stride, dilation, groups, _FULL_IM2COL_MAX_K)


@functools.lru_cache(maxsize=256)
def _plan_cached(x_shape: tuple[int, ...], pads: Pads, w_shape: tuple[int, ...], stride: Any,
                 dilation: Any, groups: int, full_max_k: int) -> _Plan:  # fmt: skip
    return _Plan(x_shape, pads, w_shape, stride, dilation, groups, full_max_k)


def _chunks(batch: int, per_sample: int, cols: int) -> tuple[tuple[int, int], ...]:
    """Split the batch into chunks of samples whose unfolding is about ``_CHUNK_BYTES``.

    Working chunk by chunk keeps the unfolding and the GEMM results in cache between the
    copy that makes them and the GEMM that reads them; a chunk keeps at least
    ``_MIN_CHUNK_COLS`` GEMM columns (``cols`` per sample) so the GEMMs stay efficient.
    """
    return _chunks_cached(batch, per_sample, cols,
                          (_CHUNK_BYTES, _MIN_CHUNK_COLS, _MIN_CHUNKS, _GROUPS))  # fmt: skip


@functools.lru_cache(maxsize=256)
def _chunks_cached(batch: int, per_sample: int, cols: int,
                   tuning: tuple[int, int, int, int]) -> tuple[tuple[int, int], ...]:  # fmt: skip
    chunk_bytes, min_cols, min_chunks, group = tuning
    if batch == 0:  # an empty batch: one empty chunk (empty output, zero weight gradient)
        return ((0, 0),)
    nb = chunk_bytes // max(per_sample, 1)
    min_n = -(-min_cols // max(cols, 1))
    nb = min(batch, max(1, nb, min_n))
    k = -(-batch // nb)  # as many chunks as needed, of balanced sizes
    k = max(k, min(min_chunks, batch // min_n))  # enough to share between threads
    up = -(-k // group) * group
    if k > group and up <= batch // min_n:  # groups of equal size: equal shares per thread
        k = up  # (LeNet's conv2: 10 chunks made groups of 1 and 2, and 4 vs 6 chunks per thread)
    bounds = [batch * i // k for i in range(k + 1)]
    return tuple(itertools.pairwise(bounds))


def _groups(count: int) -> tuple[range, ...]:
    """Consecutive chunk indices in at most ``_MAX_GROUPS`` balanced groups (fixed by ``count``)."""
    return _groups_cached(count, _MAX_GROUPS)


@functools.lru_cache(maxsize=64)
def _groups_cached(count: int, max_groups: int) -> tuple[range, ...]:
    g = min(count, max_groups)
    bounds = [count * i // g for i in range(g + 1)]
    return tuple(range(a, b) for a, b in itertools.pairwise(bounds))


def _parallel(count: int, body: Any, slots: int) -> None:
    """Run ``body(group, slot)`` for every group of ``count`` chunks on ``slots`` threads.

    Each thread ``t`` uses its own scratch (``slot = t``). It first runs its own consecutive
    share of the groups, in order: the same samples as its share of the elementwise ops
    and pooling around (:func:`gradfit.threads.spans` splits the batch alike), so the data
    a thread reads was mostly written from its own core. A thread done with its share takes
    the last group not yet started from the longest other share, so a slower thread (a
    busy core, a wait for the GIL) does not hold up the others at the end. Which thread runs
    a group does not change the bits: ``body`` accumulates per group, and groups are summed
    in group order. One slot runs them all in order in the caller. ``slots`` comes from
    :func:`_slots`, which sized the per-slot buffers.
    """
    groups = _groups(count)
    threads.hold_blas()  # small or split, the GEMMs here run one BLAS thread each
    allocator.tune()  # freed outputs and gradients are reused next step without page faults
    if slots == 1:  # in order, in the caller (what run_all does with one task, minus its cost)
        for group in groups:
            body(group, 0)
        return
    G = len(groups)
    shares = [list(range(G * t // slots, G * (t + 1) // slots)) for t in range(slots)]
    lock = threading.Lock()

    def task(t: int) -> None:
        own = shares[t]
        while True:
            with lock:
                if own:
                    i = own.pop(0)
                else:
                    other = max(shares, key=len)
                    if not other:
                        return
                    i = other.pop()
            body(groups[i], t)

    threads.run_all([functools.partial(task, t) for t in range(slots)])


def _slots(count: int) -> int:
    """How many threads (and per-thread scratch sets) :func:`_parallel` will use for ``count`` chunks."""
    return 1 if count == 1 else threads.workers(len(_groups(count)))


def _flat_rows(p: _Plan, pads: Pads) -> bool:
    """Whether a row unfolding's W shifts are shifts of whole flattened (H, n, W) blocks.

    With stride 1 along W and an output as wide as the input (``'same'``-like padding),
    ``u[c, j, h, n, ow] = src[c, h, n, ow + shift_j]`` except in the zero border columns, so
    one long copy of each channel's (H, n, W) block shifted by ``shift_j`` elements, then
    the border columns zeroed, replaces ``H * n`` copies of ``W`` elements.
    """
    return not p.full and p.sw == 1 and p.Wp - max(pads[2], 0) - max(pads[3], 0) == p.OW


def _unfold(src: np.ndarray, pads: Pads, p: _Plan, u: np.ndarray, xbuf: np.ndarray | None) -> None:
    """Unfold a (n, C, H, W) view (any strides), zero-padded by ``pads``, into ``u``.

    Full im2col: ``u[c, i, j, n, oh, ow] = padded[n, c, i*dh + oh*sh, j*dw + ow*sw]`` from a
    padded CNHW copy in ``xbuf`` (none without padding). Row unfolding:
    ``u[c, j, h, n, ow] = padded[n, c, h, j*dw + ow*sw]``, copied from ``src`` with only
    the border zeroed; in the :func:`_flat_rows` case from a contiguous (C, H, n, W) copy
    (in ``xbuf``, unless ``src`` is one already), with one long copy per shift.
    """
    src, (pt, pb, pl, pr) = _crop(src, pads)
    n, C, Hs, Ws = src.shape
    if p.full:
        xp = src.transpose(1, 0, 2, 3)
        if pt or pb or pl or pr:
            assert xbuf is not None
            buf = _take(xbuf, (C, n, pt + Hs + pb, pl + Ws + pr))
            if pt:  # only the borders there are (each slice assignment costs a microsecond)
                buf[:, :, :pt] = 0
            if pb:
                buf[:, :, pt + Hs :] = 0
            if pl:
                buf[:, :, pt : pt + Hs, :pl] = 0
            if pr:
                buf[:, :, pt : pt + Hs, pl + Ws :] = 0
            buf[:, :, pt : pt + Hs, pl : pl + Ws] = xp
            xp = buf
        # every kernel offset's strided window at once, as one (C, kh, kw, n, OH, OW) view
        # of the padded copy (in bounds: OH, OW come from its size), and one copy of it
        sc, sn, sh_, sw_ = xp.strides
        shape = (C, p.kh, p.kw, n, p.OH, p.OW)
        strides = (sc, p.dh * sh_, p.dw * sw_, sn, p.sh * sh_, p.sw * sw_)
        if xp.flags.c_contiguous:  # the padded copy: a view made directly (5 us less)
            win = np.ndarray(shape, xp.dtype, buffer=xp, strides=strides)
        else:
            win = np.lib.stride_tricks.as_strided(xp, shape, strides, writeable=False)
        np.copyto(u, win)
        return
    s = src.transpose(1, 2, 0, 3)  # (C, Hs, n, Ws)
    flat = _flat_rows(p, pads)
    if flat and not s.flags.c_contiguous:
        assert xbuf is not None
        buf = _take(xbuf, s.shape)
        np.copyto(buf, s)
        s = buf
    if pt:
        u[:, :, :pt] = 0
    if pb:
        u[:, :, pt + Hs :] = 0
    L = Hs * n * Ws
    for j in range(p.kw):
        a, b = _valid(pl, Ws, j * p.dw, p.sw, p.OW)
        dst = u[:, j, pt : pt + Hs]
        if flat:  # whole blocks shifted; what crossed a row boundary is zeroed below
            shift = j * p.dw - pl
            lo, hi = max(0, -shift), min(L, L - shift)
            if hi > lo:
                dst.reshape(C, L)[:, lo:hi] = s.reshape(C, L)[:, lo + shift : hi + shift]
        elif b > a:
            dst[..., a:b] = s[..., _span(j * p.dw + a * p.sw - pl, b - a, p.sw)]
        # the border columns one at a time: each is one long strided loop over (h, n),
        # where dst[..., :a] would run a loop of ``a`` elements per row
        for col in itertools.chain(range(a), range(b, p.OW)):
            dst[..., col] = 0


_NO_BIAS: dict[Any, np.ndarray] = {}


def _no_bias(dt: Any) -> np.ndarray:
    """A one-element zero of ``dt``: the bias argument of a compiled finish without bias (unread;
    writeable, as a real bias, so numba compiles one version of the kernel for both)."""
    b = _NO_BIAS.get(dt)
    if b is None:
        b = _NO_BIAS.setdefault(dt, np.zeros(1, dt))
    return b


def _compiled(dt: Any) -> bool:
    """Whether this convolution's compiled kernels (:mod:`gradfit.kernels.conv`,
    :mod:`gradfit.kernels.col2im`) serve dtype ``dt``: numba sums float32 and float64 only."""
    return np.dtype(dt) in (np.float32, np.float64) and kernels.enabled()


def _unfold_compiled(
    src: np.ndarray, pads: Pads, p: _Plan, u: np.ndarray, xbuf: np.ndarray
) -> None:
    """:func:`_unfold` for a :func:`_flat_rows` plan, as one compiled call without the GIL
    (:func:`gradfit.kernels.conv.unfold_rows`): the same ``u``."""
    s, (pt, _, pl, _) = _crop(src, pads)
    st = s.transpose(1, 2, 0, 3)  # (C, Hs, n, Ws)
    xt = _take(xbuf, st.shape)
    if st.flags.c_contiguous:  # already in the layout (an input gradient's source)
        unfold_rows(st, True, xt, u, pt, pl, p.dw)
    elif s.flags.c_contiguous:  # an NCHW chunk: moved to the layout in xt first
        unfold_rows(s, False, xt, u, pt, pl, p.dw)
    else:
        np.copyto(xt, st)
        unfold_rows(xt, True, xt, u, pt, pl, p.dw)


def _row_block(u: np.ndarray, p: _Plan, i: int) -> np.ndarray:
    """Kernel row ``i`` of a row unfolding as a (G, Cg*kw, OH*n*OW) matrix (a view if stride 1)."""
    Hp = u.shape[2]
    nw = u.shape[3] * u.shape[4]  # explicit sizes (not -1): the batch may be empty
    u = u.reshape(p.G, p.Cg * p.kw, Hp, nw)
    return u[:, :, _span(i * p.dh, p.OH, p.sh)].reshape(p.G, p.Cg * p.kw, p.OH * nw)


def _row_blocks(u: np.ndarray, p: _Plan) -> np.ndarray:
    """All kernel rows of a stride-1 row unfolding as one (kh, G, Cg*kw, OH*n*OW) view.

    Kernel row ``i`` starts ``i * dh`` rows of ``n * OW`` further into each channel's
    (Hp, n, OW) block, so the rows' matrices are one strided stack over the same memory
    (BLAS reads each with its leading dimension ``Hp * n * OW``): their GEMMs are one
    ``matmul`` call, one release of the GIL instead of one per row.
    """
    nw = u.shape[3] * u.shape[4]
    K = p.Cg * p.kw
    shape = (p.kh, p.G, K, p.OH * nw)
    if nw == 0:  # an empty chunk
        return np.empty(shape, u.dtype)
    z = u.itemsize
    strides = (p.dh * nw * z, K * p.Hp * nw * z, p.Hp * nw * z, z)
    return np.ndarray(shape, u.dtype, buffer=u, strides=strides)


def _gemms(u: np.ndarray, wm: np.ndarray, p: _Plan, out: np.ndarray, tmp: Any) -> None:
    """out (G, Og, M) = the convolution of the unfolding ``u`` with the weight matrices
    ``wm`` (a row unfolding of stride > 1 along H: one GEMM per kernel row, summed)."""
    if p.full:
        np.matmul(wm[0], u.reshape(p.G, p.Cg * p.kh * p.kw, out.shape[2]), out=out)
        return
    for i in range(p.kh):
        np.matmul(wm[i], _row_block(u, p, i), out=out if i == 0 else tmp)
        if i:
            out += tmp


class _Work:
    """Per-call buffers for convolving chunks of at most ``nmax`` samples with plan ``p``.

    With ``keep`` (the batch size), the unfoldings of all chunks get their own place in one
    buffer (saved for the weight gradient); otherwise every chunk reuses the same one.
    """

    __slots__ = ("b2", "bias", "finish", "fused", "obufs", "p", "pads", "per", "relu", "tbufs",
                 "ubufs", "wm", "xbufs")  # fmt: skip

    def __init__(self, p: _Plan, pads: Pads, w: np.ndarray, bias: Any, nmax: int, dt: Any,
                 keep: int = 0, slots: int = 1, relu: bool = False) -> None:  # fmt: skip
        self.p, self.pads = p, pads
        self.relu = relu  # max(out, 0) on the way to NCHW (a fused ReLU after the convolution)
        self.wm = p.weights(w)
        self.bias = bias
        self.b2 = None if bias is None else bias.reshape(p.G, p.Og, 1)
        self.per = math.prod(p.unfold_shape(1))
        if keep:  # one place per sample, shared by all slots
            self.ubufs = [_scratch.empty((self.per * keep,), dt)] * slots
        else:
            self.ubufs = [_scratch.empty((self.per * nmax,), dt) for _ in range(slots)]
        size = p.G * p.Og * p.OH * p.OW * nmax
        # the stacked kernel rows' GEMM results: kh of them (summed into the output)
        tsize = p.kh * size if p.stacked else size
        # the compiled unfolding and finish (gradfit.kernels.conv), for 'same'-width rows
        self.fused = p.stacked and _flat_rows(p, pads) and _compiled(dt)
        # the compiled bias + ReLU + move to NCHW of a full-im2col chunk (finish_full)
        self.finish = p.full and _compiled(dt)
        self.obufs = [_scratch.empty((size,), dt) for _ in range(slots)]
        self.tbufs = [None if p.full else _scratch.empty((tsize,), dt) for _ in range(slots)]
        self.xbufs: list[Any] = [None] * slots
        if (p.full and any(pads)) or _flat_rows(p, pads):  # padded or contiguous input copy
            self.xbufs = [_scratch.empty((p.C * p.Hp * p.Wp * nmax,), dt) for _ in range(slots)]

    @property
    def ubuf(self) -> np.ndarray:
        return self.ubufs[0]

    @property
    def xbuf(self) -> Any:
        return self.xbufs[0]

    def run(self, src: np.ndarray, dst: np.ndarray, offset: int = 0, slot: int = 0) -> np.ndarray:
        """Convolve a (n, C, H, W) view into ``dst`` (n, n_out, OH, OW); returns the unfolding.

        The chunk is unfolded, multiplied and copied to NCHW (bias added on the way) while
        it is in cache; ``offset`` (in samples) places the unfolding in the kept buffer;
        ``slot`` picks the calling thread's own buffers.
        """
        p = self.p
        n = src.shape[0]
        u = _take(self.ubufs[slot], p.unfold_shape(n), self.per * offset)
        M = p.OH * p.OW * n
        if self.fused:  # three calls without the GIL: unfold, the GEMMs, sum + bias + NCHW
            _unfold_compiled(src, self.pads, p, u, self.xbufs[slot])
        else:
            _unfold(src, self.pads, p, u, self.xbufs[slot])
        if p.stacked:  # the kernel rows' GEMMs in one call, then summed in row order
            tmp = _take(self.tbufs[slot], (p.kh, p.G, p.Og, M))
            np.matmul(self.wm, _row_blocks(u, p), out=tmp)
            if self.fused:
                has_bias = self.bias is not None
                bias = self.bias if has_bias else _no_bias(tmp.dtype)
                acc = _take(self.obufs[slot], (p.OH * n * p.OW,))
                tmp5 = tmp.reshape(p.kh, p.G * p.Og, p.OH, n, p.OW)
                finish_rows(tmp5, bias, has_bias, acc, dst, self.relu)
                return u
            out = _take(self.obufs[slot], (p.G, p.Og, M))
            np.sum(tmp, axis=0, out=out)
        else:
            out = _take(self.obufs[slot], (p.G, p.Og, M))
            tmp = None if self.tbufs[slot] is None else _take(self.tbufs[slot], (p.G, p.Og, M))
            _gemms(u, self.wm, p, out, tmp)
            if self.finish and dst.flags.c_contiguous:  # one pass: bias, ReLU, to NCHW
                has_bias = self.bias is not None
                bias = self.bias if has_bias else _no_bias(out.dtype)
                n_out = p.G * p.Og
                L = p.OH * p.OW
                finish_full(out.reshape(n_out, n, L), bias, has_bias, self.relu,
                            dst.reshape(n, n_out, L))  # fmt: skip
                return u
        if self.b2 is not None:
            out += self.b2
        src = out.reshape(p.out_shape(n)).transpose(_FROM[p.full])
        if self.relu:  # the fused ReLU in the same pass (gradfit.ops.unary's np.maximum)
            np.maximum(src, _zeros_like(src), out=dst)
        else:
            np.copyto(dst, src)
        return u


# --------------------------------------------------------------------------- the Function


class ConvNd(Function):
    """Convolution of a (N, C, H, W) or (N, C, L) input; 1-D runs as 2-D with H = 1.

    With an ``epilogue`` (:class:`gradfit.ops.conv_epilogue.Epilogue`), each chunk of the
    output also goes through the ReLU and (2-D) the 2x2 max pooling after it while it is in
    cache, and the backward takes their gradients chunk by chunk.
    """

    epilogue: Any = None

    def forward(
        self,
        x: np.ndarray,
        w: np.ndarray,
        b: np.ndarray | None = None,
        *,
        stride: tuple[int, int],
        pads: Pads,
        dilation: tuple[int, int],
        groups: int,
        epilogue: Any = None,
    ) -> np.ndarray:
        x_in = x  # kept (a reference) for a double backward of the weight gradient
        one_d = x.ndim == 3
        if one_d:
            x = x[:, :, None, :]
            w = w[:, :, None, :]
        self.one_d = one_d
        self.x_shape = x.shape
        self.opts = (stride, pads, dilation, groups)
        needs = self.needs_input_grad
        p = _plan(x.shape, pads, w.shape, stride, dilation, groups)
        N = x.shape[0]
        isz = x.dtype.itemsize
        per = math.prod(p.unfold_shape(1)) * isz
        if needs[0]:  # the backward pass works on the same chunks: size them for it too
            if stride == (1, 1):
                q = self._grad_plan(p, w.shape, pads, dilation, groups)
                per = max(per, math.prod(q.unfold_shape(1)) * isz)
            else:
                per = max(per, (p.C * p.kh * p.kw * p.OH * p.OW + p.C * p.Hp * p.Wp) * isz)
        chunks = _chunks(N, per, p.OH * p.OW)
        res = np.empty((N, p.G * p.Og, p.OH, p.OW), dtype=x.dtype)
        nmax = max(n1 - n0 for n0, n1 in chunks)
        slots = _slots(len(chunks))
        work = _Work(p, pads, w, b, nmax, x.dtype, keep=N if needs[1] else 0, slots=slots,
                     relu=epilogue is not None)  # fmt: skip
        units: list[Any] = [None] * len(chunks)
        ep = self.epilogue = epilogue
        if ep is not None:
            ep.start(res)

        def body(group: range, slot: int) -> None:
            for c in group:
                n0, n1 = chunks[c]
                units[c] = work.run(x[n0:n1], res[n0:n1], n0 if needs[1] else 0, slot)
                if ep is not None:  # pooling while the chunk is in cache (ReLU: in work.run)
                    ep.forward_chunk(res, n0, n1)

        _parallel(len(chunks), body, slots)
        work = body = None  # release the buffers (closure cells: no del)
        if not needs[1]:
            units = None
        self.plan, self.chunks = p, chunks
        self.has_bias = b is not None
        self.saved = (units, w if needs[0] else None, x_in if needs[1] else None)
        units = ep = None
        return res[:, :, 0, :] if one_d else res

    @staticmethod
    def _grad_plan(p: _Plan, w_shape: Any, pads: Pads, dilation: Any, groups: int) -> _Plan:
        """Plan of the stride-1 input gradient: the output gradient padded by extent-1-pad,
        convolved with the flipped kernel, in and out channels swapped."""
        eh, ew = p.dh * (p.kh - 1), p.dw * (p.kw - 1)
        pt, pb, pl, pr = pads
        gpads = (eh - pt, eh - pb, ew - pl, ew - pr)
        wf_shape = (p.G * p.Cg, p.Og, p.kh, p.kw)
        return _plan((1, w_shape[0], p.OH, p.OW), gpads, wf_shape, (1, 1), dilation, groups)

    def backward(self, grad: np.ndarray) -> tuple[Any, ...]:
        units, w = self.saved[:2]
        keep = retaining_saved()  # retain_graph: the next walk needs the units again
        p: _Plan = self.plan
        chunks = self.chunks
        stride, pads, dilation, groups = self.opts
        # the ReLU and pooling after it were fused (the epilogue): their gradient is made
        # chunk by chunk from the pooled (or ReLU's) output gradient, below
        ep = self.epilogue
        fused = ep is not None and ep.deferred(grad)
        if self.one_d:
            grad = grad[:, :, None, :]
        needs = self.needs_input_grad
        dt = grad.dtype
        n_out = p.G * p.Og
        M1 = p.OH * p.OW
        nmax = max(n1 - n0 for n0, n1 in chunks)
        want_b = self.has_bias and needs[2]
        strided = stride != (1, 1)
        # the gradient in the plan's layout, a chunk at a time: for the weight gradient,
        # the bias gradient (one GEMV), and as the source of the input gradient
        use_gt = needs[1] or (needs[0] and strided)
        if fused and not use_gt:  # the bias gradient sums the whole gradient: make it first
            grad = ep.whole_grad()  # (one sum over the batch, the bits of the unfused ops)
            ep.end_backward(keep)
            fused = False
        slots = _slots(len(chunks))
        if fused:
            ep.begin_backward(slots, nmax, not p.full)
        cgroups = _groups(len(chunks))
        gtbufs = (
            [_scratch.empty((n_out * M1 * nmax,), dt) for _ in range(slots)] if use_gt else None
        )
        gw_acc = gw_tmps = gttbufs = ones = gb = gb_acc = None
        if needs[1]:  # one sum per group of chunks, then summed in group order
            K = p.Cg * p.kh * p.kw if p.full else p.Cg * p.kw
            rows = 1 if p.full else p.kh
            # accumulated transposed, (K, Og): the GEMM unfolding @ gt^T has both operands
            # in BLAS's plain orientation, 1.4-2x faster than gt @ unfolding^T (both
            # operands with the summed axis innermost) for LeNet's shapes; gt^T is a
            # small copy per chunk
            gw_acc = np.empty((len(cgroups), rows, p.G, K, p.Og), dt)
            gw_tmps = [np.empty((rows, p.G, K, p.Og), dt) for _ in range(slots)]
            gttbufs = [_scratch.empty((n_out * M1 * nmax,), dt) for _ in range(slots)]
        if want_b:
            if use_gt:
                gb_acc = np.zeros((len(cgroups), n_out), dt)
                ones = ones_vector(M1 * nmax, dt)
            else:
                gb = grad.sum(axis=(0, 2, 3))
        gx = gx_step = None
        if needs[0]:
            N, C, H, W = self.x_shape
            gx = np.empty((N, C, H, W), dtype=dt)
            if strided:
                gx_step = self._col2im_step(w, p, pads, nmax, dt, slots)
            else:
                gx_step = self._conv_step(w, p, pads, dilation, groups, nmax, dt, slots)

        def body(group: range, slot: int) -> None:
            g = cgroups.index(group)
            for c in group:
                n0, n1 = chunks[c]
                n = n1 - n0
                gc = None if fused else grad[n0:n1]
                gt = None
                if use_gt:
                    gt = _take(gtbufs[slot], (p.G, p.Og, M1 * n))
                    shape4 = p.out_shape(n)
                    if fused:  # made in the layout from the pooled / ReLU's gradient
                        ep.grad_into(n0, n1, gt.reshape(shape4), not p.full, slot)
                    else:
                        np.copyto(gt.reshape(shape4), gc.transpose(_TO[p.full]))
                    if gb_acc is not None:
                        gb_acc[g] += gt.reshape(n_out, M1 * n) @ ones[: M1 * n]
                if needs[1]:
                    u = units[c]
                    gtt = _take(gttbufs[slot], (p.G, M1 * n, p.Og))
                    np.copyto(gtt, gt.swapaxes(1, 2))
                    if p.stacked:  # every kernel row's GEMM in one call
                        m = _row_blocks(u, p)
                        if c == group[0]:
                            np.matmul(m, gtt, out=gw_acc[g])
                        else:
                            np.matmul(m, gtt, out=gw_tmps[slot])
                            gw_acc[g] += gw_tmps[slot]
                    for i in range(rows if p.stacked else 0, rows):
                        m = u.reshape(p.G, K, M1 * n) if p.full else _row_block(u, p, i)
                        if c == group[0]:
                            np.matmul(m, gtt, out=gw_acc[g, i])
                        else:
                            np.matmul(m, gtt, out=gw_tmps[slot][i])
                            gw_acc[g, i] += gw_tmps[slot][i]
                    if not keep:  # free as we go (the scratch buffer stays in use until the end)
                        units[c] = None
                    del u, m
                if gx_step is not None:
                    gx_step(gc, gt, n0, n1, gx, slot)

        _parallel(len(chunks), body, slots)
        body = None
        if fused:
            ep.end_backward(keep)
        if gb_acc is not None:
            gb = gb_acc[0]
            for g in range(1, len(cgroups)):
                gb += gb_acc[g]
        units = None
        gw = None
        if needs[1]:
            gw_acc, parts = gw_acc[0], gw_acc
            for g in range(1, len(cgroups)):
                gw_acc += parts[g]
            del parts
            gw_acc = gw_acc.swapaxes(-1, -2)  # (rows, G, Og, K)
            if p.full:
                gw = np.ascontiguousarray(gw_acc).reshape(n_out, p.Cg, p.kh, p.kw)
            else:
                gw = gw_acc.reshape(p.kh, n_out, p.Cg, p.kw).transpose(1, 2, 0, 3)
                gw = np.ascontiguousarray(gw)
        if self.one_d:
            gx = None if gx is None else gx[:, :, 0, :]
            gw = None if gw is None else gw[:, :, 0, :]
        return (gx, gw, gb) if self.has_bias else (gx, gw)

    def _conv_step(
        self,
        w: np.ndarray,
        p: _Plan,
        pads: Pads,
        dilation: Any,
        groups: int,
        nmax: int,
        dt: Any,
        slots: int = 1,
    ) -> Any:
        """Stride 1: a chunk of dx = conv(grad padded by extent-1-pad, flipped transposed kernel)."""
        q = self._grad_plan(p, w.shape, pads, dilation, groups)
        wf = w.reshape(p.G, p.Og, p.Cg, p.kh, p.kw)[:, :, :, ::-1, ::-1].transpose(0, 2, 1, 3, 4)
        wf = np.ascontiguousarray(wf).reshape(p.G * p.Cg, p.Og, p.kh, p.kw)
        work = _Work(q, q.pads, wf, None, nmax, dt, slots=slots)

        def step(gc: np.ndarray, gt: Any, n0: int, n1: int, gx: np.ndarray, slot: int = 0) -> None:
            """``gc``: samples n0:n1 of the output gradient; ``gt``: the same in p's layout, or None."""
            if gt is not None:  # the chunk already in p's layout: a contiguous source
                src = gt.reshape(p.out_shape(n1 - n0)).transpose(_FROM[p.full])
            else:
                src = gc
            work.run(src, gx[n0:n1], slot=slot)

        return step

    def _col2im_step(
        self, w: np.ndarray, p: _Plan, pads: Pads, nmax: int, dt: Any, slots: int = 1
    ) -> Any:
        """Any stride: a chunk of columns = W^T @ grad, then each kernel offset's slice added back."""
        _, C, H, W = self.x_shape
        pt, pl = pads[0], pads[2]
        wt = w.reshape(p.G, p.Og, p.Cg * p.kh * p.kw).swapaxes(1, 2)
        K = p.Cg * p.kh * p.kw
        M1 = p.OH * p.OW
        dbufs = [_scratch.empty((p.G * K * M1 * nmax,), dt) for _ in range(slots)]
        jit = _compiled(dt)
        if jit:
            geom = (p.kh, p.kw, p.OH, p.OW, pt, pl, p.sh, p.sw, p.dh, p.dw)
        xbufs = [] if jit else [_scratch.empty((C * p.Hp * p.Wp * nmax,), dt) for _ in range(slots)]

        def step(gc: np.ndarray, gt: np.ndarray, n0: int, n1: int, gx: np.ndarray,
                 slot: int = 0) -> None:  # fmt: skip
            n = n1 - n0
            dcol = _take(dbufs[slot], (p.G, K, M1 * n))
            np.matmul(wt, gt, out=dcol)
            if jit:  # one gathering pass, straight into gx (same bits)
                cstrides = (M1, p.OW, 1) if p.full else (p.OW, n * p.OW, 1)
                col2im_strided(dcol.reshape(C * p.kh * p.kw, M1 * n), geom, cstrides, gx[n0:n1])
                return
            if p.full:
                dcol = dcol.reshape(C, p.kh, p.kw, n, p.OH, p.OW)
                dxp = _take(xbufs[slot], (C, n, p.Hp, p.Wp))
            else:
                dcol = dcol.reshape(C, p.kh, p.kw, p.OH, n, p.OW)
                dxp = _take(xbufs[slot], (C, p.Hp, n, p.Wp))
            dxp.fill(0)
            hw = (lambda r, c: (slice(None), slice(None), r, c)) if p.full else (
                lambda r, c: (slice(None), r, slice(None), c))  # fmt: skip
            for i in range(p.kh):
                rows = _span(i * p.dh, p.OH, p.sh)
                for j in range(p.kw):
                    dxp[hw(rows, _span(j * p.dw, p.OW, p.sw))] += dcol[:, i, j]
            inner = dxp[hw(slice(pt, pt + H), slice(pl, pl + W))]
            np.copyto(gx[n0:n1], inner.transpose(_FROM[p.full]))

        return step

    def backward_graph(self, grad: Tensor) -> tuple[Any, ...]:
        """The input gradient is a transposed convolution of ``grad`` by the weight, the
        weight gradient a convolution of the input by ``grad`` (batch and channels swapped,
        stride and dilation exchanged, one per group): both are conv ops, so they are recorded."""
        if type(self) is not ConvNd:  # a subclass (the transposed convolution) needs its own
            return Function.backward_graph(self, grad)
        stride, pads, dilation, groups = self.opts
        needs = self.needs_input_grad
        g = grad.unsqueeze(2) if self.one_d else grad
        gx = gw = gb = None
        if needs[0]:
            wt = self.input_tensor(1, self.saved[1])
            w4 = wt.unsqueeze(2) if self.one_d else wt
            gx = _graph_input_grad(g, w4, self.x_shape[2:], stride, pads, dilation, groups)
            if self.one_d:
                gx = gx.squeeze(2)
        if needs[1]:
            xt = self.input_tensor(0, self.saved[2])
            x4 = xt.unsqueeze(2) if self.one_d else xt
            k = (self.plan.kh, self.plan.kw)
            gw = _graph_weight_grad(x4, g, k, stride, pads, dilation, groups)
            if self.one_d:
                gw = gw.squeeze(2)
        if self.has_bias:
            if needs[2]:
                gb = grad.sum(dim=(0, *range(2, grad.ndim)))
            return gx, gw, gb
        return gx, gw


def _graph_input_grad(
    g: Tensor, w: Tensor, size: Any, stride: Any, pads: Pads, dilation: Any, groups: int
) -> Tensor:
    """The input gradient of a convolution as a (recorded) transposed convolution of ``g``;
    with uneven padding, that of the padded input, cropped."""
    from gradfit.ops.conv_transpose import conv_transpose2d

    pt, pb, pl, pr = pads
    even = pt == pb and pl == pr
    lo = (pt, pl) if even else (0, 0)
    full = tuple(size) if even else (size[0] + pt + pb, size[1] + pl + pr)
    ks = w.shape[2:]
    out_pad = tuple(
        n + 2 * q - d * (k - 1) - 1 - (o - 1) * s_
        for n, q, d, k, o, s_ in zip(full, lo, dilation, ks, g.shape[2:], stride, strict=True)
    )
    gx = conv_transpose2d(g, w, stride=stride, padding=lo, output_padding=out_pad,
                          groups=groups, dilation=dilation)  # fmt: skip
    return gx if even else gx[:, :, pt : pt + size[0], pl : pl + size[1]]


def _graph_weight_grad(
    x: Tensor, g: Tensor, ks: Any, stride: Any, pads: Pads, dilation: Any, groups: int
) -> Tensor:
    """The weight gradient of a convolution as (recorded) convolutions of the input by ``g``,
    batch and channels swapped, one per group."""
    pt, pb, pl, pr = pads
    if pt == pb and pl == pr:
        lo = (pt, pl)
    else:
        from gradfit.ops.padding import pad

        x, lo = pad(x, (pl, pr, pt, pb)), (0, 0)
    cg, og = x.shape[1] // groups, g.shape[1] // groups
    parts = []
    for i in range(groups):
        xi = x if groups == 1 else x[:, i * cg : (i + 1) * cg]
        gi = g if groups == 1 else g[:, i * og : (i + 1) * og]
        full = conv2d(xi.transpose(0, 1), gi.transpose(0, 1), padding=lo, stride=dilation,
                      dilation=stride)  # fmt: skip
        parts.append(full[:, :, : ks[0], : ks[1]].transpose(0, 1))
    if groups == 1:
        return parts[0]
    from gradfit.ops.shape import cat

    return cat(parts, dim=0)


# --------------------------------------------------------------------------- argument checks


def _tuple(v: Any, n: int, name: str, op: str, minimum: int) -> tuple[int, ...]:
    if type(v) is int and v >= minimum:  # the common case (a module's option), checked fast
        return (v,) * n
    if type(v) is tuple and len(v) == n and all(type(a) is int and a >= minimum for a in v):
        return v
    vals = (v,) * n if isinstance(v, (int, np.integer)) and not isinstance(v, bool) else v
    if (
        not isinstance(vals, (tuple, list))
        or len(vals) != n
        or not all(isinstance(a, (int, np.integer)) and not isinstance(a, bool) for a in vals)
    ):
        raise TypeError(f"{op}: {name} must be an int or a tuple of {n} ints, got {v!r}")
    if any(a < minimum for a in vals):
        raise ValueError(f"{op}: {name} must be >= {minimum}, got {v!r}")
    return tuple(int(a) for a in vals)


def _conv(
    op: str,
    nsp: int,
    input: Any,  # noqa: A002 - PyTorch's name
    weight: Any,
    bias: Any,
    stride: Any,
    padding: Any,
    dilation: Any,
    groups: Any,
) -> Tensor:
    x, args, opts, unbatched = _conv_args(op, nsp, input, weight, bias, stride, padding,
                                          dilation, groups)  # fmt: skip
    out = ConvNd.apply(x, *args, **opts)
    return out.reshape(*out.shape[1:]) if unbatched else out


def _conv_args(
    op: str,
    nsp: int,
    input: Any,  # noqa: A002 - PyTorch's name
    weight: Any,
    bias: Any,
    stride: Any,
    padding: Any,
    dilation: Any,
    groups: Any,
) -> tuple[Tensor, tuple[Tensor, ...], dict[str, Any], bool]:
    """Check a convolution's arguments: the (N, C, ...) input, the other tensor inputs of
    :class:`ConvNd`, its options (2-D: stride, pads, dilation, groups) and whether the
    input was unbatched."""
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
    b_shape = None if bias is None else bias.shape
    if _plain(stride) and _plain(padding) and _plain(dilation) and type(groups) is int:
        check = _checked_options  # the same options every step: cached
    else:
        check = _checked_options.__wrapped__
    opts, unbatched = check(op, nsp, input.shape, weight.shape, b_shape, stride, padding,
                            dilation, groups)  # fmt: skip
    x = input.reshape(1, *input.shape) if unbatched else input
    args = (weight,) if bias is None else (weight, bias)
    return x, args, dict(opts), unbatched


def _plain(v: Any) -> bool:
    """An option whose cached check is the same as a fresh one: an int, a string, or a
    tuple of ints (not a bool, a float or a list, which the fresh check rejects or copies)."""
    t = type(v)
    return t is int or t is str or (t is tuple and all(type(a) is int for a in v))


@functools.lru_cache(maxsize=512)
def _checked_options(
    op: str, nsp: int, x_shape: tuple[int, ...], w_shape: tuple[int, ...],
    b_shape: tuple[int, ...] | None, stride: Any, padding: Any, dilation: Any, groups: Any,
) -> tuple[dict[str, Any], bool]:  # fmt: skip
    """The checks of :func:`_conv_args` that depend on shapes and options only: the
    options of :class:`ConvNd` and whether the input is unbatched (or the error)."""
    if not isinstance(groups, (int, np.integer)) or isinstance(groups, bool) or groups < 1:
        raise ValueError(f"{op}: groups must be a positive integer, got {groups!r}")
    groups = int(groups)
    stride = _tuple(stride, nsp, "stride", op, 1)
    dilation = _tuple(dilation, nsp, "dilation", op, 1)
    if len(w_shape) != nsp + 2:
        raise ValueError(
            f"{op}: weight must have {nsp + 2} dimensions (out_channels, in_channels/groups, "
            f"{'kL' if nsp == 1 else 'kH, kW'}), got shape {w_shape}"
        )
    unbatched = len(x_shape) == nsp + 1
    if len(x_shape) not in (nsp + 1, nsp + 2):
        names = "(N, C, L) or (C, L)" if nsp == 1 else "(N, C, H, W) or (C, H, W)"
        raise ValueError(f"{op}: expected input {names}, got shape {x_shape}")
    xs = (1, *x_shape) if unbatched else x_shape
    n_out, Cg = w_shape[:2]
    ks = w_shape[2:]
    C = xs[1]
    if n_out % groups:
        raise ValueError(f"{op}: out_channels ({n_out}) must be divisible by groups ({groups})")
    if Cg * groups != C:
        raise ValueError(
            f"{op}: input has {C} channels but weight {w_shape} with groups={groups} "
            f"expects {Cg * groups}"
        )
    if b_shape is not None and b_shape != (n_out,):
        raise ValueError(f"{op}: bias must have shape ({n_out},), got {b_shape}")
    if any(k == 0 for k in ks):
        raise ValueError(f"{op}: kernel size must be positive, got weight shape {w_shape}")
    extent = tuple(d * (k - 1) + 1 for d, k in zip(dilation, ks, strict=True))
    if isinstance(padding, str):
        if padding == "valid":
            pad_pairs = [(0, 0)] * nsp
        elif padding == "same":
            if any(s != 1 for s in stride):
                raise ValueError(f"{op}: padding='same' is not supported for strided convolutions")
            pad_pairs = [((e - 1) // 2, e - 1 - (e - 1) // 2) for e in extent]
        else:
            raise ValueError(
                f"{op}: padding must be 'valid', 'same', an int or a tuple, got {padding!r}"
            )
    else:
        pad_pairs = [(q, q) for q in _tuple(padding, nsp, "padding", op, 0)]
    sizes = xs[2:]
    for size, (lo, hi), e in zip(sizes, pad_pairs, extent, strict=True):
        if size + lo + hi < e:
            raise ValueError(
                f"{op}: input spatial size {tuple(sizes)} (padded by {[list(q) for q in pad_pairs]}) "
                f"is smaller than the dilated kernel {extent}"
            )
    if nsp == 1:
        pads = (0, 0, *pad_pairs[0])
        stride, dilation = (1, stride[0]), (1, dilation[0])
    else:
        pads = (*pad_pairs[0], *pad_pairs[1])
    opts = {"stride": stride, "pads": pads, "dilation": dilation, "groups": groups}
    return opts, unbatched


def conv1d(
    input: Tensor,  # noqa: A002 - PyTorch's name
    weight: Tensor,
    bias: Tensor | None = None,
    stride: int | tuple[int] = 1,
    padding: int | tuple[int] | str = 0,
    dilation: int | tuple[int] = 1,
    groups: int = 1,
) -> Tensor:
    """1-D convolution (cross-correlation) over a (N, C_in, L) or (C_in, L) input.

    Args:
        input: (N, C_in, L) or unbatched (C_in, L).
        weight: (C_out, C_in / groups, kL).
        bias: (C_out,) or None.
        stride, dilation: int or 1-tuple.
        padding: int, 1-tuple, ``'valid'`` (no padding) or ``'same'`` (output length = input
            length; stride 1 only; an even extent pads one more on the right, as PyTorch).
        groups: split the channels into this many independent convolutions.

    Example:
        >>> import gradfit as gf
        >>> conv1d(gf.ones(1, 1, 5), gf.ones(1, 1, 3)).tolist()
        [[[3.0, 3.0, 3.0]]]
    """
    return _conv("conv1d", 1, input, weight, bias, stride, padding, dilation, groups)


def conv2d(
    input: Tensor,  # noqa: A002 - PyTorch's name
    weight: Tensor,
    bias: Tensor | None = None,
    stride: int | tuple[int, int] = 1,
    padding: int | tuple[int, int] | str = 0,
    dilation: int | tuple[int, int] = 1,
    groups: int = 1,
) -> Tensor:
    """2-D convolution (cross-correlation) over a (N, C_in, H, W) or (C_in, H, W) input.

    Args:
        input: (N, C_in, H, W) or unbatched (C_in, H, W).
        weight: (C_out, C_in / groups, kH, kW).
        bias: (C_out,) or None.
        stride, dilation: int or (sH, sW) / (dH, dW).
        padding: int, (pH, pW), ``'valid'`` or ``'same'`` (stride 1 only).
        groups: split the channels into this many independent convolutions.

    Output size: ``floor((H + 2 pH - dH (kH - 1) - 1) / sH) + 1`` (likewise W).

    Example:
        >>> import gradfit as gf
        >>> x = gf.ones(1, 1, 4, 4)
        >>> conv2d(x, gf.ones(1, 1, 3, 3), padding=1)[0, 0].tolist()
        [[4.0, 6.0, 6.0, 4.0], [6.0, 9.0, 9.0, 6.0], [6.0, 9.0, 9.0, 6.0], [4.0, 6.0, 6.0, 4.0]]
    """
    return _conv("conv2d", 2, input, weight, bias, stride, padding, dilation, groups)
