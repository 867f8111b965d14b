"""``gradfit sweep``: search hyper-parameters with Optuna, each trial a ``gradfit train`` run.

Searches lr, weight decay, dropout, batch size and width (ranges from ``--search-*``
flags or a ``--search FILE.toml``; a setting given by its own flag, e.g. ``--lr 0.1``, is fixed), prunes poor trials from their per-epoch validation
metric, and prints the best settings with the ``gradfit train`` command that trains
them. Every ``gradfit train`` setting (``--data``, ``--epochs``, ``--config``, ...) applies
to each trial; trial ``n`` trains in ``<out>/trial-<n>``. The study lives in
``--storage`` (default ``sqlite:///<out>/sweep.db``); run again with the same
``--storage`` and ``--study-name`` to continue it. Needs the ``sweep`` extra (optuna).

Example:
    >>> import argparse
    >>> p = argparse.ArgumentParser(); sub = p.add_subparsers()
    >>> register(sub)
    >>> a = p.parse_args(["sweep", "--trials", "6", "--search-lr", "1e-3:1", "--epochs", "2"])
    >>> a.trials, a.search_lr, a.epochs
    (6, '1e-3:1', 2)
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import Any

import tomllib

from gradfit.cli.config import DEFAULTS, load_toml
from gradfit.cli.main import UsageError

SEARCH_FLAGS = ("lr", "weight_decay", "dropout", "momentum", "batch_size", "width")


def _train_actions() -> list[argparse.Action]:
    """The settings options of ``gradfit train`` (so every one applies to each trial)."""
    from gradfit.cli import train as train_cli

    holder = argparse.ArgumentParser(add_help=False)
    train_cli.register(holder.add_subparsers())
    tp = holder._subparsers._group_actions[0].choices["train"]  # type: ignore[union-attr]
    return [a for a in tp._actions if a.dest in DEFAULTS or a.dest == "config"]


def register(sub: Any) -> None:
    """Add the ``sweep`` subcommand."""
    p = sub.add_parser(
        "sweep",
        help="search hyper-parameters with Optuna (each trial a gradfit train run)",
        description=__doc__.split("\n\n")[1],
    )
    train_opts = p.add_argument_group("settings of every trial (as in gradfit train)")
    for action in _train_actions():
        train_opts._add_action(action)
    s = p.add_argument_group("the sweep")
    a = s.add_argument
    a("--trials", type=int, default=20, help="trials to run now (default 20)")
    a("--jobs", type=int, default=1, help="trials run at once, in separate processes")
    a("--out", help="the sweep's folder (default sweeps/<timestamp>); trials in trial-<n>/")
    a("--storage", help="Optuna storage URL (default sqlite:///<out>/sweep.db)")
    a("--study-name", default="gradfit", help="study to create or continue (default gradfit)")
    a("--monitor", default="val_loss", help="per-epoch value to optimise and prune on")
    a("--pruner", default="median", choices=["median", "hyperband", "none"], help="Optuna pruner")
    a("--search", metavar="FILE.toml", help="search space: lr = [1e-4, 1], width = {choices=[...]}")
    for name in SEARCH_FLAGS:
        flag = "--search-" + name.replace("_", "-")
        if name in ("batch_size", "width"):
            a(flag, metavar="A,B,...", help=f"choices of {name}")
        else:
            a(flag, metavar="LOW:HIGH[:log]", help=f"range of {name}")
    a(
        "--no-baselines",
        action="store_true",
        help="accepted for gradfit train's sake: trials run none",
    )
    a("--no-plots", action="store_true", help="skip the PNGs (history, importance, slice)")
    a("--quiet", action="store_true", help="print only the summary")
    p.set_defaults(func=run)


def _range(flag: str, text: str) -> list[Any]:
    parts = text.split(":")
    if len(parts) not in (2, 3):
        raise UsageError(f"{flag} {text!r}: expected LOW:HIGH or LOW:HIGH:log")
    try:
        lo, hi = float(parts[0]), float(parts[1])
    except ValueError:
        raise UsageError(f"{flag} {text!r}: LOW and HIGH must be numbers") from None
    return [lo, hi, *parts[2:]]


def _choices(flag: str, text: str) -> dict[str, list[int]]:
    try:
        values = [int(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise UsageError(f"{flag} {text!r}: expected integers separated by commas") from None
    if not values or any(v <= 0 for v in values):
        raise UsageError(f"{flag} {text!r}: expected positive integers separated by commas")
    return {"choices": values}


def search_space(args: argparse.Namespace) -> dict[str, Any]:
    """The search space: the defaults, then ``--search`` TOML, then ``--search-*`` flags.

    Example:
        >>> ns = argparse.Namespace(search=None, search_lr="0.01:0.1", search_weight_decay=None,
        ...     search_dropout=None, search_momentum=None, search_batch_size="8,16", search_width=None)
        >>> s = search_space(ns); s["lr"], s["batch_size"]
        ([0.01, 0.1], {'choices': [8, 16]})
    """
    from gradfit.train.sweep import DEFAULT_SPACE

    space: dict[str, Any] = dict(DEFAULT_SPACE)
    if args.search:
        path = Path(args.search)
        if not path.is_file():
            raise UsageError(f"--search {path}: no such file")
        try:
            raw = tomllib.loads(path.read_text())
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as e:
            raise UsageError(f"--search {path}: not valid TOML: {e}") from None
        space = {k.replace("-", "_"): v for k, v in raw.items()}  # the file replaces the defaults
    for name in SEARCH_FLAGS:
        value = getattr(args, "search_" + name, None)
        if value is None:
            continue
        flag = "--search-" + name.replace("_", "-")
        space[name] = (
            _choices(flag, value) if name in ("batch_size", "width") else _range(flag, value)
        )
    return space


def run(args: argparse.Namespace) -> int:
    """Run the sweep; returns the exit code (1 when no trial completed)."""
    try:
        import optuna  # noqa: F401
    except ImportError:
        raise UsageError('gradfit sweep needs Optuna: pip install "gradfit[sweep]"') from None
    from gradfit.train.sweep import parse_space, sweep

    if args.trials < 0:
        raise UsageError(f"--trials must be >= 0, got {args.trials}")
    if args.jobs < 1:
        raise UsageError(f"--jobs must be >= 1, got {args.jobs}")
    config = load_toml(args.config) if args.config else {}
    config.update({k: getattr(args, k) for k in DEFAULTS if getattr(args, k, None) is not None})
    space = search_space(args)
    for name in list(space):  # a setting fixed by its own flag is not searched
        key = "hidden" if name == "width" else name
        if getattr(args, key, None) is not None:
            if getattr(args, "search_" + name, None) is not None:
                flag = "--" + key.replace("_", "-")
                raise UsageError(
                    f"{flag} fixes {name}; --search-{name.replace('_', '-')} searches it: give one"
                )
            del space[name]
    try:
        parse_space(space)
    except ValueError as e:
        raise UsageError(str(e)) from None
    out = Path(args.out) if args.out else Path("sweeps") / time.strftime("%Y%m%d-%H%M%S")
    if out.exists() and not out.is_dir():
        raise UsageError(f"--out {out}: exists and is not a directory")
    try:
        study = sweep(
            config=config,
            search=space,
            trials=args.trials,
            jobs=args.jobs,
            out=out,
            storage=args.storage,
            study_name=args.study_name,
            monitor=args.monitor,
            pruner=args.pruner,
            seed=config.get("seed", 0) or 0,
            plots=not args.no_plots,
            quiet=args.quiet,
        )
    except ValueError as e:
        raise UsageError(str(e)) from None
    if args.quiet:
        from gradfit.train.sweep import format_summary

        print(format_summary(study, args.monitor))
    print(f"wrote {out}/: trials.csv, best.json, sweep plots, trial-<n>/ run folders")
    return 0 if any(t.state.name == "COMPLETE" for t in study.trials) else 1
