"""Run the README's result commands over several seeds and write the table they come from.

``python -m benchmarks.results`` runs the default ``gradfit train`` on digits for seeds 0-9
and the MNIST-1D commands for seeds 0-2, in-process, and writes
``benchmarks/results/RESULTS_TABLE.md``: per command the seeds, the median, the min-max
spread, and the machine (CPU model, cores, NumPy version). ``--quick`` runs the digits
command for seeds 0-4 only. Figures vary a little by CPU: rerun this on yours.

Example:
    >>> spread([0.97, 0.99, 0.98])
    (0.98, 0.97, 0.99)
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np

MNIST1D_CNN = (
    "--data mnist1d --model cnn1d --optimizer adam --lr 0.01 --schedule cosine --epochs 150 "
    "--batch-size 100 --val-fraction 0 --shift 2"
)
MNIST1D_MLP = (
    "--data mnist1d --model mlp --hidden 256,256 --dropout 0 --optimizer adamw "
    "--weight-decay 0.05 --lr 0.01 --epochs 150 --batch-size 100 --val-fraction 0"
)
# (name, gradfit train options, metric, seeds, seeds with --quick)
COMMANDS = [
    ("digits (the default run)", "", "test_accuracy", range(10), range(5)),
    ("MNIST-1D CNN", MNIST1D_CNN, "test_accuracy", range(3), range(0)),
    ("MNIST-1D MLP", MNIST1D_MLP, "test_accuracy", range(3), range(0)),
]
OUT = Path(__file__).parent / "results" / "RESULTS_TABLE.md"


def spread(values: list[float]) -> tuple[float, float, float]:
    """Median, minimum and maximum of ``values``."""
    return float(statistics.median(values)), float(min(values)), float(max(values))


def cpu_model() -> str:
    """The CPU's model name (from /proc/cpuinfo where there is one)."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def run_one(options: str, seed: int, metric: str) -> tuple[float, float]:
    """One ``gradfit train`` run in-process; returns (metric, seconds)."""
    from gradfit.cli.main import main

    with tempfile.TemporaryDirectory() as tmp:
        argv = ["train", *options.split(), "--seed", str(seed), "--quiet", "--no-baselines"]
        t0 = time.perf_counter()
        code = main([*argv, "--out", str(Path(tmp) / "run")])
        seconds = time.perf_counter() - t0
        if code != 0:
            raise SystemExit(f"gradfit {' '.join(argv)} exited {code}")
        metrics = json.loads((Path(tmp) / "run" / "metrics.json").read_text())
    return float(metrics[metric]), seconds


def main(argv: list[str] | None = None) -> int:
    """Run the commands and write the table; returns the exit code."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="digits over seeds 0-4 only")
    parser.add_argument("--out", default=str(OUT), help=f"markdown file (default {OUT})")
    args = parser.parse_args(argv)
    os.environ.setdefault("MPLBACKEND", "Agg")
    lines = [
        "# gradfit results, measured by `python -m benchmarks.results`"
        + (" --quick" if args.quick else ""),
        "",
        f"Machine: {cpu_model()}, {os.cpu_count()} cores, NumPy {np.__version__}, "
        f"Python {platform.python_version()}",
        "",
        "| command | metric | seeds | median | min-max | per seed | seconds per run (median) |",
        "|---|---|---|---|---|---|---|",
    ]
    for name, options, metric, seeds, quick_seeds in COMMANDS:
        chosen = list(quick_seeds if args.quick else seeds)
        if not chosen:
            continue
        values, times = [], []
        for seed in chosen:
            value, seconds = run_one(options, seed, metric)
            values.append(value)
            times.append(seconds)
            print(f"{name} seed {seed}: {metric} {value:.4f} ({seconds:.1f} s)", flush=True)
        med, lo, hi = spread(values)
        per_seed = ", ".join(f"{100 * v:.1f}" for v in values)
        lines.append(
            f"| {name}: `{('gradfit train ' + options).strip()}`"
            + f" | {metric} | {chosen[0]}-{chosen[-1]} | {100 * med:.1f} % | "
            f"{100 * lo:.1f}-{100 * hi:.1f} % | {per_seed} | {statistics.median(times):.1f} |"
        )
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    from gradfit.fileio import atomic_write

    atomic_write(out, ("\n".join(lines) + "\n").encode())
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
