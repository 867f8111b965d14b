"""Adam: momentum on the gradient, divided by a running root-mean-square of the gradient.

With gradient ``g`` (negated when ``maximize``) at step ``t`` (from 1), as ``torch.optim.Adam``::

    g = g + weight_decay * p                    (L2; AdamW decays p directly instead)
    m = beta1 * m + (1 - beta1) * g
    v = beta2 * v + (1 - beta2) * g * g
    v_max = max(v_max, v)                       (amsgrad; v_max replaces v below)
    p = p - lr / (1 - beta1**t) * m / (sqrt(v) / sqrt(1 - beta2**t) + eps)

Note where ``eps`` sits: it is added after the bias correction of ``sqrt(v)``, as in PyTorch.

Example:
    >>> import gradfit as gf
    >>> w = gf.tensor([1.0, -2.0], requires_grad=True)
    >>> opt = gf.optim.Adam([w], lr=0.1)
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

__all__ = ["Adam"]


class Adam(Optimizer):
    """Adam (Kingma & Ba, 2015), PyTorch's ``torch.optim.Adam``.

    Args:
        params: parameters or parameter groups to optimize.
        lr: learning rate (default 1e-3).
        betas: decay rates of the first and second moment averages, each in [0, 1).
        eps: added to the denominator for numerical stability (default 1e-8).
        weight_decay: L2 penalty added to the gradient (default 0); see AdamW for the
            decoupled form.
        amsgrad: use the maximum of the second moments so far (Reddi et al., 2018).
        maximize: maximize the objective instead of minimizing it.
        decoupled_weight_decay: decay the weights directly, as AdamW does.
        foreach, fused, capturable, differentiable: PyTorch's implementation switches, accepted
            and ignored (see :mod:`gradfit.optim._flags`).

    Example:
        >>> import gradfit as gf
        >>> w = gf.tensor([0.5], requires_grad=True)
        >>> opt = gf.optim.Adam([w], lr=0.01, betas=(0.9, 0.99), amsgrad=True)
        >>> (w * w).sum().backward(); opt.step()
        >>> sorted(opt.state[w])
        ['exp_avg', 'exp_avg_sq', 'max_exp_avg_sq', 'step']
    """

    _name = "Adam"

    def __init__(
        self,
        params: Iterable[Any],
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.0,
        amsgrad: bool = False,
        *,
        foreach: bool | None = None,
        maximize: bool = False,
        capturable: bool = False,
        differentiable: bool = False,
        fused: bool | None = None,
        decoupled_weight_decay: bool = False,
    ) -> None:
        defaults = {
            "lr": lr,
            "betas": tuple(betas) if isinstance(betas, list) else betas,
            "eps": eps,
            "weight_decay": weight_decay,
            "amsgrad": amsgrad,
            "maximize": maximize,
            "decoupled_weight_decay": decoupled_weight_decay,
            **backend_flags(
                self._name,
                foreach=foreach,
                fused=fused,
                capturable=capturable,
                differentiable=differentiable,
                keys=("foreach", "capturable", "differentiable", "fused"),
            ),
        }
        super().__init__(params, defaults)

    def _validate_group(self, group: dict[str, Any]) -> None:
        name = self._name
        _check_range(name, "lr", group["lr"], 0.0)
        _check_range(name, "eps", group["eps"], 0.0)
        _check_betas(name, group)
        _check_range(name, "weight_decay", group["weight_decay"], 0.0)

    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """One Adam update of every parameter that has a gradient; returns the closure's loss.

        Example:
            >>> import gradfit as gf
            >>> w = gf.tensor([1.0], requires_grad=True)
            >>> opt = gf.optim.Adam([w], lr=0.5)
            >>> (w * w).sum().backward(); opt.step()
            >>> w
            tensor([0.5000], requires_grad=True)
        """
        loss = self._eval_closure(closure)
        for group in self.param_groups:
            lr = group["lr"]
            beta1, beta2 = group["betas"]
            eps = group["eps"]
            wd = group["weight_decay"]
            decoupled = group["decoupled_weight_decay"]
            amsgrad = group["amsgrad"]
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
                    if amsgrad:
                        state["max_exp_avg_sq"] = np.zeros_like(arr)
                state["step"] += 1
                step = state["step"]
                m, v = state["exp_avg"], state["exp_avg_sq"]

                g_buf = self._buffer(arr, 0)
                if wd != 0 and decoupled:
                    arr *= dt(1 - lr * wd)
                    grad = _decayed_grad(p.grad._data, arr, 0.0, group["maximize"], g_buf)
                else:
                    grad = _decayed_grad(p.grad._data, arr, wd, group["maximize"], g_buf)

                tmp = self._buffer(arr, 1)
                # m = beta1 * m + (1 - beta1) * g
                m *= dt(beta1)
                np.multiply(grad, dt(1 - beta1), out=tmp)
                m += tmp
                # v = beta2 * v + (1 - beta2) * g^2
                v *= dt(beta2)
                np.multiply(grad, grad, out=tmp)
                tmp *= dt(1 - beta2)
                v += tmp

                bias_correction1 = 1 - beta1**step
                bias_correction2_sqrt = (1 - beta2**step) ** 0.5
                step_size = lr / bias_correction1
                if amsgrad:
                    vmax = state["max_exp_avg_sq"]
                    np.maximum(vmax, v, out=vmax)
                    np.sqrt(vmax, out=tmp)
                else:
                    np.sqrt(v, out=tmp)
                tmp /= dt(bias_correction2_sqrt)
                tmp += dt(eps)
                np.divide(m, tmp, out=tmp)
                tmp *= dt(step_size)
                arr -= tmp
                p._version[0] += 1
        self._maybe_flush_subnormals()
        return loss
