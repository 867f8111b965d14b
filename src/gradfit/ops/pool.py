"""Max and average pooling (1-D and 2-D) and adaptive average pooling, with PyTorch semantics.

Pooling runs over the ``kh * kw`` kernel offsets, each a strided *view* of the
(padded) input: the forward pass takes the running maximum (or sum) of
``kh * kw`` views, never copying windows; the backward pass writes (or, for
overlapping windows, adds) each offset's share into a strided slice of the
input gradient. For the usual non-overlapping ``kernel_size == stride`` case no
padding copy is made and the gradient slices are written once, without a zero fill
when the windows tile the input.

Max pooling sends each window's gradient to its first maximal element in
row-major order (PyTorch's rule for ties, e.g. windows of zeros after a ReLU).

With compiled kernels (:mod:`gradfit.kernels`, numba), 2x2 max pooling of stride 2 (the
CNN staple) takes each window's maximum and its flat index in one pass, and the backward
adds the gradient at those indices (:mod:`gradfit.kernels.pool`): LeNet's two poolings,
forward and backward, 11 ms -> 2.5 ms a step at one thread. Ranges of planes run on the
thread pool when the input is large.

Example:
    >>> import gradfit as gf
    >>> x = gf.arange(16.0).reshape(1, 1, 4, 4)
    >>> max_pool2d(x, 2).tolist()
    [[[[5.0, 7.0], [13.0, 15.0]]]]
"""

from __future__ import annotations

import functools
import math
from typing import Any

import numpy as np

from gradfit import allocator, kernels, threads
from gradfit.autograd import Function
from gradfit.kernels.pool import max_pool_2x2, max_unpool_planes
from gradfit.ops.linear_map import linear_map, snapshot
from gradfit.tensor import Tensor

# Inputs of at least this many bytes are pooled in batch chunks on the thread pool
# (gf.set_num_threads); smaller ones stay on the calling thread (no pool overhead).
_PARALLEL_BYTES = 1 << 20


def _batch_spans(x: np.ndarray) -> list[tuple[int, int]]:
    """Sample ranges of a large (N, C, H, W) input, one per pool thread; ``[(0, N)]`` otherwise.

    Pooling sums nothing across samples, so any split gives the same bits.
    """
    threads.hold_blas()
    allocator.tune()
    if x.ndim != 4:
        return [(0, x.shape[0] if x.ndim else 1)]
    return threads.spans(x, _PARALLEL_BYTES)


def _span(start: int, count: int, step: int) -> slice:
    return slice(start, start + step * (count - 1) + 1, step)


def _out_size(size: int, k: int, s: int, p: int, d: int, ceil_mode: bool) -> int:
    """PyTorch's pooling output size (a ceil-mode window must start inside the input or left pad)."""
    span = size + 2 * p - d * (k - 1) - 1
    out = (-(-span // s) if ceil_mode else span // s) + 1
    if ceil_mode and (out - 1) * s >= size + p:
        out -= 1
    return out


class _Geometry:
    """Kernel, stride, padding, dilation and sizes of one pooling call over (N, C, H, W)."""

    __slots__ = ("d", "hi", "k", "out", "p", "s", "size")

    def __init__(self, size: tuple[int, int], k: Any, s: Any, p: Any, d: Any, ceil: bool) -> None:
        self.size, self.k, self.s, self.p, self.d = size, k, s, p, d
        self.out = tuple(_out_size(*a, ceil) for a in zip(size, k, s, p, d, strict=True))
        # padding needed on the high side so that every window lies inside the padded array
        self.hi = tuple(
            max(p_, (o - 1) * s_ + d_ * (k_ - 1) + 1 - n - p_)
            for n, k_, s_, p_, d_, o in zip(size, k, s, p, d, self.out, strict=True)
        )

    @property
    def padded(self) -> bool:
        return any(self.p) or any(self.hi)

    @property
    def overlapping(self) -> bool:
        return any(s < d * (k - 1) + 1 for k, s, d in zip(self.k, self.s, self.d, strict=True))

    def views(self, xp: np.ndarray) -> list[np.ndarray]:
        """One strided view of ``xp`` per kernel offset, each of the output's shape."""
        (kh, kw), (sh, sw), (dh, dw), (oh, ow) = self.k, self.s, self.d, self.out
        return [
            xp[..., _span(i * dh, oh, sh), _span(j * dw, ow, sw)]
            for i in range(kh)
            for j in range(kw)
        ]

    def pad(self, x: np.ndarray, value: float) -> np.ndarray:
        if not self.padded:
            return x
        (ph, pw), (hh, hw) = self.p, self.hi
        H, W = self.size
        xp = np.full((*x.shape[:-2], ph + H + hh, pw + W + hw), value, dtype=x.dtype)
        xp[..., ph : ph + H, pw : pw + W] = x
        return xp

    def tiles(self) -> bool:
        """stride == kernel, no padding, no dilation: windows tile the top-left of the input."""
        return (
            self.s == self.k
            and not any(self.p)
            and all(d == 1 or k == 1 for d, k in zip(self.d, self.k, strict=True))
            and all(o * k <= n for o, k, n in zip(self.out, self.k, self.size, strict=True))
        )

    def covers(self) -> bool:
        """Whether the windows tile the input exactly (no gaps, no overlap, no padding)."""
        return (
            not self.padded
            and not self.overlapping
            and all(o * k == n for o, k, n in zip(self.out, self.k, self.size, strict=True))
            and self.s == self.k
        )

    def crop(self, gp: np.ndarray) -> np.ndarray:
        if not self.padded:
            return gp
        (ph, pw), (H, W) = self.p, self.size
        return np.ascontiguousarray(gp[..., ph : ph + H, pw : pw + W])


def _first_max(cands: list[np.ndarray], grad: bool, nan: bool) -> tuple[np.ndarray, Any]:
    """Elementwise maximum of same-shaped arrays and, if ``grad``, which one holds it.

    The index follows PyTorch's rule: a later candidate wins only if it is greater than the
    running maximum, or (with ``nan``, the exact rule for inputs holding NaN) if it is NaN,
    so ties go to the first and a NaN to the last NaN. For two candidates the index is a
    bool array (True: the second); for more, a uint8 array.
    """
    if len(cands) == 1:
        return cands[0], None
    first, second = cands[0], cands[1]
    m = np.maximum(first, second)
    idx = None
    if grad:
        idx = np.greater(second, first)
        if nan:
            idx |= np.isnan(second)
    if len(cands) > 2:
        if grad:
            idx = idx.view(np.uint8)
        for j, c in enumerate(cands[2:], 2):
            if grad:
                upd = np.greater(c, m)
                if nan:
                    upd |= np.isnan(c)
                np.copyto(idx, np.uint8(j), where=upd)
            np.maximum(m, c, out=m)
    return m, idx


def _route(g: np.ndarray, idx: Any, outs: list[Any]) -> list[np.ndarray]:
    """Undo :func:`_first_max`: candidate ``j`` gets ``g`` where it held the maximum, else 0.

    ``outs`` gives an output array (e.g. a strided view of the input gradient) or None per
    candidate; the results are returned in candidate order.
    """
    k = len(outs)
    if k == 1:
        if outs[0] is None:
            return [g]
        np.copyto(outs[0], g)
        return outs
    res = []
    for j, o in enumerate(outs):
        if k == 2:
            mask = idx if j == 1 else ~idx
        else:
            mask = idx == j
        res.append(np.multiply(g, mask, out=o) if o is not None else np.multiply(g, mask))
    return res


def _max_tiles(x: np.ndarray, geo: _Geometry, grad: bool) -> tuple[np.ndarray, Any]:
    """stride == kernel, no padding or dilation: maxima of strided views, no copy of ``x``.

    The windows are the axes ``(kh, kw)`` of ``x`` viewed as ``(..., oh, kh, ow, kw)``
    (a view for any memory layout). The maximum runs over each window row first (W),
    then over the rows (H): the first maximal row, then the first maximal column in it,
    is the first maximum in row-major order, PyTorch's rule (NaN: see ``_first_max``).
    Saved for backward: which column won in each row and which row won (bools for 2x2
    windows), not the input.
    """
    (kh, kw), (oh, ow) = geo.k, geo.out
    v = x[..., : oh * kh, : ow * kw].reshape(*x.shape[:-2], oh, kh, ow, kw)
    nan = False
    while True:
        rows, idx_w = [], []
        for a in range(kh):
            m, idx = _first_max([v[..., a, :, j] for j in range(kw)], grad, nan)
            rows.append(m)
            idx_w.append(idx)
        out, idx_h = _first_max(rows, grad, nan)
        # NaN propagates to the output (and to its sum): only then is the exact NaN
        # rule needed, and the indices are computed again with it (a rare, slower pass)
        if not grad or nan or kh * kw == 1 or not np.isnan(out.sum()):
            break
        nan = True
    if kh == 1 and kw == 1:
        out = out.copy()
    return out, ((idx_w, idx_h) if grad else None)


def _kernel_ok(dtype: Any, geo: _Geometry) -> bool:
    """Whether max pooling of ``dtype`` runs on the compiled kernels (:mod:`gradfit.kernels.pool`):
    2x2 windows of stride 2 (no padding or dilation), float32 or float64."""
    return (
        geo.k == (2, 2)
        and geo.tiles()
        and np.dtype(dtype) in (np.float32, np.float64)
        and kernels.enabled()
    )


def fusable_geometry(
    size: tuple[int, int], kernel_size: Any, stride: Any, padding: Any, dilation: Any,
    ceil_mode: bool, dtype: Any,
) -> _Geometry | None:  # fmt: skip
    """The geometry of a 2-D max pooling of (H, W) = ``size`` if it runs on the compiled 2x2
    kernels (:func:`_kernel_ok`), else None (also for options :func:`max_pool2d` would reject).

    For :mod:`gradfit.ops.conv_epilogue`, which pools a convolution's output chunk by chunk
    with the same kernel (the same bits as :func:`max_pool2d`).

    Example:
        >>> import numpy as np
        >>> g = fusable_geometry((28, 28), 2, None, 0, 1, False, np.float32)
        >>> g is None or g.out == (14, 14)
        True
    """
    try:
        k = _ints(kernel_size, 2, "kernel_size", "max_pool2d", 1)
        s = k if stride is None or stride == () else _ints(stride, 2, "stride", "max_pool2d", 1)
        p = _ints(padding, 2, "padding", "max_pool2d", 0)
        d = _ints(dilation, 2, "dilation", "max_pool2d", 1)
    except (TypeError, ValueError):
        return None
    geo = _Geometry(tuple(size), k, s, p, d, bool(ceil_mode))
    return geo if min(geo.out) >= 1 and _kernel_ok(dtype, geo) else None


def _plane_parts(a: np.ndarray) -> list[tuple[int, int]]:
    """Ranges of planes (first axis of a (P, ...) array) for the pool threads, if ``a`` is large."""
    threads.hold_blas()
    allocator.tune()
    return threads.spans(a, _PARALLEL_BYTES)


class MaxPool2d(Function):
    # set on a node recorded by a fused convolution (gradfit.ops.conv_epilogue): its
    # backward hands the gradient on to the convolution's node, which scatters it by chunks
    fused: Any = None

    def forward(self, x: np.ndarray, geo: _Geometry) -> np.ndarray:
        self.geo = geo
        grad = self.needs_input_grad[0]
        self.kernel = _kernel_ok(x.dtype, geo)
        if self.kernel:
            return self._forward_kernel(x, geo, grad)
        if geo.tiles():
            return self._forward_tiled(x, geo, grad)
        xp = geo.pad(x, -np.inf)
        views = geo.views(xp)
        out = views[0].copy()
        for v in views[1:]:
            np.maximum(out, v, out=out)
        if grad:
            self.saved = (xp, out)
        return out

    def _forward_kernel(self, x: np.ndarray, geo: _Geometry, grad: bool) -> np.ndarray:
        """Maximum and its flat index per window in one compiled pass, planes split on the pool."""
        (H, W), (oh, ow) = geo.size, geo.out
        lead = x.shape[:-2]
        x3 = np.ascontiguousarray(x.reshape(-1, H, W))
        out = np.empty((x3.shape[0], oh, ow), x.dtype)
        arg = np.empty(out.shape, np.int32)
        parts = _plane_parts(x3)
        if len(parts) == 1:
            max_pool_2x2(x3, out, arg)
        else:
            threads.run_all([
                functools.partial(max_pool_2x2, x3[a:b], out[a:b], arg[a:b])
                for a, b in parts
            ])  # fmt: skip
        self.lead = lead
        self.saved = (arg,) if grad else ()
        return out.reshape(*lead, oh, ow)

    def _backward_kernel(self, grad: np.ndarray) -> np.ndarray:
        """Each window's gradient added at its saved index (planes split on the pool)."""
        (arg,) = self.saved
        (H, W), (oh, ow) = self.geo.size, self.geo.out
        P = arg.shape[0]
        g2 = np.ascontiguousarray(grad.reshape(P, oh * ow))
        a2 = arg.reshape(P, oh * ow)
        gx = np.empty((P, H * W), grad.dtype)
        if not kernels.enabled():  # turned off since the forward: NumPy's scatter
            gx.fill(0)
            np.add.at(gx, (np.arange(P)[:, None], a2), g2)
        else:
            parts = _plane_parts(gx)
            if len(parts) == 1:
                max_unpool_planes(g2, a2, gx)
            else:
                threads.run_all([
                    functools.partial(max_unpool_planes, g2[a:b], a2[a:b], gx[a:b])
                    for a, b in parts
                ])  # fmt: skip
        return gx.reshape(*self.lead, H, W)

    def _forward_tiled(self, x: np.ndarray, geo: _Geometry, grad: bool) -> np.ndarray:
        """The tiled maximum (:func:`_max_tiles`), in batch chunks on the pool when large."""
        spans = _batch_spans(x)
        self.spans = spans
        if len(spans) == 1:
            out, saved = _max_tiles(x, geo, grad)
            self.saved = (saved,)
            return out
        res = np.empty((*x.shape[:-2], *geo.out), x.dtype)

        def part(a: int, b: int) -> Any:
            out, saved = _max_tiles(x[a:b], geo, grad)
            res[a:b] = out
            return saved

        self.saved = tuple(threads.run_all([functools.partial(part, a, b) for a, b in spans]))
        return res

    def backward(self, grad: np.ndarray) -> tuple[Any]:
        if self.fused is not None:
            handed = self.fused.defer_pool(grad)
            if handed is not None:
                return handed
        geo: _Geometry = self.geo
        if self.kernel:
            return (self._backward_kernel(grad),)
        if geo.tiles():
            return (self._backward_tiled(grad, geo),)
        xp, out = self.saved
        overlap = geo.overlapping
        gp = np.zeros_like(xp)
        dviews = geo.views(gp)
        views = geo.views(xp)
        remaining = grad
        last = len(views) - 1
        zero = grad.dtype.type(0)
        for n, (v, dv) in enumerate(zip(views, dviews, strict=True)):
            if n == last:
                share = remaining
            else:
                hit = v == out
                share = np.where(hit, remaining, zero)
                remaining = np.where(hit, zero, remaining)
            if overlap:
                dv += share
            else:
                dv[...] = share
        return (geo.crop(gp),)

    def _backward_tiled(self, grad: np.ndarray, geo: _Geometry) -> np.ndarray:
        (kh, kw), (oh, ow) = geo.k, geo.out
        covers = oh * kh == geo.size[0] and ow * kw == geo.size[1]
        gx = (np.empty if covers else np.zeros)((*grad.shape[:-2], *geo.size), dtype=grad.dtype)
        spans, saved = self.spans, self.saved
        if len(spans) == 1:
            _unpool_tiles(grad, saved[0], geo, gx)
        else:
            threads.run_all([
                functools.partial(_unpool_tiles, grad[a:b], saved[c], geo, gx[a:b])
                for c, (a, b) in enumerate(spans)
            ])  # fmt: skip
        return gx

    def backward_graph(self, grad: Tensor) -> tuple[Any]:
        """The backward is linear in ``grad`` (each window's gradient goes to its saved argmax),
        so it is recorded as a :func:`~gradfit.ops.linear_map.linear_map` whose transpose reads
        each window's argmax (:meth:`_gather`); the argmax itself has zero derivative."""
        node = snapshot(self)  # its saved argmax outlive this node's release
        node.fused = None  # a fused node's scatter runs here, not in the convolution's backward
        return (linear_map(grad, lambda g: node.backward(g)[0], node._gather, self.name),)

    def _gather(self, gx: np.ndarray) -> np.ndarray:
        """The transpose of :meth:`backward`: each window's value of ``gx`` at its argmax."""
        geo: _Geometry = self.geo
        if self.kernel:
            (arg,) = self.saved
            P, oh, ow = arg.shape
            flat = np.ascontiguousarray(gx).reshape(P, math.prod(geo.size))
            res = np.take_along_axis(flat, arg.reshape(P, oh * ow), 1)
            return res.reshape(*self.lead, *geo.out)
        if geo.tiles():
            spans, saved = self.spans, self.saved
            parts = [_gather_tiles(gx[a:b], saved[c], geo) for c, (a, b) in enumerate(spans)]
            return parts[0] if len(parts) == 1 else np.concatenate(parts)
        xp, out = self.saved
        gviews = geo.views(geo.pad(gx, 0.0))
        res = gviews[-1].copy()  # the last offset takes what no earlier one did
        taken = np.zeros(out.shape, dtype=bool)
        for v, gv in zip(geo.views(xp)[:-1], gviews[:-1], strict=True):
            hit = (v == out) & ~taken
            np.copyto(res, gv, where=hit)
            taken |= hit
        return res


def _unpool_tiles(grad: np.ndarray, saved: Any, geo: _Geometry, gx: np.ndarray) -> None:
    """Route ``grad`` to the maxima that :func:`_max_tiles` recorded, written into ``gx``."""
    idx_w, idx_h = saved
    (kh, kw), (oh, ow) = geo.k, geo.out
    gv = gx[..., : oh * kh, : ow * kw].reshape(*grad.shape[:-2], oh, kh, ow, kw)
    g_rows = _route(grad, idx_h, [None] * kh)
    for a in range(kh):
        _route(g_rows[a], idx_w[a], [gv[..., a, :, j] for j in range(kw)])


def _gather_tiles(gx: np.ndarray, saved: Any, geo: _Geometry) -> np.ndarray:
    """The transpose of :func:`_unpool_tiles`: each window's value of ``gx`` at its maximum."""
    idx_w, idx_h = saved
    (kh, kw), (oh, ow) = geo.k, geo.out
    gv = gx[..., : oh * kh, : ow * kw].reshape(*gx.shape[:-2], oh, kh, ow, kw)
    rows = [_pick([gv[..., a, :, j] for j in range(kw)], idx_w[a]) for a in range(kh)]
    return _pick(rows, idx_h)


def _pick(cands: list[np.ndarray], idx: Any) -> np.ndarray:
    """The candidate that :func:`_first_max` chose, elementwise (its index ``idx``)."""
    if len(cands) == 1:
        return cands[0].copy()
    if len(cands) == 2:
        return np.where(idx, cands[1], cands[0])
    res = cands[0].copy()
    for j, c in enumerate(cands[1:], 1):
        np.copyto(res, c, where=idx == j)
    return res


class AvgPool2d(Function):
    def forward(self, x: np.ndarray, geo: _Geometry, divisor: Any) -> np.ndarray:
        xp = geo.pad(x, 0.0)
        views = geo.views(xp)
        out = views[0].copy()
        for v in views[1:]:
            out += v
        out /= divisor
        self.geo, self.divisor = geo, divisor
        self.xp_shape = xp.shape
        return out

    def backward(self, grad: np.ndarray) -> tuple[Any]:
        geo: _Geometry = self.geo
        share = grad / self.divisor
        gp = (
            np.empty(self.xp_shape, grad.dtype)
            if geo.covers()
            else np.zeros(self.xp_shape, grad.dtype)
        )
        overlap = geo.overlapping
        for dv in geo.views(gp):
            if overlap:
                dv += share
            else:
                dv[...] = share
        return (geo.crop(gp),)

    def backward_graph(self, grad: Tensor) -> tuple[Any]:
        """The backward is the transpose of this linear op, whose transpose is its forward."""
        geo, div = self.geo, self.divisor
        again = lambda g: AvgPool2d().forward(g, geo, div)
        return (linear_map(grad, lambda g: self.backward(g)[0], again, self.name),)


class AdaptiveAvg(Function):
    """out = A_h @ x @ A_w^T with averaging matrices (windows are products of intervals)."""

    def forward(self, x: np.ndarray, ah: np.ndarray, aw: np.ndarray) -> np.ndarray:
        self.saved = (ah, aw)  # small constant matrices, passed as options
        return np.matmul(np.matmul(ah, x), aw.T)

    def backward(self, grad: np.ndarray) -> tuple[Any]:
        ah, aw = self.saved
        return (np.matmul(np.matmul(ah.T, grad), aw),)

    def backward_graph(self, grad: Tensor) -> tuple[Any]:
        ah, aw = self.saved  # a linear op: A_h^T g A_w, recorded with Tensor matmuls
        return ((Tensor._wrap(ah.T) @ grad) @ Tensor._wrap(aw),)


# --------------------------------------------------------------------------- argument checks


def _ints(v: Any, n: int, name: str, op: str, minimum: int) -> tuple[int, ...]:
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


def _prepare(
    op: str,
    nsp: int,
    x: Any,
    kernel_size: Any,
    stride: Any,
    padding: Any,
    dilation: Any,
    ceil_mode: bool,
) -> tuple[Tensor, _Geometry, tuple[int, ...]]:
    """Validate and return the input as (B, C, H, W), the geometry and the output shape."""
    if not isinstance(x, Tensor):
        raise TypeError(f"{op}: expected a gf.Tensor, got {type(x).__name__}")
    if x._data.dtype.kind != "f":
        raise TypeError(f"{op}: expected a float tensor, got {x._data.dtype}")
    if x.ndim not in (nsp + 1, nsp + 2):
        names = "(N, C, L) or (C, L)" if nsp == 1 else "(N, C, H, W) or (C, H, W)"
        raise ValueError(f"{op}: expected input {names}, got shape {x.shape}")
    k = _ints(kernel_size, nsp, "kernel_size", op, 1)
    s = k if stride is None or (isinstance(stride, (tuple, list)) and len(stride) == 0) else None
    if s is None:
        s = _ints(stride, nsp, "stride", op, 1)
    p = _ints(padding, nsp, "padding", op, 0)
    d = _ints(dilation, nsp, "dilation", op, 1)
    for k_, p_, d_ in zip(k, p, d, strict=True):
        if p_ > (d_ * (k_ - 1) + 1) // 2:
            raise ValueError(
                f"{op}: padding should be at most half of the effective kernel size, got "
                f"padding={padding}, kernel_size={kernel_size}, dilation={dilation}"
            )
    sizes = x.shape[-nsp:]
    if nsp == 1:
        k, s, p, d, sizes = (1, *k), (1, *s), (0, *p), (1, *d), (1, *sizes)
    geo = _Geometry(tuple(sizes), k, s, p, d, bool(ceil_mode))
    if any(o < 1 for o in geo.out):
        raise ValueError(
            f"{op}: input spatial size {tuple(x.shape[-nsp:])} is too small for "
            f"kernel_size={kernel_size}, padding={padding}, dilation={dilation} "
            f"(output size would be {geo.out[2 - nsp :]})"
        )
    lead = x.shape[:-nsp]
    out_shape = (*lead, *geo.out[2 - nsp :])
    x4 = x.reshape(*lead, *sizes) if nsp == 1 else x
    return x4, geo, out_shape


def max_pool2d(
    input: Tensor,  # noqa: A002 - PyTorch's name
    kernel_size: int | tuple[int, int],
    stride: int | tuple[int, int] | None = None,
    padding: int | tuple[int, int] = 0,
    dilation: int | tuple[int, int] = 1,
    ceil_mode: bool = False,
) -> Tensor:
    """2-D max pooling over a (N, C, H, W) or (C, H, W) input.

    ``stride`` defaults to ``kernel_size``; padding (implicit -inf) is at most half
    the effective kernel. The gradient goes to the first maximum of each window.
    ``return_indices`` is not supported.

    Example:
        >>> import gradfit as gf
        >>> max_pool2d(gf.tensor([[[1.0, 3.0], [2.0, 0.0]]]), 2).tolist()
        [[[3.0]]]
    """
    x, geo, shape = _prepare(
        "max_pool2d", 2, input, kernel_size, stride, padding, dilation, ceil_mode
    )
    out = MaxPool2d.apply(x, geo=geo)
    return out if out.shape == shape else out.reshape(*shape)  # no Alias node when batched


def max_pool1d(
    input: Tensor,  # noqa: A002 - PyTorch's name
    kernel_size: int | tuple[int],
    stride: int | tuple[int] | None = None,
    padding: int | tuple[int] = 0,
    dilation: int | tuple[int] = 1,
    ceil_mode: bool = False,
) -> Tensor:
    """1-D max pooling over a (N, C, L) or (C, L) input (see :func:`max_pool2d`).

    Example:
        >>> import gradfit as gf
        >>> max_pool1d(gf.tensor([[1.0, 3.0, 2.0, 0.0]]), 2).tolist()
        [[3.0, 2.0]]
    """
    x, geo, shape = _prepare(
        "max_pool1d", 1, input, kernel_size, stride, padding, dilation, ceil_mode
    )
    return MaxPool2d.apply(x, geo=geo).reshape(*shape)


def _avg_divisor(geo: _Geometry, count_include_pad: bool, divisor_override: Any, dtype: Any) -> Any:
    if divisor_override is not None:
        if not isinstance(divisor_override, (int, np.integer)) or divisor_override <= 0:
            raise ValueError(
                f"avg_pool: divisor_override must be a positive int, got {divisor_override!r}"
            )
        return dtype.type(divisor_override)
    counts = []
    for n, k, s, p, o in zip(geo.size, geo.k, geo.s, geo.p, geo.out, strict=True):
        start = np.arange(o) * s - p
        end = np.minimum(start + k, n + p)  # windows are clipped to the padded input
        if not count_include_pad:
            start, end = np.maximum(start, 0), np.minimum(end, n)
        counts.append((end - start).astype(dtype))
    div = counts[0][:, None] * counts[1][None, :]
    if np.all(div == div.flat[0]):
        return dtype.type(div.flat[0])
    return div


def avg_pool2d(
    input: Tensor,  # noqa: A002 - PyTorch's name
    kernel_size: int | tuple[int, int],
    stride: int | tuple[int, int] | None = None,
    padding: int | tuple[int, int] = 0,
    ceil_mode: bool = False,
    count_include_pad: bool = True,
    divisor_override: int | None = None,
) -> Tensor:
    """2-D average pooling over a (N, C, H, W) or (C, H, W) input.

    ``count_include_pad=True`` (PyTorch's default) divides by the full window size,
    zero padding included; ``False`` divides by the number of real input elements.

    Example:
        >>> import gradfit as gf
        >>> avg_pool2d(gf.ones(1, 1, 2, 2), 2, padding=1).tolist()
        [[[[0.25, 0.25], [0.25, 0.25]]]]
    """
    x, geo, shape = _prepare("avg_pool2d", 2, input, kernel_size, stride, padding, 1, ceil_mode)
    div = _avg_divisor(geo, count_include_pad, divisor_override, x._data.dtype)
    return AvgPool2d.apply(x, geo=geo, divisor=div).reshape(*shape)


def avg_pool1d(
    input: Tensor,  # noqa: A002 - PyTorch's name
    kernel_size: int | tuple[int],
    stride: int | tuple[int] | None = None,
    padding: int | tuple[int] = 0,
    ceil_mode: bool = False,
    count_include_pad: bool = True,
) -> Tensor:
    """1-D average pooling over a (N, C, L) or (C, L) input (see :func:`avg_pool2d`).

    Example:
        >>> import gradfit as gf
        >>> avg_pool1d(gf.tensor([[1.0, 3.0, 2.0, 0.0]]), 2).tolist()
        [[2.0, 1.0]]
    """
    x, geo, shape = _prepare("avg_pool1d", 1, input, kernel_size, stride, padding, 1, ceil_mode)
    div = _avg_divisor(geo, count_include_pad, None, x._data.dtype)
    return AvgPool2d.apply(x, geo=geo, divisor=div).reshape(*shape)


def _adaptive_matrix(n: int, o: int, dtype: Any) -> np.ndarray:
    """(o, n) matrix averaging PyTorch's adaptive windows [floor(i n / o), ceil((i + 1) n / o))."""
    a = np.zeros((o, n), dtype=dtype)
    for i in range(o):
        lo, hi = (i * n) // o, -(-((i + 1) * n) // o)
        a[i, lo:hi] = 1.0 / (hi - lo)
    return a


def adaptive_avg_pool2d(
    input: Tensor,  # noqa: A002 - PyTorch's name
    output_size: int | tuple[int | None, int | None],
) -> Tensor:
    """Average pooling to a fixed output size, whatever the input size (PyTorch's windows).

    ``output_size`` is an int or (H_out, W_out); ``None`` keeps that input dimension.

    Example:
        >>> import gradfit as gf
        >>> adaptive_avg_pool2d(gf.arange(16.0).reshape(1, 1, 4, 4), 1).tolist()
        [[[[7.5]]]]
    """
    op = "adaptive_avg_pool2d"
    if not isinstance(input, Tensor):
        raise TypeError(f"{op}: expected a gf.Tensor, got {type(input).__name__}")
    if input._data.dtype.kind != "f":
        raise TypeError(f"{op}: expected a float tensor, got {input._data.dtype}")
    if input.ndim not in (3, 4):
        raise ValueError(f"{op}: expected input (N, C, H, W) or (C, H, W), got shape {input.shape}")
    H, W = input.shape[-2:]
    sizes = (
        (output_size, output_size) if not isinstance(output_size, (tuple, list)) else output_size
    )
    if len(sizes) != 2:
        raise ValueError(f"{op}: output_size must be an int or a pair, got {output_size!r}")
    oh, ow = (H if sizes[0] is None else sizes[0]), (W if sizes[1] is None else sizes[1])
    for o in (oh, ow):
        if not isinstance(o, (int, np.integer)) or isinstance(o, bool) or o < 1:
            raise ValueError(
                f"{op}: output_size must be positive ints or None, got {output_size!r}"
            )
    if H == 0 or W == 0:
        raise ValueError(f"{op}: input spatial size {(H, W)} must be non-empty")
    if H % oh == 0 and W % ow == 0:  # uniform windows: plain average pooling
        k = (H // oh, W // ow)
        geo = _Geometry((H, W), k, k, (0, 0), (1, 1), False)
        return AvgPool2d.apply(input, geo=geo, divisor=input._data.dtype.type(math.prod(k)))
    dt = input._data.dtype
    ah, aw = _adaptive_matrix(H, int(oh), dt), _adaptive_matrix(W, int(ow), dt)
    return AdaptiveAvg.apply(input, ah=ah, aw=aw)


# --------------------------------------------------------------------------- adaptive (1-D, max)


def _adaptive_windows(n: int, o: int) -> np.ndarray:
    """(o, k) input positions of PyTorch's windows [floor(i n / o), ceil((i + 1) n / o)),
    each padded to the longest window ``k`` by repeating its first position."""
    lo = (np.arange(o) * n) // o
    hi = -(-((np.arange(o) + 1) * n) // o)
    k = int((hi - lo).max())
    idx = lo[:, None] + np.arange(k)[None, :]
    return np.where(idx < hi[:, None], idx, lo[:, None])


class AdaptiveMax(Function):
    """Max over PyTorch's adaptive windows of a (B, C, H, W) input; also returns the flat
    ``h * W + w`` index of each maximum (the first one, NaN propagating)."""

    def forward(self, x: np.ndarray, oh: int, ow: int, box: list[Any]) -> np.ndarray:
        B, C, H, W = x.shape
        ih, iw = _adaptive_windows(H, oh), _adaptive_windows(W, ow)
        kh, kw = ih.shape[1], iw.shape[1]
        g = x[:, :, ih[:, :, None, None], iw[None, None, :, :]]  # (B, C, oh, kh, ow, kw)
        g = g.transpose(0, 1, 2, 4, 3, 5).reshape(B, C, oh, ow, kh * kw)
        nan = np.isnan(g)
        pick = np.where(nan.any(-1), nan.argmax(-1), g.argmax(-1))
        out = np.take_along_axis(g, pick[..., None], -1)[..., 0]
        r, c = np.divmod(pick, kw)
        rows = ih[np.arange(oh)[:, None], r]  # (B, C, oh, ow) after broadcasting
        cols = iw[np.arange(ow)[None, :], c]
        self.index = (rows * W + cols).astype(np.int64)
        self.shape = x.shape
        box.append(self.index)  # for return_indices, with or without a graph
        return np.ascontiguousarray(out)

    def backward(self, grad: np.ndarray) -> tuple[Any]:
        B, C, H, W = self.shape
        base = (np.arange(B * C) * (H * W)).reshape(B, C, 1, 1)
        flat = np.bincount(
            (self.index + base).ravel(), weights=grad.ravel(), minlength=B * C * H * W
        )
        return (flat.astype(grad.dtype).reshape(self.shape),)

    def backward_graph(self, grad: Tensor) -> tuple[Any]:
        """Linear in ``grad`` (a scatter to the saved argmax); its transpose reads them."""
        B, C, H, W = self.shape

        def gather(gx: np.ndarray) -> np.ndarray:
            flat = gx.reshape(B, C, H * W)
            idx = self.index.reshape(B, C, -1)
            return np.take_along_axis(flat, idx, -1).reshape(self.index.shape)

        return (linear_map(grad, lambda g: self.backward(g)[0], gather, self.name),)


def _adaptive_args(op: str, nsp: int, x: Any, output_size: Any) -> tuple[Tensor, tuple[int, int]]:
    """The input as (B, C, H, W) (1-D as H = 1) and the output (oh, ow); PyTorch's errors."""
    if not isinstance(x, Tensor):
        raise TypeError(f"{op}: expected a gf.Tensor, got {type(x).__name__}")
    if x._data.dtype.kind != "f":
        raise TypeError(f"{op}: expected a float tensor, got {x._data.dtype}")
    if x.ndim not in (nsp + 1, nsp + 2):
        names = "(N, C, L) or (C, L)" if nsp == 1 else "(N, C, H, W) or (C, H, W)"
        raise RuntimeError(f"{op}: expected input {names}, got shape {x.shape}")
    sizes = output_size if isinstance(output_size, (tuple, list)) else (output_size,) * nsp
    if len(sizes) != nsp:
        raise RuntimeError(f"{op}: output_size must be an int or {nsp} ints, got {output_size!r}")
    sp = x.shape[-nsp:]
    outs = tuple(n if s is None else s for n, s in zip(sp, sizes, strict=True))
    for o in outs:
        if not isinstance(o, (int, np.integer)) or isinstance(o, bool):
            raise TypeError(f"{op}: output_size must be ints or None, got {output_size!r}")
        if o < 0:
            raise RuntimeError(f"{op}: output_size must be non-negative, got {output_size!r}")
    if any(n == 0 for n in x.shape[-nsp - 1 :]):
        raise RuntimeError(
            f"{op}: expected input to have non-zero size for non-batch dimensions, got {x.shape}"
        )
    x4 = x if x.ndim == nsp + 2 else x.reshape(1, *x.shape)
    if nsp == 1:
        x4 = x4.reshape(x4.shape[0], x4.shape[1], 1, x4.shape[2])
        return x4, (1, int(outs[0]))
    return x4, (int(outs[0]), int(outs[1]))


def _empty_like_out(x: Tensor, shape: tuple[int, ...]) -> Tensor:
    """The result of pooling to a zero output size: empty (no gradient flows from it)."""
    return Tensor._wrap(np.zeros(shape, dtype=x._data.dtype))


def adaptive_avg_pool1d(input: Tensor, output_size: int | tuple[int]) -> Tensor:  # noqa: A002
    """Average pooling of a (N, C, L) or (C, L) input to length ``output_size`` (PyTorch's windows).

    Example:
        >>> import gradfit as gf
        >>> adaptive_avg_pool1d(gf.arange(5.0).reshape(1, 1, 5), 2).tolist()
        [[[1.0, 3.0]]]
    """
    x4, (_, o) = _adaptive_args("adaptive_avg_pool1d", 1, input, output_size)
    if o == 0:
        return _empty_like_out(input, (*input.shape[:-1], 0))
    out = adaptive_avg_pool2d(x4, (1, o))
    return out.reshape(*input.shape[:-1], o)


def _adaptive_max(op: str, nsp: int, input: Any, output_size: Any, return_indices: bool) -> Any:  # noqa: A002
    x4, (oh, ow) = _adaptive_args(op, nsp, input, output_size)
    shape = (*input.shape[:-nsp], *((ow,) if nsp == 1 else (oh, ow)))
    if oh * ow == 0:
        res = _empty_like_out(input, shape)
        return (res, Tensor._wrap(np.zeros(shape, np.int64))) if return_indices else res
    box: list[Any] = []
    out = AdaptiveMax.apply(x4, oh=oh, ow=ow, box=box)
    res = out.reshape(*shape)
    if not return_indices:
        return res
    return res, Tensor._wrap(box[0].reshape(shape))


def adaptive_max_pool1d(
    input: Tensor,  # noqa: A002 - PyTorch's name
    output_size: int | tuple[int],
    return_indices: bool = False,
) -> Tensor | tuple[Tensor, Tensor]:
    """Max pooling of a (N, C, L) or (C, L) input to length ``output_size`` (PyTorch's windows).

    With ``return_indices`` also the position of each maximum along L (int64).

    Example:
        >>> import gradfit as gf
        >>> adaptive_max_pool1d(gf.tensor([[[1.0, 5.0, 2.0, 0.0, 3.0]]]), 2).tolist()
        [[[5.0, 3.0]]]
    """
    return _adaptive_max("adaptive_max_pool1d", 1, input, output_size, return_indices)


def adaptive_max_pool2d(
    input: Tensor,  # noqa: A002 - PyTorch's name
    output_size: int | tuple[int | None, int | None],
    return_indices: bool = False,
) -> Tensor | tuple[Tensor, Tensor]:
    """Max pooling of a (N, C, H, W) or (C, H, W) input to ``output_size`` (PyTorch's windows).

    ``None`` in ``output_size`` keeps that input size. With ``return_indices`` also the flat
    index ``h * W + w`` of each maximum in its input plane (int64), as PyTorch.

    Example:
        >>> import gradfit as gf
        >>> out, idx = adaptive_max_pool2d(gf.arange(16.0).reshape(1, 1, 4, 4), 2, True)
        >>> out.tolist(), idx.tolist()
        ([[[[5.0, 7.0], [13.0, 15.0]]]], [[[[5, 7], [13, 15]]]])
    """
    return _adaptive_max("adaptive_max_pool2d", 2, input, output_size, return_indices)
