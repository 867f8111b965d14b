"""In a real Jupyter kernel: tensors, models and graphs display richly, ``fit`` shows one
live block (bar, loss, loss plot) updated in place, and ``gf.viz`` figures show inline."""

from __future__ import annotations

import importlib.util
import os
import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
missing = [m for m in ("nbformat", "nbclient", "ipykernel") if importlib.util.find_spec(m) is None]
pytestmark = pytest.mark.skipif(
    bool(missing), reason=f"needs {', '.join(missing)} (pip install -e '.[docs]')"
)

CELLS = [
    "import gradfit as gf\ngf.manual_seed(0)",
    "gf.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)",
    "model = gf.nn.Sequential(gf.nn.Linear(4, 8), gf.nn.ReLU(), gf.nn.Linear(8, 3))\nmodel",
    "x = gf.randn(64, 4)\ny = (x[:, 0] > 0).long() + (x[:, 1] > 0).long()\n"
    "loader = gf.data.DataLoader(gf.data.TensorDataset(x, y), batch_size=8, shuffle=True)\n"
    "opt = gf.optim.SGD(model.parameters(), lr=0.1)\n"
    "history = gf.train.fit(model, loader, gf.nn.CrossEntropyLoss(), opt, epochs=3, "
    "val_loader=loader)",
    "gf.viz.plot_history(history)",
    "gf.viz.draw_graph(gf.nn.CrossEntropyLoss()(model(x[:2]), y[:2]))",
]


@pytest.fixture(scope="module")
def outputs(tmp_path_factory):
    import nbformat
    from nbclient import NotebookClient

    env = {"PYTHONPATH": os.pathsep.join([str(ROOT / "src"), os.environ.get("PYTHONPATH", "")])}
    old = {k: os.environ.get(k) for k in env}
    os.environ.update(env)  # the kernel is a new process: it imports this checkout's gradfit
    try:
        nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in CELLS])
        path = str(tmp_path_factory.mktemp("nb"))
        NotebookClient(
            nb, timeout=60, kernel_name="python3", resources={"metadata": {"path": path}}
        ).execute()
    finally:
        for k, v in old.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
    return [c.outputs for c in nb.cells]


def _data(outputs, mime):
    return [o["data"][mime] for o in outputs if mime in o.get("data", {})]


def test_tensor_displays_as_a_table(outputs):
    (page,) = _data(outputs[1], "text/html")
    assert "shape 2×2" in page and "requires_grad" in page and page.count("<td") == 4


def test_model_displays_as_a_summary_table(outputs):
    (page,) = _data(outputs[2], "text/html")
    assert page.count("<tr>") == 4  # a header and three layers
    assert "Total params: 67" in page  # 4*8+8 + 8*3+3


def test_fit_shows_one_live_block_with_bar_and_loss_plot(outputs):
    pages = _data(outputs[3], "text/html")
    assert len(pages) == 1, "the progress must update one display in place, not add outputs"
    (page,) = pages
    assert "<progress value='24' max='24'" in page  # 3 epochs x 8 batches, all done
    assert "epoch 3/3" in page and "<svg" in page and page.count("<polyline") == 2
    assert not [o for o in outputs[3] if o.get("name") == "stdout" and "epoch" in o["text"]]


def test_viz_figure_shows_inline(outputs):
    assert _data(outputs[4], "image/png"), [o.get("data", {}).keys() for o in outputs[4]]


@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz's dot is not installed")
def test_graph_displays_as_svg(outputs):
    (svg,) = _data(outputs[5], "image/svg+xml")
    assert ("<svg" in svg and "CrossEntropy" in svg) or "cross" in svg.lower()
