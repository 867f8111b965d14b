"""Atomic file writes: the one helper every gradfit module that writes a file goes through.

A crash, a kill or Ctrl-C in the middle of a write leaves either the old file or the new
one, never half of one: the data goes to a temporary file in the same directory, is
flushed and fsynced, then ``os.replace`` swaps it in and the directory is fsynced so the
rename itself survives a power cut.

Example:
    >>> import os, tempfile
    >>> p = atomic_write(os.path.join(tempfile.mkdtemp(), "a.txt"), b"hello")
    >>> p.read_bytes()
    b'hello'
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


_FILE_MODE = 0o666 & ~_umask()


def atomic_write(path: str | os.PathLike[str], data: bytes | str, *, parents: bool = True) -> Path:
    """Write ``data`` to ``path`` atomically and return the path.

    The data (``str`` is encoded as UTF-8) goes to a temporary file in the same directory,
    which is flushed, fsynced and renamed over ``path`` with ``os.replace``; the directory
    is then fsynced. On any failure, KeyboardInterrupt included, the temporary file is
    removed and ``path`` keeps its old content.

    Args:
        path: the file to write.
        data: the bytes (or text, written as UTF-8).
        parents: create missing parent directories (default); with ``False`` a missing
            directory is a ``FileNotFoundError`` naming it.

    Example:
        >>> import os, tempfile
        >>> d = tempfile.mkdtemp()
        >>> atomic_write(os.path.join(d, "sub", "x.txt"), "hi").read_text()
        'hi'
        >>> sorted(os.listdir(os.path.join(d, "sub")))  # no temporary file left behind
        ['x.txt']
    """
    path = Path(path)
    if isinstance(data, str):
        data = data.encode("utf-8")
    folder = path.parent
    if parents:
        folder.mkdir(parents=True, exist_ok=True)
    elif not folder.is_dir():
        raise FileNotFoundError(f"cannot write {path}: folder {folder} does not exist")
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, _FILE_MODE)  # mkstemp makes 0600; give the file the usual permissions
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    with contextlib.suppress(OSError):  # make the rename itself durable
        dfd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(dfd)
        finally:
            os.close(dfd)
    return path
