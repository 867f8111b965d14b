"""``gradfit train``: train a network, compare it with simple baselines, save everything.

With no arguments it trains an MLP on the bundled ``digits`` with SGD and momentum,
prints progress, the test accuracy and the baselines table, and writes to ``--out``
(default ``runs/<timestamp>``): ``checkpoint.safetensors`` (+ ``.json``),
``metrics.json``, ``history.csv``, and PNG plots of the curves and the confusion matrix.

Example:
    >>> import argparse
    >>> p = argparse.ArgumentParser(); sub = p.add_subparsers()
    >>> register(sub)
    >>> p.parse_args(["train", "--lr", "0.1"]).lr
    0.1
"""

from __future__ import annotations

import argparse
import math
import sys
from typing import Any

from gradfit.cli.config import DEFAULTS


def register(sub: Any) -> None:
    """Add the ``train`` subcommand."""
    p = sub.add_parser(
        "train",
        help="train a network (default: an MLP on the bundled digits)",
        description=__doc__.split("\n\n")[0],
    )
    a = p.add_argument
    a("--data", help=f"dataset name (default {DEFAULTS['data']}; see `gradfit datasets`)")
    a("--data-dir", help="directory holding downloaded data files (MNIST, MovieLens)")
    a("--download", action="store_const", const=True, help="download missing data files")
    a(
        "--model",
        help="mlp, cnn, cnn1d, gru, lstm, char_lm, logistic, linear or matrix_factorization",
    )
    a(
        "--arch",
        help="char_lm: bigram, mlp, rnn, gru or transformer (default transformer); each arch "
        "has its own tuned optimizer, lr, epochs, dropout, ... for the options not given",
    )
    a("--block-size", type=int, help="names/text: characters of context (default 8)")
    a("--heads", type=int, help="char_lm transformer: attention heads (default 4)")
    a("--layers", type=int, help="char_lm: blocks or recurrent layers; gru/lstm: layers")
    a(
        "--every-position",
        action="store_const",
        const=True,
        help="char_lm transformer: learn from the next character at every position of the "
        "window, as GPT is trained (the default for --arch transformer); the loss reported "
        "for validation and test stays the last position's",
    )
    a(
        "--no-every-position",
        dest="every_position",
        action="store_const",
        const=False,
        help="char_lm transformer: a loss at the last position only",
    )
    a("--hidden", help="hidden layer sizes of the MLP, e.g. 256,128")
    a("--activation", help="activation of the hidden layers (relu, tanh, sigmoid, gelu, ...)")
    a("--dropout", type=float, help="dropout probability after each hidden layer")
    a("--batch-norm", action="store_const", const=True, help="batch normalisation in hidden layers")
    a(
        "--no-batch-norm",
        dest="batch_norm",
        action="store_const",
        const=False,
        help="no batch normalisation",
    )
    a("--optimizer", help="sgd, adam, adamw, rmsprop, adagrad, adadelta, adamax, nadam or radam")
    a("--lr", type=float, help="learning rate (cnn: 0.02)")
    a("--momentum", type=float, help="momentum (SGD, RMSprop)")
    a("--nesterov", action="store_const", const=True, help="Nesterov momentum (SGD)")
    a("--weight-decay", type=float, help="L2 regularisation (biases and norms excluded)")
    a("--l1", type=float, help="L1 penalty coefficient added to the loss")
    a("--schedule", help="none, cosine, step, exponential, linear, onecycle or plateau")
    a("--epochs", type=int, help="number of epochs (with --resume: the total to reach)")
    a("--batch-size", type=int, help="mini-batch size")
    a("--seed", type=int, help="random seed (weights, shuffling, dropout)")
    a("--embedding-dim", type=int, help="factor dimension of matrix factorisation")
    a("--path", help="--data csv/text: the file to read (CSV: a table with a header row)")
    a("--target", help="--data csv: the column to predict")
    a("--early-stopping", type=int, help="stop after this many epochs without val improvement")
    a("--val-fraction", type=float, help="share of the training data held out for validation")
    a("--classes", help="train on these class labels only, e.g. 0-4 or 5,7 (relabelled 0..k-1)")
    a("--train-per-class", type=int, help="keep this many training samples of each class")
    a("--shift", type=int, help="augment: random shifts of up to N pixels or sequence steps")
    a("--out", help="output directory (default runs/<timestamp>)")
    a("--overwrite", action="store_true", help="allow writing into a run directory that exists")
    a("--resume", metavar="RUN_DIR_OR_CHECKPOINT", help="continue a run from its checkpoint")
    a("--init-from", metavar="CHECKPOINT", help="start from these weights (fine-tuning)")
    a("--freeze", action="append", metavar="PREFIX", help="freeze parameters by name prefix")
    a("--no-baselines", action="store_true", help="skip the scikit-learn baselines")
    a("--no-plots", action="store_true", help="skip the PNG plots (no matplotlib needed)")
    a("--quiet", action="store_true", help="one line per epoch, no live progress bar")
    a("--report", action="store_true", help="write report.html with curves and tables")
    a(
        "--track-curvature",
        type=int,
        metavar="K",
        help="record the top Hessian eigenvalue (sharpness) every K epochs; see "
        "`gradfit viz curvature`",
    )
    a("--config", metavar="FILE.toml", help="options as TOML (command-line flags win)")
    a(
        "--distributed",
        action="store_true",
        help="data-parallel over the processes mpiexec started: mpiexec -n 2 gradfit train "
        "--distributed (rank 0 prints and writes; --batch-size is the global batch)",
    )
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Train as configured (:func:`gradfit.train.run`), printing as it goes; returns the exit code."""
    from gradfit.train import ProgressBar, TrainingDiverged
    from gradfit.train.run import RunInterrupted
    from gradfit.train.run import run as run_training

    config = {k: v for k, v in vars(args).items() if k not in ("func", "command", "version")}
    try:
        result = run_training(config, callbacks=[ProgressBar(quiet=args.quiet)], log=print)
    except RunInterrupted as e:
        if not _other_rank():  # with --distributed, rank 0 alone says how to resume
            print(f"\n{e.message}", file=sys.stderr)
        return 130
    except TrainingDiverged as e:  # the last good epoch is saved; exit 2 with one line
        print(f"gradfit train: error: stopped: {' '.join(str(e).split())}", file=sys.stderr)
        return 2
    key = "test_accuracy" if "test_accuracy" in result.metrics else "test_rmse"
    return 1 if math.isnan(result.metrics.get(key, 0.0)) else 0


def _other_rank() -> bool:
    """Whether this process is a --distributed rank other than 0 (those stay quiet)."""
    dist = sys.modules.get("gradfit.distributed")
    return dist is not None and dist.is_initialized() and dist.get_rank() != 0


def save_png(fig: Any, path: Any) -> None:
    """Render a matplotlib figure to PNG and write it atomically (see gradfit.train.run)."""
    from gradfit.train.run import save_png as _save_png

    _save_png(fig, path)
