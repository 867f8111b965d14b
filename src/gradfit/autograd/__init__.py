"""Reverse-mode automatic differentiation: the ``Function`` node, the graph walk, grad mode.

The graph is built as operations run. Each operation is a small :class:`Function`
whose ``forward`` computes on arrays and saves only what its ``backward`` needs.
A tensor made by an operation points to its node (``tensor.grad_fn``); a node
points to the nodes of its inputs (or, for leaves, to the leaf tensors). The
graph does not hold intermediate tensors, only what the nodes saved, so their
arrays are freed as soon as the user drops them and the backward pass is done.

:func:`backward` walks the graph iteratively in topological order (no recursion,
so a chain of 100,000 operations is fine), applies the chain rule node by node,
and releases each node's saved arrays as it goes unless ``retain_graph=True``.
:func:`grad` (PyTorch's ``torch.autograd.grad``) runs the same walk over only the
nodes that lead to its inputs and returns their gradients instead of storing them.

Gradients of gradients (``create_graph=True``). The first-order walk above works
on arrays and is untouched by this: nothing is recorded unless asked. With
``create_graph=True`` a second walk, :func:`_walk_graph`, passes Tensors as
gradients and calls each node's :meth:`Function.backward_graph` (the op's backward
written with gradfit Tensor operations) with recording on, so the gradients it
returns are themselves in the graph, to any order. A backward_graph reaches the
op's inputs and output through what the node already holds: ``parents`` (the
input nodes or leaves) and the arrays it saved for its first-order backward
(:meth:`Function.input_tensor` and :meth:`Function.output_tensor` wrap a saved array
as a Tensor on the right node), so saving for double backward costs no memory on the
first-order path. An op without a backward_graph raises ``NotImplementedError``
naming the op, never a silently wrong (constant) gradient. The saved arrays are
kept after a create_graph pass: the new graph goes back through the old nodes.

Hooks (``Tensor.register_hook``) and ``Tensor.retain_grad`` are kept where the
walk sees a tensor's gradient complete: on its node for a non-leaf, on the tensor
for a leaf. While no hook or retain_grad exists anywhere (the usual case),
:func:`backward` checks for them once per call, not once per node.

Example:
    >>> import gradfit as gf
    >>> x = gf.tensor([1.0, 2.0], requires_grad=True)
    >>> (x * x).sum().backward()
    >>> x.grad
    tensor([2., 4.])
    >>> (g,) = gf.autograd.grad((x**3).sum(), x, create_graph=True)  # 3 x^2, in the graph
    >>> gf.autograd.grad(g.sum(), x)  # 6 x
    (tensor([ 6., 12.]),)
"""

from __future__ import annotations

import functools
import threading
import weakref
from collections import OrderedDict
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar

import numpy as np

if TYPE_CHECKING:
    from gradfit.tensor import Tensor

F = TypeVar("F", bound=Callable[..., Any])

# --------------------------------------------------------------------------- grad mode

_grad_enabled = True


def is_grad_enabled() -> bool:
    """Whether operations are being recorded for backpropagation.

    Example:
        >>> import gradfit as gf
        >>> with gf.no_grad():
        ...     gf.is_grad_enabled()
        False
    """
    return _grad_enabled


class set_grad_enabled:
    """Switch recording on or off; usable as a context manager, a decorator or a call.

    Example:
        >>> import gradfit as gf
        >>> with gf.set_grad_enabled(False):
        ...     y = gf.ones(2, requires_grad=True) * 2
        >>> y.requires_grad
        False
    """

    def __init__(self, mode: bool) -> None:
        global _grad_enabled
        self.prev = _grad_enabled
        self.mode = bool(mode)
        _grad_enabled = self.mode

    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: object) -> None:
        global _grad_enabled
        _grad_enabled = self.prev

    def __call__(self, fn: F) -> F:
        global _grad_enabled
        _grad_enabled = self.prev  # used as a decorator: the mode applies inside fn only
        mode = self.mode

        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            with _GradMode(mode):
                return fn(*args, **kwargs)

        return wrapper  # type: ignore[return-value]


class _GradMode:
    """Context manager that sets grad mode on enter and restores it on exit."""

    mode = True

    def __init__(self, mode: bool | None = None) -> None:
        if mode is not None:
            self.mode = mode

    def __enter__(self) -> None:
        global _grad_enabled
        self.prev = _grad_enabled
        _grad_enabled = self.mode

    def __exit__(self, *exc: object) -> None:
        global _grad_enabled
        _grad_enabled = self.prev

    def __call__(self, fn: F) -> F:
        mode = self.mode

        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            with _GradMode(mode):
                return fn(*args, **kwargs)

        return wrapper  # type: ignore[return-value]


class no_grad(_GradMode):
    """Do not record operations: for inference and for updating weights by hand.

    Works as a context manager and as a decorator.

    Example:
        >>> import gradfit as gf
        >>> w = gf.ones(3, requires_grad=True)
        >>> with gf.no_grad():
        ...     y = w * 2
        >>> y.requires_grad
        False
    """

    mode = False


class enable_grad(_GradMode):
    """Record operations again inside a ``no_grad`` block.

    Example:
        >>> import gradfit as gf
        >>> w = gf.ones(3, requires_grad=True)
        >>> with gf.no_grad():
        ...     with gf.enable_grad():
        ...         y = w * 2
        >>> y.requires_grad
        True
    """

    mode = True


# --------------------------------------------------------------------------- helpers


def sum_to(grad: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """Undo broadcasting: sum ``grad`` over the axes that broadcasting added or stretched.

    This is the one place where every broadcasting op reduces its gradient back
    to the shape of its input.

    Example:
        >>> import numpy as np
        >>> sum_to(np.ones((4, 3), np.float32), (1, 3))
        array([[4., 4., 4.]], dtype=float32)
    """
    if grad.shape == shape:
        return grad
    lead = grad.ndim - len(shape)
    axes = tuple(range(lead)) + tuple(
        i + lead for i, n in enumerate(shape) if n == 1 and grad.shape[i + lead] != 1
    )
    if isinstance(grad, _Tensor):  # a double backward's gradient: recorded ops
        out_t = grad.sum(dim=axes, keepdim=True) if axes else grad
        return out_t.reshape(shape)
    out = grad.sum(axis=axes, keepdims=True) if axes else grad
    return out.reshape(shape)


def _add(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``a + b`` as an array: NumPy gives a scalar (``np.float32``) for two 0-d arrays."""
    s = a + b
    return s if type(s) is np.ndarray else np.asarray(s)


# --------------------------------------------------------------------------- Function


class Function:
    """One differentiable operation and, once applied, one node of the graph.

    Two styles share this class. PyTorch's: a subclass with ``@staticmethod
    forward(ctx, *args)`` and ``@staticmethod backward(ctx, *grads)`` on tensors (see
    :mod:`gradfit.autograd.function`). The engine's, which gradfit's own ops use:

    Subclasses implement ``forward(*arrays, **options) -> array`` and
    ``backward(grad) -> tuple`` (one gradient array or ``None`` per tensor
    input). ``forward`` saves what ``backward`` needs in ``self.saved`` (a tuple)
    or in plain attributes for small non-array values; ``self.needs_input_grad``
    tells it which inputs want a gradient so it can skip the others.

    Example:
        >>> import numpy as np
        >>> import gradfit as gf
        >>> class Square(gf.Function):
        ...     def forward(self, x):
        ...         self.saved = (x,)
        ...         return x * x
        ...     def backward(self, grad):
        ...         (x,) = self.saved
        ...         return (2 * x * grad,)
        >>> t = gf.tensor([3.0], requires_grad=True)
        >>> Square.apply(t).backward(gf.ones(1))
        >>> t.grad
        tensor([6.])
    """

    __slots__ = (
        "__weakref__",
        "_hooks",  # a _TensorHooks once its output has hooks or retains grad; unset otherwise
        "needs_input_grad",
        "out_meta",
        "parents",
        "saved",
        "versions",
    )

    #: Set on subclasses that cannot be differentiated (argmax, comparisons).
    differentiable = True

    def forward(self, *args: Any, **kwargs: Any) -> np.ndarray:
        raise NotImplementedError

    def backward(self, grad: np.ndarray) -> tuple[np.ndarray | None, ...]:
        raise NotImplementedError

    def backward_graph(self, grad: Tensor) -> tuple[Tensor | None, ...]:
        """``backward`` written with Tensor operations, so that it is itself recorded.

        Used instead of :meth:`backward` by ``backward(create_graph=True)`` and
        ``autograd.grad(..., create_graph=True)``; ``grad`` is a Tensor and so is every
        gradient returned. An op without one cannot be differentiated twice.
        """
        raise NotImplementedError(
            f"double backward is not implemented for {self.name}: its gradient cannot be "
            "differentiated again (create_graph=True); compute it from ops that support it"
        )

    def input_tensor(self, i: int, arr: np.ndarray | None = None) -> Tensor:
        """Input ``i`` as a Tensor in the graph, for :meth:`backward_graph`.

        ``arr`` is the input's array as the op saved it (needed unless the input is a
        leaf). A leaf is returned as it is; the output of another node is a new Tensor
        on that node; an input that did not require grad is a constant.
        """
        p = self.parents[i]
        if p is not None and not isinstance(p, Function):
            return p  # a leaf: the tensor itself
        if arr is None:
            raise RuntimeError(f"double backward of {self.name}: input {i} was not saved")
        return _node_tensor(arr, p)

    def input_standin(self, i: int, arr: np.ndarray) -> Tensor:
        """A Tensor of value ``arr`` whose gradient goes to input ``i``, for
        :meth:`backward_graph` (for a leaf input too, unlike :meth:`input_tensor`).

        Right only where what is built from it depends on the input through operations
        whose derivatives do not depend on the value (a difference x - y saved as ``d``,
        a centered or shifted copy); the op says why where it uses one.
        """
        p = self.parents[i]
        if p is None or isinstance(p, Function):
            return _node_tensor(arr, p)
        route = object.__new__(_Route)
        route.saved, route.needs_input_grad, route.parents = (), (True,), (p,)
        route.versions = ()
        route.out_meta = (p.shape, p.dtype)
        return _node_tensor(arr, route)

    def output_tensor(self, arr: np.ndarray) -> Tensor:
        """This node's output (saved as ``arr``) as a Tensor in the graph, for
        :meth:`backward_graph`: differentiating through it runs this node again."""
        return _node_tensor(arr, self)

    @property
    def name(self) -> str:
        """The operation's name as shown in errors and graphs."""
        return type(self).__name__

    def __init_subclass__(cls, **kwargs: Any) -> None:
        """A subclass with PyTorch's ``@staticmethod forward(ctx, ...)`` gets PyTorch's
        ``apply`` (see :mod:`gradfit.autograd.function`); others are engine nodes."""
        super().__init_subclass__(**kwargs)
        fwd = next(c.__dict__["forward"] for c in cls.__mro__ if "forward" in c.__dict__)
        if isinstance(fwd, staticmethod):
            from gradfit.autograd.function import torch_apply

            cls.apply = classmethod(torch_apply)  # type: ignore[assignment,method-assign]

    @classmethod
    def apply(cls, *inputs: Tensor, **kwargs: Any) -> Tensor:
        """Run the operation on tensors and, if any input requires grad, record it.

        The one- and two-input cases are spelled out: this is the per-op overhead of
        every computation, so it avoids building lists it does not need.
        """
        ctx = object.__new__(cls)
        ctx.saved = ()
        n = len(inputs)
        if _grad_enabled and cls.differentiable:
            if n == 1:
                (a,) = inputs
                if a.requires_grad:
                    ctx.needs_input_grad = _NEEDS_ONE
                    out = ctx.forward(a._data, **kwargs)
                    ctx.parents = (a.grad_fn or a,)
                    va = a._version
                    result = _Tensor._from_op(out, ctx)
                    # ops that save their output (exp, tanh, relu...) need it unchanged
                    ctx.versions = ((va, va[0]), (result._version, 0))
                    return result
            elif n == 2:
                a, b = inputs
                ra, rb = a.requires_grad, b.requires_grad
                if ra or rb:
                    ctx.needs_input_grad = (ra, rb)
                    out = ctx.forward(a._data, b._data, **kwargs)
                    ctx.parents = (
                        (a.grad_fn or a) if ra else None,
                        (b.grad_fn or b) if rb else None,
                    )
                    va, vb = a._version, b._version
                    result = _Tensor._from_op(out, ctx)
                    ctx.versions = ((va, va[0]), (vb, vb[0]), (result._version, 0))
                    return result
            else:
                needs = tuple([t.requires_grad for t in inputs])
                if True in needs:
                    ctx.needs_input_grad = needs
                    out = ctx.forward(*[t._data for t in inputs], **kwargs)
                    ctx.parents = tuple(
                        [(t.grad_fn or t) if t.requires_grad else None for t in inputs]
                    )
                    versions = [(t._version, t._version[0]) for t in inputs]
                    result = _Tensor._from_op(out, ctx)
                    versions.append((result._version, 0))
                    ctx.versions = tuple(versions)
                    return result
        ctx.needs_input_grad = _NO_GRADS[n] if n < 8 else (False,) * n
        return _Tensor._from_op(ctx.forward(*[t._data for t in inputs], **kwargs), None)

    def __repr__(self) -> str:
        return f"<{self.name}>"

    @classmethod
    def record(cls, a: Tensor, out: np.ndarray, **state: Any) -> Tensor:
        """The tensor ``cls.apply(a)`` would return, for an ``out`` computed elsewhere.

        For fused kernels (a convolution that also applies the ReLU and the pooling after
        it, :mod:`gradfit.ops.conv_epilogue`): the node recorded is the one ``apply`` would
        record, an instance of ``cls`` whose attributes are ``state`` (``saved`` among
        them), so its ``backward`` and ``backward_graph`` run as if ``forward`` had.

        Example:
            >>> import numpy as np
            >>> import gradfit as gf
            >>> from gradfit.ops.unary import ReLU
            >>> x = gf.tensor([-1.0, 2.0], requires_grad=True)
            >>> out = np.maximum(x.detach().numpy(), 0)
            >>> y = ReLU.record(x, out, saved=(out,))
            >>> y.sum().backward(); x.grad
            tensor([0., 1.])
        """
        if not (_grad_enabled and a.requires_grad):
            return _Tensor._from_op(out, None)
        ctx = object.__new__(cls)
        ctx.saved = ()
        for k, v in state.items():
            setattr(ctx, k, v)
        ctx.needs_input_grad = _NEEDS_ONE
        ctx.parents = (a.grad_fn or a,)
        va = a._version
        result = _Tensor._from_op(out, ctx)
        ctx.versions = ((va, va[0]), (result._version, 0))
        return result


class _Route(Function):
    """The identity from a leaf to a stand-in of it (see :meth:`Function.input_standin`)."""

    def backward(self, grad: np.ndarray) -> tuple[np.ndarray]:
        return (grad,)

    def backward_graph(self, grad: Tensor) -> tuple[Tensor]:
        return (grad,)


_Tensor: Any = None  # set by gradfit.tensor to break the import cycle


def _node_tensor(arr: Any, fn: Function | None) -> Tensor:
    """A Tensor around ``arr`` whose node is ``fn`` (a constant when ``fn`` is None),
    without touching ``fn.out_meta`` (``arr`` may be a reshaped copy of the output)."""
    if type(arr) is not np.ndarray:
        arr = np.asarray(arr)
    t = _Tensor._wrap(arr)
    if fn is not None:
        t.grad_fn = fn
        t.requires_grad = True
    return t


_NO_GRADS = [(False,) * n for n in range(8)]
_NEEDS_ONE = (True,)


# --------------------------------------------------------------------------- tensor hooks


def _no_hooks() -> None:
    return None


class _TensorHooks:
    """The gradient hooks of one tensor, and whether it retains its gradient.

    A leaf keeps this on itself; a non-leaf's is kept on its node (``grad_fn``),
    where the walk sees the tensor's gradient, so it lives as long as the graph that
    can call it (as in PyTorch, a hook on an intermediate tensor still runs after
    the tensor itself is dropped).

    ``live`` counts the states that exist by the id of their owner: while it is
    empty, :func:`backward` does no hook work at all, and otherwise it looks for
    hooks only on the nodes and leaves it lists.
    """

    __slots__ = ("__weakref__", "hooks", "owner_id", "retain")

    live: ClassVar[dict[int, int]] = {}

    def __init__(self, owner: Function | Tensor) -> None:
        self.hooks: OrderedDict[int, Callable[[Tensor], Tensor | None]] = OrderedDict()
        self.retain: weakref.ref[Tensor] | None = None  # the non-leaf whose .grad to fill
        self.owner_id = key = id(owner)
        live = _TensorHooks.live
        live[key] = live.get(key, 0) + 1

    def __del__(self) -> None:
        live, key = type(self).live, self.owner_id
        n = live.pop(key, 0) - 1
        if n > 0:
            live[key] = n

    def __reduce__(self) -> tuple[Callable[[], None], tuple[()]]:
        # copies and pickles of a tensor or a graph leave its hooks behind, as in PyTorch
        return (_no_hooks, ())

    def active(self) -> bool:
        return bool(self.hooks) or (self.retain is not None and self.retain() is not None)


def _tensor_hooks(t: Tensor) -> _TensorHooks:
    """The hook state of ``t`` (made on first use): on its node, or on ``t`` if a leaf."""
    owner = t if t.grad_fn is None else t.grad_fn
    st = getattr(owner, "_hooks", None)  # the slot is left unset on the hot path
    if st is None:
        st = owner._hooks = _TensorHooks(owner)
    return st


def _active_hooks(owner: Function | Tensor) -> _TensorHooks | None:
    """``owner``'s hook state if it still has work to do; an empty one is dropped."""
    st = getattr(owner, "_hooks", None)
    if st is None or st.active():
        return st
    owner._hooks = None  # every hook was removed: future walks can skip hook work again
    return None


def _run_hooks(
    st: _TensorHooks,
    g: np.ndarray,
    shape: tuple[int, ...],
    dtype: np.dtype,
    owned: set[int],
) -> np.ndarray:
    """Call ``st``'s hooks on the complete gradient ``g`` and fill a retained ``.grad``.

    Hooks run in registration order, unrecorded (as the rest of backward), each on
    what the previous one returned. A hook may keep its argument or its result, so
    it never gets an array that a leaf's ``.grad`` holds (later passes add to those
    in place), and the gradient passed on is marked ``owned``: no leaf adopts it as
    its ``.grad`` without a copy. Returns that gradient.
    """
    global _grad_enabled
    if st.hooks:
        if id(g) in owned:  # some leaf's .grad, or the caller's array
            g = g.copy()
        prev, _grad_enabled = _grad_enabled, False
        try:
            for hook in list(st.hooks.values()):  # a hook may remove itself
                out = hook(_Tensor._wrap(g))
                if out is not None:
                    g = _hook_result(hook, out, shape, dtype)
        finally:
            _grad_enabled = prev
        owned.add(id(g))  # the only array of these that goes on
    t = None if st.retain is None else st.retain()
    if t is not None:  # PyTorch's retained grad: after the hooks, summed out of place
        t.grad = _Tensor._wrap(g.copy() if t.grad is None else _add(t.grad._data, g))
    return g


def _hook_result(hook: Any, out: Any, shape: tuple[int, ...], dtype: np.dtype) -> np.ndarray:
    name = getattr(hook, "__qualname__", type(hook).__name__)
    if not isinstance(out, _Tensor):
        raise TypeError(
            f"register_hook: hook {name} returned {type(out).__name__}; a gradient hook "
            "must return a Tensor (the new gradient) or None"
        )
    if out.shape != shape or out.dtype != dtype:
        raise RuntimeError(
            f"register_hook: hook {name} returned a gradient of shape {out.shape} and dtype "
            f"{out.dtype} for a tensor of shape {shape} and dtype {dtype}; it must keep both"
        )
    return out._data


def _hooked_leaves(
    order: list[Function], among: dict[int, Any] | None = None
) -> dict[Function, list[Tensor]]:
    """For each leaf with hooks (of those keyed in ``among``, if given), the node after
    which its gradient is complete.

    That is its last consumer in ``order``: PyTorch also calls a leaf's hooks once,
    on the sum of what every use of the leaf contributed, as soon as it is known.
    """
    done_after: dict[Function, list[Tensor]] = {}
    seen: set[int] = set()
    live = _TensorHooks.live
    for fn in reversed(order):
        for p in fn.parents:
            if p is None or isinstance(p, Function) or id(p) in seen:
                continue
            seen.add(id(p))
            if among is not None and id(p) not in among:
                continue
            if id(p) in live and _active_hooks(p) is not None:
                done_after.setdefault(fn, []).append(p)
    return done_after


def _leaves_with_grad(order: list[Function]) -> list[Tensor]:
    """The leaves of the graph that already have a ``.grad`` (from an earlier pass).

    :func:`backward` sums what such a leaf gets in this pass and adds the sum to its
    ``.grad`` at the end of the walk, as PyTorch's ``AccumulateGrad`` adds once per
    leaf: ``.grad + (g1 + g2)``, not ``(.grad + g1) + g2``. The end, because the old
    ``.grad`` may be an input of this pass (``loss + (w * x.grad).sum()``): every node
    that saved it reads it before it changes.
    """
    found: dict[int, Tensor] = {}
    for fn in order:
        for p in fn.parents:
            if p is not None and not isinstance(p, Function) and p.grad is not None:
                found[id(p)] = p
    return list(found.values())


def _finish_leaf(
    leaf: Tensor, g: np.ndarray | None, owned: set[int], out: dict[int, np.ndarray] | None
) -> None:
    """Hook a leaf's complete gradient ``g`` (None: it got none), then accumulate it
    into ``leaf.grad`` or, for :func:`grad`, put it in ``out``."""
    if g is None:
        return
    if type(g) is not np.ndarray:  # an op's 0-d result or a sum of two: a NumPy scalar
        g = np.asarray(g)
    st = getattr(leaf, "_hooks", None)
    if st is not None:
        g = _run_hooks(st, g, leaf._data.shape, leaf._data.dtype, owned)
    if out is None:
        _accumulate_leaf(leaf, g, owned)
    else:
        out[id(leaf)] = g


def _keeps_arrays(fn: Function) -> bool:
    """Whether ``fn`` kept any array for its backward (in ``saved`` or an attribute).

    A node that kept none (add, clone, a view) computes the same gradient whatever
    happened to its inputs and output since, so a changed version is no error there
    (PyTorch, too, checks only what was saved).
    """
    if getattr(fn, "always_check_versions", False):
        return True
    vals = list(fn.saved or ())
    vals += getattr(fn, "__dict__", {}).values()
    for cls in type(fn).__mro__:
        for name in getattr(cls, "__slots__", ()):
            if name not in Function.__slots__:
                vals.append(getattr(fn, name, None))
    while vals:
        v = vals.pop()
        if isinstance(v, np.ndarray):
            return True
        if isinstance(v, (tuple, list)):
            vals.extend(v)
        elif isinstance(v, dict):
            vals.extend(v.values())
    return False


def _check_versions(fn: Function, who: str) -> None:
    if not _keeps_arrays(fn):
        return
    for i, (counter, seen) in enumerate(fn.versions):
        if counter[0] != seen:
            what = "its output" if i == len(fn.versions) - 1 else f"input {i}"
            raise RuntimeError(
                f"{who} through {fn.name}: {what} was modified by an in-place operation "
                "after it was used; the gradient would be wrong. Use an out-of-place "
                f"operation (x = x + y) or modify it after {who}()."
            )


def _toposort(roots: list[Function]) -> list[Function]:
    """Nodes reachable from ``roots``, each after every node that consumes it.

    From a single root, the nodes that each have at most one node among their
    inputs (a chain: a loss over a few operations, a stack of elementwise ops) are
    followed as they are, without the visited set and stack of the general walk;
    the rest of the graph, from the first node with two, is sorted by an iterative
    depth-first search (no recursion, so a chain of 100,000 operations is fine).
    Every node the chain passes has one consumer in the graph, the one before it,
    so the chain followed by the sorted rest is a topological order.
    """
    order: list[Function] = []
    if len(roots) == 1:
        fn = roots[0]
        while True:
            nxt = None
            for p in fn.parents:
                if isinstance(p, Function):
                    if nxt is not None:
                        break  # a second node input (or the same one twice): sort from fn
                    nxt = p
            else:
                order.append(fn)
                if nxt is None:
                    return order
                fn = nxt
                continue
            roots = [fn]
            break
    rest: list[Function] = []
    visited: set[Function] = set()  # Functions hash by identity
    stack: list[tuple[Function, bool]] = [(r, False) for r in reversed(roots)]
    push, pop = stack.append, stack.pop
    while stack:
        fn, expanded = pop()
        if expanded:
            rest.append(fn)
            continue
        if fn in visited:
            continue
        visited.add(fn)
        push((fn, True))
        for p in fn.parents:
            if isinstance(p, Function) and p not in visited:  # leaves end the walk
                push((p, False))
    rest.reverse()
    order += rest
    return order


#: whether the backward walk now running keeps its saved arrays (``retain_graph``)
_retaining = [False]


def retaining_saved() -> bool:
    """True while a backward walk that keeps saved arrays (``retain_graph=True``) runs.

    An op whose backward releases parts of its saved arrays as it goes (to lower peak
    memory) must keep them when this is True: the graph will be walked again.

    Example:
        >>> retaining_saved()
        False
    """
    return _retaining[0]


#: how many of the engine's array walks (backward, grad) this thread is running now
_walks = threading.local()


def walking() -> bool:
    """True while this thread's engine walks a graph with array gradients (``backward()``,
    ``autograd.grad`` without ``create_graph``), i.e. when it is the engine, not the
    user, that calls a node's ``backward``.

    Fused nodes (:mod:`gradfit.ops.conv_epilogue`) hand their gradient on to the node
    before them only then; called by hand, they compute it as unfused nodes do.

    Example:
        >>> walking()
        False
    """
    return getattr(_walks, "depth", 0) > 0


def _walk(*args: Any, **kwargs: Any) -> None:
    """:func:`_walk_nodes`, with :func:`retaining_saved` telling ops its ``retain_graph``."""
    old = _retaining[0]
    _retaining[0] = bool(args[3] if len(args) > 3 else kwargs["retain_graph"])
    depth = getattr(_walks, "depth", 0)
    _walks.depth = depth + 1
    try:
        _walk_nodes(*args, **kwargs)
    finally:
        _retaining[0] = old
        _walks.depth = depth


def _walk_nodes(
    order: list[Function],
    grads: dict[Function, np.ndarray],
    owned: set[int],
    retain_graph: bool,
    who: str,
    pending: dict[int, list[Any]] | None = None,
    done_after: dict[Function, list[Tensor]] | None = None,
    leaf_out: dict[int, np.ndarray] | None = None,
    wanted: set[Function] | None = None,
    captures: dict[Function, np.ndarray | None] | None = None,
    needed: set[Function] | None = None,
) -> None:
    """Apply the chain rule over ``order`` (consumers first) from the gradients in ``grads``.

    The one walk of :func:`backward` and :func:`grad`. Each node runs once its
    gradient is complete (all its consumers ran), its tensor's hooks first; its
    saved arrays are released after it unless ``retain_graph``. What a leaf gets is
    summed in ``pending`` (``id(leaf) -> [leaf, gradient so far]``) when the leaf is
    listed there, and finished (hooked, then stored) once ``done_after`` says it is
    complete or at the end; other leaves get it added to ``.grad`` when ``leaf_out``
    is None (``backward``) and lose it otherwise (``grad``: ``leaf_out`` collects the
    finished gradients of the listed leaves).

    For :func:`grad`, ``needed`` holds the nodes that lead to an input, ``captures``
    the nodes of the non-leaf inputs, and ``wanted`` both: gradients go only to
    wanted nodes; a captured node's complete gradient is recorded in ``captures``
    and flows on only if the node is needed (leads to another input).
    """
    live = _TensorHooks.live  # empty unless some tensor has hooks or retains grad
    pop = grads.pop
    ndarray = np.ndarray  # a local: the check below runs once per node
    accumulate = leaf_out is None
    for fn in order:
        g = pop(fn, None)
        if g is None:
            continue
        if type(g) is not ndarray:  # an op's 0-d result or a sum of two: a NumPy scalar
            g = np.asarray(g)
        if captures is not None and fn in captures:
            g = _capture(fn, g, captures, needed, owned)  # type: ignore[arg-type]
            if g is None:
                continue
        elif live and id(fn) in live:  # g is complete: every consumer of fn has run
            st = _active_hooks(fn)
            if st is not None:
                shape, dtype = fn.out_meta
                g = _run_hooks(st, g, shape, dtype, owned)
        saved = fn.saved
        if saved is None:
            raise RuntimeError(
                f"{who} through {fn.name} a second time: its saved arrays were freed by the "
                "previous backward() or autograd.grad(). Pass retain_graph=True to that first "
                "call to keep them."
            )
        for counter, seen in fn.versions:
            if counter[0] != seen:
                _check_versions(fn, who)
        in_grads = fn.backward(g)
        del g
        if saved and not retain_graph:
            fn.saved = None  # release the arrays as the walk goes
        parents = fn.parents  # None exactly where needs_input_grad is False (see apply)
        if len(in_grads) != len(parents):
            _bad_count(fn, in_grads)
        for parent, gi in zip(parents, in_grads):
            if gi is None or parent is None:
                continue
            if isinstance(parent, Function):
                if wanted is not None and parent not in wanted:
                    continue
                shape, dtype = parent.out_meta
                if gi.shape != shape or gi.dtype != dtype:
                    _bad_grad(fn, gi, shape, dtype)
                prev = grads.get(parent)
                grads[parent] = gi if prev is None else prev + gi
            else:
                data = parent._data
                if gi.shape != data.shape or gi.dtype != data.dtype:
                    _bad_grad(fn, gi, data.shape, data.dtype)
                if pending and id(parent) in pending:
                    entry = pending[id(parent)]
                    entry[1] = gi if entry[1] is None else entry[1] + gi
                elif accumulate:
                    _accumulate_leaf(parent, gi, owned)
        if done_after and fn in done_after:
            for leaf in done_after.pop(fn):
                _finish_leaf(leaf, pending.pop(id(leaf))[1], owned, leaf_out)  # type: ignore[union-attr]
    if pending:  # listed leaves whose last use got no gradient, or had no hooks
        for leaf, gl in pending.values():
            _finish_leaf(leaf, gl, owned, leaf_out)


def _capture(
    fn: Function,
    g: np.ndarray,
    captures: dict[Function, np.ndarray | None],
    needed: set[Function],
    owned: set[int],
) -> np.ndarray | None:
    """Record the complete gradient of a non-leaf input of :func:`grad` (its node ``fn``).

    As in PyTorch, the tensor's hooks run either way, and what is recorded is the
    gradient after them when the walk stops at ``fn``, but the one before them
    when ``fn`` leads to another input and the walk goes on through it. Returns
    what flows on, or None.
    """
    goes_on = fn in needed
    if goes_on:
        captures[fn] = g
    if id(fn) in _TensorHooks.live:
        st = _active_hooks(fn)
        if st is not None:
            shape, dtype = fn.out_meta
            g = _run_hooks(st, g, shape, dtype, owned)
    if goes_on:
        return g
    captures[fn] = g
    return None


def _root_grad(data: np.ndarray, index: int | None = None) -> np.ndarray:
    """Ones like the one-element ``data`` of an output (a 0-d one is the cheap common case).

    ``index`` is the output's position for :func:`grad`, None for :func:`backward`.
    """
    if data.size != 1:
        if index is None:
            raise RuntimeError(
                "backward: grad can be implicitly created only for a scalar output, but the "
                f"tensor has shape {data.shape}; pass a gradient of that shape "
                "(t.backward(gf.ones_like(t))) or reduce it first (t.sum().backward())"
            )
        raise RuntimeError(
            "autograd.grad: grad can be implicitly created only for scalar outputs, but "
            f"outputs[{index}] has shape {data.shape}; pass a gradient of that shape in "
            "grad_outputs (gf.ones_like(output)) or reduce the output first (.sum())"
        )
    if data.ndim == 0:
        return np.array(1, dtype=data.dtype)  # a quarter of the cost of np.ones(())
    return np.ones(data.shape, dtype=data.dtype)


def backward(
    tensor: Tensor,
    grad: np.ndarray | None = None,
    retain_graph: bool = False,
    create_graph: bool = False,
) -> None:
    """Backpropagate from ``tensor``: accumulate d(tensor)/d(leaf) into every leaf's ``.grad``.

    Usually called as ``tensor.backward()``; see :meth:`gradfit.Tensor.backward`.

    Example:
        >>> import gradfit as gf
        >>> a = gf.tensor(3.0, requires_grad=True)
        >>> b = a + a
        >>> c = b * b
        >>> c.backward()  # calls this function
        >>> a.grad
        tensor(24.)
    """
    if not tensor.requires_grad:
        raise RuntimeError(
            "backward: this tensor does not require grad and has no grad_fn; "
            "create the inputs with requires_grad=True (and not under gf.no_grad())"
        )
    if create_graph:
        _backward_graph(tensor, grad)
        return
    if grad is None:
        grad = _root_grad(tensor._data)
        owned: set[int] = set()
    else:
        grad = np.asarray(grad)
        if grad.shape != tensor.shape:
            raise ValueError(
                f"backward: gradient has shape {grad.shape} but the tensor has shape {tensor.shape}"
            )
        if grad.dtype != tensor.dtype:
            grad = grad.astype(tensor.dtype)
        owned = {id(grad)}  # the caller's array: never accumulate into it in place

    live = _TensorHooks.live  # empty unless some tensor has hooks or retains grad
    root = tensor.grad_fn
    if root is None:  # a leaf
        _finish_leaf(tensor, grad, owned, None)
        return
    order = _toposort([root])
    # leaves with hooks: sum their gradient, hook it (and add it) once it is complete;
    # leaves with an earlier .grad: sum it, add it at the end (_leaves_with_grad)
    done_after = _hooked_leaves(order) if live else {}
    pending = {id(leaf): [leaf, None] for ls in done_after.values() for leaf in ls}
    for leaf in _leaves_with_grad(order):
        pending.setdefault(id(leaf), [leaf, None])
    if not pending:  # the plain path: each leaf's first gradient is stored as it comes
        _walk(order, {root: grad}, owned, retain_graph, "backward")
        return
    _walk(order, {root: grad}, owned, retain_graph, "backward", pending, done_after)


def _as_tuple(x: Any, what: str) -> tuple[Tensor, ...]:
    """``x``, a tensor or a sequence of tensors, as a tuple of tensors (for :func:`grad`)."""
    if isinstance(x, _Tensor):
        return (x,)
    if not isinstance(x, (list, tuple)):
        raise TypeError(
            f"autograd.grad: {what} must be a Tensor or a sequence of Tensors, "
            f"got {type(x).__name__}"
        )
    for i, t in enumerate(x):
        if not isinstance(t, _Tensor):
            raise TypeError(f"autograd.grad: {what}[{i}] must be a Tensor, got {type(t).__name__}")
    return tuple(x)


def grad(
    outputs: Tensor | Sequence[Tensor],
    inputs: Tensor | Sequence[Tensor],
    grad_outputs: Tensor | np.ndarray | Sequence[Tensor | np.ndarray | None] | None = None,
    retain_graph: bool | None = None,
    create_graph: bool = False,
    allow_unused: bool | None = None,
    materialize_grads: bool = False,
) -> tuple[Tensor | None, ...]:
    """The gradients of ``outputs`` with respect to ``inputs``, returned instead of stored.

    PyTorch's ``torch.autograd.grad``: computes the sum over ``outputs`` of
    d(output)/d(input) weighted by ``grad_outputs`` (each output's upstream
    gradient: may be None for a one-element output, which means ones) and returns
    one tensor per input, leaf or not, without touching any ``.grad``. Only the
    part of the graph between the outputs and the inputs is walked.

    ``retain_graph`` (default ``create_graph``, so False) keeps the saved arrays of
    the walked nodes for another pass; without it a second pass through them is an
    error. An input the outputs do not depend on is an error unless
    ``allow_unused=True``, which gives None for it (or zeros with
    ``materialize_grads=True``, which implies ``allow_unused``). Tensor hooks run as
    in PyTorch: those of the inputs and of the tensors between them and the
    outputs; a ``retain_grad()`` tensor on the way gets its ``.grad`` too.
    ``create_graph=True`` records the backward pass: the gradients returned are in
    the graph and can be differentiated again (see the module's docstring).

    The results never share memory with ``grad_outputs`` or with each other.

    Example:
        >>> import gradfit as gf
        >>> x = gf.tensor([1.0, 2.0], requires_grad=True)
        >>> w = gf.tensor([3.0, 4.0], requires_grad=True)
        >>> h = x * w
        >>> loss = (h * h).sum()
        >>> gf.autograd.grad(loss, [x, h])
        (tensor([18., 64.]), tensor([ 6., 16.]))
        >>> x.grad is None and w.grad is None
        True
    """
    if materialize_grads and allow_unused is False:
        raise ValueError(
            "autograd.grad: materialize_grads=True needs allow_unused to be True or not "
            "passed, but got allow_unused=False"
        )
    if allow_unused is None:
        allow_unused = materialize_grads
    if retain_graph is None:
        retain_graph = create_graph
    outs = _as_tuple(outputs, "outputs")
    ins = _as_tuple(inputs, "inputs")
    if not ins:
        raise RuntimeError("autograd.grad: inputs cannot be empty")
    if grad_outputs is None:
        gouts: tuple[Any, ...] = (None,) * len(outs)
    elif isinstance(grad_outputs, (_Tensor, np.ndarray)):
        gouts = (grad_outputs,)
    else:
        gouts = tuple(grad_outputs)
    if len(gouts) != len(outs):
        raise RuntimeError(
            f"autograd.grad: got {len(outs)} outputs and {len(gouts)} grad_outputs; "
            "give one gradient (or None) per output"
        )
    if create_graph:
        return _grad_graph(outs, ins, gouts, allow_unused, materialize_grads)

    # the inputs: leaves are summed in `pending`, nodes recorded in `captures`
    pending: dict[int, list[Any]] = {}
    captures: dict[Function, np.ndarray | None] = {}
    for i, t in enumerate(ins):
        if not t.requires_grad:
            raise RuntimeError(
                f"autograd.grad: inputs[{i}] does not require grad; every input must be a "
                "tensor the outputs were computed from with requires_grad=True"
            )
        if t.grad_fn is None:
            pending[id(t)] = [t, None]
        else:
            captures[t.grad_fn] = None

    # the outputs and their gradients: one per node (summed), or straight to a leaf input
    owned: set[int] = set()
    grads: dict[Function, np.ndarray] = {}
    for i, (t, go) in enumerate(zip(outs, gouts)):  # of equal lengths
        if not t.requires_grad:
            raise RuntimeError(
                f"autograd.grad: outputs[{i}] does not require grad and has no grad_fn; it "
                "was not computed from a tensor with requires_grad=True"
            )
        if go is None:
            g = _root_grad(t._data, i)
        else:
            if isinstance(go, _Tensor):
                go = go._data
            elif not isinstance(go, np.ndarray):
                raise TypeError(
                    f"autograd.grad: grad_outputs[{i}] must be a Tensor, an array or None, "
                    f"got {type(go).__name__}"
                )
            if go.shape != t.shape:
                raise RuntimeError(
                    f"autograd.grad: mismatch in shape: grad_outputs[{i}] has shape "
                    f"{go.shape} and outputs[{i}] has shape {t.shape}"
                )
            g = go if go.dtype == t.dtype else go.astype(t.dtype)
            owned.add(id(g))  # the caller's: never returned or summed into as it is
        fn = t.grad_fn
        if fn is None:  # a leaf output: its gradient is its own
            entry = pending.get(id(t))
            if entry is not None:
                entry[1] = g if entry[1] is None else entry[1] + g
        else:
            prev = grads.get(fn)
            grads[fn] = g if prev is None else prev + g

    # walk only the nodes that lead to an input: producers come first in reversed(order)
    leaf_out: dict[int, np.ndarray] = {}
    if grads:
        order = _toposort(list(grads))
        needed: set[Function] = set()  # the nodes that lead to an input
        for fn in reversed(order):
            for p in fn.parents:
                if isinstance(p, Function):
                    if p in needed or p in captures:
                        needed.add(fn)
                        break
                elif p is not None and id(p) in pending:
                    needed.add(fn)
                    break
        wanted = needed.union(captures)  # the nodes a gradient goes to
        order = [fn for fn in order if fn in wanted]
        for fn in [fn for fn in grads if fn not in wanted]:
            del grads[fn]
        done_after = _hooked_leaves(order, pending) if _TensorHooks.live else None
        _walk(
            order,
            grads,
            owned,
            retain_graph,
            "autograd.grad",
            pending,
            done_after,
            leaf_out,
            wanted,
            captures,
            needed,
        )
    else:
        for leaf, g in pending.values():
            _finish_leaf(leaf, g, owned, leaf_out)

    result: list[Tensor | None] = []
    for i, t in enumerate(ins):
        g = leaf_out.get(id(t)) if t.grad_fn is None else captures.get(t.grad_fn)
        if g is None:
            if not allow_unused:
                raise RuntimeError(
                    f"autograd.grad: inputs[{i}] appears to not have been used in the graph "
                    "(no gradient reached it from the outputs); pass allow_unused=True to "
                    "get None for it, or materialize_grads=True to get zeros"
                )
            result.append(_Tensor._wrap(np.zeros_like(t._data)) if materialize_grads else None)
            continue
        if id(g) in owned or g.base is not None or not g.flags.writeable:
            g = g.copy()  # the caller's array, another result, a view or a broadcast
        owned.add(id(g))
        result.append(_Tensor._wrap(g))
    return tuple(result)


# --------------------------------------------------------------------------- create_graph


def _needed(order: list[Function], captures: Any, pending: dict[int, Any]) -> set[Function]:
    """The nodes of ``order`` that lead to an input of :func:`grad` (producers last)."""
    needed: set[Function] = set()
    for fn in reversed(order):
        for p in fn.parents:
            if isinstance(p, Function):
                if p in needed or p in captures:
                    needed.add(fn)
                    break
            elif p is not None and id(p) in pending:
                needed.add(fn)
                break
    return needed


def _graph_hooks(owner: Function | Tensor, g: Tensor) -> Tensor:
    """Run ``owner``'s tensor hooks on the Tensor gradient ``g`` (recorded, as in PyTorch
    under create_graph) and fill a retained ``.grad``."""
    if id(owner) not in _TensorHooks.live:
        return g
    st = _active_hooks(owner)
    if st is None:
        return g
    for hook in list(st.hooks.values()):
        out = hook(g)
        if out is not None:
            _hook_result(hook, out, g.shape, g.dtype)
            g = out
    t = None if st.retain is None else st.retain()
    if t is not None:
        t.grad = g if t.grad is None else t.grad + g
    return g


def _as_grad_tensor(g: Any, t: Tensor) -> Tensor:
    """An output's upstream gradient as a Tensor of its dtype (kept in the graph if it is one)."""
    if not isinstance(g, _Tensor):
        g = _Tensor._wrap(np.asarray(g))
    if g.shape != t.shape:
        raise RuntimeError(
            f"autograd.grad: mismatch in shape: the gradient has shape {g.shape} and the "
            f"output has shape {t.shape}"
        )
    return g if g.dtype == t.dtype else g.to(t.dtype)


def _walk_graph(
    order: list[Function],
    grads: dict[Function, Tensor],
    who: str,
    leaf_sums: dict[int, list[Any]],
    all_leaves: bool,
    wanted: set[Function] | None = None,
    captures: dict[Function, Tensor | None] | None = None,
    needed: set[Function] | None = None,
) -> None:
    """The walk of ``create_graph=True``: as :func:`_walk`, with Tensor gradients.

    Each node runs its ``backward_graph`` with recording on, so the gradients it
    returns are in the graph. The saved arrays are kept (the new graph reaches the
    old nodes through their inputs and outputs). A leaf's gradient is summed in
    ``leaf_sums`` (``id -> [leaf, sum]``), for every leaf if ``all_leaves``, else for
    those listed.
    """
    global _grad_enabled
    prev_mode, _grad_enabled = _grad_enabled, True
    try:
        for fn in order:
            g = grads.pop(fn, None)
            if g is None:
                continue
            if captures is not None and fn in captures:  # as _capture: before the hooks
                goes_on = needed is not None and fn in needed  # if the walk goes on
                if goes_on:
                    captures[fn] = g
                g = _graph_hooks(fn, g)
                if not goes_on:
                    captures[fn] = g
                    continue
            else:
                g = _graph_hooks(fn, g)
            if fn.saved is None:
                raise RuntimeError(
                    f"{who} through {fn.name} a second time: its saved arrays were freed by the "
                    "previous backward() or autograd.grad(). Pass retain_graph=True to that "
                    "first call to keep them."
                )
            for counter, seen in fn.versions:
                if counter[0] != seen:
                    _check_versions(fn, who)
            in_grads = fn.backward_graph(g)
            del g
            if len(in_grads) != len(fn.parents):
                _bad_count(fn, in_grads)
            for parent, gi in zip(fn.parents, in_grads):
                if gi is None or parent is None:
                    continue
                if isinstance(parent, Function):
                    if wanted is not None and parent not in wanted:
                        continue
                    shape, dtype = parent.out_meta
                    if gi.shape != shape or gi.dtype != dtype:
                        _bad_grad(fn, gi, shape, dtype)
                    prev = grads.get(parent)
                    grads[parent] = gi if prev is None else prev + gi
                else:
                    if gi.shape != parent.shape or gi.dtype != parent.dtype:
                        _bad_grad(fn, gi, parent.shape, parent.dtype)
                    entry = leaf_sums.get(id(parent))
                    if entry is None:
                        if all_leaves:
                            leaf_sums[id(parent)] = [parent, gi]
                    else:
                        entry[1] = gi if entry[1] is None else entry[1] + gi
        for entry in leaf_sums.values():
            if entry[1] is not None:
                entry[1] = _graph_hooks(entry[0], entry[1])
    finally:
        _grad_enabled = prev_mode


def _unshared(g: Tensor, given: set[int]) -> Tensor:
    """``g``, or a recorded copy of it if it was already handed out (to another leaf,
    another result, or the caller) or if it is a view: later in-place updates of one must not
    reach the other, and a leaf's ``.grad`` must be writeable (clip_grad_norm_ scales it)."""
    if id(g) in given or g._data.base is not None or not g._data.flags.writeable:
        g = g.clone()  # recorded: the copy stays in the graph
    given.add(id(g))
    return g


def _backward_graph(tensor: Tensor, grad: Any) -> None:
    """:func:`backward` with ``create_graph=True``: leaves get gradients that are in the graph."""
    if grad is None:
        _root_grad(tensor._data)  # the scalar check
        g = _Tensor._wrap(np.ones(tensor.shape, dtype=tensor.dtype))
    else:
        g = _as_grad_tensor(grad, tensor)
    given = {id(g)}
    leaf_sums: dict[int, list[Any]] = {}
    root = tensor.grad_fn
    if root is None:
        leaf_sums[id(tensor)] = [tensor, g]
    else:
        _walk_graph(_toposort([root]), {root: g}, "backward", leaf_sums, True)
    for leaf, gl in leaf_sums.values():
        if gl is None:
            continue
        leaf.grad = _unshared(gl, given) if leaf.grad is None else leaf.grad + gl


def _grad_graph(
    outs: tuple[Tensor, ...],
    ins: tuple[Tensor, ...],
    gouts: tuple[Any, ...],
    allow_unused: bool,
    materialize_grads: bool,
) -> tuple[Tensor | None, ...]:
    """:func:`grad` with ``create_graph=True``: the results are in the graph."""
    leaf_sums: dict[int, list[Any]] = {}
    captures: dict[Function, Tensor | None] = {}
    for i, t in enumerate(ins):
        if not t.requires_grad:
            raise RuntimeError(
                f"autograd.grad: inputs[{i}] does not require grad; every input must be a "
                "tensor the outputs were computed from with requires_grad=True"
            )
        if t.grad_fn is None:
            leaf_sums[id(t)] = [t, None]
        else:
            captures[t.grad_fn] = None
    grads: dict[Function, Tensor] = {}
    given: set[int] = set()
    for i, (t, go) in enumerate(zip(outs, gouts)):
        if not t.requires_grad:
            raise RuntimeError(
                f"autograd.grad: outputs[{i}] does not require grad and has no grad_fn; it "
                "was not computed from a tensor with requires_grad=True"
            )
        if go is None:
            _root_grad(t._data, i)
            g = _Tensor._wrap(np.ones(t.shape, dtype=t.dtype))
        else:
            if not isinstance(go, (_Tensor, np.ndarray)):
                raise TypeError(
                    f"autograd.grad: grad_outputs[{i}] must be a Tensor, an array or None, "
                    f"got {type(go).__name__}"
                )
            g = _as_grad_tensor(go, t)
            given.add(id(g))
        if t.grad_fn is None:
            entry = leaf_sums.get(id(t))
            if entry is not None:
                entry[1] = g if entry[1] is None else entry[1] + g
        else:
            prev = grads.get(t.grad_fn)
            grads[t.grad_fn] = g if prev is None else prev + g
    if grads:
        order = _toposort(list(grads))
        needed = _needed(order, captures, leaf_sums)
        wanted = needed.union(captures)
        order = [fn for fn in order if fn in wanted]
        _walk_graph(order, grads, "autograd.grad", leaf_sums, False, wanted, captures, needed)
    result: list[Tensor | None] = []
    for i, t in enumerate(ins):
        g = leaf_sums[id(t)][1] if t.grad_fn is None else captures.get(t.grad_fn)
        if g is None:
            if not allow_unused:
                raise RuntimeError(
                    f"autograd.grad: inputs[{i}] appears to not have been used in the graph "
                    "(no gradient reached it from the outputs); pass allow_unused=True to "
                    "get None for it, or materialize_grads=True to get zeros"
                )
            result.append(_Tensor._wrap(np.zeros_like(t._data)) if materialize_grads else None)
            continue
        result.append(_unshared(g, given))
    return tuple(result)


def _bad_grad(fn: Function, gi: np.ndarray, shape: tuple[int, ...], dtype: np.dtype) -> None:
    raise RuntimeError(
        f"backward of {fn.name} returned a gradient of shape {gi.shape} and dtype {gi.dtype} "
        f"for an input of shape {shape} and dtype {dtype}"
    )


def _bad_count(fn: Function, in_grads: Any) -> None:
    raise RuntimeError(
        f"backward of {fn.name} returned {len(in_grads)} gradients for "
        f"{len(fn.parents)} inputs; it must return one (or None) per input"
    )


def _accumulate_leaf(leaf: Tensor, g: np.ndarray, owned: set[int]) -> None:
    """Add ``g`` to ``leaf.grad``.

    The first gradient a leaf gets in a pass is stored without a copy when nothing
    else can see it (not a view, not the caller's array, not given to another leaf);
    ``owned`` records such arrays, and later additions to them in the same pass are
    out of place because other nodes of the pass may still read them. A gradient
    left from an earlier pass belongs to the leaf and is added to in place (a held
    ``.grad`` tensor sees the sum, as in PyTorch; :func:`backward` does it after the
    walk, when no node of the pass reads it any more), unless that pass recorded it
    (``backward(create_graph=True)``): then nodes of this pass may hold its array (a
    penalty on ``x.grad``) and read it after this addition.
    """
    if leaf.grad is not None:
        cur = leaf.grad._data
        if id(cur) in owned or leaf.grad.grad_fn is not None:
            leaf.grad._data = _add(cur, g)
        else:
            cur += g
            leaf.grad._version[0] += 1  # a retained graph that saved it raises, as in PyTorch
        return
    if g.base is not None or id(g) in owned or not g.flags.writeable:
        g = np.array(g, copy=True)
    owned.add(id(g))
    leaf.grad = _Tensor._wrap(g)


from gradfit.autograd.function import FunctionCtx as FunctionCtx  # noqa: E402
from gradfit.autograd.function import once_differentiable as once_differentiable  # noqa: E402


def __getattr__(name: str) -> Any:
    """``gf.autograd.functional``, ``gf.autograd.gradcheck`` and ``gradgradcheck``, loaded
    on first use (they import the Tensor, which imports this module)."""
    import importlib

    if name == "functional":
        return importlib.import_module("gradfit.autograd.functional")
    if name in ("gradcheck", "gradgradcheck"):
        return getattr(importlib.import_module("gradfit.gradcheck"), name)
    raise AttributeError(f"module 'gradfit.autograd' has no attribute {name!r}")
