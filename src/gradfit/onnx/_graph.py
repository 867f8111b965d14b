"""The graph being built by :func:`gradfit.onnx.export`: nodes, weights, unique names.

A thin layer over ``onnx.helper``: converters call :meth:`Graph.op` to add one node and
:meth:`Graph.const` to add one weight (an initializer); nothing here writes protobuf by hand.

Example:
    >>> import numpy as np
    >>> from gradfit.onnx._graph import Graph
    >>> g = Graph()
    >>> w = g.const(np.ones((2, 2), np.float32), "w")
    >>> g.op("MatMul", ["x", w])
    'MatMul_2'
"""

from __future__ import annotations

from typing import Any

import numpy as np


class Graph:
    """Collects ONNX nodes and initializers while the module tree is walked."""

    def __init__(self, opset: int = 17) -> None:
        self.opset = opset  # converters whose ops changed between opsets read it
        self.nodes: list[Any] = []
        self.initializers: list[Any] = []
        self._count = 0

    def fresh(self, prefix: str) -> str:
        """A name not used before in this graph, e.g. ``Relu_3``."""
        self._count += 1
        return f"{prefix}_{self._count}"

    def const(self, value: Any, prefix: str = "const") -> str:
        """Add ``value`` (an array, a scalar or a gf.Tensor) as an initializer; its name.

        float64 stays float64 and float32 stays float32; Python ints become int64.
        """
        from onnx import numpy_helper

        arr = np.asarray(value._data if hasattr(value, "_data") else value)
        if arr.dtype == np.int32 or (arr.dtype.kind == "i" and arr.dtype != np.int64):
            arr = arr.astype(np.int64)
        name = self.fresh(prefix)
        self.initializers.append(numpy_helper.from_array(np.array(arr, order="C"), name))
        return name

    def ints(self, values: Any, prefix: str = "shape") -> str:
        """An int64 1-D initializer (shapes, axes, indices)."""
        return self.const(np.asarray(values, dtype=np.int64).reshape(-1), prefix)

    def op(self, op_type: str, inputs: list[str], n_out: int = 1, **attrs: Any) -> Any:
        """Add one node; returns its output name (a list of names when ``n_out > 1``)."""
        from onnx import helper

        outs = [self.fresh(op_type) for _ in range(n_out)]
        attrs = {k: v for k, v in attrs.items() if v is not None}
        self.nodes.append(
            helper.make_node(op_type, inputs, outs, name=self.fresh(op_type + "_node"), **attrs)
        )
        return outs[0] if n_out == 1 else outs
