"""Private helpers of :mod:`gradfit.viz`: matplotlib set-up, atomic writes, figure to PNG.

matplotlib is imported inside these functions only, so ``import gradfit.viz`` stays light.

Example:
    >>> import os, tempfile
    >>> d = tempfile.mkdtemp()
    >>> p = atomic_write(os.path.join(d, "a.txt"), b"hello")
    >>> open(p, "rb").read()
    b'hello'
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

from gradfit.fileio import atomic_write as _atomic_write


def use_agg_if_headless() -> None:
    """Select matplotlib's Agg backend when there is no display and pyplot is not loaded yet.

    Example:
        >>> use_agg_if_headless()  # harmless when called again
    """
    import matplotlib

    if "matplotlib.pyplot" in sys.modules or os.environ.get("MPLBACKEND"):
        return
    if sys.platform.startswith("linux") and not (
        os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")
    ):
        matplotlib.use("Agg")


def pyplot() -> Any:
    """``matplotlib.pyplot``, with the Agg backend selected first when headless.

    Example:
        >>> pyplot().__name__
        'matplotlib.pyplot'
    """
    use_agg_if_headless()
    import matplotlib.pyplot as plt

    return plt


def new_figure(**kwargs: Any) -> Any:
    """A matplotlib ``Figure`` not registered with pyplot (no global state, nothing to close).

    It draws with Agg, shows in Jupyter, and ``fig.savefig(...)`` works as usual.

    Example:
        >>> fig = new_figure(figsize=(2, 2))
        >>> type(fig).__name__
        'Figure'
    """
    use_agg_if_headless()
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    kwargs.setdefault("layout", "constrained")
    fig = Figure(**kwargs)
    FigureCanvasAgg(fig)
    _show_figures_inline()
    return fig


def _show_figures_inline() -> None:
    """In a Jupyter kernel, have IPython display a returned ``Figure`` as a PNG.

    IPython registers that formatter only once pyplot's inline backend starts; gf.viz
    never uses pyplot, so it registers the formatter itself (once, and only in a notebook).
    """
    from gradfit.notebook import in_notebook

    if not in_notebook():
        return
    from IPython import get_ipython
    from matplotlib.figure import Figure

    formatter = get_ipython().display_formatter.formatters["image/png"]
    if Figure not in formatter.type_printers:
        from IPython.core.pylabtools import print_figure

        formatter.for_type(Figure, lambda fig: print_figure(fig, "png", bbox_inches="tight"))


def atomic_write(path: str | os.PathLike[str], data: bytes | str) -> Path:
    """:func:`gradfit.fileio.atomic_write` that refuses a missing folder instead of creating it.

    Example:
        >>> import os, tempfile
        >>> p = atomic_write(os.path.join(tempfile.mkdtemp(), "x.txt"), "hi")
        >>> p.read_text()
        'hi'
    """
    return _atomic_write(path, data, parents=False)


def figure_bytes(fig: Any, fmt: str = "png", dpi: int = 100) -> bytes:
    """The figure rendered to ``fmt`` (png, svg, pdf) as bytes.

    Example:
        >>> figure_bytes(new_figure(figsize=(1, 1)))[:4]
        b'\\x89PNG'
    """
    import io

    buf = io.BytesIO()
    fig.savefig(buf, format=fmt, dpi=dpi)
    return buf.getvalue()


def save_figure(fig: Any, path: str | os.PathLike[str], dpi: int = 100) -> Path:
    """Save a figure atomically; the format comes from the suffix (.png, .svg, .pdf).

    Example:
        >>> import os, tempfile
        >>> p = save_figure(new_figure(figsize=(1, 1)), os.path.join(tempfile.mkdtemp(), "f.png"))
        >>> p.suffix
        '.png'
    """
    path = Path(path)
    fmt = path.suffix.lower().lstrip(".")
    if fmt not in ("png", "svg", "pdf", "jpg", "jpeg"):
        raise ValueError(
            f"save_figure: unsupported file type {path.suffix!r} for {path}; "
            "use .png, .svg, .pdf or .jpg"
        )
    return atomic_write(path, figure_bytes(fig, fmt, dpi))
