"""Stochastic gradient descent, with momentum, dampening, Nesterov momentum and L2 weight decay.

With gradient ``g`` (negated when ``maximize``), each step does, as PyTorch's ``torch.optim.SGD``::

    g = g + weight_decay * p                      (if weight_decay != 0)
    b = g  (first step)  |  b = momentum * b + (1 - dampening) * g
    g = g + momentum * b (nesterov)  |  g = b     (if momentum != 0)
    p = p - lr * g

Example:
    >>> import gradfit as gf
    >>> w = gf.tensor([1.0, -2.0], requires_grad=True)
    >>> opt = gf.optim.SGD([w], lr=0.1, momentum=0.9)
    >>> for _ in range(3):
    ...     opt.zero_grad()
    ...     (w * w).sum().backward()
    ...     opt.step()
    >>> w
    tensor([ 0.062, -0.124], requires_grad=True)
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import numpy as np

from gradfit import kernels
from gradfit.kernels.sgd import sgd_momentum, sgd_plain
from gradfit.optim._flags import backend_flags
from gradfit.optim.optimizer import Optimizer, _check_range, _decayed_grad

__all__ = ["SGD"]


class SGD(Optimizer):
    """Stochastic gradient descent (optionally with momentum), PyTorch's ``torch.optim.SGD``.

    Args:
        params: parameters or parameter groups to optimize.
        lr: learning rate (default 1e-3, like PyTorch).
        momentum: momentum factor in [0, 1) (default 0).
        dampening: dampening of the momentum's new gradient, in [0, 1] (default 0).
        weight_decay: L2 penalty, added to the gradient (default 0).
        nesterov: Nesterov momentum (needs momentum > 0 and dampening 0).
        maximize: maximize the objective instead of minimizing it.
        foreach, differentiable, fused: PyTorch's implementation switches, accepted
            and ignored (see :mod:`gradfit.optim._flags`).

    Example:
        >>> import gradfit as gf
        >>> w = gf.tensor([3.0], requires_grad=True)
        >>> opt = gf.optim.SGD([w], lr=0.1)
        >>> (w * w).sum().backward()
        >>> opt.step()
        >>> w
        tensor([2.4000], requires_grad=True)
    """

    def __init__(
        self,
        params: Iterable[Any],
        lr: float = 1e-3,
        momentum: float = 0.0,
        dampening: float = 0.0,
        weight_decay: float = 0.0,
        nesterov: bool = False,
        *,
        maximize: bool = False,
        foreach: bool | None = None,
        differentiable: bool = False,
        fused: bool | None = None,
    ) -> None:
        defaults = {
            "lr": lr,
            "momentum": momentum,
            "dampening": dampening,
            "weight_decay": weight_decay,
            "nesterov": nesterov,
            "maximize": maximize,
            **backend_flags(
                "SGD",
                foreach=foreach,
                fused=fused,
                differentiable=differentiable,
                keys=("foreach", "differentiable", "fused"),
            ),
        }
        super().__init__(params, defaults)

    def _validate_group(self, group: dict[str, Any]) -> None:
        _check_range("SGD", "lr", group["lr"], 0.0)
        _check_range("SGD", "momentum", group["momentum"], 0.0, 1.0)
        _check_range("SGD", "dampening", group["dampening"], 0.0, 1.0, high_inclusive=True)
        _check_range("SGD", "weight_decay", group["weight_decay"], 0.0)
        if group["nesterov"] and (group["momentum"] <= 0 or group["dampening"] != 0):
            raise ValueError(
                "SGD: nesterov=True requires momentum > 0 and dampening = 0, got "
                f"momentum={group['momentum']!r}, dampening={group['dampening']!r}"
            )

    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """One SGD update of every parameter that has a gradient; returns the closure's loss.

        Example:
            >>> import gradfit as gf
            >>> w = gf.tensor([1.0], requires_grad=True)
            >>> opt = gf.optim.SGD([w], lr=0.5, maximize=True)
            >>> (w * w).sum().backward(); opt.step()
            >>> w
            tensor([2.], requires_grad=True)
        """
        loss = self._eval_closure(closure)
        state_of = self.state
        fast = kernels.enabled()
        for group in self.param_groups:
            lr = group["lr"]
            momentum = group["momentum"]
            dampening = group["dampening"]
            nesterov = group["nesterov"]
            weight_decay = group["weight_decay"]
            maximize = group["maximize"]
            plain = weight_decay == 0 and not maximize
            for p in group["params"]:
                g = p.grad
                if g is None:
                    continue
                arr = p._data
                dt = arr.dtype.type
                grad = g._data
                if fast and plain and _fused_step(self, p, arr, grad, group, state_of):
                    continue
                tmp = self._buffer(arr, 0)
                # the gradient itself when there is no decay and no maximize (the common case)
                d_p = grad if plain else _decayed_grad(grad, arr, weight_decay, maximize, tmp)
                buf = None
                if momentum != 0:
                    state = state_of[p]
                    buf = state.get("momentum_buffer")
                    if buf is None:
                        buf = np.array(d_p, dtype=arr.dtype, copy=True)
                        state["momentum_buffer"] = buf
                    else:
                        buf *= dt(momentum)
                        if dampening == 0:
                            buf += d_p
                        else:
                            tmp1 = self._buffer(arr, 1)
                            np.multiply(d_p, dt(1 - dampening), out=tmp1)
                            buf += tmp1
                    if nesterov:
                        tmp1 = self._buffer(arr, 1)
                        np.multiply(buf, dt(momentum), out=tmp1)
                        tmp1 += d_p
                        d_p = tmp1
                    else:
                        d_p = buf
                # d_p is the caller's gradient, the momentum buffer, or a scratch we own
                out = tmp if (d_p is grad or d_p is buf) else d_p
                np.multiply(d_p, dt(lr), out=out)
                arr -= out
                p._version[0] += 1
        self._maybe_flush_subnormals()
        return loss


def _fused_step(
    opt: SGD, p: Any, arr: np.ndarray, grad: np.ndarray, group: dict[str, Any], state_of: Any
) -> bool:
    """The common updates (no decay, no maximize, no dampening, no Nesterov) as one compiled
    pass (:mod:`gradfit.kernels.sgd`); False when the NumPy path must do this one."""
    momentum = group["momentum"]
    if group["nesterov"] or group["dampening"] != 0 or arr.dtype.kind != "f":
        return False
    if grad.dtype != arr.dtype or not (arr.flags.c_contiguous and grad.flags.c_contiguous):
        return False
    dt = arr.dtype.type
    if momentum == 0:
        sgd_plain(arr.reshape(-1), grad.reshape(-1), dt(group["lr"]))
    else:
        buf = state_of[p].get("momentum_buffer")
        if buf is None or not buf.flags.c_contiguous:  # the first step copies the gradient
            return False
        sgd_momentum(
            arr.reshape(-1), grad.reshape(-1), buf.reshape(-1), dt(group["lr"]), dt(momentum)
        )
    p._version[0] += 1
    return True
