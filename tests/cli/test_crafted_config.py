"""A checkpoint whose model config is crafted to ask for huge layers fails fast, in little memory.

The weights stored in the file are an honest small MLP's; only the JSON config lies.
Every command that rebuilds a model from a checkpoint must refuse it with the usual
one-line error (exit 2) without allocating what the config asks for, and without
writing anything.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

import gradfit as gf
from clirun import gradfit
from gradfit.train.checkpoint import save_checkpoint

RUN = {"data": "digits", "model": "mlp", "hidden": [32], "seed": 0}


def crafted_checkpoint(path: Path, sizes: list[int]) -> Path:
    """An honest mlp([64, 32, 10]) checkpoint whose model config claims ``sizes``."""
    model = gf.models.mlp([64, 32, 10])
    config = {**model.config, "sizes": sizes}
    meta = {
        "config": {
            "run": RUN,
            "model_config": config,
            "task": "classification",
            "input_shape": [64],
        },
        "epoch": 1,
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    save_checkpoint(path, model, meta=meta)
    return path


def run_measured(args: list[str], tmp: Path, timeout: float = 120) -> tuple[int, str, float, int]:
    """Run ``gradfit *args``; returns (exit code, stderr, seconds, peak RSS in bytes).

    The peak is that one process's (``os.wait4``), not the most any child of the
    test session ever used, as ``getrusage(RUSAGE_CHILDREN)`` would give.
    """
    env = dict(os.environ, PYTHONUNBUFFERED="1", MPLBACKEND="Agg")
    out, err = tmp / "stdout.txt", tmp / "stderr.txt"
    start = time.monotonic()
    with out.open("wb") as fo, err.open("wb") as fe:
        proc = subprocess.Popen(
            [sys.executable, "-m", "gradfit", *args], stdout=fo, stderr=fe, env=env
        )
        while True:
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            if time.monotonic() - start > timeout:
                proc.kill()
                os.wait4(proc.pid, 0)
                proc.returncode = -9
                pytest.fail(f"gradfit {' '.join(args)} ran for more than {timeout} s")
            time.sleep(0.02)
    proc.returncode = os.waitstatus_to_exitcode(status)  # reaped here, not by Popen
    seconds = time.monotonic() - start
    return proc.returncode, err.read_text(), seconds, usage.ru_maxrss * 1024


# 200000**2 float32 weights are 160 GB (more than most machines can even reserve);
# 12000**2 are 576 MB, which a machine can reserve and which building the model the
# plain way would write, with a float64 random draw of twice that on top.
@pytest.mark.parametrize("sizes", [[200000, 200000, 10], [12000, 12000, 10]])
def test_evaluate_refuses_a_crafted_config_fast_and_small(tmp_path, sizes):
    ck = crafted_checkpoint(tmp_path / "run" / "checkpoint.safetensors", sizes)
    before = {p.name: p.read_bytes() for p in ck.parent.iterdir()}
    code, stderr, seconds, peak = run_measured(["evaluate", str(ck)], tmp_path)
    assert code == 2, stderr
    lines = stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in stderr, stderr
    assert lines[0].startswith("gradfit evaluate: error: checkpoint ")
    assert "cannot rebuild its model" in stderr and "'mlp'" in stderr and str(sizes[0]) in stderr
    assert peak < 1024**3, f"peak memory {peak / 1024**2:.0f} MB"
    assert seconds < 60
    assert {p.name: p.read_bytes() for p in ck.parent.iterdir()} == before  # nothing written


def test_predict_refuses_a_crafted_config(tmp_path):
    ck = crafted_checkpoint(tmp_path / "run" / "checkpoint.safetensors", [200000, 200000, 10])
    inputs = tmp_path / "x.csv"
    inputs.write_text(",".join(["0"] * 64) + "\n")
    out = tmp_path / "pred.csv"
    r = gradfit("predict", str(ck), str(inputs), "--out", str(out))
    assert r.returncode == 2, r.stderr
    assert len(r.stderr.strip().splitlines()) == 1 and "Traceback" not in r.stderr
    assert "cannot rebuild its model" in r.stderr
    assert not out.exists()


def test_init_from_refuses_a_crafted_config(tmp_path):
    ck = crafted_checkpoint(tmp_path / "base" / "checkpoint.safetensors", [200000, 200000, 10])
    out = tmp_path / "ft"
    r = gradfit("train", "--init-from", str(ck), "--quiet", "--no-baselines", "--out", str(out))
    assert r.returncode == 2, r.stderr
    assert len(r.stderr.strip().splitlines()) == 1 and "Traceback" not in r.stderr
    assert "cannot rebuild its model" in r.stderr
    assert not out.exists()


def test_a_config_that_does_not_fit_its_weights_names_the_mismatch(tmp_path):
    ck = crafted_checkpoint(tmp_path / "run" / "checkpoint.safetensors", [64, 16, 10])
    r = gradfit("evaluate", str(ck))
    assert r.returncode == 2, r.stderr
    assert len(r.stderr.strip().splitlines()) == 1
    assert "fc1.weight (32, 64) in the state vs (16, 64) in the model" in r.stderr


def test_resume_refuses_a_crafted_config_fast_and_small(tmp_path):
    # --resume rebuilds the checkpoint's own model config (a fine-tuned run's has a new head)
    ck = crafted_checkpoint(tmp_path / "run" / "checkpoint.safetensors", [12000, 12000, 10])
    before = {p.name: p.read_bytes() for p in ck.parent.iterdir()}
    code, stderr, seconds, peak = run_measured(
        ["train", "--resume", str(ck.parent), "--epochs", "3", "--quiet", "--no-baselines"],
        tmp_path,
    )
    assert code == 2, stderr
    assert len(stderr.strip().splitlines()) == 1 and "Traceback" not in stderr, stderr
    assert f"--resume {ck}" in stderr and "12000" in stderr
    assert peak < 1024**3, f"peak memory {peak / 1024**2:.0f} MB"
    assert {p.name: p.read_bytes() for p in ck.parent.iterdir()} == before  # nothing written
