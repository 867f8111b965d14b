"""Optimizer state is flushed of subnormal floats (issue 16), changing nothing at or above tiny."""

from __future__ import annotations

import numpy as np
import pytest

import gradfit as gf

# decay rates chosen so that, from gradients ~1e-3, the state is subnormal around step 208
FACTORIES = {
    "SGD": lambda p: gf.optim.SGD(p, lr=0.1, momentum=0.65),
    "Adam": lambda p: gf.optim.Adam(p, lr=0.01, betas=(0.65, 0.7)),
    "RMSprop": lambda p: gf.optim.RMSprop(p, lr=0.01, alpha=0.7, momentum=0.65),
    "NAdam": lambda p: gf.optim.NAdam(p, lr=0.01, betas=(0.65, 0.7)),
}


def _dead_unit_run(name, dtype, flush_every, steps=220):
    """Live gradients for 3 steps, then zeros: the state decays through the subnormals."""
    rng = np.random.default_rng(0)
    w = gf.tensor(rng.standard_normal(64).astype(dtype), requires_grad=True)
    opt = FACTORIES[name]([w])
    opt.flush_subnormals_every = flush_every
    live = (1e-3 * rng.standard_normal(64)).astype(dtype)
    for t in range(steps):
        w.grad = gf.tensor(live if t < 3 else np.zeros(64, dtype))
        opt.step()
    return w, opt


def _subnormal(a):
    tiny = np.finfo(a.dtype).tiny
    return (a != 0) & (np.abs(a) < tiny)


@pytest.mark.parametrize("name", sorted(FACTORIES))
def test_state_has_no_subnormals_and_nothing_else_changes(name):
    steps = 208  # a multiple of 16: a flush just happened
    ref_w, ref = _dead_unit_run(name, "float32", 0, steps)
    w, opt = _dead_unit_run(name, "float32", 16, steps)
    tiny = np.finfo(np.float32).tiny
    np.testing.assert_array_equal(w._data, ref_w._data)
    seen_subnormal = False
    for key, value in opt.state[w].items():
        if not isinstance(value, np.ndarray):
            assert value == ref.state[ref_w][key]
            continue
        r = ref.state[ref_w][key]
        seen_subnormal |= bool(_subnormal(r).any())
        assert not _subnormal(value).any(), key
        big = np.abs(r) >= tiny
        np.testing.assert_array_equal(value[big], r[big], err_msg=key)
        assert np.all(np.abs(value[~big]) < tiny), key
    assert seen_subnormal, "the scenario must produce subnormals without flushing"


def test_flush_is_periodic_and_can_be_switched_off():
    w, opt = _dead_unit_run("SGD", "float32", 0, 208)
    assert _subnormal(opt.state[w]["momentum_buffer"]).any()
    assert opt.flush_subnormals() > 0
    assert not _subnormal(opt.state[w]["momentum_buffer"]).any()
    assert opt.flush_subnormals() == 0


def test_float64_state_is_flushed_below_float64_tiny_only():
    w = gf.tensor(np.ones(3), requires_grad=True)
    opt = gf.optim.SGD([w], lr=0.1, momentum=0.9)
    w.grad = gf.tensor(np.array([1e-310, 1e-39, 0.0]))
    opt.step()
    assert opt.flush_subnormals() == 1
    np.testing.assert_array_equal(opt.state[w]["momentum_buffer"], [0.0, 1e-39, 0.0])
