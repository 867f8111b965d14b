"""``gradfit lr-find``: the learning-rate range test for the model ``gradfit train`` would build.

Example:
    >>> import argparse
    >>> p = argparse.ArgumentParser(); sub = p.add_subparsers(); register(sub)
    >>> p.parse_args(["lr-find", "--num-iter", "50"]).num_iter
    50
"""

from __future__ import annotations

import argparse
import math
from typing import Any

import gradfit as gf
from gradfit.cli import common
from gradfit.cli.config import DEFAULTS, resolve
from gradfit.cli.main import UsageError

MAX_ITER = 100_000  # a range test needs a few hundred steps; this bounds a typo


def register(sub: Any) -> None:
    """Add the ``lr-find`` subcommand."""
    p = sub.add_parser("lr-find", help="find a good learning rate (range test)")
    p.add_argument("--data", help="dataset name (see `gradfit datasets`)")
    p.add_argument("--path", help="with --data csv: the CSV file")
    p.add_argument("--target", help="with --data csv: the column to predict")
    p.add_argument("--model", help="mlp, cnn, cnn1d, logistic or linear")
    p.add_argument("--hidden", help="hidden layer sizes of the MLP, e.g. 256,128")
    p.add_argument("--optimizer", help="sgd, adam, adamw, rmsprop or adagrad")
    p.add_argument("--batch-size", type=int, help="mini-batch size")
    p.add_argument("--momentum", type=float, help="momentum (SGD, RMSprop)")
    p.add_argument("--seed", type=int, help="random seed")
    p.add_argument("--start-lr", type=float, default=1e-6, help="first learning rate tried")
    p.add_argument("--end-lr", type=float, default=10.0, help="last learning rate tried")
    p.add_argument("--num-iter", type=int, default=100, help=f"steps of the test (5 to {MAX_ITER})")
    p.add_argument("--plot", metavar="PNG", help="save the loss-vs-lr curve")
    p.set_defaults(func=run, command="lr-find")


def run(args: argparse.Namespace) -> int:
    """Run the range test; returns the exit code."""
    from gradfit.data import ArrayDataset, DataLoader
    from gradfit.optim.lr_finder import find_lr

    cfg = resolve({k: getattr(args, k, None) for k in DEFAULTS})
    if not (math.isfinite(args.start_lr) and math.isfinite(args.end_lr)):
        raise UsageError(
            f"--start-lr and --end-lr must be finite numbers, got {args.start_lr} and {args.end_lr}"
        )
    if not 0 < args.start_lr < args.end_lr:
        raise UsageError("--start-lr must be positive and below --end-lr")
    if not 5 <= args.num_iter <= MAX_ITER:
        raise UsageError(f"--num-iter must be between 5 and {MAX_ITER}, got {args.num_iter}")
    if args.plot:
        common.check_output_file(args.plot, "--plot")
    gf.manual_seed(cfg["seed"])
    data = common.load_data(cfg)
    model = common.build_for(cfg, data)
    loss_fn, _ = common.loss_and_metrics(data.task)
    cfg["lr"] = args.start_lr
    opt = common.make_optimizer(cfg, model)
    ds = ArrayDataset(data.train.x, common.targets_for(data.task, data.train.y))
    loader = DataLoader(ds, batch_size=cfg["batch_size"], shuffle=True, seed=cfg["seed"])
    res = find_lr(
        model,
        loss_fn,
        opt,
        loader,
        start_lr=args.start_lr,
        end_lr=args.end_lr,
        num_iter=args.num_iter,
    )
    if res.suggestion is None:  # too few points before the loss diverged: no honest answer
        raise UsageError(
            f"no suggestion: the loss diverged before the range test had enough points "
            f"({len(res.lrs)}); use a smaller --start-lr or a larger --num-iter"
        )
    print(f"suggested lr: {res.suggestion:.3g}  (lowest loss at lr {res.best_lr:.3g})")
    if args.plot:
        from pathlib import Path

        from gradfit.cli.train import save_png
        from gradfit.viz.plots import plot_lr_finder

        fig = plot_lr_finder(res)
        save_png(fig, Path(args.plot))
        print(f"plot: {args.plot}")
    return 0
