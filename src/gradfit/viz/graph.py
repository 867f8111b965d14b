"""Draw the computational graph of a tensor: Graphviz DOT text always, SVG/PNG with ``dot``.

The graph is read from the objects the engine already keeps: ``tensor.grad_fn`` is the
node that made a tensor, ``fn.parents`` holds its inputs' nodes (or the leaf tensors, or
``None`` for inputs that need no gradient), ``fn.name`` the operation and ``fn.out_meta``
the ``(shape, dtype)`` of its output. The walk is iterative, so deep graphs are fine.

Each operation node shows its name and output shape; each leaf shows its name (module
parameters get their ``named_parameters()`` names), shape and, after ``backward()``, the
norm of its gradient. Graphs with more than ``max_nodes`` nodes are collapsed: the
operations that use a module's parameters become one box per module, and chains of
parameter-free operations become one box.

Example:
    >>> import gradfit as gf
    >>> lin = gf.nn.Linear(3, 2)
    >>> loss = lin(gf.ones(4, 3)).relu().sum()
    >>> loss.backward()
    >>> g = gf.viz.draw_graph(loss, params=lin)
    >>> [n.label[0] for n in g.nodes]
    ['Sum', 'ReLU', 'Linear', 'weight', 'bias']
    >>> "(4, 2)" in g.dot and "grad norm" in g.dot
    True
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from gradfit.autograd import Function
from gradfit.tensor import Tensor
from gradfit.viz._util import atomic_write

__all__ = ["Graph", "GraphNode", "GraphvizNotFoundError", "draw_graph"]

_INSTALL_HINT = (
    "the Graphviz 'dot' program is needed to write {fmt} files but was not found on PATH. "
    "Install Graphviz itself: 'apt-get install graphviz' (Debian/Ubuntu), 'brew install "
    "graphviz' (macOS), 'conda install graphviz' or https://graphviz.org/download/. "
    "Note that 'pip install graphviz' installs only Python bindings, not the dot program. "
    "Meanwhile, save as .dot (plain text) and render it elsewhere."
)

_STYLE = {
    "op": 'shape=box, style="rounded,filled", fillcolor="#f2f2f2"',
    "param": 'shape=box, style=filled, fillcolor="#cfe2f3"',
    "input": 'shape=box, style=filled, fillcolor="#d9ead3"',
    "module": 'shape=box3d, style=filled, fillcolor="#fce5cd"',
    "chain": 'shape=box, style="rounded,filled", fillcolor="#f2f2f2"',
}


class GraphvizNotFoundError(RuntimeError):
    """The Graphviz ``dot`` program is not installed (needed for SVG/PNG/PDF output)."""


@dataclass
class GraphNode:
    """One box of the drawing.

    ``kind`` is ``"op"``, ``"param"``, ``"input"`` (a leaf that is not a named parameter),
    ``"module"`` (collapsed module) or ``"chain"`` (collapsed run of operations);
    ``label`` holds its text lines; ``ops`` the operation names it stands for.

    Example:
        >>> GraphNode("n0", "op", ["Sum", "()"], ["Sum"]).kind
        'op'
    """

    id: str
    kind: str
    label: list[str]
    ops: list[str] = field(default_factory=list)
    is_output: bool = False


class Graph:
    """The drawn graph: ``nodes``, ``edges`` (input -> consumer), ``dot`` text and ``save``.

    Example:
        >>> import gradfit as gf
        >>> x = gf.tensor([1.0, 2.0], requires_grad=True)
        >>> g = gf.viz.draw_graph((x * x).sum(), params={"x": x})
        >>> len(g.nodes), len(g.edges)
        (3, 3)
        >>> g.dot.splitlines()[0]
        'digraph gradfit {'
    """

    def __init__(self, nodes: list[GraphNode], edges: list[tuple[str, str]], collapsed: bool):
        self.nodes = nodes
        self.edges = edges
        self.collapsed = collapsed

    def __len__(self) -> int:
        return len(self.nodes)

    def __repr__(self) -> str:
        extra = ", collapsed" if self.collapsed else ""
        return f"Graph({len(self.nodes)} nodes, {len(self.edges)} edges{extra})"

    @property
    def dot(self) -> str:
        """The graph in Graphviz's DOT language."""
        lines = [
            "digraph gradfit {",
            '  graph [rankdir=TB, fontname="Helvetica"];',
            '  node [fontname="Helvetica", fontsize=11];',
            "  edge [arrowsize=0.7];",
        ]
        for n in self.nodes:
            label = "\\n".join(_escape(s) for s in n.label)
            style = _STYLE[n.kind]
            if n.is_output:
                style += ", peripheries=2"
            lines.append(f'  {n.id} [label="{label}", {style}];')
        for a, b in self.edges:
            lines.append(f"  {a} -> {b};")
        lines.append("}")
        return "\n".join(lines) + "\n"

    def render(self, fmt: str = "svg") -> bytes:
        """Run Graphviz ``dot`` and return the drawing in ``fmt`` (svg, png, pdf).

        Raises :class:`GraphvizNotFoundError` when ``dot`` is not installed.
        """
        exe = shutil.which("dot")
        if exe is None:
            raise GraphvizNotFoundError(_INSTALL_HINT.format(fmt=fmt.upper()))
        proc = subprocess.run(
            [exe, f"-T{fmt}"], input=self.dot.encode(), capture_output=True, check=False
        )
        if proc.returncode != 0:
            raise RuntimeError(f"dot -T{fmt} failed: {proc.stderr.decode(errors='replace')}")
        return proc.stdout

    def save(self, path: str | os.PathLike[str]) -> Path:
        """Write the graph to ``path``: ``.dot``/``.gv`` as text, ``.svg``/``.png``/``.pdf`` via dot.

        The file is written atomically. Returns the path.
        """
        path = Path(path)
        fmt = path.suffix.lower().lstrip(".")
        if fmt in ("dot", "gv"):
            return atomic_write(path, self.dot)
        if fmt in ("svg", "png", "pdf"):
            return atomic_write(path, self.render(fmt))
        raise ValueError(
            f"draw_graph: cannot save {path}: expected a .dot, .gv, .svg, .png or .pdf file name"
        )

    def _repr_svg_(self) -> str | None:  # Jupyter
        try:
            return self.render("svg").decode()
        except (GraphvizNotFoundError, RuntimeError):
            return None


def _escape(s: str) -> str:
    return s.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def _shape(shape: tuple[int, ...]) -> str:
    return "(" + ", ".join(str(int(s)) for s in shape) + ("," if len(shape) == 1 else "") + ")"


def _param_names(params: Any) -> dict[int, str]:
    if params is None:
        return {}
    if hasattr(params, "named_parameters"):
        return {id(p): n for n, p in params.named_parameters()}
    items: Iterable[Any] = params.items() if isinstance(params, Mapping) else params
    out: dict[int, str] = {}
    try:
        for name, t in items:
            if not isinstance(t, Tensor):
                raise TypeError
            out[id(t)] = str(name)
    except (TypeError, ValueError):
        raise TypeError(
            "draw_graph: params must be a Module, a dict name -> Tensor or (name, Tensor) pairs, "
            f"got {type(params).__name__}"
        ) from None
    return out


def _grad_norm(t: Tensor) -> str | None:
    if t.grad is None:
        return None
    g = np.asarray(t.grad._data, dtype=np.float64)
    return f"grad norm {float(np.sqrt(np.sum(g * g))):.4g}"


def _walk(tensor: Tensor) -> tuple[list[Any], list[tuple[int, int]], dict[int, int]]:
    """Objects (Functions and leaf Tensors) in discovery order and edges between their indices."""
    index: dict[int, int] = {}
    objs: list[Any] = []

    def ident(obj: Any) -> int:
        k = id(obj)
        if k not in index:
            index[k] = len(objs)
            objs.append(obj)
        return index[k]

    edges: list[tuple[int, int]] = []
    root = tensor.grad_fn if tensor.grad_fn is not None else tensor
    ident(root)
    stack = [root]
    expanded: set[int] = set()
    while stack:
        obj = stack.pop()
        if not isinstance(obj, Function) or id(obj) in expanded:
            continue
        expanded.add(id(obj))
        me = ident(obj)
        parents = getattr(obj, "parents", None) or ()
        for p in parents:
            if p is None:
                continue
            edges.append((ident(p), me))
            if isinstance(p, Function) and id(p) not in expanded:
                stack.append(p)
    return objs, edges, index


def draw_graph(
    tensor: Tensor,
    params: Any = None,
    collapse: bool | str = "auto",
    max_nodes: int = 40,
    depth: int | None = None,
) -> Graph:
    """Draw the graph that computed ``tensor`` (usually a loss).

    Args:
        tensor: the tensor whose history to draw.
        params: a ``Module`` (its ``named_parameters()`` name the leaves), a dict
            name -> Tensor, or (name, Tensor) pairs. Other leaves are called "input".
        collapse: ``"auto"`` collapses when the graph has more than ``max_nodes`` nodes;
            ``True`` always; ``False`` never.
        max_nodes: the size above which ``"auto"`` collapses.
        depth: collapse modules by the first ``depth`` parts of their dotted name
            (``None``: the full module path, e.g. ``encoder.0``).

    Returns:
        a :class:`Graph`; ``.dot`` is the DOT text, ``.save("g.svg")`` renders it.

    Example:
        >>> import gradfit as gf
        >>> a = gf.tensor(2.0, requires_grad=True)
        >>> b = gf.tensor(3.0, requires_grad=True)
        >>> (a * b).backward()
        >>> g = gf.viz.draw_graph(a * b, params={"a": a, "b": b})
        >>> print(g.dot)  # doctest: +ELLIPSIS
        digraph gradfit {
        ...
          n0 [label="Mul\\n()\\nfloat32", ...peripheries=2];
          n1 [label="a\\n()\\ngrad norm 3", ...];
          n2 [label="b\\n()\\ngrad norm 2", ...];
          n1 -> n0;
          n2 -> n0;
        }
    """
    if not isinstance(tensor, Tensor):
        raise TypeError(f"draw_graph: expected a gradfit Tensor, got {type(tensor).__name__}")
    if collapse not in (True, False, "auto"):
        raise ValueError(f"draw_graph: collapse must be True, False or 'auto', got {collapse!r}")
    if not isinstance(max_nodes, int) or max_nodes < 1:
        raise ValueError(f"draw_graph: max_nodes must be a positive int, got {max_nodes!r}")
    names = _param_names(params)
    objs, edges, _ = _walk(tensor)

    nodes: list[GraphNode] = []
    for i, obj in enumerate(objs):
        nid = f"n{i}"
        if isinstance(obj, Function):
            shape, dtype = obj.out_meta
            nodes.append(GraphNode(nid, "op", [obj.name, _shape(shape), str(dtype)], [obj.name]))
        else:
            name = names.get(id(obj))
            kind = "param" if name is not None else "input"
            label = [name if name is not None else "input", _shape(obj.shape)]
            gn = _grad_norm(obj)
            if gn is not None:
                label.append(gn)
            nodes.append(GraphNode(nid, kind, label))
    nodes[0].is_output = True
    str_edges = [(f"n{a}", f"n{b}") for a, b in edges]

    if collapse is True or (collapse == "auto" and len(nodes) > max_nodes):
        nodes, str_edges = _collapse_modules(objs, nodes, edges, names, depth)
        if collapse is True or len(nodes) > max_nodes:
            nodes, str_edges = _collapse_chains(nodes, str_edges)
        return Graph(nodes, str_edges, collapsed=True)
    return Graph(nodes, str_edges, collapsed=False)


def _module_of(name: str, depth: int | None) -> str | None:
    if "." not in name:
        return None
    parts = name.split(".")[:-1]
    if depth is not None:
        parts = parts[:depth]
    return ".".join(parts) or None


def _collapse_modules(
    objs: list[Any],
    nodes: list[GraphNode],
    edges: list[tuple[int, int]],
    names: dict[int, str],
    depth: int | None,
) -> tuple[list[GraphNode], list[tuple[str, str]]]:
    """Merge each module's parameters and the operations that use them into one node."""
    group: dict[int, str] = {}
    for i, obj in enumerate(objs):
        if isinstance(obj, Tensor) and id(obj) in names:
            mod = _module_of(names[id(obj)], depth)
            if mod is not None:
                group[i] = mod
    for a, b in edges:  # an op consuming a module's parameter belongs to that module
        if a in group and b not in group and isinstance(objs[b], Function):
            group[b] = group[a]
    consumers: dict[int, list[int]] = {}
    for a, b in edges:
        consumers.setdefault(a, []).append(b)

    rep: dict[int, str] = {}
    new_nodes: list[GraphNode] = []
    by_module: dict[str, GraphNode] = {}
    for i, node in enumerate(nodes):
        mod = group.get(i)
        if mod is None:
            rep[i] = node.id
            new_nodes.append(node)
            continue
        gnode = by_module.get(mod)
        if gnode is None:
            gnode = GraphNode(f"m{len(by_module)}", "module", [f"module {mod}"])
            gnode.label.append("")  # ops line, filled below
            by_module[mod] = gnode
            new_nodes.append(gnode)
        rep[i] = gnode.id
        gnode.is_output = gnode.is_output or node.is_output
        obj = objs[i]
        if isinstance(obj, Function):
            gnode.ops.append(obj.name)
            leaves_group = any(group.get(c) != mod for c in consumers.get(i, [])) or node.is_output
            if leaves_group:
                gnode.label.append("out " + _shape(obj.out_meta[0]))
        else:
            pname = names[id(obj)].split(".")[-1]
            gn = _grad_norm(obj)
            gnode.label.append(
                f"{pname} {_shape(obj.shape)}" + (f" ({gn})" if gn is not None else "")
            )
    for gnode in by_module.values():
        gnode.label[1] = " + ".join(dict.fromkeys(gnode.ops)) or "(parameters)"
    seen: set[tuple[str, str]] = set()
    new_edges: list[tuple[str, str]] = []
    for a, b in edges:
        e = (rep[a], rep[b])
        if e[0] != e[1] and e not in seen:
            seen.add(e)
            new_edges.append(e)
    return new_nodes, new_edges


def _collapse_chains(
    nodes: list[GraphNode], edges: list[tuple[str, str]]
) -> tuple[list[GraphNode], list[tuple[str, str]]]:
    """Merge runs of single-input, single-consumer operation nodes into one node."""
    by_id = {n.id: n for n in nodes}
    ins: dict[str, list[str]] = {n.id: [] for n in nodes}
    outs: dict[str, list[str]] = {n.id: [] for n in nodes}
    for a, b in edges:
        outs[a].append(b)
        ins[b].append(a)
    # nodes are in discovery order from the output, so a consumer comes before its input
    head: dict[str, str] = {}
    for n in nodes:
        if n.kind != "op":
            continue
        cons = outs[n.id]
        if len(cons) == 1 and by_id[cons[0]].kind in ("op", "chain") and len(ins[cons[0]]) == 1:
            head[n.id] = head.get(cons[0], cons[0])
    if not head:
        return nodes, edges
    members: dict[str, list[str]] = {}
    for nid, h in head.items():
        members.setdefault(h, []).append(nid)
    new_nodes: list[GraphNode] = []
    for n in nodes:
        if n.id in head:
            continue
        if n.id in members:
            chain = [*reversed(members[n.id]), n.id]  # input side first
            ops = [op for c in chain for op in by_id[c].ops]
            label = [" > ".join(ops), "out " + n.label[1]]
            n = GraphNode(n.id, "chain", label, ops, n.is_output)
        new_nodes.append(n)
    rep = {nid: head.get(nid, nid) for nid in by_id}
    seen: set[tuple[str, str]] = set()
    new_edges: list[tuple[str, str]] = []
    for a, b in edges:
        e = (rep[a], rep[b])
        if e[0] != e[1] and e not in seen:
            seen.add(e)
            new_edges.append(e)
    return new_nodes, new_edges
