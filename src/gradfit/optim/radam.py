"""RAdam: Adam whose adaptive step is switched on once its variance estimate is reliable.

With gradient ``g`` (negated when ``maximize``) at step ``t``, as ``torch.optim.RAdam``::

    g = g + weight_decay * p           (decoupled_weight_decay: p = p * (1 - lr * weight_decay))
    m = beta1 * m + (1 - beta1) * g;  v = beta2 * v + (1 - beta2) * g * g
    rho_inf = 2 / (1 - beta2) - 1;  rho_t = rho_inf - 2 t beta2**t / (1 - beta2**t)
    rho_t > 5:  p = p - lr * m / (1 - beta1**t) * r_t * sqrt(1 - beta2**t) / (sqrt(v) + eps)
    otherwise:  p = p - lr * m / (1 - beta1**t)
    with r_t = sqrt((rho_t - 4)(rho_t - 2) rho_inf / ((rho_inf - 4)(rho_inf - 2) rho_t))

Example:
    >>> import gradfit as gf
    >>> w = gf.tensor([1.0, -2.0], requires_grad=True)
    >>> opt = gf.optim.RAdam([w], lr=0.1)
    >>> (w * w).sum().backward(); opt.step()   # the first steps are plain momentum SGD
    >>> w
    tensor([ 0.8000, -1.6000], requires_grad=True)
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import numpy as np

from gradfit.optim._flags import backend_flags
from gradfit.optim.optimizer import Optimizer, _check_betas, _check_range, _decayed_grad

__all__ = ["RAdam"]


class RAdam(Optimizer):
    """Rectified Adam (Liu et al., 2020), PyTorch's ``torch.optim.RAdam``.

    Args:
        params: parameters or parameter groups to optimize.
        lr: learning rate (default 1e-3).
        betas: decay rates of the first and second moment averages, each in [0, 1).
        eps: added to the denominator for numerical stability (default 1e-8).
        weight_decay: weight decay (default 0): L2 added to the gradient, or decoupled.
        decoupled_weight_decay: decay the weights directly, as AdamW does.
        foreach, capturable, differentiable: PyTorch's implementation switches, accepted and
            ignored (see :mod:`gradfit.optim._flags`).
        maximize: maximize the objective instead of minimizing it.

    Example:
        >>> import gradfit as gf
        >>> opt = gf.optim.RAdam([gf.zeros(2, requires_grad=True)], decoupled_weight_decay=True)
        >>> opt.param_groups[0]["decoupled_weight_decay"]
        True
    """

    def __init__(
        self,
        params: Iterable[Any],
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.0,
        decoupled_weight_decay: bool = False,
        *,
        foreach: bool | None = None,
        maximize: bool = False,
        capturable: bool = False,
        differentiable: bool = False,
    ) -> None:
        defaults = {
            "lr": lr,
            "betas": tuple(betas) if isinstance(betas, list) else betas,
            "eps": eps,
            "weight_decay": weight_decay,
            "decoupled_weight_decay": decoupled_weight_decay,
            "maximize": maximize,
            **backend_flags(
                "RAdam", foreach=foreach, capturable=capturable, differentiable=differentiable
            ),
        }
        super().__init__(params, defaults)

    def _validate_group(self, group: dict[str, Any]) -> None:
        _check_range("RAdam", "lr", group["lr"], 0.0)
        _check_range("RAdam", "eps", group["eps"], 0.0)
        _check_betas("RAdam", group)
        _check_range("RAdam", "weight_decay", group["weight_decay"], 0.0)

    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """One RAdam update of every parameter that has a gradient; returns the closure's loss.

        Example:
            >>> import gradfit as gf
            >>> w = gf.tensor([1.0], requires_grad=True)
            >>> opt = gf.optim.RAdam([w], lr=0.5)
            >>> (w * w).sum().backward(); opt.step()
            >>> w
            tensor([0.], requires_grad=True)
        """
        loss = self._eval_closure(closure)
        for group in self.param_groups:
            lr, eps, wd = group["lr"], group["eps"], group["weight_decay"]
            beta1, beta2 = group["betas"]
            decoupled = group["decoupled_weight_decay"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                arr = p._data
                dt = arr.dtype.type
                state = self.state[p]
                if not state:
                    state["step"] = 0
                    state["exp_avg"] = np.zeros_like(arr)
                    state["exp_avg_sq"] = np.zeros_like(arr)
                state["step"] += 1
                step = state["step"]
                if wd != 0 and decoupled:
                    arr *= dt(1 - lr * wd)
                grad = _decayed_grad(
                    p.grad._data,
                    arr,
                    0.0 if decoupled else wd,
                    group["maximize"],
                    self._buffer(arr, 0),
                )
                m, v = state["exp_avg"], state["exp_avg_sq"]
                tmp = self._buffer(arr, 1)
                np.subtract(grad, m, out=tmp)
                tmp *= dt(1 - beta1)
                m += tmp
                v *= dt(beta2)
                np.multiply(grad, grad, out=tmp)
                tmp *= dt(1 - beta2)
                v += tmp
                bias_correction1 = 1 - beta1**step
                bias_correction2 = 1 - beta2**step
                update = np.divide(m, dt(bias_correction1), out=np.empty_like(m))
                update *= dt(lr)
                rho_inf = 2 / (1 - beta2) - 1
                rho_t = rho_inf - 2 * step * (beta2**step) / bias_correction2
                if rho_t > 5.0:
                    rect = (
                        (rho_t - 4)
                        * (rho_t - 2)
                        * rho_inf
                        / ((rho_inf - 4) * (rho_inf - 2) * rho_t)
                    ) ** 0.5
                    np.sqrt(v, out=tmp)
                    tmp += dt(eps)
                    np.divide(dt(bias_correction2**0.5), tmp, out=tmp)
                    update *= tmp
                    update *= dt(rect)
                arr -= update
                p._version[0] += 1
        self._maybe_flush_subnormals()
        return loss
