"""``F.pad``: constant, reflect, replicate and circular padding (PyTorch's argument order).

``pad`` lists (before, after) pairs from the last dimension backwards; a negative entry
crops. ``'constant'`` pads any number of dimensions; the other modes pad the last 1, 2 or 3
dimensions of a batched (N, C, ...) or unbatched (C, ...) input, as PyTorch.

The non-constant modes gather along each padded axis with an index array (reflect:
``-i`` and ``2(L-1)-i`` beyond the ends, replicate: clipped, circular: modulo ``L``); the
gradient adds each side's border back onto the positions it was read from.

Example:
    >>> import gradfit as gf
    >>> x = gf.tensor([[[1.0, 2.0, 3.0]]])
    >>> pad(x, (2, 1), mode="reflect").tolist()
    [[[3.0, 2.0, 1.0, 2.0, 3.0, 2.0]]]
    >>> pad(x, (1, -1), value=9.0).tolist()
    [[[9.0, 1.0, 2.0]]]
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from gradfit.autograd import Function
from gradfit.ops.linear_map import linear_map
from gradfit.tensor import Tensor

_MODES = ("constant", "reflect", "replicate", "circular")


class ConstantPad(Function):
    """Pad (or crop, where negative) with a constant; ``widths`` per axis as (before, after)."""

    def forward(self, x: np.ndarray, widths: list[tuple[int, int]], value: float) -> np.ndarray:
        out_shape = tuple(n + lo + hi for n, (lo, hi) in zip(x.shape, widths, strict=True))
        src = tuple(
            slice(max(-lo, 0), n - max(-hi, 0)) for n, (lo, hi) in zip(x.shape, widths, strict=True)
        )
        dst = tuple(
            slice(max(lo, 0), m - max(hi, 0)) for m, (lo, hi) in zip(out_shape, widths, strict=True)
        )
        out = np.full(out_shape, value, dtype=x.dtype)
        out[dst] = x[src]
        self.shape, self.src, self.dst = x.shape, src, dst
        return out

    def backward(self, grad: np.ndarray) -> tuple[Any]:
        if grad[self.dst].shape == self.shape:
            return (grad[self.dst].copy(),)
        g = np.zeros(self.shape, dtype=grad.dtype)
        g[self.src] = grad[self.dst]
        return (g,)

    def backward_graph(self, grad: Tensor) -> tuple[Any]:
        """The backward (a crop) recorded as a linear map; its transpose pads with zeros."""
        out_shape, src, dst = grad.shape, self.src, self.dst

        def zero_pad(g: np.ndarray) -> np.ndarray:
            out = np.zeros(out_shape, dtype=g.dtype)
            out[dst] = g[src]
            return out

        return (linear_map(grad, lambda g: self.backward(g)[0], zero_pad, self.name),)


def _indices(mode: str, n: int, lo: int, hi: int) -> np.ndarray:
    """Source positions of the padded axis (length ``n + lo + hi``) in an axis of length ``n``."""
    i = np.arange(-lo, n + hi)
    if mode == "reflect":
        i = np.abs(i)
        return np.where(i > n - 1, 2 * (n - 1) - i, i)
    if mode == "replicate":
        return np.clip(i, 0, n - 1)
    # circular, as PyTorch: the wrap-around reads the cropped part (negative sides cut first)
    c0, m = max(-lo, 0), n - max(-lo, 0) - max(-hi, 0)
    return c0 + (np.arange(-max(lo, 0), m + max(hi, 0)) % m)


class IndexPad(Function):
    """Reflect, replicate or circular padding: a gather along each padded axis."""

    def forward(self, x: np.ndarray, mode: str, widths: dict[int, tuple[int, int]]) -> np.ndarray:
        self.shape, self.mode, self.widths = x.shape, mode, widths
        for ax, (lo, hi) in widths.items():
            x = np.take(x, _indices(mode, x.shape[ax], lo, hi), axis=ax)
        return x

    def backward(self, grad: np.ndarray) -> tuple[Any]:
        for ax in sorted(self.widths, reverse=True):  # undo the gathers in reverse order
            lo, hi = self.widths[ax]
            n = self.shape[ax]
            idx = _indices(self.mode, n, lo, hi)
            g = np.moveaxis(grad, ax, -1)
            out = np.zeros((*g.shape[:-1], n), dtype=grad.dtype)
            a, b = max(lo, 0), len(idx) - max(hi, 0)  # the part read in order
            if b > a:
                out[..., idx[a] : idx[a] + b - a] = g[..., a:b]
            for side in (slice(0, a), slice(b, len(idx))):
                ids = idx[side]
                if len(ids) == 0:
                    continue
                if len(np.unique(ids)) == len(ids):
                    out[..., ids] += g[..., side]
                else:  # replicate: many reads of one position
                    np.add.at(out, (..., ids), g[..., side])
            grad = np.moveaxis(out, -1, ax)
        return (np.ascontiguousarray(grad),)

    def backward_graph(self, grad: Tensor) -> tuple[Any]:
        """The backward (a scatter-add) recorded as a linear map; its transpose is the forward."""
        mode, widths = self.mode, self.widths
        again = lambda g: IndexPad().forward(g, mode, widths)
        return (linear_map(grad, lambda g: self.backward(g)[0], again, self.name),)


def pad(
    input: Tensor,  # noqa: A002 - PyTorch's name
    pad: Sequence[int],
    mode: str = "constant",
    value: float | None = None,
) -> Tensor:
    """Pad ``input``; ``pad`` = (last_before, last_after, 2nd_last_before, ...) as PyTorch's ``F.pad``.

    Args:
        input: any tensor for ``'constant'``; for ``'reflect'``, ``'replicate'``, ``'circular'``
            a (N, C, *) or (C, *) tensor whose last ``len(pad) // 2`` (1 to 3) dimensions are padded.
        pad: an even number of ints, at most two per dimension; negative values crop.
        mode: ``'constant'`` (default), ``'reflect'`` (mirror without repeating the edge;
            padding < size), ``'replicate'`` (repeat the edge), ``'circular'`` (wrap around;
            padding <= size).
        value: the fill of ``'constant'`` (default 0); the other modes take none.

    Example:
        >>> import gradfit as gf
        >>> pad(gf.ones(1, 2, 2), (1, 1, 0, 1)).shape
        (1, 3, 4)
        >>> pad(gf.tensor([[[1.0, 2.0]]]), (1, 2), mode="circular").tolist()
        [[[2.0, 1.0, 2.0, 1.0, 2.0]]]
    """
    if not isinstance(input, Tensor):
        raise TypeError(f"pad: input must be a gf.Tensor, got {type(input).__name__}")
    if not isinstance(pad, (tuple, list)) or not all(
        isinstance(p, (int, np.integer)) and not isinstance(p, bool) for p in pad
    ):
        raise TypeError(f"pad: pad must be a tuple of ints, got {pad!r}")
    if mode not in _MODES:
        raise NotImplementedError(f"pad: unrecognised padding mode {mode!r} (one of {_MODES})")
    if len(pad) % 2:
        raise RuntimeError(f"pad: padding length must be divisible by 2, got {len(pad)}")
    k = len(pad) // 2
    if k > input.ndim:
        raise RuntimeError(
            f"pad: padding length should be at most two times the input dimension, got "
            f"padding length {len(pad)} for an input of shape {input.shape}"
        )
    pairs = {input.ndim - 1 - i: (int(pad[2 * i]), int(pad[2 * i + 1])) for i in range(k)}
    if mode == "constant":
        for ax, (lo, hi) in pairs.items():
            if input.shape[ax] + lo + hi < 0:
                raise RuntimeError(
                    f"pad: padding {tuple(pad)} would leave dimension {ax} of shape "
                    f"{input.shape} with a negative size"
                )
        widths = [pairs.get(ax, (0, 0)) for ax in range(input.ndim)]
        return ConstantPad.apply(input, widths=widths, value=0.0 if value is None else value)
    if value is not None and value != 0:
        raise RuntimeError(f'pad: padding mode "{mode}" doesn\'t take in value argument')
    if k not in (1, 2, 3) or input.ndim not in (k + 1, k + 2):
        raise NotImplementedError(
            f"pad: padding size {len(pad)} is not supported for {input.ndim}D input with mode "
            f"{mode!r}: pad the last 1, 2 or 3 dimensions of a (N, C, *) or (C, *) tensor "
            f"(2 values for 2D/3D input, 4 for 3D/4D, 6 for 4D/5D)"
        )
    if any(n == 0 for n in input.shape[1:]):
        raise RuntimeError(
            f"pad: mode {mode!r} expects non-zero dimensions (but a possibly empty batch), got "
            f"shape {input.shape}"
        )
    for ax, (lo, hi) in pairs.items():
        n = input.shape[ax]
        if mode == "reflect" and (lo >= n or hi >= n):
            raise RuntimeError(
                f"pad: reflect padding {(lo, hi)} should be less than the size {n} of dimension "
                f"{ax} (shape {input.shape})"
            )
        if mode == "circular" and (lo > n or hi > n):
            raise RuntimeError(
                f"pad: circular padding {(lo, hi)} wraps around more than once (dimension {ax} "
                f"has size {n})"
            )
        if n + lo + hi < 0:
            raise RuntimeError(f"pad: padding {(lo, hi)} leaves dimension {ax} with negative size")
    if input.shape[0] == 0:  # nothing to gather from: an empty result of the padded shape
        widths = [pairs.get(ax, (0, 0)) for ax in range(input.ndim)]
        return ConstantPad.apply(input, widths=widths, value=0.0)
    return IndexPad.apply(input, mode=mode, widths=pairs)
