"""``import gradfit`` stays light: NumPy only, no matplotlib, scikit-learn or torch."""

from __future__ import annotations

import subprocess
import sys

HEAVY = ["matplotlib", "sklearn", "torch", "scipy", "rich", "safetensors", "pandas", "numba"]


def _loaded(code: str) -> list[str]:
    probe = f"import sys\n{code}\nprint(','.join(m for m in {HEAVY!r} if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    return [m for m in out.stdout.strip().split(",") if m]


def test_import_gradfit_loads_numpy_only():
    assert _loaded("import gradfit") == []


def test_core_subpackages_stay_light():
    code = "import gradfit as gf\nimport gradfit.nn, gradfit.optim, gradfit.data, gradfit.train, gradfit.viz"
    assert _loaded(code) == []
