"""Pooling layers: ``MaxPool1d/2d``, ``AvgPool1d/2d``, ``AdaptiveAvgPool1d/2d``,
``AdaptiveMaxPool1d/2d`` (PyTorch's arguments).

Example:
    >>> import gradfit as gf
    >>> from gradfit.nn.pool import MaxPool2d
    >>> pool = MaxPool2d(2)
    >>> pool
    MaxPool2d(kernel_size=2, stride=2, padding=0, dilation=1, ceil_mode=False)
    >>> pool(gf.randn(8, 16, 28, 28)).shape
    (8, 16, 14, 14)
"""

from __future__ import annotations

from typing import Any

from gradfit.nn.module import Module
from gradfit.ops.pool import (
    _ints,
    adaptive_avg_pool1d,
    adaptive_avg_pool2d,
    adaptive_max_pool1d,
    adaptive_max_pool2d,
    avg_pool1d,
    avg_pool2d,
    max_pool1d,
    max_pool2d,
)
from gradfit.tensor import Tensor


class _Pool(Module):
    _nsp = 2

    def _check_options(self, kernel_size: Any, stride: Any, padding: Any, dilation: Any) -> None:
        name, n = type(self).__name__, self._nsp
        _ints(kernel_size, n, "kernel_size", name, 1)
        if stride is not None:
            _ints(stride, n, "stride", name, 1)
        _ints(padding, n, "padding", name, 0)
        _ints(dilation, n, "dilation", name, 1)

    def _check_input(self, x: Any) -> None:
        if not isinstance(x, Tensor):
            raise TypeError(f"{self._layer_str()}: expected a gf.Tensor, got {type(x).__name__}")
        n = self._nsp
        if x.ndim not in (n + 1, n + 2):
            sp = "L" if n == 1 else "H, W"
            raise self.input_shape_error(f"(N, C, {sp}) or (C, {sp})", x.shape)

    def _call(self, fn: Any, x: Tensor, *args: Any, **kwargs: Any) -> Tensor:
        self._check_input(x)
        try:
            return fn(x, *args, **kwargs)
        except (ValueError, TypeError, RuntimeError) as e:
            raise type(e)(f"{self._layer_str()}: {e}") from None


class _MaxPoolNd(_Pool):
    def __init__(
        self,
        kernel_size: Any,
        stride: Any = None,
        padding: Any = 0,
        dilation: Any = 1,
        return_indices: bool = False,
        ceil_mode: bool = False,
    ) -> None:
        super().__init__()
        if return_indices:
            raise ValueError(
                f"{type(self).__name__}: return_indices=True is not supported by gradfit"
            )
        self._check_options(kernel_size, stride, padding, dilation)
        self.kernel_size = kernel_size
        self.stride = kernel_size if stride is None else stride
        self.padding, self.dilation, self.ceil_mode = padding, dilation, bool(ceil_mode)
        self.return_indices = False

    def forward(self, x: Tensor) -> Tensor:
        return self._call(
            max_pool1d if self._nsp == 1 else max_pool2d,
            x,
            self.kernel_size,
            self.stride,
            self.padding,
            self.dilation,
            self.ceil_mode,
        )

    def extra_repr(self) -> str:
        return (
            f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}, "
            f"dilation={self.dilation}, ceil_mode={self.ceil_mode}"
        )


class MaxPool1d(_MaxPoolNd):
    """1-D max pooling over (N, C, L) or (C, L) inputs; ``stride`` defaults to ``kernel_size``.

    Example:
        >>> import gradfit as gf
        >>> from gradfit.nn.pool import MaxPool1d
        >>> MaxPool1d(2)(gf.tensor([[[1.0, 3.0, 2.0, 0.0]]])).tolist()
        [[[3.0, 2.0]]]
    """

    _nsp = 1


class MaxPool2d(_MaxPoolNd):
    """2-D max pooling over (N, C, H, W) or (C, H, W) inputs; ``stride`` defaults to ``kernel_size``.

    The gradient goes to the first maximum of each window (PyTorch's rule).
    ``return_indices`` is not supported.

    Example:
        >>> import gradfit as gf
        >>> from gradfit.nn.pool import MaxPool2d
        >>> MaxPool2d(2)(gf.randn(4, 28, 28)).shape
        (4, 14, 14)
        >>> MaxPool2d(2)(gf.randn(28, 28))
        Traceback (most recent call last):
        ...
        ValueError: MaxPool2d(kernel_size=2, stride=2, padding=0, dilation=1, ceil_mode=False): expected input (N, C, H, W) or (C, H, W), got (28, 28)
    """

    _nsp = 2


class _AvgPoolNd(_Pool):
    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class AvgPool1d(_AvgPoolNd):
    """1-D average pooling; ``count_include_pad=True`` (default) counts the zero padding.

    Example:
        >>> import gradfit as gf
        >>> from gradfit.nn.pool import AvgPool1d
        >>> AvgPool1d(2)(gf.tensor([[[1.0, 3.0, 2.0, 0.0]]])).tolist()
        [[[2.0, 1.0]]]
    """

    _nsp = 1

    def __init__(
        self,
        kernel_size: Any,
        stride: Any = None,
        padding: Any = 0,
        ceil_mode: bool = False,
        count_include_pad: bool = True,
    ) -> None:
        super().__init__()
        self._check_options(kernel_size, stride, padding, 1)
        self.kernel_size = _ints(kernel_size, 1, "kernel_size", "AvgPool1d", 1)
        self.stride = (
            self.kernel_size if stride is None else _ints(stride, 1, "stride", "AvgPool1d", 1)
        )
        self.padding = _ints(padding, 1, "padding", "AvgPool1d", 0)
        self.ceil_mode, self.count_include_pad = bool(ceil_mode), bool(count_include_pad)

    def forward(self, x: Tensor) -> Tensor:
        return self._call(
            avg_pool1d, x, self.kernel_size, self.stride, self.padding, self.ceil_mode,
            self.count_include_pad,
        )  # fmt: skip


class AvgPool2d(_AvgPoolNd):
    """2-D average pooling; ``count_include_pad=True`` (default) counts the zero padding.

    Example:
        >>> import gradfit as gf
        >>> from gradfit.nn.pool import AvgPool2d
        >>> AvgPool2d(2, stride=1)(gf.ones(1, 1, 3, 3)).tolist()
        [[[[1.0, 1.0], [1.0, 1.0]]]]
    """

    _nsp = 2

    def __init__(
        self,
        kernel_size: Any,
        stride: Any = None,
        padding: Any = 0,
        ceil_mode: bool = False,
        count_include_pad: bool = True,
        divisor_override: int | None = None,
    ) -> None:
        super().__init__()
        self._check_options(kernel_size, stride, padding, 1)
        if divisor_override is not None and (
            not isinstance(divisor_override, int) or divisor_override <= 0
        ):
            raise ValueError(
                f"AvgPool2d: divisor_override must be a positive int or None, got {divisor_override!r}"
            )
        self.kernel_size = kernel_size
        self.stride = kernel_size if stride is None else stride
        self.padding, self.ceil_mode = padding, bool(ceil_mode)
        self.count_include_pad, self.divisor_override = bool(count_include_pad), divisor_override

    def forward(self, x: Tensor) -> Tensor:
        return self._call(
            avg_pool2d, x, self.kernel_size, self.stride, self.padding, self.ceil_mode,
            self.count_include_pad, self.divisor_override,
        )  # fmt: skip


class AdaptiveAvgPool2d(_Pool):
    """Average pooling to a fixed (H_out, W_out), whatever the input size; ``None`` keeps a size.

    Example:
        >>> import gradfit as gf
        >>> from gradfit.nn.pool import AdaptiveAvgPool2d
        >>> AdaptiveAvgPool2d((1, 1))(gf.randn(2, 8, 5, 7)).shape
        (2, 8, 1, 1)
    """

    def __init__(self, output_size: int | tuple[int | None, int | None]) -> None:
        super().__init__()
        sizes = output_size if isinstance(output_size, (tuple, list)) else (output_size,) * 2
        if len(sizes) != 2 or not all(
            s is None or (isinstance(s, int) and not isinstance(s, bool) and s > 0) for s in sizes
        ):
            raise ValueError(
                f"AdaptiveAvgPool2d: output_size must be a positive int or a pair of positive ints "
                f"or None, got {output_size!r}"
            )
        self.output_size = output_size

    def forward(self, x: Tensor) -> Tensor:
        return self._call(adaptive_avg_pool2d, x, self.output_size)

    def extra_repr(self) -> str:
        return f"output_size={self.output_size}"


class AdaptiveAvgPool1d(_Pool):
    """Average pooling of (N, C, L) or (C, L) inputs to a fixed length ``output_size``.

    Example:
        >>> import gradfit as gf
        >>> from gradfit.nn.pool import AdaptiveAvgPool1d
        >>> AdaptiveAvgPool1d(3)(gf.randn(2, 8, 7)).shape
        (2, 8, 3)
    """

    _nsp = 1

    def __init__(self, output_size: int | tuple[int]) -> None:
        super().__init__()
        self.output_size = output_size

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002 - PyTorch's name
        return self._call(adaptive_avg_pool1d, input, self.output_size)

    def extra_repr(self) -> str:
        return f"output_size={self.output_size}"


class AdaptiveMaxPool1d(_Pool):
    """Max pooling of (N, C, L) or (C, L) inputs to a fixed length; ``return_indices`` as PyTorch.

    Example:
        >>> import gradfit as gf
        >>> from gradfit.nn.pool import AdaptiveMaxPool1d
        >>> AdaptiveMaxPool1d(3)
        AdaptiveMaxPool1d(output_size=3)
        >>> AdaptiveMaxPool1d(3)(gf.randn(2, 8, 7)).shape
        (2, 8, 3)
    """

    _nsp = 1

    def __init__(self, output_size: int | tuple[int], return_indices: bool = False) -> None:
        super().__init__()
        self.output_size = output_size
        self.return_indices = return_indices

    def forward(self, input: Tensor) -> Any:  # noqa: A002 - PyTorch's name
        return self._call(adaptive_max_pool1d, input, self.output_size, self.return_indices)

    def extra_repr(self) -> str:
        return f"output_size={self.output_size}"


class AdaptiveMaxPool2d(AdaptiveMaxPool1d):
    """Max pooling of (N, C, H, W) or (C, H, W) inputs to a fixed (H_out, W_out); ``None``
    keeps that size; ``return_indices`` gives flat ``h * W + w`` indices as PyTorch.

    Example:
        >>> import gradfit as gf
        >>> from gradfit.nn.pool import AdaptiveMaxPool2d
        >>> AdaptiveMaxPool2d((2, None))(gf.randn(2, 8, 5, 7)).shape
        (2, 8, 2, 7)
    """

    _nsp = 2

    def forward(self, input: Tensor) -> Any:  # noqa: A002 - PyTorch's name
        return self._call(adaptive_max_pool2d, input, self.output_size, self.return_indices)
