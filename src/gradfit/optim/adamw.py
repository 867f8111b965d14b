"""AdamW: Adam with decoupled weight decay (Loshchilov & Hutter, 2019).

Instead of adding ``weight_decay * p`` to the gradient (which Adam then rescales), AdamW
shrinks the weights directly before the Adam update, as ``torch.optim.AdamW``::

    p = p * (1 - lr * weight_decay)
    (then the Adam update with the undecayed gradient)

Example:
    >>> import gradfit as gf
    >>> w = gf.tensor([1.0], requires_grad=True)
    >>> opt = gf.optim.AdamW([w], lr=0.1, weight_decay=0.5)
    >>> (w * 0).sum().backward(); opt.step()
    >>> w
    tensor([0.9500], requires_grad=True)
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from gradfit.optim.adam import Adam

__all__ = ["AdamW"]


class AdamW(Adam):
    """Adam with decoupled weight decay, PyTorch's ``torch.optim.AdamW``.

    Args:
        params: parameters or parameter groups to optimize.
        lr: learning rate (default 1e-3).
        betas: decay rates of the moment averages, each in [0, 1) (default (0.9, 0.999)).
        eps: added to the denominator for numerical stability (default 1e-8).
        weight_decay: decoupled weight decay (default 1e-2, like PyTorch).
        amsgrad: use the maximum of the second moments so far.
        maximize: maximize the objective instead of minimizing it.
        foreach, fused, capturable, differentiable: PyTorch's implementation switches, accepted
            and ignored (see :mod:`gradfit.optim._flags`).

    Example:
        >>> import gradfit as gf
        >>> opt = gf.optim.AdamW([gf.zeros(2, requires_grad=True)])
        >>> opt.param_groups[0]["weight_decay"]
        0.01
    """

    _name = "AdamW"

    def __init__(
        self,
        params: Iterable[Any],
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 1e-2,
        amsgrad: bool = False,
        *,
        maximize: bool = False,
        foreach: bool | None = None,
        capturable: bool = False,
        differentiable: bool = False,
        fused: bool | None = None,
    ) -> None:
        super().__init__(
            params,
            lr=lr,
            betas=betas,
            eps=eps,
            weight_decay=weight_decay,
            amsgrad=amsgrad,
            maximize=maximize,
            foreach=foreach,
            capturable=capturable,
            differentiable=differentiable,
            fused=fused,
            decoupled_weight_decay=True,
        )
