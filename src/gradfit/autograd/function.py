"""PyTorch-style custom operations: ``forward(ctx, ...)`` / ``backward(ctx, *grads)`` on tensors.

A subclass of :class:`gradfit.autograd.Function` whose ``forward`` is a
``@staticmethod`` taking ``ctx`` is a torch-style function (detected when the class
is made): ``MyFn.apply(*args)`` runs ``forward`` on tensors without recording, then
records one graph node (:class:`CtxNode`, an engine node like every op's) whose
backward calls the user's ``backward(ctx, *grad_outputs)`` with tensors. Several
tensor outputs share that node through one small :class:`Select` node each.

The engine's array-level ``Function`` (``forward(self, *arrays)``, ``backward(self,
grad)``) that gradfit's own ops subclass is unchanged.

Example:
    >>> import gradfit as gf
    >>> class Exp(gf.autograd.Function):
    ...     @staticmethod
    ...     def forward(ctx, x):
    ...         y = x.exp()
    ...         ctx.save_for_backward(y)
    ...         return y
    ...     @staticmethod
    ...     def backward(ctx, grad):
    ...         (y,) = ctx.saved_tensors
    ...         return grad * y
    >>> x = gf.tensor([0.0, 1.0], requires_grad=True)
    >>> Exp.apply(x).sum().backward()
    >>> x.grad
    tensor([1.    , 2.7183])
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

import numpy as np

from gradfit import autograd
from gradfit.autograd import Function, sum_to

F = TypeVar("F", bound=Callable[..., Any])
_FROZEN = [0]


class FunctionCtx:
    """The ``ctx`` of a torch-style function: what ``forward`` leaves for ``backward``.

    Any attribute may be set on it. ``save_for_backward(*tensors)`` keeps tensors
    (checked for in-place changes before ``backward`` reads them),
    ``needs_input_grad`` tells which arguments want a gradient.

    Example:
        >>> import gradfit as gf
        >>> ctx = FunctionCtx()
        >>> ctx.save_for_backward(gf.ones(1))
        >>> len(ctx.saved_tensors)
        1
    """

    def __init__(self) -> None:
        self.needs_input_grad: tuple[bool, ...] = ()
        self._saved: tuple[Any, ...] | None = ()
        self._non_differentiable: set[int] = set()
        self.materialize_grads = True

    def save_for_backward(self, *tensors: Any) -> None:
        """Keep ``tensors`` (or None) for ``backward``; read them back from ``saved_tensors``."""
        for i, t in enumerate(tensors):
            if t is not None and not isinstance(t, autograd._Tensor):
                raise TypeError(
                    f"save_for_backward can only save variables, but argument {i} is of type "
                    f"{type(t).__name__}; keep other values as attributes of ctx"
                )
        self._saved = tuple(tensors)

    @property
    def saved_tensors(self) -> tuple[Any, ...]:
        """The tensors given to ``save_for_backward``."""
        if self._saved is None:
            raise RuntimeError(
                "Trying to backward through the graph a second time (or directly access saved "
                "tensors after they have already been freed). Specify retain_graph=True if you "
                "need to backward through the graph a second time."
            )
        return self._saved

    def mark_non_differentiable(self, *tensors: Any) -> None:
        """Outputs that get no gradient (indices, masks): they will not require grad."""
        self._non_differentiable.update(id(t) for t in tensors)

    def set_materialize_grads(self, value: bool) -> None:
        """With False, ``backward`` gets None (not zeros) for outputs that got no gradient."""
        self.materialize_grads = bool(value)

    def mark_dirty(self, *tensors: Any) -> None:
        """Not supported: modify a clone in ``forward`` instead of an input in place."""
        raise NotImplementedError(
            "ctx.mark_dirty: gradfit's custom functions cannot modify their inputs in place; "
            "return a modified clone() instead"
        )


class CtxNode(Function):
    """The graph node of one call of a torch-style function."""

    always_check_versions = True  # its versions are those of the saved tensors

    def __init__(self, fn_cls: type, ctx: FunctionCtx, n_args: int, tensor_pos: list[int]) -> None:
        self.fn_cls, self.ctx, self.n_args, self.tensor_pos = fn_cls, ctx, n_args, tensor_pos
        self.out_metas: list[tuple[tuple[int, ...], np.dtype] | None] = []  # per output
        self.diff: list[int] = []  # the outputs that get a gradient
        self.multi = False

    @property
    def name(self) -> str:
        return f"{self.fn_cls.__name__}Backward"

    def backward(self, grad: np.ndarray) -> tuple[Any, ...]:
        ctx = self.ctx
        T = autograd._Tensor
        gs = list(grad) if self.multi else [grad]
        grads: list[Any] = [None] * len(self.out_metas)
        for g, i in zip(gs, self.diff, strict=True):
            if isinstance(g, np.ndarray) and g.dtype != object:
                grads[i] = T._wrap(g)
        if ctx.materialize_grads:
            for i, meta in enumerate(self.out_metas):
                if grads[i] is None and meta is not None:
                    grads[i] = T._wrap(np.zeros(*meta))
        with autograd.no_grad():
            res = self.fn_cls.backward(ctx, *grads)
        if not isinstance(res, tuple):
            res = (res,)
        n = self.n_args
        if len(res) > n and all(r is None for r in res[n:]):
            res = res[:n]
        if len(res) != n:
            raise RuntimeError(
                f"function {self.name} returned an incorrect number of gradients "
                f"(expected {n}, got {len(res)})"
            )
        out: list[Any] = []
        for k, pos in enumerate(self.tensor_pos):
            r = res[pos]
            if r is None or not self.needs_input_grad[k]:
                out.append(None)
                continue
            if not isinstance(r, T):
                raise TypeError(
                    f"function {self.name} returned a {type(r).__name__} as gradient {pos}; "
                    "expected a Tensor or None"
                )
            shape, dtype = self.in_metas[k]
            g = r._data
            if g.shape != shape:
                try:
                    g = sum_to(np.broadcast_to(g, np.broadcast_shapes(g.shape, shape)), shape)
                except ValueError:
                    raise RuntimeError(
                        f"function {self.name} returned an invalid gradient at index {pos} - "
                        f"got {list(g.shape)} but expected shape compatible with {list(shape)}"
                    ) from None
            if g.dtype != dtype:
                g = g.astype(dtype)
            out.append(g)
        return tuple(out)

    def backward_graph(self, grad: Any) -> tuple[Any, ...]:
        """The user's ``backward`` run with recording on (create_graph=True): written with
        Tensor operations on ``ctx.saved_tensors``, it is differentiable as it is."""
        if self.multi:
            raise NotImplementedError(
                f"double backward is not implemented for {self.name}: a custom function "
                "with several differentiable outputs"
            )
        if getattr(self.fn_cls.backward, "_once_differentiable", False):
            raise RuntimeError(
                f"double backward through {self.name}: its backward is marked "
                "@once_differentiable, so it cannot be differentiated again"
            )
        T = autograd._Tensor
        with autograd.enable_grad():
            res = self.fn_cls.backward(self.ctx, grad)
        if not isinstance(res, tuple):
            res = (res,)
        n = self.n_args
        if len(res) > n and all(r is None for r in res[n:]):
            res = res[:n]
        if len(res) != n:
            raise RuntimeError(
                f"function {self.name} returned an incorrect number of gradients "
                f"(expected {n}, got {len(res)})"
            )
        out: list[Any] = []
        for k, pos in enumerate(self.tensor_pos):
            r = res[pos]
            if r is None or not self.needs_input_grad[k]:
                out.append(None)
                continue
            if not isinstance(r, T):
                raise TypeError(
                    f"function {self.name} returned a {type(r).__name__} as gradient {pos}; "
                    "expected a Tensor or None"
                )
            shape, dtype = self.in_metas[k]
            if r.shape != shape:
                r = sum_to(r.expand(np.broadcast_shapes(r.shape, shape)), shape)
            if r.dtype != dtype:
                r = r.to(dtype)
            out.append(r)
        return tuple(out)


class Select(Function):
    """Output ``i`` of a multi-output :class:`CtxNode`: its gradient goes in slot ``i``."""

    def __init__(self, i: int, k: int) -> None:
        self.i, self.k = i, k

    def backward(self, grad: np.ndarray) -> tuple[Any]:
        packed = np.zeros(self.k, dtype=object)  # 0 + array = array when slots are summed
        packed[self.i] = grad
        return (packed,)

    def backward_graph(self, grad: Any) -> tuple[Any]:
        raise NotImplementedError(
            f"double backward is not implemented for {self.parents[0].name}: a custom function "
            "with several differentiable outputs"
        )


def torch_apply(cls: type, *args: Any, **kwargs: Any) -> Any:
    """``Function.apply`` of a torch-style function: forward unrecorded, then one node."""
    T = autograd._Tensor
    ctx = FunctionCtx()
    tensor_pos = [i for i, a in enumerate(args) if isinstance(a, T)]
    record = autograd._grad_enabled and any(args[i].requires_grad for i in tensor_pos)
    ctx.needs_input_grad = tuple(
        isinstance(a, T) and a.requires_grad and autograd._grad_enabled for a in args
    )
    with autograd.no_grad():
        if "setup_context" in _own_methods(cls):
            outputs = cls.forward(*args, **kwargs)
            cls.setup_context(ctx, args, outputs)
        else:
            outputs = cls.forward(ctx, *args, **kwargs)
    if not record:
        return outputs
    single = not isinstance(outputs, tuple)
    outs = [outputs] if single else list(outputs)
    inputs = {id(args[i]) for i in tensor_pos}
    diff = [
        i
        for i, o in enumerate(outs)
        if isinstance(o, T) and o._data.dtype.kind == "f" and id(o) not in ctx._non_differentiable
    ]
    if not diff:
        return outputs
    node = CtxNode(cls, ctx, len(args), tensor_pos)
    node.parents = tuple(
        (args[i].grad_fn or args[i]) if args[i].requires_grad else None for i in tensor_pos
    )
    node.needs_input_grad = tuple(args[i].requires_grad for i in tensor_pos)
    node.in_metas = [(args[i]._data.shape, args[i]._data.dtype) for i in tensor_pos]
    node.saved = (ctx,)
    saved = [t for t in (ctx._saved or ()) if t is not None]
    node.versions = (*[(t._version, t._version[0]) for t in saved], (_FROZEN, 0))
    node.multi = len(diff) > 1
    node.out_metas = [(o._data.shape, o._data.dtype) if isinstance(o, T) else None for o in outs]
    node.diff = diff
    if node.multi:
        node.out_meta = ((len(diff),), np.dtype(object))
    for k, i in enumerate(diff):
        o = outs[i]
        if id(o) in inputs or o.grad_fn is not None or o.requires_grad:
            o = outs[i] = T._wrap(o._data)  # an input returned as it is: a new tensor, as torch
        if node.multi:
            sel = Select(k, len(diff))
            sel.parents, sel.needs_input_grad, sel.saved = (node,), (True,), ()
            sel.versions = ((_FROZEN, 0),)
            o.grad_fn = sel
        else:
            o.grad_fn = node
        o.grad_fn.out_meta = (o._data.shape, o._data.dtype)
        o.requires_grad = True
    return outs[0] if single else tuple(outs)


def _own_methods(cls: type) -> set[str]:
    names: set[str] = set()
    for c in cls.__mro__:
        if c is Function:
            break
        names.update(c.__dict__)
    return names


def once_differentiable(fn: F) -> F:
    """Accepted for PyTorch code: ``backward`` already runs unrecorded in gradfit.

    Example:
        >>> f = once_differentiable(lambda ctx, g: g)
        >>> f(None, 1)
        1
    """

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        with autograd.no_grad():
            return fn(*args, **kwargs)

    wrapper._once_differentiable = True  # type: ignore[attr-defined]  # create_graph refuses it
    return wrapper  # type: ignore[return-value]
