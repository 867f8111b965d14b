"""benchmarks/profile_cnn.py runs and prints its table (in a child: it wraps every Function)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_profile_cnn_prints_ops_faults_and_pool_tasks():
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(ROOT / "src"), str(ROOT)]))
    cmd = [sys.executable, "-m", "benchmarks.profile_cnn", "--threads", "2", "--steps", "1",
           "--batch", "64"]  # fmt: skip
    out = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert "minor faults/step" in out.stdout
    assert "| ConvNd.backward |" in out.stdout and "| Linear.forward |" in out.stdout
    assert "pool task 0, 1" in out.stdout  # 64 x 16 x 28 x 28 floats: conv chunks split
    # with numba the ReLU and pooling run inside ConvNd; --unfused times them as ops
    out = subprocess.run([*cmd, "--unfused"], cwd=ROOT, env=env, capture_output=True, text=True,
                         timeout=120)  # fmt: skip
    assert out.returncode == 0, out.stderr
    assert "| ReLU.forward |" in out.stdout and "| MaxPool2d.backward |" in out.stdout
