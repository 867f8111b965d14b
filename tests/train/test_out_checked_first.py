"""``gf.train.run`` refuses a bad ``out`` before it loads any data (the CLI's --out)."""

from __future__ import annotations

import subprocess
import sys


def test_bad_out_is_refused_before_the_dataset_is_loaded(tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    code = (
        "import sys\n"
        "import gradfit as gf\n"
        "from gradfit.cli.main import UsageError\n"
        f"try:\n    gf.train.run({{'out': {str(blocker / 'run')!r}}})\n"
        "except UsageError as e:\n    print('refused:', e)\n"
        "print('digits loaded:', 'sklearn.datasets' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, cwd=tmp_path).stdout  # fmt: skip
    assert "refused: --out" in out and "is not a directory" in out
    assert "digits loaded: False" in out
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a-file"]  # nothing written
