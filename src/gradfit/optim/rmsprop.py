"""RMSprop: divide the gradient by a running root-mean-square of recent gradients.

With gradient ``g`` (negated when ``maximize``), as PyTorch's ``torch.optim.RMSprop``::

    g = g + weight_decay * p                       (if weight_decay != 0)
    s = alpha * s + (1 - alpha) * g * g
    centered:  a = alpha * a + (1 - alpha) * g;  d = sqrt(s - a * a) + eps
    otherwise: d = sqrt(s) + eps
    momentum > 0:  b = momentum * b + g / d;  p = p - lr * b
    otherwise:     p = p - lr * g / d

Example:
    >>> import gradfit as gf
    >>> w = gf.tensor([1.0], requires_grad=True)
    >>> opt = gf.optim.RMSprop([w], lr=0.01)
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

__all__ = ["RMSprop"]


class RMSprop(Optimizer):
    """RMSprop (Hinton's lecture notes; centered version by Graves, 2013), ``torch.optim.RMSprop``.

    Args:
        params: parameters or parameter groups to optimize.
        lr: learning rate (default 1e-2).
        alpha: smoothing constant of the squared-gradient average, in [0, 1] (default 0.99).
        eps: added to the denominator for numerical stability (default 1e-8).
        weight_decay: L2 penalty added to the gradient (default 0).
        momentum: momentum factor in [0, 1) (default 0).
        centered: normalise by an estimate of the gradient's variance instead of its second
            moment.
        maximize: maximize the objective instead of minimizing it.
        capturable, foreach, differentiable: PyTorch's implementation switches, accepted
            and ignored (see :mod:`gradfit.optim._flags`).

    Example:
        >>> import gradfit as gf
        >>> w = gf.tensor([1.0], requires_grad=True)
        >>> opt = gf.optim.RMSprop([w], momentum=0.9, centered=True)
        >>> (w * w).sum().backward(); opt.step()
        >>> sorted(opt.state[w])
        ['grad_avg', 'momentum_buffer', 'square_avg', 'step']
    """

    def __init__(
        self,
        params: Iterable[Any],
        lr: float = 1e-2,
        alpha: float = 0.99,
        eps: float = 1e-8,
        weight_decay: float = 0.0,
        momentum: float = 0.0,
        centered: bool = False,
        capturable: bool = False,
        foreach: bool | None = None,
        maximize: bool = False,
        differentiable: bool = False,
    ) -> None:
        defaults = {
            "lr": lr,
            "alpha": alpha,
            "eps": eps,
            "weight_decay": weight_decay,
            "momentum": momentum,
            "centered": centered,
            "maximize": maximize,
            **backend_flags(
                "RMSprop", foreach=foreach, capturable=capturable, differentiable=differentiable
            ),
        }
        super().__init__(params, defaults)

    def _validate_group(self, group: dict[str, Any]) -> None:
        _check_range("RMSprop", "lr", group["lr"], 0.0)
        _check_range("RMSprop", "alpha", group["alpha"], 0.0, 1.0, high_inclusive=True)
        _check_range("RMSprop", "eps", group["eps"], 0.0)
        _check_range("RMSprop", "weight_decay", group["weight_decay"], 0.0)
        _check_range("RMSprop", "momentum", group["momentum"], 0.0, 1.0)

    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """One RMSprop update of every parameter that has a gradient; returns the closure's loss.

        Example:
            >>> import gradfit as gf
            >>> w = gf.tensor([2.0], requires_grad=True)
            >>> opt = gf.optim.RMSprop([w], lr=0.1, alpha=0.0)
            >>> (w * w).sum().backward(); opt.step()
            >>> w
            tensor([1.9000], requires_grad=True)
        """
        loss = self._eval_closure(closure)
        for group in self.param_groups:
            lr = group["lr"]
            alpha = group["alpha"]
            momentum = group["momentum"]
            centered = group["centered"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                arr = p._data
                dt = arr.dtype.type
                state = self.state[p]
                if not state:
                    state["step"] = 0
                    state["square_avg"] = np.zeros_like(arr)
                    if momentum > 0:
                        state["momentum_buffer"] = np.zeros_like(arr)
                    if centered:
                        state["grad_avg"] = np.zeros_like(arr)
                state["step"] += 1
                grad = _decayed_grad(
                    p.grad._data,
                    arr,
                    group["weight_decay"],
                    group["maximize"],
                    self._buffer(arr, 0),
                )
                sq = state["square_avg"]
                avg = self._buffer(arr, 1)
                # s = alpha * s + (1 - alpha) * g^2
                sq *= dt(alpha)
                np.multiply(grad, grad, out=avg)
                avg *= dt(1 - alpha)
                sq += avg
                if centered:
                    ga = state["grad_avg"]
                    # a = a + (1 - alpha) * (g - a)  (PyTorch's lerp)
                    np.subtract(grad, ga, out=avg)
                    avg *= dt(1 - alpha)
                    ga += avg
                    np.multiply(ga, ga, out=avg)
                    np.subtract(sq, avg, out=avg)
                    np.sqrt(avg, out=avg)
                else:
                    np.sqrt(sq, out=avg)
                avg += dt(group["eps"])
                np.divide(grad, avg, out=avg)  # g / d
                if momentum > 0:
                    buf = state["momentum_buffer"]
                    buf *= dt(momentum)
                    buf += avg
                    np.multiply(buf, dt(lr), out=avg)
                else:
                    avg *= dt(lr)
                arr -= avg
                p._version[0] += 1
        self._maybe_flush_subnormals()
        return loss
