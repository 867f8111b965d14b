"""Three built pages opened in headless Chromium: their pictures load and draw, the page is
not blank, and the API reference shows ``gf.nn.Linear`` with its signature as rendered text."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = pytest.mark.skipif(
    CHROMIUM is None, reason="chromium not installed (apt-get install chromium)"
)

# After load, the page records in the DOM each image's natural width (0: not loaded) and
# its visible text, so --dump-dom shows what a reader's browser drew.
PROBE = (
    "<script>window.addEventListener('load', () => {"
    " const w = [...document.images].map(i => i.complete ? i.naturalWidth : 0);"
    " document.body.setAttribute('data-widths', w.join(','));"
    " document.body.setAttribute('data-text', document.body.innerText.slice(0, 200000)); });"
    "</script></body>"
)


def _flags(profile: Path) -> list[str]:
    return [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu",
            "--disable-background-networking", "--disable-component-update", "--disable-sync",
            "--no-first-run", f"--user-data-dir={profile}", "--virtual-time-budget=4000"]  # fmt: skip


def _open(page: Path, tmp_path: Path) -> tuple[list[int], str]:
    """(natural widths of the page's images, its rendered text) in headless Chromium."""
    probe = page.with_name("_probe.html")  # beside the page, so relative links resolve
    probe.write_text(page.read_text().replace("</body>", PROBE))
    try:
        dom = subprocess.run(
            [*_flags(tmp_path / "profile"), "--dump-dom", probe.as_uri()],
            capture_output=True,
            text=True,
            timeout=90,
        ).stdout
    finally:
        probe.unlink()
    m = re.search(r'data-widths="([0-9,]*)"', dom)
    assert m, f"the page did not finish loading in Chromium: {dom[:300]!r}"
    widths = [int(w) for w in m.group(1).split(",") if w]
    text = re.search(r'data-text="([^"]*)"', dom)
    return widths, text.group(1) if text else ""


def _screenshot(page: Path, tmp_path: Path) -> np.ndarray:
    from PIL import Image

    shot = tmp_path / f"{page.parent.name}.png"
    subprocess.run(
        [*_flags(tmp_path / "profile"), f"--screenshot={shot}", "--window-size=1200,1600",
         page.as_uri()],
        capture_output=True, timeout=90,
    )  # fmt: skip
    assert shot.exists(), f"Chromium wrote no screenshot of {page}"
    return np.asarray(Image.open(shot).convert("L"), dtype=np.float64)


@pytest.mark.parametrize(
    ("page", "min_images"),
    [("learn/descent/index.html", 1), ("learn/digits/index.html", 2), ("index.html", 0)],
)
def test_page_renders_with_its_pictures(site, tmp_path, page, min_images):
    path = site / page
    widths, text = _open(path, tmp_path)
    assert len(widths) >= min_images
    assert all(w > 100 for w in widths), f"an image did not load on {page}: widths {widths}"
    assert len(text.split()) > 50, f"{page} shows almost no text"
    img = _screenshot(path, tmp_path)
    assert img.std() > 10, f"the screenshot of {page} is blank"
    assert 0.002 < (img < 128).mean() < 0.6  # text and pictures, not an empty or black page


def test_api_reference_shows_linear_signature_in_the_browser(site, tmp_path):
    _, text = _open(site / "api" / "nn" / "index.html", tmp_path)
    assert re.search(
        r"Linear\s*\(\s*in_features\s*:\s*int\s*,\s*out_features\s*:\s*int\s*,\s*bias\s*:", text
    ), "the rendered API page does not show gradfit.nn.Linear's signature"
