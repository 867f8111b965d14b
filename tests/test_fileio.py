"""gradfit.fileio.atomic_write: content, interruption, missing folders, and the modules re-using it."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from gradfit.fileio import atomic_write


def test_atomic_write_keeps_old_file_when_interrupted(tmp_path, monkeypatch):
    path = tmp_path / "f.bin"
    atomic_write(path, b"good")

    def boom(*a, **k):
        raise KeyboardInterrupt

    monkeypatch.setattr(os, "replace", boom)
    with pytest.raises(KeyboardInterrupt):
        atomic_write(path, b"new-but-interrupted")
    assert path.read_bytes() == b"good"
    assert [p.name for p in tmp_path.iterdir()] == ["f.bin"]  # no temporary left behind


def test_failed_write_removes_the_temporary_file(tmp_path, monkeypatch):
    path = tmp_path / "f.bin"

    def no_space(*a, **k):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", no_space)
    with pytest.raises(OSError, match="No space"):
        atomic_write(path, b"data")
    assert list(tmp_path.iterdir()) == []


def test_text_is_written_as_utf8_and_the_path_returned(tmp_path):
    out = atomic_write(str(tmp_path / "t.txt"), "héllo")
    assert out == tmp_path / "t.txt"
    assert isinstance(out, Path)
    assert out.read_bytes() == "héllo".encode()


def test_overwrites_an_existing_file(tmp_path):
    path = tmp_path / "f.txt"
    path.write_text("old content that is longer")
    atomic_write(path, "new")
    assert path.read_text() == "new"


def test_missing_parents_are_created_by_default(tmp_path):
    path = tmp_path / "a" / "b" / "f.bin"
    atomic_write(path, b"x")
    assert path.read_bytes() == b"x"


def test_missing_folder_is_an_error_with_parents_false(tmp_path):
    path = tmp_path / "missing" / "f.bin"
    with pytest.raises(FileNotFoundError, match="missing"):
        atomic_write(path, b"x", parents=False)
    assert not path.parent.exists()


def test_the_directory_is_fsynced_after_the_rename(tmp_path, monkeypatch):
    synced = []
    real_fsync = os.fsync

    def spy(fd):
        synced.append(stat.S_ISDIR(os.fstat(fd).st_mode))
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", spy)
    atomic_write(tmp_path / "f.bin", b"x")
    assert synced == [False, True]  # the file, then its directory


def test_checkpoint_reexports_it_and_viz_refuses_a_missing_folder(tmp_path):
    from gradfit.train import checkpoint
    from gradfit.viz import _util

    assert checkpoint.atomic_write is atomic_write
    with pytest.raises(FileNotFoundError, match="does not exist"):
        _util.atomic_write(tmp_path / "missing" / "f.png", b"x")
    assert _util.atomic_write(tmp_path / "f.svg", "<svg/>").read_text() == "<svg/>"
