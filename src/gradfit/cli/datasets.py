"""``gradfit datasets [NAME]``: list the datasets, or describe one.

Example:
    >>> import argparse
    >>> p = argparse.ArgumentParser(); sub = p.add_subparsers(); register(sub)
    >>> p.parse_args(["datasets"]).name is None
    True
"""

from __future__ import annotations

import argparse
from typing import Any

from gradfit.cli.main import UsageError


def register(sub: Any) -> None:
    """Add the ``datasets`` subcommand."""
    p = sub.add_parser("datasets", help="list the datasets, or describe one")
    p.add_argument("name", nargs="?", help="a dataset to load and describe")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """List or describe; returns the exit code."""
    from gradfit.data import list_datasets, load_dataset

    if args.name is None:
        for name, summary in list_datasets(with_summary=True).items():
            print(f"{name:20s} {summary}")
        return 0
    try:
        ds = load_dataset(args.name)
    except (KeyError, ValueError, OSError, TypeError, ImportError) as e:
        from gradfit.cli.common import cli_words

        raise UsageError(f"{args.name}: {cli_words(str(e))}") from None
    print(ds.description)
    print("  splits:  " + ", ".join(f"{k} {v}" for k, v in ds.sizes.items()))
    return 0
