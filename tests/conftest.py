"""Shared test configuration: seeds, hypothesis profile. The PyTorch oracle lives in oracle.py."""

from __future__ import annotations

import os

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
