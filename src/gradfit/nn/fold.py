"""``Unfold`` and ``Fold`` layers (PyTorch's names, arguments and repr).

Example:
    >>> import gradfit as gf
    >>> from gradfit.nn.fold import Unfold
    >>> Unfold(kernel_size=(2, 3))
    Unfold(kernel_size=(2, 3), dilation=1, padding=0, stride=1)
    >>> Unfold(kernel_size=(2, 3))(gf.zeros(2, 5, 3, 4)).shape
    (2, 30, 4)
"""

from __future__ import annotations

from typing import Any

from gradfit.nn.module import Module
from gradfit.ops.fold import fold, unfold
from gradfit.tensor import Tensor


class Unfold(Module):
    """Extract sliding blocks: (N, C, H, W) -> (N, C * prod(kernel_size), L), as ``F.unfold``.

    Example:
        >>> import gradfit as gf
        >>> from gradfit.nn.fold import Unfold
        >>> Unfold(2, stride=2)(gf.zeros(1, 3, 4, 4)).shape
        (1, 12, 4)
    """

    def __init__(
        self, kernel_size: Any, dilation: Any = 1, padding: Any = 0, stride: Any = 1
    ) -> None:
        super().__init__()
        self.kernel_size, self.dilation, self.padding, self.stride = (
            kernel_size,
            dilation,
            padding,
            stride,
        )

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002 - PyTorch's name
        return unfold(input, self.kernel_size, self.dilation, self.padding, self.stride)

    def extra_repr(self) -> str:
        return (f"kernel_size={self.kernel_size}, dilation={self.dilation}, padding={self.padding}, "
                f"stride={self.stride}")  # fmt: skip


class Fold(Module):
    """Sum sliding blocks back into (N, C, *output_size), as ``F.fold``.

    Example:
        >>> import gradfit as gf
        >>> from gradfit.nn.fold import Fold
        >>> Fold(output_size=(4, 5), kernel_size=2)(gf.zeros(1, 12, 12)).shape
        (1, 3, 4, 5)
    """

    def __init__(
        self,
        output_size: Any,
        kernel_size: Any,
        dilation: Any = 1,
        padding: Any = 0,
        stride: Any = 1,
    ) -> None:
        super().__init__()
        self.output_size, self.kernel_size = output_size, kernel_size
        self.dilation, self.padding, self.stride = dilation, padding, stride

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002 - PyTorch's name
        return fold(
            input, self.output_size, self.kernel_size, self.dilation, self.padding, self.stride
        )

    def extra_repr(self) -> str:
        return (f"output_size={self.output_size}, kernel_size={self.kernel_size}, "
                f"dilation={self.dilation}, padding={self.padding}, stride={self.stride}")  # fmt: skip
