"""``Embedding``: a lookup table of learned vectors, one per index (words, items, users).

Example:
    >>> import gradfit as gf
    >>> emb = gf.nn.Embedding(10, 3, padding_idx=0)
    >>> emb(gf.tensor([[1, 2, 0]])).shape
    (1, 3, 3)
    >>> emb.weight[0]
    tensor([0., 0., 0.], grad_fn=<GetItem>)
"""

from __future__ import annotations

from typing import Any

import numpy as np

from gradfit import backend
from gradfit.nn import init
from gradfit.nn.module import Module, Parameter
from gradfit.ops.embedding import Embedding as _EmbeddingFn
from gradfit.ops.embedding import embedding as _embedding
from gradfit.tensor import Tensor


class Embedding(Module):
    """A table of ``num_embeddings`` vectors of size ``embedding_dim``, indexed by integers.

    Initialised from N(0, 1) as in PyTorch; the ``padding_idx`` row is zero and
    gets no gradient. Gradients of repeated indices accumulate. (PyTorch's
    ``max_norm``, ``scale_grad_by_freq`` and ``sparse`` are not supported.)

    Shape: input ``(*)`` integer, output ``(*, embedding_dim)``.

    Example:
        >>> import gradfit as gf
        >>> gf.nn.Embedding(100, 16)
        Embedding(100, 16)
    """

    def __init__(
        self,
        num_embeddings: int,
        embedding_dim: int,
        padding_idx: int | None = None,
        _weight: Tensor | None = None,
        _freeze: bool = False,
        dtype: Any = None,
    ) -> None:
        super().__init__()
        for name, v in (("num_embeddings", num_embeddings), ("embedding_dim", embedding_dim)):
            if not isinstance(v, int) or isinstance(v, bool) or v < 0:
                raise ValueError(f"Embedding: {name} must be a non-negative integer, got {v!r}")
        self.num_embeddings = num_embeddings
        self.embedding_dim = embedding_dim
        if padding_idx is not None:
            if not -num_embeddings <= padding_idx < num_embeddings:
                raise ValueError(
                    f"Embedding: padding_idx {padding_idx} must be within num_embeddings "
                    f"({num_embeddings})"
                )
            padding_idx %= num_embeddings
        self.padding_idx = padding_idx
        if _weight is None:
            dt = backend.default_float if dtype is None else backend.to_dtype(dtype)
            self.weight = Parameter(
                Tensor._wrap(np.empty((num_embeddings, embedding_dim), dtype=dt)),
                requires_grad=not _freeze,
            )
            self.reset_parameters()
        else:
            if tuple(_weight.shape) != (num_embeddings, embedding_dim):
                raise ValueError(
                    f"Embedding: _weight shape {_weight.shape} does not match "
                    f"({num_embeddings}, {embedding_dim})"
                )
            self.weight = Parameter(_weight, requires_grad=not _freeze)

    def reset_parameters(self) -> None:
        """Re-draw the table from N(0, 1) and zero the padding row."""
        init.normal_(self.weight)
        if self.padding_idx is not None:
            self.weight._data[self.padding_idx] = 0

    @classmethod
    def from_pretrained(
        cls, embeddings: Tensor, freeze: bool = True, padding_idx: int | None = None
    ) -> Embedding:
        """An Embedding holding ``embeddings`` (2-D); frozen (no gradient) unless ``freeze=False``.

        Example:
            >>> import gradfit as gf
            >>> emb = gf.nn.Embedding.from_pretrained(gf.eye(3))
            >>> emb(gf.tensor([1])).tolist(), emb.weight.requires_grad
            ([[0.0, 1.0, 0.0]], False)
        """
        if not isinstance(embeddings, Tensor) or embeddings.ndim != 2:
            raise ValueError("Embedding.from_pretrained: embeddings must be a 2-D gf.Tensor")
        rows, cols = embeddings.shape
        return cls(rows, cols, padding_idx=padding_idx, _weight=embeddings, _freeze=freeze)

    def forward(self, x: Tensor) -> Tensor:
        if not isinstance(x, Tensor) or x._data.dtype.kind not in "iu":
            got = x._data.dtype if isinstance(x, Tensor) else type(x).__name__
            raise TypeError(
                f"{self._layer_str()}: expected an integer tensor of indices, got {got}"
            )
        idx = x._data
        if idx.size and (idx.min() < 0 or idx.max() >= self.num_embeddings):
            return _embedding(x, self.weight, self.padding_idx)  # raises the range error
        return _EmbeddingFn.apply(self.weight, x, padding_idx=self.padding_idx)

    def extra_repr(self) -> str:
        s = f"{self.num_embeddings}, {self.embedding_dim}"
        if self.padding_idx is not None:
            s += f", padding_idx={self.padding_idx}"
        return s
