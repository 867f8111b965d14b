"""Devices, as ``torch.device``: gradfit runs on the CPU, so ``"cpu"`` is the one that works.

``gf.device("cpu")`` and the ``device=`` keyword of every creation function accept
what PyTorch accepts (``"cpu"``, ``"cpu:0"``, a ``gf.device``). Naming another device
(``"cuda"``, ``"mps"``, ...) is allowed when building a ``gf.device`` (as in PyTorch),
but putting a tensor there raises a ``RuntimeError`` that says what to write instead.

Example:
    >>> import gradfit as gf
    >>> device = "cuda" if gf.cuda.is_available() else "cpu"
    >>> gf.ones(2, device=device).to(device).device
    device(type='cpu')
"""

from __future__ import annotations

from typing import Any

#: The device types PyTorch knows (its error message lists them); only "cpu" holds tensors here.
_KNOWN = (
    "cpu", "cuda", "ipu", "xpu", "mkldnn", "opengl", "opencl", "ideep", "hip", "ve", "fpga",
    "maia", "xla", "lazy", "vulkan", "mps", "meta", "hpu", "mtia", "privateuseone",
)  # fmt: skip


class device:
    """A device name, as ``torch.device``: ``.type`` (``"cpu"``) and ``.index`` (None or an int).

    Args:
        type: ``"cpu"``, ``"cpu:0"``, another ``gf.device``, or a PyTorch device type such as
            ``"cuda"`` (allowed here, refused when a tensor is put there).
        index: the device ordinal (optional).

    Example:
        >>> import gradfit as gf
        >>> d = gf.device("cpu")
        >>> d, str(d), d.type, d.index
        (device(type='cpu'), 'cpu', 'cpu', None)
        >>> gf.device("cpu:0")
        device(type='cpu', index=0)
    """

    __slots__ = ("_index", "_type")

    def __init__(self, type: Any, index: int | None = None) -> None:  # noqa: A002
        if isinstance(type, device):
            if index is not None:
                raise TypeError("device: give an index only with a device type string")
            self._type, self._index = type.type, type.index
            return
        if not isinstance(type, str):
            raise TypeError(
                f"device: expected a device type string such as 'cpu' or a gf.device, "
                f"got {builtin_type(type).__name__}"
            )
        name, sep, idx = type.partition(":")
        if name not in _KNOWN:
            raise RuntimeError(
                f"Expected one of {', '.join(_KNOWN)} device type at start of device string: {type}"
            )
        if sep:
            if index is not None:
                raise RuntimeError(
                    f"device: type ({type!r}) must not include an index when index= is given"
                )
            if not idx.isdigit():
                raise RuntimeError(f"Invalid device string: {type!r}")
            index = int(idx)
        if index is not None:
            if isinstance(index, bool) or not isinstance(index, int):
                raise TypeError(f"device: index must be an int, got {builtin_type(index).__name__}")
            if index < 0:
                raise RuntimeError(f"Device index must not be negative, got {index}")
        self._type, self._index = name, index

    @property
    def type(self) -> str:
        """The device type (``"cpu"``)."""
        return self._type

    @property
    def index(self) -> int | None:
        """The device ordinal, or None."""
        return self._index

    def __str__(self) -> str:
        return self._type if self._index is None else f"{self._type}:{self._index}"

    def __repr__(self) -> str:
        if self._index is None:
            return f"device(type={self._type!r})"
        return f"device(type={self._type!r}, index={self._index})"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, device):
            return NotImplemented
        return (self._type, self._index) == (other._type, other._index)

    def __hash__(self) -> int:
        return hash(("device", self._type, self._index))

    def __reduce__(self) -> tuple[Any, ...]:
        return (device, (str(self),))


builtin_type = type
CPU = device("cpu")
_default = CPU


def _refuse(what: str, where: str) -> RuntimeError:
    return RuntimeError(
        f"{where}: device {what!r} is not available: gradfit runs on the CPU only (available: "
        "'cpu'); torch.cuda.is_available() is False here, so write "
        "device = 'cuda' if gf.cuda.is_available() else 'cpu'"
    )


def check_device(dev: Any, where: str = "device") -> device:
    """Resolve a ``device=`` argument: None (the default device) or a CPU device; refuse others.

    Example:
        >>> check_device("cpu:0", "zeros")
        device(type='cpu', index=0)
    """
    if dev is None:
        return _default
    if isinstance(dev, int) and not isinstance(dev, bool):  # PyTorch reads an int as cuda:<n>
        raise _refuse(f"cuda:{dev}", where)
    d = dev if isinstance(dev, device) else device(dev)
    if d.type != "cpu":
        raise _refuse(str(d), where)
    return d


def is_device_like(x: Any) -> bool:
    """Whether ``x`` names a device (a gf.device or a string such as ``"cpu"``, ``"cuda:0"``).

    Example:
        >>> is_device_like("cpu"), is_device_like("float32")
        (True, False)
    """
    if isinstance(x, device):
        return True
    return isinstance(x, str) and x.partition(":")[0] in _KNOWN


def set_default_device(dev: Any) -> None:
    """Set the device new tensors go to: only ``"cpu"`` (or None) is accepted here.

    Example:
        >>> import gradfit as gf
        >>> gf.set_default_device("cpu"); gf.get_default_device()
        device(type='cpu')
    """
    global _default
    _default = CPU if dev is None else check_device(dev, "set_default_device")


def get_default_device() -> device:
    """The device new tensors go to (always the CPU).

    Example:
        >>> import gradfit as gf
        >>> gf.get_default_device()
        device(type='cpu')
    """
    return _default
