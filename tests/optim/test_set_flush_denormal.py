"""gf.set_flush_denormal sets the same CPU flags as torch.set_flush_denormal (or says it cannot)."""

from __future__ import annotations

import platform
import sys

import numpy as np
import pytest
import torch

import gradfit as gf

SUB = np.full(4, 1e-39, np.float32)


@pytest.fixture
def restore():
    yield
    gf.set_flush_denormal(False)
    torch.set_flush_denormal(False)


def test_agrees_with_torch_on_support(restore):
    assert gf.set_flush_denormal(False) == torch.set_flush_denormal(False)


@pytest.mark.skipif(
    sys.platform != "linux" or platform.machine().lower() not in ("x86_64", "amd64"),
    reason="gradfit sets the flags on x86-64 Linux only",
)
def test_flushes_in_numpy_and_torch_then_restores(restore):
    assert gf.set_flush_denormal(True) is True
    assert not np.any(SUB * np.float32(1.0))  # denormals are zero (inputs)
    assert np.float32(1e-37) * np.float32(1e-3) == 0  # flush to zero (results)
    # the same thread's flags: torch sees them too
    assert torch.tensor([1e-39]).mul(1.0).item() == 0.0
    assert gf.set_flush_denormal(False) is True
    np.testing.assert_array_equal(SUB * np.float32(1.0), SUB)
    assert torch.tensor([1e-39]).mul(1.0).item() != 0.0
    # and torch's switch is seen by NumPy: they set the same register
    torch.set_flush_denormal(True)
    assert not np.any(SUB * np.float32(1.0))
