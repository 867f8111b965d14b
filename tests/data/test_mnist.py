"""MNIST / Fashion-MNIST from IDX files in a directory the test fills (no network)."""

from __future__ import annotations

import gzip
import struct
from pathlib import Path

import numpy as np
import pytest

from gradfit.data import DownloadError, IDXError, load_dataset

N_TRAIN, N_TEST = 24, 10


def _write(path: Path, arr: np.ndarray, compress: bool) -> None:
    raw = bytes([0, 0, 8, arr.ndim]) + struct.pack(f">{arr.ndim}I", *arr.shape) + arr.tobytes()
    path.write_bytes(gzip.compress(raw) if compress else raw)


def _fill(directory: Path, compress: bool = True, n_labels_train: int = N_TRAIN) -> dict:
    directory.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(1)
    data = {
        "train-images-idx3-ubyte": rng.integers(0, 256, (N_TRAIN, 28, 28), dtype=np.uint8),
        "train-labels-idx1-ubyte": (np.arange(n_labels_train) % 10).astype(np.uint8),
        "t10k-images-idx3-ubyte": rng.integers(0, 256, (N_TEST, 28, 28), dtype=np.uint8),
        "t10k-labels-idx1-ubyte": (np.arange(N_TEST) % 10).astype(np.uint8),
    }
    for name, arr in data.items():
        _write(directory / (name + (".gz" if compress else "")), arr, compress)
    return data


@pytest.mark.parametrize("compress", [True, False])
def test_load_from_data_dir(tmp_path, compress):
    data = _fill(tmp_path / "mnist", compress)
    ds = load_dataset("mnist", data_dir=tmp_path, val_fraction=0.25)
    assert ds.sizes == {"train": 18, "val": 6, "test": N_TEST}
    assert ds.train.x.shape == (18, 784) and ds.train.x.dtype == np.float32
    assert ds.train.y.dtype == np.int64 and ds.test.y.dtype == np.int64
    assert ds.train.x.min() >= 0.0 and ds.train.x.max() <= 1.0
    # the test split is the t10k file, in order
    np.testing.assert_allclose(
        ds.test.x, data["t10k-images-idx3-ubyte"].reshape(N_TEST, -1) / np.float32(255), rtol=1e-6
    )
    np.testing.assert_array_equal(ds.test.y, data["t10k-labels-idx1-ubyte"])
    # train + val are the training file, each image once, with its own label
    pool = np.concatenate([ds.train.x, ds.val.x]) * 255
    labels = np.concatenate([ds.train.y, ds.val.y])
    order = np.argsort(labels, kind="stable")
    src = data["train-images-idx3-ubyte"].reshape(N_TRAIN, -1).astype(np.float32)
    src_order = np.argsort(data["train-labels-idx1-ubyte"], kind="stable")
    assert sorted(map(bytes, np.rint(pool).astype(np.uint8))) == sorted(
        map(bytes, src.astype(np.uint8))
    )
    np.testing.assert_array_equal(labels[order], data["train-labels-idx1-ubyte"][src_order])


def test_image_view_env_var_and_flat_dir(tmp_path, monkeypatch):
    _fill(tmp_path)  # files directly in data_dir, found too
    monkeypatch.setenv("GRADFIT_DATA", str(tmp_path))
    ds = load_dataset("fashion-mnist", view="image", normalize=False, val_fraction=0.0)
    assert ds.train.x.shape == (N_TRAIN, 1, 28, 28)
    assert ds.train.x.max() > 1.0
    assert ds.description.classes[0] == "T-shirt/top" and ds.num_classes == 10


def test_label_count_mismatch_names_both_files(tmp_path):
    _fill(tmp_path / "mnist", n_labels_train=N_TRAIN - 1)
    with pytest.raises(IDXError, match="23 labels") as e:
        load_dataset("mnist", data_dir=tmp_path)
    assert "train-labels-idx1-ubyte.gz" in str(e.value)
    assert "train-images-idx3-ubyte.gz" in str(e.value)


def test_missing_files_say_what_to_place_where(tmp_path):
    with pytest.raises(FileNotFoundError) as e:
        load_dataset("mnist", data_dir=tmp_path)
    msg = str(e.value)
    for name in ("train-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"):
        assert str(tmp_path / "mnist" / name) in msg
    assert "download=True" in msg


def test_offline_download_error(tmp_path, refused_url):
    with pytest.raises(DownloadError) as e:
        load_dataset("mnist", data_dir=tmp_path, download=True, mirrors=[refused_url])
    msg = str(e.value)
    assert str(tmp_path / "mnist" / "train-images-idx3-ubyte.gz") in msg
    assert "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609" in msg
    assert list((tmp_path / "mnist").iterdir()) == []


def test_bad_view(tmp_path):
    _fill(tmp_path / "mnist")
    with pytest.raises(ValueError, match="view"):
        load_dataset("mnist", data_dir=tmp_path, view="square")
