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
import os
import sys
from collections.abc import Sequence
from typing import Any

SUBCOMMANDS = [
    "train", "evaluate", "predict", "baselines", "lr_find", "summary", "datasets", "viz", "sample",
    "export", "sweep", "docs", "env",
]  # fmt: skip


class UsageError(Exception):
    """Bad usage or bad input: printed as one line, exit code 2."""


class HelpFormatter(argparse.ArgumentDefaultsHelpFormatter):
    """``--help`` shows each option's default (``(default: ...)``), except where it is None.

    Example:
        >>> p = argparse.ArgumentParser(formatter_class=HelpFormatter)
        >>> _ = p.add_argument("--steps", type=int, default=21, help="points per axis")
        >>> "(default: 21)" in p.format_help()
        True
    """

    # commands whose options default to None and take their value from the run config
    CONFIG_COMMANDS = ("gradfit train", "gradfit lr-find", "gradfit summary", "gradfit baselines")

    def _get_help_string(self, action: argparse.Action) -> str | None:
        text = action.help or ""
        if action.default is None and self._prog in self.CONFIG_COMMANDS and text:
            from gradfit.cli.config import DEFAULTS

            value = DEFAULTS.get(action.dest)
            if value is not None and value is not False and "default" not in text.lower():
                if isinstance(value, list):
                    value = ",".join(map(str, value))
                return f"{text} (default: {value})"
        if action.default is None or action.default is False or "default" in text.lower():
            return action.help
        if action.default is argparse.SUPPRESS or not text:
            return action.help
        return super()._get_help_string(action)


def did_you_mean(name: str, choices: Sequence[str]) -> str:
    """A ``" (did you mean 'x'?)"`` hint for a misspelt name (empty when nothing is close).

    Example:
        >>> did_you_mean("mnsit", ["mnist", "digits"])
        " (did you mean 'mnist'?)"
        >>> did_you_mean("zzz", ["mnist"])
        ''
    """
    import difflib

    word = str(name).lower()
    close = difflib.get_close_matches(word, [str(c) for c in choices], n=3)
    if not close:
        return ""
    # a swapped or dropped letter is the likeliest typo: fewest edits first ("adma" -> "adam")
    best = min(close, key=lambda c: _edits(word, c.lower()))
    return f" (did you mean {best!r}?)"


def _edits(a: str, b: str) -> int:
    """Edit distance counting an adjacent swap as one edit (optimal string alignment)."""
    d = [[i + j if i * j == 0 else 0 for j in range(len(b) + 1)] for i in range(len(a) + 1)]
    for i in range(1, len(a) + 1):
        for j in range(1, len(b) + 1):
            cost = a[i - 1] != b[j - 1]
            d[i][j] = min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost)
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                d[i][j] = min(d[i][j], d[i - 2][j - 2] + 1)
    return d[len(a)][len(b)]


def _os_error_line(e: OSError) -> str:
    """One line for an OSError a user can fix (permissions, a folder where a file goes, ...)."""
    what = {
        IsADirectoryError: "is a directory, expected a file",
        NotADirectoryError: "a part of the path is not a directory",
        PermissionError: "permission denied (check the file's and its folder's permissions)",
        FileNotFoundError: "no such file or directory",
        FileExistsError: "already exists",
    }.get(type(e), e.strerror)
    if what is None:  # an OSError raised with a message (gradfit.fileio.LockedError, ...)
        return str(e)
    name = e.filename if e.filename is not None else ""
    return f"{name}: {what}" if name else f"{what}"


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every subcommand that is installed.

    Example:
        >>> "train" in build_parser().format_help()
        True
    """
    parser = argparse.ArgumentParser(
        prog="gradfit",
        description="Train and inspect neural networks with gradfit.",
        formatter_class=HelpFormatter,
    )
    parser.add_argument("--version", action="store_true", help="print the version and exit")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    _add_parser = sub.add_parser

    def add_parser(
        *a: Any, **kw: Any
    ) -> argparse.ArgumentParser:  # every subcommand shows defaults
        kw.setdefault("formatter_class", HelpFormatter)
        return _add_parser(*a, **kw)

    sub.add_parser = add_parser  # type: ignore[method-assign]
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
    # The safety net: what a user's input or machine can cause is one line and exit 2, never
    # a traceback. Each command checks its own inputs first (naming the option); this catches
    # what slips through (a file that becomes unreadable, memory a valid request exhausts).
    except MemoryError:
        print(
            f"gradfit {args.command}: error: out of memory; use smaller sizes "
            "(--hidden, --batch-size) or smaller inputs",
            file=sys.stderr,
        )
        return 2
    except RecursionError:
        print(f"gradfit {args.command}: error: input nested too deeply", file=sys.stderr)
        return 2
    except OSError as e:
        print(f"gradfit {args.command}: error: {_os_error_line(e)}", file=sys.stderr)
        return 2
    except Exception as e:  # a bug: one line and exit 1 (GRADFIT_DEBUG=1 shows the traceback)
        if os.environ.get("GRADFIT_DEBUG"):
            raise
        print(
            f"gradfit {args.command}: internal error: {type(e).__name__}: {e} "
            "(this is a bug in gradfit; GRADFIT_DEBUG=1 shows where)",
            file=sys.stderr,
        )
        return 1


if __name__ == "__main__":
    sys.exit(main())
