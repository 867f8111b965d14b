"""Distance modules (PyTorch's names): CosineSimilarity, PairwiseDistance.

Example:
    >>> import gradfit as gf
    >>> gf.nn.CosineSimilarity()(gf.tensor([[1.0, 0.0]]), gf.tensor([[2.0, 0.0]]))
    tensor([1.])
"""

from __future__ import annotations

from gradfit.nn.module import Module
from gradfit.ops import distance as _d
from gradfit.tensor import Tensor


class CosineSimilarity(Module):
    """Cosine similarity along ``dim``: see :func:`gradfit.nn.functional.cosine_similarity`.

    Example:
        >>> import gradfit as gf
        >>> gf.nn.CosineSimilarity(dim=0)
        CosineSimilarity()
    """

    def __init__(self, dim: int = 1, eps: float = 1e-8) -> None:
        super().__init__()
        self.dim, self.eps = dim, eps

    def forward(self, x1: Tensor, x2: Tensor) -> Tensor:
        return _d.cosine_similarity(x1, x2, self.dim, self.eps)


class PairwiseDistance(Module):
    """p-norm of ``x1 - x2 + eps`` over the last dim: see :func:`gradfit.nn.functional.pairwise_distance`.

    Example:
        >>> import gradfit as gf
        >>> gf.nn.PairwiseDistance()(gf.zeros(1, 2), gf.ones(1, 2)).shape
        (1,)
    """

    def __init__(self, p: float = 2.0, eps: float = 1e-6, keepdim: bool = False) -> None:
        super().__init__()
        self.norm, self.eps, self.keepdim = p, eps, keepdim

    def forward(self, x1: Tensor, x2: Tensor) -> Tensor:
        return _d.pairwise_distance(x1, x2, self.norm, self.eps, self.keepdim)
