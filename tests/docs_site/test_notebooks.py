"""The tutorial notebooks run top to bottom in a real Jupyter kernel and match their pages."""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS = ROOT / "examples" / "notebooks"

missing = [m for m in ("nbformat", "nbclient", "ipykernel") if importlib.util.find_spec(m) is None]
pytestmark = pytest.mark.skipif(
    bool(missing), reason=f"needs {', '.join(missing)} (pip install -e '.[docs]')"
)


def _maker():
    spec = importlib.util.spec_from_file_location("make_notebooks", NOTEBOOKS / "make_notebooks.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


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


def test_every_learning_page_has_a_notebook():
    assert sorted(_maker().PAGES) == sorted(
        p.stem for p in (ROOT / "docs" / "learn").glob("*.md") if p.stem != "index"
    )


@pytest.mark.parametrize("page", PAGES)
def test_notebook_matches_its_page(page):
    import nbformat

    maker = _maker()
    on_disk = nbformat.read(maker.path_for(page), as_version=4)
    fresh = maker.notebook_for(page)
    assert [(c.cell_type, c.source) for c in on_disk.cells] == [
        (c.cell_type, c.source) for c in fresh.cells
    ], f"{maker.path_for(page).name} is stale: run python examples/notebooks/make_notebooks.py"


@pytest.fixture(scope="module")
def executed(request, tmp_path_factory):
    """page -> its notebook run top to bottom in a fresh kernel (or what that run raised), for
    the pages this session tests; two kernels at a time, as most of a run is waiting for one."""
    import asyncio

    import nbformat
    from nbclient import NotebookClient

    pages = [
        item.callspec.params["page"]
        for item in request.session.items
        if getattr(item, "originalname", None) == "test_notebook_runs_in_a_kernel"
        and item.module is request.module
    ]

    async def run(page: str, gate: asyncio.Semaphore):
        async with gate:
            nb = nbformat.read(_maker().path_for(page), as_version=4)
            folder = str(tmp_path_factory.mktemp(page))  # the kernel's working directory
            client = NotebookClient(
                nb, timeout=60, kernel_name="python3", resources={"metadata": {"path": folder}}
            )
            try:
                await client.async_execute()  # CellExecutionError, naming the cell, if one fails
            except Exception as e:
                return e
            return nb

    async def run_all():
        gate = asyncio.Semaphore(2)
        return await asyncio.gather(*(run(page, gate) for page in pages))

    # the kernel is a new process: it must import this checkout's gradfit, draw headless
    with pytest.MonkeyPatch.context() as mp:
        src = str(ROOT / "src")
        mp.setenv("PYTHONPATH", os.pathsep.join([src, os.environ.get("PYTHONPATH", "")]))
        mp.setenv("MPLBACKEND", "Agg")
        return dict(zip(pages, asyncio.run(run_all()), strict=True))


@pytest.mark.parametrize("page", PAGES)
def test_notebook_runs_in_a_kernel(page, executed):
    nb = executed[page]
    if isinstance(nb, Exception):
        raise nb
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert code and all(c.execution_count for c in code)
    errors = [o for c in code for o in c.outputs if o.output_type == "error"]
    assert not errors
    shown = "".join(o.get("text", "") for c in code for o in c.outputs)
    assert shown.strip(), "the notebook shows the reader nothing"
