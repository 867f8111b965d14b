"""In-place operations recorded in the graph: ``x[idx] = v``, ``y.mul_(2)``, ``v.exp_()`` on a view.

PyTorch lets a tensor in the graph be changed in place: the tensor object then stands
for a new node (its ``grad_fn`` is replaced, PyTorch's ``rebase_history``), so the
gradient flows through the overwritten and the untouched parts alike, and the version
counter makes every node that saved the old value raise on backward.

Here every in-place change on the graph path is computed out of place from a snapshot
of the old value (a tensor with the old node), written into the tensor's array (so
views and ``.numpy()`` see it), and the tensor is rebased onto the new node. A change
through a view of a tensor (``y[0].mul_(2)``, ``y[0][1] = 5``) rewrites the base's
history as PyTorch's ``CopySlices`` does: the view's old value is gathered from the
base's old node, changed, scattered into the base (:class:`ScatterFlat`), and the view
becomes a gather (:class:`GatherFlat`) of the new base.

Example:
    >>> import gradfit as gf
    >>> x = gf.tensor([1.0, 2.0, 3.0], requires_grad=True)
    >>> y = x * 2
    >>> y[0] = 0.0
    >>> y.mul_(x)
    tensor([ 0.,  8., 18.], grad_fn=<Mul>)
    >>> y.sum().backward()
    >>> x.grad
    tensor([ 0.,  8., 12.])
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from gradfit.autograd import Function, sum_to
from gradfit.ops.linear_map import linear_backward_graph
from gradfit.ops.shape import _expand_ellipsis, _index_part, _split_ints
from gradfit.ops.views import live_views
from gradfit.tensor import Tensor

_FROZEN = [0]  # a version counter nothing bumps: for output checks that guard nothing


def norm_index(index: Any, ndim: int) -> tuple[Any, Any]:
    """``index`` as (pre, idx) in NumPy form with PyTorch's meaning (see ``getitem``)."""
    parts = index if isinstance(index, tuple) else (index,)
    conv, kinds = [], []
    for p in parts:
        c, k = _index_part(p)
        conv.append(c)
        kinds.append(k)
    advanced = "array" in kinds or "bool" in kinds
    if advanced:
        conv, kinds = _expand_ellipsis(conv, kinds, ndim)
        if "int" in kinds:
            return _split_ints(conv, kinds)
    return None, tuple(conv)


class SetItem(Function):
    """``out = x.copy(); out[index] = v``: x's gradient is zero where overwritten, v's is
    the gradient gathered from its slot (summed over broadcasting)."""

    def forward(self, x: np.ndarray, v: np.ndarray, pre: Any, index: Any) -> np.ndarray:
        self.pre, self.index, self.vshape, self.vdtype = pre, index, v.shape, v.dtype
        out = x.copy()
        view = out if pre is None else out[pre]
        view[index] = v
        return out

    def backward(self, grad: np.ndarray) -> tuple[Any, Any]:
        gx = gv = None
        if self.needs_input_grad[0]:
            gx = grad.copy()
            (gx if self.pre is None else gx[self.pre])[self.index] = 0
        if self.needs_input_grad[1]:
            slot = (grad if self.pre is None else grad[self.pre])[self.index]
            nv = len(self.vshape)
            if slot.ndim < nv:  # v had leading ones that NumPy dropped
                slot = slot.reshape((1,) * (nv - slot.ndim) + slot.shape)
            gv = np.asarray(sum_to(slot, self.vshape)).astype(self.vdtype, copy=False)
        return gx, gv

    def backward_graph(self, grad: Tensor) -> tuple[Any, Any]:
        shape, dtype = grad.shape, grad.dtype

        def x_part(g: np.ndarray) -> np.ndarray:  # a mask: self-adjoint
            return self.backward(g)[0]

        def v_part(v: np.ndarray) -> np.ndarray:
            out = np.zeros(shape, dtype=dtype)
            (out if self.pre is None else out[self.pre])[self.index] = v
            return out

        return linear_backward_graph(self, grad, x_part, v_part)


def _unchecked_inputs(t: Tensor) -> Tensor:
    """Drop the input version checks of ``t``'s node: it saved no input, so a later
    in-place change of one cannot make its gradient wrong (PyTorch checks only saved ones)."""
    fn = t.grad_fn
    if fn is not None:
        fn.versions = (*[(_FROZEN, 0)] * (len(fn.versions) - 1), fn.versions[-1])
    return t


class GatherFlat(Function):
    """The elements of ``x`` at flat (C-order) positions ``pos``: a view, as a node."""

    def forward(self, x: np.ndarray, pos: np.ndarray) -> np.ndarray:
        self.pos, self.shape = pos, x.shape
        return np.take(x, pos)

    def backward(self, grad: np.ndarray) -> tuple[Any]:
        g = np.zeros(self.shape, dtype=grad.dtype)
        np.put(g, self.pos, grad)  # positions of a writable view are distinct
        return (g,)

    def backward_graph(self, grad: Tensor) -> tuple[Any]:
        return linear_backward_graph(self, grad, lambda g: np.take(g, self.pos))


class ScatterFlat(Function):
    """``x`` with the elements at flat positions ``pos`` replaced by ``v`` (PyTorch's CopySlices)."""

    def forward(self, x: np.ndarray, v: np.ndarray, pos: np.ndarray) -> np.ndarray:
        self.pos = pos
        out = x.copy()
        np.put(out, pos, v)
        return out

    def backward(self, grad: np.ndarray) -> tuple[Any, Any]:
        gx = gv = None
        if self.needs_input_grad[0]:
            gx = grad.copy()
            np.put(gx, self.pos, 0)
        if self.needs_input_grad[1]:
            gv = np.take(grad, self.pos)
        return gx, gv

    def backward_graph(self, grad: Tensor) -> tuple[Any, Any]:
        shape, dtype = grad.shape, grad.dtype

        def v_part(v: np.ndarray) -> np.ndarray:
            out = np.zeros(shape, dtype=dtype)
            np.put(out, self.pos, v)
            return out

        return linear_backward_graph(self, grad, lambda g: self.backward(g)[0], v_part)


def _addresses(a: np.ndarray) -> np.ndarray:
    """The memory address of every element of ``a`` (shape ``a.shape``)."""
    addr = np.full(a.shape, a.__array_interface__["data"][0], dtype=np.int64)
    for k, (n, s) in enumerate(zip(a.shape, a.strides, strict=True)):
        shp = [1] * a.ndim
        shp[k] = n
        addr = addr + np.arange(n, dtype=np.int64).reshape(shp) * s
    return addr


def flat_positions(view: np.ndarray, base: np.ndarray) -> np.ndarray:
    """Where each element of ``view`` lies in ``base``, as flat C-order indices."""
    ab = _addresses(base).ravel()
    order = np.argsort(ab, kind="stable")
    sorted_ab = ab[order]
    av = _addresses(view)
    i = np.searchsorted(sorted_ab, av)
    i = np.minimum(i, max(sorted_ab.size - 1, 0))
    if sorted_ab.size == 0 or not np.array_equal(sorted_ab[i], av):
        raise RuntimeError("in-place: a view's elements could not be located in its base")
    return order[i]


def _snapshot(t: Tensor, copy: bool) -> Tensor:
    """A tensor standing for ``t``'s current value and node, with its own version counter."""
    s = Tensor._wrap(t._data.copy() if copy else t._data)
    s.grad_fn = t.grad_fn
    s.requires_grad = t.requires_grad
    return s


def _saves(fn: Function, arr: np.ndarray) -> bool:
    """Whether ``fn`` keeps an array that may share memory with ``arr``."""
    vals = list(fn.saved or ())
    vals += [v for v in getattr(fn, "__dict__", {}).values() if isinstance(v, np.ndarray)]
    return any(isinstance(v, np.ndarray) and np.may_share_memory(v, arr) for v in vals)


def _release_output_check(t: Tensor) -> None:
    """``t``'s old node checks its output's version; that guards nothing unless it saved
    the output (exp, tanh, ...), so drop the check: the node stays usable after ``t``
    changes in place. A node that saved it still raises, as in PyTorch."""
    fn = t.grad_fn
    if fn is None or not hasattr(fn, "versions"):
        return
    last = fn.versions[-1]
    if last[0] is t._version and not _saves(fn, t._data):
        fn.versions = (*fn.versions[:-1], (_FROZEN, 0))


def _rebase(t: Tensor, new: Tensor) -> None:
    """Write ``new``'s value into ``t``'s array and make ``t`` stand for ``new``'s node."""
    if new._data.dtype != t._data.dtype:
        new = new.astype(t._data.dtype)
    np.copyto(t._data, new._data, casting="unsafe")
    t._version[0] += 1
    t.grad_fn = new.grad_fn
    t.requires_grad = new.requires_grad
    if new.grad_fn is not None:
        new.grad_fn.out_meta = (t._data.shape, t._data.dtype)


def record(t: Tensor, op: str, fn: Callable[[Tensor], Tensor]) -> Tensor:
    """Apply ``fn`` (an out-of-place computation of the new value) to ``t`` in the graph.

    Called only when grad is recorded and ``t`` is a float tensor that requires grad, is a
    view of one, or receives a value that does.
    """
    base: Tensor | None = getattr(t, "_base", None)
    if t.requires_grad and t.grad_fn is None:
        raise RuntimeError(
            f"in-place {op} on a leaf tensor that requires grad: the graph needs its value "
            "to compute gradients. Write it out of place (x = x + y), or wrap the update in "
            "gf.no_grad() (as an optimizer step does)."
        )
    if base is None:
        _release_output_check(t)
        new = fn(_snapshot(t, copy=True))
        _rebase(t, new)
        _renew_views(t, None)
        return t
    if base.requires_grad and base.grad_fn is None:
        raise RuntimeError(
            f"in-place {op} on a view of a leaf tensor that requires grad: a view of a leaf "
            "is being used in an in-place operation. Change the leaf under gf.no_grad(), or "
            "clone() it first."
        )
    pos = flat_positions(t._data, base._data)
    _release_output_check(base)
    bsnap = _snapshot(base, copy=False)
    old_view = _unchecked_inputs(GatherFlat.apply(bsnap, pos=pos))
    new_view = fn(old_view)
    if new_view._data.dtype != t._data.dtype:
        new_view = new_view.astype(t._data.dtype)
    new_base = _unchecked_inputs(ScatterFlat.apply(bsnap, new_view, pos=pos))
    np.copyto(t._data, new_view._data, casting="unsafe")  # the base's memory too
    t._version[0] += 1  # shared by the base and its views
    base.grad_fn = new_base.grad_fn
    base.requires_grad = new_base.requires_grad
    if base.grad_fn is not None:
        base.grad_fn.out_meta = (base._data.shape, base._data.dtype)
    if base.requires_grad:
        regathered = _unchecked_inputs(GatherFlat.apply(base, pos=pos))
        t.grad_fn = regathered.grad_fn
        t.grad_fn.out_meta = (t._data.shape, t._data.dtype)
        t.requires_grad = True
    _renew_views(base, t)
    return t


def _renew_views(base: Tensor, done: Tensor | None) -> None:
    """After ``base`` changed in place (itself or through the view ``done``), give every
    other live view of it a node that gathers its elements from ``base``'s new history,
    as PyTorch regenerates a view's ``grad_fn``: ``y = t.reshape(6); t.mul_(3)`` then
    differentiates ``y`` through the multiplication (it kept the old node before)."""
    if not base.requires_grad:
        return
    for v in live_views(base):
        if v is done:
            continue
        try:
            pos = flat_positions(v._data, base._data)
        except RuntimeError:  # no longer in the base's memory (``.data`` was replaced)
            continue
        node = _unchecked_inputs(GatherFlat.apply(base, pos=pos)).grad_fn
        node.out_meta = (v._data.shape, v._data.dtype)
        v.grad_fn = node
        v.requires_grad = True


def setitem(x: Tensor, index: Any, value: Any, op: str = "__setitem__") -> None:
    """``x[index] = value`` with every index ``x[index]`` accepts; recorded when needed.

    Example:
        >>> import gradfit as gf
        >>> x = gf.zeros(2, 3)
        >>> x[0, 1:] = gf.tensor([1.0, 2.0])
        >>> x[x == 0] = -1.0
        >>> x
        tensor([[-1.,  1.,  2.],
                [-1., -1., -1.]])
    """
    pre, idx = norm_index(index, x._data.ndim)
    if not x._needs_record(value):
        x._check_inplace(op)
        arr = value._data if isinstance(value, Tensor) else value
        view = x._data if pre is None else x._data[pre]
        try:
            view[idx] = arr
        except IndexError as e:
            raise IndexError(f"index into a tensor of shape {x.shape}: {e}") from None
        except ValueError as e:
            raise RuntimeError(
                f"{op}: cannot assign a value of shape {np.shape(arr)} to the indexed "
                f"part of a tensor of shape {x.shape}: {e}"
            ) from None
        x._version[0] += 1
        return
    if not x._data.flags.writeable:
        x._check_inplace(op)
    v = value if isinstance(value, Tensor) else Tensor._wrap(np.asarray(value, x._data.dtype))
    if v._data.dtype != x._data.dtype:
        v = v.astype(x._data.dtype)

    def assign(old: Tensor) -> Tensor:
        try:
            return _unchecked_inputs(SetItem.apply(old, v, pre=pre, index=idx))
        except IndexError as e:
            raise IndexError(f"index into a tensor of shape {x.shape}: {e}") from None
        except ValueError as e:
            raise RuntimeError(
                f"{op}: cannot assign a value of shape {v.shape} to the indexed part "
                f"of a tensor of shape {x.shape}: {e}"
            ) from None

    record(x, op, assign)
