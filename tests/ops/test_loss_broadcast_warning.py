"""Pointwise losses warn, as torch does, when input and target differ in shape (issue 16)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch

import gradfit as gf

LOSSES = ["mse_loss", "l1_loss", "huber_loss", "smooth_l1_loss"]


@pytest.mark.parametrize("name", LOSSES)
def test_shape_mismatch_warns_like_torch(name):
    x, y = np.arange(4.0).reshape(4, 1), np.arange(4.0)
    with pytest.warns(UserWarning, match="different to the input size") as ours:
        out = getattr(gf.nn.functional, name)(gf.tensor(x), gf.tensor(y))
    with pytest.warns(UserWarning, match="different to the input size"):
        ref = getattr(torch.nn.functional, name)(torch.tensor(x), torch.tensor(y))
    assert "incorrect results due to broadcasting" in str(ours[0].message)
    np.testing.assert_allclose(out.numpy(), ref.numpy())


@pytest.mark.parametrize("name", LOSSES)
def test_same_shape_is_silent(name):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        getattr(gf.nn.functional, name)(gf.zeros(4, 1), gf.zeros(4, 1))
