"""The run-directory lock and the cleaning of stale temporary files (issue 16)."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from gradfit.fileio import LOCK_NAME, LockedError, atomic_write, run_lock


def test_a_second_writer_is_refused_while_the_first_runs(tmp_path):
    with run_lock(tmp_path):
        with pytest.raises(LockedError, match=f"pid {os.getpid()}"), run_lock(tmp_path):
            pass
        assert (tmp_path / LOCK_NAME).read_text() == str(os.getpid())
    assert not (tmp_path / LOCK_NAME).exists()


def test_a_lock_left_by_a_killed_process_is_taken_over(tmp_path):
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)  # fmt: skip
    (tmp_path / LOCK_NAME).write_text(dead.stdout.strip())
    with run_lock(tmp_path) as lock:
        assert lock.read_text() == str(os.getpid())


def test_garbage_in_the_lock_file_counts_as_stale(tmp_path):
    (tmp_path / LOCK_NAME).write_text("not a pid")
    with run_lock(tmp_path):
        pass


def test_a_folder_the_lock_created_is_removed_when_nothing_was_written(tmp_path):
    with run_lock(tmp_path / "new"):
        pass
    assert not (tmp_path / "new").exists()
    with run_lock(tmp_path / "kept"):
        atomic_write(tmp_path / "kept" / "a.txt", "x")
    assert os.listdir(tmp_path / "kept") == ["a.txt"]


def test_a_write_killed_mid_way_leaves_a_temp_file_the_next_lock_removes(tmp_path):
    code = (
        "import os, gradfit.fileio as f\n"
        "real = os.replace\n"
        "os.replace = lambda *a: os._exit(9)  # killed between the write and the rename\n"
        f"f.atomic_write({str(tmp_path / 'c.bin')!r}, b'x')\n"
    )
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path))
    subprocess.run([sys.executable, "-c", code], env=env, check=False)
    assert [n for n in os.listdir(tmp_path) if n.endswith(".tmp")]
    with run_lock(tmp_path):
        pass
    assert os.listdir(tmp_path) == []
