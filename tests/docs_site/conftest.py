"""The documentation site, built once per test session (``mkdocs build --strict``)."""

from __future__ import annotations

import importlib.util
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

MISSING = [
    m
    for m in ("mkdocs", "material", "mkdocstrings_handlers")
    if importlib.util.find_spec(m) is None
]


@pytest.fixture(scope="session")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The built site's folder, as `gradfit docs` builds it."""
    if MISSING:
        pytest.skip(f"needs {', '.join(MISSING)} (pip install -e '.[docs]')")
    out = tmp_path_factory.mktemp("site")
    from gradfit.cli.docs import build_command, build_env  # what `gradfit docs` runs

    config = ROOT / "mkdocs.yml"
    run = subprocess.run(
        build_command(config, out),
        capture_output=True,
        text=True,
        env=build_env(config),
        cwd=ROOT,
        timeout=300,
    )
    assert run.returncode == 0, f"mkdocs build --strict failed:\n{run.stdout}\n{run.stderr}"
    return out
