"""The documentation site builds strictly, its API reference comes from the docstrings,
its pictures are drawn, and the code on every learning page runs."""

from __future__ import annotations

import html
import importlib.util
import io
import re
from pathlib import Path

import pytest
from tests.docs_site.conftest import MISSING

ROOT = Path(__file__).resolve().parents[2]
LEARN = sorted((ROOT / "docs" / "learn").glob("*.md"))
FIGURES = [
    "neuron.png",
    "activations.png",
    "relu_fit.png",
    "descent.png",
    "graph.png",
    "unrolled_rnn.png",
    "attention.png",
    "cnn_filters.png",
    "cnn_feature_maps.png",
    "init_spread.png",
    "init_histograms.png",
    "lr_finder.png",
    "lr_schedules.png",
    "regularisation_curves.png",
    "regularisation_weights.png",
    "baselines.png",
    "transfer.png",
    "cf_embeddings.png",
    "porting.png",
    "cli_curves.png",
    "cli_lr_find.png",
    "resume.png",
]


def _text(page: Path) -> str:
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", page.read_text())).split())


def test_api_reference_lists_linear_with_its_signature(site):
    page = site / "api" / "nn" / "index.html"
    raw = page.read_text()
    assert 'id="gradfit.nn.Linear"' in raw
    text = _text(page)
    sig = re.search(
        r"Linear\s*\(\s*in_features\s*:\s*int\s*,\s*out_features\s*:\s*int\s*,\s*bias\s*:", text
    )
    assert sig, "the signature of gradfit.nn.Linear is not on the API page"
    start = text.find("Fully connected layer")  # the docstring's own words
    assert start >= 0
    assert ">>>" in text[start : start + 4000], "Linear's doctest example is not shown"


@pytest.mark.parametrize("api", ["gradfit", "nn", "functional", "optim", "data", "train", "viz"])
def test_every_api_page_has_documented_objects(site, api):
    raw = (site / "api" / api / "index.html").read_text()
    assert raw.count('class="doc doc-heading"') >= 3


@pytest.mark.parametrize("name", FIGURES)
def test_figures_are_drawn_and_not_blank(site, name):
    import matplotlib.image

    path = site / "figures" / name
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    img = matplotlib.image.imread(io.BytesIO(path.read_bytes()), format="png")
    assert img.shape[0] > 100 and img.shape[1] > 100
    rgb = img[..., :3]
    assert rgb.std() > 0.02, f"{name} is (nearly) one colour"
    assert (rgb.reshape(-1, 3) < 0.9).any(axis=1).mean() > 0.005, f"{name} has almost no ink"


def test_learning_pages_link_their_figures(site):
    for name in FIGURES:
        assert any(f"../figures/{name}" in p.read_text() for p in LEARN), name


@pytest.mark.parametrize(
    "page", [p for p in LEARN if "```python" in p.read_text()], ids=lambda p: p.stem
)
def test_learning_page_code_runs_in_order(page, tmp_path, monkeypatch, capsys):
    if not [
        m for m in ("nbformat", "nbclient", "ipykernel") if importlib.util.find_spec(m) is None
    ]:
        pytest.skip("run as its notebook in a real kernel by test_notebooks.py (same cells)")
    # a page's blocks share one namespace, like the cells of its notebook
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MPLBACKEND", "Agg")
    ns = {"__name__": "__docs__"}
    for i, code in enumerate(re.findall(r"```python\n(.*?)```", page.read_text(), re.S)):
        exec(compile(code, f"<{page.name} block {i}>", "exec"), ns)
        assert capsys.readouterr().out, f"block {i} of {page.name} shows the reader nothing"


def test_gradfit_docs_explains_what_is_missing(monkeypatch, tmp_path):
    import argparse

    from gradfit.cli import docs
    from gradfit.cli.main import UsageError

    p = argparse.ArgumentParser()
    docs.register(p.add_subparsers())
    args = p.parse_args(["docs", "--no-open", "--config", str(tmp_path / "nope.yml")])
    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda m, *a: None if m == "mkdocs" else real(m, *a)
    )
    with pytest.raises(UsageError, match=r"needs mkdocs; install them with pip install"):
        docs.run(args)
    monkeypatch.setattr(importlib.util, "find_spec", real)
    if not MISSING:
        with pytest.raises(UsageError, match="no such config file"):
            docs.run(args)


def test_gradfit_docs_finds_the_checkouts_config(tmp_path):
    from gradfit.cli.docs import find_config

    assert find_config(tmp_path) == ROOT / "mkdocs.yml"  # from anywhere: the checkout's
    (tmp_path / "mkdocs.yml").write_text("site_name: x\n")
    (tmp_path / "sub").mkdir()
    assert find_config(tmp_path / "sub") == tmp_path / "mkdocs.yml"  # the nearest one up
