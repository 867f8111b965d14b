"""The IDX file format of MNIST and Fashion-MNIST, gzip-compressed or raw.

An IDX file is a 4-byte magic number (two zero bytes, a type code, the number of
dimensions), then one big-endian uint32 per dimension, then the data in row-major order,
big-endian. :func:`read_idx` checks every part of that and raises :class:`IDXError`
naming the file and what is wrong (wrong magic number, unknown type code, truncated or
over-long data, a broken gzip stream). Whether a file is gzip-compressed is decided by its
first two bytes, not its name.

Example:
    >>> import numpy as np, os, tempfile
    >>> path = os.path.join(tempfile.mkdtemp(), "labels-idx1-ubyte.gz")
    >>> write_idx(path, np.array([3, 1, 4], dtype=np.uint8))
    >>> read_idx(path)
    array([3, 1, 4], dtype=uint8)
"""

from __future__ import annotations

import gzip
import os
import struct
import tempfile
import zlib
from pathlib import Path

import numpy as np

#: IDX type code -> NumPy dtype (big-endian as stored).
IDX_DTYPES: dict[int, np.dtype] = {
    0x08: np.dtype(">u1"),
    0x09: np.dtype(">i1"),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}
_CODES = {dt.newbyteorder("="): code for code, dt in IDX_DTYPES.items()}
_GZIP_MAGIC = b"\x1f\x8b"


class IDXError(ValueError):
    """A file is not a valid IDX file; the message names the file and the problem.

    Example:
        >>> issubclass(IDXError, ValueError)
        True
    """


def _read_bytes(path: Path) -> bytes:
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise FileNotFoundError(f"IDX file not found: {path}") from None
    if raw[:2] != _GZIP_MAGIC:
        return raw
    try:
        return gzip.decompress(raw)
    except (OSError, EOFError, zlib.error) as e:
        raise IDXError(
            f"{path}: the gzip stream is corrupt or truncated ({e}); delete the file and "
            "download it again"
        ) from None


def read_idx(path: str | os.PathLike[str]) -> np.ndarray:
    """Read an IDX file (gzip or raw) into a native-endian NumPy array.

    Raises:
        IDXError: the file is not valid IDX (the message says what is wrong).
        FileNotFoundError: the file does not exist.

    Example:
        >>> import os, tempfile
        >>> p = os.path.join(tempfile.mkdtemp(), "x-idx3-ubyte")
        >>> write_idx(p, np.zeros((2, 3, 3), dtype=np.uint8))
        >>> read_idx(p).shape
        (2, 3, 3)
    """
    path = Path(path)
    data = _read_bytes(path)
    if len(data) < 4:
        raise IDXError(
            f"{path}: too short to be an IDX file ({len(data)} bytes; the header alone is 4)"
        )
    zero1, zero2, code, ndim = data[0], data[1], data[2], data[3]
    if zero1 != 0 or zero2 != 0:
        raise IDXError(
            f"{path}: wrong magic number 0x{data[:4].hex()}: an IDX file starts with two zero "
            "bytes, a type code and the number of dimensions (e.g. 0x00000803 for images)"
        )
    if code not in IDX_DTYPES:
        known = ", ".join(f"0x{c:02x}" for c in IDX_DTYPES)
        raise IDXError(f"{path}: unknown IDX type code 0x{code:02x} (expected one of {known})")
    if ndim == 0:
        raise IDXError(f"{path}: the header declares 0 dimensions")
    header = 4 + 4 * ndim
    if len(data) < header:
        raise IDXError(
            f"{path}: truncated header: {ndim} dimensions need {header} bytes, the file has "
            f"{len(data)}"
        )
    dims = struct.unpack(f">{ndim}I", data[4:header])
    dtype = IDX_DTYPES[code]
    expected = int(np.prod(dims, dtype=np.int64)) * dtype.itemsize
    found = len(data) - header
    if found < expected:
        raise IDXError(
            f"{path}: truncated data: shape {dims} of {dtype.newbyteorder('=').name} needs "
            f"{expected} bytes after the header, the file has {found}"
        )
    if found > expected:
        raise IDXError(
            f"{path}: {found - expected} unexpected bytes after the data of shape {dims} "
            "(the header does not match the file)"
        )
    arr = np.frombuffer(data, dtype=dtype, count=expected // dtype.itemsize, offset=header)
    return arr.reshape(dims).astype(dtype.newbyteorder("="))


def write_idx(path: str | os.PathLike[str], array: np.ndarray) -> None:
    """Write ``array`` as an IDX file, gzip-compressed when the name ends in ``.gz``.

    The file is written atomically (a temporary file in the same directory, fsync,
    ``os.replace``).

    Example:
        >>> import os, tempfile
        >>> p = os.path.join(tempfile.mkdtemp(), "y.idx")
        >>> write_idx(p, np.array([[1.5]], dtype=np.float32))
        >>> read_idx(p)
        array([[1.5]], dtype=float32)
    """
    path = Path(path)
    arr = np.asarray(array)
    code = _CODES.get(arr.dtype.newbyteorder("="))
    if code is None:
        raise TypeError(
            f"write_idx: IDX cannot hold dtype {arr.dtype} (uint8, int8, int16, int32, float32, "
            "float64)"
        )
    if arr.ndim == 0 or arr.ndim > 255:
        raise ValueError(f"write_idx: expected 1 to 255 dimensions, got shape {arr.shape}")
    payload = (
        bytes([0, 0, code, arr.ndim])
        + struct.pack(f">{arr.ndim}I", *arr.shape)
        + arr.astype(IDX_DTYPES[code], copy=False).tobytes()
    )
    if path.suffix == ".gz":
        payload = gzip.compress(payload, mtime=0)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".part")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(payload)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
