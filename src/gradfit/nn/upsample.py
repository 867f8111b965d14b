"""Upsampling layers (PyTorch's names): ``Upsample``, ``UpsamplingNearest2d``, ``UpsamplingBilinear2d``.

Example:
    >>> import gradfit as gf
    >>> from gradfit.nn.upsample import Upsample
    >>> up = Upsample(scale_factor=2, mode="bilinear")
    >>> up
    Upsample(scale_factor=2.0, mode='bilinear')
    >>> up(gf.zeros(1, 3, 4, 4)).shape
    (1, 3, 8, 8)
"""

from __future__ import annotations

from typing import Any

from gradfit.nn.module import Module
from gradfit.ops.resample import interpolate
from gradfit.tensor import Tensor


class Upsample(Module):
    """Resize (N, C, *) inputs with :func:`gradfit.nn.functional.interpolate`.

    Args as PyTorch's: size, scale_factor (stored as float), mode='nearest',
    align_corners=None, recompute_scale_factor=None.

    Example:
        >>> import gradfit as gf
        >>> from gradfit.nn.upsample import Upsample
        >>> Upsample(size=5)(gf.zeros(2, 3, 2)).shape
        (2, 3, 5)
    """

    def __init__(
        self,
        size: Any = None,
        scale_factor: Any = None,
        mode: str = "nearest",
        align_corners: bool | None = None,
        recompute_scale_factor: bool | None = None,
    ) -> None:
        super().__init__()
        self.name = type(self).__name__
        self.size = size
        if isinstance(scale_factor, tuple):
            self.scale_factor: Any = tuple(float(f) for f in scale_factor)
        else:
            self.scale_factor = float(scale_factor) if scale_factor else None
        self.mode = mode
        self.align_corners = align_corners
        self.recompute_scale_factor = recompute_scale_factor

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002 - PyTorch's name
        try:
            return interpolate(input, self.size, self.scale_factor, self.mode,
                               self.align_corners, self.recompute_scale_factor)  # fmt: skip
        except (ValueError, TypeError, RuntimeError, NotImplementedError) as e:
            raise type(e)(f"{type(self).__name__}: {e}") from None

    def extra_repr(self) -> str:
        if self.scale_factor is not None:
            info = f"scale_factor={self.scale_factor!r}"
        else:
            info = f"size={self.size!r}"
        return info + f", mode={self.mode!r}"


class UpsamplingNearest2d(Upsample):
    """Nearest-neighbour upsampling of (N, C, H, W) inputs (PyTorch's deprecated alias).

    Example:
        >>> import gradfit as gf
        >>> from gradfit.nn.upsample import UpsamplingNearest2d
        >>> UpsamplingNearest2d(scale_factor=3)(gf.zeros(1, 1, 2, 2)).shape
        (1, 1, 6, 6)
    """

    def __init__(self, size: Any = None, scale_factor: Any = None) -> None:
        super().__init__(size, scale_factor, mode="nearest")


class UpsamplingBilinear2d(Upsample):
    """Bilinear upsampling of (N, C, H, W) inputs with ``align_corners=True`` (as PyTorch's).

    Example:
        >>> import gradfit as gf
        >>> from gradfit.nn.upsample import UpsamplingBilinear2d
        >>> UpsamplingBilinear2d(size=(3, 5))(gf.zeros(1, 1, 2, 2)).shape
        (1, 1, 3, 5)
    """

    def __init__(self, size: Any = None, scale_factor: Any = None) -> None:
        super().__init__(size, scale_factor, mode="bilinear", align_corners=True)
