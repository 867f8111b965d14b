"""How a backward adds into a leaf's existing ``.grad``: PyTorch's AccumulateGrad semantics.

A leaf's contributions in one pass are summed, then added to its ``.grad`` once the leaf
is complete; the ``.grad`` tensor keeps its identity (a held reference sees the sum); and
a node of the pass that saved the old ``.grad`` (``x.grad`` used as a constant in the next
loss) reads the old values instead of raising.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

import gradfit as gf

LOSSES = {
    "grad-in-second-branch": lambda x, w, g: (x * x).sum() + (x * g).sum(),
    "grad-in-first-branch": lambda x, w, g: (x * g).sum() + (x * x).sum(),
    "grad-in-one-product": lambda x, w, g: (x * x * g).sum(),
    "grad-used-by-another-leaf": lambda x, w, g: (x * x).sum() + (w * g).sum(),
    "grad-held-only": lambda x, w, g: (x * x).sum(),
    "grad-through-a-view": lambda x, w, g: (x.exp() * g[:2].sum()).sum() + (w * g).sum(),
}


def _run(lib, loss, x0, w0):
    x = lib.tensor(x0, requires_grad=True)
    w = lib.tensor(w0, requires_grad=True)
    (x * x * x).sum().backward()  # x.grad = 3 x^2, held below as g
    g = x.grad
    loss(x, w, g).backward()
    return [x.grad.numpy(), None if w.grad is None else w.grad.numpy(), g.numpy()], g is x.grad


@pytest.mark.parametrize("name", list(LOSSES))
def test_second_backward_with_grad_as_a_constant_matches_torch(name):
    rng = np.random.default_rng(0)
    x0 = rng.standard_normal(3).astype(np.float32)
    w0 = rng.standard_normal(3).astype(np.float32)
    ours, ours_same = _run(gf, LOSSES[name], x0, w0)
    ref, ref_same = _run(torch, LOSSES[name], x0, w0)
    assert ours_same == ref_same  # the held .grad is still the leaf's .grad
    for a, b in zip(ours, ref, strict=True):
        if b is None:
            assert a is None
        else:
            np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-6)


def test_contributions_are_summed_before_they_are_added_to_grad():
    """A leaf used twice: ``.grad + (g1 + g2)``, PyTorch's rounding, not ``(.grad + g1) + g2``."""
    x0 = np.array([1.0], np.float32)
    big, tiny = np.float32(1e8), np.float32(3.0)
    for lib in (gf, torch):
        x = lib.tensor(x0, requires_grad=True)
        x.grad = lib.tensor(np.array([big], np.float32))
        (x * float(tiny) + x * float(tiny)).sum().backward()
        # 1e8 + 6 = 100000008 is a float32; 1e8 + 3 rounds to 1e8 each time
        assert float(x.grad[0]) == float(big + np.float32(6.0)), lib.__name__


def test_in_place_accumulation_keeps_the_array_when_nothing_else_holds_it():
    x = gf.tensor([1.0, 2.0], requires_grad=True)
    (x * x).sum().backward()
    arr = x.grad._data
    (x * x).sum().backward()
    assert x.grad._data is arr  # added in place: no new array per step
    np.testing.assert_array_equal(arr, [4.0, 8.0])
