"""The HTML run report: self-contained, holds each figure and the tables' values, renders."""

import base64
import html
import re
import shutil
import subprocess

import numpy as np
import pytest
from PIL import Image

from gradfit.train import History
from gradfit.viz._util import new_figure
from gradfit.viz.report import render_report, write_report

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


def _history():
    h = History()
    for e in range(1, 4):
        h.append({"epoch": e, "train_loss": 1.5 / e, "train_accuracy": 0.6 + 0.1 * e,
                  "val_loss": 1.7 / e, "val_accuracy": 0.55 + 0.1 * e, "lr": 0.1 / e, "time": 0.25})  # fmt: skip
    return h


def _extra():
    fig = new_figure(figsize=(3, 2))
    fig.add_subplot().plot([0, 1, 2], [2, 0, 1])
    return {"a custom figure": fig}


def _write(tmp_path):
    cm = np.array([[12, 3], [1, 14]])
    return write_report(
        tmp_path / "report.html",
        config={"model": "mlp", "optimizer": {"name": "sgd", "lr": 0.1}, "epochs": 3},
        history=_history(),
        confusion=cm,
        baselines=[{"name": "logistic regression", "accuracy": 0.8123, "fit_time": 0.01}],
        summary="Sequential(\n  (fc1): Linear(64 -> 32)\n)",
        extra_figures=_extra(),
        class_names=["cat", "dog"],
    )


def _images(page):
    return re.findall(r'<img alt="([^"]*)" src="data:image/png;base64,([A-Za-z0-9+/=]+)">', page)


def test_report_holds_every_figure_and_table_value(tmp_path):
    path = _write(tmp_path)
    page = path.read_text()
    imgs = _images(page)
    alts = [a for a, _ in imgs]
    assert alts == [
        "loss and metrics per epoch",
        "learning rate per epoch",
        "confusion matrix: rows are true classes, columns predicted",
        "a custom figure",
    ]
    for _, b64 in imgs:  # each is a decodable PNG
        data = base64.b64decode(b64)
        assert data[:8] == b"\x89PNG\r\n\x1a\n"
        assert Image.open(__import__("io").BytesIO(data)).size[0] > 100
    for text in ["<td>optimizer.name</td><td>sgd</td>", "logistic regression", ">0.8123<",
                 ">14<", "<th>dog</th>", "best val_loss (epoch 3)", html.escape("(fc1): Linear(64 -> 32)")]:  # fmt: skip
        assert text in page, text
    # the history table has every epoch's values
    for v in _history()["val_accuracy"]:
        assert f">{v:.6g}<" in page
    # self-contained: no external resource
    assert not re.search(r'(src|href)="(?!data:)', page)
    assert [p.name for p in tmp_path.iterdir()] == ["report.html"]


def test_report_without_optional_parts():
    page = render_report({"seed": 0})
    assert "<h2>Configuration</h2>" in page and _images(page) == []
    with pytest.raises(TypeError, match="Figure or PNG"):
        render_report({}, extra_figures={"x": "not a figure"})


@pytest.mark.skipif(CHROMIUM is None, reason="chromium not installed (apt-get install chromium)")
def test_report_renders_in_headless_chromium(tmp_path):
    path = _write(tmp_path)
    # a copy with a script that records, after load, each image's natural width in the DOM
    probe = tmp_path / "probe.html"
    probe.write_text(
        path.read_text().replace(
            "</body>",
            "<script>window.addEventListener('load', () => { const w = [...document.images]"
            ".map(i => i.complete ? i.naturalWidth : 0); document.body.setAttribute("
            "'data-widths', w.join(',')); });</script></body>",
        )
    )
    flags = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
             "--disable-component-update", "--disable-sync", "--no-first-run",
             f"--user-data-dir={tmp_path / 'profile'}", "--virtual-time-budget=3000"]  # fmt: skip
    dom = subprocess.run(
        [*flags, "--dump-dom", probe.as_uri()], capture_output=True, text=True, timeout=60
    ).stdout
    m = re.search(r'data-widths="([0-9,]*)"', dom)
    assert m, dom[:500]
    widths = [int(w) for w in m.group(1).split(",")]
    assert len(widths) == 4 and all(w > 100 for w in widths)

    shot = tmp_path / "shot.png"
    subprocess.run(
        [*flags, f"--screenshot={shot}", "--window-size=1100,1400", path.as_uri()],
        capture_output=True, timeout=60,
    )  # fmt: skip
    img = np.asarray(Image.open(shot).convert("L"), dtype=np.float64)
    assert img.std() > 10  # not blank
    dark = (img < 128).mean()
    assert 0.005 < dark < 0.6  # text and plots, not an empty or black page
