"""MkDocs hook: draw the learning pages' pictures from the real library at build time.

Each figure is a function below that returns a matplotlib Figure; the PNGs are added to
the site as generated files under ``figures/`` (so ``mkdocs build --strict`` checks every
link to them). Nothing is pasted: change the library and the pictures change.
"""

from __future__ import annotations

import io
import logging
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT / "src") not in sys.path:  # build from a checkout without installing
    sys.path.insert(0, str(ROOT / "src"))

log = logging.getLogger("mkdocs.hooks.figures")


def neuron_fig():
    import gradfit as gf
    from gradfit.viz._util import new_figure

    gf.manual_seed(0)
    layer = gf.nn.Linear(1, 3)
    x = gf.linspace(-3, 3, 61).reshape(61, 1)
    with gf.no_grad():
        y = layer(x).numpy()
    fig = new_figure(figsize=(6, 3.5))
    ax = fig.add_subplot()
    for j in range(3):
        w, b = layer.weight.numpy()[j, 0], layer.bias.numpy()[j]
        ax.plot(x.numpy()[:, 0], y[:, j], label=f"neuron {j}: {w:+.2f}·x {b:+.2f}")
    ax.set(xlabel="input x", ylabel="output", title="nn.Linear(1, 3): three straight lines")
    ax.legend()
    return fig


def activations_fig():
    import gradfit as gf
    from gradfit.viz._util import new_figure

    x = gf.linspace(-4, 4, 161)
    fig = new_figure(figsize=(6, 3.5))
    ax = fig.add_subplot()
    for name, fn in [("relu", gf.relu), ("sigmoid", gf.sigmoid), ("tanh", gf.tanh)]:
        ax.plot(x.numpy(), fn(x).numpy(), label=name)
    ax.set(xlabel="x", ylabel="activation(x)", title="Three activation functions")
    ax.axhline(0, color="grey", lw=0.5)
    ax.legend()
    return fig


def relu_fit_fig():
    import gradfit as gf

    gf.manual_seed(0)
    x = gf.linspace(-3, 3, 64).reshape(64, 1)
    y = gf.sin(x)
    model = gf.nn.Sequential(gf.nn.Linear(1, 16), gf.nn.ReLU(), gf.nn.Linear(16, 1))
    opt = gf.optim.Adam(model.parameters(), lr=0.03)
    for _ in range(300):
        opt.zero_grad()
        loss = gf.nn.functional.mse_loss(model(x), y)
        loss.backward()
        opt.step()
    return gf.viz.plot_curve_fit(model, x.numpy(), y.numpy())


def descent_fig():
    import gradfit as gf

    paths = gf.viz.descent_paths("rosenbrock", steps=300)
    return gf.viz.plot_descent("rosenbrock", paths, title="Five optimizers, one surface")


FIGURES = {
    "neuron.png": neuron_fig,
    "activations.png": activations_fig,
    "relu_fit.png": relu_fit_fig,
    "descent.png": descent_fig,
}


def render_all() -> dict[str, bytes]:
    """Draw every figure; returns file name -> PNG bytes."""
    out = {}
    for name, make in FIGURES.items():
        fig = make()
        buf = io.BytesIO()
        fig.savefig(buf, format="png", dpi=90, bbox_inches="tight")
        out[name] = buf.getvalue()
    return out


def on_files(files, config):
    from mkdocs.structure.files import File

    t0 = time.perf_counter()
    for name, data in render_all().items():
        files.append(File.generated(config, f"figures/{name}", content=data))
    log.info("figures: %d drawn in %.1f s", len(FIGURES), time.perf_counter() - t0)
    return files
