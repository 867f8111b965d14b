"""``Optimizer``: the base of every optimizer (parameter groups, per-parameter state, state_dict).

An optimizer holds the parameters it updates in *parameter groups*: dicts with a ``'params'``
list and the group's hyper-parameters (``lr``, ``weight_decay``, ...), so that, for example,
biases can get a different learning rate from weights. ``step()`` moves every parameter that
has a gradient; parameters whose ``.grad`` is None (frozen ones, or ones the loss did not
reach) are skipped. Updates are made in place on each parameter's array (``p._data``), so the
arrays a model holds are the ones that change.

Per-parameter state (momentum buffers, Adam's moments) is created lazily on a parameter's
first step, in the parameter's dtype. ``state_dict()`` returns it keyed by the parameter's
index (its position across all groups, in order) and the groups with ``'params'`` as index
lists, like PyTorch's; ``load_state_dict`` maps the indices back onto this optimizer's
parameters, so training resumes exactly.

Subnormal floats: state that decays towards zero (a momentum buffer whose gradient became 0, as
for a dead ReLU unit; Adam's moments) passes through the subnormal range (below
``np.finfo(dtype).tiny``, 1.2e-38 in float32), where arithmetic on many x86 CPUs is 30-100x
slower. Every ``flush_subnormals_every`` steps (16 by default; 0 turns it off) the optimizer sets
the state entries below ``tiny`` in magnitude to zero: results change only in values that small.
PyTorch keeps them (or flushes them all with ``torch.set_flush_denormal(True)``; see
``gf.set_flush_denormal``).

Differences from PyTorch: ``state_dict()`` returns copies of the state arrays (PyTorch
returns references), the step counter ``'step'`` is a Python int (PyTorch: a tensor), and
the arrays are NumPy arrays.

Example:
    >>> import gradfit as gf
    >>> w = gf.tensor([1.0, 2.0], requires_grad=True)
    >>> opt = gf.optim.SGD([w], lr=0.5)
    >>> (w * w).sum().backward()
    >>> opt.step()
    >>> w
    tensor([0., 0.], requires_grad=True)
"""

from __future__ import annotations

import copy
import numbers
from collections import defaultdict
from collections.abc import Callable, Iterable
from typing import Any

import numpy as np

from gradfit.autograd import enable_grad
from gradfit.tensor import Tensor

__all__ = ["Optimizer", "required"]

_FLUSHABLE = {np.dtype(t): np.finfo(t).tiny for t in (np.float32, np.float64)}


class _RequiredParameter:
    """Marks a hyper-parameter with no default (a group must give it)."""

    def __repr__(self) -> str:
        return "<required parameter>"


required = _RequiredParameter()


class Optimizer:
    """Base class of the optimizers: parameter groups, lazy per-parameter state, state_dict.

    Args:
        params: an iterable of Tensors, of ``(name, Tensor)`` pairs (``named_parameters()``),
            or of dicts (parameter groups, each with a ``'params'`` entry and optional
            hyper-parameters that override ``defaults``).
        defaults: the default hyper-parameters of every group.

    Subclasses implement ``step`` and may override ``_validate_group`` to check a group's
    hyper-parameters (called for every group, including those added later).

    Example:
        >>> import gradfit as gf
        >>> w, b = gf.zeros(2, requires_grad=True), gf.zeros(1, requires_grad=True)
        >>> opt = gf.optim.SGD([{"params": [w]}, {"params": [b], "lr": 0.01}], lr=0.1)
        >>> [g["lr"] for g in opt.param_groups]
        [0.1, 0.01]
    """

    #: flush state entries below the dtype's smallest normal number to zero every this many
    #: ``step()`` calls (0: never); see the module docstring
    flush_subnormals_every: int = 16

    def __init__(self, params: Iterable[Any], defaults: dict[str, Any]) -> None:
        self.defaults = dict(defaults)
        self._steps_since_flush = 0
        self.state: defaultdict[Tensor, dict[str, Any]] = defaultdict(dict)
        self.param_groups: list[dict[str, Any]] = []
        self._scratch: dict[tuple[str, int], np.ndarray] = {}
        self._scratch_views: dict[tuple[tuple[str, int], tuple[int, ...]], np.ndarray] = {}
        if isinstance(params, Tensor):
            raise TypeError(
                f"{type(self).__name__}: params should be an iterable of Tensors or dicts, "
                "got a single Tensor (wrap it in a list: [w])"
            )
        if isinstance(params, dict):
            raise TypeError(
                f"{type(self).__name__}: params should be an iterable of Tensors or dicts, "
                "got a dict (a single parameter group goes in a list: [{'params': ...}])"
            )
        if isinstance(params, (set, frozenset)):
            raise TypeError(
                f"{type(self).__name__}: parameters must be given in an ordered collection "
                "(a list), not a set, so that their order is the same between runs"
            )
        param_list = list(params)
        if len(param_list) == 0:
            raise ValueError(f"{type(self).__name__}: got an empty parameter list")
        if not isinstance(param_list[0], dict):
            param_list = [{"params": param_list}]
        for group in param_list:
            self.add_param_group(group)

    # ------------------------------------------------------------------ groups
    def add_param_group(self, param_group: dict[str, Any]) -> None:
        """Add a group of parameters with its own hyper-parameters (defaults fill the rest).

        Useful to unfreeze layers during fine-tuning. A parameter may belong to one group only.

        Example:
            >>> import gradfit as gf
            >>> opt = gf.optim.SGD([gf.zeros(2, requires_grad=True)], lr=0.1)
            >>> opt.add_param_group({"params": [gf.zeros(3, requires_grad=True)], "lr": 0.5})
            >>> [g["lr"] for g in opt.param_groups]
            [0.1, 0.5]
        """
        name = type(self).__name__
        if not isinstance(param_group, dict):
            raise TypeError(f"{name}.add_param_group: expected a dict, got {type(param_group)}")
        group = dict(param_group)
        if "params" not in group:
            raise ValueError(f"{name}.add_param_group: the group has no 'params' entry")
        params = group["params"]
        if isinstance(params, Tensor):
            params = [params]
        elif isinstance(params, set):
            raise TypeError(
                f"{name}: parameters must be given in an ordered collection (a list), "
                "not a set, so that their order is the same between runs"
            )
        else:
            params = list(params)
        names: list[str] = []
        plain: list[Tensor] = []
        for p in params:
            if isinstance(p, tuple) and len(p) == 2 and isinstance(p[0], str):
                names.append(p[0])
                p = p[1]
            if not isinstance(p, Tensor):
                raise TypeError(
                    f"{name}: can only optimize Tensors, but one of the params is "
                    f"{type(p).__name__}"
                )
            if not p.is_leaf:
                raise ValueError(
                    f"{name}: can't optimize a non-leaf Tensor (one computed from others); "
                    "optimize the leaves it was computed from"
                )
            if not np.issubdtype(p._data.dtype, np.floating):
                raise TypeError(
                    f"{name}: can only optimize floating-point Tensors, got one of dtype "
                    f"{p._data.dtype}"
                )
            plain.append(p)
        if names and len(names) != len(plain):
            raise ValueError(f"{name}: all parameters of a group must be named, or none")
        if len({id(p) for p in plain}) != len(plain):
            raise ValueError(f"{name}: a parameter group contains the same parameter twice")
        group["params"] = plain
        if names:
            group["param_names"] = names
        for key, default in self.defaults.items():
            if default is required and key not in group:
                raise ValueError(
                    f"{name}: parameter group didn't specify a value of required "
                    f"hyper-parameter {key!r}"
                )
            group.setdefault(key, default)
        seen = {id(p) for g in self.param_groups for p in g["params"]}
        if any(id(p) in seen for p in plain):
            raise ValueError(f"{name}: some parameters appear in more than one parameter group")
        self._validate_group(group)
        self.param_groups.append(group)

    def _validate_group(self, group: dict[str, Any]) -> None:
        """Check a group's hyper-parameters (subclasses raise ValueError naming the bad one)."""

    # ------------------------------------------------------------------ stepping
    def zero_grad(self, set_to_none: bool = True) -> None:
        """Clear the gradients of all parameters.

        Args:
            set_to_none: set ``.grad`` to None (the default; saves memory and lets ``step``
                skip the parameter) instead of a tensor of zeros.

        Example:
            >>> import gradfit as gf
            >>> w = gf.ones(2, requires_grad=True)
            >>> (w * 3).sum().backward()
            >>> opt = gf.optim.SGD([w], lr=0.1)
            >>> opt.zero_grad()
            >>> w.grad is None
            True
        """
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                if set_to_none:
                    p.grad = None
                else:
                    # a fresh array: the old one may be shared with the caller
                    p.grad = Tensor._wrap(np.zeros_like(p.grad._data))

    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """Update the parameters once; ``closure`` re-evaluates the loss and returns it.

        Example:
            >>> import gradfit as gf
            >>> w = gf.tensor([2.0], requires_grad=True)
            >>> opt = gf.optim.SGD([w], lr=0.25)
            >>> def closure():
            ...     opt.zero_grad()
            ...     loss = (w * w).sum()
            ...     loss.backward()
            ...     return loss
            >>> opt.step(closure).item()
            4.0
            >>> w
            tensor([1.], requires_grad=True)
        """
        raise NotImplementedError(f"{type(self).__name__} does not implement step()")

    @staticmethod
    def _eval_closure(closure: Callable[[], Any] | None) -> Any:
        if closure is None:
            return None
        with enable_grad():
            return closure()

    def _maybe_flush_subnormals(self) -> None:
        """Count a step; every ``flush_subnormals_every`` steps, flush subnormal state to zero."""
        every = self.flush_subnormals_every
        if not every:
            return
        self._steps_since_flush = getattr(self, "_steps_since_flush", 0) + 1
        if self._steps_since_flush >= every:
            self._steps_since_flush = 0
            self.flush_subnormals()

    def flush_subnormals(self) -> int:
        """Set every state entry whose magnitude is below the dtype's ``tiny`` to zero.

        Called by ``step()`` every ``flush_subnormals_every`` steps; returns how many entries
        were nonzero subnormals (now zeros). Only float32/float64 arrays in ``state`` are
        touched; entries at or above ``tiny`` (1.2e-38 in float32) are left exactly as they are.

        Example:
            >>> import gradfit as gf
            >>> w = gf.ones(3, requires_grad=True)
            >>> opt = gf.optim.SGD([w], lr=0.1, momentum=0.9)
            >>> w.grad = gf.tensor([1e-39, 1e-30, 0.0]); opt.step()
            >>> opt.flush_subnormals(), opt.state[w]["momentum_buffer"]
            (1, array([0.e+00, 1.e-30, 0.e+00], dtype=float32))
        """
        flushed = 0
        for state in self.state.values():
            for value in state.values():
                if not isinstance(value, np.ndarray) or value.dtype not in _FLUSHABLE:
                    continue
                tiny = _FLUSHABLE[value.dtype]
                mag = np.abs(value, out=self._buffer(value, 7))
                small = mag < tiny
                n_small = int(np.count_nonzero(small))
                if n_small == 0:
                    continue
                n_sub = n_small - (value.size - int(np.count_nonzero(value)))
                if n_sub > 0:
                    np.copyto(value, 0, where=small)
                    flushed += n_sub
        return flushed

    def _buffer(self, like: np.ndarray, slot: int = 0) -> np.ndarray:
        """A scratch array shaped like ``like`` (same dtype), reused across steps.

        One flat buffer per (dtype, slot), as large as the largest parameter seen, so the hot
        path allocates nothing. Contents are garbage on return.
        """
        key = (like.dtype.str, slot)
        buf = self._scratch.get(key)
        if buf is None or buf.size < like.size:
            buf = np.empty(like.size, dtype=like.dtype)
            self._scratch[key] = buf
            self._scratch_views = {}
        # the shaped view of the flat buffer, cached per shape (views of an outgrown buffer
        # are dropped above)
        views = self._scratch_views
        vkey = (key, like.shape)
        view = views.get(vkey)
        if view is None:
            view = views[vkey] = buf[: like.size].reshape(like.shape)
        return view

    # ------------------------------------------------------------------ state_dict
    def state_dict(self) -> dict[str, Any]:
        """The optimizer's state: ``{'state': {index: {...}}, 'param_groups': [...]}``.

        Parameters are replaced by their index (counting across groups in order). The arrays
        are copies; everything else is plain Python (ints, floats, bools, tuples, lists).

        Example:
            >>> import gradfit as gf
            >>> w = gf.ones(2, requires_grad=True)
            >>> opt = gf.optim.SGD([w], lr=0.1, momentum=0.9)
            >>> (w * w).sum().backward(); opt.step()
            >>> sd = opt.state_dict()
            >>> sd["state"][0]["momentum_buffer"], sd["param_groups"][0]["params"]
            (array([2., 2.], dtype=float32), [0])
        """
        index: dict[int, int] = {}
        groups = []
        for group in self.param_groups:
            packed = {k: copy.deepcopy(v) for k, v in group.items() if k != "params"}
            ids = []
            for p in group["params"]:
                index.setdefault(id(p), len(index))
                ids.append(index[id(p)])
            packed["params"] = ids
            groups.append(packed)
        state: dict[int, dict[str, Any]] = {}
        for group in self.param_groups:
            for p in group["params"]:
                if self.state.get(p):
                    state[index[id(p)]] = {
                        k: (v.copy() if isinstance(v, np.ndarray) else copy.deepcopy(v))
                        for k, v in self.state[p].items()
                    }
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Load a state from :meth:`state_dict` (indices may be ints or, after JSON, strings).

        The number of groups and of parameters per group must match. Floating-point state is
        converted to each parameter's dtype; the given dict is not modified or kept.

        Example:
            >>> import gradfit as gf
            >>> w = gf.ones(2, requires_grad=True)
            >>> opt = gf.optim.SGD([w], lr=0.1, momentum=0.9)
            >>> (w * w).sum().backward(); opt.step()
            >>> opt2 = gf.optim.SGD([w], lr=0.5, momentum=0.9)
            >>> opt2.load_state_dict(opt.state_dict())
            >>> opt2.param_groups[0]["lr"], opt2.state[w]["momentum_buffer"]
            (0.1, array([2., 2.], dtype=float32))
        """
        name = type(self).__name__
        if not isinstance(state_dict, dict) or not {"state", "param_groups"} <= set(state_dict):
            raise ValueError(
                f"{name}.load_state_dict: expected a dict with 'state' and 'param_groups' "
                "(from Optimizer.state_dict())"
            )
        saved_groups = state_dict["param_groups"]
        if len(saved_groups) != len(self.param_groups):
            raise ValueError(
                f"{name}.load_state_dict: loaded state dict has {len(saved_groups)} parameter "
                f"groups, the optimizer has {len(self.param_groups)}"
            )
        for i, (saved, group) in enumerate(zip(saved_groups, self.param_groups, strict=True)):
            if len(saved["params"]) != len(group["params"]):
                raise ValueError(
                    f"{name}.load_state_dict: parameter group {i} has {len(saved['params'])} "
                    f"parameters in the loaded state dict and {len(group['params'])} here"
                )
        id_map: dict[int, Tensor] = {}
        for saved, group in zip(saved_groups, self.param_groups, strict=True):
            for idx, p in zip(saved["params"], group["params"], strict=True):
                id_map[int(idx)] = p
        new_state: defaultdict[Tensor, dict[str, Any]] = defaultdict(dict)
        for key, values in state_dict["state"].items():
            k = int(key)
            if k not in id_map:
                raise ValueError(
                    f"{name}.load_state_dict: state for parameter index {k}, which no "
                    "parameter group lists"
                )
            p = id_map[k]
            new_state[p] = {sk: self._cast_state(sk, v, p) for sk, v in values.items()}
        new_groups = []
        for saved, group in zip(saved_groups, self.param_groups, strict=True):
            ng = {k: copy.deepcopy(v) for k, v in saved.items() if k != "params"}
            if isinstance(ng.get("betas"), list):  # JSON turns tuples into lists
                ng["betas"] = tuple(ng["betas"])
            ng["params"] = group["params"]
            new_groups.append(ng)
        self.param_groups = new_groups
        self.state = new_state

    def _cast_state(self, key: str, value: Any, p: Tensor) -> Any:
        if key == "step":
            return int(value)
        if isinstance(value, Tensor):
            value = value._data
        if isinstance(value, (np.ndarray, list)):
            arr = np.array(value, dtype=p._data.dtype, copy=True)
            if arr.shape != p._data.shape:
                raise ValueError(
                    f"{type(self).__name__}.load_state_dict: state {key!r} has shape "
                    f"{arr.shape}, its parameter has shape {p._data.shape}"
                )
            return arr
        return copy.deepcopy(value)

    def __repr__(self) -> str:
        lines = [f"{type(self).__name__} ("]
        for i, group in enumerate(self.param_groups):
            lines.append(f"Parameter Group {i}")
            for key in sorted(group):
                if key not in ("params", "param_names"):
                    lines.append(f"    {key}: {group[key]}")
        lines.append(")")
        return "\n".join(lines)


# ---------------------------------------------------------------------- validation helpers
def _check_number(opt: str, name: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{opt}: {name} must be a real number, got {value!r}")
    return float(value)


def _check_range(
    opt: str,
    name: str,
    value: Any,
    low: float | None = None,
    high: float | None = None,
    *,
    high_inclusive: bool = False,
) -> None:
    """Raise ValueError naming ``name`` unless ``low <= value < high`` (or ``<= high``)."""
    v = _check_number(opt, name, value)
    ok = v == v  # NaN fails
    if low is not None and not v >= low:
        ok = False
    if high is not None and not (v <= high if high_inclusive else v < high):
        ok = False
    if not ok:
        if low is not None and high is not None:
            bracket = "]" if high_inclusive else ")"
            expected = f"in [{low}, {high}{bracket}"
        elif low is not None:
            expected = f">= {low}"
        else:
            expected = f"{'<=' if high_inclusive else '<'} {high}"
        raise ValueError(f"{opt}: invalid {name} value {value!r}; expected {name} {expected}")


def _decayed_grad(
    grad: np.ndarray, param: np.ndarray, weight_decay: float, maximize: bool, out: np.ndarray
) -> np.ndarray:
    """``(-grad if maximize else grad) + weight_decay * param``; ``grad`` itself when that is it.

    Writes into ``out`` when it has to compute; never modifies ``grad``.
    """
    if weight_decay == 0:
        if not maximize:
            return grad
        return np.negative(grad, out=out)
    np.multiply(param, param.dtype.type(weight_decay), out=out)
    if maximize:
        out -= grad
    else:
        out += grad
    return out


def _check_betas(opt: str, group: dict[str, Any]) -> None:
    """A group's ``betas``: a pair, each in [0, 1) (stored as a tuple); the Adam family's check."""
    betas = group["betas"]
    if not isinstance(betas, (tuple, list)) or len(betas) != 2:
        raise ValueError(f"{opt}: invalid betas {betas!r}; expected a pair (beta1, beta2)")
    group["betas"] = tuple(betas)
    _check_range(opt, "beta1 (betas[0])", betas[0], 0.0, 1.0)
    _check_range(opt, "beta2 (betas[1])", betas[1], 0.0, 1.0)
