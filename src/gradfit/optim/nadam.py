"""NAdam: Adam with Nesterov momentum and a momentum schedule.

With gradient ``g`` (negated when ``maximize``) at step ``t``, as ``torch.optim.NAdam``::

    g = g + weight_decay * p           (decoupled_weight_decay: p = p * (1 - lr * weight_decay))
    mu_t = beta1 * (1 - 0.5 * 0.96 ** (t * momentum_decay));  mu_product = mu_1 * ... * mu_t
    m = beta1 * m + (1 - beta1) * g;  v = beta2 * v + (1 - beta2) * g * g
    d = sqrt(v / (1 - beta2**t)) + eps
    p = p - lr * (1 - mu_t) / (1 - mu_product) * g / d
          - lr * mu_{t+1} / (1 - mu_product * mu_{t+1}) * m / d

``mu_product`` is kept in float32, as PyTorch keeps it (a float32 scalar tensor), so the
trajectories agree.

Example:
    >>> import gradfit as gf
    >>> w = gf.tensor([1.0, -2.0], requires_grad=True)
    >>> opt = gf.optim.NAdam([w])
    >>> (w * w).sum().backward(); opt.step()
    >>> sorted(opt.state[w])
    ['exp_avg', 'exp_avg_sq', 'mu_product', 'step']
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import numpy as np

from gradfit.optim._flags import backend_flags
from gradfit.optim.optimizer import Optimizer, _check_betas, _check_range, _decayed_grad

__all__ = ["NAdam"]


class NAdam(Optimizer):
    """NAdam (Dozat, 2016), PyTorch's ``torch.optim.NAdam``.

    Args:
        params: parameters or parameter groups to optimize.
        lr: learning rate (default 2e-3).
        betas: decay rates of the first and second moment averages, each in [0, 1).
        eps: added to the denominator for numerical stability (default 1e-8).
        weight_decay: weight decay (default 0): L2 added to the gradient, or decoupled.
        momentum_decay: the momentum schedule's decay (default 4e-3).
        decoupled_weight_decay: decay the weights directly, as AdamW does (NAdamW).
        foreach, capturable, differentiable: PyTorch's implementation switches, accepted and
            ignored (see :mod:`gradfit.optim._flags`).
        maximize: maximize the objective instead of minimizing it.

    Example:
        >>> import gradfit as gf
        >>> opt = gf.optim.NAdam([gf.zeros(2, requires_grad=True)], momentum_decay=0.0)
        >>> opt.param_groups[0]["momentum_decay"]
        0.0
    """

    def __init__(
        self,
        params: Iterable[Any],
        lr: float = 2e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.0,
        momentum_decay: float = 4e-3,
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
            "momentum_decay": momentum_decay,
            "decoupled_weight_decay": decoupled_weight_decay,
            "maximize": maximize,
            **backend_flags(
                "NAdam", foreach=foreach, capturable=capturable, differentiable=differentiable
            ),
        }
        super().__init__(params, defaults)

    def _validate_group(self, group: dict[str, Any]) -> None:
        _check_range("NAdam", "lr", group["lr"], 0.0)
        _check_range("NAdam", "eps", group["eps"], 0.0)
        _check_betas("NAdam", group)
        _check_range("NAdam", "weight_decay", group["weight_decay"], 0.0)
        _check_range("NAdam", "momentum_decay", group["momentum_decay"], 0.0)

    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """One NAdam update of every parameter that has a gradient; returns the closure's loss.

        Example:
            >>> import gradfit as gf
            >>> w = gf.tensor([1.0], requires_grad=True)
            >>> opt = gf.optim.NAdam([w], lr=0.1)
            >>> (w * w).sum().backward(); opt.step()
            >>> w.item() < 1.0
            True
        """
        loss = self._eval_closure(closure)
        for group in self.param_groups:
            lr, eps, wd = group["lr"], group["eps"], group["weight_decay"]
            beta1, beta2 = group["betas"]
            decoupled = group["decoupled_weight_decay"]
            mdecay = group["momentum_decay"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                arr = p._data
                dt = arr.dtype.type
                state = self.state[p]
                if not state:
                    state["step"] = 0
                    state["mu_product"] = 1.0
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
                bias_correction2 = 1 - beta2**step
                mu = beta1 * (1.0 - 0.5 * (0.96 ** (step * mdecay)))
                mu_next = beta1 * (1.0 - 0.5 * (0.96 ** ((step + 1) * mdecay)))
                mu_product = float(np.float32(state["mu_product"]) * np.float32(mu))
                state["mu_product"] = mu_product
                m, v = state["exp_avg"], state["exp_avg_sq"]
                tmp = self._buffer(arr, 1)
                np.subtract(grad, m, out=tmp)
                tmp *= dt(1 - beta1)
                m += tmp
                v *= dt(beta2)
                np.multiply(grad, grad, out=tmp)
                tmp *= dt(1 - beta2)
                v += tmp
                denom = np.divide(v, dt(bias_correction2), out=np.empty_like(v))
                np.sqrt(denom, out=denom)
                denom += dt(eps)
                mu_product_next = mu_product * mu_next
                np.divide(grad, denom, out=tmp)
                tmp *= dt(lr * (1.0 - mu) / (1.0 - mu_product))
                arr -= tmp
                np.divide(m, denom, out=tmp)
                tmp *= dt(lr * mu_next / (1.0 - mu_product_next))
                arr -= tmp
                p._version[0] += 1
        self._maybe_flush_subnormals()
        return loss
