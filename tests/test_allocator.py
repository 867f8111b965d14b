"""gradfit.allocator: malloc thresholds raised at import on glibc, and the opt-out."""

import subprocess
import sys

import pytest

import gradfit as gf

CODE = "import gradfit, sys; sys.stdout.write(str(gradfit.allocator.tune_allocator()))"


def _run(env_value: str | None) -> str:
    import os

    env = dict(os.environ)
    env.pop("GRADFIT_MALLOC_TUNE", None)
    if env_value is not None:
        env["GRADFIT_MALLOC_TUNE"] = env_value
    return subprocess.run([sys.executable, "-c", CODE], env=env, capture_output=True,
                          text=True, check=True).stdout  # fmt: skip


@pytest.mark.skipif(sys.platform != "linux", reason="glibc's mallopt")
def test_tuned_at_import_on_linux_and_opt_out():
    assert _run(None) == "True"
    assert _run("0") == "False"


def test_idempotent():
    assert gf.allocator.tune_allocator() is gf.allocator.tune_allocator()
