"""``gradfit summary``: layers, output shapes, parameter counts and multiply-adds of a model.

Give a checkpoint, or the same --data/--model/--hidden options as ``gradfit train``.

Example:
    >>> import argparse
    >>> p = argparse.ArgumentParser(); sub = p.add_subparsers(); register(sub)
    >>> p.parse_args(["summary", "--model", "cnn"]).model
    'cnn'
"""

from __future__ import annotations

import argparse
from typing import Any

from gradfit.cli import common
from gradfit.cli.config import DEFAULTS, resolve


def register(sub: Any) -> None:
    """Add the ``summary`` subcommand."""
    p = sub.add_parser("summary", help="layers, shapes, parameters and multiply-adds of a model")
    p.add_argument("checkpoint", nargs="?", help="a run directory or checkpoint (optional)")
    p.add_argument("--data", help="dataset that sizes the model (see `gradfit datasets`)")
    p.add_argument("--path", help="with --data csv: the CSV file")
    p.add_argument("--target", help="with --data csv: the column to predict")
    p.add_argument("--model", help="mlp, cnn, cnn1d, logistic, linear or matrix_factorization")
    p.add_argument("--hidden", help="hidden layer sizes of the MLP, e.g. 256,128")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Print the summary; returns the exit code."""
    from gradfit.train.summary import summary

    if args.checkpoint:
        ckpt = common.open_checkpoint(common.checkpoint_path(args.checkpoint))
        model = common.model_from_checkpoint(ckpt)
        shape = tuple((ckpt.meta.get("config") or {}).get("input_shape") or ())
    else:
        flags = {k: getattr(args, k, None) for k in DEFAULTS}
        cfg = resolve(flags)
        data = common.load_data(cfg)
        model = common.build_for(cfg, data)
        shape = tuple(data.train.x.shape[1:])
    print(summary(model, shape))
    return 0
