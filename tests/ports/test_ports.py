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


def start(source: str, folder: Path, name: str) -> subprocess.Popen:
    """``python <name>`` with ``source``, started in ``folder`` (its output goes to files there)."""
    folder.mkdir()
    path = folder / name
    path.write_text(source)
    env = dict(os.environ, OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1", MPLBACKEND="Agg")
    with open(folder / "stdout", "w") as out, open(folder / "stderr", "w") as err:
        return subprocess.Popen(
            [sys.executable, str(path)], stdout=out, stderr=err, text=True, env=env, cwd=folder
        )


def result(proc: subprocess.Popen, folder: Path, name: str) -> dict:
    """The RESULT line of a program :func:`start` ran, once it has exited 0."""
    proc.wait(timeout=240)
    stdout, stderr = ((folder / s).read_text() for s in ("stdout", "stderr"))
    assert proc.returncode == 0, f"{name} failed:\n{stderr[-3000:]}"
    lines = [ln for ln in stdout.splitlines() if ln.startswith("RESULT ")]
    assert lines, f"{name} printed no RESULT line:\n{stdout[-2000:]}"
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
    # both at once (this process only waits), each in its own folder (p04 saves ckpt.pt)
    runs = [("torch", source), ("gradfit", to_gradfit(source))]
    procs = [start(src, tmp_path / lib, f"{lib}_{program.name}") for lib, src in runs]
    try:
        theirs, ours = (
            result(p, tmp_path / lib, f"{lib}_{program.name}")
            for p, (lib, _) in zip(procs, runs, strict=True)
        )
    finally:
        for p in procs:  # the other one, when one failed or hung
            if p.poll() is None:
                p.kill()
                p.wait()
    agree(theirs, ours, rtol, atol)
