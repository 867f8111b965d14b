"""The sequence rows of the README results table, rerunnable: character LMs on names.

Each row is ``gradfit train --data names --model char_lm --arch ARCH --seed S`` with the
arch's own defaults (``gradfit.train.run.CHAR_LM_DEFAULTS``), run through ``gf.train.run``,
the call the command line is a thin layer over, so the numbers are the CLI's. It prints the
test loss in nats per character (median and min over the seeds, and every seed's),
the perplexity of the median, how far below the bigram counts of its own split each run
is (the seed also splits the words), the median seconds per run and the command, beside
the unigram and bigram count baselines, as a Markdown table. Run single-threaded
(``OMP_NUM_THREADS=1``) on a busy machine: two BLAS threads per process on two shared
cores made each run several times slower.

Run: OMP_NUM_THREADS=1 python -m benchmarks.seq_results [--seeds 0,1,2] [--archs bigram,gru]
"""

from __future__ import annotations

import argparse
import math
import statistics
import tempfile
import time

import gradfit as gf
from gradfit.models_sequence import ARCHS, ngram_losses
from gradfit.train.run import CHAR_LM_DEFAULTS


def command(arch: str, seed: int) -> str:
    """The ``gradfit train`` command of one row."""
    return f"gradfit train --data names --model char_lm --arch {arch} --seed {seed}"


def train_one(arch: str, seed: int) -> tuple[float, float]:
    """Test loss (nats per character) and seconds of one ``gradfit train`` run."""
    with tempfile.TemporaryDirectory() as tmp:
        config = {"data": "names", "model": "char_lm", "arch": arch, "seed": seed}
        t = time.perf_counter()
        r = gf.train.run({**config, "no_baselines": True, "out": f"{tmp}/run"})
        return float(r.metrics["test_loss"]), time.perf_counter() - t


def baselines(seed: int) -> dict[str, float]:
    """The count baselines of the split ``--seed`` makes (the seed also splits the words)."""
    return ngram_losses(gf.data.load_dataset("names", block_size=8, seed=seed))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", default="0,1,2", help="comma-separated seeds")
    parser.add_argument("--archs", default=",".join(ARCHS))
    args = parser.parse_args()
    seeds = [int(s) for s in args.seeds.split(",")]
    base = {s: baselines(s) for s in seeds}
    print(
        f"| model | test loss (nats/char) median / min | per seed ({args.seeds}) | perplexity "
        "| below bigram counts (min over seeds) | seconds | command |"
    )
    print("|---|---|---|---|---|---|---|")
    for name in ("unigram", "bigram"):
        losses = [base[s][name] for s in seeds]
        med = statistics.median(losses)
        per_seed = ", ".join(f"{loss:.3f}" for loss in losses)
        print(
            f"| {name} counts | {med:.3f} / {min(losses):.3f} | {per_seed} | {math.exp(med):.2f} "
            "| - | - | - |"
        )
    for arch in args.archs.split(","):
        runs = [train_one(arch, s) for s in seeds]
        losses = [loss for loss, _ in runs]
        med = statistics.median(losses)
        per_seed = ", ".join(f"{loss:.3f}" for loss in losses)
        margin = min(base[s]["bigram"] - loss for s, loss in zip(seeds, losses))
        secs = statistics.median(t for _, t in runs)
        d = CHAR_LM_DEFAULTS[arch]
        print(
            f"| char_lm {arch} | {med:.3f} / {min(losses):.3f} | {per_seed} | {math.exp(med):.2f} "
            f"| {margin:.3f} | {secs:.0f} | `{command(arch, seeds[0])}` ({d['epochs']} epochs, "
            f"{d['optimizer']} lr {d['lr']}) |",
            flush=True,
        )


if __name__ == "__main__":
    main()
