"""benchmarks/bench_convt.py and benchmarks/pair.py: the contenders agree, the table reports ratios."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks import pair  # noqa: E402
from benchmarks.bench_convt import contenders  # noqa: E402


@pytest.mark.parametrize("case", ["dcgan", "dcgan1d"])
def test_convt_contenders_agree(case):
    c = contenders(case)
    g, t = c["gradfit"](), c["torch"]()
    np.testing.assert_allclose(g.numpy(), t.numpy(), rtol=1e-4, atol=1e-4)


def test_pair_table_gives_median_per_round_ratios():
    times = {
        "gradfit": {"wall": [2.0, 9.0, 3.0], "cpu": [2.0, 2.2, 2.4]},
        "torch": {"wall": [1.0, 3.0, 1.0], "cpu": [1.0, 1.0, 1.0]},
    }
    rows = pair.table(times).splitlines()
    assert rows[2].startswith("| gradfit | 3000.000 | 2200.000 | 3.00 | 2.20 |")
    assert rows[3].endswith("| 1.00 | 1.00 |")
