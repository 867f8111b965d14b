"""Turning a list of samples into a batch: ``default_collate`` and ``default_convert``.

These follow ``torch.utils.data.default_collate`` / ``default_convert`` rule for rule, so a
``Dataset`` written for PyTorch yields the same structure here: tensors and NumPy arrays
are stacked along a new first dimension, Python floats become a float64 tensor and ints an
int64 tensor (bools a bool tensor), strings stay a list, and dicts, named tuples and
sequences are collated field by field (a tuple of fields becomes a *list* of batches, as
in PyTorch).

Array-backed gradfit datasets never come here: the :class:`~gradfit.data.DataLoader`
gathers their batches with one fancy index per array.

Example:
    >>> import gradfit as gf
    >>> from gradfit.data.collate import default_collate
    >>> x, y = default_collate([(gf.ones(2), 0), (gf.zeros(2), 1)])
    >>> x.shape, y.tolist(), y.dtype
    ((2, 2), [0, 1], dtype('int64'))
"""

from __future__ import annotations

import collections.abc
from typing import Any

import numpy as np

from gradfit import backend


def _tensor(arr: np.ndarray) -> Any:
    from gradfit.tensor import Tensor

    return Tensor._wrap(arr)


def _np_ok(arr: np.ndarray) -> bool:
    return arr.dtype.kind in "biuf" and arr.dtype in backend._SUPPORTED


def default_collate(batch: list[Any]) -> Any:
    """Stack a list of samples into a batch, as ``torch.utils.data.default_collate``.

    Args:
        batch: the samples (what ``dataset[i]`` returned for each index of the batch).

    Returns:
        The batch, with the structure of one sample: Tensors where a sample holds a
        tensor, array or number; lists of strings; dicts, named tuples and lists of batches.

    Raises:
        TypeError: for an element it cannot batch (naming its type), or NumPy arrays of
            strings/objects.
        RuntimeError: when the samples' sequences differ in length.

    Example:
        >>> import numpy as np
        >>> b = default_collate([{"x": np.zeros(3, np.float32), "name": "a"},
        ...                      {"x": np.ones(3, np.float32), "name": "b"}])
        >>> b["x"].shape, b["name"]
        ((2, 3), ['a', 'b'])
    """
    from gradfit.tensor import Tensor

    if not isinstance(batch, collections.abc.Sequence) or isinstance(batch, (str, bytes)):
        raise TypeError(f"default_collate: expected a list of samples, got {type(batch).__name__}")
    if len(batch) == 0:
        raise ValueError("default_collate: the batch is empty")
    elem = batch[0]
    if isinstance(elem, Tensor):
        shapes = {b.shape for b in batch if isinstance(b, Tensor)}
        if len(shapes) != 1 or not all(isinstance(b, Tensor) for b in batch):
            raise RuntimeError(
                f"default_collate: stack expects each tensor to be equal size, got shapes "
                f"{sorted(shapes)}"
            )
        from gradfit.ops.shape import stack

        return stack(list(batch), 0)
    if isinstance(elem, np.ndarray | np.generic) and not isinstance(elem, np.str_ | np.bytes_):
        arrays = [np.asarray(b) for b in batch]
        if not _np_ok(arrays[0]):
            raise TypeError(
                f"default_collate: batch must contain tensors, numpy arrays, numbers, dicts or "
                f"lists; found a numpy array of dtype {arrays[0].dtype}"
            )
        if len({a.shape for a in arrays}) != 1:
            raise RuntimeError(
                "default_collate: stack expects each array to be equal size, got shapes "
                f"{sorted({a.shape for a in arrays})}"
            )
        return _tensor(np.stack(arrays))
    if isinstance(elem, bool):
        return _tensor(np.asarray(batch, dtype=np.bool_))
    if isinstance(elem, float):
        return _tensor(np.asarray(batch, dtype=np.float64))
    if isinstance(elem, int):
        return _tensor(np.asarray(batch, dtype=np.int64))
    if isinstance(elem, str | bytes):
        return list(batch)
    if isinstance(elem, collections.abc.Mapping):
        out = {key: default_collate([d[key] for d in batch]) for key in elem}
        try:
            return type(elem)(out)
        except TypeError:  # a mapping type that cannot be built from a dict
            return out
    if isinstance(elem, tuple) and hasattr(elem, "_fields"):  # namedtuple
        return type(elem)(*(default_collate(list(s)) for s in zip(*batch)))
    if isinstance(elem, collections.abc.Sequence):
        size = len(elem)
        if not all(len(e) == size for e in batch):
            raise RuntimeError(
                "default_collate: each element in list of batch should be of equal size"
            )
        transposed = [default_collate(list(s)) for s in zip(*batch)]
        if isinstance(elem, tuple):
            return transposed  # PyTorch returns a list here too
        try:
            return type(elem)(transposed)
        except TypeError:
            return transposed
    raise TypeError(
        "default_collate: batch must contain tensors, numpy arrays, numbers, dicts or lists; "
        f"found {type(elem).__name__}"
    )


def default_convert(data: Any) -> Any:
    """Turn NumPy arrays in a sample into Tensors, leaving the rest (``batch_size=None``).

    Example:
        >>> import numpy as np
        >>> default_convert({"x": np.arange(3), "n": 1})
        {'x': tensor([0, 1, 2]), 'n': 1}
    """
    if isinstance(data, np.ndarray):
        return _tensor(data) if _np_ok(data) else data
    if isinstance(data, np.generic) and not isinstance(data, np.str_ | np.bytes_):
        return _tensor(np.asarray(data))
    if isinstance(data, collections.abc.Mapping):
        out = {k: default_convert(v) for k, v in data.items()}
        try:
            return type(data)(out)
        except TypeError:
            return out
    if isinstance(data, tuple) and hasattr(data, "_fields"):
        return type(data)(*(default_convert(d) for d in data))
    if isinstance(data, tuple):
        return [default_convert(d) for d in data]
    if isinstance(data, collections.abc.Sequence) and not isinstance(data, str | bytes):
        try:
            return type(data)([default_convert(d) for d in data])
        except TypeError:
            return [default_convert(d) for d in data]
    return data
