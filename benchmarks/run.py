"""The benchmark suite: gradfit side by side with hand-written NumPy, PyTorch eager and scikit-learn.

Run from the repository root::

    python -m benchmarks.run            # the full suite (about 5 to 10 minutes on 2 cores)
    python -m benchmarks.run --quick    # a short pass (under a minute)

Every contender runs in its own process (``benchmarks/worker.py``), one per contender and
group of scenarios, so thread pools and allocators never meet. Each scenario warms every
contender up once, then times ``reps`` repetitions, alternating the contenders and rotating
their order each round; the tables give medians and the ratios of medians. All contenders get
the same number of BLAS threads (``--threads``, 1 by default): ``OPENBLAS_NUM_THREADS``,
``OMP_NUM_THREADS`` and ``MKL_NUM_THREADS`` in the child's environment, and
``torch.set_num_threads`` for PyTorch. PyTorch and scikit-learn are optional; without them the
suite runs and says which contenders it skipped.

Outputs (in ``--out``, default ``benchmarks/results``, ``benchmarks/results/quick`` for
``--quick``): ``tables.md`` (the Markdown tables,
also printed), ``results.json`` (every timing) and ``time_per_sample.png`` (``benchmarks/plot.py``).

Scenarios:

1. MLP epoch: 784-512-256-10 ReLU, batch 128, SGD momentum 0.9, 60,000 random samples
   (gradfit, NumPy reference, PyTorch, scikit-learn ``MLPClassifier``); the same at batch 32.
2. Sweep: batch 16 to 1024 x hidden width 128/512/2048 (784-w-w/2-10): time per sample, the
   matrix products alone (the floor) and achieved GFLOP/s against the measured SGEMM rate.
3. LeNet-style CNN epoch on 10,000 28x28 inputs, batch 128 (gradfit, PyTorch).
4. MNIST-1D CNN epoch (``gf.models.cnn1d``), 4,000 inputs of length 40, batch 100.
4b. DCGAN upsampling layer: ConvTranspose2d(64, 32, 4, stride 2, padding 1), batch 64, 8x8 -> 16x16,
   forward + backward (target: within 1.3x of PyTorch single-thread).
5. Per-op overhead (a chain of small multiplications, forward + backward) and ``no_grad``
   inference throughput of the MLP at batch 1,024.
6. Peak memory (max RSS of the worker process) of the MLP and CNN epochs.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from benchmarks.contenders import common

ROOT = Path(__file__).resolve().parent.parent
TARGETS_TEXT = {
    "mlp_vs_numpy": ("MLP epoch, gradfit / NumPy reference", 1.10),
    "mlp_vs_torch": ("MLP epoch, gradfit / PyTorch", 0.90),
    "mlp32_vs_torch": ("MLP batch 32, gradfit / PyTorch", 1.00),
    "lenet_vs_torch": ("LeNet CNN epoch, gradfit / PyTorch", 1.30),
    "convt2d_vs_torch": ("ConvTranspose2d fwd+bwd (DCGAN layer), gradfit / PyTorch", 1.30),
    "mlp_mem_vs_numpy": ("MLP epoch peak RSS, gradfit / NumPy", 1.50),
}


# --------------------------------------------------------------------------- plan


@dataclass
class Lane:
    """One contender process in a session: ``label`` shown in tables, ``contender`` its module."""

    label: str
    contender: str
    scenario: str = ""  # default scenario name for this lane (a case may override)


@dataclass
class Case:
    """One measured scenario: the same params for every lane, ``work`` units per repetition."""

    key: str
    scenario: str
    params: dict[str, Any]
    lanes: list[str]
    reps: int
    work: float = 1.0  # e.g. samples per repetition, for time per sample
    memory: bool = False  # read the workers' peak RSS after this case (first case only)
    overrides: dict[str, str] = field(default_factory=dict)  # lane label -> scenario


@dataclass
class Session:
    name: str
    lanes: list[Lane]
    cases: list[Case]


def build_plan(mode: str) -> list[Session]:
    """The sessions and cases for ``mode`` in {'full', 'quick', 'smoke'}."""
    full, quick = mode == "full", mode == "quick"
    seed = 0
    reps = 5 if full else (3 if quick else 2)

    # 1. MLP epoch (and batch 32)
    n_mlp = 60_000 if full else (6_400 if quick else 256)
    n_b32 = 20_000 if full else (3_200 if quick else 64)
    mlp_lanes = ["gradfit", "numpy", "torch", "sklearn"]
    mlp = Session(
        "mlp",
        [Lane(x, x) for x in mlp_lanes],
        [
            Case(
                "mlp",
                "mlp_epoch",
                {"n": n_mlp, "batch": 128, "width": 512, "seed": seed},
                mlp_lanes,
                reps,
                work=n_mlp,
                memory=True,
            ),
            Case(
                "mlp_b32",
                "mlp_epoch",
                {"n": n_b32, "batch": 32, "width": 512, "seed": seed},
                ["gradfit", "numpy", "torch"],
                reps,
                work=n_b32,
            ),
        ],
    )

    # 2. batch x width sweep, with the GEMM floor and the machine's GEMM rate
    widths = (128, 512, 2048) if full else ((128, 512) if quick else (128,))
    batch_sizes = (16, 32, 64, 128, 256, 1024) if full else ((16, 128, 1024) if quick else (16, 64))
    sweep_lanes = ["gemm", "numpy", "gradfit", "torch"]
    gemm_size = 1024 if mode != "smoke" else 128
    cases = [
        Case(
            "gemm_rate",
            "gemm_rate",
            {"size": gemm_size, "reps": 5},
            ["gemm"],
            5 if mode != "smoke" else 2,
            work=5 * 2 * gemm_size**3,
        )
    ]
    budget = 2.5e10 if full else (4e9 if quick else 1e7)  # FLOPs per repetition, roughly
    for w in widths:
        fps = common.mlp_train_flops(common.mlp_sizes(w))
        for b in batch_sizes:
            n = int(min(max(budget / fps, 2 * b), 16_384 if full else 4_096))
            n = common.epoch_samples(n, b)
            cases.append(
                Case(
                    f"sweep_w{w}_b{b}",
                    "mlp_epoch",
                    {"n": n, "batch": b, "width": w, "seed": seed},
                    sweep_lanes,
                    3 if full else (2 if quick else 1),
                    work=n,
                    overrides={"gemm": "gemm_epoch"},
                )
            )
    sweep = Session(
        "sweep",
        [Lane("gemm", "numpy", "gemm_epoch")] + [Lane(x, x) for x in sweep_lanes[1:]],
        cases,
    )

    # 3-4. CNNs
    n_lenet = 10_000 if full else (1_280 if quick else 64)
    n_1d = 4_000 if full else (2_000 if quick else 200)
    n_convt = 64 * (20 if full else (5 if quick else 1))  # DCGAN ConvTranspose2d fwd+bwd steps
    cnn = Session(
        "cnn",
        [Lane("gradfit", "gradfit"), Lane("torch", "torch")],
        [
            Case(
                "lenet",
                "lenet_epoch",
                {"n": n_lenet, "batch": 128, "seed": seed},
                ["gradfit", "torch"],
                3 if full else 2,
                work=n_lenet,
                memory=True,
            ),
            Case(
                "cnn1d",
                "cnn1d_epoch",
                {"n": n_1d, "batch": 100, "seed": seed},
                ["gradfit", "torch"],
                reps,
                work=n_1d,
            ),
            Case(
                "convt2d",
                "conv_transpose_steps",
                {"n": n_convt, "batch": 64, "cin": 64, "cout": 32, "side": 8, "seed": seed},
                ["gradfit", "torch"],
                reps,
                work=n_convt,
            ),
        ],
    )

    # 5. per-op overhead and inference
    n_ops = 1000 if mode != "smoke" else 20
    n_inf = 20_480 if full else (4_096 if quick else 1_024)
    ops_lanes = ["numpy", "gradfit", "torch"]
    ops = Session(
        "ops",
        [Lane(x, x) for x in ops_lanes],
        [
            Case("op_overhead", "op_overhead", {"ops": n_ops}, ops_lanes, 7 if full else 3, n_ops),
            Case(
                "inference",
                "inference",
                {"n": n_inf, "batch": 1024, "width": 512, "seed": seed},
                ops_lanes,
                reps,
                work=n_inf,
            ),
        ],
    )
    return [mlp, sweep, cnn, ops]


# --------------------------------------------------------------------------- workers


class Worker:
    """A contender's process, driven by JSON lines (see ``benchmarks/worker.py``)."""

    def __init__(self, contender: str, threads: int) -> None:
        env = dict(os.environ)
        for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
            env[var] = str(threads)
        env["GRADFIT_BENCH_THREADS"] = str(threads)
        src = str(ROOT / "src")
        env["PYTHONPATH"] = os.pathsep.join([str(ROOT), src, env.get("PYTHONPATH", "")])
        self.contender = contender
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "benchmarks.worker", contender],
            cwd=ROOT,
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        self._read()  # "ready"

    def _read(self) -> dict[str, Any]:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            if line.startswith("@@"):
                msg = json.loads(line[2:])
                if "error" in msg:
                    raise RuntimeError(f"benchmark worker {self.contender}: {msg['error']}")
                return msg
        raise RuntimeError(f"benchmark worker {self.contender} exited with code {self.proc.wait()}")

    def ask(self, cmd: str, **kw: Any) -> dict[str, Any]:
        assert self.proc.stdin is not None
        self.proc.stdin.write(json.dumps({"cmd": cmd, **kw}) + "\n")
        self.proc.stdin.flush()
        return self._read()

    def close(self) -> None:
        try:
            assert self.proc.stdin is not None
            self.proc.stdin.write(json.dumps({"cmd": "quit"}) + "\n")
            self.proc.stdin.close()
            self.proc.wait(timeout=30)
        except (OSError, subprocess.TimeoutExpired):
            self.proc.kill()
            self.proc.wait()


def available_contenders() -> dict[str, bool]:
    """Which optional libraries are importable (gradfit and NumPy always are)."""
    return {
        "gradfit": True,
        "numpy": True,
        "torch": importlib.util.find_spec("torch") is not None,
        "sklearn": importlib.util.find_spec("sklearn") is not None,
    }


def run_session(
    session: Session, threads: int, allowed: set[str], log: Any
) -> dict[str, dict[str, Any]]:
    """Run every case of a session; returns ``{case key: {label: result}}``."""
    lanes = [ln for ln in session.lanes if ln.contender in allowed]
    workers = {ln.label: Worker(ln.contender, threads) for ln in lanes}
    results: dict[str, dict[str, Any]] = {}
    try:
        for case in session.cases:
            labels = [x for x in case.lanes if x in workers]
            if not labels:
                continue
            log(f"  {case.key}: {', '.join(labels)} x {case.reps} reps ...")
            for label in labels:
                scenario = case.overrides.get(label, case.scenario)
                workers[label].ask("setup", scenario=scenario, params=case.params)
            for label in labels:  # warm-up
                workers[label].ask("run")
            times: dict[str, list[float]] = {x: [] for x in labels}
            values: dict[str, list[float]] = {x: [] for x in labels}
            for r in range(case.reps):
                k = r % len(labels)
                for label in labels[k:] + labels[:k]:
                    out = workers[label].ask("run")
                    times[label].append(out["seconds"])
                    values[label].append(out["value"])
            res: dict[str, Any] = {}
            for label in labels:
                res[label] = {
                    "times": times[label],
                    "median": statistics.median(times[label]),
                    "work": case.work,
                    "params": case.params,
                    "last_value": values[label][-1],
                }
                if case.memory:
                    res[label].update(workers[label].ask("memory"))
            results[case.key] = res
    finally:
        for w in workers.values():
            w.close()
    return results


# --------------------------------------------------------------------------- report


def _ratio(results: dict[str, Any], case: str, a: str, b: str, key: str = "median") -> float | None:
    r = results.get(case, {})
    if a in r and b in r and r[b][key]:
        return r[a][key] / r[b][key]
    return None


def _fmt(x: float | None, spec: str = ".2f") -> str:
    return "n/a" if x is None else format(x, spec)


def targets(results: dict[str, Any]) -> dict[str, float | None]:
    """The issue's target ratios, measured (None when a contender is missing)."""
    return {
        "mlp_vs_numpy": _ratio(results, "mlp", "gradfit", "numpy"),
        "mlp_vs_torch": _ratio(results, "mlp", "gradfit", "torch"),
        "mlp32_vs_torch": _ratio(results, "mlp_b32", "gradfit", "torch"),
        "lenet_vs_torch": _ratio(results, "lenet", "gradfit", "torch"),
        "convt2d_vs_torch": _ratio(results, "convt2d", "gradfit", "torch"),
        "mlp_mem_vs_numpy": _ratio(results, "mlp", "gradfit", "numpy", "peak_mb"),
    }


def _epoch_table(results: dict[str, Any], key: str, title: str) -> list[str]:
    r = results.get(key)
    if not r:
        return []
    p = next(iter(r.values()))["params"]
    lines = [
        f"### {title}",
        "",
        f"{p['n']:,} samples, batch {p['batch']}; median of {len(next(iter(r.values()))['times'])}"
        " repetitions after a warm-up.",
        "",
        "| contender | median epoch (s) | min-max (s) | µs / sample | gradfit / contender |"
        " last loss |",
        "|---|---|---|---|---|---|",
    ]
    g = r.get("gradfit", {}).get("median")
    for label, v in r.items():
        ratio = g / v["median"] if g else None
        lines.append(
            f"| {label} | {v['median']:.3f} | {min(v['times']):.3f}-{max(v['times']):.3f} | "
            f"{v['median'] / v['work'] * 1e6:.1f} | {_fmt(ratio)} | {v['last_value']:.4f} |"
        )
    return lines + [""]


def render(report: dict[str, Any]) -> str:
    """The Markdown tables of a run."""
    results = report["results"]
    m = report["meta"]
    out = [
        f"## Run of {m['date']} ({m['mode']})",
        "",
        f"- machine: {m['machine']}",
        f"- threads: {m['threads']} per contender (OPENBLAS/OMP/MKL_NUM_THREADS and "
        "torch.set_num_threads); each contender in its own process",
        f"- load average before / after: {m['load_before']} / {m['load_after']}; "
        f"wall time {m['wall_s']:.0f} s",
    ]
    if m["skipped"]:
        out.append(f"- skipped (not installed): {', '.join(m['skipped'])}")
    out += ["", "### Targets", "", "| target | measured | limit | met |", "|---|---|---|---|"]
    for key, value in targets(results).items():
        text, limit = TARGETS_TEXT[key]
        met = "n/a" if value is None else ("yes" if value <= limit else "**no**")
        out.append(f"| {text} | {_fmt(value)} | <= {limit:.2f} | {met} |")
    out.append("")
    out += _epoch_table(results, "mlp", "MLP epoch (784-512-256-10, SGD momentum 0.9)")
    out += _epoch_table(results, "mlp_b32", "MLP epoch at batch 32")

    # sweep
    rate = None
    if "gemm_rate" in results:
        g = results["gemm_rate"]["gemm"]
        rate = g["work"] / min(g["times"]) / 1e9
        size = g["params"]["size"]
        out += ["### Sweep: time per sample (µs), batch x width (784-w-w/2-10)", ""]
        out += [
            f"Measured SGEMM rate: {rate:.1f} GFLOP/s ({size}x{size} @ {size}x{size}, best of "
            f"{len(g['times'])}). 'GEMM' is the matrix products of the same epoch alone (the "
            "floor); GFLOP/s and % of SGEMM are gradfit's. Samples per point are fewer than "
            "60,000 (shown) to keep the run short.",
            "",
        ]
    sweep_keys = [k for k in results if k.startswith("sweep_")]
    if sweep_keys:
        out += [
            "| width | batch | samples | GEMM | NumPy | gradfit | PyTorch | gradfit GFLOP/s |"
            " % of SGEMM | gradfit / NumPy | gradfit / PyTorch |",
            "|---|---|---|---|---|---|---|---|---|---|---|",
        ]
        for k in sweep_keys:
            r = results[k]
            p = next(iter(r.values()))["params"]

            def us(label: str, r: dict[str, Any] = r) -> str:
                return f"{r[label]['median'] / r[label]['work'] * 1e6:.2f}" if label in r else "n/a"

            gflops = None
            if "gradfit" in r:
                fl = common.mlp_train_flops(common.mlp_sizes(p["width"])) * r["gradfit"]["work"]
                gflops = fl / r["gradfit"]["median"] / 1e9
            pct = None if gflops is None or rate is None else 100 * gflops / rate
            out.append(
                f"| {p['width']} | {p['batch']} | {p['n']:,} | {us('gemm')} | {us('numpy')} | "
                f"{us('gradfit')} | {us('torch')} | {_fmt(gflops, '.1f')} | {_fmt(pct, '.0f')} | "
                f"{_fmt(_ratio(results, k, 'gradfit', 'numpy'))} | "
                f"{_fmt(_ratio(results, k, 'gradfit', 'torch'))} |"
            )
        out.append("")

    out += _epoch_table(results, "lenet", "LeNet-style CNN epoch (28x28, conv16-conv32-linear)")
    out += _epoch_table(results, "cnn1d", "MNIST-1D CNN epoch (gf.models.cnn1d, SGD momentum)")
    out += _epoch_table(
        results, "convt2d", "ConvTranspose2d(64, 32, 4, stride=2, padding=1), 8x8 -> 16x16, fwd+bwd"
    )

    if "op_overhead" in results:
        r = results["op_overhead"]
        n = next(iter(r.values()))["work"]
        base = r.get("numpy", {}).get("median")
        out += [
            f"### Per-op overhead: a chain of {int(n)} multiplications on 16 floats, "
            "forward + backward",
            "",
            "| contender | µs per op | overhead over NumPy (µs per op) |",
            "|---|---|---|",
        ]
        for label, v in r.items():
            over = None if base is None else (v["median"] - base) / n * 1e6
            out.append(f"| {label} | {v['median'] / n * 1e6:.2f} | {_fmt(over)} |")
        out.append("")
    if "inference" in results:
        r = results["inference"]
        g = r.get("gradfit", {}).get("median")
        out += [
            "### Inference throughput: MLP forward under no_grad, batch 1,024",
            "",
            "| contender | samples / s | gradfit / contender (time) |",
            "|---|---|---|",
        ]
        for label, v in r.items():
            out.append(
                f"| {label} | {v['work'] / v['median']:,.0f} | "
                f"{_fmt(g / v['median'] if g else None)} |"
            )
        out.append("")

    mem_rows = [(k, lab, v) for k in ("mlp", "lenet") for lab, v in results.get(k, {}).items()]
    if mem_rows and "peak_mb" in mem_rows[0][2]:
        out += [
            "### Peak memory (max RSS of the contender's process)",
            "",
            "'After setup' is the max RSS once data and model are built (imports, the dataset); "
            "'epoch' is what the training epochs added on top.",
            "",
            "| scenario | contender | peak RSS (MB) | after setup (MB) | epoch adds (MB) |",
            "|---|---|---|---|---|",
        ]
        for k, lab, v in mem_rows:
            out.append(
                f"| {k} | {lab} | {v['peak_mb']:.0f} | {v['setup_peak_mb']:.0f} | "
                f"{v['peak_mb'] - v['setup_peak_mb']:.0f} |"
            )
        out.append("")
    return "\n".join(out)


def _write_atomic(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o644)  # mkstemp makes it private; results are for reading
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _loadavg() -> str:
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "unknown"


def main(argv: list[str] | None = None) -> dict[str, Any]:
    ap = argparse.ArgumentParser(
        prog="python -m benchmarks.run",
        description="gradfit vs NumPy vs PyTorch vs scikit-learn (see benchmarks/RESULTS.md)",
    )
    ap.add_argument("--quick", action="store_true", help="a short pass (under a minute)")
    ap.add_argument("--smoke", action="store_true", help="tiny sizes, for the test suite")
    ap.add_argument("--threads", type=int, default=1, help="BLAS/torch threads (default 1)")
    ap.add_argument(
        "--out",
        type=Path,
        default=None,
        help="output folder (default benchmarks/results; --quick/--smoke: a subfolder of it, so "
        "a short pass never overwrites the full run's tables)",
    )
    ap.add_argument(
        "--contenders", default="gradfit,numpy,torch,sklearn", help="comma-separated subset"
    )
    ap.add_argument(
        "--sessions", default="mlp,sweep,cnn,ops", help="comma-separated subset of the groups"
    )
    ap.add_argument("--no-plot", action="store_true", help="skip the PNG")
    a = ap.parse_args(argv)
    if a.threads < 1:
        ap.error(f"--threads must be at least 1, got {a.threads}")
    mode = "smoke" if a.smoke else ("quick" if a.quick else "full")
    if a.out is None:
        a.out = ROOT / "benchmarks" / "results"
        if mode != "full":
            a.out = a.out / mode
    wanted = {c.strip() for c in a.contenders.split(",") if c.strip()}
    unknown = wanted - set(available_contenders())
    if unknown:
        ap.error(f"--contenders: unknown {sorted(unknown)}; valid: gradfit,numpy,torch,sklearn")
    have = available_contenders()
    skipped = sorted(c for c in wanted if not have[c])
    allowed = {c for c in wanted if have[c]}
    for c in skipped:
        print(f"note: {c} is not installed; its contender is skipped", file=sys.stderr)
    sessions = {s.strip() for s in a.sessions.split(",")}

    def log(msg: str) -> None:
        print(msg, file=sys.stderr, flush=True)

    t0 = time.perf_counter()
    load_before = _loadavg()
    results: dict[str, Any] = {}
    for session in build_plan(mode):
        if session.name in sessions:
            log(f"[{session.name}]")
            results.update(run_session(session, a.threads, allowed, log))
    from benchmarks.machine import describe, markdown

    info = describe()
    info.pop("blas", None)  # the parent's pool; the workers' thread count is stated below
    if "torch" in info:
        info["torch"] = info["torch"].split(" (")[0]  # likewise the parent's torch threads
    report = {
        "meta": {
            "date": time.strftime("%Y-%m-%d %H:%M"),
            "mode": mode,
            "machine": markdown(info),
            "threads": a.threads,
            "load_before": load_before,
            "load_after": _loadavg(),
            "wall_s": time.perf_counter() - t0,
            "skipped": skipped,
            "contenders": sorted(allowed),
        },
        "results": results,
        "targets": targets(results),
    }
    tables = render(report)
    print(tables)
    _write_atomic(a.out / "results.json", json.dumps(report, indent=1).encode())
    _write_atomic(a.out / "tables.md", (tables + "\n").encode())
    if not a.no_plot:
        from benchmarks.plot import plot

        png = plot(report, a.out / "time_per_sample.png")
        if png is None:
            log("no plot: matplotlib is not installed or there is no sweep")
    return report


if __name__ == "__main__":
    main()
