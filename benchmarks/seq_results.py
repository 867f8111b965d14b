"""The sequence rows of the README results table, rerunnable: character LMs on names.

Trains ``gf.models.char_lm`` with each architecture on ``names`` (block size 8) with AdamW
(lr 3e-3, weight decay 0.01, one-cycle schedule, batch 128, seed 0) and prints the test loss
in nats per character beside the unigram and bigram count baselines, as a Markdown table.
Each run takes from seconds (bigram) to several minutes (gru, transformer) on one core.

Run: python -m benchmarks.seq_results [--epochs 12] [--archs bigram,mlp,rnn,gru,transformer]
"""

from __future__ import annotations

import argparse
import math
import time

import gradfit as gf
import gradfit.nn.functional as F
from gradfit.models_sequence import ngram_losses


def train_one(arch: str, epochs: int, seed: int = 0, **kw: object) -> tuple[float, float]:
    """Test loss (nats per character) and seconds for one architecture."""
    ds = gf.data.load_dataset("names", block_size=8)
    gf.manual_seed(seed)
    model = gf.models.char_lm(arch=arch, **kw)
    opt = gf.optim.AdamW(model.parameters(), lr=3e-3, weight_decay=0.01)
    loader = gf.data.DataLoader(
        gf.data.TensorDataset(*ds.train), batch_size=128, shuffle=True, seed=seed
    )
    sched = gf.optim.lr_scheduler.OneCycleLR(opt, max_lr=3e-3, total_steps=epochs * len(loader))
    t = time.perf_counter()
    for _ in range(epochs):
        model.train()
        for xb, yb in loader:
            loss = F.cross_entropy(model(xb), yb)
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
    model.eval()
    with gf.no_grad():
        test = float(F.cross_entropy(model(gf.tensor(ds.test.x)), gf.tensor(ds.test.y)))
    return test, time.perf_counter() - t


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=12)
    parser.add_argument("--archs", default="bigram,mlp,rnn,gru,transformer")
    args = parser.parse_args()
    base = ngram_losses(gf.data.load_dataset("names", block_size=8))
    print("| model | test loss (nats/char) | perplexity | seconds |")
    print("|---|---|---|---|")
    for name, loss in base.items():
        print(f"| {name} counts | {loss:.3f} | {math.exp(loss):.2f} | - |")
    for arch in args.archs.split(","):
        loss, secs = train_one(arch, args.epochs)
        print(f"| char_lm {arch} | {loss:.3f} | {math.exp(loss):.2f} | {secs:.0f} |", flush=True)


if __name__ == "__main__":
    main()
