"""Double backward of the transposed convolution: its backward as recorded conv ops.

A transposed convolution ``y = conv_transpose(x, w)`` is the adjoint of the convolution
``conv(., w)`` with the same stride, padding, dilation and groups, so for an output
gradient ``g``:

* the input gradient is that convolution of ``g``: ``conv2d(g, w)``, cropped to the
  input's size (``output_padding`` may let the convolution see one more row);
* the weight gradient is the convolution's weight gradient with ``g`` as its input and
  ``x`` as its output gradient (:func:`~gradfit.ops.conv._graph_weight_grad`);
* the bias gradient sums ``g`` over the batch and the spatial axes.

All three are gradfit ops (``conv2d`` records a :class:`~gradfit.ops.conv.ConvNd`, whose
own ``backward_graph`` is a transposed convolution again), so gradients of any order exist.
Everything the node holds is read when the graph is recorded, never later: a backward pass
may release the node's saved arrays before it reaches the ops recorded here.

Padding. The convolution that the op transposes pads the top (left) by ``padding`` and the
bottom (right) by ``padding - output_padding``, possibly negative (a crop). Symmetric padding
``padding`` reads the same values at every position that reaches the input: the extra bottom
rows are zeros that only positions beyond the input's size read, so the result is cropped.

Example:
    >>> import gradfit as gf
    >>> x = gf.randn(1, 2, 3, 3, requires_grad=True)
    >>> w = gf.randn(2, 1, 2, 2)
    >>> y = gf.nn.functional.conv_transpose2d(x, w, stride=2)
    >>> (g,) = gf.autograd.grad((y**2).sum(), [x], create_graph=True)
    >>> g.requires_grad
    True
"""

from __future__ import annotations

from typing import Any

from gradfit.autograd import Function
from gradfit.tensor import Tensor


def _saved_input(fn: Function, i: int, arr: Any) -> Tensor:
    """Input ``i`` of ``fn`` as a Tensor in the graph; ``arr`` is its saved array, possibly
    with the 1-D op's extra axis (dropped: the input's own shape)."""
    if arr is not None and fn.one_d and arr.ndim == 4:
        arr = arr[:, :, 0, :]
    return fn.input_tensor(i, arr)


def conv_transpose_backward_graph(fn: Function, grad: Tensor) -> tuple[Any, ...]:
    """The gradients of a ``ConvTransposeNd`` node ``fn`` w.r.t. (x, w[, b]) for the output
    gradient ``grad``, as recorded ops (see the module's docstring).

    Reads ``fn``'s ``saved`` (x, w), ``opts`` (stride, pads, dilation, groups), ``plan``
    (the input's spatial size as ``OH``, ``OW``; the kernel's as ``kh``, ``kw``), ``one_d``
    and ``has_bias``, all at once.

    Example:
        >>> import gradfit as gf
        >>> x = gf.randn(1, 2, 4, requires_grad=True)
        >>> y = gf.nn.functional.conv_transpose1d(x, gf.randn(2, 3, 3), stride=2)
        >>> gx, gw = conv_transpose_backward_graph(y.grad_fn, gf.ones(*y.shape))
        >>> gx.shape, gw  # the weight does not require grad
        ((1, 2, 4), None)
    """
    from gradfit.ops.conv import _graph_weight_grad, conv2d

    stride, pads, dilation, groups = fn.opts
    pt, pl = pads[0], pads[2]
    p = fn.plan
    size, ks = (p.OH, p.OW), (p.kh, p.kw)
    one_d, needs = fn.one_d, fn.needs_input_grad
    x_arr, w_arr = fn.saved
    g = grad.unsqueeze(2) if one_d else grad
    gx = gw = gb = None
    if needs[0]:
        wt = _saved_input(fn, 1, w_arr)
        w4 = wt.unsqueeze(2) if one_d else wt
        full = conv2d(g, w4, stride=stride, padding=(pt, pl), dilation=dilation, groups=groups)
        gx = full if tuple(full.shape[2:]) == size else full[:, :, : size[0], : size[1]]
        if one_d:
            gx = gx.squeeze(2)
    if needs[1]:
        xt = _saved_input(fn, 0, x_arr)
        x4 = xt.unsqueeze(2) if one_d else xt
        gw = _graph_weight_grad(g, x4, ks, stride, (pt, pt, pl, pl), dilation, groups)
        if one_d:
            gw = gw.squeeze(2)
    if fn.has_bias:
        if needs[2]:
            gb = grad.sum(dim=(0, *range(2, grad.ndim)))
        return gx, gw, gb
    return gx, gw


__all__ = ["conv_transpose_backward_graph"]
