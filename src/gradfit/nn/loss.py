"""Loss modules: thin wrappers that hold the options of the loss functions in ``gf.nn.functional``.

Example:
    >>> import gradfit as gf
    >>> criterion = gf.nn.CrossEntropyLoss(label_smoothing=0.1)
    >>> criterion  # printed as PyTorch prints it: the options are not shown
    CrossEntropyLoss()
    >>> criterion.label_smoothing
    0.1
    >>> criterion(gf.zeros(3, 5), gf.tensor([0, 4, 2])).shape
    ()
"""

from __future__ import annotations

from typing import Any

from gradfit.nn.module import Module
from gradfit.ops import loss as _L
from gradfit.ops import margin_loss as _M
from gradfit.tensor import Tensor


class _Loss(Module):
    """A loss module: its ``repr`` shows no options, as PyTorch prints losses."""

    def __init__(self, reduction: str = "mean") -> None:
        super().__init__()
        _L._check_reduction(reduction, type(self).__name__, self._extra_reductions)
        self.reduction = reduction

    _extra_reductions: tuple[str, ...] = ()


class _WeightedLoss(_Loss):
    def __init__(self, weight: Tensor | None = None, reduction: str = "mean") -> None:
        super().__init__(reduction)
        self.register_buffer("weight", weight)


class CrossEntropyLoss(_WeightedLoss):
    """Cross-entropy from logits: see :func:`gradfit.nn.functional.cross_entropy`.

    Example:
        >>> import gradfit as gf
        >>> loss = gf.nn.CrossEntropyLoss(ignore_index=0)(gf.zeros(2, 3), gf.tensor([0, 1]))
        >>> round(loss.item(), 4)
        1.0986
    """

    def __init__(
        self,
        weight: Tensor | None = None,
        ignore_index: int = -100,
        reduction: str = "mean",
        label_smoothing: float = 0.0,
    ) -> None:
        super().__init__(weight, reduction)
        self.ignore_index = ignore_index
        self.label_smoothing = label_smoothing

    def forward(self, input: Tensor, target: Tensor) -> Tensor:  # noqa: A002
        return _L.cross_entropy(
            input,
            target,
            weight=self.weight,
            ignore_index=self.ignore_index,
            reduction=self.reduction,
            label_smoothing=self.label_smoothing,
        )


class NLLLoss(_WeightedLoss):
    """Negative log-likelihood of class indices given log-probabilities.

    Example:
        >>> import gradfit as gf
        >>> gf.nn.NLLLoss()(gf.tensor([[-1.0, -2.0]]), gf.tensor([1]))
        tensor(2.)
    """

    def __init__(
        self, weight: Tensor | None = None, ignore_index: int = -100, reduction: str = "mean"
    ) -> None:
        super().__init__(weight, reduction)
        self.ignore_index = ignore_index

    def forward(self, input: Tensor, target: Tensor) -> Tensor:  # noqa: A002
        return _L.nll_loss(
            input, target, self.weight, ignore_index=self.ignore_index, reduction=self.reduction
        )


class MSELoss(_Loss):
    """Mean squared error.

    Example:
        >>> import gradfit as gf
        >>> gf.nn.MSELoss()(gf.ones(3), gf.zeros(3))
        tensor(1.)
    """

    def forward(self, input: Tensor, target: Tensor) -> Tensor:  # noqa: A002
        return _L.mse_loss(input, target, reduction=self.reduction)


class L1Loss(_Loss):
    """Mean absolute error.

    Example:
        >>> import gradfit as gf
        >>> gf.nn.L1Loss(reduction="sum")(gf.ones(3), gf.zeros(3))
        tensor(3.)
    """

    def forward(self, input: Tensor, target: Tensor) -> Tensor:  # noqa: A002
        return _L.l1_loss(input, target, reduction=self.reduction)


class HuberLoss(_Loss):
    """Huber loss with threshold ``delta``.

    Example:
        >>> import gradfit as gf
        >>> gf.nn.HuberLoss(delta=0.5)(gf.tensor([2.0]), gf.zeros(1))
        tensor(0.875)
    """

    def __init__(self, reduction: str = "mean", delta: float = 1.0) -> None:
        super().__init__(reduction)
        self.delta = delta

    def forward(self, input: Tensor, target: Tensor) -> Tensor:  # noqa: A002
        return _L.huber_loss(input, target, reduction=self.reduction, delta=self.delta)


class SmoothL1Loss(_Loss):
    """Smooth L1 loss with threshold ``beta``.

    Example:
        >>> import gradfit as gf
        >>> gf.nn.SmoothL1Loss()(gf.tensor([0.5]), gf.zeros(1))
        tensor(0.125)
    """

    def __init__(self, reduction: str = "mean", beta: float = 1.0) -> None:
        super().__init__(reduction)
        self.beta = beta

    def forward(self, input: Tensor, target: Tensor) -> Tensor:  # noqa: A002
        return _L.smooth_l1_loss(input, target, reduction=self.reduction, beta=self.beta)


class BCELoss(_WeightedLoss):
    """Binary cross-entropy on probabilities.

    Example:
        >>> import gradfit as gf
        >>> round(gf.nn.BCELoss()(gf.tensor([0.5]), gf.tensor([0.0])).item(), 4)
        0.6931
    """

    def forward(self, input: Tensor, target: Tensor) -> Tensor:  # noqa: A002
        return _L.binary_cross_entropy(input, target, self.weight, reduction=self.reduction)


class BCEWithLogitsLoss(_WeightedLoss):
    """Binary cross-entropy on logits, stable for any logit; ``pos_weight`` per class.

    Example:
        >>> import gradfit as gf
        >>> round(gf.nn.BCEWithLogitsLoss()(gf.zeros(2), gf.ones(2)).item(), 4)
        0.6931
    """

    def __init__(
        self,
        weight: Tensor | None = None,
        reduction: str = "mean",
        pos_weight: Tensor | None = None,
    ) -> None:
        super().__init__(weight, reduction)
        self.register_buffer("pos_weight", pos_weight)

    def forward(self, input: Tensor, target: Tensor) -> Tensor:  # noqa: A002
        return _L.binary_cross_entropy_with_logits(
            input, target, self.weight, reduction=self.reduction, pos_weight=self.pos_weight
        )


class KLDivLoss(_Loss):
    """KL divergence with log-probability inputs; ``reduction='batchmean'`` for the true KL.

    Example:
        >>> import gradfit as gf
        >>> gf.nn.KLDivLoss(reduction="batchmean", log_target=True).reduction
        'batchmean'
    """

    _extra_reductions = ("batchmean",)

    def __init__(self, reduction: str = "mean", log_target: bool = False) -> None:
        super().__init__(reduction)
        self.log_target = log_target

    def forward(self, input: Tensor, target: Tensor) -> Tensor:  # noqa: A002
        return _L.kl_div(input, target, reduction=self.reduction, log_target=self.log_target)


__all__: list[Any] = [
    "BCELoss",
    "BCEWithLogitsLoss",
    "CrossEntropyLoss",
    "HuberLoss",
    "KLDivLoss",
    "L1Loss",
    "MSELoss",
    "NLLLoss",
    "SmoothL1Loss",
]


# ------------------------------------------------ margin, embedding and likelihood losses
class _PlainLoss(_Loss):
    """A loss of the margin, embedding and likelihood family (options held, not printed)."""


class MarginRankingLoss(_PlainLoss):
    """See :func:`gradfit.nn.functional.margin_ranking_loss`.

    Example:
        >>> import gradfit as gf
        >>> gf.nn.MarginRankingLoss(margin=0.5)(gf.zeros(2), gf.ones(2), gf.ones(2))
        tensor(1.5)
    """

    def __init__(
        self,
        margin: float = 0.0,
        size_average: Any = None,
        reduce: Any = None,
        reduction: str = "mean",
    ) -> None:
        super().__init__(_M._legacy(size_average, reduce, reduction))
        self.margin = margin

    def forward(self, input1: Tensor, input2: Tensor, target: Tensor) -> Tensor:
        return _M.margin_ranking_loss(input1, input2, target, self.margin, reduction=self.reduction)


class HingeEmbeddingLoss(_PlainLoss):
    """See :func:`gradfit.nn.functional.hinge_embedding_loss`.

    Example:
        >>> import gradfit as gf
        >>> gf.nn.HingeEmbeddingLoss()(gf.zeros(2), gf.tensor([1.0, -1.0]))
        tensor(0.5)
    """

    def __init__(
        self,
        margin: float = 1.0,
        size_average: Any = None,
        reduce: Any = None,
        reduction: str = "mean",
    ) -> None:
        super().__init__(_M._legacy(size_average, reduce, reduction))
        self.margin = margin

    def forward(self, input: Tensor, target: Tensor) -> Tensor:  # noqa: A002
        return _M.hinge_embedding_loss(input, target, self.margin, reduction=self.reduction)


class SoftMarginLoss(_PlainLoss):
    """See :func:`gradfit.nn.functional.soft_margin_loss`.

    Example:
        >>> import gradfit as gf
        >>> round(gf.nn.SoftMarginLoss()(gf.zeros(2), gf.ones(2)).item(), 4)
        0.6931
    """

    def __init__(
        self, size_average: Any = None, reduce: Any = None, reduction: str = "mean"
    ) -> None:
        super().__init__(_M._legacy(size_average, reduce, reduction))

    def forward(self, input: Tensor, target: Tensor) -> Tensor:  # noqa: A002
        return _M.soft_margin_loss(input, target, reduction=self.reduction)


class MultiLabelSoftMarginLoss(_PlainLoss):
    """See :func:`gradfit.nn.functional.multilabel_soft_margin_loss`.

    Example:
        >>> import gradfit as gf
        >>> round(gf.nn.MultiLabelSoftMarginLoss()(gf.zeros(1, 2), gf.ones(1, 2)).item(), 4)
        0.6931
    """

    def __init__(
        self,
        weight: Tensor | None = None,
        size_average: Any = None,
        reduce: Any = None,
        reduction: str = "mean",
    ) -> None:
        super().__init__(_M._legacy(size_average, reduce, reduction))
        self.register_buffer("weight", weight)

    def forward(self, input: Tensor, target: Tensor) -> Tensor:  # noqa: A002
        return _M.multilabel_soft_margin_loss(input, target, self.weight, reduction=self.reduction)


class CosineEmbeddingLoss(_PlainLoss):
    """See :func:`gradfit.nn.functional.cosine_embedding_loss`.

    Example:
        >>> import gradfit as gf
        >>> gf.nn.CosineEmbeddingLoss()(gf.ones(1, 2), gf.ones(1, 2), gf.ones(1))
        tensor(0.)
    """

    def __init__(
        self,
        margin: float = 0.0,
        size_average: Any = None,
        reduce: Any = None,
        reduction: str = "mean",
    ) -> None:
        super().__init__(_M._legacy(size_average, reduce, reduction))
        self.margin = margin

    def forward(self, input1: Tensor, input2: Tensor, target: Tensor) -> Tensor:
        return _M.cosine_embedding_loss(
            input1, input2, target, self.margin, reduction=self.reduction
        )


class TripletMarginLoss(_PlainLoss):
    """See :func:`gradfit.nn.functional.triplet_margin_loss`.

    Example:
        >>> import gradfit as gf
        >>> a = gf.zeros(1, 2)
        >>> round(gf.nn.TripletMarginLoss()(a, a, a).item(), 4)
        1.0
    """

    def __init__(
        self,
        margin: float = 1.0,
        p: float = 2.0,
        eps: float = 1e-6,
        swap: bool = False,
        size_average: Any = None,
        reduce: Any = None,
        reduction: str = "mean",
    ) -> None:
        super().__init__(_M._legacy(size_average, reduce, reduction))
        self.margin, self.p, self.eps, self.swap = margin, p, eps, swap

    def forward(self, anchor: Tensor, positive: Tensor, negative: Tensor) -> Tensor:
        return _M.triplet_margin_loss(
            anchor,
            positive,
            negative,
            self.margin,
            self.p,
            self.eps,
            self.swap,
            reduction=self.reduction,
        )


class PoissonNLLLoss(_PlainLoss):
    """See :func:`gradfit.nn.functional.poisson_nll_loss`.

    Example:
        >>> import gradfit as gf
        >>> gf.nn.PoissonNLLLoss()(gf.zeros(2), gf.ones(2))
        tensor(1.)
    """

    def __init__(
        self,
        log_input: bool = True,
        full: bool = False,
        size_average: Any = None,
        eps: float = 1e-8,
        reduce: Any = None,
        reduction: str = "mean",
    ) -> None:
        super().__init__(_M._legacy(size_average, reduce, reduction))
        self.log_input, self.full, self.eps = log_input, full, eps

    def forward(self, log_input: Tensor, target: Tensor) -> Tensor:
        return _M.poisson_nll_loss(
            log_input, target, self.log_input, self.full, eps=self.eps, reduction=self.reduction
        )


class GaussianNLLLoss(_PlainLoss):
    """See :func:`gradfit.nn.functional.gaussian_nll_loss`.

    Example:
        >>> import gradfit as gf
        >>> gf.nn.GaussianNLLLoss()(gf.zeros(2), gf.zeros(2), gf.ones(2))
        tensor(0.)
    """

    def __init__(self, *, full: bool = False, eps: float = 1e-6, reduction: str = "mean") -> None:
        super().__init__(reduction)
        self.full, self.eps = full, eps

    def forward(self, input: Tensor, target: Tensor, var: Tensor | float) -> Tensor:  # noqa: A002
        return _M.gaussian_nll_loss(input, target, var, self.full, self.eps, self.reduction)
