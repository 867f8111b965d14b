"""Initialisers: gains, fans, distribution statistics vs PyTorch's, seeding, in-place under grad."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

import gradfit as gf
from gradfit import nn
from gradfit.nn import init


@pytest.mark.parametrize(
    "name,param", [("linear", None), ("conv2d", None), ("sigmoid", None), ("tanh", None),
                   ("relu", None), ("leaky_relu", None), ("leaky_relu", 0.2), ("selu", None)]
)  # fmt: skip
def test_calculate_gain_matches_torch(name, param):
    assert init.calculate_gain(name, param) == pytest.approx(
        torch.nn.init.calculate_gain(name, param)
    )


def _stats(fn_gf, fn_t, shape, **kw):
    w = nn.Parameter(gf.empty(*shape))
    fn_gf(w, **kw)
    t = torch.empty(*shape)
    fn_t(t, **kw)
    return w.numpy(), t.numpy()


@pytest.mark.parametrize(
    "gfn,tfn,kw",
    [
        (init.xavier_uniform_, torch.nn.init.xavier_uniform_, {"gain": 2.0}),
        (init.xavier_normal_, torch.nn.init.xavier_normal_, {}),
        (init.kaiming_uniform_, torch.nn.init.kaiming_uniform_, {"a": math.sqrt(5)}),
        (
            init.kaiming_uniform_,
            torch.nn.init.kaiming_uniform_,
            {"mode": "fan_out", "nonlinearity": "relu"},
        ),
        (init.kaiming_normal_, torch.nn.init.kaiming_normal_, {"nonlinearity": "relu"}),
        (
            init.kaiming_normal_,
            torch.nn.init.kaiming_normal_,
            {"mode": "fan_out", "nonlinearity": "tanh"},
        ),
        (init.uniform_, torch.nn.init.uniform_, {"a": -0.3, "b": 0.5}),
        (init.normal_, torch.nn.init.normal_, {"mean": 0.2, "std": 0.7}),
    ],
)
@pytest.mark.parametrize("shape", [(200, 300), (32, 16, 5, 5)])
def test_init_statistics_match_torch(gfn, tfn, kw, shape):
    w, t = _stats(gfn, tfn, shape, **kw)
    n = w.size
    sd = t.std()
    assert abs(w.mean() - t.mean()) < 6 * sd / math.sqrt(n)
    assert abs(w.std() - sd) < 6 * sd / math.sqrt(n) * 1.5
    assert w.min() >= t.min() - 4 * sd and w.max() <= t.max() + 4 * sd
    assert w.dtype == np.float32


def test_bounds_of_uniform_inits():
    w = nn.Parameter(gf.empty(64, 100))
    init.kaiming_uniform_(w, nonlinearity="relu")
    bound = math.sqrt(2) * math.sqrt(3 / 100)
    assert np.abs(w.numpy()).max() <= bound and np.abs(w.numpy()).max() > 0.95 * bound


def test_orthogonal_constant_zeros_ones_eye_trunc():
    for shape in [(3, 5), (5, 3), (4, 2, 3)]:
        w = init.orthogonal_(gf.empty(*shape), gain=2.0).numpy().reshape(shape[0], -1)
        small = w @ w.T if shape[0] <= w.shape[1] else w.T @ w
        np.testing.assert_allclose(small, 4 * np.eye(small.shape[0]), atol=1e-5)
    assert float(init.constant_(gf.empty(3), 0.25).sum()) == 0.75
    assert float(init.zeros_(gf.ones(3)).sum()) == 0.0
    assert float(init.ones_(gf.zeros(3)).sum()) == 3.0
    np.testing.assert_array_equal(init.eye_(gf.empty(2, 2)).numpy(), np.eye(2))
    t = init.trunc_normal_(gf.empty(5000), std=1.0, a=-1.0, b=1.0).numpy()
    assert t.min() >= -1 and t.max() <= 1 and t.std() > 0.5


def test_init_is_seeded_and_works_on_parameters_under_grad():
    p = nn.Parameter(gf.empty(10, 10))
    gf.manual_seed(5)
    a = init.xavier_normal_(p).numpy().copy()
    gf.manual_seed(5)
    b = init.xavier_normal_(p).numpy()
    np.testing.assert_array_equal(a, b)
    assert init.normal_(p) is p and p.grad_fn is None


def test_init_errors():
    with pytest.raises(ValueError, match="fewer than 2 dimensions"):
        init.xavier_uniform_(gf.empty(5))
    with pytest.raises(ValueError, match="mode must be 'fan_in' or 'fan_out'"):
        init.kaiming_normal_(gf.empty(2, 2), mode="fan")
    with pytest.raises(ValueError, match="unsupported nonlinearity 'swish'"):
        init.calculate_gain("swish")
    with pytest.raises(TypeError, match="floating-point"):
        init.normal_(gf.zeros(2, dtype="int64"))


# ---------------------------------------------------------------------------- no_init
NO_INIT_CALLS = [
    (init.uniform_, {"a": -1, "b": 1}),
    (init.normal_, {"std": 2.0}),
    (init.trunc_normal_, {}),
    (init.constant_, {"val": 3.0}),
    (init.zeros_, {}),
    (init.ones_, {}),
    (init.eye_, {}),
    (init.xavier_uniform_, {}),
    (init.xavier_normal_, {}),
    (init.kaiming_uniform_, {}),
    (init.kaiming_normal_, {}),
    (init.orthogonal_, {}),
]


@pytest.mark.parametrize("fn,kw", NO_INIT_CALLS, ids=[f.__name__ for f, _ in NO_INIT_CALLS])
def test_no_init_leaves_values_and_rng_alone_and_counts(fn, kw):
    w = nn.Parameter(gf.full((4, 5), 7.0))
    state = gf.random.get_rng_state()
    with init.no_init():
        assert fn(w, **kw) is w
    np.testing.assert_array_equal(w.numpy(), np.full((4, 5), 7.0, np.float32))
    assert gf.random.get_rng_state() == state
    fn(w, **kw)  # the block is over: initialisers write again
    assert not np.array_equal(w.numpy(), np.full((4, 5), 7.0, np.float32))
    with pytest.raises(MemoryError, match="more than 19 elements"), init.no_init(max_numel=19):
        fn(w, **kw)


def test_no_init_still_checks_arguments():
    with init.no_init():
        with pytest.raises(ValueError, match="fewer than 2 dimensions"):
            init.kaiming_uniform_(gf.empty(3))
        with pytest.raises(TypeError, match="floating-point"):
            init.zeros_(gf.zeros(3, dtype=gf.int64))
        with pytest.raises(ValueError, match="a <= b"):
            init.uniform_(gf.empty(3), 1, 0)


def test_no_init_limits_count_each_tensor_once_and_nest():
    a, b = gf.empty(10), gf.empty(10)
    with init.no_init(max_numel=20, max_tensors=2):
        for _ in range(3):  # initialised again: still one tensor of 10
            init.normal_(a)
        init.zeros_(b)
        # a nested block without limits keeps the outer ones
        with init.no_init(), pytest.raises(MemoryError, match="more than 2 tensors"):
            init.zeros_(gf.empty(1))
    too_many = pytest.raises(MemoryError, match=r"more than 5 elements.*shape \(2, 3\)")
    with too_many, init.no_init(max_numel=5):
        init.zeros_(gf.empty(2, 3))
    # an inner block with limits has its own
    with init.no_init(max_numel=5), init.no_init(max_numel=100):
        init.zeros_(gf.empty(50))
    for bad in (-1, 1.5, True):
        with pytest.raises(ValueError, match="non-negative integer"), init.no_init(max_numel=bad):
            pass
    init.ones_(a)  # every block is closed, even those left by an exception
    assert a.tolist() == [1.0] * 10


def test_no_init_lets_a_layer_allocate_without_writing_or_drawing():
    state = gf.random.get_rng_state()
    with init.no_init():
        lin = nn.Linear(300, 200)
    assert lin.weight.shape == (200, 300) and lin.bias.shape == (200,)
    assert gf.random.get_rng_state() == state
    with pytest.raises(MemoryError, match="more than 1,000 elements"), init.no_init(max_numel=1000):
        nn.Linear(300, 200)
