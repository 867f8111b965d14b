"""The implementation switches PyTorch's optimizers take, accepted and ignored here.

``foreach`` (batch the update over parameters), ``fused`` (one fused kernel), ``capturable``
(CUDA graphs) and ``differentiable`` (autograd through the step) choose *how* PyTorch runs an
update, not what it computes. gradfit has one NumPy implementation per optimizer, so these are
stored in the parameter groups (as PyTorch does, so state_dicts have the same keys) and have no
effect. ``differentiable=True`` does not make ``step()`` part of the autograd graph.
"""

from __future__ import annotations

from typing import Any

__all__ = ["backend_flags"]


def backend_flags(
    name: str,
    *,
    foreach: bool | None = None,
    fused: bool | None = None,
    capturable: bool = False,
    differentiable: bool = False,
    keys: tuple[str, ...] = ("foreach", "capturable", "differentiable"),
) -> dict[str, Any]:
    """The group entries for PyTorch's implementation switches (see the module docstring).

    Raises ValueError, as PyTorch does, when ``fused`` and ``foreach`` are both True.

    Example:
        >>> backend_flags("Adam", foreach=None, fused=None, keys=("foreach", "fused"))
        {'foreach': None, 'fused': None}
    """
    if fused and foreach:
        raise ValueError(f"{name}: `fused` and `foreach` cannot be `True` together.")
    flags = {
        "foreach": foreach,
        "fused": fused,
        "capturable": capturable,
        "differentiable": differentiable,
    }
    return {k: flags[k] for k in keys}
