"""``gf.save`` / ``gf.load``: tensors and state dicts in one safetensors file, never pickle.

PyTorch's ``torch.save`` pickles, and unpickling can run any code a file carries.
gradfit writes a standard safetensors file instead: the tensors (and NumPy arrays)
are its named entries, and the structure around them (nested dicts, lists, tuples,
numbers, strings, None, bools) is a JSON tree in the header's ``__metadata__`` under
``"gradfit"``, which refers to the entries by name. Loading reads data only: a
pickle or a real ``torch.save`` file is refused with a message saying how to convert
it, and every size in the header is checked against the file's size before anything
is allocated. A safetensors file written by other tools (``safetensors.torch.save_file``)
loads as a dict of tensors.

Example:
    >>> import io
    >>> import gradfit as gf
    >>> buf = io.BytesIO()
    >>> gf.save({"w": gf.ones(2), "step": 3, "names": ("a", None)}, buf)
    >>> _ = buf.seek(0)
    >>> gf.load(buf)
    {'w': tensor([1., 1.]), 'step': 3, 'names': ('a', None)}
"""

from __future__ import annotations

import json
import math
import os
import struct
from collections.abc import Mapping
from typing import Any, BinaryIO

import numpy as np

from gradfit.fileio import atomic_write
from gradfit.tensor import Tensor

__all__ = ["load", "save"]

_FORMAT = "gradfit.save/1"
_MAX_HEADER = 100 * 1024 * 1024  # safetensors' own limit

_DTYPES = {
    "F16": np.float16,
    "F32": np.float32,
    "F64": np.float64,
    "I8": np.int8,
    "I16": np.int16,
    "I32": np.int32,
    "I64": np.int64,
    "U8": np.uint8,
    "U16": np.uint16,
    "U32": np.uint32,
    "U64": np.uint64,
    "BOOL": np.bool_,
}
_CODES = {np.dtype(v): k for k, v in _DTYPES.items()}

_CONVERT = (
    "In PyTorch, convert it to safetensors with: "
    'from safetensors.torch import save_file; save_file(model.state_dict(), "model.safetensors") '
    "(tensors only), then load that file with gf.load or model.load_state_dict(gf.load(...))."
)


# --------------------------------------------------------------------------- save


class _Writer:
    def __init__(self) -> None:
        self.arrays: dict[str, np.ndarray] = {}
        self.ids: dict[int, str] = {}

    def add(self, obj: Any, arr: np.ndarray) -> str:
        key = self.ids.get(id(obj))
        if key is None:
            key = self.ids[id(obj)] = str(len(self.arrays))
            if arr.dtype not in _CODES:
                raise TypeError(f"save: cannot store an array of dtype {arr.dtype}")
            self.arrays[key] = arr
        return key

    def encode(self, obj: Any, path: str) -> Any:
        if isinstance(obj, Tensor):
            node: dict[str, Any] = {"T": self.add(obj, obj._data)}
            if obj.requires_grad:
                node["rg"] = True
            return node
        if isinstance(obj, np.ndarray):
            return {"A": self.add(obj, obj)}
        if isinstance(obj, np.generic):
            return {"N": self.add(obj, np.asarray(obj))}
        if obj is None or isinstance(obj, (bool, int, str)):
            return {"V": obj}
        if isinstance(obj, float):
            return {"F": repr(obj)}  # nan and inf are not JSON
        if isinstance(obj, Mapping):
            items = []
            for k, v in obj.items():
                if not (k is None or isinstance(k, (bool, int, float, str))):
                    raise TypeError(
                        f"save: dict keys must be strings, numbers, bools or None, got "
                        f"{type(k).__name__} at {path}"
                    )
                items.append([self.encode(k, path), self.encode(v, f"{path}[{k!r}]")])
            return {"D": items}
        if isinstance(obj, (list, tuple)):
            enc = [self.encode(v, f"{path}[{i}]") for i, v in enumerate(obj)]
            return {"L": enc} if isinstance(obj, list) else {"U": enc}
        raise TypeError(
            f"save: cannot store a {type(obj).__name__} (at {path}); gradfit saves tensors, "
            "NumPy arrays, numbers, strings, bools, None and dicts/lists/tuples of them "
            "(never pickles)"
        )


def _serialize(obj: Any) -> bytes:
    w = _Writer()
    tree = w.encode(obj, "obj")
    header: dict[str, Any] = {
        "__metadata__": {"format": _FORMAT, "gradfit": json.dumps(tree, allow_nan=False)}
    }
    chunks = []
    offset = 0
    for key, arr in w.arrays.items():
        data = np.ascontiguousarray(arr).astype(arr.dtype.newbyteorder("<"), copy=False)
        raw = data.tobytes()
        header[key] = {
            "dtype": _CODES[arr.dtype],
            "shape": list(arr.shape),
            "data_offsets": [offset, offset + len(raw)],
        }
        chunks.append(raw)
        offset += len(raw)
    hb = json.dumps(header, separators=(",", ":")).encode("utf-8")
    hb += b" " * (-len(hb) % 8)  # the data stays 8-byte aligned, as safetensors writes it
    return struct.pack("<Q", len(hb)) + hb + b"".join(chunks)


def save(obj: Any, f: str | os.PathLike[str] | BinaryIO) -> None:
    """Save tensors, state dicts and nested containers to ``f`` (PyTorch's ``torch.save``).

    The file is a safetensors file whose header holds the structure as JSON; it is
    written atomically to a path, or to a binary file object (``io.BytesIO``). No
    pickle: only tensors, NumPy arrays and scalars, numbers, strings, bools, None
    and dicts (keys: strings, numbers, bools, None), lists and tuples of them.
    A tensor stored twice in ``obj`` is stored once and loads as one tensor.

    Example:
        >>> import os, tempfile
        >>> import gradfit as gf
        >>> path = os.path.join(tempfile.mkdtemp(), "model.pt")
        >>> model = gf.nn.Linear(2, 1)
        >>> gf.save(model.state_dict(), path)
        >>> model.load_state_dict(gf.load(path))
        _IncompatibleKeys(missing_keys=[], unexpected_keys=[])
    """
    data = _serialize(obj)
    if isinstance(f, (str, os.PathLike)):
        atomic_write(f, data)
        return
    if not hasattr(f, "write"):
        raise TypeError(f"save: f must be a path or a binary file object, got {type(f).__name__}")
    f.write(data)


# --------------------------------------------------------------------------- load


def _refuse(what: str) -> ValueError:
    return ValueError(f"load: {what}; gradfit never unpickles (it could run any code). {_CONVERT}")


def _check_magic(buf: bytes, name: str) -> None:
    head = buf[:8]
    if head.startswith(b"PK\x03\x04") or head.startswith(b"PK\x05\x06"):
        raise _refuse(f"{name} is a zip archive, as written by torch.save (pickled inside)")
    if head[:1] == b"\x80" and len(head) > 1 and 2 <= head[1] <= 5:
        raise _refuse(f"{name} is a Python pickle (as written by torch.save or pickle.dump)")
    if head.startswith(b"\x93NUMPY"):
        raise ValueError(
            f"load: {name} is a NumPy .npy file; read it with numpy.load and wrap it with "
            "gf.from_numpy"
        )


def _parse(buf: bytes, name: str) -> tuple[dict[str, Any], memoryview]:
    """The header and the data buffer of a safetensors file, every size checked."""
    _check_magic(buf, name)
    if len(buf) < 8:
        raise ValueError(f"load: {name} is too short ({len(buf)} bytes) to be a gradfit file")
    (n,) = struct.unpack("<Q", buf[:8])
    if n > len(buf) - 8 or n > _MAX_HEADER:
        raise ValueError(
            f"load: {name} is not a valid safetensors file: its header claims {n} bytes but "
            f"the file has {len(buf) - 8} after the size (truncated or not this format)"
        )
    try:
        header = json.loads(bytes(buf[8 : 8 + n]).decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as e:
        raise ValueError(f"load: {name} has an unreadable header: {e}") from None
    if not isinstance(header, dict):
        raise ValueError(f"load: {name} has a header that is not a JSON object")
    return header, memoryview(buf)[8 + n :]


def _tensors(header: dict[str, Any], data: memoryview, name: str) -> dict[str, np.ndarray]:
    out: dict[str, np.ndarray] = {}
    for key, info in header.items():
        if key == "__metadata__":
            continue
        bad = f"load: {name}: entry {key!r} "
        if not isinstance(info, dict):
            raise ValueError(bad + "is not an object")
        code, shape, offs = info.get("dtype"), info.get("shape"), info.get("data_offsets")
        if code == "BF16":
            dt = np.dtype(np.uint16)
        elif code in _DTYPES:
            dt = np.dtype(_DTYPES[code])
        else:
            raise ValueError(bad + f"has dtype {code!r}, which gradfit cannot read")
        if not (
            isinstance(shape, list)
            and all(type(s) is int and s >= 0 for s in shape)
            and isinstance(offs, list)
            and len(offs) == 2
            and all(type(o) is int for o in offs)
        ):
            raise ValueError(bad + "has a malformed shape or data_offsets")
        begin, end = offs
        size = math.prod(shape) * dt.itemsize
        if not 0 <= begin <= end <= len(data) or end - begin != size:
            raise ValueError(
                bad + f"claims {size} bytes at offsets {offs}, but the data section has "
                f"{len(data)} bytes (truncated or crafted file)"
            )
        arr = np.frombuffer(data[begin:end], dtype=dt.newbyteorder("<")).astype(dt).reshape(shape)
        if code == "BF16":  # bfloat16 is the top half of a float32
            arr = (arr.astype(np.uint32) << 16).view(np.float32)
        out[key] = arr
    return out


class _Reader:
    def __init__(self, arrays: dict[str, np.ndarray], name: str) -> None:
        self.arrays, self.name = arrays, name
        self.tensors: dict[str, Tensor] = {}

    def array(self, key: Any) -> np.ndarray:
        if not isinstance(key, str) or key not in self.arrays:
            raise ValueError(f"load: {self.name} refers to a missing tensor {key!r}")
        return self.arrays[key]

    def decode(self, node: Any) -> Any:
        if not isinstance(node, dict) or len(node) not in (1, 2):
            raise ValueError(f"load: {self.name} has a malformed structure")
        if "T" in node:
            key = node["T"]
            t = self.tensors.get(key)
            if t is None:
                t = self.tensors[key] = Tensor._wrap(self.array(key))
                if node.get("rg") and t._data.dtype.kind == "f":
                    t.requires_grad = True
            return t
        if "A" in node:
            return self.array(node["A"])
        if "N" in node:
            return self.array(node["N"])[()]
        if "V" in node:
            v = node["V"]
            if not (v is None or isinstance(v, (bool, int, str))):
                raise ValueError(f"load: {self.name} has a malformed value")
            return v
        if "F" in node:
            try:
                return float(node["F"])
            except (TypeError, ValueError):
                raise ValueError(f"load: {self.name} has a malformed number") from None
        if "D" in node:
            items = node["D"]
            if not isinstance(items, list):
                raise ValueError(f"load: {self.name} has a malformed dict")
            out = {}
            for item in items:
                if not isinstance(item, list) or len(item) != 2:
                    raise ValueError(f"load: {self.name} has a malformed dict")
                k = self.decode(item[0])
                if isinstance(k, (Tensor, np.ndarray, np.generic, list, tuple, dict)):
                    raise ValueError(f"load: {self.name} has a malformed dict key")
                out[k] = self.decode(item[1])
            return out
        for tag, kind in (("L", list), ("U", tuple)):
            if tag in node:
                if not isinstance(node[tag], list):
                    raise ValueError(f"load: {self.name} has a malformed sequence")
                return kind(self.decode(v) for v in node[tag])
        raise ValueError(f"load: {self.name} has a malformed structure")


def _is_cpu(loc: Any) -> bool:
    text = loc if isinstance(loc, str) else None
    if text is None and type(loc).__name__ == "device":
        text = str(loc)
    return text is not None and text.split(":")[0] == "cpu"


def _check_location(map_location: Any) -> None:
    if map_location is None or _is_cpu(map_location):
        return
    if isinstance(map_location, dict) and all(_is_cpu(v) for v in map_location.values()):
        return  # {"cuda:0": "cpu"}: everything lands on the CPU anyway
    if callable(map_location) and type(map_location).__name__ != "device":
        return  # lambda storage, loc: storage: gradfit's tensors are CPU arrays already
    raise RuntimeError(
        f"load: map_location={map_location!r} is not supported: gradfit runs on the CPU, "
        "so the only location is 'cpu' (or None)"
    )


def load(
    f: str | os.PathLike[str] | BinaryIO,
    map_location: Any = None,
    weights_only: bool = True,
    mmap: bool | None = None,
) -> Any:
    """Load what :func:`save` wrote (PyTorch's ``torch.load``), reading data only.

    ``f`` is a path or a binary file object. A plain safetensors file (from
    ``safetensors.torch.save_file``) loads as a dict of tensors. ``map_location`` may
    be None, ``"cpu"``, a dict mapping locations to ``"cpu"`` or a function (ignored:
    everything loads on the CPU); other devices are refused. ``weights_only`` and
    ``mmap`` are accepted for PyTorch code; gradfit's
    loading is always data-only (nothing is unpickled, whatever its value), and a
    pickle or ``torch.save`` zip file is refused with a ``ValueError`` that says how
    to convert it.

    Example:
        >>> import io
        >>> import gradfit as gf
        >>> buf = io.BytesIO()
        >>> gf.save([gf.tensor([1, 2]), {"lr": 0.1}], buf)
        >>> gf.load(io.BytesIO(buf.getvalue()), map_location="cpu")
        [tensor([1, 2]), {'lr': 0.1}]
    """
    _check_location(map_location)
    if isinstance(f, (str, os.PathLike)):
        name = os.fspath(f)
        with open(f, "rb") as fh:
            buf = fh.read()
    elif hasattr(f, "read"):
        name = "the file object"
        buf = f.read()
        if not isinstance(buf, (bytes, bytearray)):
            raise TypeError("load: the file object must be opened in binary mode ('rb')")
    else:
        raise TypeError(f"load: f must be a path or a binary file object, got {type(f).__name__}")
    header, data = _parse(bytes(buf), name)
    meta = header.get("__metadata__")
    if meta is not None and not (
        isinstance(meta, dict) and all(isinstance(v, str) for v in meta.values())
    ):
        raise ValueError(f"load: {name} has a malformed __metadata__")
    arrays = _tensors(header, data, name)
    if not meta or "gradfit" not in meta:  # a safetensors file from elsewhere
        return {k: Tensor._wrap(v) for k, v in arrays.items()}
    try:
        tree = json.loads(meta["gradfit"])
        return _Reader(arrays, name).decode(tree)
    except RecursionError:
        raise ValueError(f"load: {name} has a structure nested too deeply") from None
    except json.JSONDecodeError as e:
        raise ValueError(f"load: {name} has an unreadable structure: {e}") from None
