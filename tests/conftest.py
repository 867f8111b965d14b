"""Shared test configuration: seeds, hypothesis profile. The PyTorch oracle lives in oracle.py."""

from __future__ import annotations

import os
import warnings

import numpy as np
import pytest
from hypothesis import HealthCheck, settings

settings.register_profile(
    "default",
    max_examples=int(os.environ.get("GRADFIT_HYPOTHESIS_EXAMPLES", "25")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    derandomize=True,
)
settings.load_profile("default")


@pytest.fixture(autouse=True)
def _seed() -> None:
    import gradfit as gf

    gf.manual_seed(0)
    np.random.seed(0)


@pytest.fixture(params=["numpy", "numba"])
def kernel_path(request: pytest.FixtureRequest) -> str:
    """Run a test once on the NumPy path and once on the compiled kernels (gradfit.kernels).

    The numba run is skipped where numba is not installed, or does not import.
    """
    from gradfit import kernels

    if request.param == "numba" and not kernels.available():
        pytest.skip("numba is not installed (no wheel for this Python)")
    if request.param == "numba":
        with warnings.catch_warnings():  # (a broken numba warns once; the skip says why)
            warnings.simplefilter("ignore", RuntimeWarning)
            status = kernels.status()
        if status.startswith("off: numba is installed but"):
            pytest.skip(status)
    before = kernels.enabled()
    kernels.set_enabled(request.param == "numba")
    yield request.param
    kernels.set_enabled(before)
