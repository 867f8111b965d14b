"""``gradfit docs``: build the documentation site (strict) and open it in a browser.

Needs the ``docs`` extra (``pip install -e ".[docs]"``) and a checkout: the site's
sources (``mkdocs.yml``, ``docs/``) are not part of the installed package. ``--serve``
runs ``mkdocs serve`` instead (live reload while editing pages).

Example:
    >>> import argparse
    >>> p = argparse.ArgumentParser(); sub = p.add_subparsers(); register(sub)
    >>> p.parse_args(["docs", "--no-open"]).open
    False
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from gradfit.cli.main import UsageError

INSTALL = 'pip install -e ".[docs]"'


def register(sub: Any) -> None:
    """Add the ``docs`` subcommand."""
    p = sub.add_parser("docs", help="build the documentation site and open it in a browser")
    p.add_argument("--config", help="mkdocs.yml (default: found from here or the checkout)")
    p.add_argument("--site-dir", help="where to build (default: site/ next to mkdocs.yml)")
    p.add_argument("--no-open", dest="open", action="store_false", help="build only")
    p.add_argument("--serve", action="store_true", help="run `mkdocs serve` (live reload)")
    p.set_defaults(func=run)


def find_config(start: Path | None = None) -> Path:
    """The ``mkdocs.yml`` in ``start`` (default: the current directory) or a parent, else
    the one of the checkout gradfit is imported from (an editable install).

    Example:
        >>> find_config().name
        'mkdocs.yml'
    """
    here = (start or Path.cwd()).resolve()
    checkout = Path(__file__).resolve().parents[3]
    for d in [here, *here.parents, checkout]:
        if (d / "mkdocs.yml").is_file():
            return d / "mkdocs.yml"
    raise UsageError(
        "docs: no mkdocs.yml here, in a parent folder or in gradfit's checkout; "
        "run it from a clone of the repository"
    )


def build_command(config: Path, site_dir: Path | None = None, serve: bool = False) -> list[str]:
    """The ``mkdocs`` command line that builds strictly (or serves) the site of ``config``.

    Example:
        >>> build_command(Path("mkdocs.yml"), Path("out"))[2:]
        ['mkdocs', 'build', '--strict', '-f', 'mkdocs.yml', '-d', 'out']
    """
    cmd = [sys.executable, "-m", "mkdocs", "serve" if serve else "build", "--strict"]
    cmd += ["-f", str(config)]
    if site_dir is not None and not serve:
        cmd += ["-d", str(site_dir)]
    return cmd


def build_env(config: Path) -> dict[str, str]:
    """The environment for mkdocs: this checkout's ``src`` first on ``PYTHONPATH``."""
    src = str(config.resolve().parent / "src")
    path = os.environ.get("PYTHONPATH", "")
    return {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([src, path]) if path else src,
        "MPLBACKEND": "Agg",
        "NO_MKDOCS_2_WARNING": "1",
    }


def run(args: argparse.Namespace) -> int:
    """Build (or serve) and open; returns the exit code."""
    missing = [
        m for m in ("mkdocs", "material", "mkdocstrings") if importlib.util.find_spec(m) is None
    ]
    if missing:
        raise UsageError(f"docs: needs {', '.join(missing)}; install them with {INSTALL}")
    config = Path(args.config) if args.config else find_config()
    if not config.is_file():
        raise UsageError(f"docs: no such config file: {config}")
    site = Path(args.site_dir) if args.site_dir else config.resolve().parent / "site"
    cmd = build_command(config, site, serve=args.serve)
    done = subprocess.run(cmd, env=build_env(config), cwd=config.resolve().parent)
    if done.returncode != 0 or args.serve:
        return done.returncode
    index = site.resolve() / "index.html"
    print(f"built {index}")
    if args.open:
        import webbrowser

        webbrowser.open(index.as_uri())
    return 0
