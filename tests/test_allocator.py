"""gradfit.allocator: glibc's heap padding, set once, only where it applies."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from gradfit import allocator

SRC = str(Path(allocator.__file__).resolve().parents[1])


def _glibc() -> bool:
    try:
        return os.confstr("CS_GNU_LIBC_VERSION").startswith("glibc")
    except (AttributeError, ValueError, OSError):
        return False


def _tune_in_child(**env: str) -> str:
    code = "from gradfit import allocator; print(allocator.tune(), allocator.tune())"
    full = {k: v for k, v in os.environ.items() if not k.startswith(("MALLOC_", "GRADFIT_"))}
    full.update(env, PYTHONPATH=SRC)
    out = subprocess.run([sys.executable, "-c", code], env=full, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    return out.stdout.strip()


def test_tune_is_idempotent() -> None:
    assert allocator.tune() == allocator.tune()


@pytest.mark.skipif(not sys.platform.startswith("linux") or not _glibc(), reason="glibc only")
def test_tune_sets_glibc_parameters_unless_told_not_to() -> None:
    assert _tune_in_child() == "True True"
    assert _tune_in_child(GRADFIT_MALLOC_TUNE="0") == "False False"
    assert _tune_in_child(MALLOC_TOP_PAD_="1048576") == "False False"


@pytest.mark.skipif(not sys.platform.startswith("linux") or not _glibc(), reason="glibc only")
def test_import_tunes_and_the_opt_out_holds() -> None:
    code = "import gradfit, sys; sys.stdout.write(str(gradfit.allocator._done))"
    full = {k: v for k, v in os.environ.items() if not k.startswith(("MALLOC_", "GRADFIT_"))}
    for env, want in (({}, "True"), ({"GRADFIT_MALLOC_TUNE": "0"}, "False")):
        out = subprocess.run([sys.executable, "-c", code], env={**full, **env, "PYTHONPATH": SRC},
                             capture_output=True, text=True, check=True)  # fmt: skip
        assert out.stdout == want
