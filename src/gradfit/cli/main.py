"""Entry point of the ``gradfit`` command (also ``python -m gradfit``).

Each subcommand is a module of this package with ``register(subparsers)``: it adds its
parser and sets ``func`` to a function ``run(args) -> int``. Errors a user can fix raise
:class:`UsageError`: one line on stderr, exit code 2, no traceback. Ctrl-C exits 130.

Example:
    >>> main(["--version"]) == 0
    gradfit 0.1.0
    True
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

SUBCOMMANDS = ["train", "evaluate", "predict", "baselines", "lr_find", "summary", "datasets", "viz"]
SUBCOMMANDS += ["sweep"]  # gradfit sweep (Optuna), in cli/sweep.py


class UsageError(Exception):
    """Bad usage or bad input: printed as one line, exit code 2."""


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every subcommand that is installed.

    Example:
        >>> "train" in build_parser().format_help()
        True
    """
    parser = argparse.ArgumentParser(
        prog="gradfit", description="Train and inspect neural networks with gradfit."
    )
    parser.add_argument("--version", action="store_true", help="print the version and exit")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in SUBCOMMANDS:
        try:
            mod = importlib.import_module(f"gradfit.cli.{name}")
        except ModuleNotFoundError as e:
            if e.name == f"gradfit.cli.{name}":
                continue
            raise
        mod.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code.

    Example:
        >>> main(["--version"])
        gradfit 0.1.0
        0
    """
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as e:  # argparse: 2 on bad usage, 0 for --help
        return int(e.code or 0)
    if args.version:
        from gradfit import __version__

        print(f"gradfit {__version__}")
        return 0
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        return int(args.func(args) or 0)
    except UsageError as e:
        print(f"gradfit {args.command}: error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"gradfit {args.command}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
