"""Write the learning pages of docs/learn/ as Jupyter notebooks (one cell per block).

The page is the source: its prose becomes Markdown cells and each ```python block a
code cell, in order, so the notebook runs exactly what the page shows.
tests/docs_site/test_notebooks.py executes every notebook with a real kernel and checks
that it still matches its page. Run after editing a page:

    python examples/notebooks/make_notebooks.py
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[2]
LEARN = ROOT / "docs" / "learn"
HERE = Path(__file__).resolve().parent
PAGES = [
    "neuron",
    "activations",
    "descent",
    "chain-rule",
    "digits",
    "initialisation",
    "learning-rate",
    "regularisation",
    "baselines",
    "transfer",
    "collaborative-filtering",
    "sequences",
    "porting",
    "command-line",
    "reliability",
]
_BLOCK = re.compile(r"```python\n(.*?)```\n?", re.S)
# pictures drawn by the site's build hook (docs/hooks/figures.py): named, not linked
_IMAGE = re.compile(r"^!\[([^\]]*)\]\([^)]*\)$", re.M)
_PICTURE = r"*(Picture on the documentation site: \1.)*"


def notebook_for(page: str) -> nbformat.NotebookNode:
    """The notebook of ``docs/learn/<page>.md``."""
    text = (LEARN / f"{page}.md").read_text()
    cells = []
    pos = 0
    for m in _BLOCK.finditer(text):
        prose = _IMAGE.sub(_PICTURE, text[pos : m.start()]).strip()
        if prose:
            cells.append(nbformat.v4.new_markdown_cell(prose))
        cells.append(nbformat.v4.new_code_cell(m.group(1).rstrip("\n")))
        pos = m.end()
    tail = _IMAGE.sub(_PICTURE, text[pos:]).strip()
    if tail:
        cells.append(nbformat.v4.new_markdown_cell(tail))
    nb = nbformat.v4.new_notebook(cells=cells)
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    for i, cell in enumerate(nb.cells):  # stable ids: regenerating gives the same file
        cell["id"] = f"{page}-{i}"
    return nb


def path_for(page: str) -> Path:
    return HERE / f"{page.replace('-', '_')}.ipynb"


def main() -> int:
    for page in PAGES:
        nbformat.write(notebook_for(page), path_for(page))
        print("wrote", path_for(page).relative_to(ROOT))
    return 0


if __name__ == "__main__":
    sys.exit(main())
