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


_WITHOUT_NUMBA = """
import sys

sys.modules["numba"] = None  # as if not installed: find_spec gives None, import raises
import numpy as np
import gradfit as gf
from gradfit import kernels, nn

assert not kernels.available() and not kernels.enabled()
gf.manual_seed(0)
model = nn.Sequential(
    nn.Conv2d(2, 8, 3, padding=1), nn.GroupNorm(2, 8), nn.ReLU(), nn.MaxPool2d(2),
    nn.ConvTranspose2d(8, 4, 4, stride=2, padding=1), nn.Flatten(), nn.Linear(4 * 16 * 16, 16),
    nn.LayerNorm(16), nn.GELU(),
)
emb = nn.Embedding(10, 16)
attn = nn.MultiheadAttention(16, 2, batch_first=True)
params = list(model.parameters()) + list(emb.parameters()) + list(attn.parameters())
opt = gf.optim.SGD(params, lr=0.01, momentum=0.9)
x = gf.randn(64, 2, 16, 16)
for _ in range(2):
    opt.zero_grad()
    h = model(x).reshape(8, 8, 16) + emb(gf.randint(0, 10, (8, 8)))
    out, _ = attn(h, h, h)
    out.pow(2).mean().backward()
    opt.step()
assert np.isfinite(out.detach().numpy()).all()
print(sys.modules["numba"] is None)
"""


def test_every_kernel_op_trains_without_numba():
    """Without numba (import refused), the ops with kernels take their NumPy paths."""
    out = subprocess.run(
        [sys.executable, "-c", _WITHOUT_NUMBA], capture_output=True, text=True, check=False
    )
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip() == "True"


_BROKEN_NUMBA = """
import warnings
import numpy as np
import gradfit as gf
import gradfit.nn.functional as F
from gradfit import kernels

assert kernels.available()  # the package is there, it just does not import
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    y = F.max_pool2d(gf.arange(16.0).reshape(1, 1, 4, 4), 2)
    assert not kernels.enabled()
messages = [str(w.message) for w in caught if issubclass(w.category, RuntimeWarning)]
assert len(messages) == 1 and "Numba needs NumPy 9.9" in messages[0], messages
assert y.tolist() == [[[[5.0, 7.0], [13.0, 15.0]]]]
assert kernels.status().startswith("off: numba is installed but does not import (ImportError")
try:
    kernels.set_enabled(True)
except RuntimeError as e:
    print("refused:", e)
"""


def test_numba_that_does_not_import_leaves_kernels_off_with_one_warning(tmp_path):
    """numba installed but broken (as with a NumPy newer than it supports): one RuntimeWarning,
    the NumPy paths, and set_enabled(True) refused with the reason."""
    import os

    fake = tmp_path / "numba"
    fake.mkdir()
    (fake / "__init__.py").write_text('raise ImportError("Numba needs NumPy 9.9 or less")\n')
    env = dict(os.environ)
    env.pop("GRADFIT_JIT", None)
    env["PYTHONPATH"] = os.pathsep.join([str(tmp_path), env.get("PYTHONPATH", "")])
    out = subprocess.run(
        [sys.executable, "-c", _BROKEN_NUMBA], capture_output=True, text=True, env=env, check=False
    )
    assert out.returncode == 0, out.stderr[-2000:]
    assert (
        "refused: kernels.set_enabled(True): numba is installed but does not import" in out.stdout
    )
    assert "Numba needs NumPy 9.9" in out.stdout


_BROKEN_NUMBA_WARNING_AS_ERROR = """
import warnings
warnings.filterwarnings("error", category=RuntimeWarning)
import gradfit as gf
from gradfit import kernels
net = gf.nn.Sequential(gf.nn.Conv2d(1, 2, 3), gf.nn.ReLU())
seen = []
for _ in range(3):
    try:
        net(gf.randn(2, 1, 6, 6))
        seen.append("ok")
    except RuntimeWarning:
        seen.append("raised")
print(seen, kernels._state["imports"], len(kernels._import_error))
"""


def test_broken_numba_warning_made_an_error_raises_once_then_the_numpy_paths_run(tmp_path):
    """With warnings as errors (as this project's pytest setting), the first op raises the
    warning; the failure is recorded first, so later ops take the NumPy paths."""
    import os

    fake = tmp_path / "numba"
    fake.mkdir()
    (fake / "__init__.py").write_text('raise ImportError("Numba needs NumPy 9.9 or less")\n')
    env = dict(
        os.environ, PYTHONPATH=os.pathsep.join([str(tmp_path), os.environ.get("PYTHONPATH", "")])
    )
    env.pop("GRADFIT_JIT", None)
    out = subprocess.run([sys.executable, "-c", _BROKEN_NUMBA_WARNING_AS_ERROR],
                         capture_output=True, text=True, env=env, check=False)  # fmt: skip
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip() == "['raised', 'ok', 'ok'] False 1"


def _square(v):
    return v * v


_square_k = kernels.Kernel(_square, inline=True)


def _sum_of_squares(x):
    s = 0.0
    for v in x:
        s += _square_k(v)
    return s


_sum_of_squares_k = kernels.Kernel(_sum_of_squares)


@pytest.mark.skipif(not kernels.available(), reason="numba is not installed")
def test_a_kernel_calls_another_kernel_compiled_with_it():
    """A module-level Kernel named in a kernel's code is compiled (and inlined) with it;
    the Python function itself keeps calling the plain Kernel object."""
    x = np.arange(5, dtype=np.float64)
    assert _sum_of_squares_k(x) == 30.0
    assert _sum_of_squares.__globals__["_square_k"] is _square_k  # the module is untouched
    assert _square_k._compiled is not None  # compiled on the caller's first call
