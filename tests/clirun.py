"""Run the ``gradfit`` command in a subprocess, as a user would (shared by tests/cli)."""

from __future__ import annotations

import os
import subprocess
import sys
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
