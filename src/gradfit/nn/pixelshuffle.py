"""``PixelShuffle`` and ``PixelUnshuffle`` (PyTorch's names): channels to space and back.

Example:
    >>> import gradfit as gf
    >>> from gradfit.nn.pixelshuffle import PixelShuffle
    >>> PixelShuffle(2)
    PixelShuffle(upscale_factor=2)
    >>> PixelShuffle(2)(gf.zeros(1, 8, 3, 3)).shape
    (1, 2, 6, 6)
"""

from __future__ import annotations

from gradfit.nn.module import Module
from gradfit.ops.resample import pixel_shuffle, pixel_unshuffle
from gradfit.tensor import Tensor


class PixelShuffle(Module):
    """(*, C r², H, W) -> (*, C, H r, W r) with r = ``upscale_factor``.

    Example:
        >>> import gradfit as gf
        >>> from gradfit.nn.pixelshuffle import PixelShuffle
        >>> PixelShuffle(3)(gf.zeros(9, 2, 2)).shape
        (1, 6, 6)
    """

    def __init__(self, upscale_factor: int) -> None:
        super().__init__()
        self.upscale_factor = upscale_factor

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002 - PyTorch's name
        return pixel_shuffle(input, self.upscale_factor)

    def extra_repr(self) -> str:
        return f"upscale_factor={self.upscale_factor}"


class PixelUnshuffle(Module):
    """(*, C, H r, W r) -> (*, C r², H, W) with r = ``downscale_factor``.

    Example:
        >>> import gradfit as gf
        >>> from gradfit.nn.pixelshuffle import PixelUnshuffle
        >>> PixelUnshuffle(2)(gf.zeros(1, 1, 4, 6)).shape
        (1, 4, 2, 3)
    """

    def __init__(self, downscale_factor: int) -> None:
        super().__init__()
        self.downscale_factor = downscale_factor

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002 - PyTorch's name
        return pixel_unshuffle(input, self.downscale_factor)

    def extra_repr(self) -> str:
        return f"downscale_factor={self.downscale_factor}"
