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


def _rowsum(a: np.ndarray) -> np.ndarray:
    """Sums over the last axis as a GEMV (several times faster than ``a.sum(-1)``)."""
    return a @ np.ones(a.shape[-1], a.dtype)


def _rowdot(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Dot products of matching last-axis rows of ``a`` and ``b`` (batched GEMM)."""
    return np.matmul(a[..., None, :], b[..., :, None])[..., 0, 0]


class GroupNorm(Function):
    def forward(self, x: np.ndarray, *wb: np.ndarray, num_groups: int, eps: float) -> np.ndarray:  # type: ignore[override]
        n, c = x.shape[0], x.shape[1]
        sp = int(np.prod(x.shape[2:]))
        m = c // num_groups * sp
        self.shape, self.g, self.sp = x.shape, num_groups, sp
        xg = x.reshape(n, num_groups, m)
        one = x.dtype.type(1)
        inv_m = one / x.dtype.type(max(m, 1))
        xc = xg - (_rowsum(xg) * inv_m)[..., None]
        var = _rowdot(xc, xc) * inv_m
        rstd = (one / np.sqrt(var + x.dtype.type(eps))).astype(x.dtype)[..., None]
        xc *= rstd
        xhat = xc.reshape(n, c, sp)
        w = wb[0] if wb else None
        self.saved = (xhat, rstd, w)
        if w is None:
            return xhat.reshape(x.shape)
        out = xhat * w.reshape(1, c, 1)
        if len(wb) > 1:
            out += wb[1].reshape(1, c, 1)
        return out.reshape(x.shape)

    def backward(self, grad: np.ndarray) -> tuple[Any, ...]:  # type: ignore[override]
        xhat, rstd, w = self.saved
        n, c = self.shape[0], self.shape[1]
        m = c // self.g * self.sp
        g = np.ascontiguousarray(grad).reshape(n, c, self.sp)
        needs = self.needs_input_grad
        out: list[Any] = [None] * len(needs)
        if w is not None and needs[1]:
            out[1] = _rowdot(g, xhat).sum(axis=0).astype(grad.dtype, copy=False)
        if len(needs) > 2 and needs[2]:
            out[2] = _rowsum(g).sum(axis=0).astype(grad.dtype, copy=False)
        if needs[0]:
            gx = g * w.reshape(1, c, 1) if w is not None else g.copy()
            gx = gx.reshape(n, self.g, m)
            xh = xhat.reshape(n, self.g, m)
            if m:
                inv_m = grad.dtype.type(1) / grad.dtype.type(m)
                mean_g = _rowsum(gx) * inv_m
                mean_gx = _rowdot(gx, xh) * inv_m
                tmp = xh * mean_gx[..., None]
                gx -= tmp
                gx -= mean_g[..., None]
                gx *= rstd
            out[0] = gx.reshape(self.shape)
        return tuple(out)

    def backward_graph(self, grad: Tensor) -> tuple[Any, ...]:
        """The backward with Tensor ops, from a stand-in for x: each group minus its mean,
        ``xhat / rstd`` (group norm is invariant to shifting a group by a constant, so the
        derivatives of every order are the same)."""
        xhat, rstd, w = self.saved
        n, c, sp, groups = self.shape[0], self.shape[1], self.sp, self.g
        m = c // groups * sp
        needs = self.needs_input_grad
        xc_arr = xhat.reshape(n, groups, m) / rstd
        # eps (not kept) as the part of 1 / rstd^2 that is not the variance: the value of
        # var + eps below is then 1 / rstd^2 to rounding, whatever the cancellation in eps
        eps = 1 / (rstd * rstd) - np.mean(xc_arr * xc_arr, axis=2, keepdims=True)
        xg = self.input_standin(0, xc_arr.reshape(self.shape)).reshape(n, groups, m)
        xc = xg - xg.mean(dim=2, keepdim=True)
        inv = ((xc * xc).mean(dim=2, keepdim=True) + Tensor._wrap(eps)) ** -0.5
        xh = xc * inv
        g = grad.reshape(n, c, sp)
        out: list[Any] = [None] * len(needs)
        if w is not None and needs[1]:
            out[1] = (g * xh.reshape(n, c, sp)).sum(dim=(0, 2))
        if len(needs) > 2 and needs[2]:
            out[2] = g.sum(dim=(0, 2))
        if needs[0]:
            gxh = g if w is None else g * self.input_tensor(1, w).reshape(1, c, 1)
            gxh = gxh.reshape(n, groups, m)
            gx = gxh - gxh.mean(dim=2, keepdim=True) - xh * (gxh * xh).mean(dim=2, keepdim=True)
            out[0] = (gx * inv).reshape(self.shape)
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
