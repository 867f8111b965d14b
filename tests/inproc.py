"""Run the ``gradfit`` command in this process (cheap enough for hundreds of examples)."""

from __future__ import annotations

import contextlib
import io
from dataclasses import dataclass

TINY = ["--epochs", "1", "--hidden", "4", "--no-baselines", "--quiet"]


@dataclass
class Result:
    returncode: int
    stdout: str
    stderr: str


def run_cli(*argv: str) -> Result:
    """``gradfit *argv`` in-process: the exit code and what it printed."""
    from gradfit.cli.main import main

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = main(list(argv))
        except SystemExit as e:  # argparse's --help / usage errors inside subcommands
            code = e.code if isinstance(e.code, int) else (0 if e.code is None else 2)
    return Result(int(code), out.getvalue(), err.getvalue())


def refused(r: Result, *needles: str) -> bool:
    """Exit 2, one line on stderr, no traceback, and every needle in that line."""
    lines = [ln for ln in r.stderr.splitlines() if ln.strip()]
    return (
        r.returncode == 2
        and "Traceback" not in r.stderr
        and len(lines) == 1
        and all(n in lines[0] for n in needles)
    )
