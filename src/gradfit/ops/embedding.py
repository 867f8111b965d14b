"""Embedding lookup: rows of a weight matrix picked by integer indices.

The backward pass sums the gradients of repeated indices (sorted segment sums,
no Python loop and no ``np.add.at``; or a compiled scatter-add,
:mod:`gradfit.kernels.embedding`), and gives the ``padding_idx`` row no gradient.

Example:
    >>> import gradfit as gf
    >>> from gradfit.ops.embedding import embedding
    >>> w = gf.ones(5, 2, requires_grad=True)
    >>> embedding(gf.tensor([1, 1, 3]), w).sum().backward()
    >>> w.grad[:, 0]
    tensor([0., 2., 0., 1., 0.])
"""

from __future__ import annotations

from typing import Any

import numpy as np

from gradfit import kernels
from gradfit.autograd import Function
from gradfit.tensor import Tensor

_KERNEL_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))  # the compiled scatter-add's


class Embedding(Function):
    """out[...] = weight[indices[...]]; d weight[k] = sum of the output gradients where index == k."""

    def forward(
        self, weight: np.ndarray, indices: np.ndarray, padding_idx: int | None
    ) -> np.ndarray:
        self.saved = (indices,)
        self.wshape = weight.shape
        self.padding_idx = padding_idx
        return np.take(weight, indices, axis=0)  # weight[indices], twice as fast

    def backward(self, grad: np.ndarray) -> tuple[Any, ...]:
        if not self.needs_input_grad[0]:
            return None, None
        (indices,) = self.saved
        D = self.wshape[1:]
        gw = np.zeros(self.wshape, dtype=grad.dtype)
        flat = indices.reshape(-1)
        if flat.size and len(D) == 1 and gw.dtype in _KERNEL_DTYPES and kernels.enabled():
            from gradfit.kernels.embedding import embedding_backward

            n = self.wshape[0]  # the kernel does not check bounds: never let it write outside
            if flat.min() < 0 or flat.max() >= n:
                raise IndexError(
                    f"embedding backward: indices must lie in [0, {n}), got "
                    f"{int(flat.min())}..{int(flat.max())} (changed in place after the forward?)"
                )
            embedding_backward(flat, np.ascontiguousarray(grad).reshape(flat.size, D[0]), gw)
        elif flat.size:
            g2 = grad.reshape(flat.size, *D)
            order = np.argsort(flat, kind="stable")
            sorted_idx = flat[order]
            uniq, starts = np.unique(sorted_idx, return_index=True)
            gw[uniq] = np.add.reduceat(g2[order], starts, axis=0)
        if self.padding_idx is not None:
            gw[self.padding_idx] = 0
        return gw, None

    def backward_graph(self, grad: Tensor) -> tuple[Any, ...]:
        if not self.needs_input_grad[0]:
            return None, None
        from gradfit.ops.linear_map import snapshot

        # a snapshot: the indices must outlive the release of this node's saved arrays
        return _EmbeddingBackward.apply(grad, src=snapshot(self)), None


class _EmbeddingBackward(Function):
    """Embedding's scatter-add as an op (for a double backward): its gradient is the lookup."""

    def forward(self, grad: np.ndarray, src: Embedding) -> np.ndarray:
        self.src = src
        return src.backward(grad)[0]

    def _mask(self) -> np.ndarray | None:
        src = self.src
        if src.padding_idx is None:
            return None
        return (src.saved[0] != src.padding_idx)[..., None]

    def backward(self, grad: np.ndarray) -> tuple[Any]:
        out = grad[self.src.saved[0]]
        mask = self._mask()
        return (out if mask is None else out * mask,)

    def backward_graph(self, grad: Tensor) -> tuple[Any]:
        out = Embedding.apply(grad, Tensor._wrap(self.src.saved[0]), padding_idx=None)
        mask = self._mask()
        return (out if mask is None else out * Tensor._wrap(mask.astype(grad.dtype)),)


def embedding(
    input: Tensor,  # noqa: A002 - PyTorch's name
    weight: Tensor,
    padding_idx: int | None = None,
) -> Tensor:
    """Look up rows of ``weight`` (num_embeddings, dim) at the integer indices ``input``.

    Output shape: ``input.shape + (dim,)``. ``padding_idx`` rows get no gradient.
    Indices out of range raise ``IndexError`` (also a ``ValueError``) naming the
    bad index and the number of embeddings.

    Example:
        >>> import gradfit as gf
        >>> from gradfit.ops.embedding import embedding
        >>> embedding(gf.tensor([[0, 2]]), gf.eye(3)).tolist()
        [[[1.0, 0.0, 0.0], [0.0, 0.0, 1.0]]]
    """
    from gradfit.ops.loss import ClassIndexError

    if not isinstance(input, Tensor) or not isinstance(weight, Tensor):
        raise TypeError("embedding: input and weight must be gf.Tensor objects")
    if input._data.dtype.kind not in "iu":
        raise TypeError(
            f"embedding: indices must be an integer tensor, got {input._data.dtype} (use .long())"
        )
    if weight.ndim != 2:
        raise ValueError(f"embedding: weight must be 2-D (num_embeddings, dim), got {weight.shape}")
    V = weight.shape[0]
    idx = input._data
    if idx.size:
        lo, hi = int(idx.min()), int(idx.max())
        if lo < 0 or hi >= V:
            bad = lo if lo < 0 else hi
            raise ClassIndexError(
                f"embedding: index {bad} is out of range for {V} embeddings (valid: 0..{V - 1})"
            )
    if padding_idx is not None:
        if not -V <= padding_idx < V:
            raise ValueError(f"embedding: padding_idx {padding_idx} is out of range for {V} rows")
        padding_idx %= V
    return Embedding.apply(weight, input, padding_idx=padding_idx)


def one_hot(tensor: Tensor, num_classes: int = -1) -> Tensor:
    """One-hot encoding of integer class indices: shape ``tensor.shape + (num_classes,)``, int64.

    ``num_classes=-1`` uses ``max + 1``.

    Example:
        >>> import gradfit as gf
        >>> from gradfit.ops.embedding import one_hot
        >>> one_hot(gf.tensor([0, 2]), 3)
        tensor([[1, 0, 0],
                [0, 0, 1]])
    """
    from gradfit.ops.loss import ClassIndexError

    if not isinstance(tensor, Tensor):
        raise TypeError(f"one_hot: expected a gf.Tensor, got {type(tensor).__name__}")
    idx = tensor._data
    if idx.dtype.kind not in "iu":
        raise TypeError(f"one_hot: expected an integer tensor of class indices, got {idx.dtype}")
    if num_classes == -1:
        if idx.size == 0:
            raise ValueError("one_hot: cannot infer num_classes from an empty tensor")
        num_classes = int(idx.max()) + 1
    if idx.size and (idx.min() < 0 or idx.max() >= num_classes):
        bad = int(idx.min()) if idx.min() < 0 else int(idx.max())
        raise ClassIndexError(
            f"one_hot: class index {bad} is out of range for num_classes={num_classes}"
        )
    out = np.zeros((*idx.shape, num_classes), dtype=np.int64)
    np.put_along_axis(out, idx[..., None].astype(np.intp), 1, axis=-1)
    return Tensor._wrap(out)
