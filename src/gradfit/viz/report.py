"""A run report: one self-contained HTML page with the run's config, curves and tables.

Every figure is embedded as a base64 PNG (``<img src="data:image/png;base64,...">``) and
the styles are inline, so the page needs no other file and no network: it can be mailed,
archived or opened from a CI artifact. ``gradfit train --report`` writes it.

Example:
    >>> import os, tempfile
    >>> from gradfit.train import History
    >>> h = History([{"epoch": 1, "train_loss": 0.9, "val_loss": 1.0, "lr": 0.1}])
    >>> p = write_report(os.path.join(tempfile.mkdtemp(), "r.html"), {"lr": 0.1}, h)
    >>> html = p.read_text()
    >>> html.count("data:image/png;base64,") >= 2 and '<td class="num">0.1</td>' in html
    True
"""

from __future__ import annotations

import base64
import datetime
import html
import math
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from gradfit.viz._util import atomic_write, figure_bytes

__all__ = ["render_report", "write_report"]

_CSS = """
body { font-family: -apple-system, "Segoe UI", Helvetica, Arial, sans-serif; margin: 2em auto;
       max-width: 1100px; color: #222; padding: 0 1em; }
h1 { font-size: 1.6em; border-bottom: 2px solid #4a7ab5; padding-bottom: .2em; }
h2 { font-size: 1.2em; margin-top: 1.6em; color: #2c4f7c; }
table { border-collapse: collapse; margin: .5em 0; font-size: .92em; }
th, td { border: 1px solid #ccc; padding: .25em .7em; text-align: left; }
th { background: #eef3fa; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
figure { margin: 1em 0; }
figure img { max-width: 100%; border: 1px solid #ddd; }
figcaption { font-size: .85em; color: #555; }
pre { background: #f6f8fa; padding: .8em; overflow-x: auto; font-size: .85em; }
.meta { color: #666; font-size: .85em; }
"""


def _fmt(v: Any) -> str:
    if isinstance(v, bool) or v is None:
        return str(v)
    if isinstance(v, float):
        if math.isnan(v) or math.isinf(v):
            return str(v)
        return f"{v:.6g}"
    if hasattr(v, "item") and getattr(v, "size", 2) == 1:
        return _fmt(v.item())
    return str(v)


def _flatten(d: Mapping[str, Any], prefix: str = "") -> list[tuple[str, Any]]:
    out: list[tuple[str, Any]] = []
    for k, v in d.items():
        key = f"{prefix}{k}"
        if isinstance(v, Mapping) and v:
            out += _flatten(v, key + ".")
        else:
            out.append((key, v))
    return out


def _table(header: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    def cell(v: Any) -> str:
        cls = ' class="num"' if isinstance(v, int | float) and not isinstance(v, bool) else ""
        return f"<td{cls}>{html.escape(_fmt(v))}</td>"

    head = "".join(f"<th>{html.escape(str(h))}</th>" for h in header)
    body = "\n".join("<tr>" + "".join(cell(v) for v in r) + "</tr>" for r in rows)
    return f"<table>\n<tr>{head}</tr>\n{body}\n</table>"


def _img(png: bytes, caption: str) -> str:
    b64 = base64.b64encode(png).decode("ascii")
    cap = html.escape(caption)
    return (
        f'<figure><img alt="{cap}" src="data:image/png;base64,{b64}">'
        f"<figcaption>{cap}</figcaption></figure>"
    )


def _png(fig: Any) -> bytes:
    if isinstance(fig, bytes | bytearray):
        if not bytes(fig[:8]) == b"\x89PNG\r\n\x1a\n":
            raise ValueError("write_report: extra figure bytes are not a PNG image")
        return bytes(fig)
    if not hasattr(fig, "savefig"):
        raise TypeError(
            f"write_report: a figure must be a matplotlib Figure or PNG bytes, got {type(fig).__name__}"
        )
    return figure_bytes(fig, "png", dpi=90)


def _baseline_rows(baselines: Any) -> tuple[list[str], list[list[Any]]]:
    if isinstance(baselines, Mapping):
        items = list(baselines.items())
    else:
        items = []
        for b in baselines:
            if not isinstance(b, Mapping) or "name" not in b:
                raise TypeError(
                    "write_report: baselines must be a dict or a list of dicts with 'name'"
                )
            b = dict(b)
            items.append((b.pop("name"), b))
    cols: list[str] = []
    for _, v in items:
        if isinstance(v, Mapping):
            cols += [k for k in v if k not in cols]
    if not cols:
        return ["model", "score"], [[n, v] for n, v in items]
    rows = [
        [n, *[(v.get(c, "") if isinstance(v, Mapping) else "") for c in cols]] for n, v in items
    ]
    return ["model", *cols], rows


def render_report(
    config: Mapping[str, Any] | None,
    history: Any = None,
    confusion: Any = None,
    baselines: Any = None,
    summary: str | None = None,
    extra_figures: Mapping[str, Any] | None = None,
    title: str = "gradfit run report",
    class_names: Sequence[str] | None = None,
    test_metrics: Mapping[str, Any] | None = None,
    network: Mapping[str, Any] | None = None,
) -> str:
    """The report as an HTML string (see :func:`write_report` for the arguments).

    Example:
        >>> page = render_report({"model": {"name": "mlp"}}, summary="Sequential(...)")
        >>> "<td>model.name</td><td>mlp</td>" in page, "<pre>Sequential(...)</pre>" in page
        (True, True)
        >>> page = render_report({"model": "mlp"}, test_metrics={"test_accuracy": 0.97},
        ...                      baselines=[{"name": "logistic", "accuracy": 0.95}])
        >>> '<td>test_accuracy</td><td class="num">0.97</td>' in page
        True
        >>> '<tr><td>gradfit mlp (this run)</td><td class="num">0.97</td></tr>' in page
        True
    """
    import numpy as np

    from gradfit import __version__
    from gradfit.viz.plots import plot_confusion_matrix, plot_history, plot_lr

    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>{html.escape(title)}</title>",
        f"<style>{_CSS}</style></head><body>",
        f"<h1>{html.escape(title)}</h1>",
        f'<p class="meta">gradfit {html.escape(__version__)}, written '
        f"{datetime.datetime.now().strftime('%Y-%m-%d %H:%M')}</p>",
    ]
    if test_metrics:
        parts += [
            "<h2>Test results</h2>",
            _table(["metric", "value"], [[k, v] for k, v in test_metrics.items()]),
        ]
    if config:
        parts += ["<h2>Configuration</h2>", _table(["setting", "value"], _flatten(config))]
    rows = getattr(history, "rows", history) if history is not None else None
    if rows:
        last = rows[-1]
        parts += ["<h2>Results</h2>"]
        res = [[k, v] for k, v in last.items() if k != "time"]
        for key, mode in (("val_loss", "min"), ("val_accuracy", "max")):
            vals = [(r.get("epoch", i + 1), r[key]) for i, r in enumerate(rows) if key in r]
            vals = [v for v in vals if isinstance(v[1], int | float) and not math.isnan(v[1])]
            if vals:
                e, v = (min if mode == "min" else max)(vals, key=lambda t: t[1])
                res.append([f"best {key} (epoch {e})", v])
        total = sum(float(r.get("time", 0.0)) for r in rows)
        res.append(["epochs", len(rows)])
        res.append(["training time (s)", round(total, 3)])
        parts.append(_table(["final epoch", "value"], res))
        parts += [
            "<h2>Training curves</h2>",
            _img(_png(plot_history(rows)), "loss and metrics per epoch"),
        ]
        if any("lr" in r for r in rows):
            parts.append(_img(_png(plot_lr(rows)), "learning rate per epoch"))
        cols = [k for k in rows[0] if k != "time"]
        parts += [
            "<details><summary>History table</summary>",
            _table(cols, [[r.get(c, "") for c in cols] for r in rows]),
            "</details>",
        ]
    if confusion is not None:
        cm = np.asarray(confusion)
        names = list(class_names) if class_names is not None else [str(i) for i in range(len(cm))]
        fig = plot_confusion_matrix(cm, names)
        parts += [
            "<h2>Confusion matrix</h2>",
            _img(_png(fig), "confusion matrix: rows are true classes, columns predicted"),
            _table(["true \\ predicted", *names], [[n, *map(int, r)] for n, r in zip(names, cm)]),
        ]
    if baselines:
        if network is None and test_metrics:  # the network's own row, from its test metrics
            model = (config or {}).get("model", "network")
            network = {
                "name": f"gradfit {model if isinstance(model, str) else 'network'} (this run)",
                **{k[5:]: v for k, v in test_metrics.items() if k.startswith("test_")},
            }
            network.pop("loss", None)
        items = list(baselines.items()) if isinstance(baselines, Mapping) else list(baselines)
        if network is not None:
            net = dict(network)
            if isinstance(baselines, Mapping):
                items = [(net.pop("name", "network"), net), *items]
            else:
                items = [net, *items]
        header, brows = _baseline_rows(dict(items) if isinstance(baselines, Mapping) else items)
        parts += ["<h2>Baselines</h2>", _table(header, brows)]
    if summary:
        parts += ["<h2>Model</h2>", f"<pre>{html.escape(str(summary))}</pre>"]
    if extra_figures:
        parts.append("<h2>Figures</h2>")
        for cap, fig in extra_figures.items():
            parts.append(_img(_png(fig), str(cap)))
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"


def write_report(
    path: str | os.PathLike[str],
    config: Mapping[str, Any] | None,
    history: Any = None,
    confusion: Any = None,
    baselines: Any = None,
    summary: str | None = None,
    extra_figures: Mapping[str, Any] | None = None,
    title: str = "gradfit run report",
    class_names: Sequence[str] | None = None,
    test_metrics: Mapping[str, Any] | None = None,
    network: Mapping[str, Any] | None = None,
) -> Path:
    """Write the run report to ``path`` (atomically) and return the path.

    Args:
        config: the run's configuration (nested dicts are flattened to ``a.b`` rows).
        history: a ``gf.train.History`` (or its rows): results table, curves, LR schedule.
        confusion: a confusion matrix (rows true, columns predicted): figure and table.
        baselines: ``{name: {metric: value}}`` or ``{name: value}`` or a list of dicts
            with a ``"name"``: a table.
        summary: the model summary text (shown preformatted).
        extra_figures: ``{caption: matplotlib Figure or PNG bytes}``.
        title: the page title; class_names: labels for the confusion matrix.
        test_metrics: ``{"test_accuracy": ..., ...}``, shown first. When not given and a
            ``metrics.json`` of ``gradfit train`` sits beside ``path``, its ``test_*`` values
            are used.
        network: the row of the trained network in the baselines table (default: built
            from ``test_metrics`` and ``config["model"]``).
    """
    if test_metrics is None:
        test_metrics = _run_test_metrics(Path(path).parent / "metrics.json")
    text = render_report(
        config,
        history,
        confusion,
        baselines,
        summary,
        extra_figures,
        title,
        class_names,
        test_metrics=test_metrics,
        network=network,
    )
    return atomic_write(Path(path), text)


def _run_test_metrics(path: Path) -> dict[str, Any] | None:
    """The ``test_*`` numbers of a run's metrics.json (None when there is none)."""
    import json

    try:
        rec = json.loads(path.read_text())
    except (OSError, ValueError, RecursionError):
        return None
    if not isinstance(rec, dict):
        return None
    out = {k: v for k, v in rec.items() if k.startswith("test_") and isinstance(v, int | float)}
    return out or None
