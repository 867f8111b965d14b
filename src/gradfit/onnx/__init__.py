"""Export a gradfit model to ONNX, to serve it with ONNX Runtime or any other ONNX runtime.

``gf.onnx.export(model, args, "model.onnx", input_names=..., output_names=...,
dynamic_axes=..., opset_version=17)`` has ``torch.onnx.export``'s signature. It needs the
optional ``onnx`` package (``pip install 'gradfit[onnx]'``); ``import gradfit`` does not
import it.

How it works: no tracing. The exporter walks the module tree: every supported layer
type has a converter (in :mod:`gradfit.onnx._converters`) that emits its ONNX nodes
with ``onnx.helper``; ``Sequential`` chains its children; the ready-made models with a
custom ``forward`` (``gf.models.CNN``, ``CNN1d``, ``MatrixFactorization``, the recurrent
classifiers and ``CharLM``) have converters of their own. gradfit's forward pass runs
beside the walk on the example input, so converters know every static shape, while
dimensions that vary (the batch) are never baked into the graph: they are copied
(``Reshape`` with 0) or inferred (-1). A module whose class has no converter (a user's
module with its own ``forward``, say a residual block) is refused with
``NotImplementedError`` naming the class, unless a converter is added with
:func:`register_converter`.

Supported: Linear, Conv1d/Conv2d (stride, padding incl. 'same'/'valid', dilation,
groups), MaxPool1d/2d, AvgPool1d/2d, AdaptiveAvgPool2d (to sizes that divide the
input), BatchNorm1d/2d and LayerNorm (eval mode), Dropout and Identity (identity),
Embedding (Gather), ReLU, LeakyReLU, ELU, GELU, SiLU, Sigmoid, Tanh, Softplus, Softmax,
LogSoftmax, Flatten, Unflatten, RNN/GRU/LSTM (any layers, bidirectional, batch_first;
no proj_size or initial state), MultiheadAttention (query, key, value; kdim/vdim; returns the
output and the head-averaged weights), TransformerEncoderLayer/Encoder,
TransformerDecoderLayer/Decoder and Transformer (relu or gelu, norm first or last; masks
only where a ready-made model builds them: CharLM's causal mask), every model of
``gf.models``.

Example:
    >>> import io, gradfit as gf
    >>> net = gf.nn.Sequential(gf.nn.Linear(4, 8), gf.nn.ReLU(), gf.nn.Linear(8, 2))
    >>> buf = io.BytesIO()
    >>> proto = gf.onnx.export(net, gf.randn(1, 4), buf, input_names=["x"],
    ...                        output_names=["y"], dynamic_axes={"x": {0: "batch"}, "y": {0: "batch"}})
    >>> [n.op_type for n in proto.graph.node]
    ['MatMul', 'Add', 'Relu', 'MatMul', 'Add']
"""

from __future__ import annotations

import io
import os
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

from gradfit.nn.module import Module
from gradfit.tensor import Tensor

__all__ = ["export", "register_converter"]

_MIN_OPSET = 17  # LayerNormalization


def register_converter(cls: type, fn: Callable[..., Any] | None = None) -> Any:
    """Teach the exporter a module class: ``fn(g, module, names, values) -> output name``.

    ``g`` is the graph being built: ``g.op(op_type, inputs, **attrs)`` adds a node and
    returns its output name, ``g.const(array)`` adds a weight and returns its name;
    ``gf.onnx.convert(g, child, names, values)`` emits a child module and returns
    ``(output names, output values)``. ``names`` are the ONNX names of the module's
    inputs, ``values`` the example tensors. Usable as a decorator.

    Example:
        >>> import gradfit as gf
        >>> class Residual(gf.nn.Module):
        ...     def __init__(self, body):
        ...         super().__init__()
        ...         self.body = body
        ...     def forward(self, x):
        ...         return x + self.body(x)
        >>> @gf.onnx.register_converter(Residual)
        ... def _residual(g, m, names, values):
        ...     y, _ = gf.onnx.convert(g, m.body, names, values)
        ...     return g.op("Add", [names[0], y])
        >>> import io
        >>> proto = gf.onnx.export(Residual(gf.nn.Linear(3, 3)), gf.randn(2, 3), io.BytesIO())
        >>> proto.graph.node[-1].op_type
        'Add'
    """
    from gradfit.onnx._converters import converter

    if not (isinstance(cls, type) and issubclass(cls, Module)):
        raise TypeError(f"register_converter: cls must be a gf.nn.Module subclass, got {cls!r}")
    if fn is None:
        return converter(cls)
    return converter(cls)(fn)


def convert(g: Any, module: Module, names: list[str], values: list[Any]) -> tuple[Any, Any]:
    """Emit ``module``'s nodes into ``g``; returns (its output names, its output values).

    For converters added with :func:`register_converter` that contain child modules.

    Example:
        >>> import gradfit as gf
        >>> from gradfit.onnx._graph import Graph
        >>> g = Graph()
        >>> name, out = gf.onnx.convert(g, gf.nn.ReLU(), ["x"], [gf.randn(2)])
        >>> name, out.shape
        ('Relu_1', (2,))
    """
    from gradfit.onnx._converters import convert as _convert

    return _convert(g, module, names, values)


def _as_args(args: Any) -> list[Tensor]:
    if isinstance(args, Tensor):
        return [args]
    if isinstance(args, np.ndarray):
        return [Tensor._wrap(args)]
    if isinstance(args, (tuple, list)):
        out = list(args)
        if out and isinstance(out[-1], Mapping):  # torch: a trailing dict holds keyword args
            if out[-1]:
                raise NotImplementedError("gf.onnx.export: keyword inputs are not supported")
            out = out[:-1]
        return [a if isinstance(a, Tensor) else Tensor._wrap(np.asarray(a)) for a in out]
    raise TypeError(
        f"gf.onnx.export: args must be a gf.Tensor or a tuple of them, got {type(args).__name__}"
    )


def _flat(names: Any) -> list[str]:
    if isinstance(names, str):
        return [names]
    return [n for item in names if item is not None for n in _flat(item)]


def _axes_of(dynamic_axes: Mapping[str, Any] | None, name: str) -> dict[int, str] | None:
    if not dynamic_axes or name not in dynamic_axes:
        return None
    axes = dynamic_axes[name]
    if isinstance(axes, Mapping):
        return {int(k): str(v) for k, v in axes.items()}
    if isinstance(axes, (list, tuple)):
        return {int(k): f"{name}_dynamic_axes_{i + 1}" for i, k in enumerate(axes)}
    raise TypeError(
        f"gf.onnx.export: dynamic_axes[{name!r}] must be a list of axes or a dict "
        f"{{axis: name}}, got {axes!r}"
    )


def _value_info(name: str, arr: np.ndarray, axes: dict[int, str] | None, unknown: bool) -> Any:
    from onnx import helper

    shape: list[Any] = [None if unknown else int(d) for d in arr.shape]
    for k, v in (axes or {}).items():
        if not -arr.ndim <= k < arr.ndim:
            raise ValueError(
                f"gf.onnx.export: dynamic axis {k} of {name!r} is out of range for its "
                f"{arr.ndim}-D shape {tuple(arr.shape)}"
            )
        shape[k % arr.ndim] = v
    elem = helper.np_dtype_to_tensor_dtype(arr.dtype)
    return helper.make_tensor_value_info(name, elem, shape)


def export(
    model: Module,
    args: Any = (),
    f: str | os.PathLike[str] | io.IOBase | None = None,
    *,
    kwargs: Mapping[str, Any] | None = None,
    verbose: bool | None = None,
    input_names: Sequence[str] | None = None,
    output_names: Sequence[str] | None = None,
    opset_version: int | None = None,
    dynamo: bool = True,
    external_data: bool = True,
    dynamic_shapes: Any = None,
    custom_translation_table: Any = None,
    report: bool = False,
    optimize: bool = True,
    verify: bool = False,
    profile: bool = False,
    dump_exported_program: bool = False,
    artifacts_dir: str | os.PathLike[str] = ".",
    export_params: bool = True,
    keep_initializers_as_inputs: bool = False,
    dynamic_axes: Mapping[str, Any] | None = None,
    training: Any = None,
    operator_export_type: Any = None,
    do_constant_folding: bool = True,
    custom_opsets: Mapping[str, int] | None = None,
    export_modules_as_functions: Any = False,
    autograd_inlining: bool = True,
) -> Any:
    """Export ``model`` to an ONNX file; torch.onnx.export's signature.

    Args:
        model: a gradfit ``Module`` built from supported layers (see the module docstring).
        args: the example input: a gf.Tensor or a tuple of them (a trailing empty dict is
            allowed, as torch allows keyword inputs there).
        f: a path or a binary file object to write to; ``None`` writes nothing (the
            returned ModelProto still holds the model). Paths are written atomically.
        kwargs: keyword inputs: not supported (must be empty or None).
        input_names, output_names: the graph's input and output names (default
            ``input``/``output``, numbered ``input_0``... when there are several).
        opset_version: the ONNX opset (default 17, the lowest supported, as
            LayerNormalization needs it).
        dynamic_axes: ``{name: [axes]}`` or ``{name: {axis: "dim_name"}}``, e.g.
            ``{"input": {0: "batch"}, "output": {0: "batch"}}`` for a dynamic batch size.
        export_params: must be True (weights are always stored in the file).
        training: only eval mode is exported (``None`` or torch's ``TrainingMode.EVAL``):
            the model is put in ``eval()`` for the export and restored after, as torch does.
        dynamic_shapes: not supported (torch's dynamo-exporter form): use ``dynamic_axes``.
        verbose, dynamo, external_data, custom_translation_table, report, optimize, verify,
        profile, dump_exported_program, artifacts_dir, keep_initializers_as_inputs,
        operator_export_type, do_constant_folding, custom_opsets,
        export_modules_as_functions, autograd_inlining: accepted and ignored, so torch
            code runs unchanged (there is one exporter; weights are always initializers
            in the file; nothing is left to fold, as no op computes on constants only).

    Returns:
        The ``onnx.ModelProto`` (torch returns None; the file is the same either way).

    Raises:
        NotImplementedError: a layer without an ONNX converter, or an unsupported option
            of a supported layer; the message names the layer.
        ImportError: the ``onnx`` package is not installed.

    Example:
        >>> import io, gradfit as gf
        >>> proto = gf.onnx.export(gf.nn.Sequential(gf.nn.Conv2d(1, 2, 3), gf.nn.ReLU()),
        ...                        gf.randn(1, 1, 5, 5), io.BytesIO())
        >>> [i.name for i in proto.graph.input], proto.opset_import[0].version
        (['input'], 17)
    """
    try:
        import onnx
        from onnx import helper
    except ImportError:
        raise ImportError(
            "gf.onnx.export needs the onnx package: pip install 'gradfit[onnx]' "
            "(or pip install onnx onnxruntime)"
        ) from None
    from gradfit import __version__
    from gradfit.onnx._converters import convert as _convert
    from gradfit.onnx._graph import Graph

    if not isinstance(model, Module):
        raise TypeError(f"gf.onnx.export: model must be a gf.nn.Module, got {type(model).__name__}")
    if kwargs:
        raise NotImplementedError("gf.onnx.export: keyword inputs (kwargs) are not supported")
    if dynamic_shapes is not None:
        raise NotImplementedError(
            "gf.onnx.export: dynamic_shapes is not supported; give dynamic_axes, e.g. "
            '{"input": {0: "batch"}, "output": {0: "batch"}}'
        )
    if not export_params:
        raise NotImplementedError("gf.onnx.export: export_params=False is not supported")
    if training is not None and "EVAL" not in str(training).upper():
        raise NotImplementedError(
            f"gf.onnx.export: training={training!r}: only eval mode is exported"
        )
    opset = _MIN_OPSET if opset_version is None else int(opset_version)
    if not _MIN_OPSET <= opset <= onnx.defs.onnx_opset_version():
        raise ValueError(
            f"gf.onnx.export: opset_version must be in [{_MIN_OPSET}, "
            f"{onnx.defs.onnx_opset_version()}], got {opset_version!r}"
        )
    values = _as_args(args)
    n_in = len(values)
    in_names = list(
        input_names or (["input"] if n_in == 1 else [f"input_{i}" for i in range(n_in)])
    )
    if len(in_names) != n_in:
        raise ValueError(
            f"gf.onnx.export: {len(in_names)} input_names for {n_in} inputs: {in_names}"
        )
    was_training = [(m, m.training) for m in model.modules()]
    model.eval()
    try:
        g = Graph(opset)
        out_names, out_values = _convert(g, model, in_names, values)
    finally:
        for m, t in was_training:
            m.training = t
    outs = _flat(out_names)
    out_arrays = [np.asarray(v._data) for v in _flat_values(out_values)]
    final = list(
        output_names
        or (["output"] if len(outs) == 1 else [f"output_{i}" for i in range(len(outs))])
    )
    if len(final) != len(outs):
        raise ValueError(
            f"gf.onnx.export: {len(final)} output_names for {len(outs)} outputs: {final}"
        )
    nodes = list(g.nodes)
    produced = {o for n in nodes for o in n.output}
    rename = {}
    for src, dst in zip(outs, final, strict=True):
        if src in produced and outs.count(src) == 1 and src not in rename:
            rename[src] = dst  # the node that computes it writes the output directly
        else:  # an input passed through, or one value returned twice
            nodes.append(helper.make_node("Identity", [src], [dst], name=f"{dst}_out"))
    for n in nodes:
        for field in (n.input, n.output):
            for i, name in enumerate(field):
                field[i] = rename.get(name, name)
    dyn_in = any(_axes_of(dynamic_axes, n) for n in in_names)
    graph = helper.make_graph(
        nodes,
        type(model).__name__,
        [
            _value_info(n, np.asarray(v._data), _axes_of(dynamic_axes, n), False)
            for n, v in zip(in_names, values, strict=True)
        ],
        [
            _value_info(n, a, _axes_of(dynamic_axes, n), dyn_in and not _axes_of(dynamic_axes, n))
            for n, a in zip(final, out_arrays, strict=True)
        ],
        initializer=g.initializers,
    )
    proto = helper.make_model(
        graph,
        opset_imports=[helper.make_opsetid("", opset)],
        producer_name="gradfit",
        producer_version=__version__,
    )
    # the oldest IR version that carries this opset: the file opens in the most runtimes
    proto.ir_version = helper.find_min_ir_version_for(list(proto.opset_import))
    onnx.checker.check_model(proto)
    if f is not None:
        data = proto.SerializeToString()
        if isinstance(f, (str, os.PathLike)):
            from gradfit.fileio import atomic_write

            atomic_write(f, data)
        else:
            f.write(data)
    return proto


def _flat_values(v: Any) -> list[Any]:
    if isinstance(v, Tensor):
        return [v]
    return [t for item in v if item is not None for t in _flat_values(item)]
