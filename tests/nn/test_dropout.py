"""Dropout: train-mode statistics, scaling, gradient through the mask, eval identity, seeding."""

from __future__ import annotations

import numpy as np
import pytest

import gradfit as gf
import gradfit.nn.functional as F
from gradfit import nn


@pytest.mark.parametrize("p", [0.1, 0.5, 0.8])
def test_dropout_train_statistics(p):
    n = 200_000
    y = nn.Dropout(p)(gf.ones(n)).numpy()
    zero_frac = (y == 0).mean()
    assert abs(zero_frac - p) < 5 * np.sqrt(p * (1 - p) / n)
    kept = y[y != 0]
    np.testing.assert_allclose(kept, 1 / (1 - p), rtol=1e-6)  # inverted dropout scaling
    assert abs(y.mean() - 1.0) < 5 * np.sqrt(p / (1 - p) / n)  # expectation preserved
    assert y.dtype == np.float32


def test_dropout_gradient_uses_the_same_mask():
    x = gf.randn(50, 40, requires_grad=True)
    y = nn.Dropout(0.5)(x)
    y.sum().backward()
    mask = y.numpy() / np.where(x.numpy() == 0, 1, x.numpy())
    np.testing.assert_allclose(x.grad.numpy(), mask, rtol=1e-5, atol=1e-6)
    assert set(np.unique(np.round(x.grad.numpy(), 5))) <= {0.0, 2.0}


def test_dropout_eval_is_identity_and_p0():
    drop = nn.Dropout(0.5).eval()
    x = gf.randn(10)
    assert drop(x) is x
    assert F.dropout(x, 0.0) is x
    assert F.dropout(x, 0.5, training=False) is x
    np.testing.assert_array_equal(F.dropout(x, 1.0).numpy(), np.zeros(10, np.float32))


def test_dropout_seeded_and_generator():
    gf.manual_seed(7)
    a = nn.Dropout()(gf.ones(100)).numpy()
    gf.manual_seed(7)
    b = nn.Dropout()(gf.ones(100)).numpy()
    np.testing.assert_array_equal(a, b)
    g1, g2 = np.random.default_rng(3), np.random.default_rng(3)
    np.testing.assert_array_equal(
        F.dropout(gf.ones(50), generator=g1).numpy(), F.dropout(gf.ones(50), generator=g2).numpy()
    )


def test_dropout_bad_p_and_repr():
    with pytest.raises(ValueError, match="between 0 and 1, but got 1.5"):
        nn.Dropout(1.5)
    assert repr(nn.Dropout(0.25)) == "Dropout(p=0.25, inplace=False)"
