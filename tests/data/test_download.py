"""Downloads: checksummed, atomic, from mirrors; every failure leaves the good file alone."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest

from gradfit.data.download import (
    DownloadError,
    RemoteFile,
    data_home,
    download_file,
    ensure_files,
    sha256_file,
)

BODY = bytes(range(256)) * 400  # 100 KiB
DIGEST = hashlib.sha256(BODY).hexdigest()


def _leftovers(d: Path) -> list[str]:
    return sorted(p.name for p in d.iterdir())


def test_success_writes_verified_file(http_server, tmp_path):
    http_server.routes["/f.bin"] = ("ok", BODY)
    dest = tmp_path / "sub" / "f.bin"
    out = download_file(f"{http_server.url}/f.bin", dest, DIGEST, progress=False)
    assert out == dest
    assert dest.read_bytes() == BODY
    assert _leftovers(dest.parent) == ["f.bin"]  # no temporary file left behind


def test_checksum_mismatch_leaves_nothing(http_server, tmp_path):
    http_server.routes["/f.bin"] = ("ok", BODY[:-1] + b"x")
    dest = tmp_path / "f.bin"
    with pytest.raises(DownloadError, match="checksum mismatch") as e:
        download_file(f"{http_server.url}/f.bin", dest, DIGEST, progress=False)
    assert str(dest) in str(e.value)  # says where to place the file by hand
    assert DIGEST in str(e.value)
    assert _leftovers(tmp_path) == []


def test_connection_refused_leaves_nothing(refused_url, tmp_path):
    dest = tmp_path / "f.bin"
    with pytest.raises(DownloadError, match="offline") as e:
        download_file(f"{refused_url}/f.bin", dest, DIGEST, progress=False, timeout=5)
    assert "refused" in str(e.value).lower()
    assert _leftovers(tmp_path) == []


def test_interrupted_transfer_leaves_nothing(http_server, tmp_path):
    http_server.routes["/f.bin"] = ("half", BODY)
    dest = tmp_path / "f.bin"
    with pytest.raises(DownloadError, match="closed after 51200 of 102400 bytes|IncompleteRead"):
        download_file(f"{http_server.url}/f.bin", dest, DIGEST, progress=False, timeout=5)
    assert _leftovers(tmp_path) == []


@pytest.mark.parametrize("kind", ["bad", "half", "refused", "missing"])
def test_failure_never_touches_existing_file(http_server, refused_url, tmp_path, kind):
    """A file already at the destination (not matching the digest) survives every failure."""
    dest = tmp_path / "f.bin"
    dest.write_bytes(b"the user's older copy")
    before = os.stat(dest)
    routes = {"bad": ("ok", b"wrong"), "half": ("half", BODY)}
    if kind in routes:
        http_server.routes["/f.bin"] = routes[kind]
    base = refused_url if kind == "refused" else http_server.url
    with pytest.raises(DownloadError):
        download_file(f"{base}/f.bin", dest, DIGEST, progress=False, timeout=5)
    assert dest.read_bytes() == b"the user's older copy"
    assert os.stat(dest).st_ino == before.st_ino
    assert _leftovers(tmp_path) == ["f.bin"]


def test_existing_good_file_is_kept_without_network(refused_url, tmp_path):
    dest = tmp_path / "f.bin"
    dest.write_bytes(BODY)
    ino = os.stat(dest).st_ino
    assert download_file(f"{refused_url}/f.bin", dest, DIGEST, progress=False) == dest
    assert os.stat(dest).st_ino == ino


def test_second_mirror_used_when_first_fails(http_server, refused_url, tmp_path):
    http_server.routes["/m2/f.bin"] = ("ok", BODY)
    http_server.routes["/m1/f.bin"] = ("half", BODY)
    dest = tmp_path / "f.bin"
    urls = [f"{refused_url}/f.bin", f"{http_server.url}/m1/f.bin", f"{http_server.url}/m2/f.bin"]
    download_file(urls, dest, DIGEST, progress=False, timeout=5)
    assert sha256_file(dest) == DIGEST
    assert _leftovers(tmp_path) == ["f.bin"]


def test_all_mirrors_reported(http_server, refused_url, tmp_path):
    http_server.routes["/f.bin"] = ("ok", b"wrong")
    urls = [f"{refused_url}/f.bin", f"{http_server.url}/f.bin", f"{http_server.url}/none.bin"]
    with pytest.raises(DownloadError) as e:
        download_file(urls, tmp_path / "f.bin", DIGEST, progress=False, timeout=5)
    msg = str(e.value)
    assert all(u in msg for u in urls)
    assert "HTTP 404" in msg and "checksum mismatch" in msg


def test_bad_arguments():
    with pytest.raises(ValueError, match="64 hex"):
        download_file("http://127.0.0.1/x", "/tmp/x", "abc")
    with pytest.raises(ValueError, match="no URLs"):
        download_file([], "/tmp/x", DIGEST)


def test_ensure_files_downloads_missing_and_keeps_present(http_server, tmp_path):
    other = b"second file"
    http_server.routes["/a.bin"] = ("ok", BODY)
    http_server.routes["/b.bin"] = ("ok", other)
    (tmp_path / "b.bin").write_bytes(b"present already")  # used as is, not re-downloaded
    files = [RemoteFile("a.bin", DIGEST), RemoteFile("b.bin", hashlib.sha256(other).hexdigest())]
    found = ensure_files("demo", files, tmp_path, [http_server.url], download=True, progress=False)
    assert found["a.bin"].read_bytes() == BODY
    assert found["b.bin"].read_bytes() == b"present already"


def test_ensure_files_offline_message_lists_files_and_places(tmp_path, refused_url):
    files = [RemoteFile("a.gz", DIGEST, ("a",)), RemoteFile("b.gz", DIGEST)]
    with pytest.raises(FileNotFoundError) as e:
        ensure_files("demo", files, tmp_path / "demo", [refused_url], download=False)
    msg = str(e.value)
    assert str(tmp_path / "demo" / "a.gz") in msg and str(tmp_path / "demo" / "b.gz") in msg
    assert "download=True" in msg
    with pytest.raises(DownloadError) as e:
        ensure_files("demo", files, tmp_path / "demo", [refused_url], download=True, timeout=5)
    assert str(tmp_path / "demo" / "a.gz") in str(e.value)
    assert not any((tmp_path / "demo").iterdir())


def test_data_home_order(monkeypatch, tmp_path):
    monkeypatch.setenv("GRADFIT_DATA", str(tmp_path / "env"))
    assert data_home(tmp_path / "explicit") == tmp_path / "explicit"
    assert data_home() == tmp_path / "env"
    monkeypatch.delenv("GRADFIT_DATA")
    assert data_home() == Path.home() / ".cache" / "gradfit"
