"""`mpiexec -n 2 gradfit train --distributed`: rank 0 writes, and a resume on 1 process continues it exactly."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("mpi4py", reason="needs the distributed extra (mpi4py)")

SRC = Path(__file__).parents[2] / "src"
MPIEXEC = Path(sys.executable).parent / "mpiexec"
pytestmark = pytest.mark.skipif(
    not MPIEXEC.exists(), reason="mpiexec not found (pip install mpich)"
)
FLAGS = ["--data", "moons", "--hidden", "16", "--dropout", "0"]
FLAGS += ["--no-baselines", "--quiet", "--schedule", "none"]  # dropout masks depend on the split


def train(*args: str, procs: int = 1) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(SRC), "MPLBACKEND": "Agg", "OMP_NUM_THREADS": "1"}
    cmd = [sys.executable, "-m", "gradfit", "train", "--distributed", *FLAGS, *args]
    if procs > 1:
        cmd = [str(MPIEXEC), "-n", str(procs), *cmd]
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc


def test_two_processes_then_resume_on_one_equals_one_process(tmp_path: Path) -> None:
    two = train("--epochs", "2", "--out", str(tmp_path / "two"), procs=2)
    assert two.stdout.count("gradfit train: mlp") == 1  # rank 0 alone prints
    assert (tmp_path / "two" / "checkpoint.safetensors").exists()
    train("--resume", str(tmp_path / "two"), "--epochs", "4")
    train("--epochs", "4", "--out", str(tmp_path / "one"))
    resumed = json.loads((tmp_path / "two" / "metrics.json").read_text())
    straight = json.loads((tmp_path / "one" / "metrics.json").read_text())
    assert resumed["test_loss"] == pytest.approx(
        straight["test_loss"], rel=1e-4
    )  # float32 sums in another order
    for a, b in zip(resumed["history"], straight["history"], strict=True):
        assert a["val_loss"] == pytest.approx(
            b["val_loss"], rel=1e-4
        )  # float32 sums in another order
