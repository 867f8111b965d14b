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
        for gi, group in enumerate(self.param_groups):
            if self._step_flat(gi, group):
                continue
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

    def _flat_state(self, gi: int, params: list[Any]) -> tuple[np.ndarray, np.ndarray] | None:
        """The group's moments as two flat arrays whose slices are the per-parameter state
        (``state[p]["exp_avg"]`` is a view into one), built or rebuilt as needed; None when
        the parameters' states disagree (different step counts, a missing moment)."""
        cache = self.__dict__.setdefault("_flat_moments", {})
        ids = tuple(map(id, params))
        hit = cache.get(gi)
        states = [self.state[p] for p in params]
        steps = {st.get("step", 0) for st in states}
        if len(steps) != 1:  # one bias correction for all: the steps must agree
            return None
        if hit is not None and hit[0] == ids:
            _, m, v, m_views, v_views = hit
            if all(
                st.get("exp_avg") is mv and st.get("exp_avg_sq") is vv
                for st, mv, vv in zip(states, m_views, v_views, strict=True)
            ):
                return m, v
        fresh = not any(states)
        if not fresh and not all(
            isinstance(st.get("exp_avg"), np.ndarray)
            and isinstance(st.get("exp_avg_sq"), np.ndarray)
            for st in states
        ):
            return None
        dt = params[0]._data.dtype
        if fresh:
            n = sum(p._data.size for p in params)
            m, v = np.zeros(n, dt), np.zeros(n, dt)
        else:
            m = np.concatenate([st["exp_avg"].reshape(-1) for st in states]).astype(dt, copy=False)
            v = np.concatenate([st["exp_avg_sq"].reshape(-1) for st in states]).astype(
                dt, copy=False
            )
        m_views, v_views, a = [], [], 0
        for p, st in zip(params, states, strict=True):
            b = a + p._data.size
            st.setdefault("step", 0)
            st["exp_avg"] = m[a:b].reshape(p._data.shape)
            st["exp_avg_sq"] = v[a:b].reshape(p._data.shape)
            m_views.append(st["exp_avg"])
            v_views.append(st["exp_avg_sq"])
            a = b
        cache[gi] = (ids, m, v, m_views, v_views)
        return m, v

    def _step_flat(self, gi: int, group: dict[str, Any]) -> bool:
        """One update of a whole group as a few passes over flat arrays (the moments live in
        two flat arrays; gradients are gathered into one), instead of a dozen NumPy calls per
        parameter; the same arithmetic, element by element, as the per-parameter loop.

        Taken when every parameter of the group has a dense gradient of its own dtype, all
        share one float dtype and one step count, and ``amsgrad`` is off; returns False
        (and changes nothing) otherwise.
        """
        params = group["params"]
        if group["amsgrad"] or len(params) < 2:
            return False
        dt = params[0]._data.dtype
        if dt.kind != "f":
            return False
        for p in params:
            g = p.grad
            if g is None or p._data.dtype != dt or type(g._data) is not np.ndarray:
                return False
            if g._data.dtype != dt or g._data.shape != p._data.shape:
                return False
        flat = self._flat_state(gi, params)
        if flat is None:
            return False
        m, v = flat
        lr, (beta1, beta2), eps = group["lr"], group["betas"], group["eps"]
        wd, decoupled, maximize = (
            group["weight_decay"],
            group["decoupled_weight_decay"],
            group["maximize"],
        )
        t = dt.type
        g = np.concatenate([p.grad._data.reshape(-1) for p in params], out=self._buffer(m, 0))
        if maximize:
            np.negative(g, out=g)
        tmp = self._buffer(m, 1)
        if wd != 0 and not decoupled:  # L2: g = wd * p + g, as _decayed_grad
            np.concatenate([p._data.reshape(-1) for p in params], out=tmp)
            tmp *= t(wd)
            g = np.add(tmp, g, out=g)
        step = 0
        for p in params:
            st = self.state[p]
            st["step"] += 1
            step = st["step"]
        m *= t(beta1)
        np.multiply(g, t(1 - beta1), out=tmp)
        m += tmp
        v *= t(beta2)
        np.multiply(g, g, out=tmp)
        tmp *= t(1 - beta2)
        v += tmp
        np.sqrt(v, out=tmp)
        tmp /= t((1 - beta2**step) ** 0.5)
        tmp += t(eps)
        np.divide(m, tmp, out=tmp)
        tmp *= t(lr / (1 - beta1**step))
        decay = t(1 - lr * wd) if wd != 0 and decoupled else None
        a = 0
        for p in params:
            arr = p._data
            b = a + arr.size
            if decay is not None:
                arr *= decay
            arr -= tmp[a:b].reshape(arr.shape)
            p._version[0] += 1
            a = b
        return True
