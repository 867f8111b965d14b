"""Where a sequence model's training step goes: ms per op (forward, backward), per step.

The workloads are ``benchmarks.bench_seq``'s (the transformer or the GRU step), one thread.
Run from the repository root::

    PYTHONPATH=src OPENBLAS_NUM_THREADS=1 python -m benchmarks.profile_seq
    PYTHONPATH=src OPENBLAS_NUM_THREADS=1 python -m benchmarks.profile_seq --workload gru
    GRADFIT_JIT=0 ...  # the NumPy paths only (no compiled kernels)

Every ``Function`` subclass's ``forward`` and ``backward`` is wrapped with a timer (wall
time; nested calls are counted in both), and so is the optimizer's ``step``; the rest of
the step (module code, graph walk, ``zero_grad``) is "other". The step time without the
timers is printed first (the timers add a few microseconds per call).
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from collections import defaultdict
from typing import Any

from benchmarks.profile_cnn import _subclasses


def _median_step(step: Any, n: int) -> float:
    ts = []
    for _ in range(n):
        t = time.perf_counter()
        step()
        ts.append(time.perf_counter() - t)
    return statistics.median(ts)


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--workload", default="transformer", choices=["transformer", "gru"])
    ap.add_argument("--steps", type=int, default=20)
    a = ap.parse_args(argv)
    for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(var, "1")
    import gradfit as gf
    from benchmarks.bench_seq import WORKLOADS
    from gradfit import kernels
    from gradfit.autograd import Function

    gf.set_num_threads(1)
    step = WORKLOADS[a.workload]("gradfit")
    for _ in range(3):
        step()
    plain = _median_step(step, a.steps) * 1e3
    acc: dict[str, float] = defaultdict(float)
    calls: dict[str, int] = defaultdict(int)

    def wrap(cls: type, name: str, label: str) -> None:
        fn = cls.__dict__[name]

        def timed(self: Any, *args: Any, **kwargs: Any) -> Any:
            t0 = time.perf_counter()
            try:
                return fn(self, *args, **kwargs)
            finally:
                acc[label] += time.perf_counter() - t0
                calls[label] += 1

        setattr(cls, name, timed)

    for cls in _subclasses(Function):
        for name in ("forward", "backward"):
            if name in cls.__dict__:
                wrap(cls, name, f"{cls.__name__}.{name}")
    for cls in _subclasses(gf.optim.Optimizer):
        if "step" in cls.__dict__:
            wrap(cls, "step", f"{cls.__name__}.step (optimizer)")
    t0 = time.perf_counter()
    for _ in range(a.steps):
        step()
    wall = (time.perf_counter() - t0) / a.steps * 1e3
    load = " ".join(f"{v:.2f}" for v in os.getloadavg())
    print(f"{a.workload} step, 1 thread, {a.steps} steps, kernels "
          f"{'on' if kernels.enabled() else 'off'}; load {load}")  # fmt: skip
    print(f"median {plain:.1f} ms/step without timers; {wall:.1f} ms/step (mean) with them\n")
    print("| op | calls / step | ms / step | share |\n|---|---|---|---|")
    total = 0.0
    for k, v in sorted(acc.items(), key=lambda kv: -kv[1]):
        ms = v / a.steps * 1e3
        total += ms
        if ms >= 0.05:
            print(f"| {k} | {calls[k] / a.steps:.0f} | {ms:.2f} | {ms / wall:.0%} |")
    print(f"| other (module code, graph walk, zero_grad) | - | {wall - total:.2f} | "
          f"{(wall - total) / wall:.0%} |")  # fmt: skip


if __name__ == "__main__":
    main()
