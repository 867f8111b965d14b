"""Training utilities: gradient clipping, parameters as one vector, explicit penalties,
weight-decay parameter groups, and building a module without initialising it.

Example:
    >>> import gradfit as gf
    >>> from gradfit.nn import utils
    >>> model = gf.nn.Linear(3, 2)
    >>> loss = model(gf.ones(4, 3)).sum() + 1e-4 * utils.l2_penalty(model.parameters())
    >>> loss.backward()
    >>> norm = utils.clip_grad_norm_(model.parameters(), max_norm=1.0)
    >>> total = sum(float((p.grad ** 2).sum()) for p in model.parameters()) ** 0.5
    >>> round(total, 4) <= 1.0
    True
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

import numpy as np

from gradfit.nn import init
from gradfit.nn.module import Module, Parameter
from gradfit.tensor import Tensor

Params = Tensor | Iterable[Tensor]
M = TypeVar("M", bound=Module)


def _as_list(parameters: Params, who: str) -> list[Tensor]:
    if isinstance(parameters, Tensor):
        return [parameters]
    params = list(parameters)
    for i, p in enumerate(params):
        if not isinstance(p, Tensor):
            raise TypeError(f"{who}: parameter {i} is a {type(p).__name__}, expected a gf.Tensor")
    return params


def clip_grad_norm_(
    parameters: Params,
    max_norm: float,
    norm_type: float = 2.0,
    error_if_nonfinite: bool = False,
    foreach: Any = None,
) -> Tensor:
    """Scale all gradients together, in place, so that their total norm is at most ``max_norm``.

    The norm is taken over all gradients as if concatenated into one vector
    (``norm_type`` may be ``inf``). Returns the total norm before clipping, as a
    0-d tensor. As in PyTorch the scale is ``max_norm / (total_norm + 1e-6)``.
    ``foreach`` is accepted for compatibility and ignored.

    Example:
        >>> import gradfit as gf
        >>> w = gf.zeros(2, requires_grad=True)
        >>> (w * gf.tensor([3.0, 4.0])).sum().backward()
        >>> gf.nn.utils.clip_grad_norm_([w], 1.0)
        tensor(5.)
        >>> [round(v, 4) for v in w.grad.tolist()]
        [0.6, 0.8]
    """
    params = _as_list(parameters, "clip_grad_norm_")
    if max_norm < 0:
        raise ValueError(f"clip_grad_norm_: max_norm must be non-negative, got {max_norm}")
    grads = [p.grad._data for p in params if p.grad is not None]
    if not grads:
        return Tensor._wrap(np.asarray(0.0, dtype=np.float32))
    dt = grads[0].dtype
    norm_type = float(norm_type)
    if math.isinf(norm_type):
        total = max(float(np.abs(g).max()) if g.size else 0.0 for g in grads)
    elif norm_type == 2.0:
        total = math.sqrt(sum(float(np.dot(g.ravel(), g.ravel())) for g in grads))
    else:
        total = sum(float((np.abs(g) ** norm_type).sum()) for g in grads) ** (1.0 / norm_type)
    if error_if_nonfinite and not math.isfinite(total):
        raise RuntimeError(
            f"clip_grad_norm_: the total norm of order {norm_type} of the gradients is "
            f"{total}; set error_if_nonfinite=False to clip anyway"
        )
    coef = max_norm / (total + 1e-6)
    if coef < 1.0:
        c = dt.type(coef)
        for g in grads:
            g *= c
    return Tensor._wrap(np.asarray(total, dtype=dt))


def clip_grad_value_(parameters: Params, clip_value: float, foreach: Any = None) -> None:
    """Clamp every gradient element to ``[-clip_value, clip_value]``, in place.

    Example:
        >>> import gradfit as gf
        >>> w = gf.zeros(2, requires_grad=True)
        >>> (w * gf.tensor([3.0, -0.5])).sum().backward()
        >>> gf.nn.utils.clip_grad_value_([w], 1.0); w.grad
        tensor([ 1. , -0.5])
    """
    params = _as_list(parameters, "clip_grad_value_")
    if clip_value < 0:
        raise ValueError(f"clip_grad_value_: clip_value must be non-negative, got {clip_value}")
    for p in params:
        if p.grad is not None:
            np.clip(p.grad._data, -clip_value, clip_value, out=p.grad._data)


def parameters_to_vector(parameters: Params) -> Tensor:
    """All parameters flattened and concatenated into one 1-D tensor (differentiable).

    Example:
        >>> import gradfit as gf
        >>> gf.nn.utils.parameters_to_vector(gf.nn.Linear(3, 2).parameters()).shape
        (8,)
    """
    from gradfit.ops.shape import cat

    params = _as_list(parameters, "parameters_to_vector")
    if not params:
        raise ValueError("parameters_to_vector: no parameters given")
    return cat([p.reshape(-1) for p in params])


def vector_to_parameters(vec: Tensor, parameters: Params) -> None:
    """Copy consecutive slices of the 1-D ``vec`` into the parameters, in place.

    Example:
        >>> import gradfit as gf
        >>> lin = gf.nn.Linear(3, 2)
        >>> gf.nn.utils.vector_to_parameters(gf.zeros(8), lin.parameters())
        >>> float(lin.weight.abs().sum() + lin.bias.abs().sum())
        0.0
    """
    if not isinstance(vec, Tensor):
        raise TypeError(
            f"vector_to_parameters: expected vec to be a gf.Tensor, got {type(vec).__name__}"
        )
    params = _as_list(parameters, "vector_to_parameters")
    total = sum(p._data.size for p in params)
    if vec.ndim != 1 or vec.shape[0] != total:
        raise ValueError(
            f"vector_to_parameters: vec must be 1-D with {total} elements (the parameters' "
            f"total), got shape {vec.shape}"
        )
    i = 0
    for p in params:
        n = p._data.size
        p._data[...] = vec._data[i : i + n].reshape(p.shape)
        p._version[0] += 1
        i += n


def l2_penalty(parameters: Params) -> Tensor:
    """The sum of squares of all parameters, ``sum ||w||**2``, as a differentiable scalar.

    Add ``0.5 * lam * l2_penalty(params)`` to a loss to get the same gradient as
    an optimizer's ``weight_decay=lam`` with SGD (``lam * w``).

    Example:
        >>> import gradfit as gf
        >>> gf.nn.utils.l2_penalty([gf.tensor([3.0, 4.0], requires_grad=True)])
        tensor(25., grad_fn=<Sum>)
    """
    params = _as_list(parameters, "l2_penalty")
    if not params:
        raise ValueError("l2_penalty: no parameters given")
    total = None
    for p in params:
        term = (p * p).sum()
        total = term if total is None else total + term
    return total  # type: ignore[return-value]


def l1_penalty(parameters: Params) -> Tensor:
    """The sum of absolute values of all parameters, ``sum |w|``, as a differentiable scalar.

    Adding ``lam * l1_penalty(params)`` to a loss pushes weights to exactly zero (sparsity).

    Example:
        >>> import gradfit as gf
        >>> gf.nn.utils.l1_penalty([gf.tensor([3.0, -4.0], requires_grad=True)])
        tensor(7., grad_fn=<Sum>)
    """
    params = _as_list(parameters, "l1_penalty")
    if not params:
        raise ValueError("l1_penalty: no parameters given")
    total = None
    for p in params:
        term = p.abs().sum()
        total = term if total is None else total + term
    return total  # type: ignore[return-value]


_NORM_LAYERS = ("BatchNorm", "LayerNorm", "GroupNorm", "InstanceNorm", "RMSNorm")


def param_groups_weight_decay(
    module: Module, weight_decay: float, no_decay: Iterable[str] = ()
) -> list[dict[str, Any]]:
    """Split a model's parameters into two optimizer param groups: decayed and not.

    Biases, every 1-D parameter, and the parameters of normalisation layers
    (BatchNorm, LayerNorm, ...) go to the group with ``weight_decay=0.0``, as is
    common practice; so do parameters whose name is in ``no_decay``. Pass the
    result to an optimizer: ``gf.optim.AdamW(param_groups_weight_decay(model, 0.01), lr=1e-3)``.

    Example:
        >>> import gradfit as gf
        >>> model = gf.nn.Sequential(gf.nn.Linear(4, 8), gf.nn.ReLU(), gf.nn.Linear(8, 2))
        >>> groups = param_groups_weight_decay(model, 0.01)
        >>> [(len(g["params"]), g["weight_decay"]) for g in groups]
        [(2, 0.01), (2, 0.0)]
    """
    if not isinstance(module, Module):
        raise TypeError(
            f"param_groups_weight_decay: expected a gf.nn.Module, got {type(module).__name__}"
        )
    skip = set(no_decay)
    decay: list[Parameter] = []
    undecayed: list[Parameter] = []
    seen: set[int] = set()
    for mname, m in module.named_modules():
        is_norm = any(k in type(m).__name__ for k in _NORM_LAYERS)
        for pname, p in m.named_parameters(recurse=False):
            if id(p) in seen or not p.requires_grad:
                continue
            seen.add(id(p))
            full = f"{mname}.{pname}" if mname else pname
            if is_norm or p.ndim <= 1 or pname == "bias" or full in skip:
                undecayed.append(p)
            else:
                decay.append(p)
    return [
        {"params": decay, "weight_decay": float(weight_decay)},
        {"params": undecayed, "weight_decay": 0.0},
    ]


def skip_init(module_cls: Callable[..., M], *args: Any, **kwargs: Any) -> M:
    """Build ``module_cls(*args, **kwargs)`` without running its weight initialisers.

    Like ``torch.nn.utils.skip_init``, for when the weights are about to be
    overwritten (loaded from a checkpoint): the parameters and buffers are
    allocated (with ``empty``, so the memory is reserved but not written) and every
    ``gf.nn.init`` function does nothing while the module is built (see
    :func:`gradfit.nn.init.no_init`), so no random numbers are drawn either.
    **The values are uninitialised garbage until you load real ones**, e.g. with
    ``load_state_dict``. Unlike PyTorch's, ``module_cls`` need not take a
    ``device`` argument: any class or function that returns a module works (a
    layer, ``gf.models.mlp``, ``gf.models.build_model``). Values a layer sets
    without ``gf.nn.init`` (e.g. an ``Embedding``'s padding row) are still set.

    Example:
        >>> import gradfit as gf
        >>> state = gf.random.get_rng_state()
        >>> lin = gf.nn.utils.skip_init(gf.nn.Linear, 1000, 500)  # weights: garbage
        >>> lin.weight.shape, gf.random.get_rng_state() == state
        ((500, 1000), True)
        >>> _ = lin.load_state_dict(gf.nn.Linear(1000, 500).state_dict())  # now real
        >>> net = gf.nn.utils.skip_init(gf.models.mlp, [64, 32, 10])
        >>> [n for n, _ in net.named_parameters()]
        ['fc1.weight', 'fc1.bias', 'out.weight', 'out.bias']
    """
    if isinstance(module_cls, Module):
        name = type(module_cls).__name__
        raise TypeError(
            f"skip_init: expected a module class or a function returning a module, got an "
            f"already built {name} (pass the class: skip_init({name}, ...))"
        )
    if not callable(module_cls):
        raise TypeError(
            f"skip_init: expected a module class or a function returning a module, "
            f"got {type(module_cls).__name__}"
        )
    with init.no_init():
        module = module_cls(*args, **kwargs)
    if not isinstance(module, Module):
        raise TypeError(
            f"skip_init: {getattr(module_cls, '__name__', module_cls)!r} returned "
            f"{type(module).__name__}, not a gf.nn.Module"
        )
    return module


from gradfit.nn.utils import rnn as rnn  # noqa: E402 - torch.nn.utils.rnn (needs the names above)
