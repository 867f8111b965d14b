"""Run the ``gradfit`` command in a subprocess, as a user would (shared by tests/cli)."""

from __future__ import annotations

import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

FAST = ["--hidden", "32", "--no-baselines", "--quiet", "--epochs", "2"]


def gradfit(
    *args: str, cwd: Path | None = None, timeout: float = 240
) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONUNBUFFERED="1", MPLBACKEND="Agg")
    return subprocess.run(
        [sys.executable, "-m", "gradfit", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=env,
        timeout=timeout,
    )


def gradfit_all(
    argvs: list[list[str]], workers: int = 2, timeout: float = 240
) -> list[subprocess.CompletedProcess]:
    """:func:`gradfit` on each argument list, ``workers`` of them at a time (a command that
    stops on bad input spends its time starting up, on one core)."""
    with ThreadPoolExecutor(workers) as pool:
        return list(pool.map(lambda argv: gradfit(*argv, timeout=timeout), argvs))
