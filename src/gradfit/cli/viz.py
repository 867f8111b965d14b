"""``gradfit viz``: draw pictures of learning to PNG/SVG/GIF files.

Subcommands::

    gradfit viz descent --function rosenbrock --lr 0.001 --out path.png [--gif]
    gradfit viz graph --model mlp --out graph.svg        (or .dot without Graphviz)
    gradfit viz curves RUN_DIR --out curves.png
    gradfit viz landscape RUN_DIR_OR_CHECKPOINT --out landscape.png [--2d | --newton]
    gradfit viz explain "x * w + b" --values x=3,w=2,b=1
    gradfit viz curvature RUN_DIR --out sharpness.png
    gradfit viz attention RUN_DIR --text emma --out attention.png

Example:
    >>> from gradfit.cli.main import main
    >>> main(["viz", "explain", "x * y", "--values", "x=3,y=2"])  # doctest: +ELLIPSIS
    Backward pass of a () tensor: 1 operations, 2 leaves
    ...
      d(out)/d(y) = 3
    0
"""

from __future__ import annotations

import argparse
import ast
import json
import math
from pathlib import Path
from typing import Any

from gradfit.cli.main import UsageError

_IMAGE_SUFFIXES = (".png", ".svg", ".pdf")


def register(sub: Any) -> None:
    """Add the ``viz`` subcommand and its own subcommands."""
    p = sub.add_parser(
        "viz",
        help="draw graphs, descent paths, loss landscapes and training curves",
        description="Draw pictures of learning from real gradfit objects.",
    )
    vsub = p.add_subparsers(dest="viz_command", metavar="WHAT")
    _add = vsub.add_parser

    def add_parser(*a: Any, **kw: Any) -> argparse.ArgumentParser:  # help shows defaults
        from gradfit.cli.main import HelpFormatter

        kw.setdefault("formatter_class", HelpFormatter)
        return _add(*a, **kw)

    vsub.add_parser = add_parser  # type: ignore[method-assign]
    p.set_defaults(func=lambda args: _no_subcommand(p))

    d = vsub.add_parser("descent", help="optimizer paths on a 2-D test function")
    d.add_argument("--function", default="rosenbrock", help="bowl, rosenbrock, beale or two_minima")
    d.add_argument("--lr", type=float, help="learning rate for every optimizer (default: tuned)")
    d.add_argument("--steps", type=int, help="optimizer steps (default: the function's)")
    d.add_argument("--start", type=float, nargs=2, metavar=("X", "Y"), help="starting point")
    d.add_argument(
        "--optimizers",
        default="sgd,momentum,nesterov,rmsprop,adam",
        help="comma-separated subset of sgd,momentum,nesterov,rmsprop,adam",
    )
    d.add_argument("--out", required=True, help="output .png/.svg/.pdf (or .gif for animation)")
    d.add_argument("--gif", action="store_true", help="also write an animated GIF beside --out")
    d.set_defaults(func=run_descent)

    g = vsub.add_parser("graph", help="the computational graph of a model's loss")
    g.add_argument("--model", default="mlp", help="mlp, cnn, cnn1d, logistic or linear")
    g.add_argument("--data", default="digits", help="dataset that sizes the model (default digits)")
    g.add_argument("--hidden", help="hidden sizes of the MLP, e.g. 32,16")
    g.add_argument("--batch-size", type=int, default=4, help="samples in the forward pass")
    g.add_argument("--collapse", choices=["auto", "yes", "no"], default="auto")
    g.add_argument("--out", required=True, help="output .dot, .svg, .png or .pdf")
    g.set_defaults(func=run_graph)

    c = vsub.add_parser("curves", help="loss and metric curves of a training run")
    c.add_argument("run", metavar="RUN_DIR", help="a run directory (history.csv or metrics.json)")
    c.add_argument("--out", required=True, help="output .png/.svg/.pdf")
    c.add_argument("--metrics", help="comma-separated quantities (default: all)")
    c.set_defaults(func=run_curves)

    s = vsub.add_parser("landscape", help="loss landscape of a trained model around its weights")
    s.add_argument("checkpoint", metavar="RUN_DIR_OR_CHECKPOINT")
    s.add_argument("--out", required=True, help="output .png/.svg/.pdf")
    s.add_argument("--2d", dest="two_d", action="store_true", help="a 2-D slice (default 1-D)")
    s.add_argument("--steps", type=int, default=21, help="points per axis")
    s.add_argument("--span", type=float, default=1.0, help="range of the slice: -span..span")
    s.add_argument("--samples", type=int, default=256, help="test samples the loss is taken on")
    s.add_argument("--seed", type=int, default=0, help="seed of the random directions")
    s.add_argument(
        "--newton",
        action="store_true",
        help="2-D slice through the gradient step and the Newton step -H^-1 g, drawn as arrows",
    )
    s.add_argument("--lr", type=float, help="--newton: the gradient step's lr (default the run's)")
    s.add_argument(
        "--damping", type=float, default=0.0, help="--newton: solve (H + damping I) s = -g"
    )
    s.set_defaults(func=run_landscape)

    e = vsub.add_parser("explain", help="the chain rule step by step for a small expression")
    e.add_argument("expression", help='e.g. "(x * w + b).relu()"; operators and tensor methods')
    e.add_argument("--values", required=True, help="leaf values, e.g. x=3,w=2,b=-1")
    e.set_defaults(func=run_explain)

    from gradfit.cli.viz_curvature import add_curvature

    add_curvature(vsub)

    t = vsub.add_parser("attention", help="attention maps of a char_lm transformer on one text")
    t.add_argument("checkpoint", metavar="RUN_DIR_OR_CHECKPOINT", help="a char_lm transformer run")
    t.add_argument("--text", required=True, help="the context, at most the run's --block-size")
    t.add_argument("--out", required=True, help="output .png/.svg/.pdf")
    t.set_defaults(func=run_attention)


def _no_subcommand(p: argparse.ArgumentParser) -> int:
    p.print_help()
    return 2


def _check_out(out: str, allowed: tuple[str, ...]) -> Path:
    path = Path(out)
    if path.suffix.lower() not in allowed:
        raise UsageError(f"--out {out}: expected a file name ending in {', '.join(allowed)}")
    from gradfit.cli.common import check_output_file

    check_output_file(out, "--out")
    return path


# --------------------------------------------------------------------------- descent
MAX_DESCENT_STEPS = 100_000  # a picture of a path; more steps only hide a typo
_OPT_NAMES = {
    "sgd": "SGD",
    "momentum": "Momentum",
    "nesterov": "Nesterov",
    "rmsprop": "RMSprop",
    "adam": "Adam",
}


def run_descent(args: argparse.Namespace) -> int:
    """``gradfit viz descent``."""
    from gradfit.viz import descent
    from gradfit.viz._util import save_figure

    out = _check_out(args.out, (*_IMAGE_SUFFIXES, ".gif"))
    if args.function not in descent.FUNCTIONS:
        from gradfit.cli.main import did_you_mean

        raise UsageError(
            f"--function: unknown test function {args.function!r}"
            f"{did_you_mean(args.function, list(descent.FUNCTIONS))}; "
            f"choose from {', '.join(descent.FUNCTIONS)}"
        )
    try:
        fn = descent.get_function(args.function)
        opts = descent.default_optimizers(fn, args.lr)
    except ValueError as e:
        raise UsageError(str(e)) from None
    wanted = [w.strip().lower() for w in args.optimizers.split(",") if w.strip()]
    bad = [w for w in wanted if w not in _OPT_NAMES]
    if bad or not wanted:
        raise UsageError(
            f"--optimizers: unknown {bad or wanted}; choose from {', '.join(_OPT_NAMES)}"
        )
    opts = {_OPT_NAMES[w]: opts[_OPT_NAMES[w]] for w in wanted}
    if args.steps is not None and not 1 <= args.steps <= MAX_DESCENT_STEPS:
        raise UsageError(f"--steps must be between 1 and {MAX_DESCENT_STEPS}, got {args.steps}")
    if args.lr is not None and not (math.isfinite(args.lr) and args.lr > 0):
        raise UsageError(f"--lr must be a positive number, got {args.lr}")
    if args.start is not None and not all(math.isfinite(v) for v in args.start):
        raise UsageError(f"--start must be two finite numbers, got {args.start}")
    try:
        paths = descent.descent_paths(fn, args.start, opts, args.steps)
    except ValueError as e:
        raise UsageError(str(e)) from None
    for name, p in paths.items():
        status = "diverged" if p.diverged else f"f = {p.final_loss:.4g}"
        print(
            f"{name:9s} {p.steps} steps -> ({p.points[-1][0]:.4g}, {p.points[-1][1]:.4g}), {status}"
        )
    if out.suffix.lower() == ".gif":
        descent.animate_descent(fn, paths, out)
        print(f"wrote {out}")
        return 0
    save_figure(descent.plot_descent(fn, paths), out)
    print(f"wrote {out}")
    if args.gif:
        gif = out.with_suffix(".gif")
        descent.animate_descent(fn, paths, gif)
        print(f"wrote {gif}")
    return 0


# --------------------------------------------------------------------------- graph
def run_graph(args: argparse.Namespace) -> int:
    """``gradfit viz graph``."""
    import numpy as np

    import gradfit as gf
    from gradfit.cli import common
    from gradfit.cli.config import resolve
    from gradfit.viz.graph import GraphvizNotFoundError, draw_graph

    out = _check_out(args.out, (".dot", ".gv", ".svg", ".png", ".pdf"))
    flags: dict[str, Any] = {"model": args.model, "data": args.data, "dropout": 0.0}
    if args.hidden:
        flags["hidden"] = args.hidden
    try:
        cfg = resolve(flags)
    except ValueError as e:
        raise UsageError(str(e)) from None
    if not 1 <= args.batch_size <= 1024:
        raise UsageError(f"--batch-size must be between 1 and 1024, got {args.batch_size}")
    data = common.load_data(cfg)
    model = common.build_for(cfg, data)
    loss_fn, _ = common.loss_and_metrics(data.task)
    n = min(args.batch_size, len(data.train.x))
    if n < 2 and any("BatchNorm" in type(m).__name__ for m in model.modules()):
        raise UsageError(
            f"--batch-size {args.batch_size}: the {cfg['model']} has batch normalisation, which "
            "needs at least 2 samples in a training batch"
        )
    x = gf.tensor(np.asarray(data.train.x[:n]))
    y = gf.tensor(common.targets_for(data.task, np.asarray(data.train.y[:n])))
    loss = loss_fn(model(x), y)
    loss.backward()
    collapse = {"auto": "auto", "yes": True, "no": False}[args.collapse]
    graph = draw_graph(loss, params=model, collapse=collapse)
    try:
        graph.save(out)
    except GraphvizNotFoundError as e:
        raise UsageError(str(e)) from None
    print(f"wrote {out} ({len(graph.nodes)} nodes{', collapsed' if graph.collapsed else ''})")
    return 0


# --------------------------------------------------------------------------- curves
def _read_history(run: Path) -> list[dict[str, Any]]:
    if run.is_file():
        files = [run]
    else:
        if not run.is_dir():
            raise UsageError(f"{run}: no such run directory")
        files = [run / "metrics.json", run / "history.csv", run / "checkpoint.json"]
    for f in files:
        if not f.is_file():
            continue
        if f.stat().st_size > 64 * 2**20:
            raise UsageError(f"{f}: too large for a training history ({f.stat().st_size} bytes)")
        try:
            text = f.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            raise UsageError(
                f"{f}: not a text file; expected a run directory, metrics.json or history.csv"
            ) from None
        if f.suffix == ".csv":
            import csv
            import io

            try:
                rows = [
                    {k: _number(v) for k, v in r.items() if v not in ("", None) and k is not None}
                    for r in csv.DictReader(io.StringIO(text))
                ]
            except csv.Error as e:
                raise UsageError(f"{f}: not a readable CSV: {e}") from None
            if rows:
                return rows
        else:
            try:
                rec = json.loads(text)
            except (json.JSONDecodeError, RecursionError) as e:
                raise UsageError(f"{f}: not valid JSON: {str(e)[:200]}") from None
            rows = rec.get("history") if isinstance(rec, dict) else rec
            if isinstance(rows, list) and rows and all(isinstance(r, dict) for r in rows):
                return rows
    raise UsageError(f"{run}: no training history found (metrics.json, history.csv)")


def _number(v: str) -> Any:
    try:
        f = float(v)
    except ValueError:
        return v
    return int(f) if f.is_integer() and "." not in v and "e" not in v.lower() else f


def run_curves(args: argparse.Namespace) -> int:
    """``gradfit viz curves``."""
    from gradfit.viz._util import save_figure
    from gradfit.viz.plots import plot_history

    out = _check_out(args.out, _IMAGE_SUFFIXES)
    rows = _read_history(Path(args.run))
    metrics = [m.strip() for m in args.metrics.split(",")] if args.metrics else None
    try:
        fig = plot_history(rows, metrics)
    except ValueError as e:
        raise UsageError(str(e)) from None
    save_figure(fig, out)
    print(f"wrote {out} ({len(rows)} epochs)")
    return 0


# --------------------------------------------------------------------------- landscape
def run_landscape(args: argparse.Namespace) -> int:
    """``gradfit viz landscape``."""
    import numpy as np

    import gradfit as gf
    from gradfit.cli import common
    from gradfit.viz import landscape
    from gradfit.viz._util import save_figure

    out = _check_out(args.out, _IMAGE_SUFFIXES)
    if not 2 <= args.steps <= 401:
        raise UsageError(f"--steps must be between 2 and 401, got {args.steps}")
    if not (math.isfinite(args.span) and args.span > 0):
        raise UsageError(f"--span must be a positive finite number, got {args.span}")
    if not 1 <= args.samples <= 100_000:
        raise UsageError(f"--samples must be between 1 and 100000, got {args.samples}")
    ckpt = common.open_checkpoint(common.checkpoint_path(args.checkpoint))
    model = common.model_from_checkpoint(ckpt)
    cfg = ckpt.meta.get("config") or {}
    cfg = cfg.get("run", cfg)  # gradfit train stores its options under config.run
    if "data" not in cfg:
        raise UsageError(f"checkpoint {ckpt.path}: it records no dataset to evaluate the loss on")
    data = common.load_data(cfg)
    loss_fn, _ = common.loss_and_metrics(data.task)
    split = data.test if getattr(data, "test", None) is not None else data.train
    n = min(args.samples, len(split.x))
    x = gf.tensor(np.asarray(split.x[:n]))
    y = gf.tensor(common.targets_for(data.task, np.asarray(split.y[:n])))

    def loss_of(m: Any) -> Any:
        return loss_fn(m(x), y)

    if args.newton:
        from gradfit.cli.viz_curvature import newton_landscape

        return newton_landscape(args, ckpt, model, loss_fn, x, y, out)
    if args.lr is not None or args.damping:
        raise UsageError("--lr and --damping set the steps of --newton; add --newton")
    rng = np.random.default_rng(args.seed)
    if args.two_d:
        a, b, z = landscape.loss_surface_2d(
            model, loss_of, span=args.span, steps=args.steps, generator=rng
        )
        fig = landscape.plot_surface_2d(a, b, z)
        centre = z[len(b) // 2, len(a) // 2]
    else:
        a, losses = landscape.loss_slice_1d(
            model, loss_of, span=args.span, steps=args.steps, generator=rng
        )
        fig = landscape.plot_slice_1d(a, losses)
        centre = losses[len(a) // 2]
    save_figure(fig, out)
    print(f"wrote {out} (loss at the trained weights {centre:.4g} on {n} test samples)")
    return 0


# --------------------------------------------------------------------------- attention
def run_attention(args: argparse.Namespace) -> int:
    """``gradfit viz attention``: one panel per block and head, for the model's context
    ``--text`` left-padded with the boundary character as in training."""
    import numpy as np

    from gradfit.cli import common
    from gradfit.viz._util import save_figure
    from gradfit.viz.sequence import attention_maps, plot_attention

    out = _check_out(args.out, _IMAGE_SUFFIXES)
    ckpt, model, vocab = common.char_lm_from_checkpoint(args.checkpoint, "viz attention")
    if model.arch != "transformer":
        raise UsageError(
            f"viz attention: {ckpt.path} holds a char_lm with arch {model.arch!r}, which has no "
            "attention; train one with --arch transformer"
        )
    text, block = args.text, model.block_size
    bad = sorted(set(text) - set(vocab))
    if bad:
        raise UsageError(f"--text {text!r}: {''.join(bad)!r} not in the run's vocabulary {vocab!r}")
    if len(text) > block:
        raise UsageError(
            f"--text {text!r}: {len(text)} characters, but the model reads at most "
            f"{block} (its --block-size)"
        )
    tokens = vocab[0] * (block - len(text)) + text  # padded as the training contexts are
    index = {c: i for i, c in enumerate(vocab)}
    maps = attention_maps(model, np.array([index[c] for c in tokens], dtype=np.int64))
    save_figure(plot_attention(maps, tokens), out)
    nb, nh = maps.shape[:2]
    print(f"wrote {out} ({nb} blocks x {nh} heads, context {tokens!r})")
    return 0


# --------------------------------------------------------------------------- explain
_ALLOWED_NODES = (
    ast.Expression, ast.BinOp, ast.UnaryOp, ast.Name, ast.Load, ast.Constant, ast.Call,
    ast.Attribute, ast.Add, ast.Sub, ast.Mult, ast.Div, ast.Pow, ast.USub, ast.UAdd, ast.MatMult,
)  # fmt: skip


MAX_CONSTANT = 1e12


def run_explain(args: argparse.Namespace) -> int:
    """``gradfit viz explain``: parse a small arithmetic expression safely (no eval of code)."""
    import gradfit as gf
    from gradfit.viz.explain import explain_backward

    leaves: dict[str, Any] = {}
    for item in args.values.split(","):
        name, sep, val = item.partition("=")
        name = name.strip()
        if not sep or not name.isidentifier():
            raise UsageError(f"--values: expected name=number pairs, got {item!r}")
        try:
            num = float(val)
        except ValueError:
            raise UsageError(f"--values: {name} must be a number, got {val!r}") from None
        if not math.isfinite(num):
            raise UsageError(f"--values: {name} must be finite")
        leaves[name] = gf.tensor(num, requires_grad=True)
    try:
        tree = ast.parse(args.expression, mode="eval")
    except SyntaxError as e:
        raise UsageError(f"expression {args.expression!r}: {e.msg}") from None
    for node in ast.walk(tree):
        if not isinstance(node, _ALLOWED_NODES):
            raise UsageError(
                f"expression: {type(node).__name__} is not allowed; use numbers, names, "
                "+ - * / ** and tensor methods such as .relu() .exp() .tanh()"
            )
        if isinstance(node, ast.Attribute) and (
            node.attr.startswith("_") or not callable(getattr(gf.Tensor, node.attr, None))
        ):
            raise UsageError(f"expression: .{node.attr} is not a tensor method")
        if isinstance(node, ast.Name) and node.id not in leaves:
            raise UsageError(f"expression: {node.id} has no value; give it in --values")
        if isinstance(node, ast.Constant):
            if isinstance(node.value, bool) or not isinstance(node.value, int | float):
                raise UsageError(f"expression: {node.value!r} is not a number")
            if not abs(node.value) <= MAX_CONSTANT:  # also refuses nan
                raise UsageError(f"expression: the constant {node.value} is too large")
            node.value = float(node.value)  # float powers overflow at once; int ones never end
    if len(args.expression) > 2000 or sum(1 for _ in ast.walk(tree)) > 500:
        raise UsageError("expression: too long (at most 500 parts); explain a small expression")
    import warnings

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", RuntimeWarning)  # overflow: refuse, not inf
            out = eval(compile(tree, "<expression>", "eval"), {"__builtins__": {}}, dict(leaves))
            if isinstance(out, gf.Tensor):
                import numpy as np

                if not np.isfinite(out.numpy()).all():
                    raise OverflowError
    except (OverflowError, FloatingPointError, RuntimeWarning):
        raise UsageError(
            "expression: a value is too large for floating point or not a number "
            "(overflow, division by zero, log of a negative number)"
        ) from None
    except (TypeError, ValueError, RuntimeError, ArithmeticError) as e:
        raise UsageError(f"expression: {e}") from None
    if not isinstance(out, gf.Tensor) or out.grad_fn is None:
        raise UsageError("expression: it must compute a tensor from the named values")
    print(explain_backward(out, names=leaves))
    return 0
