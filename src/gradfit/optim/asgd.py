"""ASGD: SGD with a decaying step size and a running (Polyak) average of the iterates.

With gradient ``g`` (negated when ``maximize``) at step ``t``, as ``torch.optim.ASGD``::

    g = g + weight_decay * p                      (if weight_decay != 0)
    p = p * (1 - lambd * eta) - eta * g
    ax = ax + mu * (p - ax)                       (ax = p while mu == 1)
    eta = lr / (1 + lambd * lr * t) ** alpha;  mu = 1 / max(1, t - t0)

``eta`` and ``mu`` are kept as float32 values, as PyTorch keeps them (float32 scalar tensors),
so the trajectories agree. The averaged weights are ``optimizer.state[p]["ax"]``.

Example:
    >>> import gradfit as gf
    >>> w = gf.tensor([1.0, -2.0], requires_grad=True)
    >>> opt = gf.optim.ASGD([w], lr=0.1, lambd=0.0)
    >>> (w * w).sum().backward(); opt.step()
    >>> w
    tensor([ 0.8000, -1.6000], requires_grad=True)
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import numpy as np

from gradfit.optim._flags import backend_flags
from gradfit.optim.optimizer import Optimizer, _check_number, _check_range, _decayed_grad

__all__ = ["ASGD"]


def _f32(x: float) -> float:
    return float(np.float32(x))


class ASGD(Optimizer):
    """Averaged stochastic gradient descent (Polyak & Juditsky, 1992), ``torch.optim.ASGD``.

    Args:
        params: parameters or parameter groups to optimize.
        lr: learning rate (default 1e-2).
        lambd: decay term (default 1e-4).
        alpha: power of the eta update (default 0.75).
        t0: the step at which averaging starts (default 1e6).
        weight_decay: L2 penalty added to the gradient (default 0).
        foreach, capturable, differentiable: PyTorch's implementation switches, accepted and
            ignored (see :mod:`gradfit.optim._flags`).
        maximize: maximize the objective instead of minimizing it.

    Example:
        >>> import gradfit as gf
        >>> w = gf.tensor([0.5], requires_grad=True)
        >>> opt = gf.optim.ASGD([w])
        >>> (w * w).sum().backward(); opt.step()
        >>> sorted(opt.state[w])
        ['ax', 'eta', 'mu', 'step']
    """

    def __init__(
        self,
        params: Iterable[Any],
        lr: float = 1e-2,
        lambd: float = 1e-4,
        alpha: float = 0.75,
        t0: float = 1e6,
        weight_decay: float = 0.0,
        foreach: bool | None = None,
        maximize: bool = False,
        differentiable: bool = False,
        capturable: bool = False,
    ) -> None:
        defaults = {
            "lr": lr,
            "lambd": lambd,
            "alpha": alpha,
            "t0": t0,
            "weight_decay": weight_decay,
            "maximize": maximize,
            **backend_flags(
                "ASGD", foreach=foreach, capturable=capturable, differentiable=differentiable
            ),
        }
        super().__init__(params, defaults)

    def _validate_group(self, group: dict[str, Any]) -> None:
        _check_range("ASGD", "lr", group["lr"], 0.0)
        _check_range("ASGD", "weight_decay", group["weight_decay"], 0.0)
        for key in ("lambd", "alpha", "t0"):
            _check_number("ASGD", key, group[key])

    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """One ASGD update of every parameter that has a gradient; returns the closure's loss.

        Example:
            >>> import gradfit as gf
            >>> w = gf.tensor([1.0], requires_grad=True)
            >>> opt = gf.optim.ASGD([w], lr=0.25, lambd=0.0)
            >>> (w * w).sum().backward(); opt.step()
            >>> w
            tensor([0.5000], requires_grad=True)
        """
        loss = self._eval_closure(closure)
        for group in self.param_groups:
            lr, lambd, alpha, t0 = group["lr"], group["lambd"], group["alpha"], group["t0"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                arr = p._data
                dt = arr.dtype.type
                state = self.state[p]
                if not state:
                    state["step"] = 0
                    state["eta"] = _f32(lr)
                    state["mu"] = 1.0
                    state["ax"] = np.zeros_like(arr)
                state["step"] += 1
                step = state["step"]
                grad = _decayed_grad(
                    p.grad._data,
                    arr,
                    group["weight_decay"],
                    group["maximize"],
                    self._buffer(arr, 0),
                )
                eta = state["eta"]
                arr *= dt(1 - lambd * eta)
                tmp = self._buffer(arr, 1)
                np.multiply(grad, dt(eta), out=tmp)
                arr -= tmp
                ax = state["ax"]
                if state["mu"] != 1:
                    np.subtract(arr, ax, out=tmp)
                    tmp *= dt(state["mu"])
                    ax += tmp
                else:
                    ax[...] = arr
                state["eta"] = _f32(lr / ((1 + lambd * lr * step) ** alpha))
                state["mu"] = _f32(1 / max(1, step - t0))
                p._version[0] += 1
        self._maybe_flush_subnormals()
        return loss
