"""benchmarks/profile_seq.py runs and prints its table (in a child: it wraps every Function)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_profile_seq_prints_the_transformer_ops():
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(ROOT / "src"), str(ROOT)]))
    cmd = [sys.executable, "-m", "benchmarks.profile_seq", "--steps", "1"]
    out = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert "ms/step without timers" in out.stdout
    for op in ("| Linear.backward |", "| GELU.forward |", "| LayerNorm.backward |",
               "| PackedSelfAttention.forward |", "(optimizer) |"):  # fmt: skip
        assert op in out.stdout, out.stdout
