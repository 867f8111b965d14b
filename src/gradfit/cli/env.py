"""``gradfit env``: versions, CPU, BLAS, threads and compiled kernels, for a bug report.

A thin layer over :mod:`gradfit.utils.collect_env` (``python -m gradfit.utils.collect_env``
prints the same).

Example:
    >>> import argparse
    >>> p = argparse.ArgumentParser(); sub = p.add_subparsers(); register(sub)
    >>> p.parse_args(["env", "--json"]).json
    True
"""

from __future__ import annotations

import argparse
import json
from typing import Any


def register(sub: Any) -> None:
    """Add the ``env`` subcommand."""
    p = sub.add_parser(
        "env", help="versions, CPU, BLAS, threads and compiled kernels (for a bug report)"
    )
    p.add_argument("--json", action="store_true", help="print the facts as JSON")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Print the report; returns the exit code."""
    from gradfit.utils.collect_env import get_env_info, get_pretty_env_info

    info = get_env_info()
    print(json.dumps(info.as_dict(), indent=2) if args.json else get_pretty_env_info(info))
    return 0
