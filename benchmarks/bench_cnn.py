"""LeNet-style CNN training step, gradfit vs PyTorch eager CPU, side by side.

Model (28x28 inputs, batch 128): conv 1->16 5x5 pad 2, ReLU, max-pool 2,
conv 16->32 5x5 pad 2, ReLU, max-pool 2, flatten, linear 1568->10; loss
cross-entropy; one step = forward + backward + plain SGD update.

Each contender runs in its own process (so neither library's thread pool or
allocator disturbs the other), in alternating rounds; each round warms up and then
times several steps. Both use the same number of threads: the number of threads
of NumPy's BLAS (``torch.set_num_threads`` is set to it). The report is the
median step time of each and the ratio gradfit / PyTorch.

Run:  python benchmarks/bench_cnn.py [--rounds 3] [--steps 20] [--threads N] [--profile]

``--threads N`` runs both with N threads (BLAS threads for gradfit through the
OPENBLAS/OMP/MKL_NUM_THREADS variables of its process, ``torch.set_num_threads``).
The report gives the median and the best step of each: on a shared machine the
median moves with the load; the best step shows what each can do.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time

BATCH, LR = 128, 0.01


def blas_threads() -> int:
    """Threads NumPy's BLAS uses (threadpoolctl if installed, else the CPU count)."""
    try:
        from threadpoolctl import threadpool_info

        for info in threadpool_info():
            if info.get("user_api") == "blas":
                return int(info["num_threads"])
    except ImportError:
        pass
    return os.cpu_count() or 1


def make_data(seed: int = 0):
    import numpy as np

    rng = np.random.default_rng(seed)
    x = rng.standard_normal((BATCH, 1, 28, 28)).astype(np.float32)
    y = rng.integers(0, 10, BATCH)

    def u(shape, fan_in):
        b = 1 / np.sqrt(fan_in)
        return rng.uniform(-b, b, shape).astype(np.float32)

    params = [
        u((16, 1, 5, 5), 25), u((16,), 25),
        u((32, 16, 5, 5), 400), u((32,), 400),
        u((10, 1568), 1568), u((10,), 1568),
    ]  # fmt: skip
    return x, y, params


def run_gradfit(steps: int, warmup: int, profile: bool) -> list[float]:
    import numpy as np

    import gradfit as gf
    import gradfit.nn.functional as F

    conv2d = getattr(F, "conv2d", None)
    max_pool2d = getattr(F, "max_pool2d", None)
    if conv2d is None or max_pool2d is None:
        from gradfit.ops.conv import conv2d
        from gradfit.ops.pool import max_pool2d

    x_np, y_np, p_np = make_data()
    x = gf.tensor(x_np)
    params = [gf.tensor(p, requires_grad=True) for p in p_np]
    onehot = gf.tensor(np.eye(10, dtype=np.float32)[y_np])
    y = gf.tensor(y_np)

    def loss_fn(logits):
        if hasattr(F, "cross_entropy"):
            return F.cross_entropy(logits, y)
        return -(F.log_softmax(logits, dim=1) * onehot).sum() / BATCH

    def step() -> None:
        w1, b1, w2, b2, w3, b3 = params
        h = max_pool2d(F.relu(conv2d(x, w1, b1, padding=2)), 2)
        h = max_pool2d(F.relu(conv2d(h, w2, b2, padding=2)), 2)
        logits = F.linear(h.reshape(BATCH, -1), w3, b3)
        loss = loss_fn(logits)
        for p in params:
            p.grad = None
        loss.backward()
        with gf.no_grad():
            for p in params:
                p._data -= np.float32(LR) * p.grad._data

    return _time(step, steps, warmup, profile)


def run_torch(steps: int, warmup: int, threads: int) -> list[float]:
    import torch
    import torch.nn.functional as F

    torch.set_num_threads(threads)
    x_np, y_np, p_np = make_data()
    x, y = torch.from_numpy(x_np), torch.from_numpy(y_np)
    params = [torch.tensor(p, requires_grad=True) for p in p_np]

    def step() -> None:
        w1, b1, w2, b2, w3, b3 = params
        h = F.max_pool2d(F.relu(F.conv2d(x, w1, b1, padding=2)), 2)
        h = F.max_pool2d(F.relu(F.conv2d(h, w2, b2, padding=2)), 2)
        loss = F.cross_entropy(F.linear(h.reshape(BATCH, -1), w3, b3), y)
        for p in params:
            p.grad = None
        loss.backward()
        with torch.no_grad():
            for p in params:
                p -= LR * p.grad

    return _time(step, steps, warmup, False)


def _time(step, steps: int, warmup: int, profile: bool) -> list[float]:
    for _ in range(warmup):
        step()
    if profile:
        import cProfile
        import pstats

        pr = cProfile.Profile()
        pr.enable()
        for _ in range(steps):
            step()
        pr.disable()
        pstats.Stats(pr, stream=sys.stderr).sort_stats("tottime").print_stats(25)
    times = []
    for _ in range(steps):
        t0 = time.perf_counter()
        step()
        times.append(time.perf_counter() - t0)
    return times


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--rounds", type=int, default=3, help="alternating rounds per contender")
    ap.add_argument("--steps", type=int, default=20, help="timed steps per round")
    ap.add_argument("--warmup", type=int, default=5)
    ap.add_argument("--profile", action="store_true", help="cProfile gradfit's steps (stderr)")
    ap.add_argument("--worker", choices=["gradfit", "torch"], help=argparse.SUPPRESS)
    ap.add_argument("--threads", type=int, default=0, help="threads for both (default: BLAS's)")
    a = ap.parse_args()
    if a.worker == "gradfit":
        print(json.dumps(run_gradfit(a.steps, a.warmup, a.profile)))
        return
    if a.worker == "torch":
        print(json.dumps(run_torch(a.steps, a.warmup, a.threads)))
        return

    threads = a.threads or blas_threads()
    env = dict(os.environ)
    if a.threads:
        for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
            env[var] = str(a.threads)
    times: dict[str, list[float]] = {"gradfit": [], "torch": []}
    for r in range(a.rounds):
        order = ["gradfit", "torch"] if r % 2 == 0 else ["torch", "gradfit"]
        for who in order:
            cmd = [sys.executable, __file__, "--worker", who, "--threads", str(threads),
                   "--steps", str(a.steps), "--warmup", str(a.warmup)]  # fmt: skip
            if a.profile and who == "gradfit" and r == 0:
                cmd.append("--profile")
            out = subprocess.run(cmd, check=True, capture_output=True, text=True, env=env)
            if a.profile and out.stderr:
                print(out.stderr, file=sys.stderr)
            times[who].extend(json.loads(out.stdout.strip().splitlines()[-1]))
    g = statistics.median(times["gradfit"]) * 1e3
    t = statistics.median(times["torch"]) * 1e3
    gb, tb = min(times["gradfit"]) * 1e3, min(times["torch"]) * 1e3
    n = len(times["gradfit"])
    print(f"LeNet-style CNN, batch {BATCH}, 28x28, forward+backward+SGD step, {threads} thread(s)")
    print(f"  gradfit : {g:8.2f} ms/step median, {gb:8.2f} best (of {n})")
    print(f"  PyTorch : {t:8.2f} ms/step median, {tb:8.2f} best (of {n})")
    print(f"  ratio gradfit/PyTorch: {g / t:.2f}x median, {gb / tb:.2f}x best (target <= 1.30x)")


if __name__ == "__main__":
    main()
