"""The chain rule, step by step: what ``backward()`` multiplies at each node.

:func:`explain_backward` walks the graph of ``out`` in the order backpropagation visits
it. At each node it shows the upstream gradient dout/dnode arriving there, the node's
local derivative with respect to each input, and their product, which is sent on to
that input. It ends with the gradient of every leaf, the values ``out.backward()`` puts
in ``.grad``. It computes with each node's own ``backward`` (its vector-Jacobian
product), so call it before ``out.backward()`` (which frees the saved arrays) or after
``out.backward(retain_graph=True)``. It does not touch ``.grad``.

Example:
    >>> import gradfit as gf
    >>> x = gf.tensor(3.0, requires_grad=True)
    >>> w = gf.tensor(2.0, requires_grad=True)
    >>> print(gf.viz.explain_backward(x * w + x, names={"x": x, "w": w}))
    Backward pass of a () tensor: 2 operations, 2 leaves
    step 1: Add -> output ()
      upstream d(out)/d(Add) = 1
      input 0 (Mul): local 1 x upstream 1 = 1
      input 1 (x): local 1 x upstream 1 = 1
    step 2: Mul -> output ()
      upstream d(out)/d(Mul) = 1
      input 0 (x): local 2 x upstream 1 = 2
      input 1 (w): local 3 x upstream 1 = 3
    leaf gradients:
      d(out)/d(x) = 3   (1 + 2)
      d(out)/d(w) = 3
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from gradfit.autograd import Function
from gradfit.tensor import Tensor

__all__ = ["backward_steps", "explain_backward"]


def _toposort(root: Function) -> list[Function]:
    """Nodes reachable from ``root``, each before the nodes it consumes (iterative DFS)."""
    order: list[Function] = []
    visited: set[int] = set()
    stack: list[tuple[Function, bool]] = [(root, False)]
    while stack:
        fn, done = stack.pop()
        if done:
            order.append(fn)
            continue
        if id(fn) in visited:
            continue
        visited.add(id(fn))
        stack.append((fn, True))
        for p in reversed(list(fn.parents)):
            if isinstance(p, Function) and id(p) not in visited:
                stack.append((p, False))
    order.reverse()
    return order


def _fmt(a: np.ndarray) -> str:
    a = np.asarray(a)
    if a.ndim == 0:
        return f"{float(a):.6g}"
    return np.array2string(a, precision=4, threshold=12, edgeitems=3, separator=", ").replace(
        "\n", " "
    )


def backward_steps(
    out: Tensor, grad: Any = None
) -> tuple[list[dict[str, Any]], dict[int, np.ndarray], list[Tensor]]:
    """The backward pass of ``out`` as data: one record per node, and the leaf gradients.

    Returns ``(steps, leaf_grads, leaves)``: each step is a dict with ``fn``,
    ``upstream`` and ``inputs`` (a list of ``(index, parent, local, contribution)``, where
    ``local`` is the node's backward applied to ones, which is the elementwise local
    derivative when input and output have the same shape, or ``None`` otherwise);
    ``leaf_grads`` maps ``id(leaf)`` to d(out)/d(leaf); ``leaves`` lists the leaves in the
    order first reached.

    Example:
        >>> import gradfit as gf
        >>> x = gf.tensor([1.0, 2.0], requires_grad=True)
        >>> steps, grads, leaves = gf.viz.explain.backward_steps((x * x).sum())
        >>> [s["fn"].name for s in steps], grads[id(x)]
        (['Sum', 'Mul'], array([2., 4.], dtype=float32))
    """
    if not isinstance(out, Tensor):
        raise TypeError(f"explain_backward: expected a gradfit Tensor, got {type(out).__name__}")
    if out.grad_fn is None:
        raise ValueError(
            "explain_backward: the tensor was not computed by recorded operations "
            "(it is a leaf, or was made under gf.no_grad()); there is no backward pass to explain"
        )
    if grad is None:
        if out._data.size != 1:
            raise ValueError(
                f"explain_backward: out has shape {out.shape}; pass grad= of that shape "
                "or explain a scalar (e.g. out.sum())"
            )
        g0 = np.ones(out.shape, dtype=out.dtype)
    else:
        g0 = np.asarray(grad._data if isinstance(grad, Tensor) else grad, dtype=out.dtype)
        if g0.shape != out.shape:
            raise ValueError(
                f"explain_backward: grad has shape {g0.shape} but out has shape {out.shape}"
            )
    order = _toposort(out.grad_fn)
    for fn in order:
        if fn.saved is None:
            raise RuntimeError(
                f"explain_backward: the saved arrays of {fn.name} were freed by an earlier "
                "backward(); call explain_backward before out.backward(), or call "
                "out.backward(retain_graph=True)"
            )
    grads: dict[int, np.ndarray] = {id(out.grad_fn): g0}
    leaf_grads: dict[int, np.ndarray] = {}
    leaves: list[Tensor] = []
    steps: list[dict[str, Any]] = []
    for fn in order:
        up = grads.pop(id(fn), None)
        if up is None:
            continue
        contribs = fn.backward(up)
        shape, dtype = fn.out_meta
        local_all = None
        inputs: list[tuple[int, Any, Any, np.ndarray]] = []
        for i, (parent, gi) in enumerate(zip(fn.parents, contribs)):
            if parent is None or gi is None or not fn.needs_input_grad[i]:
                continue
            local = None
            pshape = parent.out_meta[0] if isinstance(parent, Function) else parent.shape
            if tuple(pshape) == tuple(shape):
                if local_all is None:
                    local_all = fn.backward(np.ones(shape, dtype=dtype))
                local = local_all[i]
            inputs.append((i, parent, local, gi))
            if isinstance(parent, Function):
                prev = grads.get(id(parent))
                grads[id(parent)] = gi if prev is None else prev + gi
            else:
                if id(parent) not in leaf_grads:
                    leaves.append(parent)
                    leaf_grads[id(parent)] = np.array(gi, copy=True)
                else:
                    leaf_grads[id(parent)] = leaf_grads[id(parent)] + gi
        steps.append({"fn": fn, "upstream": up, "inputs": inputs})
    return steps, leaf_grads, leaves


def explain_backward(
    out: Tensor, names: Mapping[str, Tensor] | Any = None, grad: Any = None
) -> str:
    """Explain the backward pass of ``out`` in words and numbers; returns the text.

    Args:
        out: a tensor computed from leaves that require grad (a scalar, or pass ``grad``).
        names: a dict name -> leaf tensor or a ``Module`` (its parameter names are used);
            other leaves are called ``leaf0``, ``leaf1``, ... in the order reached.
        grad: the gradient of the final output with respect to ``out`` (default 1).

    Each step lists, for each input of a node, ``local x upstream = contribution`` when
    the derivative is elementwise (input and output have the same shape); otherwise it
    shows the vector-Jacobian product the node computes (a sum, a matrix product or a
    broadcast). The leaf gradients at the end equal what ``out.backward()`` stores in
    ``.grad`` (for leaves whose ``.grad`` was empty).

    Example:
        >>> import gradfit as gf
        >>> a = gf.tensor([1.0, -2.0], requires_grad=True)
        >>> text = gf.viz.explain_backward(a.relu().sum(), names={"a": a})
        >>> print(text.splitlines()[-1])
          d(out)/d(a) = [1., 0.]
    """
    steps, leaf_grads, leaves = backward_steps(out, grad)
    label: dict[int, str] = {}
    if names is not None:
        pairs = names.named_parameters() if hasattr(names, "named_parameters") else names.items()
        for n, t in pairs:
            label[id(t)] = str(n)
    for t in leaves:
        if id(t) not in label:
            label[id(t)] = f"leaf{sum(1 for v in label.values() if v.startswith('leaf'))}"

    def name_of(p: Any) -> str:
        return p.name if isinstance(p, Function) else label[id(p)]

    lines = [
        f"Backward pass of a {_shape_str(out.shape)} tensor: {len(steps)} operations, "
        f"{len(leaves)} leaves"
    ]
    per_leaf: dict[int, list[np.ndarray]] = {}
    for k, step in enumerate(steps, 1):
        fn = step["fn"]
        lines.append(f"step {k}: {fn.name} -> output {_shape_str(fn.out_meta[0])}")
        lines.append(f"  upstream d(out)/d({fn.name}) = {_fmt(step['upstream'])}")
        for idx, parent, local, contrib in step["inputs"]:
            head = f"  input {idx} ({name_of(parent)}): "
            if local is not None:
                lines.append(
                    head + f"local {_fmt(local)} x upstream {_fmt(step['upstream'])} "
                    f"= {_fmt(contrib)}"
                )
            else:
                lines.append(head + f"vector-Jacobian product of upstream = {_fmt(contrib)}")
            if not isinstance(parent, Function):
                per_leaf.setdefault(id(parent), []).append(contrib)
    lines.append("leaf gradients:")
    for t in leaves:
        line = f"  d(out)/d({label[id(t)]}) = {_fmt(leaf_grads[id(t)])}"
        parts = per_leaf.get(id(t), [])
        if len(parts) > 1:
            line += "   (" + " + ".join(_fmt(p) for p in parts) + ")"
        lines.append(line)
    return "\n".join(lines)


def _shape_str(shape: tuple[int, ...]) -> str:
    return "(" + ", ".join(str(s) for s in shape) + ("," if len(shape) == 1 else "") + ")"
