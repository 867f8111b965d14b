"""Checkpoints: weights and optimizer state in safetensors, everything else as JSON.

A checkpoint is one ``.safetensors`` file. Its tensors are the model's state
(``model.<name>``) and the optimizer's per-parameter state (``optim.<index>.<key>``);
its header's metadata holds, under the key ``gradfit``, the JSON record of the run
(model config, epoch, step, optimizer hyper-parameters, scheduler state, RNG states,
history, gradfit version) and a SHA-256 digest of the tensors. A copy of that JSON is
written beside it (``<name>.json``) for people and tools to read.

Saving is atomic: the file is written under a temporary name in the same directory,
flushed, fsynced and renamed over the old one, so a crash or Ctrl-C mid-save leaves
the previous checkpoint intact. Loading never executes code (no pickle), verifies the
digest, and raises :class:`CheckpointError` for a missing, truncated, tampered or
incompatible file before anything is changed.

Example:
    >>> import tempfile, os, gradfit as gf
    >>> model = gf.nn.Linear(3, 2)
    >>> path = os.path.join(tempfile.mkdtemp(), "model.safetensors")
    >>> save_checkpoint(path, model, meta={"epoch": 1})
    >>> ckpt = load_checkpoint(path)
    >>> ckpt.meta["epoch"], sorted(ckpt.model_state)
    (1, ['bias', 'weight'])
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from gradfit.fileio import atomic_write  # re-exported: callers import it from here

FORMAT = "gradfit-checkpoint-1"


class CheckpointError(ValueError):
    """A checkpoint that cannot be used: missing, corrupt, tampered or incompatible."""


@dataclass
class Checkpoint:
    """What :func:`load_checkpoint` returns: model state, optimizer state and the JSON record.

    Example:
        >>> Checkpoint(model_state={}, optim_state=None, meta={"epoch": 0}).meta["epoch"]
        0
    """

    model_state: dict[str, np.ndarray]
    optim_state: dict[str, Any] | None
    meta: dict[str, Any] = field(default_factory=dict)
    path: str = ""
    extra: dict[str, np.ndarray] = field(default_factory=dict)


def _contiguous(value: Any) -> np.ndarray:
    """A C-contiguous array of the same shape (``np.ascontiguousarray`` makes 0-d arrays 1-d)."""
    arr = np.asarray(value)
    return arr if arr.flags.c_contiguous else np.ascontiguousarray(arr).reshape(arr.shape)


def _digest(tensors: dict[str, np.ndarray]) -> str:
    h = hashlib.sha256()
    for name in sorted(tensors):
        arr = _contiguous(tensors[name])
        h.update(name.encode())
        h.update(str(arr.dtype).encode())
        h.update(str(arr.shape).encode())
        h.update(arr.tobytes())
    return h.hexdigest()


def _split_optimizer_state(state: dict[str, Any]) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    """Separate an optimizer state_dict into arrays (for safetensors) and JSON."""
    arrays: dict[str, np.ndarray] = {}
    json_state: dict[str, Any] = {}
    for idx, pstate in state.get("state", {}).items():
        js = {}
        for key, value in pstate.items():
            arr = value._data if hasattr(value, "grad_fn") else value
            if isinstance(arr, np.ndarray):
                arrays[f"optim.{idx}.{key}"] = arr
            else:
                js[key] = value.item() if isinstance(value, np.generic) else value
        json_state[str(idx)] = js
    return arrays, {"state": json_state, "param_groups": state.get("param_groups", [])}


def _join_optimizer_state(arrays: dict[str, np.ndarray], js: dict[str, Any]) -> dict[str, Any]:
    state: dict[Any, dict[str, Any]] = {}
    for idx, pstate in js.get("state", {}).items():
        state[int(idx)] = dict(pstate)
    for name, arr in arrays.items():
        _, idx, key = name.split(".", 2)
        state.setdefault(int(idx), {})[key] = arr
    return {"state": state, "param_groups": js.get("param_groups", [])}


def save_checkpoint(
    path: str | os.PathLike[str],
    model: Any,
    optimizer: Any = None,
    meta: dict[str, Any] | None = None,
    extra: dict[str, np.ndarray] | None = None,
) -> None:
    """Save ``model`` (and ``optimizer``) with the JSON-able ``meta`` record, atomically.

    ``extra`` holds further arrays to keep with them (``Checkpoint.extra`` on loading),
    such as the outputs of an epoch that Ctrl-C stopped half-way.

    Example:
        >>> import tempfile, os, gradfit as gf
        >>> m = gf.nn.Linear(2, 1)
        >>> save_checkpoint(os.path.join(tempfile.mkdtemp(), "c.safetensors"), m)
    """
    from safetensors.numpy import save

    from gradfit import __version__

    tensors = {f"model.{k}": _contiguous(v) for k, v in model.state_dict().items()}
    optim_json = None
    if optimizer is not None:
        arrays, optim_json = _split_optimizer_state(optimizer.state_dict())
        tensors.update({k: _contiguous(v) for k, v in arrays.items()})
    for name, arr in (extra or {}).items():
        tensors[f"extra.{name}"] = _contiguous(arr)
    record = {
        "format": FORMAT,
        "gradfit_version": __version__,
        **(meta or {}),
        "optimizer": optim_json,
        "sha256": _digest(tensors),
    }
    try:
        text = json.dumps(record, allow_nan=True)
    except TypeError as e:
        raise TypeError(f"save_checkpoint: metadata is not JSON-serialisable: {e}") from e
    blob = save(tensors, metadata={"gradfit": text})
    path = Path(path)
    atomic_write(path, blob)
    atomic_write(path.with_suffix(".json"), json.dumps(record, indent=2).encode())


def load_checkpoint(path: str | os.PathLike[str]) -> Checkpoint:
    """Read and verify a checkpoint written by :func:`save_checkpoint` (no code is executed).

    Example:
        >>> load_checkpoint("/nonexistent.safetensors")
        Traceback (most recent call last):
        ...
        gradfit.train.checkpoint.CheckpointError: checkpoint /nonexistent.safetensors: no such file
    """
    from safetensors import SafetensorError
    from safetensors.numpy import load

    path = Path(path)
    if path.is_dir():
        path = path / "checkpoint.safetensors"
    if not path.is_file():
        raise CheckpointError(f"checkpoint {path}: no such file")
    data = path.read_bytes()
    try:
        tensors = load(data)
        header_len = int.from_bytes(data[:8], "little")
        header = json.loads(data[8 : 8 + header_len])
    except (SafetensorError, ValueError, OSError) as e:
        raise CheckpointError(
            f"checkpoint {path}: not a readable safetensors file (truncated or corrupt?): {e}"
        ) from None
    text = (header.get("__metadata__") or {}).get("gradfit")
    if text is None:
        raise CheckpointError(f"checkpoint {path}: no gradfit metadata (not a gradfit checkpoint)")
    try:
        meta = json.loads(text)
    except json.JSONDecodeError as e:
        raise CheckpointError(f"checkpoint {path}: its metadata is not valid JSON: {e}") from None
    if not isinstance(meta, dict):
        raise CheckpointError(f"checkpoint {path}: its metadata is not a JSON object")
    for key in ("config", "optimizer", "scheduler", "rng", "partial_epoch"):
        if meta.get(key) is not None and not isinstance(meta[key], dict):
            raise CheckpointError(f"checkpoint {path}: metadata field {key!r} is not an object")
    if not isinstance(meta.get("history", []), list):
        raise CheckpointError(f"checkpoint {path}: metadata field 'history' is not a list")
    if meta.get("format") != FORMAT:
        raise CheckpointError(
            f"checkpoint {path}: unknown format {meta.get('format')!r}, expected {FORMAT!r}"
        )
    if _digest(tensors) != meta.get("sha256"):
        raise CheckpointError(
            f"checkpoint {path}: the weights do not match the digest recorded when it was saved "
            "(the file was modified or damaged)"
        )
    model_state = {k[6:]: v for k, v in tensors.items() if k.startswith("model.")}
    optim_arrays = {k: v for k, v in tensors.items() if k.startswith("optim.")}
    for name in optim_arrays:
        parts = name.split(".", 2)
        if len(parts) != 3 or not parts[1].isdigit():
            raise CheckpointError(f"checkpoint {path}: unexpected tensor name {name!r}")
    for name, arr in model_state.items():
        if arr.dtype.kind not in "fiub":
            raise CheckpointError(
                f"checkpoint {path}: tensor {name!r} has unsupported dtype {arr.dtype}"
            )
    optim_state = None
    if meta.get("optimizer") is not None:
        optim_state = _join_optimizer_state(optim_arrays, meta["optimizer"])
    extra = {k[6:]: v for k, v in tensors.items() if k.startswith("extra.")}
    return Checkpoint(
        model_state=model_state, optim_state=optim_state, meta=meta, path=str(path), extra=extra
    )
