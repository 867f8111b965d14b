"""Datasets: bulk indexing, subsets, splits and concatenation."""

from __future__ import annotations

import numpy as np
import pytest

import gradfit as gf
from gradfit.data import (
    ArrayDataset,
    ConcatDataset,
    Dataset,
    Subset,
    TensorDataset,
    random_split,
)


def _ds(n: int = 10) -> ArrayDataset:
    return ArrayDataset(np.arange(n * 3, dtype=np.float32).reshape(n, 3), np.arange(n) * 10)


def test_array_dataset_single_and_bulk():
    ds = _ds()
    x, y = ds[3]
    np.testing.assert_array_equal(x, [9, 10, 11])
    assert y == 30
    xb, yb = ds[np.array([7, -1, 0])]
    np.testing.assert_array_equal(yb, [70, 90, 0])
    assert xb.shape == (3, 3) and xb.dtype == np.float32
    xb[:] = -1  # a batch is a copy: the dataset is untouched
    assert ds.arrays[0][7, 0] == 21
    assert ds[2:4][1].tolist() == [20, 30]


def test_array_dataset_errors():
    with pytest.raises(ValueError, match="array 0 has 3, array 1 has 2"):
        ArrayDataset(np.zeros(3), np.zeros(2))
    with pytest.raises(ValueError, match="at least one array"):
        ArrayDataset()
    with pytest.raises(IndexError, match="index 10 is out of range"):
        _ds().get_batch([1, 10])
    with pytest.raises(IndexError, match="out of range"):
        _ds()[11]
    with pytest.raises(TypeError, match="integers"):
        _ds().get_batch(np.array([0.5]))


def test_tensor_dataset_returns_tensors():
    ds = TensorDataset(gf.ones(4, 2), gf.arange(4))
    x, y = ds[1]
    assert isinstance(x, gf.Tensor) and isinstance(y, gf.Tensor) and y.item() == 1
    xb, yb = ds.get_batch([3, 2])  # arrays on the loader's path: arrays
    assert yb.tolist() == [3, 2] and isinstance(xb, np.ndarray)


def test_subset_maps_indices():
    ds = _ds()
    sub = Subset(ds, [9, 4, 6])
    assert len(sub) == 3
    assert sub[1][1] == 40
    assert sub.get_batch([2, 0])[1].tolist() == [60, 90]
    nested = Subset(sub, [2])
    assert nested.get_batch([0])[1].tolist() == [60]
    with pytest.raises(IndexError):
        Subset(ds, [10])


def test_concat_dataset_keeps_requested_order():
    a = ArrayDataset(np.array([0.0, 1.0, 2.0]), np.array([0, 1, 2]))
    b = ArrayDataset(np.array([10.0, 11.0]), np.array([10, 11]))
    cat = a + b
    assert isinstance(cat, ConcatDataset) and len(cat) == 5
    x, y = cat.get_batch([4, 0, 3, 2])
    assert x.tolist() == [11.0, 0.0, 10.0, 2.0] and y.tolist() == [11, 0, 10, 2]
    assert cat[3] == (10.0, 10)
    assert cat[-1] == (11.0, 11)


def test_random_split_partitions_and_is_seeded():
    ds = _ds(10)
    gf.manual_seed(3)
    parts = random_split(ds, [6, 3, 1])
    idx = np.concatenate([p.indices for p in parts])
    assert sorted(idx.tolist()) == list(range(10))
    assert [len(p) for p in parts] == [6, 3, 1]
    gf.manual_seed(3)
    again = random_split(ds, [6, 3, 1])
    assert all((p.indices == q.indices).all() for p, q in zip(parts, again, strict=True))
    frac = random_split(ds, [0.5, 0.25, 0.25], generator=np.random.default_rng(0))
    assert [len(p) for p in frac] == [6, 2, 2]  # floor 5, 2, 2 plus the remainder to the first
    with pytest.raises(ValueError, match="sum to 9"):
        random_split(ds, [6, 3])


def test_generic_dataset_falls_back_to_stacking():
    class Squares(Dataset):
        def __len__(self) -> int:
            return 5

        def __getitem__(self, i: int) -> tuple[np.ndarray, int]:
            return np.array([i, i * i], dtype=np.float32), i

    x, y = Squares().get_batch([4, 1])
    assert x.tolist() == [[4, 16], [1, 1]] and y.tolist() == [4, 1]
