"""Higher-level derivatives of whole functions: vjp, jvp, jacobian, hessian, hvp, vhp.

PyTorch's ``torch.autograd.functional``, built on ``autograd.grad`` and, for the
second-order ones (``jvp``, ``hessian``, ``hvp``, ``vhp``), on ``create_graph=True``.
``func`` takes one Tensor per input and returns a Tensor or a tuple of Tensors. As
in PyTorch, ``inputs`` given as a Tensor give results as Tensors, given as a tuple
give tuples; an input the output does not depend on gets zeros (an error with
``strict=True``). The outputs are detached unless ``create_graph=True``, which keeps
everything in the graph so that the results can be differentiated again.

``vectorize`` is accepted and ignored: the Jacobian is built one output element at a
time (a Python loop of backward passes), so these are for small functions.
``jvp`` uses the double-vjp trick (the vjp is linear in its vector, so its vjp
is the jvp), as PyTorch does; ``hvp`` uses the Hessian's symmetry (equal to ``vhp``
for functions with continuous second derivatives).

Example:
    >>> import gradfit as gf
    >>> from gradfit.autograd.functional import hessian
    >>> hessian(lambda x: (x**3).sum(), gf.tensor([1.0, 2.0]))
    tensor([[ 6.,  0.],
            [ 0., 12.]])
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from gradfit.autograd import enable_grad
from gradfit.autograd import grad as _grad
from gradfit.tensor import Tensor

__all__ = ["hessian", "hvp", "jacobian", "jvp", "vhp", "vjp"]


def _tuple(x: Any, what: str, fn: str) -> tuple[bool, tuple[Tensor, ...]]:
    """(was it a tuple, the tensors as a tuple), checking every element is a Tensor."""
    is_tuple = isinstance(x, (tuple, list))
    xs = tuple(x) if is_tuple else (x,)
    for i, t in enumerate(xs):
        if not isinstance(t, Tensor):
            raise TypeError(
                f"{fn}: the {what} must be a Tensor or a tuple of Tensors, but "
                f"{what}[{i}] is {type(t).__name__}"
            )
    return is_tuple, xs


def _prepare(inputs: tuple[Tensor, ...], create_graph: bool) -> tuple[Tensor, ...]:
    """Inputs that require grad: kept in the graph with create_graph, else cut from it."""
    out = []
    for t in inputs:
        if create_graph and t.requires_grad:
            out.append(t)
        else:
            out.append(t.detach().requires_grad_(True))
    return tuple(out)


def _call(func: Callable[..., Any], xs: tuple[Tensor, ...], fn: str) -> tuple[bool, tuple]:
    with enable_grad():
        res = func(*xs)
    return _tuple(res, "outputs of func", fn)


def _grads(
    outs: tuple[Tensor, ...],
    xs: tuple[Tensor, ...],
    gouts: tuple[Tensor | None, ...],
    create_graph: bool,
    strict: bool,
    fn: str,
    retain: bool = True,
) -> tuple[Tensor, ...]:
    """d(outs)/d(xs) weighted by ``gouts``; zeros (or, if strict, an error) where unused."""
    pairs = [(o, g) for o, g in zip(outs, gouts) if o.requires_grad]
    res: tuple[Tensor | None, ...] = (None,) * len(xs)
    if pairs:
        with enable_grad():
            res = _grad(
                [o for o, _ in pairs],
                list(xs),
                [g for _, g in pairs],
                retain_graph=retain,
                create_graph=create_graph,
                allow_unused=True,
            )
    out = []
    for i, (g, x) in enumerate(zip(res, xs)):
        if g is None:
            if strict:
                raise RuntimeError(
                    f"{fn}: the output is independent of input {i}; this is not allowed in "
                    "strict mode"
                )
            g = Tensor._wrap(np.zeros(x.shape, dtype=x.dtype))
        out.append(g)
    return tuple(out)


def _finish(xs: tuple[Tensor, ...], is_tuple: bool, create_graph: bool) -> Any:
    if not create_graph:
        xs = tuple(t.detach() for t in xs)
    return xs if is_tuple else xs[0]


def _vectors(v: Any, like: tuple[Tensor, ...], fn: str, what: str) -> tuple[Tensor, ...]:
    if v is None:
        if len(like) != 1 or like[0].numel() != 1:
            raise RuntimeError(
                f"{fn}: v can only be None if the {what} is a single Tensor with one element"
            )
        return (Tensor._wrap(np.ones(like[0].shape, dtype=like[0].dtype)),)
    _, vs = _tuple(v, "v", fn)
    if len(vs) != len(like):
        raise RuntimeError(f"{fn}: v has {len(vs)} Tensors but the {what} has {len(like)}")
    for i, (a, b) in enumerate(zip(vs, like)):
        if a.shape != b.shape:
            raise RuntimeError(
                f"{fn}: v[{i}] has shape {a.shape} but the {what}[{i}] has shape {b.shape}"
            )
    return vs


def vjp(
    func: Callable[..., Any],
    inputs: Tensor | tuple[Tensor, ...],
    v: Tensor | tuple[Tensor, ...] | None = None,
    create_graph: bool = False,
    strict: bool = False,
) -> tuple[Any, Any]:
    """``(func(inputs), v^T J)``: the vector-Jacobian product at ``inputs``.

    ``v`` has the outputs' shapes (may be None for a one-element output).

    Example:
        >>> import gradfit as gf
        >>> from gradfit.autograd.functional import vjp
        >>> vjp(lambda x: x * x, gf.tensor([1.0, 2.0]), gf.tensor([1.0, 1.0]))[1]
        tensor([2., 4.])
    """
    is_tuple, xs = _tuple(inputs, "inputs", "vjp")
    xs = _prepare(xs, create_graph)
    out_tuple, outs = _call(func, xs, "vjp")
    vs = _vectors(v, outs, "vjp", "output")
    res = _grads(outs, xs, vs, create_graph, strict, "vjp")
    return _finish(outs, out_tuple, create_graph), _finish(res, is_tuple, create_graph)


def jvp(
    func: Callable[..., Any],
    inputs: Tensor | tuple[Tensor, ...],
    v: Tensor | tuple[Tensor, ...] | None = None,
    create_graph: bool = False,
    strict: bool = False,
) -> tuple[Any, Any]:
    """``(func(inputs), J v)``: the Jacobian-vector product at ``inputs``.

    ``v`` has the inputs' shapes (may be None for a one-element input). Computed with
    two backward passes (the double-vjp trick).

    Example:
        >>> import gradfit as gf
        >>> from gradfit.autograd.functional import jvp
        >>> jvp(lambda x: x * x, gf.tensor([1.0, 2.0]), gf.tensor([1.0, 0.0]))[1]
        tensor([2., 0.])
    """
    _, xs = _tuple(inputs, "inputs", "jvp")
    xs = _prepare(xs, create_graph)
    out_tuple, outs = _call(func, xs, "jvp")
    vs = _vectors(v, xs, "jvp", "input")
    us = tuple(Tensor._wrap(np.zeros(o.shape, dtype=o.dtype)).requires_grad_(True) for o in outs)
    g = _grads(outs, xs, us, True, strict, "jvp")
    used = [(gi, vi) for gi, vi in zip(g, vs) if gi.requires_grad]
    res: list[Tensor] = []
    if used:
        with enable_grad():
            res_t = _grad(
                [gi for gi, _ in used],
                list(us),
                [vi for _, vi in used],
                create_graph=create_graph,
                allow_unused=True,
            )
        for r, o in zip(res_t, outs):
            if r is None:
                if strict:
                    raise RuntimeError("jvp: the output is independent of the inputs (strict)")
                r = Tensor._wrap(np.zeros(o.shape, dtype=o.dtype))
            res.append(r)
    else:
        if strict:
            raise RuntimeError("jvp: the output is independent of the inputs (strict)")
        res = [Tensor._wrap(np.zeros(o.shape, dtype=o.dtype)) for o in outs]
    return _finish(outs, out_tuple, create_graph), _finish(tuple(res), out_tuple, create_graph)


def jacobian(
    func: Callable[..., Any],
    inputs: Tensor | tuple[Tensor, ...],
    create_graph: bool = False,
    strict: bool = False,
    vectorize: bool = False,
    strategy: str = "reverse-mode",
) -> Any:
    """The Jacobian of ``func`` at ``inputs``: d output / d input, of shape
    ``output.shape + input.shape``.

    One Tensor for one input and one output; a tuple over inputs for tuple inputs; a
    tuple over outputs (of those) for tuple outputs, as in PyTorch. ``vectorize`` is
    ignored; ``strategy`` must be ``"reverse-mode"`` (one backward pass per output
    element).

    Example:
        >>> import gradfit as gf
        >>> from gradfit.autograd.functional import jacobian
        >>> jacobian(lambda x: x * x, gf.tensor([1.0, 2.0]))
        tensor([[2., 0.],
                [0., 4.]])
    """
    if strategy != "reverse-mode":
        raise NotImplementedError(
            f"jacobian: strategy={strategy!r} is not supported; use strategy='reverse-mode'"
        )
    is_tuple, xs = _tuple(inputs, "inputs", "jacobian")
    xs = _prepare(xs, create_graph)
    out_tuple, outs = _call(func, xs, "jacobian")
    from gradfit.ops.shape import stack

    jac: list[tuple[Tensor, ...]] = []
    for o in outs:
        rows: list[list[Tensor]] = [[] for _ in xs]
        for j in range(o.numel()):
            onehot = np.zeros(o.numel(), dtype=o.dtype)
            onehot[j] = 1
            gs = _grads(
                (o,), xs, (Tensor._wrap(onehot.reshape(o.shape)),), create_graph, strict, "jacobian"
            )
            for k, g in enumerate(gs):
                rows[k].append(g)
        per_input = []
        for k, x in enumerate(xs):
            if rows[k]:
                j_k = stack(rows[k]).reshape(*o.shape, *x.shape)
            else:
                j_k = Tensor._wrap(np.zeros(o.shape + x.shape, dtype=x.dtype))
            per_input.append(j_k)
        jac.append(_finish(tuple(per_input), is_tuple, create_graph))
    return tuple(jac) if out_tuple else jac[0]


def hessian(
    func: Callable[..., Any],
    inputs: Tensor | tuple[Tensor, ...],
    create_graph: bool = False,
    strict: bool = False,
    vectorize: bool = False,
    outer_jacobian_strategy: str = "reverse-mode",
) -> Any:
    """The Hessian of the scalar function ``func`` at ``inputs``.

    For one input, a Tensor of shape ``input.shape + input.shape``; for a tuple of
    inputs, a tuple of tuples: ``[i][j]`` is d^2 f / d input_i d input_j.

    Example:
        >>> import gradfit as gf
        >>> from gradfit.autograd.functional import hessian
        >>> hessian(lambda x, y: (x * y).sum(), (gf.tensor([1.0]), gf.tensor([2.0])))[0][1]
        tensor([[1.]])
    """
    is_tuple, xs = _tuple(inputs, "inputs", "hessian")

    def gradient(*args: Tensor) -> tuple[Tensor, ...]:
        out_tuple, outs = _call(func, args, "hessian")
        if out_tuple or outs[0].numel() != 1:
            raise RuntimeError(
                "hessian: func must return a single Tensor with one element, got "
                f"{'a tuple' if out_tuple else 'shape ' + str(tuple(outs[0].shape))}"
            )
        return _grads(outs, args, (None,), True, strict, "hessian")

    res = jacobian(
        gradient, xs, create_graph=create_graph, strict=strict, strategy=outer_jacobian_strategy
    )
    if is_tuple:
        return res
    return res[0][0]


def _second(
    func: Callable[..., Any],
    inputs: Any,
    v: Any,
    create_graph: bool,
    strict: bool,
    fn: str,
) -> tuple[Any, Any]:
    is_tuple, xs = _tuple(inputs, "inputs", fn)
    xs = _prepare(xs, create_graph)
    out_tuple, outs = _call(func, xs, fn)
    if out_tuple or outs[0].numel() != 1:
        raise RuntimeError(f"{fn}: func must return a single Tensor with one element")
    vs = _vectors(v, xs, fn, "input")
    g = _grads(outs, xs, (None,), True, strict, fn)
    used = [(gi, vi, k) for k, (gi, vi) in enumerate(zip(g, vs)) if gi.requires_grad]
    res = [Tensor._wrap(np.zeros(x.shape, dtype=x.dtype)) for x in xs]
    if used:
        r = _grads(
            tuple(gi for gi, _, _ in used),
            xs,
            tuple(vi for _, vi, _ in used),
            create_graph,
            strict,
            fn,
            retain=create_graph,
        )
        res = list(r)
    elif strict:
        raise RuntimeError(f"{fn}: the gradient is independent of the inputs (strict)")
    return _finish(outs, False, create_graph), _finish(tuple(res), is_tuple, create_graph)


def vhp(
    func: Callable[..., Any],
    inputs: Tensor | tuple[Tensor, ...],
    v: Tensor | tuple[Tensor, ...] | None = None,
    create_graph: bool = False,
    strict: bool = False,
) -> tuple[Any, Any]:
    """``(func(inputs), v^T H)``: the vector-Hessian product of a scalar function.

    Example:
        >>> import gradfit as gf
        >>> from gradfit.autograd.functional import vhp
        >>> vhp(lambda x: (x**3).sum(), gf.tensor([1.0, 2.0]), gf.tensor([1.0, 1.0]))[1]
        tensor([ 6., 12.])
    """
    return _second(func, inputs, v, create_graph, strict, "vhp")


def hvp(
    func: Callable[..., Any],
    inputs: Tensor | tuple[Tensor, ...],
    v: Tensor | tuple[Tensor, ...] | None = None,
    create_graph: bool = False,
    strict: bool = False,
) -> tuple[Any, Any]:
    """``(func(inputs), H v)``: the Hessian-vector product of a scalar function.

    Computed as ``v^T H`` (the Hessian of a function with continuous second
    derivatives is symmetric), in two backward passes.

    Example:
        >>> import gradfit as gf
        >>> from gradfit.autograd.functional import hvp
        >>> hvp(lambda x: (x**3).sum(), gf.tensor([1.0, 2.0]), gf.tensor([1.0, 0.0]))[1]
        tensor([6., 0.])
    """
    return _second(func, inputs, v, create_graph, strict, "hvp")
