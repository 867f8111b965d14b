"""gradfit.kernels: optional numba kernels, off by environment or call, never imported at import."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from gradfit import kernels


def _probe(code: str, env_jit: str | None) -> str:
    import os

    env = dict(os.environ)
    env.pop("GRADFIT_JIT", None)
    if env_jit is not None:
        env["GRADFIT_JIT"] = env_jit
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True
    )
    return out.stdout.strip()


def test_environment_variable_turns_kernels_off():
    code = "from gradfit import kernels; print(kernels.enabled(), kernels.available())"
    enabled, available = _probe(code, "0").split()
    assert enabled == "False"
    enabled_default, _ = _probe(code, None).split()
    assert enabled_default == available


def test_set_enabled_checks_its_argument():
    with pytest.raises(TypeError, match="kernels.set_enabled: expected a bool"):
        kernels.set_enabled(1)  # type: ignore[arg-type]


def test_set_enabled_true_without_numba_is_refused(monkeypatch):
    monkeypatch.setitem(kernels._state, "available", False)
    with pytest.raises(RuntimeError, match="numba is not installed"):
        kernels.set_enabled(True)


def test_disabled_restores_previous_setting():
    before = kernels.enabled()
    with kernels.disabled():
        assert not kernels.enabled()
    assert kernels.enabled() == before


def _scale_rows(x, a, out):
    for i in range(x.shape[0]):
        for j in range(x.shape[1]):
            out[i, j] = x[i, j] * a[i]


def test_kernel_compiles_and_agrees_with_numpy(kernel_path):
    x = np.random.default_rng(0).standard_normal((5, 7)).astype(np.float32)
    a = np.arange(5, dtype=np.float32)
    expected = x * a[:, None]
    if kernels.enabled():
        out = np.empty_like(x)
        kernels.Kernel(_scale_rows)(x, a, out)
        assert out.dtype == np.float32
        np.testing.assert_array_equal(out, expected)
    else:
        assert kernel_path == "numpy"
