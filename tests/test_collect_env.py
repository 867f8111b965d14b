"""gradfit.utils.collect_env and ``gradfit env``: the facts a speed question or bug report needs."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
from tests.inproc import run_cli

import gradfit as gf
from gradfit import kernels
from gradfit.utils import collect_env


def test_env_info_names_versions_cpu_blas_threads_and_kernels(monkeypatch):
    monkeypatch.setenv("GRADFIT_TEST_MARKER", "42")
    info = collect_env.get_env_info()
    assert info.gradfit_version == gf.__version__
    assert info.numpy_version == np.__version__
    assert 1 <= info.usable_cores <= info.cores
    assert info.num_threads == gf.get_num_threads()
    assert info.cpu and isinstance(info.cpu, str)
    assert info.blas, "threadpoolctl sees NumPy's BLAS"
    assert all(isinstance(lib["threads"], int) and lib["library"] for lib in info.blas)
    assert info.kernels == kernels.status()
    assert info.packages["threadpoolctl"] != "not installed"
    assert info.packages["numba"] == ("not installed" if not kernels.available() else
                                      __import__("numba").__version__)  # fmt: skip
    assert info.environment["GRADFIT_TEST_MARKER"] == "42"
    assert "HOME" not in info.environment  # only the variables that change speed or memory


def test_kernel_status_says_why_they_are_off():
    with kernels.disabled():
        assert kernels.status().startswith("off: turned off by gradfit.kernels.set_enabled")
    if kernels.available():
        assert kernels.status().startswith("on:")
    env = dict(os.environ, GRADFIT_JIT="0")
    code = "from gradfit import kernels; print(kernels.status())"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    assert out.stdout.strip() == "off: GRADFIT_JIT=0 in the environment"


def test_pretty_report_has_one_fact_a_line():
    text = collect_env.get_pretty_env_info()
    lines = text.splitlines()
    assert lines[0] == f"gradfit {gf.__version__}"
    assert any(line.startswith("BLAS: ") and "threads" in line for line in lines)
    assert any(line == f"compiled kernels: {kernels.status()}" for line in lines)


def test_cli_env_prints_the_report_and_json():
    r = run_cli("env")
    assert r.returncode == 0, r.stderr
    assert r.stdout.splitlines()[0] == f"gradfit {gf.__version__}"
    r = run_cli("env", "--json")
    assert r.returncode == 0, r.stderr
    facts = json.loads(r.stdout)
    assert facts["numpy_version"] == np.__version__ and facts["cores"] >= 1
    r = run_cli("env", "--bogus")
    assert r.returncode == 2 and "unrecognized arguments: --bogus" in r.stderr


def test_module_entry_point_and_bad_option():
    out = subprocess.run([sys.executable, "-m", "gradfit.utils.collect_env", "--json"],
                         capture_output=True, text=True, check=True)  # fmt: skip
    assert json.loads(out.stdout)["gradfit_version"] == gf.__version__
    bad = subprocess.run([sys.executable, "-m", "gradfit.utils.collect_env", "--nope"],
                         capture_output=True, text=True)  # fmt: skip
    assert bad.returncode == 2
    assert bad.stderr.strip() == "collect_env: unknown option '--nope' (only --json)"
    assert "Traceback" not in bad.stderr
