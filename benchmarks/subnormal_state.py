"""Subnormal floats in optimizer state: how many there are, what they cost, what flushing costs.

Scenario (issue 16): a unit stops getting gradient (a dead ReLU), so its SGD momentum buffer
decays as 0.9**t: from 1e-3 it crosses float32's smallest normal number (1.2e-38) after ~815
steps and stays subnormal for ~150 more before it underflows to zero. On many x86 CPUs every
operation on a subnormal costs a microcode assist (tens to hundreds of cycles).

Run: ``python -m benchmarks.subnormal_state`` (prints the table; about 10 s).
"""

from __future__ import annotations

import platform
import time

import numpy as np

import gradfit as gf

N = 200_000
DEAD_AFTER = 5
STEPS = 1000


def run(flush_every: int) -> tuple[float, float, int]:
    """Mean ms per step (flushes included) while the state is normal, while it is (or would be) subnormal, and the
    number of subnormal entries summed over steps."""
    rng = np.random.default_rng(0)
    w = gf.tensor(rng.standard_normal(N).astype(np.float32), requires_grad=True)
    opt = gf.optim.SGD([w], lr=0.01, momentum=0.9)
    opt.flush_subnormals_every = flush_every
    g_live = gf.tensor((1e-3 * rng.standard_normal(N)).astype(np.float32))
    g_dead = gf.zeros(N)
    tiny = np.finfo(np.float32).tiny
    normal_t, sub_t, sub_count = [], [], 0
    for t in range(STEPS):
        w.grad = g_live if t < DEAD_AFTER else g_dead
        start = time.perf_counter()
        opt.step()
        took = time.perf_counter() - start
        buf = opt.state[w]["momentum_buffer"]
        n_sub = int(np.count_nonzero((buf != 0) & (np.abs(buf) < tiny)))
        sub_count += n_sub
        # the window where, without flushing, the buffer is subnormal
        (sub_t if 830 <= t < 950 else normal_t if 100 <= t < 700 else []).append(took)
    return 1e3 * float(np.mean(normal_t)), 1e3 * float(np.mean(sub_t)), sub_count


def main() -> None:
    print(f"CPU: {platform.processor() or platform.machine()}, numpy {np.__version__}")
    print(f"SGD(momentum=0.9), {N} float32 parameters, gradient 0 after step {DEAD_AFTER}")
    print("flush_every | ms/step normal state | ms/step subnormal window | subnormal entry-steps")
    for every in (0, 32, 16, 8, 1):
        normal, sub, count = run(every)
        print(f"{every:11d} | {normal:20.3f} | {sub:24.3f} | {count:d}")


if __name__ == "__main__":
    main()
