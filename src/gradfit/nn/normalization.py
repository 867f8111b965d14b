"""Normalisation layers: ``BatchNorm1d``, ``BatchNorm2d`` and ``LayerNorm`` (PyTorch's semantics).

BatchNorm keeps ``running_mean``, ``running_var`` and ``num_batches_tracked`` as
buffers (in ``state_dict()``, not in ``parameters()``). In training mode it
normalises with the batch statistics and updates the running ones; in eval mode
it normalises with the running statistics. ``momentum=None`` makes the running
statistics a cumulative average over all batches seen;
``track_running_stats=False`` keeps no statistics and always uses the batch's.

Example:
    >>> import gradfit as gf
    >>> from gradfit.nn.normalization import BatchNorm2d
    >>> bn = BatchNorm2d(16)
    >>> bn
    BatchNorm2d(16, eps=1e-05, momentum=0.1, affine=True, bias=True, track_running_stats=True)
    >>> bn(gf.randn(8, 16, 5, 5)).shape
    (8, 16, 5, 5)
    >>> int(bn.num_batches_tracked.item())
    1
"""

from __future__ import annotations

from typing import Any

import numpy as np

from gradfit import backend
from gradfit.autograd import no_grad
from gradfit.nn import init
from gradfit.nn.module import Module, Parameter
from gradfit.ops.normalization import batch_norm, layer_norm
from gradfit.tensor import Tensor


class _BatchNorm(Module):
    _dims: tuple[int, ...] = ()
    _shapes = ""

    def __init__(
        self,
        num_features: int,
        eps: float = 1e-5,
        momentum: float | None = 0.1,
        affine: bool = True,
        track_running_stats: bool = True,
        dtype: Any = None,
        *,
        bias: bool = True,
    ) -> None:
        super().__init__()
        name = type(self).__name__
        if not isinstance(num_features, int) or isinstance(num_features, bool) or num_features <= 0:
            raise ValueError(
                f"{name}: num_features must be a positive integer, got {num_features!r}"
            )
        if not isinstance(eps, (int, float)) or eps < 0:
            raise ValueError(f"{name}: eps must be a non-negative number, got {eps!r}")
        if momentum is not None and (
            not isinstance(momentum, (int, float)) or not 0 <= momentum <= 1
        ):
            raise ValueError(
                f"{name}: momentum must be a number in [0, 1] or None, got {momentum!r}"
            )
        self.num_features, self.eps, self.momentum = num_features, eps, momentum
        self.affine, self.track_running_stats = bool(affine), bool(track_running_stats)
        dt = backend.default_float if dtype is None else backend.to_dtype(dtype)
        xp = backend.xp
        # empty + gf.nn.init (not ones/zeros), so that skip_init writes nothing
        if self.affine:
            self.weight = Parameter(init.ones_(Tensor._wrap(xp.empty(num_features, dt))))
            if bias:
                self.bias = Parameter(init.zeros_(Tensor._wrap(xp.empty(num_features, dt))))
            else:
                self.register_parameter("bias", None)
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)
        if self.track_running_stats:
            self.register_buffer(
                "running_mean", init.zeros_(Tensor._wrap(xp.empty(num_features, dt)))
            )
            self.register_buffer(
                "running_var", init.ones_(Tensor._wrap(xp.empty(num_features, dt)))
            )
            self.register_buffer(
                "num_batches_tracked", Tensor._wrap(xp.zeros((), backend.default_int))
            )
        else:
            self.register_buffer("running_mean", None)
            self.register_buffer("running_var", None)
            self.register_buffer("num_batches_tracked", None)

    def reset_running_stats(self) -> None:
        """Running mean 0, running variance 1, batch count 0.

        Example:
            >>> from gradfit.nn.normalization import BatchNorm1d
            >>> BatchNorm1d(3).reset_running_stats()
        """
        if self.track_running_stats:
            with no_grad():
                self.running_mean.zero_()
                self.running_var.fill_(1)
                self.num_batches_tracked.zero_()

    def reset_parameters(self) -> None:
        """Reset the running statistics, and weight to 1 and bias to 0.

        Example:
            >>> from gradfit.nn.normalization import BatchNorm1d
            >>> BatchNorm1d(3).reset_parameters()
        """
        self.reset_running_stats()
        with no_grad():
            if self.weight is not None:
                self.weight.fill_(1)
            if self.bias is not None:
                self.bias.zero_()

    def forward(self, x: Tensor) -> Tensor:
        if not isinstance(x, Tensor):
            raise TypeError(f"{self._layer_str()}: expected a gf.Tensor, got {type(x).__name__}")
        if x.ndim not in self._dims or x.shape[1] != self.num_features:
            raise self.input_shape_error(self._shapes.format(c=self.num_features), x.shape)
        factor = 0.0 if self.momentum is None else self.momentum
        if self.training and self.track_running_stats:
            with no_grad():
                self.num_batches_tracked.add_(1)
            if self.momentum is None:  # cumulative moving average
                factor = 1.0 / float(self.num_batches_tracked.item())
        use_batch = self.training or (self.running_mean is None and self.running_var is None)
        keep = not self.training or self.track_running_stats
        try:
            return batch_norm(
                x,
                self.running_mean if keep else None,
                self.running_var if keep else None,
                self.weight,
                self.bias,
                use_batch,
                factor,
                self.eps,
            )
        except (ValueError, TypeError) as e:
            raise type(e)(f"{self._layer_str()}: {e}") from None

    def extra_repr(self) -> str:
        return (
            f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, affine={self.affine}, "
            f"bias={self.bias is not None}, track_running_stats={self.track_running_stats}"
        )


class BatchNorm1d(_BatchNorm):
    """Batch normalisation over (N, C) or (N, C, L) inputs, per channel C.

    Args: num_features (C), eps=1e-5, momentum=0.1 (None: cumulative average),
    affine=True (learnable weight and bias), track_running_stats=True, dtype, and
    keyword-only bias=True (whether the affine part has a bias).

    Example:
        >>> import gradfit as gf
        >>> from gradfit.nn.normalization import BatchNorm1d
        >>> bn = BatchNorm1d(3, momentum=None)
        >>> _ = bn(gf.tensor([[0.0, 1.0, 2.0], [2.0, 3.0, 6.0]]))
        >>> bn.running_mean.tolist(), bn.running_var.tolist()
        ([1.0, 2.0, 4.0], [2.0, 2.0, 8.0])
        >>> bn(gf.randn(4, 5))
        Traceback (most recent call last):
        ...
        ValueError: BatchNorm1d(3, eps=1e-05, momentum=None, affine=True, bias=True, track_running_stats=True): expected input (N, 3) or (N, 3, L), got (4, 5)
    """

    _dims = (2, 3)
    _shapes = "(N, {c}) or (N, {c}, L)"


class BatchNorm2d(_BatchNorm):
    """Batch normalisation over (N, C, H, W) inputs, per channel C (see :class:`BatchNorm1d`).

    Example:
        >>> import gradfit as gf
        >>> from gradfit.nn.normalization import BatchNorm2d
        >>> bn = BatchNorm2d(4).eval()
        >>> bool((bn(gf.ones(2, 4, 3, 3)) == gf.ones(2, 4, 3, 3) / (1 + 1e-5) ** 0.5).all())
        True
    """

    _dims = (4,)
    _shapes = "(N, {c}, H, W)"


class LayerNorm(Module):
    """Normalise each sample over its trailing ``normalized_shape`` dimensions.

    Args: normalized_shape (int or tuple), eps=1e-5, elementwise_affine=True
    (learnable weight of ones and bias of zeros, of shape normalized_shape),
    bias=True (whether the affine part has a bias), dtype.

    Example:
        >>> import gradfit as gf
        >>> from gradfit.nn.normalization import LayerNorm
        >>> ln = LayerNorm(10)
        >>> ln
        LayerNorm((10,), eps=1e-05, elementwise_affine=True, bias=True)
        >>> ln(gf.randn(4, 7, 10)).shape
        (4, 7, 10)
        >>> ln(gf.randn(4, 7))
        Traceback (most recent call last):
        ...
        ValueError: LayerNorm((10,), eps=1e-05, elementwise_affine=True, bias=True): expected input (*, 10), got (4, 7)
    """

    def __init__(
        self,
        normalized_shape: int | tuple[int, ...] | list[int],
        eps: float = 1e-5,
        elementwise_affine: bool = True,
        bias: bool = True,
        dtype: Any = None,
    ) -> None:
        super().__init__()
        shape = (
            (normalized_shape,)
            if isinstance(normalized_shape, (int, np.integer))
            else normalized_shape
        )
        try:
            shape = tuple(int(s) for s in shape)
        except TypeError:
            raise TypeError(
                f"LayerNorm: normalized_shape must be an int or a tuple of ints, got {normalized_shape!r}"
            ) from None
        if not shape or any(s <= 0 for s in shape):
            raise ValueError(
                f"LayerNorm: normalized_shape must be positive sizes, got {normalized_shape!r}"
            )
        if not isinstance(eps, (int, float)) or eps < 0:
            raise ValueError(f"LayerNorm: eps must be a non-negative number, got {eps!r}")
        self.normalized_shape, self.eps = shape, eps
        self.elementwise_affine = bool(elementwise_affine)
        dt = backend.default_float if dtype is None else backend.to_dtype(dtype)
        if self.elementwise_affine:  # empty + gf.nn.init, so that skip_init writes nothing
            self.weight = Parameter(init.ones_(Tensor._wrap(backend.xp.empty(shape, dt))))
            if bias:
                self.bias = Parameter(init.zeros_(Tensor._wrap(backend.xp.empty(shape, dt))))
            else:
                self.register_parameter("bias", None)
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)

    def reset_parameters(self) -> None:
        """Weight 1, bias 0.

        Example:
            >>> from gradfit.nn.normalization import LayerNorm
            >>> LayerNorm(3).reset_parameters()
        """
        with no_grad():
            if self.weight is not None:
                self.weight.fill_(1)
            if self.bias is not None:
                self.bias.zero_()

    def forward(self, x: Tensor) -> Tensor:
        if not isinstance(x, Tensor):
            raise TypeError(f"{self._layer_str()}: expected a gf.Tensor, got {type(x).__name__}")
        nd = len(self.normalized_shape)
        if x.ndim < nd or tuple(x.shape[-nd:]) != self.normalized_shape:
            raise self.input_shape_error(
                f"(*, {', '.join(map(str, self.normalized_shape))})", x.shape
            )
        try:
            return layer_norm(x, self.normalized_shape, self.weight, self.bias, self.eps)
        except (ValueError, TypeError) as e:
            raise type(e)(f"{self._layer_str()}: {e}") from None

    def extra_repr(self) -> str:
        return (
            f"{self.normalized_shape}, eps={self.eps}, elementwise_affine={self.elementwise_affine}, "
            f"bias={self.bias is not None}"
        )


# ------------------------------------------------------------ group and instance normalisation
from gradfit.ops.group_norm import group_norm as _group_norm  # noqa: E402
from gradfit.ops.group_norm import instance_norm as _instance_norm  # noqa: E402


class GroupNorm(Module):
    """Normalise ``num_groups`` groups of channels per sample; affine per channel (ones/zeros).

    Example:
        >>> import gradfit as gf
        >>> gn = gf.nn.GroupNorm(2, 4)
        >>> gn
        GroupNorm(2, 4, eps=1e-05, affine=True, bias=True)
        >>> gn(gf.randn(3, 4, 5, 5)).shape
        (3, 4, 5, 5)
    """

    def __init__(
        self,
        num_groups: int,
        num_channels: int,
        eps: float = 1e-5,
        affine: bool = True,
        device: Any = None,
        dtype: Any = None,
        *,
        bias: bool = True,
    ) -> None:
        super().__init__()
        if num_groups <= 0 or num_channels % num_groups:
            raise ValueError(
                f"GroupNorm: num_channels ({num_channels}) must be divisible by num_groups ({num_groups})"
            )
        self.num_groups, self.num_channels, self.eps, self.affine = (
            num_groups,
            num_channels,
            eps,
            affine,
        )
        self.bias_enabled = bias
        dt = np.dtype(dtype) if dtype is not None else backend.default_float
        if affine:
            self.weight = Parameter(Tensor._wrap(np.ones(num_channels, dt)))
            if bias:
                self.bias = Parameter(Tensor._wrap(np.zeros(num_channels, dt)))
            else:
                self.register_parameter("bias", None)
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)

    def reset_parameters(self) -> None:
        """Weight to ones, bias to zeros."""
        if self.weight is not None:
            init.ones_(self.weight)
        if self.bias is not None:
            init.zeros_(self.bias)

    def forward(self, x: Tensor) -> Tensor:
        if not isinstance(x, Tensor):
            raise TypeError(f"{self._layer_str()}: expected a gf.Tensor, got {type(x).__name__}")
        if x.ndim < 2 or x.shape[1] != self.num_channels:
            raise self.input_shape_error(f"(N, {self.num_channels}, *)", x.shape)
        return _group_norm(x, self.num_groups, self.weight, self.bias, self.eps)

    def extra_repr(self) -> str:
        return (
            f"{self.num_groups}, {self.num_channels}, eps={self.eps}, affine={self.affine}, "
            f"bias={self.affine and self.bias_enabled}"
        )


class _InstanceNorm(Module):
    _dims = 1  # spatial dims of a batched input

    def __init__(
        self,
        num_features: int,
        eps: float = 1e-5,
        momentum: float = 0.1,
        affine: bool = False,
        track_running_stats: bool = False,
        device: Any = None,
        dtype: Any = None,
        *,
        bias: bool = True,
    ) -> None:
        super().__init__()
        self.num_features, self.eps, self.momentum = num_features, eps, momentum
        self.affine, self.track_running_stats = affine, track_running_stats
        self.bias_enabled = bias
        dt = np.dtype(dtype) if dtype is not None else backend.default_float
        if affine:
            self.weight = Parameter(Tensor._wrap(np.ones(num_features, dt)))
            if bias:
                self.bias = Parameter(Tensor._wrap(np.zeros(num_features, dt)))
            else:
                self.register_parameter("bias", None)
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)
        if track_running_stats:
            self.register_buffer("running_mean", Tensor._wrap(np.zeros(num_features, dt)))
            self.register_buffer("running_var", Tensor._wrap(np.ones(num_features, dt)))
            self.register_buffer(
                "num_batches_tracked", Tensor._wrap(np.zeros((), backend.default_int))
            )
        else:
            self.register_buffer("running_mean", None)
            self.register_buffer("running_var", None)
            self.register_buffer("num_batches_tracked", None)

    def forward(self, x: Tensor) -> Tensor:
        if not isinstance(x, Tensor):
            raise TypeError(f"{self._layer_str()}: expected a gf.Tensor, got {type(x).__name__}")
        d = self._dims
        if x.ndim not in (d + 1, d + 2):
            raise ValueError(
                f"{self._layer_str()}: expected {d + 1}D (unbatched) or {d + 2}D (batched) input, "
                f"got {x.ndim}D input of shape {x.shape}"
            )
        unbatched = x.ndim == d + 1
        if unbatched:
            x = x.unsqueeze(0)
        if x.shape[1] != self.num_features and self.affine:
            raise ValueError(
                f"{self._layer_str()}: expected input's size at dim=1 to match num_features "
                f"({self.num_features}), but got: {x.shape[1]}."
            )
        use_stats = self.training or not self.track_running_stats
        y = _instance_norm(
            x,
            self.running_mean if self.track_running_stats else None,
            self.running_var if self.track_running_stats else None,
            self.weight,
            self.bias,
            use_stats,
            self.momentum if self.momentum is not None else 0.0,
            self.eps,
        )
        return y.squeeze(0) if unbatched else y

    def extra_repr(self) -> str:
        return (
            f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, affine={self.affine}, "
            f"bias={self.affine and self.bias_enabled}, track_running_stats={self.track_running_stats}"
        )


class InstanceNorm1d(_InstanceNorm):
    """Instance normalisation of ``(N, C, L)`` or ``(C, L)`` inputs.

    Example:
        >>> import gradfit as gf
        >>> gf.nn.InstanceNorm1d(3)(gf.randn(2, 3, 5)).shape
        (2, 3, 5)
    """

    _dims = 1


class InstanceNorm2d(_InstanceNorm):
    """Instance normalisation of ``(N, C, H, W)`` or ``(C, H, W)`` inputs.

    Example:
        >>> import gradfit as gf
        >>> gf.nn.InstanceNorm2d(3)
        InstanceNorm2d(3, eps=1e-05, momentum=0.1, affine=False, bias=False, track_running_stats=False)
    """

    _dims = 2
