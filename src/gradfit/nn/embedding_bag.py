"""Bags of embeddings reduced by sum, mean or max (PyTorch's ``nn.EmbeddingBag``, ``F.embedding_bag``).

The rows are looked up with :func:`gradfit.ops.embedding.embedding` and reduced per bag with
one matrix product (sum, mean, weighted sum) or one gather of each bag's arg-max (max), so
gradients reach the table (and ``per_sample_weights``) through existing ops.

Example:
    >>> import gradfit as gf
    >>> bag = gf.nn.EmbeddingBag(10, 3, mode="sum")
    >>> bag(gf.tensor([1, 2, 4, 5, 4, 3]), gf.tensor([0, 3])).shape
    (2, 3)
"""

from __future__ import annotations

from typing import Any

import numpy as np

from gradfit import backend
from gradfit.nn import init
from gradfit.nn.module import Module, Parameter
from gradfit.ops.embedding import embedding
from gradfit.tensor import Tensor


def _bags(
    inp: np.ndarray, offsets: np.ndarray | None, include_last_offset: bool
) -> tuple[np.ndarray, np.ndarray, int]:
    """Flat indices, and for each of them its bag number; plus the number of bags."""
    if inp.ndim == 2:
        if offsets is not None:
            raise ValueError("embedding_bag: if input is 2D, then offsets has to be None")
        b, length = inp.shape
        return inp.reshape(-1), np.repeat(np.arange(b), length), b
    if inp.ndim != 1:
        raise ValueError(
            f"embedding_bag: input has to be 1D or 2D Tensor, but got Tensor of dimension {inp.ndim}"
        )
    if offsets is None:
        raise ValueError("embedding_bag: offsets has to be a 1D Tensor but got None")
    if offsets.ndim != 1:
        raise ValueError("embedding_bag: offsets has to be a 1D Tensor")
    offs = offsets.astype(np.int64)
    n = len(inp)
    if include_last_offset:
        starts, ends = offs[:-1], offs[1:]
    else:
        starts, ends = offs, np.append(offs[1:], n)
    if len(offs) and (offs[0] != 0 or np.any(np.diff(offs) < 0) or offs[-1] > n):
        raise ValueError(
            f"embedding_bag: offsets must start at 0, be non-decreasing and not exceed {n}, got {offs.tolist()}"
        )
    counts = np.maximum(ends - starts, 0)
    bag = np.repeat(np.arange(len(starts)), counts)
    if len(bag) < n:  # include_last_offset: indices after the last offset belong to no bag
        keep = np.zeros(n, bool)
        for s, e in zip(starts, ends):
            keep[s:e] = True
        return inp[keep], bag, len(starts)
    return inp, bag, len(starts)


def embedding_bag(
    input: Tensor,  # noqa: A002
    weight: Tensor,
    offsets: Tensor | None = None,
    max_norm: float | None = None,
    norm_type: float = 2,
    scale_grad_by_freq: bool = False,
    mode: str = "mean",
    sparse: bool = False,
    per_sample_weights: Tensor | None = None,
    include_last_offset: bool = False,
    padding_idx: int | None = None,
) -> Tensor:
    """Sum, mean or max of the embeddings in each bag; empty bags give zeros.

    ``input`` is ``(B, L)`` (each row a bag) or 1-D with ``offsets`` (each bag's start).
    ``per_sample_weights`` (input's shape) weigh the rows, ``mode='sum'`` only.
    Entries equal to ``padding_idx`` are left out (also from the mean's count).
    ``max_norm``, ``scale_grad_by_freq`` and ``sparse`` are not supported.

    Example:
        >>> import gradfit as gf
        >>> w = gf.tensor([[1.0, 1.0], [3.0, 5.0]])
        >>> gf.nn.functional.embedding_bag(gf.tensor([[0, 1]]), w)
        tensor([[2., 3.]])
    """
    op = "embedding_bag"
    if not isinstance(input, Tensor) or not isinstance(weight, Tensor):
        raise TypeError(f"{op}: input and weight must be gf.Tensors")
    if mode not in ("sum", "mean", "max"):
        raise ValueError(f"{op}: mode has to be one of sum, mean or max, got {mode!r}")
    if max_norm is not None or scale_grad_by_freq or sparse:
        raise NotImplementedError(
            f"{op}: max_norm, scale_grad_by_freq and sparse are not supported by gradfit"
        )
    if per_sample_weights is not None and mode != "sum":
        raise NotImplementedError(
            f"{op}: embedding_bag: per_sample_weights was not None. per_sample_weights is only supported "
            f"for mode='sum' (got mode='{mode}'). Please open a feature request on GitHub."
        )
    inp = input._data
    if inp.dtype.kind not in "iu":
        raise TypeError(f"{op}: expected integer indices, got {inp.dtype}")
    psw = None
    if per_sample_weights is not None:
        if per_sample_weights.shape != input.shape:
            raise ValueError(
                f"{op}: per_sample_weights {per_sample_weights.shape} must have the input's shape {input.shape}"
            )
        psw = per_sample_weights.reshape((-1,))
    idx, bag, nbags = _bags(inp, None if offsets is None else offsets._data, include_last_offset)
    if psw is not None and len(idx) != psw.shape[0]:
        keep = np.zeros(inp.size, bool)
        keep[: len(idx)] = True
        psw = psw[Tensor._wrap(np.flatnonzero(keep))]
    valid = np.ones(len(idx), bool)
    if padding_idx is not None:
        valid = idx != padding_idx % weight.shape[0]
    dim = weight.shape[1]
    rows = embedding(Tensor._wrap(idx.astype(np.int64)), weight)  # (T, D)
    dt = weight._data.dtype
    if mode == "max":
        # per bag and column, the row holding the maximum (rows of a bag are contiguous)
        order = np.flatnonzero(valid)
        out = np.zeros((nbags, dim), np.int64)
        nonempty = np.zeros(nbags, bool)
        if len(order):
            data, bags = rows._data[order], bag[order]
            starts = np.flatnonzero(np.r_[True, bags[1:] != bags[:-1]])
            maxv = np.maximum.reduceat(data, starts, axis=0)
            owner = np.repeat(np.arange(len(starts)), np.diff(np.r_[starts, len(bags)]))
            cand = np.where(data == maxv[owner], order[:, None], len(idx))
            picks = np.minimum.reduceat(cand, starts, axis=0)  # (bags with rows, D)
            out[bags[starts]] = picks
            nonempty[bags[starts]] = True
        flat = rows.reshape((-1,))
        gathered = flat[Tensor._wrap((out * dim + np.arange(dim)).reshape(-1))].reshape(
            (nbags, dim)
        )
        return gathered * Tensor._wrap(nonempty[:, None].astype(dt))
    seg = np.zeros((nbags, len(idx)), dt)
    cols = np.flatnonzero(valid)
    seg[bag[cols], cols] = 1
    if mode == "mean":
        counts = seg.sum(1, keepdims=True)
        seg = seg / np.maximum(counts, 1)
    if psw is not None:
        rows = rows * psw.reshape((-1, 1))
    return Tensor._wrap(seg) @ rows


class EmbeddingBag(Module):
    """A table of ``num_embeddings`` vectors of size ``embedding_dim`` (init N(0, 1)), reduced per bag.

    Example:
        >>> import gradfit as gf
        >>> gf.nn.EmbeddingBag(5, 3, mode="sum", padding_idx=0)
        EmbeddingBag(5, 3, mode='sum', padding_idx=0)
    """

    def __init__(
        self,
        num_embeddings: int,
        embedding_dim: int,
        max_norm: float | None = None,
        norm_type: float = 2.0,
        scale_grad_by_freq: bool = False,
        mode: str = "mean",
        sparse: bool = False,
        _weight: Tensor | None = None,
        include_last_offset: bool = False,
        padding_idx: int | None = None,
        device: Any = None,
        dtype: Any = None,
    ) -> None:
        super().__init__()
        self.num_embeddings, self.embedding_dim = num_embeddings, embedding_dim
        self.max_norm, self.norm_type, self.scale_grad_by_freq = (
            max_norm,
            norm_type,
            scale_grad_by_freq,
        )
        self.mode, self.sparse, self.include_last_offset = mode, sparse, include_last_offset
        if padding_idx is not None:
            if not -num_embeddings <= padding_idx < num_embeddings:
                raise AssertionError("padding_idx must be within num_embeddings")
            padding_idx %= num_embeddings
        self.padding_idx = padding_idx
        if _weight is None:
            dt = backend.default_float if dtype is None else np.dtype(dtype)
            self.weight = Parameter(Tensor._wrap(np.empty((num_embeddings, embedding_dim), dt)))
            self.reset_parameters()
        else:
            self.weight = Parameter(_weight)

    def reset_parameters(self) -> None:
        """N(0, 1), with the padding row zeroed."""
        init.normal_(self.weight)
        if self.padding_idx is not None:
            self.weight._data[self.padding_idx] = 0

    def forward(
        self,
        input: Tensor,  # noqa: A002
        offsets: Tensor | None = None,
        per_sample_weights: Tensor | None = None,
    ) -> Tensor:
        return embedding_bag(
            input,
            self.weight,
            offsets,
            self.max_norm,
            self.norm_type,
            self.scale_grad_by_freq,
            self.mode,
            self.sparse,
            per_sample_weights,
            self.include_last_offset,
            self.padding_idx,
        )

    def extra_repr(self) -> str:
        s = f"{self.num_embeddings}, {self.embedding_dim}"
        if self.max_norm is not None:
            s += f", max_norm={self.max_norm}"
        if self.norm_type != 2:
            s += f", norm_type={self.norm_type}"
        if self.scale_grad_by_freq:
            s += f", scale_grad_by_freq={self.scale_grad_by_freq}"
        s += f", mode={self.mode!r}"
        if self.padding_idx is not None:
            s += f", padding_idx={self.padding_idx}"
        return s
