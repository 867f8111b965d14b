"""MkDocs hook: draw the learning pages' pictures from the real library at build time.

Each figure is a function below that returns a matplotlib Figure; the PNGs are added to
the site as generated files under ``figures/`` (so ``mkdocs build --strict`` checks every
link to them). Nothing is pasted: change the library and the pictures change. The pages
from 6 on are drawn by their own code: :func:`page_figure` runs the page's ``python``
blocks (as its notebook does) and takes the figure a named variable holds, so the picture
is exactly what a reader running the page gets.
"""

from __future__ import annotations

import io
import logging
import sys
import time
from pathlib import Path

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

    paths = gf.viz.descent_paths("bowl")
    return gf.viz.plot_descent("bowl", paths, title="Five optimizers, one surface")


def draw_graph_fig(graph):
    """Lay out a ``gf.viz.Graph`` in rows by distance from the output (no Graphviz needed)."""
    from gradfit.viz._util import new_figure

    consumers: dict[str, list[str]] = {}
    for src, dst in graph.edges:
        consumers.setdefault(src, []).append(dst)
    depth: dict[str, int] = {}

    def level(node_id: str) -> int:  # the graph is tiny; longest path to the output
        if node_id not in depth:
            depth[node_id] = 1 + max((level(c) for c in consumers.get(node_id, [])), default=-1)
        return depth[node_id]

    rows: dict[int, list] = {}
    for node in graph.nodes:
        rows.setdefault(level(node.id), []).append(node)
    pos = {}
    for d, nodes in rows.items():
        for i, node in enumerate(nodes):
            pos[node.id] = (i - (len(nodes) - 1) / 2, -d)
    fig = new_figure(figsize=(5, min(1.3, 10 / len(rows)) * len(rows) + 0.5))
    ax = fig.add_subplot()
    for src, dst in graph.edges:
        ax.annotate(
            "",
            xy=pos[dst],
            xytext=pos[src],
            arrowprops={"arrowstyle": "->", "shrinkA": 16, "shrinkB": 16},
        )
    colours = {"op": "#f2f2f2", "param": "#cfe2f3", "input": "#fde9c9"}
    for node in graph.nodes:
        ax.text(
            *pos[node.id],
            "\n".join(node.label[:2]),
            ha="center",
            va="center",
            bbox={"boxstyle": "round", "fc": colours.get(node.kind, "white")},
        )
    xs = [p[0] for p in pos.values()]
    ax.set_xlim(min(xs) - 1, max(xs) + 1)
    ax.set_ylim(-len(rows) + 0.5, 0.5)
    ax.axis("off")
    return fig


def graph_fig():
    import gradfit as gf

    x = gf.tensor(1.0, requires_grad=True)
    w = gf.tensor(0.5, requires_grad=True)
    b = gf.tensor(-0.2, requires_grad=True)
    y = gf.tanh(w * x + b)
    return draw_graph_fig(gf.viz.draw_graph(y, params={"x": x, "w": w, "b": b}))


def unrolled_rnn_fig():
    import gradfit as gf

    return draw_graph_fig(gf.viz.unrolled_rnn(steps=3))


def attention_fig():
    import gradfit as gf
    from gradfit.data import ArrayDataset, DataLoader

    names = gf.data.load_dataset("names")
    vocab = names.description.extra["vocab"]
    gf.manual_seed(0)
    lm = gf.models.char_lm(
        vocab_size=27, block_size=8, arch="transformer", embed=32, layers=1, heads=2
    )
    x_few, y_few = names.train.x[:10_000], names.train.y[:10_000]  # as on the page
    loader = DataLoader(ArrayDataset(x_few, y_few), batch_size=128, shuffle=True)
    opt = gf.optim.Adam(lm.parameters(), lr=3e-3)
    gf.train.fit(lm, loader, gf.nn.CrossEntropyLoss(), opt, epochs=1, callbacks=[])
    context = "..emily."
    maps = gf.viz.attention_maps(lm, gf.tensor([vocab.index(c) for c in context]))
    return gf.viz.plot_attention(maps, context)


def _trained_cnn():
    """The CNN of the digits page, trained as there (once per build)."""
    import gradfit as gf
    from gradfit.data import ArrayDataset, DataLoader

    if not hasattr(_trained_cnn, "cache"):
        digits = gf.data.load_dataset("digits")
        gf.manual_seed(0)
        cnn = gf.models.cnn(in_channels=1, num_classes=10, image_size=8, channels=(8, 16))
        images = digits.train.x.reshape(-1, 1, 8, 8)
        loader = DataLoader(ArrayDataset(images, digits.train.y), batch_size=32, shuffle=True)
        opt = gf.optim.Adam(cnn.parameters(), lr=3e-3)
        gf.train.fit(cnn, loader, gf.nn.CrossEntropyLoss(), opt, epochs=3, callbacks=[])
        _trained_cnn.cache = (cnn, digits)
    return _trained_cnn.cache


def cnn_filters_fig():
    import gradfit as gf

    cnn, _ = _trained_cnn()
    return gf.viz.plot_first_layer_weights(cnn)


def cnn_feature_maps_fig():
    import gradfit as gf
    from gradfit.viz._util import new_figure

    cnn, digits = _trained_cnn()
    image = gf.tensor(digits.test.x[:1].reshape(1, 1, 8, 8))
    with gf.no_grad():
        maps = cnn.features.act1(cnn.features.conv1(image)).numpy()[0]
    fig = new_figure(figsize=(9, 1.6))
    panels = [("input", image.numpy()[0, 0])] + [(f"map {i}", m) for i, m in enumerate(maps)]
    for k, (title, a) in enumerate(panels):
        ax = fig.add_subplot(1, len(panels), k + 1)
        ax.imshow(a, cmap="gray_r" if k == 0 else "viridis")
        ax.set_title(title, fontsize=8)
        ax.axis("off")
    return fig


def _page_namespace(page: str) -> dict:
    """Run the ```python blocks of ``docs/learn/<page>.md`` in order, in one namespace (as
    its notebook does), in a scratch directory, and return the namespace (once per build).

    The later pages draw their pictures this way: the figure on the page is the one its
    own code makes, not a copy of that code here.
    """
    import contextlib
    import os
    import re
    import tempfile

    cache = _page_namespace.__dict__.setdefault("cache", {})
    if page not in cache:
        text = (ROOT / "docs" / "learn" / f"{page}.md").read_text()
        ns: dict = {"__name__": "__docs__"}
        cwd = os.getcwd()
        with tempfile.TemporaryDirectory() as tmp:
            os.chdir(tmp)
            try:
                with contextlib.redirect_stdout(io.StringIO()):
                    for i, code in enumerate(re.findall(r"```python\n(.*?)```", text, re.S)):
                        exec(compile(code, f"<{page}.md block {i}>", "exec"), ns)
                for key, value in list(ns.items()):  # files the page wrote: keep their bytes
                    is_png = isinstance(value, (str, Path)) and str(value).endswith(".png")
                    if is_png and Path(value).is_file():
                        ns[key] = Path(value).read_bytes()
            finally:
                os.chdir(cwd)
        cache[page] = ns
    return cache[page]


def page_figure(page: str, name: str):
    """The figure (or PNG file) that variable ``name`` holds after ``page``'s code ran."""

    def make():
        return _page_namespace(page)[name]

    make.__name__ = f"{page}:{name}"
    return make


FIGURES = {
    "cnn_filters.png": cnn_filters_fig,
    "cnn_feature_maps.png": cnn_feature_maps_fig,
    "unrolled_rnn.png": unrolled_rnn_fig,
    "attention.png": attention_fig,
    "graph.png": graph_fig,
    "neuron.png": neuron_fig,
    "activations.png": activations_fig,
    "relu_fit.png": relu_fit_fig,
    "descent.png": descent_fig,
    "init_spread.png": page_figure("initialisation", "fig_spread"),
    "init_histograms.png": page_figure("initialisation", "fig_hist"),
    "lr_finder.png": page_figure("learning-rate", "fig_finder"),
    "lr_schedules.png": page_figure("learning-rate", "fig_schedules"),
    "regularisation_curves.png": page_figure("regularisation", "fig_curves"),
    "regularisation_weights.png": page_figure("regularisation", "fig_weights"),
    "baselines.png": page_figure("baselines", "fig_baselines"),
    "transfer.png": page_figure("transfer", "fig_transfer"),
    "cf_embeddings.png": page_figure("collaborative-filtering", "fig_embeddings"),
    "porting.png": page_figure("porting", "fig_port"),
    "cli_curves.png": page_figure("command-line", "curves_png"),
    "cli_lr_find.png": page_figure("command-line", "lr_png"),
    "resume.png": page_figure("reliability", "fig_resume"),
}


def render_all() -> dict[str, bytes]:
    """Draw every figure; returns file name -> PNG bytes."""
    out = {}
    for name, make in FIGURES.items():
        fig = make()
        if isinstance(fig, bytes):  # a PNG the page's code wrote
            out[name] = fig
            continue
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
