"""Group and instance normalisation (PyTorch's ``F.group_norm`` and ``F.instance_norm``).

``group_norm`` is one fused :class:`Function`: forward keeps the input and the per-group
mean and inverse standard deviation; backward gives the input, weight and bias gradients
from two sums per channel.

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

from gradfit import kernels, threads
from gradfit.autograd import Function
from gradfit.tensor import Tensor


def _rowsum(a: np.ndarray) -> np.ndarray:
    """Sums over the last axis as a GEMV (several times faster than ``a.sum(-1)``)."""
    return a @ np.ones(a.shape[-1], a.dtype)


def _rowdot(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Dot products of matching last-axis rows of ``a`` and ``b`` (batched GEMM)."""
    return np.matmul(a[..., None, :], b[..., :, None])[..., 0, 0]


# One-pass variance E[x^2] - mean^2 loses about log10(ratio) digits when mean^2 / var is
# large; above this ratio a group's variance is recomputed from the centred values.
_CANCEL = 64.0


def _moments(
    xg: np.ndarray, s1: np.ndarray, eps: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Mean and ``1 / sqrt(var + eps)`` in float64 of each row of ``xg`` (N*G, m), given
    the float32 sums ``s1`` of its rows, and the rows whose variance needed the second pass."""
    m = xg.shape[1]
    mean = s1.astype(np.float64) / m
    var = _rowdot(xg, xg).astype(np.float64) / m - mean * mean
    rows = np.flatnonzero(mean * mean > _CANCEL * np.maximum(var, 0.0))
    if rows.size:
        xc = xg[rows] - mean[rows, None].astype(xg.dtype)
        var[rows] = _rowdot(xc, xc).astype(np.float64) / m
    return mean, 1.0 / np.sqrt(np.maximum(var, 0.0) + eps), rows


class _Rows:
    """Broadcasting over rows of ``length`` elements at NumPy's full speed.

    With rows shorter than its ufunc buffer (8192 elements), NumPy 2 copies the rows of a
    broadcast operand into buffers, which makes ``a (R, L) * b (R, 1)`` about twice as
    slow as ``a * a``; a buffer no longer than a row turns that off. The setting lives in
    NumPy's errstate context, so it is restored on exit and other threads never see it.
    """

    def __init__(self, length: int) -> None:
        self.size = max(16, min(length, 8192) // 16 * 16)  # NumPy wants a multiple of 16

    def __enter__(self) -> None:
        self.state = np.errstate()
        self.state.__enter__()
        np.setbufsize(self.size)

    def __exit__(self, *exc: object) -> None:
        self.state.__exit__(*exc)


def _channel_sums(
    dy: np.ndarray, x2: np.ndarray, mean: np.ndarray, bad: np.ndarray, cpg: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Sums over each channel's positions (rows of ``dy`` and ``x2``, (N * C, S)) of dy and of
    dy * (x - shift), and the shift (N, G, 1) float64: 0, or the mean in the offset groups
    ``bad``, where E[dy * x] - mean * E[dy] would cancel."""
    sdy, sdot = _rowsum(dy), _rowdot(dy, x2)
    shift = np.zeros(mean.shape)
    if bad.size:
        ch = (bad[:, None] * cpg + np.arange(cpg)).ravel()
        shift.reshape(-1)[bad] = mean.reshape(-1)[bad]
        xc = x2[ch] - np.repeat(mean.reshape(-1)[bad], cpg)[:, None].astype(x2.dtype)
        sdot[ch] = _rowdot(dy[ch], xc)
    return sdy, sdot, shift


def _use_kernels(x: np.ndarray) -> bool:
    """The compiled kernels run this input: float32/64, not empty, and more than one position
    a channel (the kernels loop over a channel's positions: one position a loop is slower
    than the NumPy path, whose sums are then BLAS calls over the groups' rows)."""
    return (
        x.dtype in (np.float32, np.float64)
        and x.size > x.shape[0] * x.shape[1]
        and kernels.enabled()
    )


def _sample_spans(n: int, nbytes: int) -> list[tuple[int, int]]:
    """Ranges of samples, one per pool thread when the input is large (>= 1 MiB)."""
    k = threads.workers(n) if nbytes >= 1 << 20 else 1
    return [(n * i // k, n * (i + 1) // k) for i in range(k)]


def _kernel_forward(
    x: np.ndarray,
    w: np.ndarray | None,
    b: np.ndarray | None,
    mean: np.ndarray,
    rstd: np.ndarray,
    g: int,
    out: np.ndarray,
) -> None:
    """``out = (x - mean) * rstd * w + b`` by the compiled kernel, batch chunks on the pool."""
    from gradfit.kernels import group_norm as kgn

    n, c = x.shape[0], x.shape[1]
    dt = x.dtype
    x2 = x.reshape(n * c, -1)
    o2 = out.reshape(x2.shape)
    w1 = np.ones(c, dt) if w is None else np.ascontiguousarray(w, dtype=dt)
    b1 = np.zeros(c, dt) if b is None else np.ascontiguousarray(b, dtype=dt)

    def part(a: int, z: int) -> None:
        rows, grp = slice(a * c, z * c), slice(a * g, z * g)
        kgn.forward(x2[rows], w1, b1, c // g, mean[grp], rstd[grp], o2[rows])

    spans = _sample_spans(n, x.nbytes)
    threads.run_all([lambda a=a, z=z: part(a, z) for a, z in spans])


def _kernel_backward(
    x2: np.ndarray,
    dy: np.ndarray,
    mean: np.ndarray,
    rstd: np.ndarray,
    w: np.ndarray | None,
    sdy: np.ndarray,
    sdot: np.ndarray,
    shift: np.ndarray,
    shape: tuple[int, ...],
    g: int,
    need_dx: bool,
) -> tuple[np.ndarray | None, np.ndarray]:
    """dx (if needed) and the (2, C) float64 gradients of weight and bias by the compiled
    kernel from the sums per channel, batch chunks on the pool."""
    from gradfit.kernels import group_norm as kgn

    c = shape[1]
    n, dt = shape[0], x2.dtype
    dx = np.empty(shape, dt) if need_dx else None  # not a view: the engine keeps it as is
    d2 = dx.reshape(x2.shape) if dx is not None else np.empty((0, x2.shape[1]), dt)
    w1 = np.ones(c, dt) if w is None else np.ascontiguousarray(w, dtype=dt)
    spans = _sample_spans(n, x2.nbytes)
    dwb = np.empty((n, 2, c))

    def part(a: int, z: int) -> None:
        rows, grp = slice(a * c, z * c), slice(a * g, z * g)
        kgn.backward(
            x2[rows], dy[rows], c // g, mean[grp], rstd[grp], w1, sdy[rows], sdot[rows],
            shift[grp], d2[rows] if need_dx else d2, dwb[a:z],
        )  # fmt: skip

    threads.run_all([lambda a=a, z=z: part(a, z) for a, z in spans])
    return dx, dwb.sum(0)  # the same sums whatever the threads


def _per_channel(v: np.ndarray, sp: int, dt: Any) -> np.ndarray:
    """A (C,) vector repeated over the ``sp`` positions of each channel: (1, C * sp)."""
    return np.repeat(v.astype(dt, copy=False), sp)[None]


class GroupNorm(Function):
    # torch's CPU algorithm in NumPy passes over contiguous rows: forward centres and
    # scales each group's row (N*G rows of C/G * positions elements), then applies the
    # affine as a (1, C * positions) row over the N samples; backward needs only two sums
    # per channel (of dy and of dy * (x - mean)) and gives dx = rstd * w * dy + c2 * x + c3
    # with c2, c3 per group. It saves the input itself (no normalised copy) and the
    # float64 statistics of each group. With compiled kernels (gradfit.kernels.group_norm;
    # NumPy's per-row overhead on broadcasts over short rows held the NumPy passes at ~1.8x
    # torch), the sums stay the same BLAS calls and each direction's elementwise work is
    # one kernel pass: forward's normalise-and-affine, backward's dx (centred on the mean,
    # so offset groups need no second formula there).
    def forward(self, x: np.ndarray, *wb: np.ndarray, num_groups: int, eps: float) -> np.ndarray:  # type: ignore[override]
        n, c = x.shape[0], x.shape[1]
        sp = int(np.prod(x.shape[2:]))
        g = num_groups
        self.g, self.sp = g, sp
        x = np.ascontiguousarray(x)
        dt = x.dtype
        out = np.empty(x.shape, dt)
        w = wb[0] if wb else None
        if x.size == 0:
            self.saved = (x, np.zeros((n, g, 1)), np.zeros((n, g, 1)), w, None)
            return out
        xg = x.reshape(n * g, -1)
        s1 = _rowsum(x.reshape(n * c, sp)).reshape(n * g, -1).sum(1)
        mean, rstd, bad = _moments(xg, s1, eps)
        self.saved = (x, mean.reshape(n, g, 1), rstd.reshape(n, g, 1), w, bad)
        if _use_kernels(x):
            _kernel_forward(x, w, wb[1] if len(wb) > 1 else None, mean, rstd, g, out)
            return out
        og, o3 = out.reshape(n * g, -1), out.reshape(n, c * sp)
        with _Rows(xg.shape[1]):
            np.subtract(xg, mean.astype(dt)[:, None], out=og)
            og *= rstd.astype(dt)[:, None]
        if w is not None:
            o3 *= _per_channel(w, sp, dt)
        if len(wb) > 1:
            o3 += _per_channel(wb[1], sp, dt)
        return out

    def backward(self, grad: np.ndarray) -> tuple[Any, ...]:  # type: ignore[override]
        x, mean, rstd, w, bad = self.saved
        n, c, g, sp = x.shape[0], x.shape[1], self.g, self.sp
        needs = self.needs_input_grad
        out: list[Any] = [None] * len(needs)
        dt = grad.dtype
        if x.size == 0:
            if needs[0]:
                out[0] = np.zeros(x.shape, dt)
            for i in range(1, len(needs)):
                if needs[i]:
                    out[i] = np.zeros(c, dt)
            return tuple(out)
        if _use_kernels(x):
            return self._kernel_backward(grad)
        cpg = c // g
        dy = np.ascontiguousarray(grad).reshape(n * c, sp)
        x2 = x.reshape(n * c, sp)
        # per-channel sums in float64 from here on, (n, g, c // g): of dy and of dy * (x - mean)
        sums = _channel_sums(dy, x2, mean, bad, cpg)
        sdy = sums[0].reshape(n, g, cpg).astype(np.float64)
        sdyx = sums[1].reshape(n, g, cpg).astype(np.float64) - (mean - sums[2]) * sdy
        if len(needs) > 2 and needs[2]:
            out[2] = sdy.sum(0).reshape(c).astype(dt)
        if w is not None and needs[1]:
            out[1] = (rstd * sdyx).sum(0).reshape(c).astype(dt)
        if needs[0]:
            m = cpg * sp
            wg = w.reshape(1, g, cpg).astype(np.float64) if w is not None else np.ones((1, g, cpg))
            c2 = -(sdyx * wg).sum(2, keepdims=True) * rstd**3 / m  # (n, g, 1)
            db = (sdy * wg).sum(2, keepdims=True) * rstd / m
            c3 = -c2 * mean - db
            dx = np.empty(x.shape, dt)
            d3, dy3 = dx.reshape(n, c * sp), dy.reshape(n, c * sp)
            if w is not None:
                np.multiply(dy3, _per_channel(w, sp, dt), out=d3)
            else:
                np.copyto(d3, dy3)
            xg, dg = x.reshape(n * g, m), dx.reshape(n * g, m)
            with _Rows(m):
                dg *= rstd.reshape(n * g, 1).astype(dt)
                tmp = np.multiply(xg, c2.reshape(n * g, 1).astype(dt))
                tmp += c3.reshape(n * g, 1).astype(dt)
                dg += tmp
            if bad.size:  # x * c2 + c3 cancels there too: (x - mean) * c2 - db instead
                xc = xg[bad] - mean.reshape(-1)[bad, None].astype(x.dtype)
                xc *= c2.reshape(-1)[bad, None].astype(dt)
                xc -= db.reshape(-1)[bad, None].astype(dt)
                wr = dy.reshape(n * g, m)[bad]
                if w is not None:
                    wr = wr * _per_channel(w, sp, dt).reshape(g, m)[bad % g]
                wr *= rstd.reshape(-1)[bad, None].astype(dt)
                dg[bad] = wr + xc
            out[0] = dx
        return tuple(out)

    def _kernel_backward(self, grad: np.ndarray) -> tuple[Any, ...]:
        """backward with the compiled kernel: BLAS's sums per channel, then one pass."""
        x, mean, rstd, w, bad = self.saved
        n, c, g, sp = x.shape[0], x.shape[1], self.g, self.sp
        needs = self.needs_input_grad
        dy = np.ascontiguousarray(grad, dtype=x.dtype).reshape(n * c, sp)
        x2 = x.reshape(n * c, sp)
        sdy, sdot, shift = _channel_sums(dy, x2, mean, bad, c // g)
        mean, rstd, shift = mean.reshape(-1), rstd.reshape(-1), shift.reshape(-1)
        dx, dwb = _kernel_backward(x2, dy, mean, rstd, w, sdy, sdot, shift, x.shape, g, needs[0])
        out: list[Any] = [None] * len(needs)
        out[0] = dx
        if w is not None and needs[1]:
            out[1] = dwb[0].astype(grad.dtype)
        if len(needs) > 2 and needs[2]:
            out[2] = dwb[1].astype(grad.dtype)
        return tuple(out)

    def backward_graph(self, grad: Tensor) -> tuple[Any, ...]:
        """The backward with Tensor ops, recomputing the normalisation from the saved input."""
        x, mean, rstd, w, _ = self.saved
        n, c, sp, groups = x.shape[0], x.shape[1], self.sp, self.g
        m = c // groups * sp
        needs = self.needs_input_grad
        xc_arr = x.reshape(n, groups, m) - mean
        # eps (not kept) as the part of 1 / rstd^2 that is not the variance: the value of
        # var + eps below is then 1 / rstd^2 to rounding, whatever the cancellation in eps
        eps = (1 / (rstd * rstd) - np.mean(xc_arr * xc_arr, axis=2, keepdims=True)).astype(x.dtype)
        xg = self.input_standin(0, x).reshape(n, groups, m)
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
            out[0] = (gx * inv).reshape(x.shape)
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
