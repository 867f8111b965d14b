"""Samplers and the DataLoader: every index once per epoch, seeds, drop_last, replacement."""

from __future__ import annotations

import numpy as np
import pytest

import gradfit as gf
from gradfit.data import (
    ArrayDataset,
    BatchSampler,
    DataLoader,
    Dataset,
    RandomSampler,
    SequentialSampler,
    transforms,
)

N = 103


@pytest.fixture
def ds() -> ArrayDataset:
    x = np.arange(N * 2, dtype=np.float32).reshape(N, 2)
    return ArrayDataset(x, np.arange(N, dtype=np.int64))


def _epoch(loader: DataLoader) -> np.ndarray:
    return np.concatenate([y.numpy() for _, y in loader])


@pytest.mark.parametrize("batch_size", [1, 10, 103, 500])
def test_shuffle_visits_every_index_exactly_once(ds, batch_size):
    loader = DataLoader(ds, batch_size=batch_size, shuffle=True, seed=0)
    for _ in range(2):
        seen = _epoch(loader)
        assert np.array_equal(np.sort(seen), np.arange(N))
    assert len(loader) == -(-N // batch_size)


def test_batches_are_tensors_pairing_x_with_y(ds):
    for x, y in DataLoader(ds, batch_size=16, shuffle=True, seed=1):
        assert isinstance(x, gf.Tensor) and isinstance(y, gf.Tensor)
        assert x.dtype == np.float32 and y.dtype == np.int64
        assert not x.requires_grad
        np.testing.assert_array_equal(x.numpy()[:, 0], 2 * y.numpy())


def test_order_differs_across_epochs_and_from_sequential(ds):
    loader = DataLoader(ds, batch_size=8, shuffle=True, seed=0)
    e1, e2 = _epoch(loader), _epoch(loader)
    assert not np.array_equal(e1, e2)
    assert not np.array_equal(e1, np.arange(N))


def test_seed_reproduces_every_epoch(ds):
    a = DataLoader(ds, batch_size=8, shuffle=True, seed=42)
    b = DataLoader(ds, batch_size=8, shuffle=True, seed=42)
    for _ in range(3):
        np.testing.assert_array_equal(_epoch(a), _epoch(b))
    c = DataLoader(ds, batch_size=8, shuffle=True, seed=43)
    assert not np.array_equal(
        _epoch(DataLoader(ds, batch_size=8, shuffle=True, seed=42)), _epoch(c)
    )


def test_manual_seed_reproduces_default_generator(ds):
    gf.manual_seed(7)
    first = _epoch(DataLoader(ds, batch_size=5, shuffle=True))
    gf.manual_seed(7)
    again = _epoch(DataLoader(ds, batch_size=5, shuffle=True))
    np.testing.assert_array_equal(first, again)


def test_explicit_generator(ds):
    e1 = _epoch(DataLoader(ds, batch_size=5, shuffle=True, generator=np.random.default_rng(5)))
    e2 = _epoch(DataLoader(ds, batch_size=5, shuffle=True, generator=np.random.default_rng(5)))
    np.testing.assert_array_equal(e1, e2)


def test_sequential_and_drop_last(ds):
    loader = DataLoader(ds, batch_size=10)
    np.testing.assert_array_equal(_epoch(loader), np.arange(N))
    sizes = [len(y) for _, y in loader]
    assert sizes == [10] * 10 + [3]
    dropped = DataLoader(ds, batch_size=10, shuffle=True, drop_last=True, seed=0)
    assert len(dropped) == 10
    assert [len(y) for _, y in dropped] == [10] * 10
    assert len(np.unique(_epoch(dropped))) == 100


def test_sampling_with_replacement(ds):
    sampler = RandomSampler(
        ds, replacement=True, num_samples=2000, generator=np.random.default_rng(0)
    )
    loader = DataLoader(ds, batch_size=100, sampler=sampler)
    seen = _epoch(loader)
    assert len(seen) == 2000 and len(loader) == 20
    counts = np.bincount(seen, minlength=N)
    assert counts.max() > 1  # repeats happen
    assert seen.min() >= 0 and seen.max() < N
    # roughly uniform: each index expected 2000/103 ~ 19.4 times
    assert abs(counts.mean() - 2000 / N) < 1e-9 and counts.std() < 8


def test_random_sampler_num_samples_without_replacement():
    idx = RandomSampler(range(5), num_samples=12, generator=np.random.default_rng(0)).indices()
    assert len(idx) == 12
    assert sorted(idx[:5].tolist()) == list(range(5)) and sorted(idx[5:10].tolist()) == list(
        range(5)
    )


def test_batch_sampler_and_sequential():
    bs = BatchSampler(SequentialSampler(range(5)), batch_size=2, drop_last=False)
    assert [b.tolist() for b in bs] == [[0, 1], [2, 3], [4]] and len(bs) == 3
    assert list(SequentialSampler(range(3))) == [0, 1, 2]
    with pytest.raises(ValueError, match="batch_size"):
        BatchSampler(SequentialSampler(range(5)), batch_size=0, drop_last=False)


def test_transforms_applied_per_batch_with_loader_generator(ds):
    x = np.random.default_rng(0).random((20, 1, 6, 6)).astype(np.float32)
    img = ArrayDataset(x, np.arange(20) % 3)
    aug = transforms.RandomShift(2)

    def run() -> list[np.ndarray]:
        loader = DataLoader(
            img, batch_size=8, shuffle=True, seed=3, transform=aug,
            target_transform=transforms.OneHot(3),
        )  # fmt: skip
        out = []
        for xb, yb in loader:
            assert xb.shape[1:] == (1, 6, 6) and xb.dtype == np.float32
            assert yb.shape[1:] == (3,) and yb.dtype == np.float32
            out.append(xb.numpy())
        return out

    a, b = run(), run()
    assert all(np.array_equal(p, q) for p, q in zip(a, b, strict=True))
    plain = DataLoader(img, batch_size=8, shuffle=True, seed=3)
    assert not all(np.array_equal(p, q[0].numpy()) for p, q in zip(a, plain, strict=True))


def test_plain_callable_transform(ds):
    loader = DataLoader(ds, batch_size=4, transform=lambda x: x * 2)
    x, y = next(iter(loader))
    np.testing.assert_array_equal(x.numpy()[:, 0], 4 * y.numpy())


def test_generic_dataset(ds):
    class Pairs(Dataset):
        def __len__(self) -> int:
            return 7

        def __getitem__(self, i: int) -> tuple[np.ndarray, int]:
            return np.full(2, i, dtype=np.float32), i

    got = np.concatenate(
        [y.numpy() for _, y in DataLoader(Pairs(), batch_size=3, shuffle=True, seed=0)]
    )
    assert sorted(got.tolist()) == list(range(7))


def test_bad_arguments(ds):
    with pytest.raises(ValueError, match="batch_size"):
        DataLoader(ds, batch_size=0)
    with pytest.raises(ValueError, match="mutually exclusive"):
        DataLoader(ds, shuffle=True, sampler=SequentialSampler(ds))
    with pytest.raises(ValueError, match="not both"):
        DataLoader(ds, generator=np.random.default_rng(0), seed=1)
    with pytest.raises(TypeError, match="numpy.random.Generator"):
        DataLoader(ds, generator=0)
    with pytest.raises(TypeError, match="__len__"):
        DataLoader(5)
    with pytest.raises(ValueError, match="empty"):
        DataLoader(ArrayDataset(np.zeros((0, 2))))
    with pytest.raises(ValueError, match="num_samples"):
        RandomSampler(range(3), num_samples=0)


def test_array_datasets_are_batched_without_per_sample_access(ds):
    """The loader gathers whole batches: a per-sample __getitem__ is never called."""

    class NoSingle(ArrayDataset):
        def __getitem__(self, index):
            raise AssertionError("per-sample access on the training path")

    bulk = NoSingle(*ds.arrays)
    from gradfit.data import ConcatDataset, Subset

    for d in (bulk, Subset(bulk, np.arange(50)), ConcatDataset([bulk, bulk])):
        seen = np.concatenate(
            [y.numpy() for _, y in DataLoader(d, batch_size=32, shuffle=True, seed=0)]
        )
        assert len(seen) == len(d)


def test_tensor_dataset_through_loader():
    from gradfit.data import TensorDataset

    loader = DataLoader(
        TensorDataset(gf.randn(10, 3), gf.arange(10)), batch_size=4, shuffle=True, seed=0
    )
    batches = list(loader)
    assert [len(y) for _, y in batches] == [4, 4, 2]
    assert all(isinstance(x, gf.Tensor) and x.dtype == np.float32 for x, _ in batches)
