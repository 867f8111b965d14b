"""Rprop: per-coordinate step sizes that grow while the gradient's sign holds and shrink when it flips.

With gradient ``g`` (negated when ``maximize``), as ``torch.optim.Rprop``::

    s = sign(g * prev)
    step_size = clip(step_size * (etaplus if s > 0, etaminus if s < 0, 1 if s == 0), min, max)
    g = 0 where s < 0                   (no move after a sign flip)
    p = p - sign(g) * step_size;  prev = g

Full-batch gradients suit it; mini-batch noise flips signs at random.

Example:
    >>> import gradfit as gf
    >>> w = gf.tensor([1.0, -2.0], requires_grad=True)
    >>> opt = gf.optim.Rprop([w], lr=0.1)
    >>> (w * w).sum().backward(); opt.step()
    >>> w
    tensor([ 0.9000, -1.9000], requires_grad=True)
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import numpy as np

from gradfit.optim._flags import backend_flags
from gradfit.optim.optimizer import Optimizer, _check_number, _check_range

__all__ = ["Rprop"]


class Rprop(Optimizer):
    """The resilient backpropagation algorithm (Riedmiller & Braun, 1993), ``torch.optim.Rprop``.

    Args:
        params: parameters or parameter groups to optimize.
        lr: the initial step size (default 1e-2).
        etas: ``(etaminus, etaplus)``, the factors that shrink and grow the step sizes, with
            ``0 < etaminus < 1 < etaplus`` (default (0.5, 1.2)).
        step_sizes: the minimal and maximal step sizes (default (1e-6, 50)).
        capturable, foreach, differentiable: PyTorch's implementation switches, accepted and
            ignored (see :mod:`gradfit.optim._flags`).
        maximize: maximize the objective instead of minimizing it.

    Example:
        >>> import gradfit as gf
        >>> w = gf.tensor([0.5], requires_grad=True)
        >>> opt = gf.optim.Rprop([w])
        >>> (w * w).sum().backward(); opt.step()
        >>> sorted(opt.state[w])
        ['prev', 'step', 'step_size']
    """

    def __init__(
        self,
        params: Iterable[Any],
        lr: float = 1e-2,
        etas: tuple[float, float] = (0.5, 1.2),
        step_sizes: tuple[float, float] = (1e-6, 50),
        *,
        capturable: bool = False,
        foreach: bool | None = None,
        maximize: bool = False,
        differentiable: bool = False,
    ) -> None:
        defaults = {
            "lr": lr,
            "etas": tuple(etas) if isinstance(etas, list) else etas,
            "step_sizes": tuple(step_sizes) if isinstance(step_sizes, list) else step_sizes,
            "maximize": maximize,
            **backend_flags(
                "Rprop", foreach=foreach, capturable=capturable, differentiable=differentiable
            ),
        }
        super().__init__(params, defaults)

    def _validate_group(self, group: dict[str, Any]) -> None:
        _check_range("Rprop", "lr", group["lr"], 0.0)
        for key in ("etas", "step_sizes"):
            pair = group[key]
            if not isinstance(pair, (tuple, list)) or len(pair) != 2:
                raise ValueError(f"Rprop: invalid {key} {pair!r}; expected a pair")
            for v in pair:
                _check_number("Rprop", key, v)
            group[key] = tuple(pair)
        etaminus, etaplus = group["etas"]
        if not 0.0 < etaminus < 1.0 < etaplus:
            raise ValueError(
                f"Rprop: invalid eta values: {etaminus}, {etaplus}; expected "
                "0 < etaminus < 1 < etaplus"
            )

    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """One Rprop update of every parameter that has a gradient; returns the closure's loss.

        Example:
            >>> import gradfit as gf
            >>> w = gf.tensor([1.0], requires_grad=True)
            >>> opt = gf.optim.Rprop([w], lr=0.5)
            >>> (w * w).sum().backward(); opt.step()
            >>> w
            tensor([0.5000], requires_grad=True)
        """
        loss = self._eval_closure(closure)
        for group in self.param_groups:
            etaminus, etaplus = group["etas"]
            smin, smax = group["step_sizes"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                arr = p._data
                dt = arr.dtype.type
                state = self.state[p]
                if not state:
                    state["step"] = 0
                    state["prev"] = np.zeros_like(arr)
                    state["step_size"] = np.full_like(arr, group["lr"])
                state["step"] += 1
                grad = p.grad._data
                grad = np.negative(grad) if group["maximize"] else grad.copy()
                grad = np.asarray(grad)  # a 0-d array, not a scalar
                prev, step_size = state["prev"], state["step_size"]
                sign = np.sign(grad * prev)
                factor = np.where(
                    sign > 0, dt(etaplus), np.where(sign < 0, dt(etaminus), dt(1))
                ).astype(arr.dtype, copy=False)
                step_size *= factor
                np.clip(step_size, dt(smin), dt(smax), out=step_size)
                grad[sign < 0] = 0
                arr -= np.sign(grad) * step_size
                prev[...] = grad
                p._version[0] += 1
        self._maybe_flush_subnormals()
        return loss
