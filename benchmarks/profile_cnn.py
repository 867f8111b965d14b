"""Where a LeNet training step's time goes: wall and CPU ms per op (forward, backward), per step.

Run from the repository root (one process; threads as ``gf.set_num_threads``)::

    PYTHONPATH=src python -m benchmarks.profile_cnn --threads 1
    PYTHONPATH=src python -m benchmarks.profile_cnn --threads 2 --steps 30
    PYTHONPATH=src python -m benchmarks.profile_cnn --unfused   # ReLU and pooling as ops of their own

Every ``Function`` subclass's ``forward`` and ``backward`` is wrapped with a timer (wall
time of the calling thread; nested calls are counted in both). The rest of the step
(optimizer, loader, graph walk) is "other". Also printed: the process CPU time per step
(all threads: above the wall time when the pool works in parallel) and minor page faults.
"""

from __future__ import annotations

import argparse
import os
import resource
import time
from collections import defaultdict
from typing import Any


def _subclasses(cls: type) -> list[type]:
    out = []
    for c in cls.__subclasses__():
        out.append(c)
        out += _subclasses(c)
    return out


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--steps", type=int, default=20)
    ap.add_argument("--batch", type=int, default=128)
    ap.add_argument("--unfused", action="store_true",
                    help="run the model's modules one by one (no fused Conv2d -> ReLU -> MaxPool2d)")  # fmt: skip
    a = ap.parse_args(argv)
    for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(var, str(a.threads))
    import numpy as np

    import gradfit as gf
    import gradfit.nn.functional as F
    from benchmarks.contenders.gradfit_impl import lenet
    from gradfit.autograd import Function

    gf.set_num_threads(a.threads)
    gf.manual_seed(0)
    rng = np.random.default_rng(0)
    x = gf.tensor(rng.standard_normal((a.batch, 1, 28, 28)).astype(np.float32))
    y = gf.tensor(rng.integers(0, 10, a.batch))
    model = lenet(28)
    opt = gf.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)

    def forward(h: Any) -> Any:
        if not a.unfused:
            return model(h)  # the Sequential fuses Conv2d -> ReLU -> MaxPool2d
        for m in model:
            h = m(h)
        return h

    def step() -> None:
        opt.zero_grad()
        F.cross_entropy(forward(x), y).backward()
        opt.step()

    for _ in range(3):
        step()
    acc: dict[str, float] = defaultdict(float)
    cpu_acc: dict[str, float] = defaultdict(float)

    def wrap(cls: type, name: str) -> None:
        fn = cls.__dict__[name]

        def timed(self: Any, *args: Any, **kwargs: Any) -> Any:
            t0, c0 = time.perf_counter(), time.thread_time()
            try:
                return fn(self, *args, **kwargs)
            finally:
                key = f"{cls.__name__}.{name}"
                acc[key] += time.perf_counter() - t0
                cpu_acc[key] += time.thread_time() - c0

        setattr(cls, name, timed)

    # the pool's work: CPU per task (task 0 runs on the calling thread) and the calling
    # thread's CPU inside parallel runs (the rest of its CPU is the serial part of the step)
    from gradfit import threads

    real_run_all = threads.run_all
    task_cpu: dict[int, float] = defaultdict(float)
    in_pool = [0.0]
    # waits, per parallel region: "start" = from the region's start until a pool task began
    # (waking a pool thread); "off-CPU" = wall minus CPU inside the tasks (waiting for the
    # GIL, or descheduled on a busy machine); "tail" = the caller's wait for the others after
    # its own task (imbalance); "regions" counts them
    waits: dict[str, float] = defaultdict(float)

    def task(fn: Any, i: int, t_start: float) -> Any:
        def run() -> Any:
            w0, c0 = time.perf_counter(), time.thread_time()
            if i:
                waits["start"] += w0 - t_start
            try:
                return fn()
            finally:
                task_cpu[i] += time.thread_time() - c0
                waits["off-CPU"] += (time.perf_counter() - w0) - (time.thread_time() - c0)
                if i == 0:
                    waits["_caller_done"] = time.perf_counter()

        return run

    def run_all(fns: Any, **kw: Any) -> Any:
        if len(fns) <= 1:
            return real_run_all(fns, **kw)
        c0, w0 = time.thread_time(), time.perf_counter()
        try:
            return real_run_all([task(f, i, w0) for i, f in enumerate(fns)], **kw)
        finally:
            in_pool[0] += time.thread_time() - c0
            waits["tail"] += time.perf_counter() - waits.pop("_caller_done", time.perf_counter())
            waits["regions"] += 1

    threads.run_all = run_all

    for cls in _subclasses(Function):
        for name in ("forward", "backward"):
            if name in cls.__dict__:
                wrap(cls, name)
    waits.clear()
    task_cpu.clear()
    in_pool[0] = 0.0
    r0 = resource.getrusage(resource.RUSAGE_SELF)
    c0, t0, m0 = time.process_time(), time.perf_counter(), time.thread_time()
    for _ in range(a.steps):
        step()
    wall = (time.perf_counter() - t0) / a.steps * 1e3
    cpu = (time.process_time() - c0) / a.steps * 1e3
    main_cpu = (time.thread_time() - m0) / a.steps * 1e3
    faults = (resource.getrusage(resource.RUSAGE_SELF).ru_minflt - r0.ru_minflt) / a.steps
    print(f"LeNet step, batch {a.batch}, {a.threads} thread(s), {a.steps} steps; "
          f"load {' '.join(f'{v:.2f}' for v in os.getloadavg())}")  # fmt: skip
    print(f"wall {wall:.1f} ms/step, CPU {cpu:.1f} ms/step (calling thread {main_cpu:.1f}), "
          f"{faults:.0f} minor faults/step")  # fmt: skip
    if not a.unfused:
        print("ReLU and 2x2 max pooling run inside ConvNd (fused; --unfused times them apart)")
    if task_cpu:
        serial = main_cpu - in_pool[0] / a.steps * 1e3
        tasks = ", ".join(f"{v / a.steps * 1e3:.1f}" for _, v in sorted(task_cpu.items()))
        print(f"serial (calling thread outside the pool) {serial:.1f} ms/step = {serial / cpu:.0%} "
              f"of the CPU; CPU ms/step of pool task 0, 1, ...: {tasks}")  # fmt: skip
        per = {k: v / a.steps * 1e3 for k, v in waits.items() if k != "regions"}
        print(f"waits ms/step over {waits['regions'] / a.steps:.0f} parallel regions: "
              f"pool task start {per.get('start', 0):.1f}, off-CPU inside tasks (GIL or "
              f"descheduled) {per.get('off-CPU', 0):.1f}, caller waiting for the others "
              f"{per.get('tail', 0):.1f}")  # fmt: skip
    print()
    print("| op | wall ms / step | share | calling thread's CPU ms / step |\n|---|---|---|---|")
    total = cpu_total = 0.0
    for k, v in sorted(acc.items(), key=lambda kv: -kv[1]):
        ms, cms = v / a.steps * 1e3, cpu_acc[k] / a.steps * 1e3
        total += ms
        cpu_total += cms
        if ms >= 0.05:
            print(f"| {k} | {ms:.2f} | {ms / wall:.0%} | {cms:.2f} |")
    print(f"| other (optimizer, graph walk, loader, ...) | {wall - total:.2f} | "
          f"{(wall - total) / wall:.0%} | {main_cpu - cpu_total:.2f} |")  # fmt: skip


if __name__ == "__main__":
    main()
