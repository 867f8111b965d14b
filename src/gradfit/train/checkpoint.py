"""Checkpoints: weights and optimizer state in safetensors, everything else as JSON.

A checkpoint is one ``.safetensors`` file. Its tensors are the model's state
(``model.<name>``) and the optimizer's per-parameter state (``optim.<index>.<key>``);
its header's metadata holds, under the key ``gradfit``, the JSON record of the run
(model config, epoch, step, optimizer hyper-parameters, scheduler state, RNG states,
history, gradfit version) and a SHA-256 digest of the tensors and of that record. A copy
of the JSON is written beside it (``<name>.json``) for people and tools to read; the
safetensors header is the truth: a twin that lags (a kill between the two writes) is
rewritten from the header when the checkpoint is next loaded.

Saving is atomic: the file is written under a temporary name in the same directory,
flushed, fsynced and renamed over the old one, so a crash or Ctrl-C mid-save leaves
the previous checkpoint intact (temporary files a kill leaves are removed by the next save).
Loading never executes code (no pickle), checks the header's sizes against the file's
real size before reading, verifies the digest without copying the file, validates every
field a resume reads (:func:`validate_record`), and raises :class:`CheckpointError` for a missing, truncated, tampered or
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

import contextlib
import hashlib
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from gradfit.fileio import (  # atomic_write is re-exported: callers import it from here
    atomic_write,
    clean_stale_temp_files,
)

FORMAT = "gradfit-checkpoint-2"  # the digest covers the tensors and the JSON record
OLD_FORMAT = "gradfit-checkpoint-1"  # the digest covered the tensors only (still read)


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


def _record_bytes(record: dict[str, Any]) -> bytes:
    """The record as the digest sees it: canonical JSON without the digest itself."""
    rest = {k: v for k, v in record.items() if k != "sha256"}
    return json.dumps(rest, sort_keys=True, allow_nan=True, separators=(",", ":")).encode()


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
        **(meta or {}),
        "format": FORMAT,
        "gradfit_version": __version__,
        "optimizer": optim_json,
    }
    try:
        record = json.loads(json.dumps(record, allow_nan=True))  # exactly what loading sees
    except TypeError as e:
        raise TypeError(f"save_checkpoint: metadata is not JSON-serialisable: {e}") from e
    record["sha256"] = _digest_stream(tensors, record)
    text = json.dumps(record, allow_nan=True)
    blob = save(tensors, metadata={"gradfit": text})
    path = Path(path)
    clean_stale_temp_files(path.parent)  # left by a process killed mid-write
    atomic_write(path, blob)
    atomic_write(path.with_suffix(".json"), json.dumps(record, indent=2).encode())


_DTYPES = {
    "F64": np.float64, "F32": np.float32, "F16": np.float16,
    "I64": np.int64, "I32": np.int32, "I16": np.int16, "I8": np.int8,
    "U64": np.uint64, "U32": np.uint32, "U16": np.uint16, "U8": np.uint8, "BOOL": np.bool_,
}  # fmt: skip
MAX_HEADER = 100 * 2**20  # safetensors' own limit on the JSON header


def _read_header(path: Path, f: Any, size: int) -> tuple[dict[str, Any], int]:
    """The safetensors header, every tensor's extent checked against the file's real size."""
    head = f.read(8)
    if len(head) < 8:
        raise CheckpointError(f"checkpoint {path}: not a safetensors file (only {size} bytes)")
    n = int.from_bytes(head, "little")
    if n > min(MAX_HEADER, size - 8):
        raise CheckpointError(
            f"checkpoint {path}: its header claims {n} bytes but the file has {size} "
            "(truncated or corrupt?)"
        )
    try:
        header = json.loads(f.read(n))
    except (ValueError, RecursionError, UnicodeDecodeError) as e:
        raise CheckpointError(
            f"checkpoint {path}: not a readable safetensors file (truncated or corrupt?): "
            f"{type(e).__name__}: {str(e)[:200]}"
        ) from None
    if not isinstance(header, dict):
        raise CheckpointError(f"checkpoint {path}: its safetensors header is not a JSON object")
    data_size = size - 8 - n
    for name, info in header.items():
        if name == "__metadata__":
            if not isinstance(info, dict):
                raise CheckpointError(f"checkpoint {path}: __metadata__ is not an object")
            continue
        if not isinstance(info, dict):
            raise CheckpointError(f"checkpoint {path}: tensor {name!r} has no description")
        dtype, shape, offsets = info.get("dtype"), info.get("shape"), info.get("data_offsets")
        if dtype not in _DTYPES:
            raise CheckpointError(
                f"checkpoint {path}: tensor {name!r} has dtype {dtype!r}, which gradfit cannot "
                f"read (supported: {', '.join(_DTYPES)}); convert it to F32"
            )
        ok_shape = isinstance(shape, list) and all(
            isinstance(d, int) and not isinstance(d, bool) and d >= 0 for d in shape
        )
        ok_off = (
            isinstance(offsets, list)
            and len(offsets) == 2
            and all(isinstance(o, int) and not isinstance(o, bool) for o in offsets)
        )
        if not ok_shape or not ok_off:
            raise CheckpointError(f"checkpoint {path}: tensor {name!r} has a malformed description")
        need = int(np.prod(shape, dtype=object)) * np.dtype(_DTYPES[dtype]).itemsize
        begin, end = offsets
        if not 0 <= begin <= end <= data_size or end - begin != need:
            raise CheckpointError(
                f"checkpoint {path}: tensor {name!r} of shape {shape} needs {need} bytes at "
                f"{offsets}, but the file holds {data_size} bytes of data (truncated or corrupt?)"
            )
    return header, 8 + n


def _digest_stream(views: dict[str, np.ndarray], record: dict[str, Any] | None) -> str:
    """SHA-256 of the tensors (names, dtypes, shapes, bytes; no copies) and of the record."""
    h = hashlib.sha256()
    for name in sorted(views):
        arr = views[name]
        h.update(name.encode())
        h.update(str(arr.dtype).encode())
        h.update(str(arr.shape).encode())
        h.update(memoryview(arr.reshape(-1).view(np.uint8)) if arr.size else b"")
    if record is not None:
        h.update(_record_bytes(record))
    return h.hexdigest()


def load_checkpoint(path: str | os.PathLike[str]) -> Checkpoint:
    """Read and verify a checkpoint written by :func:`save_checkpoint` (no code is executed).

    The safetensors file is the truth: its header's record is what is returned, and a
    ``.json`` twin that disagrees with it (a kill between the two writes) is rewritten
    from it. Sizes in the header are checked against the file's real size before any
    tensor is read, the digest is computed over the mapped file without copies, and every
    field a resume reads is validated (:func:`validate_record`).

    Example:
        >>> load_checkpoint("/nonexistent.safetensors")
        Traceback (most recent call last):
        ...
        gradfit.train.checkpoint.CheckpointError: checkpoint /nonexistent.safetensors: no such file
    """
    import mmap

    path = Path(path)
    if path.is_dir():
        path = path / "checkpoint.safetensors"
    if not path.is_file():
        raise CheckpointError(f"checkpoint {path}: no such file")
    try:
        with open(path, "rb") as f:
            size = os.fstat(f.fileno()).st_size
            header, base = _read_header(path, f, size)
            mm = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) if size > base else None
    except PermissionError:
        raise CheckpointError(f"checkpoint {path}: permission denied (cannot read it)") from None
    except OSError as e:
        raise CheckpointError(f"checkpoint {path}: cannot read it: {e.strerror or e}") from None
    text = (header.get("__metadata__") or {}).get("gradfit")
    if not isinstance(text, str):
        raise CheckpointError(f"checkpoint {path}: no gradfit metadata (not a gradfit checkpoint)")
    try:
        meta = json.loads(text)
    except (ValueError, RecursionError) as e:
        raise CheckpointError(
            f"checkpoint {path}: its metadata is not valid JSON: {type(e).__name__}: {str(e)[:200]}"
        ) from None
    if not isinstance(meta, dict):
        raise CheckpointError(f"checkpoint {path}: its metadata is not a JSON object")
    if meta.get("format") not in (FORMAT, OLD_FORMAT):
        raise CheckpointError(
            f"checkpoint {path}: unknown format {meta.get('format')!r}, expected {FORMAT!r}"
        )
    views: dict[str, np.ndarray] = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        dtype = np.dtype(_DTYPES[info["dtype"]]).newbyteorder("<")
        count = int(np.prod(info["shape"], dtype=object))
        if count == 0 or mm is None:
            views[name] = np.zeros(info["shape"], dtype)
        else:
            views[name] = np.frombuffer(
                mm, dtype, count=count, offset=base + info["data_offsets"][0]
            ).reshape(info["shape"])
    try:
        covered = meta if meta.get("format") == FORMAT else None  # format 1: tensors only
        if _digest_stream(views, covered) != meta.get("sha256"):
            raise CheckpointError(
                f"checkpoint {path}: its weights or metadata do not match the digest recorded "
                "when it was saved (the file was modified or damaged)"
            )
        validate_record(meta, str(path))
        tensors = {k: v.astype(v.dtype.newbyteorder("="), copy=True) for k, v in views.items()}
    except RecursionError:
        raise CheckpointError(f"checkpoint {path}: its metadata is nested too deeply") from None
    finally:
        views.clear()
        if mm is not None:
            # a view still alive: the map closes when it is collected
            with contextlib.suppress(BufferError):
                mm.close()
    model_state = {k[6:]: v for k, v in tensors.items() if k.startswith("model.")}
    optim_arrays = {k: v for k, v in tensors.items() if k.startswith("optim.")}
    for name in optim_arrays:
        parts = name.split(".", 2)
        if len(parts) != 3 or not parts[1].isdigit():
            raise CheckpointError(f"checkpoint {path}: unexpected tensor name {name!r}")
    optim_state = None
    if meta.get("optimizer") is not None:
        optim_state = _join_optimizer_state(optim_arrays, meta["optimizer"])
    extra = {k[6:]: v for k, v in tensors.items() if k.startswith("extra.")}
    _repair_twin(path, meta)
    return Checkpoint(
        model_state=model_state, optim_state=optim_state, meta=meta, path=str(path), extra=extra
    )


def _repair_twin(path: Path, meta: dict[str, Any]) -> None:
    """Rewrite a ``.json`` twin that disagrees with the header (best effort: may be read-only)."""
    twin = path.with_suffix(".json")
    try:
        if not twin.is_file() or twin.stat().st_size > 64 * 2**20:
            return
        try:  # compared as canonical text: NaN in a history is equal to itself there
            same = _record_bytes(json.loads(twin.read_text())) == _record_bytes(meta)
            same = same and json.loads(twin.read_text()).get("sha256") == meta.get("sha256")
        except (ValueError, RecursionError, UnicodeDecodeError, AttributeError):
            same = False
        if not same:
            atomic_write(twin, json.dumps(meta, indent=2).encode())
    except OSError:
        pass


def _is_int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _is_num(v: Any) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool) and np.isfinite(v)


_RNG_CLASSES = ("PCG64", "PCG64DXSM", "MT19937", "Philox", "SFC64")
_GROUP_FLAGS = (
    "nesterov", "maximize", "amsgrad", "centered", "decoupled_weight_decay", "foreach",
    "capturable", "differentiable", "fused",
)  # fmt: skip
# scheduler fields that count steps or epochs
_SCHED_INTS = ("last_epoch", "_step_count", "T_max", "step_size", "total_iters", "T_0", "T_i",
               "T_cur", "T_mult", "num_bad_epochs", "cooldown_counter", "patience", "cooldown",
               "total_steps")  # fmt: skip


def _check_rng(state: Any, where: str) -> None:
    """A NumPy bit-generator state that NumPy itself accepts."""
    if state is None:
        return
    if not isinstance(state, dict) or state.get("bit_generator") not in _RNG_CLASSES:
        raise CheckpointError(f"{where}: not a random-generator state")
    try:
        getattr(np.random, state["bit_generator"])().state = state
    except (ValueError, TypeError, KeyError, OverflowError) as e:
        raise CheckpointError(f"{where}: not a valid random-generator state ({e})") from None


def validate_record(meta: dict[str, Any], path: str = "") -> None:
    """Check every field of a checkpoint's record that resuming reads, before anything uses it.

    Raises :class:`CheckpointError` naming the field: ``epoch``/``step`` must be integers
    >= 0, the RNG states ones NumPy accepts, the scheduler's counters integers and its
    rates finite, each optimizer group's hyper-parameters finite and non-negative
    (``lr`` >= 0, ``betas`` in [0, 1)), flags booleans, the history a list of records.

    Example:
        >>> validate_record({"epoch": 1, "step": 10})
        >>> validate_record({"epoch": [1]}, "c.safetensors")
        Traceback (most recent call last):
        ...
        gradfit.train.checkpoint.CheckpointError: checkpoint c.safetensors: metadata field 'epoch' must be an integer >= 0, got [1]
    """
    where = f"checkpoint {path}: metadata field"

    def bad(field: str, expected: str, value: Any) -> CheckpointError:
        return CheckpointError(f"{where} {field!r} must be {expected}, got {str(value)[:80]}")

    for key in ("config", "optimizer", "scheduler", "rng", "partial_epoch"):
        if meta.get(key) is not None and not isinstance(meta[key], dict):
            raise bad(key, "an object", meta[key])
    for key in ("epoch", "step"):
        if key in meta and not (_is_int(meta[key]) and meta[key] >= 0):
            raise bad(key, "an integer >= 0", meta[key])
    history = meta.get("history", [])
    if not isinstance(history, list) or not all(isinstance(r, dict) for r in history):
        raise bad("history", "a list of objects", history)
    for row in history:
        for k, v in row.items():
            if not (v is None or isinstance(v, str | int | float)):
                raise bad(f"history.{k}", "a number", v)
    rng = meta.get("rng") or {}
    for key, value in rng.items():
        _check_rng(value, f"{where} 'rng.{key}'")
    sched = meta.get("scheduler") or {}
    for key, value in sched.items():
        if key in _SCHED_INTS:
            if not _is_int(value):
                raise bad(f"scheduler.{key}", "an integer", value)
        elif isinstance(value, list):
            ok = all(
                _is_num(v)
                or (
                    isinstance(v, dict)
                    and all(isinstance(w, str) or _is_num(w) for w in v.values())
                )
                for v in value
            )
            if not ok:
                raise bad(f"scheduler.{key}", "a list of finite numbers", value)
        elif isinstance(value, float) and not np.isfinite(value) and key != "best":
            raise bad(f"scheduler.{key}", "a finite number", value)
        elif isinstance(value, dict):
            raise bad(f"scheduler.{key}", "a number", value)
    opt = meta.get("optimizer")
    if opt is not None:
        groups = opt.get("param_groups", [])
        if not isinstance(groups, list) or not all(isinstance(g, dict) for g in groups):
            raise bad("optimizer.param_groups", "a list of objects", groups)
        for i, g in enumerate(groups):
            for key, value in g.items():
                field_name = f"optimizer.param_groups[{i}].{key}"
                if key == "params":
                    if not isinstance(value, list) or not all(_is_int(p) for p in value):
                        raise bad(field_name, "a list of parameter indices", value)
                elif key in _GROUP_FLAGS:
                    if not isinstance(value, bool | type(None)):
                        raise bad(field_name, "true or false", value)
                elif key == "betas":
                    if not (
                        isinstance(value, list)
                        and len(value) == 2
                        and all(_is_num(b) and 0 <= b < 1 for b in value)
                    ):
                        raise bad(field_name, "two numbers in [0, 1)", value)
                elif not (_is_num(value) and value >= 0):
                    raise bad(field_name, "a finite number >= 0", value)
        state = opt.get("state", {})
        if not isinstance(state, dict):
            raise bad("optimizer.state", "an object", state)
        for idx, pstate in state.items():
            if not str(idx).isdigit() or not isinstance(pstate, dict):
                raise bad(f"optimizer.state.{idx}", "an object keyed by parameter index", pstate)
            for key, value in pstate.items():
                if not (_is_num(value) and value >= 0):
                    raise bad(f"optimizer.state.{idx}.{key}", "a finite number >= 0", value)
    partial = meta.get("partial_epoch")
    if partial is not None:
        for key in ("batches", "count"):
            if key in partial and not (_is_int(partial[key]) and partial[key] >= 0):
                raise bad(f"partial_epoch.{key}", "an integer >= 0", partial[key])
        for key in ("lr", "loss_sum"):
            if partial.get(key) is not None and not _is_num(partial[key]):
                raise bad(f"partial_epoch.{key}", "a finite number", partial[key])
        for key in ("epoch_start_rng", "rng"):
            states = partial.get(key)
            if states is None:
                continue
            if not isinstance(states, dict):
                raise bad(f"partial_epoch.{key}", "an object", states)
            for name, value in states.items():
                _check_rng(value, f"{where} 'partial_epoch.{key}.{name}'")
