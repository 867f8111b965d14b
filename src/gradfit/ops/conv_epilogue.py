"""A convolution followed by ReLU (and, 2-D, 2x2 max pooling), fused chunk by chunk.

``Conv2d -> ReLU -> MaxPool2d(2)`` is the body of most small CNNs (LeNet, the MNIST
example). Run one op at a time, the ReLU and the pooling each read and write the whole
convolution output, from memory, in parallel regions of their own: in a LeNet step at
two threads that is 3.5-4.7 ms of 25-30 and eight of the twelve parallel regions, and
it gains nothing from the second thread (memory-bound; each region costs two thread
wake-ups on a VM).

Here the convolution (:class:`gradfit.ops.conv.ConvNd`) applies them to each chunk of its
output while the chunk is still in cache, inside the chunk's task on the thread pool:
the ReLU as it moves the chunk from its GEMM layout to NCHW (``np.maximum``, as
:func:`gradfit.relu`, or the same select in the compiled finish), then the pooling with the
compiled 2x2 kernel (as :func:`gradfit.nn.functional.max_pool2d`). The graph is the one
the three ops would record: a ``ConvNd`` node, a ``ReLU`` node and a ``MaxPool2d`` node,
each saving what it saves unfused (:meth:`gradfit.autograd.Function.record`), so
``grad_fn``, graph drawings and double backward are unchanged.

The backward is fused too. In the engine's walk (:func:`gradfit.autograd.walking`), the
pooling's and the ReLU's nodes only pass the output gradient on to the convolution's node
(:meth:`Epilogue.deferred`); it makes, chunk by chunk, the gradient of its output (the
pooled gradient scattered to each window's maximum, then zero where the ReLU's output is
``<= 0``: :mod:`gradfit.kernels.epilogue`) in its GEMM layout. The values are the ones the
unfused ops give (tested bit for bit). A node's ``backward`` called by hand, or with the
compiled kernels turned off since the forward, computes as unfused. The hand-over only
happens between tensors nobody else holds: :class:`gradfit.nn.Sequential` fuses only
exact ``Conv2d``/``Conv1d``, ``ReLU`` and ``MaxPool2d`` members without hooks (see
:meth:`gradfit.nn.Conv2d._fuse_next`), and the MNIST-1D model
(:class:`gradfit.models.CNN1d`) its convolutions and their ReLUs.

Example:
    >>> import gradfit as gf
    >>> x = gf.randn(2, 1, 8, 8)
    >>> w = gf.randn(4, 1, 3, 3, requires_grad=True)
    >>> y, pooled = conv_relu(2, x, w, None, 1, 1, 1, 1, pool=(2, None, 0, 1, False))
    >>> y.shape, pooled
    ((2, 4, 4, 4), True)
    >>> ref = gf.nn.functional.max_pool2d(gf.relu(gf.nn.functional.conv2d(x, w, padding=1)), 2)
    >>> bool((y == ref).all())
    True
"""

from __future__ import annotations

from typing import Any

import numpy as np

from gradfit import kernels
from gradfit.autograd import walking
from gradfit.kernels.epilogue import relu_grad_cn, relu_pool_grad
from gradfit.kernels.pool import max_pool_2x2
from gradfit.ops.conv import ConvNd, _compiled, _conv_args, _plan, conv1d, conv2d
from gradfit.ops.pool import MaxPool2d, fusable_geometry
from gradfit.ops.unary import ReLU, relu
from gradfit.tensor import Tensor

_NO_ARG = np.zeros((1, 1), np.int32)  # the maxima's indices where nothing is pooled (unread)
_ZEROS: dict[Any, np.ndarray] = {}  # one zero per dtype, the memory of every stand-in


def _zero(dtype: Any) -> np.ndarray:
    """A one-element zero of ``dtype`` (kept; only read-only views of it are handed out)."""
    z = _ZEROS.get(dtype)
    if z is None:
        z = np.zeros(1, dtype)
        z.flags.writeable = False  # so no view of it can be made writeable
        z = _ZEROS.setdefault(dtype, z)
    return z


class Epilogue:
    """The ReLU, and optionally a 2x2 max pooling, of one convolution's output, by chunks.

    The convolution calls :meth:`start` with its (N, C, H, W) output, then
    :meth:`forward_chunk` for each chunk of samples it has written (with the ReLU applied
    on the way: ``_Work(relu=True)`` in :mod:`gradfit.ops.conv`). Its backward asks
    :meth:`deferred` whether the gradient it got is the stand-in handed on by the ReLU's
    node (then the fused backward runs: :meth:`begin_backward`, :meth:`grad_into` per
    chunk, :meth:`end_backward`).

    Example:
        >>> import gradfit as gf
        >>> from gradfit.ops.pool import fusable_geometry
        >>> res = gf.arange(16.0).reshape(1, 1, 4, 4).numpy()
        >>> ep = Epilogue(fusable_geometry((4, 4), 2, None, 0, 1, False, res.dtype))
        >>> ep.start(res)
        >>> if ep.geo is not None:  # the compiled 2x2 kernel (numba installed)
        ...     ep.forward_chunk(res, 0, 1)
        ...     print(ep.pooled.tolist())
        ... else:
        ...     print([[[[5.0, 7.0], [13.0, 15.0]]]])
        [[[[5.0, 7.0], [13.0, 15.0]]]]
    """

    __slots__ = ("arg", "bufs", "geo", "grad", "hole", "out", "pooled", "shape")

    def __init__(self, geo: Any) -> None:
        self.geo = geo  # the pooling's geometry (gradfit.ops.pool), or None: ReLU only
        self.out = self.pooled = self.arg = self.grad = self.hole = self.bufs = None
        self.shape: Any = None  # the convolution's output as recorded ((N, C, L) for 1-D)

    def start(self, res: np.ndarray) -> None:
        """Allocate the pooled output and the maxima's indices for the (N, C, H, W) ``res``."""
        self.out = res
        if self.geo is not None:
            N, C = res.shape[:2]
            oh, ow = self.geo.out
            self.pooled = np.empty((N, C, oh, ow), res.dtype)
            self.arg = np.empty((N * C, oh, ow), np.int32)

    def forward_chunk(self, res: np.ndarray, n0: int, n1: int) -> None:
        """Pool samples ``n0:n1`` of ``res`` (the convolution wrote them with the ReLU applied)."""
        if self.geo is not None:
            r = res[n0:n1]
            n, C, H, W = r.shape
            oh, ow = self.geo.out
            max_pool_2x2(r.reshape(n * C, H, W), self.pooled[n0:n1].reshape(n * C, oh, ow),
                         self.arg[n0 * C : n1 * C])  # fmt: skip

    # ----------------------------------------------------------------- backward hand-over

    def defer_pool(self, grad: np.ndarray) -> tuple[np.ndarray] | None:
        """The pooling node's backward in the engine's walk: keep ``grad`` (the pooled
        output's), hand on a stand-in. None outside a walk (a node's ``backward`` called by
        hand) or with the compiled kernels turned off since the forward: the node then
        computes its gradient itself."""
        if not walking() or not kernels.enabled():  # by hand, or NumPy paths only now
            return None
        self.grad = grad
        return (self._hole(),)

    def defer_relu(self, grad: np.ndarray) -> tuple[np.ndarray] | None:
        """The ReLU node's backward in the engine's walk: pass the pooling's stand-in on, or
        without pooling keep ``grad`` and hand on a stand-in. None where the node must
        compute its gradient itself (outside a walk, or given a real gradient)."""
        if not walking() or not kernels.enabled():
            return None
        if self.geo is None:
            self.grad = grad
            return (self._hole(),)
        return (grad,) if grad is self.hole else None

    def _hole(self) -> np.ndarray:
        """A stand-in for the convolution output's gradient (zeros, no memory, read-only)."""
        shape = self.out.shape if self.shape is None else self.shape
        zero = _zero(self.out.dtype)  # a zero-strided view made directly (broadcast_to: 4 us more)
        self.hole = np.ndarray(shape, zero.dtype, buffer=zero, strides=(0,) * len(shape))
        return self.hole  # (read-only, as its buffer)

    def deferred(self, grad: np.ndarray) -> bool:
        """Whether ``grad`` is the stand-in: the real gradient is made by :meth:`grad_into`."""
        return grad is self.hole and self.grad is not None

    def begin_backward(self, slots: int, nmax: int, rows: bool) -> None:
        """Before the chunks: the kept gradient as contiguous planes; for the row layout
        (``rows``) one NCHW buffer of ``nmax`` samples per thread."""
        self.grad = np.ascontiguousarray(self.grad)
        _, C, H, W = self.out.shape
        self.bufs = [
            np.empty(nmax * C * H * W, self.out.dtype) for _ in range(slots if rows else 0)
        ]

    def grad_into(self, n0: int, n1: int, gt: np.ndarray, rows: bool, slot: int) -> None:
        """Write the gradient of the convolution's output for samples ``n0:n1`` into ``gt``,
        the chunk in the convolution's GEMM layout: (C, n, H, W), or with ``rows`` (C, H, n,
        W). The pooled gradient scattered to the maxima (or the ReLU's output gradient),
        zero where the ReLU's output is ``<= 0``: one pass per plane
        (:func:`gradfit.kernels.epilogue.relu_pool_grad`), straight into ``gt`` or, for the
        row layout, into the thread's NCHW buffer and then copied."""
        _, C, H, W = self.out.shape
        n = n1 - n0
        if not rows:
            self._planes(n0, n1, gt.reshape(C, n, H * W), True)
            return
        buf = self.bufs[slot][: n * C * H * W].reshape(n, C, H * W)
        self._planes(n0, n1, buf, False)
        np.copyto(gt, buf.reshape(n, C, H, W).transpose(1, 2, 0, 3))

    def whole_grad(self) -> np.ndarray:
        """The gradient of the convolution's whole (N, C, H, W) output at once (for a
        backward that needs it whole: only the bias learns)."""
        self.grad = np.ascontiguousarray(self.grad)
        N, C, H, W = self.out.shape
        res = np.empty((N, C, H * W), self.out.dtype)
        self._planes(0, N, res, False)
        return res.reshape(N, C, H, W)

    def _planes(self, n0: int, n1: int, dst: np.ndarray, cn: bool) -> None:
        """Samples ``n0:n1`` of the output gradient, one (sample, channel) plane at a time,
        into ``dst`` (C, n, H * W) with ``cn``, else (n, C, H * W)."""
        _, C, H, W = self.out.shape
        n = n1 - n0
        if self.geo is None and cn:  # ReLU only, into the (C, n, L) layout: one loop
            L = H * W
            relu_grad_cn(self.grad[n0:n1].reshape(n, C, L), self.out[n0:n1].reshape(n, C, L), dst)
            return
        P = n * C
        out = self.out[n0:n1].reshape(P, H * W)
        if self.geo is not None:
            oh, ow = self.geo.out
            g = self.grad[n0:n1].reshape(P, oh * ow)
            arg = self.arg[n0 * C : n1 * C].reshape(P, oh * ow)
        else:
            g, arg = self.grad[n0:n1].reshape(P, H * W), _NO_ARG
        relu_pool_grad(g, arg, self.geo is not None, out, dst, cn)

    def end_backward(self, keep: bool) -> None:
        """Drop the kept gradient and buffers; without ``keep`` (retain_graph) the saved arrays."""
        self.grad = self.hole = self.bufs = None
        if not keep:
            self.out = self.arg = None


def conv_relu(
    nsp: int,
    input: Tensor,  # noqa: A002 - PyTorch's name
    weight: Tensor,
    bias: Tensor | None,
    stride: Any,
    padding: Any,
    dilation: Any,
    groups: int,
    pool: tuple[Any, ...] | None = None,
) -> tuple[Tensor, bool]:
    """``relu(conv1d(...))`` (``nsp`` 1) or ``relu(conv2d(...))`` (2), then for 2-D
    ``max_pool2d(..., *pool)`` if ``pool`` is given and the pooling is a 2x2 one of stride
    2 that the compiled kernels run; fused where they can be.

    Returns the result and whether the pooling was done (if not, the caller pools). The
    arguments are :func:`gradfit.nn.functional.conv2d`'s (``conv1d``'s); ``pool`` is
    ``(kernel_size, stride, padding, dilation, ceil_mode)``. Without numba, for other
    dtypes or unbatched inputs, the ops run one after the other (the same values).

    Example:
        >>> import gradfit as gf
        >>> y, pooled = conv_relu(2, gf.randn(1, 2, 6, 6), gf.randn(3, 2, 3, 3), None, 1, 0, 1, 1)
        >>> y.shape, pooled, bool((y >= 0).all())
        ((1, 3, 4, 4), False, True)
        >>> conv_relu(1, gf.randn(2, 2, 9), gf.randn(3, 2, 3), None, 2, 1, 1, 1)[0].shape
        (2, 3, 5)
    """
    op = "conv1d" if nsp == 1 else "conv2d"
    x, args, opts, unbatched = _conv_args(op, nsp, input, weight, bias, stride, padding,
                                          dilation, groups)  # fmt: skip
    dt = x._data.dtype
    if unbatched or not _compiled(dt):
        conv = conv1d if nsp == 1 else conv2d
        return relu(conv(input, weight, bias, stride, padding, dilation, groups)), False
    geo = None
    if pool is not None and nsp == 2:
        p = _plan(x.shape, opts["pads"], weight.shape, opts["stride"], opts["dilation"],
                  opts["groups"])  # fmt: skip
        geo = fusable_geometry((p.OH, p.OW), *pool, dt)
    ep = Epilogue(geo)
    c = ConvNd.apply(x, *args, **opts, epilogue=ep)
    out = c._data  # (N, C, L) for 1-D: a view of the (N, C, 1, L) array ep.out
    ep.shape = out.shape
    r = ReLU.record(c, out, saved=(out,), fused=ep)
    if geo is None:
        return r, False
    pooled, ep.pooled = ep.pooled, None  # the graph keeps the indices, not the output
    y = MaxPool2d.record(r, pooled, saved=(ep.arg,), geo=geo, kernel=True, lead=out.shape[:2],
                         fused=ep)  # fmt: skip
    return y, True
