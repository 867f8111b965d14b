"""benchmarks/bench_norm.py: its gradfit and torch contenders compute the same input gradient."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.bench_norm import groupnorm_contenders  # noqa: E402


@pytest.mark.parametrize("instance", [False, True])
def test_groupnorm_contenders_agree(instance, kernel_path):
    c = groupnorm_contenders((2, 8, 3, 3), 4, instance)
    g, t = c["gradfit"](), c["torch"]()
    np.testing.assert_allclose(g.numpy(), t.numpy(), rtol=1e-4, atol=1e-5)
