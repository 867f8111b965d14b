"""Tensor factories and the seeded generator."""

from __future__ import annotations

import numpy as np
import pytest

import gradfit as gf


def test_factories_shapes_and_dtypes():
    assert gf.zeros(2, 3).shape == (2, 3) and gf.zeros((2, 3)).shape == (2, 3)
    assert gf.ones(2, dtype="float64").dtype == np.float64
    assert gf.full((2, 2), 1.5).tolist() == [[1.5, 1.5], [1.5, 1.5]]
    assert gf.full((2,), 7).dtype == np.int64
    assert gf.empty(4).shape == (4,)
    assert gf.arange(5).tolist() == [0, 1, 2, 3, 4] and gf.arange(5).dtype == np.int64
    assert gf.arange(0, 1, 0.25).dtype == np.float32
    np.testing.assert_allclose(gf.linspace(0, 1, 5).numpy(), [0, 0.25, 0.5, 0.75, 1])
    assert gf.eye(3).numpy().trace() == 3
    x = gf.randn(3, 4)
    assert gf.zeros_like(x).shape == (3, 4) and gf.ones_like(x).dtype == np.float32
    assert gf.full_like(x, 2).numpy().sum() == 24


def test_random_factories_are_seeded_and_have_the_right_statistics():
    gf.manual_seed(7)
    a = gf.randn(10_000)
    gf.manual_seed(7)
    b = gf.randn(10_000)
    assert np.array_equal(a.numpy(), b.numpy())
    assert abs(a.numpy().mean()) < 0.05 and abs(a.numpy().std() - 1) < 0.05
    u = gf.rand(10_000).numpy()
    assert u.min() >= 0 and u.max() < 1 and abs(u.mean() - 0.5) < 0.02
    r = gf.randint(3, 8, (1000,)).numpy()
    assert r.min() == 3 and r.max() == 7 and r.dtype == np.int64


def test_rng_state_round_trip():
    state = gf.get_rng_state()
    a = gf.rand(5)
    gf.set_rng_state(state)
    assert np.array_equal(gf.rand(5).numpy(), a.numpy())


def test_bad_arguments():
    with pytest.raises(ValueError, match="size must be non-negative"):
        gf.zeros(-1)
    with pytest.raises(ValueError, match="manual_seed"):
        gf.manual_seed(-3)
    with pytest.raises(ValueError, match="randint: high"):
        gf.randint(5, 5, (2,))
    with pytest.raises(ValueError, match="arange: step"):
        gf.arange(0, 1, 0)
