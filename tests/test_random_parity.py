"""Sampling against PyTorch: the same distributions (statistics over many draws, fixed seeds so
each test is deterministic), shapes, dtypes and errors; the same seed gives the same numbers."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import gradfit as gf

N = 20000


def _freq(idx: np.ndarray, k: int) -> np.ndarray:
    return np.bincount(idx.ravel(), minlength=k) / idx.size


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_multinomial_with_replacement_frequencies(dtype):
    w = np.array([0.1, 0.0, 0.3, 0.6], dtype=dtype) * 5  # unnormalised weights, a zero among them
    g = gf.multinomial(gf.tensor(w), N, replacement=True, generator=gf.Generator().manual_seed(0))
    t = torch.multinomial(
        torch.tensor(w), N, replacement=True, generator=torch.Generator().manual_seed(0)
    )
    assert g.shape == tuple(t.shape) and g.dtype == gf.int64
    p = w / w.sum()
    np.testing.assert_allclose(_freq(g.numpy(), 4), p, atol=0.015)
    np.testing.assert_allclose(_freq(g.numpy(), 4), _freq(t.numpy(), 4), atol=0.02)
    assert not (g.numpy() == 1).any()  # a zero-weight category is never drawn


def test_multinomial_2d_rows_are_independent():
    w = np.array([[1.0, 0.0, 0.0], [0.0, 0.5, 0.5]], dtype=np.float32)
    g = gf.tensor(w).multinomial(4000, replacement=True, generator=gf.Generator().manual_seed(1))
    assert g.shape == (2, 4000)
    assert (g.numpy()[0] == 0).all()
    np.testing.assert_allclose(_freq(g.numpy()[1], 3), [0.0, 0.5, 0.5], atol=0.03)


def test_multinomial_without_replacement_order_statistics():
    p = np.array([0.5, 0.3, 0.2])
    rows = np.tile(p, (N, 1))
    g = gf.multinomial(gf.tensor(rows), 2, generator=gf.Generator().manual_seed(2)).numpy()
    t = torch.multinomial(torch.tensor(rows), 2, generator=torch.Generator().manual_seed(2)).numpy()
    assert (g[:, 0] != g[:, 1]).all()
    # P(first = i, second = j) = p_i p_j / (1 - p_i) for sequential draws without replacement
    exact = np.array(
        [[0 if i == j else p[i] * p[j] / (1 - p[i]) for j in range(3)] for i in range(3)]
    )
    for s in (g, t):
        joint = np.zeros((3, 3))
        np.add.at(joint, (s[:, 0], s[:, 1]), 1)
        np.testing.assert_allclose(joint / N, exact, atol=0.015)


def test_multinomial_without_replacement_takes_every_category():
    g = gf.multinomial(gf.tensor([0.0, 1.0, 0.0]), 3)
    t = torch.multinomial(torch.tensor([0.0, 1.0, 0.0]), 3)
    assert g[0].item() == t[0].item() == 1
    assert sorted(g.tolist()) == [0, 1, 2]


def test_multinomial_empty_batch():
    g, t = gf.multinomial(gf.ones(0, 3), 2), torch.multinomial(torch.ones(0, 3), 2)
    assert g.shape == tuple(t.shape) == (0, 2)


@pytest.mark.parametrize(
    "make,n,repl",
    [
        (lambda m: m.tensor([0.2, 0.3, 0.5]), 4, False),
        (lambda m: m.tensor([0.2, 0.3, 0.5]), 0, True),
        (lambda m: m.tensor([1, 2]), 1, True),
        (lambda m: m.ones(2, 2, 2), 1, True),
        (lambda m: m.tensor(1.0), 1, True),
        (lambda m: m.tensor([-1.0, 2.0]), 1, True),
        (lambda m: m.tensor([float("nan"), 2.0]), 1, True),
        (lambda m: m.tensor([float("inf"), 2.0]), 1, True),
        (lambda m: m.tensor([0.0, 0.0]), 1, True),
        (lambda m: m.ones(2, 0), 2, True),
    ],
)
def test_multinomial_errors_match_torch(make, n, repl):
    with pytest.raises(RuntimeError):
        torch.multinomial(make(torch), n, repl)
    with pytest.raises(RuntimeError, match="multinomial"):
        gf.multinomial(make(gf), n, repl)


def test_same_generator_seed_same_numbers_and_default_untouched():
    _ = gf.manual_seed(5)
    before = gf.get_rng_state()
    draws = []
    for _ in range(2):
        g = gf.Generator().manual_seed(123)
        draws.append([
            gf.rand(3, generator=g).tolist(), gf.randn(2, 2, generator=g).tolist(),
            gf.randint(0, 9, (4,), generator=g).tolist(), gf.randperm(5, generator=g).tolist(),
            gf.multinomial(gf.ones(4), 2, generator=g).tolist(),
            gf.normal(0.0, 1.0, (3,), generator=g).tolist(),
            gf.bernoulli(gf.full((4,), 0.5), generator=g).tolist(),
            gf.zeros(3).uniform_(generator=g).tolist(), gf.zeros(3).normal_(generator=g).tolist(),
            gf.rand_like(gf.ones(2), generator=g).tolist(),
        ])  # fmt: skip
    assert draws[0] == draws[1]
    assert gf.get_rng_state() == before


def test_default_generator_seed_and_initial_seed():
    assert gf.default_generator is gf.manual_seed(3)
    assert gf.initial_seed() == 3 == gf.default_generator.initial_seed()
    s = gf.seed()
    assert isinstance(s, int) and gf.initial_seed() == s
    _ = gf.manual_seed(0)
    a = gf.randperm(6)
    _ = gf.manual_seed(0)
    assert gf.randperm(6).tolist() == a.tolist()


@pytest.mark.parametrize("n", [0, 1, 7])
def test_randperm_matches_torch(n):
    g, t = gf.randperm(n), torch.randperm(n)
    assert g.shape == tuple(t.shape) and g.dtype == gf.int64
    assert sorted(g.tolist()) == list(range(n))
    assert gf.randperm(n, dtype=gf.float32).dtype == gf.float32


def test_randperm_uniform_first_position_and_errors():
    g = gf.Generator().manual_seed(4)
    first = np.array([gf.randperm(4, generator=g)[0].item() for _ in range(2000)])
    np.testing.assert_allclose(_freq(first, 4), 0.25, atol=0.04)
    with pytest.raises(RuntimeError):
        torch.randperm(-1)
    with pytest.raises(RuntimeError):
        gf.randperm(-1)


def test_normal_overloads_shapes_and_dtypes_match_torch():
    cases = [
        (lambda m: m.normal(m.zeros(2, 1), m.ones(3))),
        (lambda m: m.normal(0.0, 1.0, (2, 3))),
        (lambda m: m.normal(m.zeros(2), 1.0)),
        (lambda m: m.normal(1.0, m.ones(3))),
        (lambda m: m.normal(m.zeros(2, dtype=m.float64), m.ones(2))),
        (lambda m: m.normal(m.zeros(()), m.ones(()))),
        (lambda m: m.normal(m.zeros(0), 1.0)),
    ]
    for make in cases:
        g, t = make(gf), make(torch)
        assert g.shape == tuple(t.shape) and str(g.dtype) == str(t.dtype)[6:]


def test_normal_statistics_and_gradient():
    g = gf.Generator().manual_seed(6)
    x = gf.normal(gf.full((N,), 2.0), gf.full((N,), 3.0), generator=g).numpy()
    assert abs(x.mean() - 2.0) < 0.1 and abs(x.std() - 3.0) < 0.1
    m = gf.tensor([1.0, -1.0], requires_grad=True)
    s = gf.tensor([2.0, 0.5], requires_grad=True)
    out = gf.normal(m, s)
    (out * gf.tensor([1.0, 3.0])).sum().backward()
    tm = torch.tensor([1.0, -1.0], requires_grad=True)
    ts = torch.tensor([2.0, 0.5], requires_grad=True)
    tout = torch.normal(tm, ts)
    (tout * torch.tensor([1.0, 3.0])).sum().backward()
    # torch's normal is not reparameterised: its gradients for mean and std are zero
    np.testing.assert_array_equal(m.grad.numpy(), tm.grad.numpy())
    np.testing.assert_array_equal(s.grad.numpy(), ts.grad.numpy())
    assert out.grad_fn is not None and tout.grad_fn is not None


@pytest.mark.parametrize(
    "make,exc",
    [
        (lambda m: m.normal(0.0, -1.0, (2,)), RuntimeError),
        (lambda m: m.normal(m.zeros(2), -1.0), RuntimeError),
        (lambda m: m.normal(m.zeros(2), m.tensor([1.0, -1.0])), RuntimeError),
        (lambda m: m.normal(m.zeros(2, dtype=m.int64), m.ones(2)), NotImplementedError),
        (lambda m: m.bernoulli(m.tensor([0.5, 1.5])), RuntimeError),
        (lambda m: m.bernoulli(m.tensor([0, 1])), NotImplementedError),
        (lambda m: m.poisson(m.tensor([-1.0])), RuntimeError),
        (lambda m: m.poisson(m.tensor([1, 2])), NotImplementedError),
    ],
)
def test_sampling_errors_match_torch(make, exc):
    with pytest.raises(exc):
        make(torch)
    with pytest.raises(exc):
        make(gf)


def test_bernoulli_and_poisson_statistics():
    g = gf.Generator().manual_seed(7)
    p = np.array([0.0, 0.2, 0.9, 1.0], dtype=np.float32)
    b = gf.bernoulli(gf.tensor(np.tile(p, (N // 4, 1))), generator=g)
    assert b.dtype == gf.float32 and b.shape == (N // 4, 4)
    np.testing.assert_allclose(b.numpy().mean(0), p, atol=0.03)
    tb = torch.bernoulli(torch.tensor(p))
    assert str(tb.dtype)[6:] == str(gf.bernoulli(gf.tensor(p)).dtype)
    c = gf.bernoulli(gf.zeros(N), 0.3, generator=g)
    assert abs(c.numpy().mean() - 0.3) < 0.02
    assert abs(gf.tensor(p).bernoulli().numpy()[3] - 1.0) == 0
    r = gf.poisson(gf.full((N,), 4.0), generator=g)
    assert r.dtype == gf.float32 and abs(r.numpy().mean() - 4.0) < 0.1
    assert gf.bernoulli(gf.zeros(0)).shape == (0,) and gf.poisson(gf.zeros(())).shape == ()


FILLS = [
    ("uniform_", (2.0, 5.0), lambda x: (x.min() >= 2.0 and x.max() < 5.0, x.mean(), 3.5)),
    ("normal_", (1.0, 2.0), lambda x: (True, x.std(), 2.0)),
    ("exponential_", (4.0,), lambda x: (x.min() >= 0, x.mean(), 0.25)),
    ("geometric_", (0.25,), lambda x: (x.min() >= 1 and (x == np.round(x)).all(), x.mean(), 4.0)),
    ("cauchy_", (1.0, 2.0), lambda x: (True, np.median(x), 1.0)),
    ("log_normal_", (0.5, 0.25), lambda x: (x.min() > 0, np.log(x).mean(), 0.5)),
    ("bernoulli_", (0.3,), lambda x: (set(np.unique(x)) <= {0.0, 1.0}, x.mean(), 0.3)),
    ("random_", (3, 7), lambda x: (x.min() >= 3 and x.max() < 7, x.mean(), 4.5)),
]


@pytest.mark.parametrize("name,args,stat", FILLS, ids=[f[0] for f in FILLS])
def test_random_fills_match_torch_statistics(name, args, stat):
    g = getattr(gf.zeros(N, dtype=gf.float64), name)(*args, generator=gf.Generator().manual_seed(8))
    t = getattr(torch.zeros(N, dtype=torch.float64), name)(
        *args, generator=torch.Generator().manual_seed(8)
    )
    ok, value, want = stat(g.numpy())
    tok, tvalue, _ = stat(t.numpy())
    assert ok and tok
    assert abs(value - want) < 0.05 * max(1.0, abs(want)), (value, want)
    assert abs(value - tvalue) < 0.1 * max(1.0, abs(want)), (value, tvalue)
    assert g.dtype == gf.float64
    e = getattr(gf.zeros(0), name)(*args)  # empty: nothing to fill, no error
    assert e.shape == (0,)
    z = getattr(gf.zeros(()), name)(*args)
    assert z.shape == ()


def test_random_fill_version_and_inplace_rules():
    x = gf.zeros(3)
    v = x._version[0]
    assert x.uniform_() is x and x._version[0] == v + 1
    with pytest.raises(RuntimeError):
        torch.ones(2, requires_grad=True).normal_()
    with pytest.raises(RuntimeError):
        gf.ones(2, requires_grad=True).normal_()
    with gf.no_grad():
        gf.ones(2, requires_grad=True).normal_()


def test_random_underscore_forms():
    g = gf.Generator().manual_seed(9)
    x = gf.zeros(2000, dtype=gf.int64).random_(10, generator=g).numpy()
    assert x.min() == 0 and x.max() == 9
    y = gf.zeros(2000).random_(generator=g).numpy()
    assert y.min() >= 0 and y.max() <= 2**24 and (y == np.round(y)).all()
    b = gf.zeros(100, dtype=gf.bool).random_(generator=g).numpy()
    assert b.dtype == np.bool_ and b.any() and not b.all()


@pytest.mark.parametrize(
    "name,args,dtype",
    [
        ("uniform_", (2.0, 1.0), "float32"), ("normal_", (0.0, -1.0), "float32"),
        ("exponential_", (-1.0,), "float32"), ("geometric_", (0.0,), "float32"),
        ("geometric_", (1.5,), "float32"), ("bernoulli_", (1.5,), "float32"),
        ("cauchy_", (0.0, -1.0), "float32"), ("log_normal_", (0.0, -1.0), "float32"),
        ("random_", (5, 2), "float32"), ("random_", (0,), "float32"),
    ],
)  # fmt: skip
def test_random_fill_errors_match_torch(name, args, dtype):
    with pytest.raises(RuntimeError):
        getattr(torch.zeros(3, dtype=getattr(torch, dtype)), name)(*args)
    with pytest.raises(RuntimeError):
        getattr(gf.zeros(3, dtype=dtype), name)(*args)


@pytest.mark.parametrize("name", ["uniform_", "normal_", "cauchy_", "log_normal_"])
def test_float_only_fills_refuse_integers(name):
    with pytest.raises((NotImplementedError, RuntimeError)):
        getattr(torch.zeros(3, dtype=torch.long), name)()
    with pytest.raises(NotImplementedError):
        getattr(gf.zeros(3, dtype=gf.int64), name)()


def test_integer_fills_allowed_where_torch_allows_them():
    for name, args in (("geometric_", (0.5,)), ("bernoulli_", (0.5,)), ("random_", (0, 5))):
        t = getattr(torch.zeros(3, dtype=torch.long), name)(*args)
        g = getattr(gf.zeros(3, dtype=gf.int64), name)(*args)
        assert g.dtype == gf.int64 and str(t.dtype) == "torch.int64"


def test_rand_with_generator_statistics():
    g = gf.Generator().manual_seed(10)
    u = gf.rand(N, generator=g).numpy()
    n = gf.randn(N, generator=g).numpy()
    i = gf.randint(3, (N,), generator=g).numpy()
    assert u.dtype == np.float32 and u.min() >= 0 and u.max() < 1 and abs(u.mean() - 0.5) < 0.01
    assert abs(n.mean()) < 0.03 and abs(n.std() - 1) < 0.03
    np.testing.assert_allclose(_freq(i, 3), 1 / 3, atol=0.02)
    assert tuple(torch.randint(3, (4,)).shape) == gf.randint(3, (4,)).shape
    with pytest.raises(TypeError):
        gf.rand(2, generator=object())
