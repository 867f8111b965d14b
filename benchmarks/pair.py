"""Time one computation in gradfit and in PyTorch, each in its own single-thread process.

The parent starts one worker process per contender (BLAS, OpenMP and torch at one
thread, set before NumPy or torch is imported), then asks them for timing rounds in
turn (gradfit, torch, gradfit, ...), so that both see the same machine load. Each round
reports wall time and the process's CPU time; the table gives medians over rounds and
the median of the per-round ratios gradfit / torch. On a shared machine the CPU-time
ratio is the steadier one (time spent waiting for a core is not counted).

A benchmark module provides ``contenders(case) -> {name: callable}`` and calls
:func:`main`; ``python -m benchmarks.<module> --worker NAME --case CASE`` is the worker.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
THREAD_VARS = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")


def _worker(make: Callable[[str], dict[str, Callable[[], object]]], name: str, case: str) -> None:
    fn = make(case)[name]
    fn()  # warm-up
    print("@@ready", flush=True)
    for line in sys.stdin:
        calls = int(line)
        w0, c0 = time.perf_counter(), time.process_time()
        for _ in range(calls):
            fn()
        w1, c1 = time.perf_counter(), time.process_time()
        print("@@" + json.dumps({"wall": (w1 - w0) / calls, "cpu": (c1 - c0) / calls}), flush=True)


def _start(module: str, name: str, case: str) -> subprocess.Popen[str]:
    env = dict(os.environ)
    for var in THREAD_VARS:
        env[var] = "1"
    src = str(ROOT / "src")
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), src, env.get("PYTHONPATH", "")])
    cmd = [sys.executable, "-m", module, "--worker", name, "--case", case]
    proc = subprocess.Popen(
        cmd, cwd=ROOT, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    _read(proc)
    return proc


def _read(proc: subprocess.Popen[str]) -> str:
    assert proc.stdout is not None
    for line in proc.stdout:
        if line.startswith("@@"):
            return line[2:].strip()
    raise RuntimeError(f"benchmark worker exited with code {proc.wait()}")


def _round(proc: subprocess.Popen[str], calls: int) -> dict[str, float]:
    assert proc.stdin is not None
    proc.stdin.write(f"{calls}\n")
    proc.stdin.flush()
    return json.loads(_read(proc))


def run_case(
    module: str, case: str, names: list[str], rounds: int, calls: int
) -> dict[str, dict[str, list[float]]]:
    """Alternating rounds of ``calls`` calls; per contender the lists of wall and CPU seconds per call."""
    procs = {n: _start(module, n, case) for n in names}
    times: dict[str, dict[str, list[float]]] = {n: {"wall": [], "cpu": []} for n in names}
    try:
        for _ in range(rounds):
            for n, proc in procs.items():
                r = _round(proc, calls)
                times[n]["wall"].append(r["wall"])
                times[n]["cpu"].append(r["cpu"])
    finally:
        for proc in procs.values():
            assert proc.stdin is not None
            proc.stdin.close()
            proc.wait()
    return times


def table(times: dict[str, dict[str, list[float]]]) -> str:
    """A Markdown table: median ms (wall, CPU) and the median per-round ratio to torch."""
    rows = [
        "| contender | wall ms | CPU ms | wall ratio to torch | CPU ratio to torch |",
        "|---|---|---|---|---|",
    ]
    ref = times.get("torch")
    for n, t in times.items():
        ratios = []
        for kind in ("wall", "cpu"):
            if ref is None:
                ratios.append("-")
            else:
                ratios.append(
                    f"{statistics.median(a / b for a, b in zip(t[kind], ref[kind], strict=True)):.2f}"
                )
        rows.append(
            f"| {n} | {statistics.median(t['wall']) * 1e3:.3f} | {statistics.median(t['cpu']) * 1e3:.3f} "
            f"| {ratios[0]} | {ratios[1]} |"
        )
    return "\n".join(rows)


def main(
    module: str,
    doc: str,
    make: Callable[[str], dict[str, Callable[[], object]]],
    cases: dict[str, str],
    calls: Callable[[str, bool], int],
) -> None:
    """The command line of a paired benchmark: ``cases`` maps a case name to its title."""
    p = argparse.ArgumentParser(
        description=doc, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--case", choices=list(cases), action="append", help="default: all")
    p.add_argument("--quick", action="store_true", help="fewer rounds")
    p.add_argument("--rounds", type=int, help="alternating rounds (default 15, --quick 5)")
    p.add_argument("--worker", help=argparse.SUPPRESS)
    a = p.parse_args()
    if a.worker:
        _worker(make, a.worker, a.case[0])
        return
    from benchmarks.machine import describe, markdown

    rounds = a.rounds or (5 if a.quick else 15)
    info = describe()
    info["blas"] = info.get("blas", "").split(" (")[0] + " (1 thread in the workers)"
    info["torch"] = info.get("torch", "").split(" (")[0] + " (1 thread in the workers)"
    print(f"machine: {markdown(info)}; load average {os.getloadavg()[0]:.2f} (start)\n")
    for case in a.case or list(cases):
        times = run_case(module, case, ["gradfit", "torch"], rounds, calls(case, a.quick))
        print(f"## {cases[case]}\n")
        print(table(times))
        print(
            f"\n{rounds} alternating rounds, one thread each; load average {os.getloadavg()[0]:.2f}\n"
        )
