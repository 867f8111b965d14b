"""The README's MNIST-1D results, run with the README's own commands.

The commands are read from the README's Results table, so the table and these tests
cannot drift apart. Each run is seeded: the number it reaches is the one a user gets.
"""

from __future__ import annotations

import json
import re
import shlex
from pathlib import Path

import pytest

from clirun import gradfit

README = Path(__file__).resolve().parents[2] / "README.md"

pytest.importorskip("mnist1d")


def _command(data: str, network: str) -> list[str]:
    """The ``gradfit train ...`` command of the Results row for ``data`` and ``network``."""
    for line in README.read_text().splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) >= 3 and cells[0] == data and cells[2].startswith(network):
            match = re.match(r"`gradfit (train [^`]+)`", cells[1])
            assert match, f"README row for {data} {network}: no `gradfit train ...` command"
            return shlex.split(match.group(1))
    raise AssertionError(f"README: no Results row for {data} / {network}")


@pytest.mark.parametrize("network,target", [("CNN", 0.94), ("MLP", 0.68)])
def test_mnist1d_reaches_the_published_accuracy(tmp_path, network, target):
    cmd = _command("MNIST-1D", network)
    out = tmp_path / "run"
    r = gradfit(*cmd, "--quiet", "--no-baselines", "--out", str(out), timeout=600)
    assert r.returncode == 0, r.stderr
    acc = json.loads((out / "metrics.json").read_text())["test_accuracy"]
    assert acc >= target, f"{' '.join(cmd)}: test accuracy {acc:.4f} < {target}"
