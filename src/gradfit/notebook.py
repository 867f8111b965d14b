"""Rich displays in Jupyter: tensors as tables, models as summary tables, live training.

Jupyter asks an object for ``_repr_html_`` (or ``_repr_svg_``) before its plain ``repr``;
:class:`~gradfit.Tensor` and :class:`~gradfit.nn.Module` answer with the HTML made here,
and the computational graph (:func:`gradfit.viz.draw_graph`) with its SVG. During
``fit`` in a notebook, :class:`NotebookProgress` shows one live block, updated in place:
a progress bar, the running loss and a loss curve drawn as inline SVG (no matplotlib).

Nothing here imports IPython at ``import gradfit``: a notebook is detected from the
modules already loaded, and ``IPython.display`` is imported only when a display is made.

Example:
    >>> import gradfit as gf
    >>> "<table" in tensor_html(gf.tensor([[1.0, 2.0], [3.0, 4.0]]))
    True
    >>> in_notebook()
    False
"""

from __future__ import annotations

import html
import math
import sys
import time
from collections.abc import Sequence
from typing import Any

import numpy as np

__all__ = ["NotebookProgress", "in_notebook", "loss_curve_svg", "module_html", "tensor_html"]

#: Tensors with at most this many elements show every value in the table.
MAX_CELLS = 200


def in_notebook() -> bool:
    """True inside a Jupyter kernel (IPython's ZMQ shell), False in a terminal or script.

    Example:
        >>> in_notebook()
        False
    """
    ipython = sys.modules.get("IPython")
    if ipython is None or "ipykernel" not in sys.modules:
        return False
    try:
        shell = ipython.get_ipython()
    except Exception:  # a broken IPython install is not a notebook
        return False
    return shell is not None and type(shell).__name__ == "ZMQInteractiveShell"


def _header(t: Any) -> str:
    shape = "×".join(str(s) for s in t.shape) or "scalar"
    extras = [f"shape {shape}", f"dtype {t.dtype}"]
    if t.grad_fn is not None:
        extras.append(f"grad_fn {t.grad_fn.name}")
    elif t.requires_grad:
        extras.append("requires_grad")
    return "<b>tensor</b> " + html.escape(", ".join(extras))


def tensor_html(t: Any) -> str:
    """HTML for a Tensor: a header (shape, dtype, grad) and its values as a table.

    0-d, 1-d and 2-d tensors of at most :data:`MAX_CELLS` values are drawn as a table;
    anything else shows the header and the plain ``repr`` (already summarised by NumPy).

    Example:
        >>> import gradfit as gf
        >>> print(tensor_html(gf.tensor([1.5, 2.0])).count("<td"))
        2
    """
    data = np.asarray(t._data)
    head = f"<div style='font-size:90%;color:#555'>{_header(t)}</div>"
    if data.ndim > 2 or data.size > MAX_CELLS or data.size == 0:
        return head + f"<pre>{html.escape(repr(t))}</pre>"
    rows = np.atleast_2d(data)
    cell = "<td style='text-align:right;font-family:monospace;padding:1px 6px'>{}</td>"
    body = "".join(
        "<tr>" + "".join(cell.format(html.escape(_fmt(v))) for v in row) + "</tr>" for row in rows
    )
    return head + f"<table style='border-collapse:collapse'>{body}</table>"


def _fmt(v: Any) -> str:
    if isinstance(v, (np.floating, float)):
        return f"{float(v):.6g}"
    return str(v.item() if hasattr(v, "item") else v)


def module_html(module: Any) -> str:
    """HTML for a Module: a table of its layers (name, type, parameters) and the totals.

    The full ``repr`` (torch's layout) sits under a fold below the table.

    Example:
        >>> import gradfit as gf
        >>> page = module_html(gf.nn.Sequential(gf.nn.Linear(3, 4), gf.nn.ReLU()))
        >>> "Linear" in page and "Total params: 16" in page
        True
    """
    rows = []
    for name, m in module.named_modules():
        own = sum(int(p.numel()) for p in m.parameters(recurse=False))
        children = next(iter(m.children()), None) is not None
        if name and (not children or own):
            rows.append((name, type(m).__name__, own))
    if not rows:
        own = sum(int(p.numel()) for p in module.parameters())
        rows.append(("(model)", type(module).__name__, own))
    params = list(module.parameters())
    total = sum(int(p.numel()) for p in params)
    trainable = sum(int(p.numel()) for p in params if p.requires_grad)
    td = "<td style='padding:1px 8px;text-align:{}'>{}</td>"
    body = "".join(
        "<tr>"
        + td.format("left", html.escape(n))
        + td.format("left", html.escape(k))
        + td.format("right", f"{p:,}")
        + "</tr>"
        for n, k, p in rows
    )
    head = "".join(f"<th style='padding:1px 8px'>{h}</th>" for h in ("Layer", "Type", "Params"))
    return (
        f"<div><b>{html.escape(type(module).__name__)}</b>"
        f"<table style='border-collapse:collapse'><tr>{head}</tr>{body}</table>"
        f"<div>Total params: {total:,} (trainable {trainable:,})</div>"
        f"<details><summary>repr</summary><pre>{html.escape(repr(module))}</pre></details></div>"
    )


def loss_curve_svg(
    series: dict[str, Sequence[tuple[float, float]]], width: int = 360, height: int = 140
) -> str:
    """An inline SVG line plot of ``{label: [(x, y), ...]}`` (the live loss plot).

    Non-finite points are left out; an empty plot is an empty frame.

    Example:
        >>> svg = loss_curve_svg({"train loss": [(0, 2.0), (1, 1.0)]})
        >>> svg.startswith("<svg") and "polyline" in svg
        True
    """
    pad_l, pad_r, pad_t, pad_b = 44, 90, 8, 20
    pts = [(x, y) for s in series.values() for x, y in s if math.isfinite(y)]
    parts = [
        f"<svg xmlns='http://www.w3.org/2000/svg' width='{width}' height='{height}' "
        "style='font:10px sans-serif'>",
        f"<rect x='{pad_l}' y='{pad_t}' width='{width - pad_l - pad_r}' "
        f"height='{height - pad_t - pad_b}' fill='none' stroke='#ccc'/>",
    ]
    if pts:
        x0, x1 = min(p[0] for p in pts), max(p[0] for p in pts)
        y0, y1 = min(p[1] for p in pts), max(p[1] for p in pts)
        x1, y1 = (x1 if x1 > x0 else x0 + 1), (y1 if y1 > y0 else y0 + 1e-12 + abs(y0) * 0.01)
        w, h = width - pad_l - pad_r, height - pad_t - pad_b

        def sx(x: float) -> float:
            return pad_l + (x - x0) / (x1 - x0) * w

        def sy(y: float) -> float:
            return pad_t + (1 - (y - y0) / (y1 - y0)) * h

        parts.append(f"<text x='{pad_l - 4}' y='{pad_t + 8}' text-anchor='end'>{y1:.3g}</text>")
        parts.append(f"<text x='{pad_l - 4}' y='{pad_t + h}' text-anchor='end'>{y0:.3g}</text>")
        parts.append(
            f"<text x='{pad_l + w / 2}' y='{height - 4}' text-anchor='middle'>epoch</text>"
        )
        colours = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728"]
        for i, (label, s) in enumerate(series.items()):
            c = colours[i % len(colours)]
            xy = " ".join(f"{sx(x):.1f},{sy(y):.1f}" for x, y in s if math.isfinite(y))
            if xy:
                parts.append(
                    f"<polyline fill='none' stroke='{c}' stroke-width='1.5' points='{xy}'/>"
                )
            ly = pad_t + 12 + 14 * i
            parts.append(
                f"<text x='{pad_l + w + 6}' y='{ly}' fill='{c}'>{html.escape(label)}</text>"
            )
    parts.append("</svg>")
    return "".join(parts)


class NotebookProgress:
    """The live block ``fit`` shows in a notebook: a bar, the running loss, a loss plot.

    One display is made at the start of training and updated in place (Jupyter's
    ``display_id``) at most every ``interval`` seconds and at the end of every epoch, so
    the notebook keeps one output, not one per batch. The plot has the running training
    loss over fractional epochs and each epoch's validation loss when there is one.

    Args:
        interval: the least time between two updates within an epoch, in seconds.

    Example:
        >>> p = NotebookProgress()
        >>> p.record_batch(epoch=1, batch=1, batches=4, loss=2.0, size=8)
        >>> p.html().count("<progress")
        1
    """

    def __init__(self, interval: float = 0.25) -> None:
        self.interval = interval
        self.epochs = 0
        self.epoch = 0
        self.batch = 0
        self.batches = 0
        self.running = math.nan
        self.lines: list[str] = []
        self.train: list[tuple[float, float]] = []
        self.val: list[tuple[float, float]] = []
        self._handle: Any = None
        self._last = 0.0
        self._seen = 0
        self._sum = 0.0

    def start(self, epochs: int) -> None:
        """Make the display (call once, before the first epoch)."""
        from IPython.display import HTML, display

        self.epochs = epochs
        self._handle = display(HTML(self.html()), display_id=True)

    def record_batch(self, epoch: int, batch: int, batches: int, loss: float, size: int) -> None:
        """Note one finished batch (epoch and batch count from 1)."""
        if epoch != self.epoch:
            self.epoch, self._seen, self._sum = epoch, 0, 0.0
        self.batch, self.batches = batch, batches
        self._seen += size
        self._sum += loss * size
        self.running = self._sum / self._seen
        self.train.append((epoch - 1 + batch / max(batches, 1), self.running))

    def record_epoch(self, logs: dict[str, Any], line: str) -> None:
        """Note an epoch's logs (its ``val_loss`` goes on the plot) and its summary line."""
        if isinstance(logs.get("val_loss"), float):
            self.val.append((float(logs["epoch"]), logs["val_loss"]))
        self.lines.append(line)

    def html(self) -> str:
        """The block as HTML: bar, status line, the last epochs' lines and the loss plot."""
        total = max(self.epochs * max(self.batches, 1), 1)
        done = (max(self.epoch, 1) - 1) * max(self.batches, 1) + self.batch if self.epoch else 0
        status = (
            f"epoch {self.epoch}/{self.epochs}  batch {self.batch}/{self.batches}  "
            f"loss {self.running:.4f}"
        )
        series = {"train loss": self.train}
        if self.val:
            series["val loss"] = self.val
        log = "\n".join(self.lines[-5:])
        return (
            f"<div><progress value='{done}' max='{total}' style='width:360px'></progress> "
            f"<span style='font-family:monospace'>{html.escape(status)}</span>"
            f"<pre style='margin:2px 0'>{html.escape(log)}</pre>{loss_curve_svg(series)}</div>"
        )

    def update(self, force: bool = False) -> None:
        """Redraw in place, at most every ``interval`` seconds unless ``force``."""
        now = time.perf_counter()
        if self._handle is None or (not force and now - self._last < self.interval):
            return
        from IPython.display import HTML

        self._last = now
        self._handle.update(HTML(self.html()))
