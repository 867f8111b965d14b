"""Convolution layers: ``Conv1d/2d`` and ``ConvTranspose1d/2d`` (PyTorch's arguments, defaults
and initialisation).

Example:
    >>> import gradfit as gf
    >>> from gradfit.nn.conv import Conv2d
    >>> conv = Conv2d(1, 16, kernel_size=5, padding=2)
    >>> conv
    Conv2d(1, 16, kernel_size=(5, 5), stride=(1, 1), padding=(2, 2))
    >>> conv(gf.randn(8, 1, 28, 28)).shape
    (8, 16, 28, 28)
"""

from __future__ import annotations

import math
from typing import Any

from gradfit import backend
from gradfit.nn import init
from gradfit.nn.activation import ReLU
from gradfit.nn.module import Module, Parameter
from gradfit.nn.pool import MaxPool2d
from gradfit.ops.conv import _tuple, conv1d, conv2d
from gradfit.ops.conv_epilogue import conv_relu
from gradfit.ops.conv_transpose import _conv_transpose
from gradfit.ops.padding import pad
from gradfit.tensor import Tensor


class _ConvNd(Module):
    _nsp = 2
    _fn: Any = None

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int | tuple[int, ...],
        stride: int | tuple[int, ...] = 1,
        padding: int | tuple[int, ...] | str = 0,
        dilation: int | tuple[int, ...] = 1,
        groups: int = 1,
        bias: bool = True,
        padding_mode: str = "zeros",
        dtype: Any = None,
    ) -> None:
        super().__init__()
        name, n = type(self).__name__, self._nsp
        for what, v in (("in_channels", in_channels), ("out_channels", out_channels)):
            if not isinstance(v, int) or isinstance(v, bool) or v <= 0:
                raise ValueError(f"{name}: {what} must be a positive integer, got {v!r}")
        if not isinstance(groups, int) or isinstance(groups, bool) or groups <= 0:
            raise ValueError(f"{name}: groups must be a positive integer, got {groups!r}")
        if in_channels % groups or out_channels % groups:
            raise ValueError(
                f"{name}: in_channels ({in_channels}) and out_channels ({out_channels}) must both "
                f"be divisible by groups ({groups})"
            )
        if padding_mode not in ("zeros", "reflect", "replicate", "circular"):
            raise ValueError(
                f"{name}: padding_mode must be one of 'zeros', 'reflect', 'replicate', "
                f"'circular', got {padding_mode!r}"
            )
        self.in_channels, self.out_channels, self.groups = in_channels, out_channels, groups
        self.kernel_size = _tuple(kernel_size, n, "kernel_size", name, 1)
        self.stride = _tuple(stride, n, "stride", name, 1)
        self.dilation = _tuple(dilation, n, "dilation", name, 1)
        if isinstance(padding, str):
            if padding not in ("same", "valid"):
                raise ValueError(
                    f"{name}: padding must be 'valid', 'same', an int or a tuple, got {padding!r}"
                )
            if padding == "same" and any(s != 1 for s in self.stride):
                raise ValueError(
                    f"{name}: padding='same' is not supported for strided convolutions"
                )
            self.padding: Any = padding
        else:
            self.padding = _tuple(padding, n, "padding", name, 0)
        self.padding_mode = padding_mode
        dt = backend.default_float if dtype is None else backend.to_dtype(dtype)
        shape = (out_channels, in_channels // groups, *self.kernel_size)
        self.weight = Parameter(Tensor._wrap(backend.xp.empty(shape, dt)))
        if bias:
            self.bias = Parameter(Tensor._wrap(backend.xp.empty((out_channels,), dt)))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """PyTorch's default: kaiming_uniform_(a=sqrt(5)) weight, bias U(-1/sqrt(fan_in), +).

        Example:
            >>> from gradfit.nn.conv import Conv1d
            >>> Conv1d(2, 3, 3).reset_parameters()
        """
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            fan_in = (self.in_channels // self.groups) * math.prod(self.kernel_size)
            bound = 1 / math.sqrt(fan_in) if fan_in > 0 else 0.0
            init.uniform_(self.bias, -bound, bound)

    def forward(self, x: Tensor) -> Tensor:
        if not isinstance(x, Tensor):
            raise TypeError(f"{self._layer_str()}: expected a gf.Tensor, got {type(x).__name__}")
        n, c = self._nsp, self.in_channels
        sp = "L" if n == 1 else "H, W"
        if x.ndim not in (n + 1, n + 2) or x.shape[-n - 1] != c:
            raise self.input_shape_error(f"(N, {c}, {sp}) or ({c}, {sp})", x.shape)
        if x._data.dtype.kind in "iub":
            x = x.astype(self.weight._data.dtype)
        padding = self.padding
        try:
            if self.padding_mode != "zeros":  # pad with F.pad first, as PyTorch
                x = pad(x, self._reversed_padding(), mode=self.padding_mode)
                padding = 0
            return type(self)._fn(
                x, self.weight, self.bias, self.stride, padding, self.dilation, self.groups
            )
        except (ValueError, TypeError, RuntimeError, NotImplementedError) as e:
            raise type(e)(f"{self._layer_str()}: {e}") from None

    def _fuse_next(self, x: Any, rest: list[Module]) -> tuple[Tensor, int] | None:
        """For :class:`~gradfit.nn.Sequential`: this layer and the ``ReLU`` after it (for
        ``Conv2d`` also a 2x2 max pooling after that) as one fused call
        (:mod:`gradfit.ops.conv_epilogue`: the same values and graph, less memory traffic).
        Returns the output and how many of the modules in ``rest`` it ran, or None where
        the modules run one by one (a subclass, hooks, another padding mode, an input the
        plain layer would convert or reject).

        Example:
            >>> import gradfit as gf
            >>> net = gf.nn.Sequential(gf.nn.Conv2d(1, 4, 3, padding=1), gf.nn.ReLU(),
            ...                        gf.nn.MaxPool2d(2))
            >>> x = gf.randn(2, 1, 8, 8)
            >>> y = net(x)  # fused where numba is installed
            >>> bool((y == net[2](net[1](net[0](x)))).all())
            True
        """
        cls = type(self)
        if (
            (cls is not Conv2d and cls is not Conv1d)
            or type(rest[0]) is not ReLU
            or self.padding_mode != "zeros"
            or self._forward_pre_hooks
            or self._forward_hooks
            or rest[0]._forward_pre_hooks
            or rest[0]._forward_hooks
            or "forward" in self.__dict__  # a forward replaced on the instance
            or "forward" in rest[0].__dict__
            or not isinstance(x, Tensor)
            or x.ndim != self._nsp + 2
            or x.shape[1] != self.in_channels
            or x._data.dtype != self.weight._data.dtype
        ):
            return None
        pool = rest[1] if len(rest) > 1 and cls is Conv2d else None
        if (
            type(pool) is not MaxPool2d
            or pool._forward_pre_hooks
            or pool._forward_hooks
            or "forward" in pool.__dict__
        ):
            pool = None
        opts = None
        if pool is not None:
            opts = (pool.kernel_size, pool.stride, pool.padding, pool.dilation, pool.ceil_mode)
        try:
            out, pooled = conv_relu(self._nsp, x, self.weight, self.bias, self.stride,
                                    self.padding, self.dilation, self.groups, opts)  # fmt: skip
        except (ValueError, TypeError, RuntimeError, NotImplementedError) as e:
            raise type(e)(f"{self._layer_str()}: {e}") from None
        return out, 2 if pooled else 1

    def _reversed_padding(self) -> tuple[int, ...]:
        """F.pad's (left, right, top, bottom) for this layer's padding (PyTorch's split of 'same')."""
        out: list[int] = []
        for i in reversed(range(self._nsp)):
            if self.padding == "valid":
                lo = hi = 0
            elif self.padding == "same":
                total = self.dilation[i] * (self.kernel_size[i] - 1)
                lo, hi = total // 2, total - total // 2
            else:
                lo = hi = self.padding[i]
            out += [lo, hi]
        return tuple(out)

    def extra_repr(self) -> str:
        n = self._nsp
        s = f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}"
        s += f", stride={self.stride}"
        if self.padding != (0,) * n:
            s += f", padding={self.padding}"
        if self.dilation != (1,) * n:
            s += f", dilation={self.dilation}"
        if self.groups != 1:
            s += f", groups={self.groups}"
        if self.bias is None:
            s += ", bias=False"
        if self.padding_mode != "zeros":
            s += f", padding_mode={self.padding_mode}"
        return s


class Conv1d(_ConvNd):
    """1-D convolution over (N, C_in, L) or (C_in, L) inputs.

    Args as PyTorch's: in_channels, out_channels, kernel_size, stride=1, padding=0
    (int, tuple, 'valid' or 'same'), dilation=1, groups=1, bias=True,
    padding_mode='zeros' ('reflect', 'replicate', 'circular' pad with F.pad first), dtype.

    Example:
        >>> import gradfit as gf
        >>> from gradfit.nn.conv import Conv1d
        >>> Conv1d(4, 8, 3, padding="same")(gf.randn(2, 4, 10)).shape
        (2, 8, 10)
    """

    _nsp = 1
    _fn = staticmethod(conv1d)


class Conv2d(_ConvNd):
    """2-D convolution over (N, C_in, H, W) or (C_in, H, W) inputs.

    Args as PyTorch's: in_channels, out_channels, kernel_size, stride=1, padding=0
    (int, tuple, 'valid' or 'same'), dilation=1, groups=1, bias=True,
    padding_mode='zeros' ('reflect', 'replicate', 'circular' pad with F.pad first), dtype.

    Initialisation as PyTorch's: weight by kaiming_uniform_(a=sqrt(5)), bias from
    U(-1/sqrt(fan_in), 1/sqrt(fan_in)) with fan_in = in_channels / groups * kH * kW,
    drawn from gradfit's seeded generator.

    Example:
        >>> import gradfit as gf
        >>> from gradfit.nn.conv import Conv2d
        >>> conv = Conv2d(3, 6, (3, 5), stride=2, bias=False)
        >>> conv(gf.randn(1, 3, 9, 9)).shape
        (1, 6, 4, 3)
        >>> conv(gf.randn(1, 4, 9, 9))
        Traceback (most recent call last):
        ...
        ValueError: Conv2d(3, 6, kernel_size=(3, 5), stride=(2, 2), bias=False): expected input (N, 3, H, W) or (3, H, W), got (1, 4, 9, 9)
    """

    _nsp = 2
    _fn = staticmethod(conv2d)


class _ConvTransposeNd(Module):
    _nsp = 2
    _fn: Any = None

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int | tuple[int, ...],
        stride: int | tuple[int, ...] = 1,
        padding: int | tuple[int, ...] = 0,
        output_padding: int | tuple[int, ...] = 0,
        groups: int = 1,
        bias: bool = True,
        dilation: int | tuple[int, ...] = 1,
        padding_mode: str = "zeros",
        device: Any = None,
        dtype: Any = None,
    ) -> None:
        super().__init__()
        name, n = type(self).__name__, self._nsp
        for what, v in (("in_channels", in_channels), ("out_channels", out_channels)):
            if not isinstance(v, int) or isinstance(v, bool) or v <= 0:
                raise ValueError(f"{name}: {what} must be a positive integer, got {v!r}")
        if not isinstance(groups, int) or isinstance(groups, bool) or groups <= 0:
            raise ValueError(f"{name}: groups must be a positive integer, got {groups!r}")
        if in_channels % groups or out_channels % groups:
            raise ValueError(
                f"{name}: in_channels ({in_channels}) and out_channels ({out_channels}) must both "
                f"be divisible by groups ({groups})"
            )
        if padding_mode != "zeros":
            raise ValueError(
                f'{name}: only "zeros" padding mode is supported, got {padding_mode!r}'
            )
        if isinstance(padding, str):
            raise ValueError(f"{name}: padding must be an int or a tuple of ints, got {padding!r}")
        if device is not None and str(device) != "cpu":
            raise ValueError(f"{name}: gradfit runs on the CPU only, got device={device!r}")
        self.in_channels, self.out_channels, self.groups = in_channels, out_channels, groups
        self.kernel_size = _tuple(kernel_size, n, "kernel_size", name, 1)
        self.stride = _tuple(stride, n, "stride", name, 1)
        self.padding = _tuple(padding, n, "padding", name, 0)
        self.output_padding = _tuple(output_padding, n, "output_padding", name, 0)
        self.dilation = _tuple(dilation, n, "dilation", name, 1)
        self.padding_mode = padding_mode
        dt = backend.default_float if dtype is None else backend.to_dtype(dtype)
        shape = (in_channels, out_channels // groups, *self.kernel_size)
        self.weight = Parameter(Tensor._wrap(backend.xp.empty(shape, dt)))
        if bias:
            self.bias = Parameter(Tensor._wrap(backend.xp.empty((out_channels,), dt)))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """PyTorch's default: kaiming_uniform_(a=sqrt(5)) weight, bias U(-1/sqrt(fan_in), +).

        fan_in is computed from the weight as PyTorch does: out_channels / groups * prod(kernel).

        Example:
            >>> from gradfit.nn.conv import ConvTranspose1d
            >>> ConvTranspose1d(2, 3, 3).reset_parameters()
        """
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            fan_in = (self.out_channels // self.groups) * math.prod(self.kernel_size)
            bound = 1 / math.sqrt(fan_in) if fan_in > 0 else 0.0
            init.uniform_(self.bias, -bound, bound)

    def forward(self, input: Tensor, output_size: Any = None) -> Tensor:  # noqa: A002
        """Transposed convolution; ``output_size`` picks the output padding as PyTorch does."""
        if not isinstance(input, Tensor):
            raise TypeError(
                f"{self._layer_str()}: expected a gf.Tensor, got {type(input).__name__}"
            )
        n, c = self._nsp, self.in_channels
        sp = "L" if n == 1 else "H, W"
        if input.ndim not in (n + 1, n + 2) or input.shape[-n - 1] != c:
            raise self.input_shape_error(f"(N, {c}, {sp}) or ({c}, {sp})", input.shape)
        if input._data.dtype.kind in "iub":
            input = input.astype(self.weight._data.dtype)  # noqa: A001
        if output_size is not None:
            output_size = list(output_size)
            lead = input.ndim - n
            if len(output_size) == lead + n:
                output_size = output_size[lead:]
            if len(output_size) != n:
                raise ValueError(
                    f"ConvTranspose{n}D: for {input.ndim}D input, output_size must have {n} "
                    f"or {lead + n} elements (got {len(output_size)})"
                )
        try:
            return _conv_transpose(
                f"conv_transpose{n}d", n, input, self.weight, self.bias, self.stride,
                self.padding, self.output_padding, self.groups, self.dilation, output_size,
            )  # fmt: skip
        except (ValueError, TypeError, RuntimeError) as e:
            raise type(e)(f"{self._layer_str()}: {e}") from None

    def extra_repr(self) -> str:
        n = self._nsp
        s = f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}"
        s += f", stride={self.stride}"
        if self.padding != (0,) * n:
            s += f", padding={self.padding}"
        if self.dilation != (1,) * n:
            s += f", dilation={self.dilation}"
        if self.output_padding != (0,) * n:
            s += f", output_padding={self.output_padding}"
        if self.groups != 1:
            s += f", groups={self.groups}"
        if self.bias is None:
            s += ", bias=False"
        return s


class ConvTranspose1d(_ConvTransposeNd):
    """1-D transposed convolution over (N, C_in, L) or (C_in, L) inputs.

    Args as PyTorch's: in_channels, out_channels, kernel_size, stride=1, padding=0,
    output_padding=0, groups=1, bias=True, dilation=1, padding_mode='zeros' (the only mode
    PyTorch allows here), device (CPU only), dtype. The weight is
    (in_channels, out_channels / groups, kL); ``forward(input, output_size=None)``.

    Example:
        >>> import gradfit as gf
        >>> from gradfit.nn.conv import ConvTranspose1d
        >>> ConvTranspose1d(4, 2, 3, stride=2)(gf.randn(5, 4, 10)).shape
        (5, 2, 21)
    """

    _nsp = 1


class ConvTranspose2d(_ConvTransposeNd):
    """2-D transposed convolution over (N, C_in, H, W) or (C_in, H, W) inputs.

    Args as PyTorch's: in_channels, out_channels, kernel_size, stride=1, padding=0,
    output_padding=0, groups=1, bias=True, dilation=1, padding_mode='zeros', device, dtype.
    The weight is (in_channels, out_channels / groups, kH, kW), initialised as PyTorch's;
    ``forward(input, output_size=None)``: an ``output_size`` within the ``stride - 1``
    sizes this layer can make picks the output padding.

    Example:
        >>> import gradfit as gf
        >>> from gradfit.nn.conv import ConvTranspose2d
        >>> up = ConvTranspose2d(64, 32, 4, stride=2, padding=1, bias=False)
        >>> up
        ConvTranspose2d(64, 32, kernel_size=(4, 4), stride=(2, 2), padding=(1, 1), bias=False)
        >>> up(gf.randn(2, 64, 8, 8)).shape
        (2, 32, 16, 16)
        >>> up(gf.randn(2, 64, 8, 8), output_size=[17, 17]).shape
        (2, 32, 17, 17)
    """

    _nsp = 2
