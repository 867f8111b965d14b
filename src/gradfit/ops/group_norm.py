"""Group and instance normalisation (PyTorch's ``F.group_norm`` and ``F.instance_norm``).

``group_norm`` is one fused :class:`Function`: forward keeps the normalised input and the
per-group inverse standard deviation; backward gives the input, weight and bias gradients
in one pass over the groups.

Example:
    >>> import gradfit as gf
    >>> import gradfit.nn.functional as F
    >>> y = F.group_norm(gf.randn(2, 4, 3), 2)
    >>> round(float(y[0, :2].mean()), 4), y.shape
    (0.0, (2, 4, 3))
"""

from __future__ import annotations

from typing import Any

import numpy as np

from gradfit.autograd import Function
from gradfit.tensor import Tensor


class GroupNorm(Function):
    def forward(self, x: np.ndarray, *wb: np.ndarray, num_groups: int, eps: float) -> np.ndarray:  # type: ignore[override]
        n, c = x.shape[0], x.shape[1]
        sp = int(np.prod(x.shape[2:]))
        self.sp = sp
        xg = x.reshape(n, num_groups, c // num_groups * sp)
        mean = xg.mean(axis=2, keepdims=True)
        xc = xg - mean
        var = np.einsum("ngm,ngm->ng", xc, xc)[..., None] / xc.shape[2] if xc.shape[2] else mean
        rstd = (1.0 / np.sqrt(var + x.dtype.type(eps))).astype(x.dtype)
        xhat = (xc * rstd).reshape(n, c, sp)
        self.shape, self.g = x.shape, num_groups
        if wb:
            w = wb[0].reshape(1, c, 1)
            out = xhat * w
            if len(wb) > 1:
                out += wb[1].reshape(1, c, 1)
            self.saved = (xhat, rstd, wb[0])
        else:
            out = xhat
            self.saved = (xhat, rstd, None)
        return out.reshape(x.shape)

    def backward(self, grad: np.ndarray) -> tuple[Any, ...]:  # type: ignore[override]
        xhat, rstd, w = self.saved
        n, c = self.shape[0], self.shape[1]
        g = grad.reshape(n, c, self.sp)
        needs = self.needs_input_grad
        out: list[Any] = [None] * len(needs)
        if w is not None and needs[1]:
            out[1] = np.einsum("ncm,ncm->c", g, xhat).astype(grad.dtype)
        if len(needs) > 2 and needs[2]:
            out[2] = g.sum(axis=(0, 2)).astype(grad.dtype)
        if needs[0]:
            gx = g * w.reshape(1, c, 1) if w is not None else g
            gx = gx.reshape(n, self.g, c // self.g * self.sp)
            xh = xhat.reshape(n, self.g, c // self.g * self.sp)
            m = gx.shape[2]
            if m:
                mean_g = gx.mean(axis=2, keepdims=True)
                mean_gx = np.einsum("ngm,ngm->ng", gx, xh)[..., None] / gx.dtype.type(m)
                dx = (gx - mean_g - xh * mean_gx) * rstd
            else:
                dx = gx
            out[0] = dx.reshape(self.shape).astype(grad.dtype, copy=False)
        return tuple(out)


def _check_affine(p: Any, c: int, op: str, name: str) -> None:
    if p is not None:
        if not isinstance(p, Tensor):
            raise TypeError(f"{op}: {name} must be a gf.Tensor or None, got {type(p).__name__}")
        if p.shape != (c,):
            raise RuntimeError(f"{op}: expected {name} of shape ({c},), got {p.shape}")


def group_norm(
    input: Tensor,  # noqa: A002
    num_groups: int,
    weight: Tensor | None = None,
    bias: Tensor | None = None,
    eps: float = 1e-5,
) -> Tensor:
    """Normalise each group of ``num_groups`` channel groups over its channels and positions.

    Input ``(N, C, *)``; ``weight``/``bias`` of shape ``(C,)``.

    Example:
        >>> import gradfit as gf
        >>> gf.nn.functional.group_norm(gf.tensor([[[1.0], [3.0]]]), 1)
        tensor([[[-1.],
                 [ 1.]]])
    """
    op = "group_norm"
    if not isinstance(input, Tensor):
        raise TypeError(f"{op}: expected a gf.Tensor, got {type(input).__name__}")
    if input.ndim < 2:
        raise RuntimeError(
            f"{op}: expected input of shape (N, C, *) with at least 2 dims, got {input.shape}"
        )
    c = input.shape[1]
    if num_groups <= 0 or c % num_groups:
        raise RuntimeError(
            f"{op}: expected number of channels in input ({c}) to be divisible by num_groups ({num_groups})"
        )
    _check_affine(weight, c, op, "weight")
    _check_affine(bias, c, op, "bias")
    if weight is None and bias is not None:
        from gradfit.creation import ones

        weight = ones(c, dtype=input.dtype)
    args = [t for t in (weight, bias) if t is not None]
    return GroupNorm.apply(input, *args, num_groups=num_groups, eps=eps)


def instance_norm(
    input: Tensor,  # noqa: A002
    running_mean: Tensor | None = None,
    running_var: Tensor | None = None,
    weight: Tensor | None = None,
    bias: Tensor | None = None,
    use_input_stats: bool = True,
    momentum: float = 0.1,
    eps: float = 1e-5,
) -> Tensor:
    """Normalise every (sample, channel) over its positions; input ``(N, C, *)``.

    With ``use_input_stats`` and running statistics given, these are updated in place
    with the mean over the batch of the per-instance mean and unbiased variance.

    Example:
        >>> import gradfit as gf
        >>> gf.nn.functional.instance_norm(gf.tensor([[[1.0, 3.0]]]))
        tensor([[[-1.,  1.]]])
    """
    op = "instance_norm"
    if not isinstance(input, Tensor):
        raise TypeError(f"{op}: expected a gf.Tensor, got {type(input).__name__}")
    if input.ndim < 3:
        raise ValueError(
            f"{op}: expected input of shape (N, C, *) with at least 3 dims, got {input.shape}"
        )
    n, c = input.shape[0], input.shape[1]
    if use_input_stats:
        spatial = int(np.prod(input.shape[2:]))
        if spatial <= 1:
            raise ValueError(
                f"{op}: expected more than 1 spatial element when training, got input size {input.shape}"
            )
        if running_mean is not None or running_var is not None:
            x = input._data.reshape(n, c, -1)
            m = input._data.dtype.type(momentum)
            if running_mean is not None:
                rm = running_mean._data
                rm *= 1 - m
                rm += m * x.mean(axis=(0, 2)).astype(rm.dtype)
                running_mean._version[0] += 1
            if running_var is not None:
                rv = running_var._data
                rv *= 1 - m
                rv += m * x.var(axis=2, ddof=1).mean(axis=0).astype(rv.dtype)
                running_var._version[0] += 1
        return group_norm(input.reshape((n, c, -1)), c, weight, bias, eps).reshape(input.shape)
    if running_mean is None or running_var is None:
        raise ValueError(f"{op}: expected running_mean and running_var when use_input_stats=False")
    shape = (1, c) + (1,) * (input.ndim - 2)
    y = (input - running_mean.reshape(shape)) / (running_var.reshape(shape) + eps).sqrt()
    if weight is not None:
        y = y * weight.reshape(shape)
    if bias is not None:
        y = y + bias.reshape(shape)
    return y


__all__ = ["group_norm", "instance_norm"]
