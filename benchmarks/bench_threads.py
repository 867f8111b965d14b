"""Thread scaling: the same epoch at 1, 2, ... threads, gradfit and PyTorch side by side.

Run from the repository root::

    python -m benchmarks.bench_threads                      # LeNet epoch, 1 and 2 threads
    python -m benchmarks.bench_threads --threads 1,2,4 --n 2560 --reps 5
    python -m benchmarks.bench_threads --scenario cnn1d_epoch --batch 100 --n 2000
    python -m benchmarks.bench_threads --scenario mlp_epoch --n 6400
    python -m benchmarks.bench_threads --scenario conv_transpose_steps --n 320 --batch 64 \
        --params '{"cin": 64, "cout": 32, "side": 8}'

Every (contender, threads) pair runs in its own process (``benchmarks/worker.py``, with
``OPENBLAS/OMP/MKL_NUM_THREADS`` set to the count; gradfit's default ``gf.get_num_threads()``
follows ``OMP_NUM_THREADS`` as PyTorch's does). All processes are alive together; after
one warm-up each, every repetition runs each lane once, in an order shuffled anew each time
(seeded), so a slow phase of a shared machine hits every lane, and each lane starts after a
pause (``--settle``, 0.3 s) in which the previous lane's threads stop: PyTorch's OpenMP
threads spin on for a while after its lane, and the lane right after it ran differently
(about 5 % faster for gradfit's LeNet at two threads in an A/A run of one checkout in two
lanes, 1.6x slower for its MLP, whose OpenBLAS threads then shared the cores with them).
In its turn, a lane first runs one untimed epoch, then the timed one (``--cold`` times the
first epoch after the pause instead): training runs epoch after epoch, and the first steps
after an idle pause are slower on this project's VMs, for gradfit's two threads more than
for PyTorch's (RESULTS.md). The table gives medians, the speed-up over one thread, the parallel
efficiency (speed-up / threads) and gradfit / PyTorch at each count, as a ratio of medians
and "paired": the median over repetitions of each repetition's own ratio (the two lanes of
a repetition ran seconds apart, so the host's slow and fast periods, which move every lane
by 20-60 % on this project's shared VMs, mostly cancel). ``--compare DIR`` adds a lane
running another checkout's ``src`` (e.g. the main branch) for A/B timing, with
gradfit / compare alike.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from benchmarks import run
from benchmarks.machine import describe


class _Lane(run.Worker):
    """A contender process at a thread count, importing gradfit from ``src`` (ours by default)."""

    def __init__(self, contender: str, threads: int, src: Path | None = None) -> None:
        env = dict(os.environ)
        for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
            env[var] = str(threads)
        env["GRADFIT_BENCH_THREADS"] = str(threads)
        env["PYTHONPATH"] = os.pathsep.join([str(run.ROOT), str(src or run.ROOT / "src")])
        self.contender = contender
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "benchmarks.worker", contender],
            cwd=run.ROOT,
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        self._read()  # "ready"


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--scenario", default="lenet_epoch")
    ap.add_argument("--n", type=int, default=1280, help="samples per epoch")
    ap.add_argument("--batch", type=int, default=128)
    ap.add_argument("--width", type=int, default=512, help="hidden width (mlp_epoch)")
    ap.add_argument("--params", default="{}", help="more scenario parameters, as JSON")
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--threads", default="1,2", help="comma-separated thread counts")
    ap.add_argument("--contenders", default="gradfit,torch")
    ap.add_argument("--compare", type=Path, default=None, help="another checkout's root")
    ap.add_argument("--settle", type=float, default=0.3, help="seconds of pause before each lane")
    ap.add_argument("--cold", action="store_true", help="time the first epoch after the pause")
    a = ap.parse_args(argv)
    counts = [int(t) for t in a.threads.split(",")]
    lanes: dict[tuple[str, int], _Lane] = {}
    names = [c for c in a.contenders.split(",") if c]
    params: dict[str, Any] = {"n": a.n, "batch": a.batch, "width": a.width, "seed": 0}
    params.update(json.loads(a.params))
    load0 = os.getloadavg()
    t_start = time.time()
    try:
        for t in counts:
            for c in names:
                lanes[(c, t)] = _Lane(c, t)
            if a.compare is not None:
                lanes[("compare", t)] = _Lane("gradfit", t, a.compare / "src")
        for lane in lanes.values():
            lane.ask("setup", scenario=a.scenario, params=params)
            lane.ask("run")  # warm-up
        times: dict[tuple[str, int], list[float]] = {k: [] for k in lanes}
        keys = list(lanes)
        shuffler = random.Random(0)
        for _ in range(a.reps):
            order = shuffler.sample(keys, len(keys))
            for k in order:
                time.sleep(a.settle)  # the previous lane's spinning threads go to sleep
                if not a.cold:
                    lanes[k].ask("run")  # untimed: the lane's cores and caches are warm again
                times[k].append(lanes[k].ask("run")["seconds"])
    finally:
        for lane in lanes.values():
            lane.close()
    load1 = os.getloadavg()
    info = describe()
    print(
        f"\n## Thread scaling: {a.scenario}, {a.n} samples, batch {a.batch}, median of {a.reps}"
        f" (lanes shuffled, each after a {a.settle:g} s pause, "
        f"{'the first epoch after it' if a.cold else 'after one untimed epoch'})\n"
    )
    print(f"- cpu: {info['cpu']}; cores: {info['cores']}; BLAS: {info.get('blas', '?')}")
    print(f"- load average before / after: {' '.join(f'{x:.2f}' for x in load0)} / "
          f"{' '.join(f'{x:.2f}' for x in load1)}; wall time {time.time() - t_start:.0f} s\n")  # fmt: skip
    med = {k: statistics.median(v) for k, v in times.items()}
    lane_names = sorted({k[0] for k in keys}, key=lambda s: (s != "gradfit", s))
    head = "| threads | " + " | ".join(
        f"{c} (s) | {c} speed-up | {c} efficiency" for c in lane_names
    )
    # ratios of medians, and the median of each repetition's own ratio: the two lanes of a
    # repetition ran seconds apart, so the host's slow and fast periods (which move every
    # lane by 20-60 % on the shared VM) mostly cancel in the paired figure
    pairs = [(a_, b_) for a_, b_ in (("gradfit", "torch"), ("gradfit", "compare"))
             if a_ in lane_names and b_ in lane_names]  # fmt: skip
    for a_, b_ in pairs:
        head += f" | {a_} / {b_} | {a_} / {b_}, paired"
    print(head + " |")
    print("|" + "---|" * (1 + 3 * len(lane_names) + 2 * len(pairs)))
    for t in counts:
        row = [str(t)]
        for c in lane_names:
            base = med[(c, counts[0])] * counts[0]
            row += [f"{med[(c, t)]:.3f}", f"{base / med[(c, t)]:.2f}x",
                    f"{base / med[(c, t)] / t:.0%}"]  # fmt: skip
        for a_, b_ in pairs:
            ratios = [x / y for x, y in zip(times[(a_, t)], times[(b_, t)], strict=True)]
            row += [f"{med[(a_, t)] / med[(b_, t)]:.2f}", f"{statistics.median(ratios):.2f}"]
        print("| " + " | ".join(row) + " |")
    print("\nall timings (s):")
    for k in keys:
        print(f"  {k[0]}@{k[1]}: {', '.join(f'{x:.4g}' for x in times[k])}")


if __name__ == "__main__":
    main()
