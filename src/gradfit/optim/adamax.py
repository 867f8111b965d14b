"""Adamax: Adam with the infinity norm in place of the root-mean-square.

With gradient ``g`` (negated when ``maximize``) at step ``t``, as ``torch.optim.Adamax``::

    g = g + weight_decay * p                        (if weight_decay != 0)
    m = beta1 * m + (1 - beta1) * g                 (exp_avg)
    u = max(beta2 * u, |g| + eps)                   (exp_inf)
    p = p - lr / (1 - beta1**t) * m / u

Example:
    >>> import gradfit as gf
    >>> w = gf.tensor([1.0, -2.0], requires_grad=True)
    >>> opt = gf.optim.Adamax([w], lr=0.1)
    >>> (w * w).sum().backward(); opt.step()
    >>> w
    tensor([ 0.9000, -1.9000], requires_grad=True)
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import numpy as np

from gradfit.optim._flags import backend_flags
from gradfit.optim.optimizer import Optimizer, _check_betas, _check_range, _decayed_grad

__all__ = ["Adamax"]


class Adamax(Optimizer):
    """Adamax (Kingma & Ba, 2015, section 7), PyTorch's ``torch.optim.Adamax``.

    Args:
        params: parameters or parameter groups to optimize.
        lr: learning rate (default 2e-3).
        betas: decay rates of the moment average and of the infinity norm, each in [0, 1).
        eps: added to ``|g|`` for numerical stability (default 1e-8).
        weight_decay: L2 penalty added to the gradient (default 0).
        foreach, capturable, differentiable: PyTorch's implementation switches, accepted and
            ignored (see :mod:`gradfit.optim._flags`).
        maximize: maximize the objective instead of minimizing it.

    Example:
        >>> import gradfit as gf
        >>> w = gf.tensor([0.5], requires_grad=True)
        >>> opt = gf.optim.Adamax([w])
        >>> (w * w).sum().backward(); opt.step()
        >>> sorted(opt.state[w])
        ['exp_avg', 'exp_inf', 'step']
    """

    def __init__(
        self,
        params: Iterable[Any],
        lr: float = 2e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.0,
        foreach: bool | None = None,
        *,
        maximize: bool = False,
        differentiable: bool = False,
        capturable: bool = False,
    ) -> None:
        defaults = {
            "lr": lr,
            "betas": tuple(betas) if isinstance(betas, list) else betas,
            "eps": eps,
            "weight_decay": weight_decay,
            "maximize": maximize,
            **backend_flags(
                "Adamax", foreach=foreach, capturable=capturable, differentiable=differentiable
            ),
        }
        super().__init__(params, defaults)

    def _validate_group(self, group: dict[str, Any]) -> None:
        _check_range("Adamax", "lr", group["lr"], 0.0)
        _check_range("Adamax", "eps", group["eps"], 0.0)
        _check_betas("Adamax", group)
        _check_range("Adamax", "weight_decay", group["weight_decay"], 0.0)

    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """One Adamax update of every parameter that has a gradient; returns the closure's loss.

        Example:
            >>> import gradfit as gf
            >>> w = gf.tensor([1.0], requires_grad=True)
            >>> opt = gf.optim.Adamax([w], lr=0.5)
            >>> (w * w).sum().backward(); opt.step()
            >>> w
            tensor([0.5000], requires_grad=True)
        """
        loss = self._eval_closure(closure)
        for group in self.param_groups:
            lr, eps = group["lr"], group["eps"]
            beta1, beta2 = group["betas"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                arr = p._data
                dt = arr.dtype.type
                state = self.state[p]
                if not state:
                    state["step"] = 0
                    state["exp_avg"] = np.zeros_like(arr)
                    state["exp_inf"] = np.zeros_like(arr)
                state["step"] += 1
                grad = _decayed_grad(
                    p.grad._data,
                    arr,
                    group["weight_decay"],
                    group["maximize"],
                    self._buffer(arr, 0),
                )
                m, u = state["exp_avg"], state["exp_inf"]
                tmp = self._buffer(arr, 1)
                # m = m + (1 - beta1) * (g - m)  (PyTorch's lerp)
                np.subtract(grad, m, out=tmp)
                tmp *= dt(1 - beta1)
                m += tmp
                u *= dt(beta2)
                np.abs(grad, out=tmp)
                tmp += dt(eps)
                np.maximum(u, tmp, out=u)
                clr = lr / (1 - beta1 ** state["step"])
                np.divide(m, u, out=tmp)
                tmp *= dt(clr)
                arr -= tmp
                p._version[0] += 1
        self._maybe_flush_subnormals()
        return loss
