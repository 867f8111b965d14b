"""gf.set_num_threads / get_num_threads (PyTorch's semantics) and the thread pool of conv/pool.

The parallel paths must give the same bits as one thread: each test runs an op's forward
and backward at 1 and at 2 threads and compares exactly, and checks that the 2-thread run
really went through the pool. No timings here (benchmarks/bench_threads.py measures).
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

import gradfit as gf
import gradfit.nn.functional as F
from gradfit import threads


@pytest.fixture(autouse=True)
def _restore_threads():
    n = gf.get_num_threads()
    yield
    gf.set_num_threads(n)


@pytest.fixture
def pool_calls(monkeypatch):
    """Counts run_all calls that had several callables (the pool path, unless 1 thread)."""
    calls = []
    real = threads.run_all

    def spy(fns, **kw):
        if len(fns) > 1:
            calls.append(len(fns))
        return real(fns, **kw)

    monkeypatch.setattr(threads, "run_all", spy)
    return calls


def test_set_get_roundtrip():
    gf.set_num_threads(1)
    assert gf.get_num_threads() == 1
    gf.set_num_threads(3)
    assert gf.get_num_threads() == 3


def test_set_num_threads_sets_blas_threads():
    from threadpoolctl import threadpool_info

    gf.set_num_threads(1)
    assert all(p["num_threads"] == 1 for p in threadpool_info() if p["user_api"] == "blas")
    gf.set_num_threads(2)
    assert all(p["num_threads"] == 2 for p in threadpool_info() if p["user_api"] == "blas")


@pytest.mark.parametrize("bad", [0, -1, 1.5, True, "2"])
@pytest.mark.parametrize("name", ["set_num_threads", "set_num_interop_threads"])
def test_bad_counts_raise_like_torch(name, bad):
    with pytest.raises(RuntimeError) as theirs:
        getattr(torch, name)(bad)
    with pytest.raises(RuntimeError, match=name) as ours:
        getattr(gf, name)(bad)
    assert type(ours.value) is type(theirs.value)


def test_interop_threads_recorded():
    assert gf.get_num_interop_threads() >= 1
    gf.set_num_interop_threads(2)
    assert gf.get_num_interop_threads() == 2


def test_default_follows_omp_num_threads_then_cores(monkeypatch):
    monkeypatch.setenv("OMP_NUM_THREADS", "3")
    assert threads._default_threads() == 3
    monkeypatch.setenv("OMP_NUM_THREADS", "junk")
    assert threads._default_threads() == threads._cores() >= 1
    monkeypatch.delenv("OMP_NUM_THREADS")
    assert threads._default_threads() == threads._cores()


def test_run_all_order_errors_nesting_and_blas_held():
    from threadpoolctl import threadpool_info

    gf.set_num_threads(2)
    assert threads.run_all([lambda: 1, lambda: 2, lambda: 3]) == [1, 2, 3]
    # inside a task, run_all runs in the calling thread; BLAS is at one thread meanwhile

    def task():
        blas = [p["num_threads"] for p in threadpool_info() if p["user_api"] == "blas"]
        return threads.workers(4), blas

    for inner, blas in threads.run_all([task, task]):
        assert inner == 1 and blas == [1] * len(blas)
    # BLAS stays at one thread after the pool ran (its idle threads would spin on our cores)
    assert all(p["num_threads"] == 1 for p in threadpool_info() if p["user_api"] == "blas")

    def boom():
        raise ValueError("boom")

    with pytest.raises(ValueError, match="boom"):
        threads.run_all([lambda: 1, boom])
    gf.set_num_threads(2)  # set_num_threads gives BLAS its threads back
    assert all(p["num_threads"] == 2 for p in threadpool_info() if p["user_api"] == "blas")
    gf.set_num_threads(1)
    assert threads.workers(8) == 1


def _fwd_bwd(fn, arrays, n_threads):
    gf.set_num_threads(n_threads)
    ts = [gf.tensor(a, requires_grad=True) for a in arrays]
    out = fn(*ts)
    g = np.random.default_rng(1).standard_normal(out.shape).astype(out.numpy().dtype)
    out.backward(gf.tensor(g))
    return [out.numpy()] + [t.grad.numpy() for t in ts]


def _same_bits(fn, arrays, pool_calls):
    one = _fwd_bwd(fn, arrays, 1)
    assert pool_calls == []
    two = _fwd_bwd(fn, arrays, 2)
    assert pool_calls, "the 2-thread run did not use the pool"
    for a, b in zip(one, two, strict=True):
        assert a.dtype == b.dtype and a.shape == b.shape
        np.testing.assert_array_equal(a, b)


def _rand(*shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape).astype(np.float32)


@pytest.mark.parametrize(
    ("x_shape", "w_shape", "kw"),
    [
        ((16, 3, 16, 16), (4, 3, 3, 3), {"padding": 1}),  # full im2col, padded
        ((16, 8, 12, 12), (6, 8, 5, 5), {"padding": 2}),  # row unfolding ('same' width)
        ((32, 4, 33, 33), (6, 2, 3, 3), {"stride": 2, "groups": 2}),  # strided: col2im
        ((16, 8, 24, 40), (4, 8, 5, 5), {"stride": (1, 2), "dilation": (2, 1)}),
    ],
)
def test_conv2d_bits_do_not_depend_on_threads(x_shape, w_shape, kw, pool_calls, kernel_path):
    arrays = [_rand(*x_shape), _rand(*w_shape, seed=1), _rand(w_shape[0], seed=2)]
    _same_bits(lambda x, w, b: F.conv2d(x, w, b, **kw), arrays, pool_calls)


def test_conv1d_bits_do_not_depend_on_threads(pool_calls, kernel_path):
    arrays = [_rand(16, 3, 300), _rand(5, 3, 7, seed=1)]
    _same_bits(lambda x, w: F.conv1d(x, w, padding=3), arrays, pool_calls)


@pytest.mark.parametrize("nan", [False, True])
def test_max_pool2d_bits_do_not_depend_on_threads(nan, pool_calls, kernel_path):
    x = _rand(16, 16, 32, 32)
    x[3, 2, 5:7, 1] = 1.0  # ties inside a window
    if nan:
        x[9, 1, 4, 4] = np.nan
    _same_bits(lambda t: F.max_pool2d(t, 2), [x], pool_calls)


def test_small_ops_stay_on_the_calling_thread(pool_calls):
    gf.set_num_threads(2)
    x = gf.randn(2, 3, 8, 8, requires_grad=True)
    F.max_pool2d(F.conv2d(x, gf.randn(4, 3, 3, 3)), 2).sum().backward()
    assert pool_calls == []


def test_conv_holds_blas_at_one_thread_until_set_num_threads():
    from threadpoolctl import threadpool_info

    def blas():
        return [p["num_threads"] for p in threadpool_info() if p["user_api"] == "blas"]

    gf.set_num_threads(2)
    assert set(blas()) == {2}
    F.conv2d(gf.randn(1, 1, 5, 5), gf.randn(1, 1, 3, 3))  # too small to split: still held
    assert set(blas()) == {1}
    gf.set_num_threads(2)
    assert set(blas()) == {2}


def _conv_in_child(queue):
    x = gf.randn(16, 3, 16, 16)
    queue.put(F.conv2d(x, gf.randn(4, 3, 3, 3), padding=1).shape)


def test_forked_child_gets_a_fresh_pool():
    import multiprocessing as mp

    if "fork" not in mp.get_all_start_methods():
        pytest.skip("no fork on this platform")
    gf.set_num_threads(2)
    threads.run_all([lambda: 1, lambda: 2])  # the parent's pool exists
    ctx = mp.get_context("fork")
    queue = ctx.Queue()
    child = ctx.Process(target=_conv_in_child, args=(queue,))
    child.start()
    child.join(timeout=30)
    if child.is_alive():
        child.kill()
        pytest.fail("a conv in a forked child hung on the parent's pool")
    assert queue.get(timeout=5) == (16, 4, 16, 16)


def test_spans_split_large_arrays_only():
    big = np.zeros((10, 1 << 16), np.float32)  # 2.5 MiB
    gf.set_num_threads(2)
    assert threads.spans(big) == [(0, 5), (5, 10)]
    assert threads.spans(big[:1]) == [(0, 1)]
    assert threads.spans(np.zeros((10, 4), np.float32)) == [(0, 10)]
    assert threads.spans(np.zeros((), np.float32)) == [(0, 1)]
    gf.set_num_threads(1)
    assert threads.spans(big) == [(0, 10)]


@pytest.mark.parametrize("stride", [1, 2])
def test_conv_transpose2d_bits_do_not_depend_on_threads(stride, pool_calls, kernel_path):
    arrays = [_rand(32, 8, 16, 16), _rand(8, 4, 4, 4, seed=1), _rand(4, seed=2)]
    _same_bits(
        lambda x, w, b: F.conv_transpose2d(x, w, b, stride=stride, padding=1), arrays, pool_calls
    )


def test_relu_bits_do_not_depend_on_threads(pool_calls, kernel_path):
    x = _rand(16, 8, 48, 48)  # 1.2 MiB: split
    x[0, 0, 0, :4] = [0.0, -0.0, np.nan, -np.inf]
    _same_bits(F.relu, [x], pool_calls)
    out = F.relu(gf.tensor(x.transpose(3, 1, 2, 0)))  # a non-contiguous input, split too
    np.testing.assert_array_equal(out.numpy(), np.maximum(x.transpose(3, 1, 2, 0), 0))


def test_elementwise_split_leaves_blas_threads():
    from threadpoolctl import threadpool_info

    gf.set_num_threads(2)
    x = gf.tensor(_rand(64, 1 << 13), requires_grad=True)  # 2 MiB
    F.relu(x).sum().backward()
    assert all(p["num_threads"] == 2 for p in threadpool_info() if p["user_api"] == "blas")
