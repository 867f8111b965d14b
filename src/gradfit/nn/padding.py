"""Padding layers (PyTorch's names): ``ZeroPad1d/2d/3d``, ``ConstantPad1d/2d/3d``,
``ReflectionPad1d/2d/3d``, ``ReplicationPad1d/2d/3d``, ``CircularPad1d/2d/3d``.

``padding`` is an int (the same on every side) or a tuple ``(left, right[, top, bottom[,
front, back]])``, last dimension first, as :func:`gradfit.nn.functional.pad`.

Example:
    >>> import gradfit as gf
    >>> from gradfit.nn.padding import ReflectionPad2d
    >>> ReflectionPad2d((1, 1, 2, 0))
    ReflectionPad2d((1, 1, 2, 0))
    >>> ReflectionPad2d(1)(gf.zeros(2, 3, 4, 4)).shape
    (2, 3, 6, 6)
"""

from __future__ import annotations

from typing import Any

from gradfit.nn.module import Module
from gradfit.ops.padding import pad
from gradfit.tensor import Tensor


class _PadNd(Module):
    _nsp = 1
    _mode = "constant"

    def __init__(self, padding: int | tuple[int, ...]) -> None:
        super().__init__()
        n = 2 * self._nsp
        name = type(self).__name__
        if isinstance(padding, int) and not isinstance(padding, bool):
            padding = (padding,) * n
        if (
            not isinstance(padding, (tuple, list))
            or len(padding) != n
            or not all(isinstance(p, int) and not isinstance(p, bool) for p in padding)
        ):
            raise ValueError(
                f"{name}: padding must be an int or a tuple of {n} ints, got {padding!r}"
            )
        self.padding = tuple(padding)
        self.value = 0.0

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002 - PyTorch's name
        try:
            if self._mode == "constant":
                return pad(input, self.padding, "constant", self.value)
            return pad(input, self.padding, self._mode)
        except (ValueError, TypeError, RuntimeError, NotImplementedError) as e:
            raise type(e)(f"{type(self).__name__}: {e}") from None

    def extra_repr(self) -> str:
        return f"{self.padding}"


class _ConstantPadNd(_PadNd):
    def __init__(self, padding: int | tuple[int, ...], value: float) -> None:
        super().__init__(padding)
        self.value = value

    def extra_repr(self) -> str:
        return f"padding={self.padding}, value={self.value}"


def _make(name: str, base: Any, nsp: int, mode: str, doc: str) -> type:
    return type(name, (base,), {"_nsp": nsp, "_mode": mode, "__doc__": doc, "__module__": __name__})


_SHAPES = {
    1: "(N, C, W) or (C, W)",
    2: "(N, C, H, W) or (C, H, W)",
    3: "(N, C, D, H, W) or (C, D, H, W)",
}


def _doc(name: str, what: str, nsp: int, args: str = "padding") -> str:
    shape = "(3, 2, 4)" if nsp == 1 else ("(3, 2, 4, 4)" if nsp == 2 else "(3, 2, 4, 4, 4)")
    out = "(3, 2, 6)" if nsp == 1 else ("(3, 2, 6, 6)" if nsp == 2 else "(3, 2, 6, 6, 6)")
    call = f"{name}(1)" if args == "padding" else f"{name}(1, 0.5)"
    return f"""{what} the last {nsp} dimension{"s" if nsp > 1 else ""} of a {_SHAPES[nsp]} input.

    Args as PyTorch's: {args}.

    Example:
        >>> import gradfit as gf
        >>> from gradfit.nn.padding import {name}
        >>> {call}(gf.zeros{shape}).shape
        {out}
    """


class ZeroPad1d(_ConstantPadNd):
    __doc__ = _doc("ZeroPad1d", "Pad with zeros", 1)
    _nsp = 1

    def __init__(self, padding: int | tuple[int, int]) -> None:
        super().__init__(padding, 0.0)

    def extra_repr(self) -> str:
        return f"{self.padding}"


class ZeroPad2d(ZeroPad1d):
    __doc__ = _doc("ZeroPad2d", "Pad with zeros", 2)
    _nsp = 2


class ZeroPad3d(ZeroPad1d):
    __doc__ = _doc("ZeroPad3d", "Pad with zeros", 3)
    _nsp = 3


ConstantPad1d = _make("ConstantPad1d", _ConstantPadNd, 1, "constant",
                      _doc("ConstantPad1d", "Pad with a constant", 1, "padding, value"))  # fmt: skip
ConstantPad2d = _make("ConstantPad2d", _ConstantPadNd, 2, "constant",
                      _doc("ConstantPad2d", "Pad with a constant", 2, "padding, value"))  # fmt: skip
ConstantPad3d = _make("ConstantPad3d", _ConstantPadNd, 3, "constant",
                      _doc("ConstantPad3d", "Pad with a constant", 3, "padding, value"))  # fmt: skip
_REFLECT = "Pad with the mirror image (edge not repeated; padding < size) of"
ReflectionPad1d = _make(
    "ReflectionPad1d", _PadNd, 1, "reflect", _doc("ReflectionPad1d", _REFLECT, 1)
)
ReflectionPad2d = _make(
    "ReflectionPad2d", _PadNd, 2, "reflect", _doc("ReflectionPad2d", _REFLECT, 2)
)
ReflectionPad3d = _make(
    "ReflectionPad3d", _PadNd, 3, "reflect", _doc("ReflectionPad3d", _REFLECT, 3)
)
_REPL = "Pad with copies of the edge of"
ReplicationPad1d = _make(
    "ReplicationPad1d", _PadNd, 1, "replicate", _doc("ReplicationPad1d", _REPL, 1)
)
ReplicationPad2d = _make(
    "ReplicationPad2d", _PadNd, 2, "replicate", _doc("ReplicationPad2d", _REPL, 2)
)
ReplicationPad3d = _make(
    "ReplicationPad3d", _PadNd, 3, "replicate", _doc("ReplicationPad3d", _REPL, 3)
)
_CIRC = "Pad by wrapping around (padding <= size)"
CircularPad1d = _make("CircularPad1d", _PadNd, 1, "circular", _doc("CircularPad1d", _CIRC, 1))
CircularPad2d = _make("CircularPad2d", _PadNd, 2, "circular", _doc("CircularPad2d", _CIRC, 2))
CircularPad3d = _make("CircularPad3d", _PadNd, 3, "circular", _doc("CircularPad3d", _CIRC, 3))
