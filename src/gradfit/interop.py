"""Weights that move between gradfit and PyTorch: state dicts and torch-style ``.safetensors``.

gradfit's layers use PyTorch's parameter and buffer names and layouts (``fc1.weight``
is ``(out, in)``, a ``Conv2d`` weight ``(out, in/groups, kH, kW)``, the recurrent layers'
``weight_ih_l0`` keep torch's gate order, ``BatchNorm`` has ``running_mean``,
``running_var`` and ``num_batches_tracked``), so a model defined with the same layers
in both frameworks has the same state dict keys. This module converts the values:

- :func:`to_torch_state_dict` gives torch tensors (or NumPy arrays) for
  ``torch_model.load_state_dict``;
- :func:`from_torch_state_dict` loads a torch ``state_dict()`` (tensors or arrays) into a
  gradfit model, checking every key, shape and dtype first (nothing changes when
  anything is wrong; the error lists every problem);
- :func:`save_torch_safetensors` / :func:`load_torch_safetensors` (and
  :func:`read_torch_safetensors`, the arrays alone) write and read the
  file ``safetensors.torch.save_file(model.state_dict(), path)`` writes, which torch
  reads back with ``safetensors.torch.load_file``.

torch is imported only inside :func:`to_torch_state_dict` (when tensors are asked
for) and when reading torch tensors; ``import gradfit`` never imports it. Values keep
their dtype: float32 stays float32 and the bits are unchanged both ways.

Example:
    >>> import os, tempfile, gradfit as gf
    >>> net = gf.nn.Sequential(gf.nn.Linear(3, 2))
    >>> path = os.path.join(tempfile.mkdtemp(), "w.safetensors")
    >>> gf.interop.save_torch_safetensors(net, path)
    >>> twin = gf.interop.load_torch_safetensors(gf.nn.Sequential(gf.nn.Linear(3, 2)), path)
    >>> bool((twin[0].weight == net[0].weight).all())
    True
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

import numpy as np

from gradfit.nn.module import Module

__all__ = [
    "from_torch_state_dict",
    "load_torch_safetensors",
    "read_torch_safetensors",
    "save_torch_safetensors",
    "to_numpy",
    "to_torch_state_dict",
]


def to_numpy(value: Any) -> np.ndarray:
    """A NumPy array from a torch tensor (any device, bfloat16 widened to float32), a
    gf.Tensor or an array.

    Example:
        >>> import gradfit as gf
        >>> gf.interop.to_numpy(gf.ones(2)).dtype
        dtype('float32')
    """
    if hasattr(value, "_data") and isinstance(getattr(value, "_data", None), np.ndarray):
        return value._data
    if type(value).__module__.startswith("torch"):  # a torch.Tensor or Parameter
        t = value.detach().cpu()
        if str(t.dtype) == "torch.bfloat16":  # NumPy has no bfloat16
            t = t.float()
        return t.numpy()
    return np.asarray(value)


def _state_arrays(model: Module, who: str) -> dict[str, np.ndarray]:
    if not isinstance(model, Module):
        raise TypeError(f"{who}: model must be a gf.nn.Module, got {type(model).__name__}")
    return {k: np.ascontiguousarray(to_numpy(v)) for k, v in model.state_dict().items()}


def to_torch_state_dict(model: Module, as_numpy: bool = False) -> dict[str, Any]:
    """``model.state_dict()`` as torch tensors (copies), ready for ``torch_model.load_state_dict``.

    Keys are torch's (they are gradfit's: the shared layers use the same names);
    values keep their dtype and bits. ``as_numpy=True`` returns NumPy arrays instead
    (no torch needed).

    Raises:
        ImportError: ``as_numpy=False`` and torch is not installed.

    Example:
        >>> import gradfit as gf
        >>> sd = gf.interop.to_torch_state_dict(gf.nn.Linear(3, 2), as_numpy=True)
        >>> {k: v.shape for k, v in sd.items()}
        {'weight': (2, 3), 'bias': (2,)}
    """
    arrays = {k: v.copy() for k, v in _state_arrays(model, "to_torch_state_dict").items()}
    if as_numpy:
        return arrays
    try:
        import torch
    except ImportError:
        raise ImportError(
            "to_torch_state_dict: torch is not installed; pass as_numpy=True for NumPy arrays"
        ) from None
    return {k: torch.from_numpy(v) for k, v in arrays.items()}


def from_torch_state_dict(
    model: Module, state_dict: Mapping[str, Any], strict: bool = True
) -> Module:
    """Load a PyTorch ``state_dict()`` (torch tensors or arrays) into ``model``; returns it.

    Every key, shape and dtype is checked before anything is copied: a mismatch
    raises ``gf.nn.StateDictError`` listing every problem and leaves the model
    unchanged. ``strict=False`` ignores missing and unexpected keys (as torch's).
    A ``module.`` prefix on every key (``DataParallel``'s) is removed.

    Example:
        >>> import numpy as np, gradfit as gf
        >>> net = gf.nn.Linear(2, 1)
        >>> sd = {"weight": np.array([[1.0, 2.0]], np.float32), "bias": np.zeros(1, np.float32)}
        >>> gf.interop.from_torch_state_dict(net, sd).weight.tolist()
        [[1.0, 2.0]]
    """
    if not isinstance(model, Module):
        raise TypeError(
            f"from_torch_state_dict: model must be a gf.nn.Module, got {type(model).__name__}"
        )
    if not isinstance(state_dict, Mapping):
        raise TypeError(
            f"from_torch_state_dict: state_dict must be a mapping of names to tensors, "
            f"got {type(state_dict).__name__}"
        )
    keys = list(state_dict)
    strip = bool(keys) and all(k.startswith("module.") for k in keys)
    arrays = {(k[7:] if strip else k): to_numpy(v) for k, v in state_dict.items()}
    model.load_state_dict(arrays, strict=strict)
    return model


def save_torch_safetensors(
    model: Module, path: str | os.PathLike[str], metadata: Mapping[str, str] | None = None
) -> None:
    """Write ``model``'s weights as torch's ``safetensors.torch.save_file`` would, atomically.

    The file holds one tensor per state dict key (torch's names and layouts) and the
    metadata ``{"format": "pt"}`` plus ``metadata``; torch reads it with
    ``safetensors.torch.load_file(path)`` and ``torch_model.load_state_dict``.

    Example:
        >>> import os, tempfile, gradfit as gf
        >>> path = os.path.join(tempfile.mkdtemp(), "m.safetensors")
        >>> gf.interop.save_torch_safetensors(gf.nn.Linear(2, 2), path)
        >>> os.path.getsize(path) > 0
        True
    """
    from safetensors.numpy import save

    from gradfit.fileio import atomic_write

    meta = {"format": "pt", **{str(k): str(v) for k, v in (metadata or {}).items()}}
    atomic_write(path, save(_state_arrays(model, "save_torch_safetensors"), metadata=meta))


def read_torch_safetensors(path: str | os.PathLike[str]) -> dict[str, np.ndarray]:
    """The arrays of a torch-saved ``.safetensors`` file (``safetensors.torch.save_file``).

    Data only: nothing in the file is executed. For callers that match keys themselves
    (``gradfit train --init-from`` with a torch file, a new head, a frozen body).

    Raises:
        ValueError: the file cannot be read, is not a safetensors file, or holds
            bfloat16 tensors (NumPy has none: save them as float32).

    Example:
        >>> import os, tempfile, gradfit as gf
        >>> path = os.path.join(tempfile.mkdtemp(), "m.safetensors")
        >>> gf.interop.save_torch_safetensors(gf.nn.Linear(2, 3), path)
        >>> sorted((k, v.shape) for k, v in gf.interop.read_torch_safetensors(path).items())
        [('bias', (3,)), ('weight', (3, 2))]
    """
    from safetensors import SafetensorError
    from safetensors.numpy import load

    try:
        with open(path, "rb") as fh:
            data = fh.read()
    except OSError as e:
        raise ValueError(
            f"read_torch_safetensors: cannot read {os.fspath(path)!r}: {e.strerror}"
        ) from None
    try:
        return dict(load(data))
    except (SafetensorError, ValueError, TypeError) as e:
        raise ValueError(
            f"read_torch_safetensors: {os.fspath(path)!r} is not a readable safetensors file "
            f"of NumPy dtypes (bfloat16 is not one: save float32): {e}"
        ) from None


def load_torch_safetensors(
    model: Module, path: str | os.PathLike[str], strict: bool = True
) -> Module:
    """Load a torch-saved ``.safetensors`` file (``safetensors.torch.save_file``) into ``model``.

    The file is read without executing anything (safetensors is data only). Keys and
    shapes are checked as in :func:`from_torch_state_dict`; returns ``model``.

    Raises:
        ValueError: the file is not a readable safetensors file, or holds bfloat16 tensors
            (NumPy has none: save them as float32).
        gf.nn.StateDictError: keys or shapes that do not fit the model.

    Example:
        >>> import os, tempfile, gradfit as gf
        >>> path = os.path.join(tempfile.mkdtemp(), "m.safetensors")
        >>> gf.interop.save_torch_safetensors(gf.nn.Linear(2, 2), path)
        >>> _ = gf.interop.load_torch_safetensors(gf.nn.Linear(2, 2), path)
    """
    return from_torch_state_dict(model, read_torch_safetensors(path), strict=strict)
