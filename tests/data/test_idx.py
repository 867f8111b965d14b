"""IDX reading on small hand-written files: gzip and raw, images and labels, and corrupt cases."""

from __future__ import annotations

import gzip
import struct

import numpy as np
import pytest

from gradfit.data.idx import IDXError, read_idx, write_idx


def _idx_bytes(arr: np.ndarray, code: int, be_dtype: str) -> bytes:
    """An IDX file assembled by hand (independent of write_idx)."""
    head = bytes([0, 0, code, arr.ndim]) + struct.pack(f">{arr.ndim}I", *arr.shape)
    return head + arr.astype(be_dtype).tobytes()


@pytest.fixture
def images() -> np.ndarray:
    return np.random.default_rng(0).integers(0, 256, size=(5, 4, 3), dtype=np.uint8)


@pytest.mark.parametrize("compress", [False, True])
def test_read_images_and_labels(tmp_path, images, compress):
    labels = np.array([3, 1, 4, 1, 5], dtype=np.uint8)
    for name, arr in (("img", images), ("lab", labels)):
        raw = _idx_bytes(arr, 0x08, ">u1")
        path = tmp_path / (name + (".gz" if compress else ""))
        path.write_bytes(gzip.compress(raw) if compress else raw)
        out = read_idx(path)
        assert out.dtype == np.uint8 and out.shape == arr.shape
        np.testing.assert_array_equal(out, arr)


def test_gzip_detected_by_content_not_name(tmp_path, images):
    path = tmp_path / "no-extension"
    path.write_bytes(gzip.compress(_idx_bytes(images, 0x08, ">u1")))
    np.testing.assert_array_equal(read_idx(path), images)


@pytest.mark.parametrize(
    ("code", "be", "native"),
    [(0x09, ">i1", np.int8), (0x0B, ">i2", np.int16), (0x0C, ">i4", np.int32),
     (0x0D, ">f4", np.float32), (0x0E, ">f8", np.float64)],
)  # fmt: skip
def test_big_endian_dtypes(tmp_path, code, be, native):
    arr = (
        np.array([[-3, 2], [1, 700]], dtype=native)
        if native != np.int8
        else np.array([[-3, 2]], dtype=native)
    )
    path = tmp_path / "x"
    path.write_bytes(_idx_bytes(arr, code, be))
    out = read_idx(path)
    assert out.dtype == np.dtype(native)
    np.testing.assert_array_equal(out, arr)


@pytest.mark.parametrize("name", ["a.idx", "a.idx.gz"])
def test_write_idx_round_trip(tmp_path, images, name):
    write_idx(tmp_path / name, images)
    np.testing.assert_array_equal(read_idx(tmp_path / name), images)
    assert [p.name for p in tmp_path.iterdir()] == [name]


def test_wrong_magic_number(tmp_path, images):
    raw = bytearray(_idx_bytes(images, 0x08, ">u1"))
    raw[0:2] = b"PK"
    path = tmp_path / "train-images-idx3-ubyte"
    path.write_bytes(bytes(raw))
    with pytest.raises(IDXError, match="wrong magic number") as e:
        read_idx(path)
    assert str(path) in str(e.value)


def test_unknown_type_code(tmp_path, images):
    raw = bytearray(_idx_bytes(images, 0x08, ">u1"))
    raw[2] = 0x07
    (tmp_path / "f").write_bytes(bytes(raw))
    with pytest.raises(IDXError, match="unknown IDX type code 0x07"):
        read_idx(tmp_path / "f")


@pytest.mark.parametrize("compress", [False, True])
def test_truncated_data(tmp_path, images, compress):
    raw = _idx_bytes(images, 0x08, ">u1")[:-7]
    path = tmp_path / "imgs"
    path.write_bytes(gzip.compress(raw) if compress else raw)
    with pytest.raises(IDXError, match="truncated data") as e:
        read_idx(path)
    assert str(path) in str(e.value) and "60 bytes" in str(e.value) and "53" in str(e.value)


def test_truncated_header(tmp_path):
    (tmp_path / "h").write_bytes(bytes([0, 0, 8, 3]) + b"\x00\x00\x00\x05")
    with pytest.raises(IDXError, match="truncated header"):
        read_idx(tmp_path / "h")


def test_too_short_and_trailing_bytes(tmp_path, images):
    (tmp_path / "s").write_bytes(b"\x00\x00")
    with pytest.raises(IDXError, match="too short"):
        read_idx(tmp_path / "s")
    (tmp_path / "t").write_bytes(_idx_bytes(images, 0x08, ">u1") + b"xyz")
    with pytest.raises(IDXError, match="3 unexpected bytes"):
        read_idx(tmp_path / "t")


def test_bad_gzip(tmp_path, images):
    good = gzip.compress(_idx_bytes(images, 0x08, ">u1"))
    path = tmp_path / "imgs.gz"
    path.write_bytes(good[: len(good) // 2])  # cut-off gzip stream
    with pytest.raises(IDXError, match="gzip") as e:
        read_idx(path)
    assert str(path) in str(e.value)
    path.write_bytes(good[:10] + b"\xff" * 40 + good[50:])  # garbled deflate data
    with pytest.raises(IDXError, match="gzip"):
        read_idx(path)


def test_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="nothere"):
        read_idx(tmp_path / "nothere")
