"""Time per sample against batch size, one panel per hidden width, from a suite run.

Run: ``python -m benchmarks.plot [benchmarks/results/results.json] [out.png]`` (the suite
calls :func:`plot` itself). Uses matplotlib's Agg backend (no display needed).
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
from pathlib import Path
from typing import Any

NAMES = {"gemm": "matrix products alone", "numpy": "NumPy (hand-written)", "gradfit": "gradfit",
         "torch": "PyTorch eager"}  # fmt: skip
STYLES = {"gemm": "k:", "numpy": "s-", "gradfit": "o-", "torch": "^-"}


def plot(report: dict[str, Any], path: Path) -> Path | None:
    """Draw the sweep of ``report`` to ``path`` (PNG, written atomically); None if impossible."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return None
    sweep: dict[int, dict[str, list[tuple[int, float]]]] = {}
    for key, res in report["results"].items():
        if not key.startswith("sweep_"):
            continue
        for label, v in res.items():
            p = v["params"]
            per = v["median"] / v["work"] * 1e6
            sweep.setdefault(p["width"], {}).setdefault(label, []).append((p["batch"], per))
    if not sweep:
        return None
    widths = sorted(sweep)
    fig, axes = plt.subplots(1, len(widths), figsize=(4.5 * len(widths), 4), squeeze=False)
    for ax, w in zip(axes[0], widths, strict=True):
        for label, pts in sweep[w].items():
            pts.sort()
            ax.plot([b for b, _ in pts], [t for _, t in pts], STYLES.get(label, "-"),
                    label=NAMES.get(label, label))  # fmt: skip
        ax.set_xscale("log", base=2)
        ax.set_yscale("log")
        ax.set_xlabel("batch size")
        ax.set_title(f"784-{w}-{max(w // 2, 1)}-10")
        ax.grid(True, which="both", alpha=0.3)
    axes[0][0].set_ylabel("training time per sample (µs)")
    axes[0][-1].legend(fontsize=8)
    meta = report.get("meta", {})
    fig.suptitle(f"MLP training step, {meta.get('threads', '?')} thread(s) per contender")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            fig.savefig(f, format="png", dpi=100)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o644)  # mkstemp makes it private; results are for reading
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    finally:
        plt.close(fig)
    return path


def main() -> None:
    src = Path(sys.argv[1]) if len(sys.argv) > 1 else Path("benchmarks/results/results.json")
    dst = Path(sys.argv[2]) if len(sys.argv) > 2 else src.with_name("time_per_sample.png")
    out = plot(json.loads(src.read_text()), dst)
    print(out if out else "nothing to plot (no sweep in the results, or no matplotlib)")


if __name__ == "__main__":
    main()
