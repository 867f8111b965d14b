"""1-D and 2-D convolution (cross-correlation, as PyTorch) with stride, padding, dilation, groups.

How it computes. The input is copied once, zero-padded, into an internal layout:

* **row unfolding** (wide layers), layout ``(C, H, N, W)``: only the ``kw`` shifts along
  W are copied, ``P[(c, j), h, n, ow]``; then for each kernel row ``i`` the rows
  ``h = oh + i`` of ``P`` are a plain 2-D matrix view, and ``out += W[:, :, i, :] @ P_i``
  is one BLAS GEMM on it (``kh`` GEMMs in all, nothing else copied);
* **full im2col** (narrow layers, e.g. one input channel), layout ``(C, N, H, W)``:
  ``kh * kw`` slice copies make ``col[(c, i, j), n, oh, ow]`` and one GEMM gives the
  output as ``(O, N, OH, OW)``, which becomes NCHW by moving whole ``OH * OW`` planes.

The output is a C-contiguous NCHW array (bias added before the one layout copy), so the
elementwise ops and pooling after a convolution run on contiguous memory. The large
temporaries (padded copies, unfoldings, GEMM results) come from a few reused scratch
buffers (:class:`_Scratch`), which spares the page faults of fresh memory every step.

The backward pass computes the weight gradient with the same GEMMs against the
saved unfolding, and the input gradient of a stride-1 convolution as the
convolution of the padded output gradient with the flipped, transposed kernel
(same code path as the forward). Strided convolutions scatter the columns back
(col2im) by adding ``kh * kw`` strided slices: no ``np.add.at``, no per-sample loop.

Example:
    >>> import gradfit as gf
    >>> x = gf.randn(2, 3, 8, 8)
    >>> w = gf.randn(4, 3, 3, 3, requires_grad=True)
    >>> conv2d(x, w, padding="same").shape
    (2, 4, 8, 8)
"""

from __future__ import annotations

import math
import sys
import threading
from typing import Any

import numpy as np

from gradfit.autograd import Function
from gradfit.tensor import Tensor

# A kernel whose unfolded column (channels per group * kh * kw) is at most this long uses
# full im2col (one GEMM); wider kernels use row unfolding (kh GEMMs, kh times less copying).
_FULL_IM2COL_MAX_K = 160

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
    MAX_BUFFERS = 16

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
                elif len(bufs) < self.MAX_BUFFERS:
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
# Two internal layouts of a (N, C, H, W) batch:
# * "CHNW" (C, H, N, W) for row unfolding: rows h..h+OH of every sample are one contiguous
#   block, so a kernel row's shift is a plain 2-D matrix view;
# * "CNHW" (C, N, H, W) for full im2col: the GEMM result (O, N, OH, OW) becomes NCHW by
#   swapping the first two axes, moving whole OH*OW planes (cheap).

_TO = {True: (1, 0, 2, 3), False: (1, 2, 0, 3)}  # NCHW -> layout (keyed by "full")
_FROM = {True: (1, 0, 2, 3), False: (2, 0, 1, 3)}  # layout -> NCHW


def _to_layout(x: np.ndarray, pads: Pads, full: bool) -> np.ndarray:
    """(N, C, H, W) -> zero-padded CNHW (``full``) or CHNW array; negative pads crop."""
    pt, pb, pl, pr = pads
    H, W = x.shape[2:]
    src = x[:, :, max(-pt, 0) : H - max(-pb, 0), max(-pl, 0) : W - max(-pr, 0)]
    src = src.transpose(_TO[full])
    pt, pb, pl, pr = (max(p, 0) for p in pads)
    ha = 2 if full else 1  # the H axis in the layout
    shape = list(src.shape)
    shape[ha] += pt + pb
    shape[3] += pl + pr
    out = _scratch.empty(tuple(shape), x.dtype)
    if pt or pb or pl or pr:
        # zero only the border, then copy the interior
        hs = [slice(None)] * 4
        for sl in (slice(0, pt), slice(shape[ha] - pb, shape[ha])):
            hs[ha] = sl
            out[tuple(hs)] = 0
        out[..., :pl] = 0
        out[..., shape[3] - pr :] = 0
        hs[ha] = slice(pt, pt + src.shape[ha])
        hs[3] = slice(pl, pl + src.shape[3])
        out[tuple(hs)] = src
    else:
        np.copyto(out, src)
    return out


def _span(start: int, count: int, step: int) -> slice:
    return slice(start, start + step * (count - 1) + 1, step)


class _Plan:
    """Shapes and options of one convolution in its internal layout."""

    __slots__ = ("Cg", "G", "N", "OH", "OW", "Og", "dh", "dw", "full", "kh", "kw", "sh", "sw")

    def __init__(self, x_shape: tuple[int, ...], pads: Pads, w_shape: tuple[int, ...],
                 stride: Any, dilation: Any, groups: int) -> None:  # fmt: skip
        N, _, H, W = x_shape
        pt, pb, pl, pr = pads
        Hp, Wp = H + pt + pb, W + pl + pr
        n_out, Cg, kh, kw = w_shape
        self.G, self.Cg, self.Og = groups, Cg, n_out // groups
        self.kh, self.kw = kh, kw
        self.sh, self.sw = stride
        self.dh, self.dw = dilation
        self.N = N
        self.OH = (Hp - self.dh * (kh - 1) - 1) // self.sh + 1
        self.OW = (Wp - self.dw * (kw - 1) - 1) // self.sw + 1
        self.full = kh == 1 or Cg * kh * kw <= _FULL_IM2COL_MAX_K

    def hw(self, rows: slice, cols: slice) -> tuple[slice, ...]:
        """Index of (H rows, W cols) in an array of this plan's layout."""
        if self.full:
            return (slice(None), slice(None), rows, cols)
        return (slice(None), rows, slice(None), cols)


def _unfold(xp: np.ndarray, p: _Plan) -> np.ndarray:
    """Full im2col ``(C, kh, kw, N, OH, OW)`` or row unfolding ``(C, kw, Hp, N, OW)``."""
    C = xp.shape[0]
    if p.full:
        col = _scratch.empty((C, p.kh, p.kw, p.N, p.OH, p.OW), xp.dtype)
        for i in range(p.kh):
            rows = _span(i * p.dh, p.OH, p.sh)
            for j in range(p.kw):
                col[:, i, j] = xp[p.hw(rows, _span(j * p.dw, p.OW, p.sw))]
        return col
    Hp = xp.shape[1]
    rowu = _scratch.empty((C, p.kw, Hp, p.N, p.OW), xp.dtype)
    for j in range(p.kw):
        rowu[:, j] = xp[:, :, :, _span(j * p.dw, p.OW, p.sw)]
    return rowu


def _row_block(u: np.ndarray, p: _Plan, i: int) -> np.ndarray:
    """Kernel row ``i`` of a row unfolding as a (G, Cg*kw, OH*N*OW) matrix (a view if stride 1)."""
    Hp = u.shape[2]
    u = u.reshape(p.G, p.Cg * p.kw, Hp, p.N * p.OW)
    return u[:, :, _span(i * p.dh, p.OH, p.sh)].reshape(p.G, p.Cg * p.kw, -1)


def _conv_layout(xp: np.ndarray, w: np.ndarray, p: _Plan) -> tuple[np.ndarray, np.ndarray]:
    """Convolve a padded input in the plan's layout: the output (G, Og, M) and the unfolding."""
    u = _unfold(xp, p)
    M = p.OH * p.N * p.OW
    out = _scratch.empty((p.G, p.Og, M), xp.dtype)
    if p.full:
        np.matmul(w.reshape(p.G, p.Og, -1), u.reshape(p.G, -1, M), out=out)
    else:
        tmp = _scratch.empty((p.G, p.Og, M), xp.dtype)
        for i in range(p.kh):
            wi = np.ascontiguousarray(w[:, :, i, :]).reshape(p.G, p.Og, p.Cg * p.kw)
            np.matmul(wi, _row_block(u, p, i), out=out if i == 0 else tmp)
            if i:
                out += tmp
        del tmp
    return out, u


def _to_nchw(out: np.ndarray, p: _Plan, bias: np.ndarray | None) -> np.ndarray:
    """(G, Og, M) in the plan's layout -> a new C-contiguous (N, O, OH, OW), bias added.

    The bias goes into ``out`` (a scratch array) in place, where it is a contiguous
    row-broadcast add; the layout change is then one copy.
    """
    n_out = p.G * p.Og
    shape4 = (n_out, p.N, p.OH, p.OW) if p.full else (n_out, p.OH, p.N, p.OW)
    src = out.reshape(shape4).transpose(_FROM[p.full])
    if bias is not None:
        out += bias.reshape(n_out, 1).reshape(p.G, p.Og, 1)
    res = np.empty((p.N, n_out, p.OH, p.OW), dtype=out.dtype)
    np.copyto(res, src)
    return res


def _grad_layout(grad: np.ndarray, p: _Plan) -> np.ndarray:
    """(N, n_out, OH, OW) gradient -> (G, Og, M) in the plan's layout (one copy)."""
    gt = _scratch.empty((p.G * p.Og, p.OH * p.N * p.OW), grad.dtype)
    shape4 = (p.G * p.Og, p.N, p.OH, p.OW) if p.full else (p.G * p.Og, p.OH, p.N, p.OW)
    np.copyto(gt.reshape(shape4), grad.transpose(_TO[p.full]))
    return gt.reshape(p.G, p.Og, -1)


# --------------------------------------------------------------------------- the Function


class ConvNd(Function):
    """Convolution of a (N, C, H, W) or (N, C, L) input; 1-D runs as 2-D with H = 1."""

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
    ) -> np.ndarray:
        one_d = x.ndim == 3
        if one_d:
            x = x[:, :, None, :]
            w = w[:, :, None, :]
        self.one_d = one_d
        self.x_shape = x.shape
        self.opts = (stride, pads, dilation, groups)
        needs = self.needs_input_grad
        p = _Plan(x.shape, pads, w.shape, stride, dilation, groups)
        xp = _to_layout(x, pads, p.full)
        out, u = _conv_layout(xp, w, p)
        del xp
        self.plan = p
        self.has_bias = b is not None
        self.saved = (u if needs[1] else None, w if needs[0] else None)
        del u
        res = _to_nchw(out, p, b)
        return res[:, :, 0, :] if one_d else res

    def backward(self, grad: np.ndarray) -> tuple[Any, ...]:
        u, w = self.saved
        p: _Plan = self.plan
        stride, pads, dilation, groups = self.opts
        if self.one_d:
            grad = grad[:, :, None, :]
        needs = self.needs_input_grad
        gx = gw = gb = None
        if self.has_bias and needs[2]:
            gb = grad.sum(axis=(0, 2, 3))
        gt = None
        if needs[1]:
            gt = _grad_layout(grad, p)
            gw = self._grad_weight(gt, u, p)
        del u
        if needs[0]:
            if stride == (1, 1):
                del gt
                gx = self._grad_input_conv(grad, w, p, pads, dilation, groups)
            else:
                if gt is None:
                    gt = _grad_layout(grad, p)
                gx = self._grad_input_col2im(gt, w, p, pads)
        if self.one_d:
            gx = None if gx is None else gx[:, :, 0, :]
            gw = None if gw is None else gw[:, :, 0, :]
        return (gx, gw, gb) if self.has_bias else (gx, gw)

    @staticmethod
    def _grad_weight(gt: np.ndarray, u: np.ndarray, p: _Plan) -> np.ndarray:
        n_out = p.G * p.Og
        if p.full:
            cm = u.reshape(p.G, p.Cg * p.kh * p.kw, -1)
            return np.matmul(gt, cm.swapaxes(1, 2)).reshape(n_out, p.Cg, p.kh, p.kw)
        gw = np.empty((n_out, p.Cg, p.kh, p.kw), dtype=gt.dtype)
        for i in range(p.kh):
            block = _row_block(u, p, i)
            gw[:, :, i, :] = np.matmul(gt, block.swapaxes(1, 2)).reshape(n_out, p.Cg, p.kw)
        return gw

    def _grad_input_conv(
        self, grad: np.ndarray, w: np.ndarray, p: _Plan, pads: Pads, dilation: Any, groups: int
    ) -> np.ndarray:
        """Stride 1: dx = conv(grad padded by extent-1-pad, flipped kernel with in/out swapped)."""
        eh, ew = p.dh * (p.kh - 1), p.dw * (p.kw - 1)
        pt, pb, pl, pr = pads
        gpads = (eh - pt, eh - pb, ew - pl, ew - pr)
        wf = w.reshape(p.G, p.Og, p.Cg, p.kh, p.kw)[:, :, :, ::-1, ::-1].transpose(0, 2, 1, 3, 4)
        wf = np.ascontiguousarray(wf).reshape(p.G * p.Cg, p.Og, p.kh, p.kw)
        q = _Plan(grad.shape, gpads, wf.shape, (1, 1), dilation, groups)
        gp = _to_layout(grad, gpads, q.full)
        out, u = _conv_layout(gp, wf, q)
        del gp, u
        return _to_nchw(out, q, None)

    def _grad_input_col2im(self, gt: np.ndarray, w: np.ndarray, p: _Plan, pads: Pads) -> np.ndarray:
        """Any stride: columns = W^T @ grad, then add each kernel offset's slice back."""
        N, C, H, W = self.x_shape
        pt, pb, pl, pr = pads
        wm = w.reshape(p.G, p.Og, p.Cg * p.kh * p.kw)
        dcol = np.matmul(wm.swapaxes(1, 2), gt)
        if p.full:
            dcol = dcol.reshape(C, p.kh, p.kw, N, p.OH, p.OW)
            dxp = np.zeros((C, N, H + pt + pb, W + pl + pr), dtype=gt.dtype)
        else:
            dcol = dcol.reshape(C, p.kh, p.kw, p.OH, N, p.OW)
            dxp = np.zeros((C, H + pt + pb, N, W + pl + pr), dtype=gt.dtype)
        for i in range(p.kh):
            rows = _span(i * p.dh, p.OH, p.sh)
            for j in range(p.kw):
                dxp[p.hw(rows, _span(j * p.dw, p.OW, p.sw))] += dcol[:, i, j]
        inner = dxp[p.hw(slice(pt, pt + H), slice(pl, pl + W))]
        return np.ascontiguousarray(inner.transpose(_FROM[p.full]))


# --------------------------------------------------------------------------- argument checks


def _tuple(v: Any, n: int, name: str, op: str, minimum: int) -> tuple[int, ...]:
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
    if not isinstance(input, Tensor) or not isinstance(weight, Tensor):
        raise TypeError(f"{op}: input and weight must be gf.Tensor, got "
                        f"{type(input).__name__} and {type(weight).__name__}")  # fmt: skip
    if bias is not None and not isinstance(bias, Tensor):
        raise TypeError(f"{op}: bias must be a gf.Tensor or None, got {type(bias).__name__}")
    dt = input.data.dtype
    if dt.kind != "f" or weight.data.dtype != dt or (bias is not None and bias.data.dtype != dt):
        bdt = None if bias is None else bias.data.dtype
        raise TypeError(
            f"{op}: input, weight and bias must share one float dtype, got input {dt}, "
            f"weight {weight.data.dtype}, bias {bdt}"
        )
    if not isinstance(groups, (int, np.integer)) or isinstance(groups, bool) or groups < 1:
        raise ValueError(f"{op}: groups must be a positive integer, got {groups!r}")
    groups = int(groups)
    stride = _tuple(stride, nsp, "stride", op, 1)
    dilation = _tuple(dilation, nsp, "dilation", op, 1)
    if weight.ndim != nsp + 2:
        raise ValueError(
            f"{op}: weight must have {nsp + 2} dimensions (out_channels, in_channels/groups, "
            f"{'kL' if nsp == 1 else 'kH, kW'}), got shape {weight.shape}"
        )
    unbatched = input.ndim == nsp + 1
    if input.ndim not in (nsp + 1, nsp + 2):
        names = "(N, C, L) or (C, L)" if nsp == 1 else "(N, C, H, W) or (C, H, W)"
        raise ValueError(f"{op}: expected input {names}, got shape {input.shape}")
    x = input.reshape(1, *input.shape) if unbatched else input
    n_out, Cg = weight.shape[:2]
    ks = weight.shape[2:]
    C = x.shape[1]
    if n_out % groups:
        raise ValueError(f"{op}: out_channels ({n_out}) must be divisible by groups ({groups})")
    if Cg * groups != C:
        raise ValueError(
            f"{op}: input has {C} channels but weight {weight.shape} with groups={groups} "
            f"expects {Cg * groups}"
        )
    if bias is not None and bias.shape != (n_out,):
        raise ValueError(f"{op}: bias must have shape ({n_out},), got {bias.shape}")
    if any(k == 0 for k in ks):
        raise ValueError(f"{op}: kernel size must be positive, got weight shape {weight.shape}")
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
    sizes = x.shape[2:]
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
    args = (x, weight) if bias is None else (x, weight, bias)
    out = ConvNd.apply(*args, stride=stride, pads=pads, dilation=dilation, groups=groups)
    return out.reshape(*out.shape[1:]) if unbatched else out


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
