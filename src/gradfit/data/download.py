"""Checksummed, atomic downloads from a list of mirrors.

:func:`download_file` streams a URL into a temporary file in the destination's own
directory, hashes it on the way (SHA-256), and only when the whole file has arrived and
its digest matches does it ``fsync`` and ``os.replace`` it onto the destination. A refused
connection, a server that hangs up half way, or a wrong checksum leaves nothing where the
good file belongs, and an existing good file is never replaced. Mirrors are tried in
order; when they all fail, :class:`DownloadError` lists each mirror's reason and says which
file to place where (with its SHA-256) so a user on an offline machine can copy it in.

A progress bar (rich) is shown when standard error is a terminal.

Example:
    >>> import hashlib, os, tempfile
    >>> d = tempfile.mkdtemp(); src = os.path.join(d, "src.bin")
    >>> with open(src, "wb") as f: _ = f.write(b"hello")
    >>> digest = hashlib.sha256(b"hello").hexdigest()
    >>> out = download_file("file://" + src, os.path.join(d, "copy.bin"), digest)
    >>> open(out, "rb").read()
    b'hello'
"""

from __future__ import annotations

import hashlib
import http.client
import os
import sys
import tempfile
import urllib.error
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

_CHUNK = 1 << 20


class DownloadError(OSError):
    """Every mirror failed for a file; the message lists why and where to place the file by hand.

    Example:
        >>> issubclass(DownloadError, OSError)
        True
    """


def sha256_file(path: str | os.PathLike[str]) -> str:
    """The SHA-256 hex digest of a file, read in chunks.

    Example:
        >>> import os, tempfile
        >>> p = os.path.join(tempfile.mkdtemp(), "e"); open(p, "wb").close()
        >>> sha256_file(p)[:16]
        'e3b0c44298fc1c14'
    """
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(_CHUNK):
            h.update(chunk)
    return h.hexdigest()


def _want_progress(progress: bool | None) -> bool:
    if progress is not None:
        return progress
    try:
        return sys.stderr.isatty()
    except (AttributeError, ValueError):
        return False


class _Bar:
    """A rich progress bar, or nothing."""

    def __init__(self, enabled: bool, name: str, total: int | None) -> None:
        self._progress: Any = None
        if not enabled:
            return
        from rich.progress import (
            BarColumn,
            DownloadColumn,
            Progress,
            TextColumn,
            TimeRemainingColumn,
            TransferSpeedColumn,
        )

        self._progress = Progress(
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            DownloadColumn(),
            TransferSpeedColumn(),
            TimeRemainingColumn(),
            transient=False,
        )
        self._task = self._progress.add_task(name, total=total)
        self._progress.start()

    def advance(self, n: int) -> None:
        if self._progress is not None:
            self._progress.update(self._task, advance=n)

    def close(self) -> None:
        if self._progress is not None:
            self._progress.stop()


def _fetch_one(url: str, dest: Path, sha256: str, timeout: float, progress: bool) -> None:
    """Download ``url`` to a temp file next to ``dest``, verify, then atomically rename."""
    fd, tmp = tempfile.mkstemp(dir=dest.parent, prefix=f".{dest.name}.", suffix=".part")
    try:
        h = hashlib.sha256()
        received = 0
        with os.fdopen(fd, "wb") as out, urllib.request.urlopen(url, timeout=timeout) as resp:
            length_header = resp.headers.get("Content-Length") if hasattr(resp, "headers") else None
            total = int(length_header) if length_header and length_header.isdigit() else None
            bar = _Bar(progress, dest.name, total)
            try:
                while chunk := resp.read(_CHUNK):
                    out.write(chunk)
                    h.update(chunk)
                    received += len(chunk)
                    bar.advance(len(chunk))
            finally:
                bar.close()
            if total is not None and received != total:
                raise DownloadError(f"the connection closed after {received} of {total} bytes")
            out.flush()
            os.fsync(out.fileno())
        digest = h.hexdigest()
        if digest != sha256.lower():
            raise DownloadError(
                f"checksum mismatch: expected SHA-256 {sha256.lower()}, got {digest} "
                f"({received} bytes)"
            )
        os.replace(tmp, dest)
        tmp = ""
        try:  # make the rename durable
            dir_fd = os.open(dest.parent, os.O_RDONLY)
        except OSError:
            return
        try:
            os.fsync(dir_fd)
        except OSError:
            pass
        finally:
            os.close(dir_fd)
    finally:
        if tmp and os.path.exists(tmp):
            os.unlink(tmp)


def download_file(
    urls: str | Sequence[str],
    dest: str | os.PathLike[str],
    sha256: str,
    *,
    timeout: float = 30.0,
    progress: bool | None = None,
) -> Path:
    """Download ``dest`` from the first mirror that serves it with the right SHA-256.

    Args:
        urls: one URL or several (mirrors, tried in order).
        dest: where the verified file goes; its directory is created if needed.
        sha256: the expected hex digest.
        timeout: seconds to wait on a connection or a read.
        progress: show a progress bar; None shows one when stderr is a terminal.

    Returns:
        ``dest`` as a Path. A ``dest`` that already has the right checksum is kept as is.

    Raises:
        DownloadError: every mirror failed; the message gives each reason and where to put
            the file by hand.

    Example:
        >>> import os, tempfile
        >>> p = os.path.join(tempfile.mkdtemp(), "f")
        >>> with open(p, "wb") as f: _ = f.write(b"x")
        >>> digest = sha256_file(p)
        >>> download_file("http://127.0.0.1:9/never-used", p, digest) == Path(p)  # already good
        True
    """
    dest = Path(dest)
    url_list = [urls] if isinstance(urls, str) else list(urls)
    if not url_list:
        raise ValueError(f"download_file: no URLs given for {dest.name}")
    if len(sha256) != 64 or any(c not in "0123456789abcdefABCDEF" for c in sha256):
        raise ValueError(f"download_file: sha256 must be 64 hex digits, got {sha256!r}")
    if dest.is_file() and sha256_file(dest) == sha256.lower():
        return dest
    dest.parent.mkdir(parents=True, exist_ok=True)
    failures: list[str] = []
    show = _want_progress(progress)
    for url in url_list:
        try:
            _fetch_one(url, dest, sha256, timeout, show)
            return dest
        except DownloadError as e:
            failures.append(f"  {url}: {e}")
        except urllib.error.HTTPError as e:
            failures.append(f"  {url}: HTTP {e.code} {e.reason}")
        except urllib.error.URLError as e:
            failures.append(f"  {url}: {e.reason}")
        except (http.client.HTTPException, OSError, ValueError) as e:
            failures.append(f"  {url}: {type(e).__name__}: {e}")
    raise DownloadError(
        f"could not download {dest.name} from any mirror:\n"
        + "\n".join(failures)
        + f"\nIf this machine is offline, copy the file onto it by hand: place {dest.name} "
        f"at {dest} (SHA-256 {sha256.lower()})."
    )


@dataclass(frozen=True)
class RemoteFile:
    """A file a dataset needs: its name (on the mirrors and on disk) and its SHA-256.

    ``alternatives`` are other names accepted on disk (e.g. the uncompressed file).

    Example:
        >>> RemoteFile("a.gz", "0" * 64, ("a",)).candidates()
        ('a.gz', 'a')
    """

    name: str
    sha256: str
    alternatives: tuple[str, ...] = ()

    def candidates(self) -> tuple[str, ...]:
        """The file names accepted on disk, preferred first.

        Example:
            >>> RemoteFile("b", "0" * 64).candidates()
            ('b',)
        """
        return (self.name, *self.alternatives)


def ensure_files(
    dataset: str,
    files: Sequence[RemoteFile],
    directory: str | os.PathLike[str],
    mirrors: Sequence[str],
    *,
    download: bool = False,
    search: Sequence[str | os.PathLike[str]] = (),
    progress: bool | None = None,
    timeout: float = 30.0,
) -> dict[str, Path]:
    """Find each file in ``directory`` (or ``search``), downloading the missing ones if asked.

    Files already on disk are used as they are (the format readers check them); downloads
    are verified by SHA-256. With ``download=False`` a missing file raises
    ``FileNotFoundError`` listing every missing file, where to place it and where to get it.

    Returns:
        ``{file.name: path found or downloaded}``.

    Example:
        >>> import os, tempfile
        >>> d = tempfile.mkdtemp(); open(os.path.join(d, "a"), "wb").close()
        >>> found = ensure_files("demo", [RemoteFile("a.gz", "0" * 64, ("a",))], d, [])
        >>> found["a.gz"].name
        'a'
    """
    directory = Path(directory).expanduser()
    dirs = [directory, *(Path(s).expanduser() for s in search)]
    found: dict[str, Path] = {}
    missing: list[RemoteFile] = []
    for f in files:
        hit = next((d / c for d in dirs for c in f.candidates() if (d / c).is_file()), None)
        if hit is None:
            missing.append(f)
        else:
            found[f.name] = hit
    if not missing:
        return found
    if not download:
        lines = "\n".join(f"  {directory / f.name}  (SHA-256 {f.sha256})" for f in missing)
        where = "\n".join(f"  {m}" for m in mirrors) or "  (no mirrors configured)"
        raise FileNotFoundError(
            f"{dataset}: {len(missing)} file(s) missing. Place them here (gzip or uncompressed):\n"
            f"{lines}\nor pass download=True to fetch them from:\n{where}\n"
            "(the directory is data_dir=, else $GRADFIT_DATA, else ~/.cache/gradfit)"
        )
    if not mirrors:
        raise DownloadError(f"{dataset}: download=True but no mirrors are configured")
    errors: list[str] = []
    for f in missing:
        urls = [m.rstrip("/") + "/" + f.name for m in mirrors]
        try:
            found[f.name] = download_file(
                urls, directory / f.name, f.sha256, timeout=timeout, progress=progress
            )
        except DownloadError as e:
            errors.append(str(e))
    if errors:
        raise DownloadError(f"{dataset}: download failed.\n" + "\n".join(errors))
    return found


def data_home(data_dir: str | os.PathLike[str] | None = None) -> Path:
    """Where datasets live: ``data_dir``, else ``$GRADFIT_DATA``, else ``~/.cache/gradfit``.

    Example:
        >>> data_home("/tmp/somewhere")
        PosixPath('/tmp/somewhere')
    """
    if data_dir is not None:
        return Path(data_dir).expanduser()
    env = os.environ.get("GRADFIT_DATA")
    if env:
        return Path(env).expanduser()
    return Path.home() / ".cache" / "gradfit"
