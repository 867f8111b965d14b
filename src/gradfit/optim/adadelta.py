"""Adadelta: a per-coordinate step from running averages of squared gradients and updates.

With gradient ``g`` (negated when ``maximize``), as PyTorch's ``torch.optim.Adadelta``::

    g = g + weight_decay * p                          (if weight_decay != 0)
    v = rho * v + (1 - rho) * g * g                   (square_avg)
    delta = sqrt(u + eps) / sqrt(v + eps) * g
    u = rho * u + (1 - rho) * delta * delta           (acc_delta)
    p = p - lr * delta

Example:
    >>> import gradfit as gf
    >>> w = gf.tensor([1.0, -2.0], requires_grad=True)
    >>> opt = gf.optim.Adadelta([w])
    >>> (w * w).sum().backward(); opt.step()
    >>> sorted(opt.state[w])
    ['acc_delta', 'square_avg', 'step']
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import numpy as np

from gradfit.optim._flags import backend_flags
from gradfit.optim.optimizer import Optimizer, _check_range, _decayed_grad

__all__ = ["Adadelta"]


class Adadelta(Optimizer):
    """Adadelta (Zeiler, 2012), PyTorch's ``torch.optim.Adadelta``.

    Args:
        params: parameters or parameter groups to optimize.
        lr: coefficient that scales delta before it is applied (default 1.0).
        rho: decay of the running averages, in [0, 1] (default 0.9).
        eps: added inside the square roots for numerical stability (default 1e-6).
        weight_decay: L2 penalty added to the gradient (default 0).
        foreach, capturable, differentiable: PyTorch's implementation switches, accepted and
            ignored (see :mod:`gradfit.optim._flags`).
        maximize: maximize the objective instead of minimizing it.

    Example:
        >>> import gradfit as gf
        >>> w = gf.tensor([1.0], requires_grad=True)
        >>> opt = gf.optim.Adadelta([w], lr=1.0, rho=0.0, eps=0.0)
        >>> opt.param_groups[0]["rho"]
        0.0
    """

    def __init__(
        self,
        params: Iterable[Any],
        lr: float = 1.0,
        rho: float = 0.9,
        eps: float = 1e-6,
        weight_decay: float = 0.0,
        foreach: bool | None = None,
        *,
        capturable: bool = False,
        maximize: bool = False,
        differentiable: bool = False,
    ) -> None:
        defaults = {
            "lr": lr,
            "rho": rho,
            "eps": eps,
            "weight_decay": weight_decay,
            "maximize": maximize,
            **backend_flags(
                "Adadelta", foreach=foreach, capturable=capturable, differentiable=differentiable
            ),
        }
        super().__init__(params, defaults)

    def _validate_group(self, group: dict[str, Any]) -> None:
        _check_range("Adadelta", "lr", group["lr"], 0.0)
        _check_range("Adadelta", "rho", group["rho"], 0.0, 1.0, high_inclusive=True)
        _check_range("Adadelta", "eps", group["eps"], 0.0)
        _check_range("Adadelta", "weight_decay", group["weight_decay"], 0.0)

    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """One Adadelta update of every parameter that has a gradient; returns the closure's loss.

        Example:
            >>> import gradfit as gf
            >>> w = gf.tensor([1.0], dtype="float64", requires_grad=True)
            >>> opt = gf.optim.Adadelta([w], rho=0.0, eps=1e-6)
            >>> (w * w).sum().backward(); opt.step()
            >>> round(w.item(), 6)  # delta = sqrt(1e-6) / sqrt(4 + 1e-6) * 2
            0.999
        """
        loss = self._eval_closure(closure)
        for group in self.param_groups:
            lr, rho, eps = group["lr"], group["rho"], group["eps"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                arr = p._data
                dt = arr.dtype.type
                state = self.state[p]
                if not state:
                    state["step"] = 0
                    state["square_avg"] = np.zeros_like(arr)
                    state["acc_delta"] = np.zeros_like(arr)
                state["step"] += 1
                grad = _decayed_grad(
                    p.grad._data,
                    arr,
                    group["weight_decay"],
                    group["maximize"],
                    self._buffer(arr, 0),
                )
                v, u = state["square_avg"], state["acc_delta"]
                tmp = self._buffer(arr, 1)
                v *= dt(rho)
                np.multiply(grad, grad, out=tmp)
                tmp *= dt(1 - rho)
                v += tmp
                std = np.add(v, dt(eps), out=np.empty_like(v))
                np.sqrt(std, out=std)
                delta = np.add(u, dt(eps), out=np.empty_like(u))
                np.sqrt(delta, out=delta)
                delta /= std
                delta *= grad
                u *= dt(rho)
                np.multiply(delta, delta, out=tmp)
                tmp *= dt(1 - rho)
                u += tmp
                delta *= dt(lr)
                arr -= delta
                p._version[0] += 1
        self._maybe_flush_subnormals()
        return loss
