"""``gradfit sample RUN``: new words from a trained character-level language model.

Example:
    >>> import argparse
    >>> p = argparse.ArgumentParser(); sub = p.add_subparsers(); register(sub)
    >>> a = p.parse_args(["sample", "runs/x", "--n", "5", "--temperature", "0.8"])
    >>> a.n, a.temperature, a.seed
    (5, 0.8, 0)
"""

from __future__ import annotations

import argparse
import math
from typing import Any

from gradfit.cli import common
from gradfit.cli.main import UsageError


def register(sub: Any) -> None:
    """Add the ``sample`` subcommand."""
    p = sub.add_parser(
        "sample",
        help="new words from a char_lm run (gradfit train --data names --model char_lm)",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    p.add_argument("checkpoint", help="a run directory or a .safetensors checkpoint")
    p.add_argument("--n", type=int, default=10, help="how many words (1 to 10000)")
    p.add_argument("--temperature", type=float, default=1.0, help="below 1: safer, above 1: wilder")
    p.add_argument("--seed", type=int, default=0, help="the same seed gives the same words")
    p.add_argument("--max-length", type=int, default=32, help="longest word (1 to 1000)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Sample; returns the exit code."""
    from gradfit.models_sequence import sample_chars

    if not 1 <= args.n <= 10_000:
        raise UsageError(f"--n: expected 1 to 10000 words, got {args.n}")
    if not (math.isfinite(args.temperature) and args.temperature > 0):
        raise UsageError(f"--temperature: expected a positive number, got {args.temperature}")
    if not 1 <= args.max_length <= 1000:
        raise UsageError(f"--max-length: expected 1 to 1000, got {args.max_length}")
    if args.seed < 0:
        raise UsageError(f"--seed: expected a non-negative integer, got {args.seed}")
    _, model, vocab = common.char_lm_from_checkpoint(args.checkpoint, "sample")
    for word in sample_chars(model, vocab, n=args.n, temperature=args.temperature,
                             seed=args.seed, max_length=args.max_length):  # fmt: skip
        print(word)
    return 0
