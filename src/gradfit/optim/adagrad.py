"""Adagrad: per-coordinate learning rates that shrink with the sum of squared gradients.

With gradient ``g`` (negated when ``maximize``) at step ``t`` (from 1), as ``torch.optim.Adagrad``::

    g = g + weight_decay * p                       (if weight_decay != 0)
    clr = lr / (1 + (t - 1) * lr_decay)
    s = s + g * g                                  (s starts at initial_accumulator_value)
    p = p - clr * g / (sqrt(s) + eps)

Unlike PyTorch, which fills the accumulator when the optimizer is built, gradfit creates it
on a parameter's first step (same values; parameters never stepped have no state).

Example:
    >>> import gradfit as gf
    >>> w = gf.tensor([1.0], requires_grad=True)
    >>> opt = gf.optim.Adagrad([w], lr=0.1)
    >>> (w * w).sum().backward(); opt.step()
    >>> w
    tensor([0.9000], requires_grad=True)
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import numpy as np

from gradfit.optim._flags import backend_flags
from gradfit.optim.optimizer import Optimizer, _check_range, _decayed_grad

__all__ = ["Adagrad"]


class Adagrad(Optimizer):
    """Adagrad (Duchi et al., 2011), PyTorch's ``torch.optim.Adagrad``.

    Args:
        params: parameters or parameter groups to optimize.
        lr: learning rate (default 1e-2).
        lr_decay: learning-rate decay per step (default 0).
        weight_decay: L2 penalty added to the gradient (default 0).
        initial_accumulator_value: starting value of the sum of squares (default 0).
        eps: added to the denominator for numerical stability (default 1e-10).
        maximize: maximize the objective instead of minimizing it.
        foreach, differentiable, fused: PyTorch's implementation switches, accepted
            and ignored (see :mod:`gradfit.optim._flags`).

    Example:
        >>> import gradfit as gf
        >>> w = gf.tensor([1.0], requires_grad=True)
        >>> opt = gf.optim.Adagrad([w], lr=0.1, initial_accumulator_value=0.1)
        >>> (w * w).sum().backward(); opt.step()
        >>> opt.state[w]["sum"]
        array([4.1], dtype=float32)
    """

    def __init__(
        self,
        params: Iterable[Any],
        lr: float = 1e-2,
        lr_decay: float = 0.0,
        weight_decay: float = 0.0,
        initial_accumulator_value: float = 0.0,
        eps: float = 1e-10,
        foreach: bool | None = None,
        *,
        maximize: bool = False,
        differentiable: bool = False,
        fused: bool | None = None,
    ) -> None:
        defaults = {
            "lr": lr,
            "lr_decay": lr_decay,
            "weight_decay": weight_decay,
            "initial_accumulator_value": initial_accumulator_value,
            "eps": eps,
            "maximize": maximize,
            **backend_flags(
                "Adagrad",
                foreach=foreach,
                fused=fused,
                differentiable=differentiable,
                keys=("foreach", "differentiable", "fused"),
            ),
        }
        super().__init__(params, defaults)

    def _validate_group(self, group: dict[str, Any]) -> None:
        _check_range("Adagrad", "lr", group["lr"], 0.0)
        _check_range("Adagrad", "lr_decay", group["lr_decay"], 0.0)
        _check_range("Adagrad", "weight_decay", group["weight_decay"], 0.0)
        _check_range(
            "Adagrad", "initial_accumulator_value", group["initial_accumulator_value"], 0.0
        )
        _check_range("Adagrad", "eps", group["eps"], 0.0)

    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """One Adagrad update of every parameter that has a gradient; returns the closure's loss.

        Example:
            >>> import gradfit as gf
            >>> w = gf.tensor([2.0], requires_grad=True)
            >>> opt = gf.optim.Adagrad([w], lr=0.5)
            >>> (w * w).sum().backward(); opt.step()
            >>> w
            tensor([1.5000], requires_grad=True)
        """
        loss = self._eval_closure(closure)
        for group in self.param_groups:
            lr = group["lr"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                arr = p._data
                dt = arr.dtype.type
                state = self.state[p]
                if not state:
                    state["step"] = 0
                    state["sum"] = np.full_like(arr, group["initial_accumulator_value"])
                state["step"] += 1
                grad = _decayed_grad(
                    p.grad._data,
                    arr,
                    group["weight_decay"],
                    group["maximize"],
                    self._buffer(arr, 0),
                )
                clr = lr / (1 + (state["step"] - 1) * group["lr_decay"])
                s = state["sum"]
                tmp = self._buffer(arr, 1)
                np.multiply(grad, grad, out=tmp)
                s += tmp
                np.sqrt(s, out=tmp)
                tmp += dt(group["eps"])
                np.divide(grad, tmp, out=tmp)
                tmp *= dt(clr)
                arr -= tmp
                p._version[0] += 1
        self._maybe_flush_subnormals()
        return loss
