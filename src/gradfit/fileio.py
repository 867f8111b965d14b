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
from collections.abc import Iterator
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
    fd, tmp = tempfile.mkstemp(
        dir=folder, prefix=f".{path.name}{TEMP_MARK}{os.getpid()}.", suffix=".tmp"
    )
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


TEMP_MARK = ".gradfit-tmp-"  # in every temporary file name atomic_write makes, with the pid


def _pid_alive(pid: int) -> bool:
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OSError):
        return True  # exists, owned by someone else
    return True


def clean_stale_temp_files(folder: str | os.PathLike[str]) -> list[Path]:
    """Remove temporary files that :func:`atomic_write` left in ``folder`` when its process
    was killed (``kill -9``, a power cut); files of processes still running are kept.

    Only names with gradfit's mark (``.NAME.gradfit-tmp-PID.XXXX.tmp``) are touched.

    Example:
        >>> import tempfile
        >>> d = Path(tempfile.mkdtemp())
        >>> _ = (d / ".a.txt.gradfit-tmp-999999999.x1.tmp").write_text("half")
        >>> _ = (d / "keep.tmp").write_text("not ours")
        >>> [p.name for p in clean_stale_temp_files(d)], sorted(os.listdir(d))
        (['.a.txt.gradfit-tmp-999999999.x1.tmp'], ['keep.tmp'])
    """
    removed = []
    try:
        names = os.listdir(folder)
    except OSError:
        return removed
    for name in names:
        if not (name.startswith(".") and name.endswith(".tmp") and TEMP_MARK in name):
            continue
        pid_text = name.split(TEMP_MARK, 1)[1].split(".", 1)[0]
        if pid_text.isdigit() and _pid_alive(int(pid_text)):
            continue
        with contextlib.suppress(OSError):
            os.unlink(os.path.join(folder, name))
            removed.append(Path(folder) / name)
    return removed


class LockedError(OSError):
    """Another running gradfit process holds the lock of a run directory."""


LOCK_NAME = ".gradfit.lock"


@contextlib.contextmanager
def run_lock(folder: str | os.PathLike[str]) -> Iterator[Path]:
    """Hold ``folder/.gradfit.lock`` while writing a run directory, so two processes never
    write the same run at once.

    The lock file is created with ``O_CREAT | O_EXCL`` and holds the owner's pid. A lock
    whose process is gone (killed) is stale and taken over; a live one raises
    :class:`LockedError` naming the folder and the pid. Stale temporary files in the
    folder are removed on entry. The lock is removed on exit, and so is the folder when
    this call created it and nothing was written into it.

    Example:
        >>> import tempfile
        >>> d = tempfile.mkdtemp()
        >>> with run_lock(d):
        ...     with run_lock(d):  # doctest: +ELLIPSIS
        ...         pass
        Traceback (most recent call last):
        ...
        gradfit.fileio.LockedError: ...: another gradfit process (pid ...) is writing to this run directory; wait for it to finish or choose another --out
        >>> os.listdir(d)
        []
    """
    folder = Path(folder)
    created = not folder.exists()
    folder.mkdir(parents=True, exist_ok=True)
    lock = folder / LOCK_NAME
    for _ in range(3):
        try:
            fd = os.open(lock, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
        except FileExistsError:
            try:
                owner = int(lock.read_text().strip() or "0")
            except (OSError, ValueError):
                owner = 0
            if owner and _pid_alive(owner):
                raise LockedError(
                    f"{folder}: another gradfit process (pid {owner}) is writing to this run "
                    "directory; wait for it to finish or choose another --out"
                ) from None
            with contextlib.suppress(FileNotFoundError):  # stale: its process is gone
                os.unlink(lock)
            continue
        with os.fdopen(fd, "w") as f:
            f.write(str(os.getpid()))
        break
    else:
        raise LockedError(f"{folder}: could not take the run directory's lock {lock}")
    clean_stale_temp_files(folder)
    try:
        yield lock
    finally:
        with contextlib.suppress(OSError):
            if lock.read_text().strip() == str(os.getpid()):
                os.unlink(lock)
        if created:  # a run that failed before writing anything leaves no empty folder
            with contextlib.suppress(OSError):
                folder.rmdir()
