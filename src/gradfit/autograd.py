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

Example:
    >>> import gradfit as gf
    >>> x = gf.tensor([1.0, 2.0], requires_grad=True)
    >>> (x * x).sum().backward()
    >>> x.grad
    tensor([2., 4.])
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

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
    out = grad.sum(axis=axes, keepdims=True) if axes else grad
    return out.reshape(shape)


# --------------------------------------------------------------------------- Function


class Function:
    """One differentiable operation and, once applied, one node of the graph.

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

    __slots__ = ("__weakref__", "needs_input_grad", "out_meta", "parents", "saved", "versions")

    #: Set on subclasses that cannot be differentiated (argmax, comparisons).
    differentiable = True

    def forward(self, *args: Any, **kwargs: Any) -> np.ndarray:
        raise NotImplementedError

    def backward(self, grad: np.ndarray) -> tuple[np.ndarray | None, ...]:
        raise NotImplementedError

    @property
    def name(self) -> str:
        """The operation's name as shown in errors and graphs."""
        return type(self).__name__

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
                    out = ctx.forward(a.data, **kwargs)
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
                    out = ctx.forward(a.data, b.data, **kwargs)
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
                    out = ctx.forward(*[t.data for t in inputs], **kwargs)
                    ctx.parents = tuple(
                        [(t.grad_fn or t) if t.requires_grad else None for t in inputs]
                    )
                    versions = [(t._version, t._version[0]) for t in inputs]
                    result = _Tensor._from_op(out, ctx)
                    versions.append((result._version, 0))
                    ctx.versions = tuple(versions)
                    return result
        ctx.needs_input_grad = _NO_GRADS[n] if n < 8 else (False,) * n
        return _Tensor._from_op(ctx.forward(*[t.data for t in inputs], **kwargs), None)

    def __repr__(self) -> str:
        return f"<{self.name}>"


_Tensor: Any = None  # set by gradfit.tensor to break the import cycle
_NO_GRADS = [(False,) * n for n in range(8)]
_NEEDS_ONE = (True,)


def _check_versions(fn: Function) -> None:
    for i, (counter, seen) in enumerate(fn.versions):
        if counter[0] != seen:
            what = "its output" if i == len(fn.versions) - 1 else f"input {i}"
            raise RuntimeError(
                f"backward through {fn.name}: {what} was modified by an in-place operation "
                "after it was used; the gradient would be wrong. Use an out-of-place "
                "operation (x = x + y) or modify it after backward()."
            )


def _toposort(root: Function) -> list[Function]:
    """Nodes reachable from ``root``, each after every node that consumes it (iterative DFS)."""
    order: list[Function] = []
    visited: set[Function] = set()  # Functions hash by identity
    stack: list[tuple[Function, bool]] = [(root, False)]
    push, pop = stack.append, stack.pop
    while stack:
        fn, expanded = pop()
        if expanded:
            order.append(fn)
            continue
        if fn in visited:
            continue
        visited.add(fn)
        push((fn, True))
        for p in fn.parents:
            if isinstance(p, Function) and p not in visited:  # leaves end the walk
                push((p, False))
    order.reverse()
    return order


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
    if create_graph:
        raise NotImplementedError(
            "backward(create_graph=True): gradients of gradients are not supported yet"
        )
    if not tensor.requires_grad:
        raise RuntimeError(
            "backward: this tensor does not require grad and has no grad_fn; "
            "create the inputs with requires_grad=True (and not under gf.no_grad())"
        )
    if grad is None:
        if tensor.data.size != 1:
            raise RuntimeError(
                f"backward: grad can be implicitly created only for a scalar output, "
                f"but the tensor has shape {tensor.shape}; pass a gradient of that shape "
                "(t.backward(gf.ones_like(t))) or reduce it first (t.sum().backward())"
            )
        grad = np.ones(tensor.shape, dtype=tensor.dtype)
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

    root = tensor.grad_fn
    if root is None:  # a leaf
        _accumulate_leaf(tensor, grad, owned)
        return

    grads: dict[Function, np.ndarray] = {root: grad}
    pop = grads.pop
    for fn in _toposort(root):
        g = pop(fn, None)
        if g is None:
            continue
        saved = fn.saved
        if saved is None:
            raise RuntimeError(
                f"backward through {fn.name} a second time: its saved arrays were freed by the "
                "first backward(). Pass retain_graph=True to the first backward() to keep them."
            )
        for counter, seen in fn.versions:
            if counter[0] != seen:
                _check_versions(fn)
        in_grads = fn.backward(g)
        del g
        if saved and not retain_graph:
            fn.saved = None  # release the arrays as the walk goes
        for parent, gi, need in zip(fn.parents, in_grads, fn.needs_input_grad, strict=True):
            if gi is None or parent is None or not need:
                continue
            if isinstance(parent, Function):
                shape, dtype = parent.out_meta
                if gi.shape != shape or gi.dtype != dtype:
                    _bad_grad(fn, gi, shape, dtype)
                prev = grads.get(parent)
                grads[parent] = gi if prev is None else prev + gi
            else:
                if gi.shape != parent.data.shape or gi.dtype != parent.data.dtype:
                    _bad_grad(fn, gi, parent.data.shape, parent.data.dtype)
                _accumulate_leaf(parent, gi, owned)


def _bad_grad(fn: Function, gi: np.ndarray, shape: tuple[int, ...], dtype: np.dtype) -> None:
    raise RuntimeError(
        f"backward of {fn.name} returned a gradient of shape {gi.shape} and dtype {gi.dtype} "
        f"for an input of shape {shape} and dtype {dtype}"
    )


def _accumulate_leaf(leaf: Tensor, g: np.ndarray, owned: set[int]) -> None:
    """Add ``g`` to ``leaf.grad``.

    The first gradient a leaf gets in a pass is stored without a copy when nothing
    else can see it (not a view, not the caller's array, not given to another leaf);
    ``owned`` records such arrays, and later additions to them in the same pass are
    out of place because other nodes of the pass may still read them. A gradient
    left from an earlier pass belongs to the leaf alone and is added to in place.
    """
    if leaf.grad is not None:
        cur = leaf.grad.data
        if id(cur) in owned:
            leaf.grad.data = np.asarray(cur + g)  # 0-d sums come back as NumPy scalars
        else:
            cur += g
        return
    if g.base is not None or id(g) in owned or not g.flags.writeable:
        g = np.array(g, copy=True)
    owned.add(id(g))
    leaf.grad = _Tensor._wrap(g)
