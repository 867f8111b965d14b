"""DistributedDataParallel and the collectives on 2 MPI processes (``mpiexec -n 2``).

Each test runs ``ddp_worker.py`` under mpiexec in a subprocess; skipped when mpi4py or
mpiexec is absent (install the ``distributed`` extra).
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytest.importorskip("mpi4py", reason="needs the distributed extra (mpi4py)")

HERE = Path(__file__).parent
SRC = HERE.parents[1] / "src"


def _mpiexec() -> str | None:
    local = Path(sys.executable).parent / "mpiexec"
    return str(local) if local.exists() else shutil.which("mpiexec")


MPIEXEC = _mpiexec()
pytestmark = pytest.mark.skipif(MPIEXEC is None, reason="mpiexec not found (pip install mpich)")


def run(*args: str, timeout: float = 60) -> tuple[subprocess.CompletedProcess[str], float]:
    env = {**os.environ, "PYTHONPATH": f"{SRC}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"}
    env["OMP_NUM_THREADS"] = env["OPENBLAS_NUM_THREADS"] = "1"
    cmd = [MPIEXEC, "-n", "2", sys.executable, str(HERE / "ddp_worker.py"), *args]
    t0 = time.monotonic()
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=env)
    return proc, time.monotonic() - t0


@pytest.mark.parametrize(
    ("bucket_mb", "grads"),
    [("25", "copy"), ("0.0005", "copy"), ("0.0005", "view")],  # one bucket; several buckets
)
def test_two_processes_match_one_after_100_steps(bucket_mb: str, grads: str) -> None:
    proc, _ = run("equivalence", bucket_mb, grads)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "OK diff" in proc.stdout


def test_no_sync_accumulates_then_reduces_the_sum() -> None:
    proc, _ = run("no_sync")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "OK diff" in proc.stdout


def test_ctrl_c_on_one_rank_stops_every_rank_after_the_same_batch() -> None:
    proc, _ = run("trainer_ctrl_c")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "OK stopped in epoch 2" in proc.stdout


def test_ctrl_c_at_mpiexec_stops_every_rank_cleanly() -> None:
    env = {**os.environ, "PYTHONPATH": f"{SRC}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"}
    cmd = [MPIEXEC, "-n", "2", sys.executable, str(HERE / "ddp_worker.py"), "trainer_until_ctrl_c"]
    proc = subprocess.Popen(
        cmd,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),  # as in a terminal
    )
    assert proc.stdout is not None
    deadline = time.monotonic() + 30
    for line in proc.stdout:
        if "started" in line or time.monotonic() > deadline:
            break
    proc.send_signal(signal.SIGINT)
    out, _ = proc.communicate(timeout=30)
    steps = re.findall(r"rank \d stopped at step (\d+)", out)  # lines may arrive joined
    assert len(steps) == 2 and steps[0] == steps[1], out
    assert proc.returncode == 130, out


def test_a_nan_loss_on_one_rank_stops_every_rank() -> None:
    proc, took = run("trainer_nan", timeout=40)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    # mpiexec merges the ranks' output: two lines may arrive joined
    assert proc.stdout.count("stopped at step 4: the loss became NaN") == 2, proc.stdout
    assert proc.stdout.count("on 1 of 2 ranks") == 2, proc.stdout


def test_a_hung_rank_makes_the_others_abort_with_a_message() -> None:
    proc, took = run("hang", timeout=40)
    assert proc.returncode != 0
    assert "all_reduce did not complete within 3 s" in proc.stderr
    assert "not reached" not in proc.stdout
    assert took < 30


def test_a_killed_rank_does_not_hang_the_others() -> None:
    proc, took = run("kill", timeout=40)
    assert proc.returncode != 0
    assert "not reached" not in proc.stdout
    assert took < 30
