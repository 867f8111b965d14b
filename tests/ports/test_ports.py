"""Run every program in ``programs/`` under torch and under gradfit (only the imports change)."""

from __future__ import annotations

import json
import math
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).parent
PROGRAMS = sorted((HERE / "programs").glob("*.py"))

_IMPORTS = [
    (re.compile(r"^(\s*)import torch(\s*)$", re.M), r"\1import gradfit as torch\2"),
    (re.compile(r"^(\s*)import torch\.(\S+) as (\w+)", re.M), r"\1import gradfit.\2 as \3"),
    (re.compile(r"^(\s*)from torch(\.\S+)? import ", re.M), r"\1from gradfit\2 import "),
]


def to_gradfit(source: str) -> str:
    """The program with its torch imports pointing at gradfit (nothing else changes)."""
    for pattern, repl in _IMPORTS:
        source = pattern.sub(repl, source)
    return source


def run(source: str, tmp: Path, name: str) -> dict:
    path = tmp / name
    path.write_text(source)
    env = dict(os.environ, OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1", MPLBACKEND="Agg")
    r = subprocess.run(
        [sys.executable, str(path)], capture_output=True, text=True, timeout=240, env=env, cwd=tmp
    )
    assert r.returncode == 0, f"{name} failed:\n{r.stderr[-3000:]}"
    lines = [ln for ln in r.stdout.splitlines() if ln.startswith("RESULT ")]
    assert lines, f"{name} printed no RESULT line:\n{r.stdout[-2000:]}"
    return json.loads(lines[-1][len("RESULT ") :])


def agree(a, b, rtol, atol, where="result"):
    if isinstance(a, dict):
        assert isinstance(b, dict) and a.keys() == b.keys(), (
            f"{where}: keys {a.keys()} != {b.keys()}"
        )
        for k in a:
            agree(a[k], b[k], rtol, atol, f"{where}.{k}")
    elif isinstance(a, list):
        assert isinstance(b, list) and len(a) == len(b), f"{where}: lengths differ"
        for i, (x, y) in enumerate(zip(a, b)):
            agree(x, y, rtol, atol, f"{where}[{i}]")
    elif isinstance(a, float) or isinstance(b, float):
        assert math.isclose(a, b, rel_tol=rtol, abs_tol=atol), f"{where}: torch {a} vs gradfit {b}"
    else:
        assert a == b, f"{where}: torch {a!r} vs gradfit {b!r}"


def test_the_import_rewrite_touches_imports_only():
    src = "import torch\nimport torch.nn as nn\nfrom torch.utils.data import DataLoader\nx = torch.ones(2)\n"
    assert to_gradfit(src) == (
        "import gradfit as torch\nimport gradfit.nn as nn\nfrom gradfit.utils.data import DataLoader\n"
        "x = torch.ones(2)\n"
    )


@pytest.mark.parametrize("program", PROGRAMS, ids=lambda p: p.stem)
def test_program_runs_unchanged(program, tmp_path):
    source = program.read_text()
    m = re.search(r"#\s*tolerance:\s*(\S+)\s+(\S+)", source)
    rtol, atol = (float(m.group(1)), float(m.group(2))) if m else (1e-4, 1e-5)
    theirs = run(source, tmp_path, "torch_" + program.name)
    ours = run(to_gradfit(source), tmp_path, "gradfit_" + program.name)
    agree(theirs, ours, rtol, atol)
