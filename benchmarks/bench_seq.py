"""Sequence models: a GRU and a small transformer training step, gradfit vs PyTorch eager.

Workloads (issue 14's), one training step each (forward, cross-entropy, backward, optimizer):

* GRU: hidden 128, sequences of 40 steps with 1 feature, batch 100, a linear head on the
  last state, Adam (MNIST-1D-sized).
* Transformer: 4 pre-norm encoder blocks with causal self-attention, 4 heads, d=64,
  feed-forward 256, GELU, context 32, batch 32, 65 tokens, AdamW (a character-level GPT).

Each contender runs in its own process with one BLAS thread (``OPENBLAS_NUM_THREADS=1``,
``torch.set_num_threads(1)``); rounds alternate the contenders; the table gives the median
step time over rounds (each round: 3 warm-up steps, then the median of 15 steps) and the
ratio gradfit / torch, and names the CPU.

Run: python -m benchmarks.bench_seq [--rounds 3]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time


def _lib(name: str):
    if name == "torch":
        import torch

        torch.set_num_threads(1)
        return torch, torch.nn.functional
    import gradfit
    import gradfit.nn.functional as F

    return gradfit, F


def gru_step(lib: str):
    torch, F = _lib(lib)
    torch.manual_seed(0)
    T, B, H = 40, 100, 128
    rnn, head = torch.nn.GRU(1, H), torch.nn.Linear(H, 10)
    opt = torch.optim.Adam(list(rnn.parameters()) + list(head.parameters()), 1e-3)
    x, y = torch.randn(T, B, 1), torch.randint(0, 10, (B,))

    def step() -> None:
        _, h = rnn(x)
        loss = F.cross_entropy(head(h[-1]), y)
        opt.zero_grad()
        loss.backward()
        opt.step()

    return step


def transformer_step(lib: str):
    torch, F = _lib(lib)
    torch.manual_seed(0)
    V, D, T, B = 65, 64, 32, 32
    nn = torch.nn
    layer = nn.TransformerEncoderLayer(D, 4, 4 * D, dropout=0.0, activation="gelu",
                                       batch_first=True, norm_first=True)  # fmt: skip
    kw = {"enable_nested_tensor": False} if lib == "torch" else {}
    blocks = nn.TransformerEncoder(layer, 4, **kw)
    tok, pos, ln, head = nn.Embedding(V, D), nn.Embedding(T, D), nn.LayerNorm(D), nn.Linear(D, V)
    params = [p for m in (blocks, tok, pos, ln, head) for p in m.parameters()]
    opt = torch.optim.AdamW(params, 1e-3)
    idx, tgt = torch.randint(0, V, (B, T)), torch.randint(0, V, (B, T))
    mask = nn.Transformer.generate_square_subsequent_mask(T)
    positions = torch.arange(T)

    def step() -> None:
        h = blocks(tok(idx) + pos(positions), mask=mask, is_causal=True)
        loss = F.cross_entropy(head(ln(h)).reshape(B * T, V), tgt.reshape(B * T))
        opt.zero_grad()
        loss.backward()
        opt.step()

    return step


WORKLOADS = {"gru": gru_step, "transformer": transformer_step}


def time_one(workload: str, lib: str, steps: int = 15) -> float:
    """Median seconds per step of one workload in this process."""
    step = WORKLOADS[workload](lib)
    for _ in range(3):
        step()
    ts = []
    for _ in range(steps):
        t = time.perf_counter()
        step()
        ts.append(time.perf_counter() - t)
    return statistics.median(ts)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--one", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(time_one(*args.one)))
        return
    env = dict(os.environ, OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1", MKL_NUM_THREADS="1")
    from benchmarks.machine import describe, markdown

    print(f"# Sequence models, one thread each\n\n{markdown(describe())}\n")
    print("| workload | gradfit ms/step | torch ms/step | gradfit / torch |")
    print("|---|---|---|---|")
    for w in WORKLOADS:
        times: dict[str, list[float]] = {"gradfit": [], "torch": []}
        for r in range(args.rounds):
            order = ["gradfit", "torch"] if r % 2 == 0 else ["torch", "gradfit"]
            for lib in order:
                out = subprocess.run(
                    [sys.executable, "-m", "benchmarks.bench_seq", "--one", w, lib],
                    capture_output=True, text=True, env=env, check=True,
                )  # fmt: skip
                times[lib].append(json.loads(out.stdout.strip().splitlines()[-1]))
        g, t = statistics.median(times["gradfit"]), statistics.median(times["torch"])
        print(f"| {w} | {g * 1e3:.1f} | {t * 1e3:.1f} | {g / t:.2f} |")


if __name__ == "__main__":
    main()
