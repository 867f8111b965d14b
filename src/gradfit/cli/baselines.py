"""``gradfit baselines``: scikit-learn's simple models on a dataset's split, as a table.

Example:
    >>> import argparse
    >>> p = argparse.ArgumentParser(); sub = p.add_subparsers(); register(sub)
    >>> p.parse_args(["baselines", "--data", "moons"]).data
    'moons'
"""

from __future__ import annotations

import argparse
from typing import Any

from gradfit.cli import common
from gradfit.cli.config import DEFAULTS, resolve


def register(sub: Any) -> None:
    """Add the ``baselines`` subcommand."""
    p = sub.add_parser("baselines", help="fit simple scikit-learn models for comparison")
    p.add_argument("--data", help="dataset name (see `gradfit datasets`)")
    p.add_argument("--data-dir", help="directory holding downloaded data files (MNIST, MovieLens)")
    p.add_argument("--download", action="store_const", const=True, help="download missing files")
    p.add_argument("--path", help="with --data csv: the CSV file")
    p.add_argument("--target", help="with --data csv: the column to predict")
    p.add_argument("--seed", type=int, help="random seed")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Fit and print; returns the exit code."""
    from gradfit.train.baselines import baselines, format_baselines

    flags = {k: getattr(args, k, None) for k in DEFAULTS}
    cfg = resolve(flags)
    data = common.load_data(cfg)
    print(format_baselines(baselines(data, seed=cfg["seed"])))
    return 0
