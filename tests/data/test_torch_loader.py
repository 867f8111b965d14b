"""DataLoader with PyTorch's keywords: Python datasets, collate, workers, samplers, torch paths."""

from __future__ import annotations

import os
import time
from collections import namedtuple

import numpy as np
import pytest
import torch
import torch.utils.data as tud

import gradfit as gf
from gradfit.data import (
    DataLoader,
    Dataset,
    IterableDataset,
    RandomSampler,
    SequentialSampler,
    SubsetRandomSampler,
    WeightedRandomSampler,
    default_collate,
    get_worker_info,
)

Pair = namedtuple("Pair", "a b")


def _np(x):
    if isinstance(x, torch.Tensor):
        return x.numpy()
    if isinstance(x, gf.Tensor):
        return x.numpy()
    return x


def assert_same_structure(g, t):
    """gradfit's batch has torch's structure, types (tensor/list/dict) and values."""
    if isinstance(t, torch.Tensor):
        assert isinstance(g, gf.Tensor), type(g)
        assert tuple(g.shape) == tuple(t.shape)
        assert str(g.dtype) == str(t.dtype).replace("torch.", "")
        np.testing.assert_array_equal(_np(g), _np(t))
    elif isinstance(t, dict):
        assert isinstance(g, dict) and g.keys() == t.keys()
        for k in t:
            assert_same_structure(g[k], t[k])
    elif isinstance(t, (list, tuple)):
        assert type(g) is type(t), (type(g), type(t))
        assert len(g) == len(t)
        for a, b in zip(g, t):
            assert_same_structure(a, b)
    else:
        assert g == t


SAMPLES = [
    [(np.full(3, i, np.float32), i) for i in range(4)],
    [{"x": np.full((2, 2), i, np.float64), "y": float(i), "name": f"s{i}"} for i in range(3)],
    [[i, i + 1] for i in range(3)],
    [Pair(np.int64(i), True) for i in range(3)],
    [np.float32(i) for i in range(5)],
]


@pytest.mark.parametrize("samples", SAMPLES, ids=["tuple", "dict", "list", "namedtuple", "scalar"])
def test_default_collate_matches_torch(samples):
    assert_same_structure(default_collate(samples), tud.default_collate(samples))


def test_default_collate_errors_like_torch():
    with pytest.raises(RuntimeError, match="equal size"):
        default_collate([[1, 2], [3]])
    with pytest.raises(TypeError, match="object"):
        default_collate([object(), object()])
    with pytest.raises(RuntimeError):
        tud.default_collate([[1, 2], [3]])


class Squares(Dataset):
    """A Python dataset: each sample is computed in __getitem__."""

    def __init__(self, n=10, work=0):
        self.n, self.work = n, work

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        if self.work:
            time.sleep(self.work)
        return np.array([i, i * i], dtype=np.float32), i % 3


class TorchSquares(tud.Dataset):
    def __len__(self):
        return 10

    def __getitem__(self, i):
        return np.array([i, i * i], dtype=np.float32), i % 3


@pytest.mark.parametrize("kw", [{}, {"drop_last": True}, {"batch_size": None}])
def test_python_dataset_batches_match_torch(kw):
    kw = {"batch_size": 4, **kw}
    ours = list(DataLoader(Squares(), **kw))
    theirs = list(tud.DataLoader(TorchSquares(), **kw))
    assert len(ours) == len(theirs)
    for g, t in zip(ours, theirs):
        assert_same_structure(g, t)


def test_workers_give_the_same_batches_in_the_same_order():
    kw = {"batch_size": 3, "shuffle": True}
    plain = [
        [_np(t) for t in b]
        for b in DataLoader(Squares(11), generator=gf.Generator().manual_seed(5), **kw)
    ]
    two = [
        [_np(t) for t in b]
        for b in DataLoader(
            Squares(11), generator=gf.Generator().manual_seed(5), num_workers=2, **kw
        )
    ]
    assert len(plain) == len(two) == 4
    for a, b in zip(plain, two):
        for x, y in zip(a, b):
            np.testing.assert_array_equal(x, y)


def test_custom_collate_fn_and_batch_sampler_in_workers():
    def collate(samples):
        return {"sum": float(sum(s[0][1] for s in samples)), "n": len(samples)}

    batches = [[0, 1], [5], [2, 3, 4]]
    out = list(DataLoader(Squares(), batch_sampler=batches, collate_fn=collate, num_workers=2))
    assert out == [{"sum": 1.0, "n": 2}, {"sum": 25.0, "n": 1}, {"sum": 29.0, "n": 3}]


def _init(worker_id):
    os.environ["GF_TEST_WORKER"] = str(worker_id)


class WhoAmI(Dataset):
    def __len__(self):
        return 4

    def __getitem__(self, i):
        info = get_worker_info()
        return np.array(
            [info.id, info.num_workers, int(os.environ["GF_TEST_WORKER"]), info.seed % 1000]
        )


def test_worker_info_seeds_and_init_fn():
    batches = list(DataLoader(WhoAmI(), batch_size=1, num_workers=2, worker_init_fn=_init))
    ids = [int(b[0, 0]) for b in batches]
    assert ids == [0, 1, 0, 1]  # batch i goes to worker i % num_workers
    assert all(int(b[0, 1]) == 2 and int(b[0, 2]) == int(b[0, 0]) for b in batches)
    seeds = {int(b[0, 0]): int(b[0, 3]) for b in batches}
    assert (seeds[1] - seeds[0]) % 1000 == 1  # base_seed + worker_id
    assert get_worker_info() is None


class Shard(IterableDataset):
    def __init__(self, n):
        self.n = n

    def __iter__(self):
        info = get_worker_info()
        k, m = (0, 1) if info is None else (info.id, info.num_workers)
        return iter(range(k, self.n, m))


def test_iterable_dataset_with_and_without_workers():
    plain = [b.tolist() for b in DataLoader(Shard(7), batch_size=2)]
    assert plain == [[0, 1], [2, 3], [4, 5], [6]]
    two = sorted(v for b in DataLoader(Shard(9), batch_size=2, num_workers=2) for v in b.tolist())
    assert two == list(range(9))
    with pytest.raises(ValueError, match="shuffle"):
        DataLoader(Shard(3), shuffle=True)


class Broken(Dataset):
    def __len__(self):
        return 4

    def __getitem__(self, i):
        if i == 2:
            raise KeyError("sample 2 is missing")
        return np.zeros(1)


def test_a_worker_exception_is_raised_with_the_worker_traceback():
    with pytest.raises(KeyError, match="(?s)DataLoader worker process 1.*sample 2 is missing"):
        list(DataLoader(Broken(), batch_size=2, num_workers=2))


class Dies(Dataset):
    def __len__(self):
        return 4

    def __getitem__(self, i):
        os._exit(3)


def test_a_dead_worker_is_an_error_not_a_hang():
    with pytest.raises(RuntimeError, match="exited unexpectedly"):
        list(DataLoader(Dies(), batch_size=2, num_workers=1))


def test_timeout_names_itself():
    with pytest.raises(RuntimeError, match="timed out"):
        list(DataLoader(Squares(4, work=2.0), batch_size=1, num_workers=1, timeout=0.2))


def test_persistent_workers_serve_several_epochs():
    loader = DataLoader(Squares(6), batch_size=2, num_workers=2, persistent_workers=True)
    first = [b[1].tolist() for b in loader]
    pids = [w.pid for w in loader._workers.workers]
    second = [b[1].tolist() for b in loader]
    assert first == second == [[0, 1], [2, 0], [1, 2]]
    assert [w.pid for w in loader._workers.workers] == pids
    loader._workers.close()


@pytest.mark.parametrize(
    "kw, err",
    [
        ({"num_workers": -1}, ValueError),
        ({"timeout": -1}, ValueError),
        ({"prefetch_factor": 2}, ValueError),  # without workers
        ({"persistent_workers": True}, ValueError),
        ({"batch_sampler": [[0]], "batch_size": 2}, ValueError),
        ({"batch_sampler": [[0]], "shuffle": True}, ValueError),
        ({"sampler": [0, 1], "shuffle": True}, ValueError),
        ({"batch_size": None, "drop_last": True}, ValueError),
    ],
)
def test_bad_keywords_fail_as_in_torch(kw, err):
    with pytest.raises(err):
        tud.DataLoader(TorchSquares(), **kw)
    with pytest.raises(err):
        DataLoader(Squares(), **kw)


def test_every_torch_keyword_is_accepted_positionally_and_by_name():
    loader = DataLoader(
        Squares(4), 2, False, None, None, 0, None, True, False, 0, None, None,
        gf.Generator(), prefetch_factor=None, persistent_workers=False, pin_memory_device="",
    )  # fmt: skip
    assert [b[1].tolist() for b in loader] == [[0, 1], [2, 0]]


def test_array_datasets_keep_the_fast_tuple_path_with_workers_requested():
    ds = gf.data.TensorDataset(np.arange(6, dtype=np.float32), np.arange(6))
    out = list(DataLoader(ds, batch_size=4, num_workers=2, pin_memory=True))
    assert isinstance(out[0], tuple) and out[0][0].tolist() == [0, 1, 2, 3]


def test_random_sampler_with_ten_billion_draws_is_lazy():
    s = RandomSampler(range(10), replacement=True, num_samples=10**10)
    loader = DataLoader(gf.data.TensorDataset(np.arange(10)), batch_size=4, sampler=s)
    assert len(loader) == 10**10 // 4
    first = next(iter(loader))[0]
    assert first.shape == (4,) and int(first.numpy().min()) >= 0 and int(first.numpy().max()) < 10


def test_torch_style_sampler_with_only_iter():
    class Evens(gf.data.Sampler):
        def __init__(self, n):
            self.n = n

        def __iter__(self):
            return iter(range(0, self.n, 2))

        def __len__(self):
            return (self.n + 1) // 2

    out = [
        b[0].tolist()
        for b in DataLoader(gf.data.TensorDataset(np.arange(7)), batch_size=2, sampler=Evens(7))
    ]
    assert out == [[0, 2], [4, 6]]


def test_weighted_and_subset_samplers_statistics_and_errors():
    g = gf.Generator().manual_seed(0)
    w = [1.0, 3.0, 0.0, 4.0]
    idx = np.array(list(WeightedRandomSampler(w, 40000, generator=g)))
    freq = np.bincount(idx, minlength=4) / idx.size
    np.testing.assert_allclose(freq, np.array(w) / 8, atol=0.01)
    no_rep = list(WeightedRandomSampler(w, 3, replacement=False, generator=g))
    assert sorted(no_rep) == [0, 1, 3]
    with pytest.raises(RuntimeError):
        WeightedRandomSampler(w, 4, replacement=False)
    with pytest.raises(ValueError):
        WeightedRandomSampler(w, 0)
    with pytest.raises(ValueError):
        tud.WeightedRandomSampler(w, 0)
    assert sorted(SubsetRandomSampler([7, 2, 9], generator=g)) == [2, 7, 9]


def test_random_split_takes_a_gradfit_generator():
    ds = gf.data.TensorDataset(np.arange(10))
    a = gf.data.random_split(ds, [0.7, 0.3], generator=gf.Generator().manual_seed(1))
    b = gf.data.random_split(ds, [0.7, 0.3], generator=gf.Generator().manual_seed(1))
    assert [len(s) for s in a] == [7, 3]
    assert a[0].indices.tolist() == b[0].indices.tolist()


def test_torch_import_paths():
    import gradfit.utils.data as gud
    import gradfit.utils.data.dataloader as dataloader_module
    from gradfit.utils.data.sampler import BatchSampler

    assert gud.DataLoader is DataLoader is dataloader_module.DataLoader
    assert BatchSampler is gf.data.BatchSampler
    assert gf.utils.data.TensorDataset is gf.data.TensorDataset
    for name in ("Dataset", "TensorDataset", "DataLoader", "Sampler", "SequentialSampler",
                 "RandomSampler", "SubsetRandomSampler", "WeightedRandomSampler", "BatchSampler",
                 "random_split", "Subset", "ConcatDataset", "IterableDataset", "ChainDataset",
                 "default_collate", "get_worker_info"):  # fmt: skip
        assert hasattr(gud, name) and hasattr(tud, name), name


def test_sequential_sampler_is_still_torch_order():
    assert list(SequentialSampler(range(4))) == list(tud.SequentialSampler(range(4)))
