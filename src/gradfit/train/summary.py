"""``summary(model, input_shape)``: layers, output shapes, parameter counts, multiply-adds.

One forward pass on zeros (batch of one, evaluation mode, under ``gf.no_grad()``) records
each module's output shape with forward hooks, removed afterwards; the model's training
mode is restored too.

Rows are the modules that do work: leaf modules (no children) and any module with
parameters of its own, in the order they ran (modules that did not run come last,
without an output shape). Shapes are per sample: the batch dimension is left out.

Multiply-adds (MACs) per sample count the multiply-accumulates of the matrix products:
``Linear`` ``in * out`` per output position, a convolution ``weight.numel() *
output positions`` (that is ``k * k * C_in / groups * C_out * H_out * W_out`` in 2-D).
Bias additions, activations, pooling, normalisation and embedding lookups count 0.

Example:
    >>> import gradfit as gf
    >>> from gradfit.train.summary import summary
    >>> s = summary(gf.models.mlp([64, 32, 10]), (64,))
    >>> s.total_params, s.total_macs
    (2410, 2368)
    >>> print(s)
    Layer    Type     Output shape  Params   MACs
    ---------------------------------------------
    flatten  Flatten  (N, 64)            0      0
    fc1      Linear   (N, 32)        2,080  2,048
    act1     ReLU     (N, 32)            0      0
    out      Linear   (N, 10)          330    320
    ---------------------------------------------
    Total params: 2,410 (trainable 2,410, frozen 0), 9.4 KiB
    MACs per sample: 2,368
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from gradfit import backend
from gradfit.autograd import no_grad
from gradfit.nn.module import Module
from gradfit.tensor import Tensor

__all__ = ["LayerSummary", "ModelSummary", "summary"]


@dataclass
class LayerSummary:
    """One row: a module's dotted name, type, per-sample output shape, parameters and MACs.

    Example:
        >>> LayerSummary("fc", "Linear", (10,), 110, 110, 100).params
        110
    """

    name: str
    type: str
    output_shape: tuple[int, ...] | list[tuple[int, ...]] | None
    params: int
    trainable: int
    macs: int


@dataclass
class ModelSummary:
    """What :func:`summary` returns: ``rows`` and totals; ``str()`` is a plain-text table.

    ``total_params`` and ``trainable_params`` count every parameter of the model once
    (shared ones once); ``param_bytes`` is the parameters' memory.

    Example:
        >>> import gradfit as gf
        >>> from gradfit.train.summary import summary
        >>> s = summary(gf.nn.Linear(3, 2), (3,))
        >>> s.rows[0].name, s.rows[0].output_shape, s.trainable_params
        ('(model)', (2,), 8)
    """

    rows: list[LayerSummary]
    input_shape: tuple[int, ...]
    total_params: int
    trainable_params: int
    param_bytes: int
    total_macs: int
    model_name: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def frozen_params(self) -> int:
        """Parameters with ``requires_grad=False``.

        Example:
            >>> import gradfit as gf
            >>> from gradfit.train.summary import summary
            >>> lin = gf.nn.Linear(3, 2).requires_grad_(False)
            >>> summary(lin, (3,)).frozen_params
            8
        """
        return self.total_params - self.trainable_params

    def table(self) -> list[list[str]]:
        """The rows as text cells (header first), for any renderer.

        Example:
            >>> import gradfit as gf
            >>> from gradfit.train.summary import summary
            >>> summary(gf.nn.ReLU(), (2,)).table()[1]
            ['(model)', 'ReLU', '(N, 2)', '0', '0']
        """
        head = ["Layer", "Type", "Output shape", "Params", "MACs"]
        body = [
            [r.name, r.type, _shape_str(r.output_shape), f"{r.params:,}", f"{r.macs:,}"]
            for r in self.rows
        ]
        return [head, *body]

    def footer(self) -> list[str]:
        """The totals lines printed under the table.

        Example:
            >>> import gradfit as gf
            >>> from gradfit.train.summary import summary
            >>> summary(gf.nn.Linear(3, 2), (3,)).footer()[1]
            'MACs per sample: 6'
        """
        return [
            f"Total params: {self.total_params:,} (trainable {self.trainable_params:,}, "
            f"frozen {self.frozen_params:,}), {_bytes_str(self.param_bytes)}",
            f"MACs per sample: {self.total_macs:,}",
        ]

    def __str__(self) -> str:
        cells = self.table()
        widths = [max(len(row[i]) for row in cells) for i in range(len(cells[0]))]
        right = {3, 4}

        def line(row: list[str]) -> str:
            parts = [
                c.rjust(w) if i in right else c.ljust(w)
                for i, (c, w) in enumerate(zip(row, widths, strict=True))
            ]
            return "  ".join(parts).rstrip()

        rule = "-" * len(line(cells[0]).ljust(sum(widths) + 2 * (len(widths) - 1)))
        lines = [line(cells[0]), rule, *(line(r) for r in cells[1:]), rule, *self.footer()]
        return "\n".join(lines)

    def to_rich(self) -> Any:
        """A ``rich.table.Table`` of the same content (imports rich on call).

        Example:
            >>> import gradfit as gf
            >>> from gradfit.train.summary import summary
            >>> t = summary(gf.nn.Linear(3, 2), (3,)).to_rich()
            >>> t.row_count
            1
        """
        from rich.table import Table

        cells = self.table()
        t = Table(title=self.model_name or None, caption="\n".join(self.footer()))
        for i, h in enumerate(cells[0]):
            t.add_column(h, justify="right" if i >= 3 else "left")
        for row in cells[1:]:
            t.add_row(*row)
        return t


def _shape_str(shape: Any) -> str:
    if shape is None:
        return "-"
    if isinstance(shape, list):
        return ", ".join(_shape_str(s) for s in shape)
    return "(" + ", ".join(["N", *(str(s) for s in shape)]) + ")"


def _bytes_str(n: int) -> str:
    value = float(n)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if value < 1024 or unit == "GiB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{n} B"  # pragma: no cover


def _out_shape(out: Any) -> Any:
    if isinstance(out, Tensor):
        return tuple(int(s) for s in out.shape[1:])
    if isinstance(out, (tuple, list)):
        shapes = [_out_shape(o) for o in out if isinstance(o, Tensor)]
        return shapes or None
    return None


def _is_conv(module: Module) -> bool:
    return type(module).__name__.startswith("Conv") and getattr(module, "weight", None) is not None


def _macs(module: Module, out_shape: Any) -> int:
    from gradfit.nn.linear import Linear

    if not isinstance(out_shape, tuple):
        return 0
    if isinstance(module, Linear):
        positions = math.prod(out_shape[:-1]) if len(out_shape) > 1 else 1
        return module.in_features * module.out_features * positions
    if _is_conv(module):
        # weight (C_out, C_in / groups, *kernel); output (C_out, *spatial) per sample
        return int(module.weight._data.size) * math.prod(out_shape[1:])
    return 0


def summary(
    model: Module, input_shape: Sequence[int], dtype: Any = None, batch_size: int = 1
) -> ModelSummary:
    """Summarise ``model`` for inputs of per-sample shape ``input_shape`` (no batch dimension).

    ``dtype`` is the input's dtype (float32 by default; give ``"int64"`` for models
    taking indices, e.g. matrix factorisation, whose zero input is valid ids). The pass
    uses ``batch_size`` samples (1 by default) in evaluation mode.

    Example:
        >>> import gradfit as gf
        >>> from gradfit.train.summary import summary
        >>> s = summary(gf.models.matrix_factorization(4, 5, dim=3), (2,), dtype="int64")
        >>> [(r.name, r.output_shape, r.params) for r in s.rows]
        [('(model)', (), 1), ('user_factors', (3,), 12), ('item_factors', (3,), 15), ('user_bias', (1,), 4), ('item_bias', (1,), 5)]
    """
    if not isinstance(model, Module):
        raise TypeError(f"summary: expected a gf.nn.Module, got {type(model).__name__}")
    if isinstance(input_shape, int):
        input_shape = (input_shape,)
    try:
        shape = tuple(int(s) for s in input_shape)
    except (TypeError, ValueError):
        raise TypeError(
            f"summary: input_shape must be a tuple of ints, got {input_shape!r}"
        ) from None
    if any(s < 1 for s in shape):
        raise ValueError(f"summary: input_shape must have positive sizes, got {shape}")
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise ValueError(f"summary: batch_size must be a positive integer, got {batch_size!r}")
    dt = backend.default_float if dtype is None else backend.to_dtype(dtype)

    named = list(model.named_modules())
    recorded: dict[int, Any] = {}
    order: list[int] = []
    seen: set[int] = set()
    handles = []

    def started(module: Module, args: Any) -> None:
        if id(module) not in seen:  # rows in the order modules start (a parent before children)
            seen.add(id(module))
            order.append(id(module))

    def finished(module: Module, args: Any, out: Any) -> None:
        recorded.setdefault(id(module), _out_shape(out))  # the first call's shape

    modes = [(m, m.training) for _, m in named]
    try:
        for _, m in named:
            handles.append(m.register_forward_pre_hook(started))
            handles.append(m.register_forward_hook(finished))
        model.eval()
        with no_grad():
            model(Tensor._wrap(np.zeros((batch_size, *shape), dtype=dt)))
    except (ValueError, TypeError) as e:
        dims = ", ".join(map(str, shape))
        raise ValueError(f"summary: the forward pass on input shape (N, {dims}) failed: {e}") from e
    finally:
        for h in handles:
            h.remove()
        for m, mode in modes:
            m.__dict__["training"] = mode

    position = {mid: i for i, mid in enumerate(order)}
    rows: list[tuple[int, LayerSummary]] = []
    for name, m in named:
        own = [p for p in m._parameters.values() if p is not None]
        has_children = any(c is not None for c in m._modules.values())
        if has_children and not own:
            continue
        out = recorded.get(id(m))
        row = LayerSummary(
            name=name or "(model)",
            type=type(m).__name__,
            output_shape=out,
            params=sum(int(p._data.size) for p in own),
            trainable=sum(int(p._data.size) for p in own if p.requires_grad),
            macs=_macs(m, out),
        )
        rows.append((position.get(id(m), len(order)), row))
    rows.sort(key=lambda item: item[0])  # stable: unrun modules keep registration order

    params = list(model.parameters())
    return ModelSummary(
        rows=[r for _, r in rows],
        input_shape=shape,
        total_params=sum(int(p._data.size) for p in params),
        trainable_params=sum(int(p._data.size) for p in params if p.requires_grad),
        param_bytes=sum(int(p._data.nbytes) for p in params),
        total_macs=sum(r.macs for _, r in rows),
        model_name=type(model).__name__,
    )
