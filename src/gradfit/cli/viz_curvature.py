"""``gradfit viz curvature RUN``: the top Hessian eigenvalue of a run next to 2 / lr.

A run trained with ``gradfit train --track-curvature K`` holds a ``sharpness`` column
in its history: the figure follows it epoch by epoch. Any other run is measured here,
at the checkpoints it saved (``checkpoint.safetensors``, the last epoch, and
``best.safetensors`` when it differs), on ``--samples`` training samples, and the figure
says so. The limit drawn is gradient descent's ``2 / lr`` at each epoch's learning rate
(``2 (1 + momentum) / lr`` for SGD with momentum, with plain ``2 / lr`` beside it).

Example:
    >>> from gradfit.cli.main import main
    >>> main(["viz", "curvature", "/no/such/run", "--out", "c.png"])  # one line on stderr
    2
"""

from __future__ import annotations

import argparse
import math
from pathlib import Path
from typing import Any

from gradfit.cli.main import UsageError


def add_curvature(vsub: Any) -> None:
    """Add ``curvature`` to the ``gradfit viz`` subcommands."""
    c = vsub.add_parser(
        "curvature",
        help="top Hessian eigenvalue (sharpness) of a run next to 2 / lr",
        description=__doc__.split("\n\n")[0].split(": ", 1)[1],
    )
    c.add_argument("run", metavar="RUN", help="a run directory or a checkpoint file")
    c.add_argument("--out", required=True, help="output .png/.svg/.pdf")
    c.add_argument(
        "--samples", type=int, default=256, help="training samples a checkpoint is measured on"
    )
    c.add_argument("--iters", type=int, default=30, help="power-iteration steps per measurement")
    c.set_defaults(func=run_curvature)


def _history(run: Path, ckpt: Any) -> list[dict[str, Any]]:
    """The run's per-epoch rows: metrics.json or history.csv beside it, else the checkpoint's."""
    from gradfit.cli.viz import _read_history

    if run.is_dir():
        try:
            return _read_history(run)
        except UsageError:
            pass
    rows = ckpt.meta.get("history") if ckpt is not None else None
    return [r for r in rows if isinstance(r, dict)] if isinstance(rows, list) else []


def _metrics_config(run: Path) -> dict[str, Any]:
    """The training options metrics.json records (a run folder without its checkpoint)."""
    import json

    f = run / "metrics.json"
    try:
        rec = json.loads(f.read_text(encoding="utf-8")) if f.is_file() else {}
    except (OSError, UnicodeDecodeError, json.JSONDecodeError, RecursionError):
        return {}
    cfg = rec.get("config") if isinstance(rec, dict) else None
    return cfg if isinstance(cfg, dict) else {}


def _momentum(cfg: dict[str, Any]) -> tuple[float, str]:
    """The heavy-ball momentum that moves the limit, and a note for optimizers it does not fit."""
    opt = str(cfg.get("optimizer", "sgd")).lower()
    if opt == "sgd":
        m = cfg.get("momentum", 0.0)
        ok = isinstance(m, int | float) and not isinstance(m, bool) and 0 <= m < 1
        return (float(m) if ok and not cfg.get("nesterov") else 0.0), ""
    return 0.0, (
        f"The run used {opt}, which rescales each gradient: 2 / lr is plain gradient "
        "descent's limit, shown for scale."
    )


def _measure(ckpt: Any, samples: int, iters: int) -> float:
    """The top Hessian eigenvalue of the training loss at a checkpoint's weights."""
    import numpy as np

    import gradfit as gf
    from gradfit.cli import common
    from gradfit.train.run import _sharpness_tracker

    model = common.model_from_checkpoint(ckpt)
    cfg = ckpt.meta.get("config") or {}
    cfg = cfg.get("run", cfg)
    if "data" not in cfg:
        raise UsageError(f"checkpoint {ckpt.path}: it records no dataset to measure the loss on")
    data = common.load_data(cfg)
    loss_fn, _ = common.loss_and_metrics(data.task)
    tracker = _sharpness_tracker(1, data, samples)
    model.eval()
    try:
        with np.errstate(all="ignore"):
            value = gf.viz.top_hessian_eigenvalue(
                model, loss_fn, tracker.inputs, tracker.targets, iters=iters
            )
    except (ValueError, TypeError, RuntimeError, NotImplementedError) as e:
        raise UsageError(
            f"checkpoint {ckpt.path}: cannot measure its curvature: {' '.join(str(e).split())}"
        ) from None
    return value


def run_curvature(args: argparse.Namespace) -> int:
    """``gradfit viz curvature``."""
    from gradfit.cli import common
    from gradfit.cli.viz import _IMAGE_SUFFIXES, _check_out
    from gradfit.viz._util import save_figure
    from gradfit.viz.curvature import SharpnessSeries, plot_sharpness, sharpness_from_history

    out = _check_out(args.out, _IMAGE_SUFFIXES)
    if not 1 <= args.samples <= 100_000:
        raise UsageError(f"--samples must be between 1 and 100000, got {args.samples}")
    if not 1 <= args.iters <= 10_000:
        raise UsageError(f"--iters must be between 1 and 10000, got {args.iters}")
    run = Path(args.run)
    if not run.exists():
        raise UsageError(f"{run}: no such run directory or checkpoint")
    path = Path(common.checkpoint_path(str(run)))
    ckpt = common.open_checkpoint(str(path)) if path.is_file() or run.is_file() else None
    rows = _history(run, ckpt)
    cfg = (ckpt.meta.get("config") or {}) if ckpt is not None else _metrics_config(run)
    cfg = cfg.get("run", cfg) if isinstance(cfg, dict) else {}
    momentum, note = _momentum(cfg)
    try:
        series = sharpness_from_history(rows, momentum=momentum)
    except ValueError:
        series = None
    if series is not None:
        series.note = note
        limit_curve = None
        what = f"recorded at {len(series.steps)} epochs"
    else:
        if ckpt is None:
            raise UsageError(
                f"{run}: no checkpoint.safetensors and no recorded sharpness (gradfit train "
                "--track-curvature K records it)"
            )
        points = [ckpt]
        best = path.with_name("best.safetensors")
        if run.is_dir() and best.is_file():
            other = common.open_checkpoint(str(best))
            if other.meta.get("epoch") != ckpt.meta.get("epoch"):
                points.insert(0, other)
        lr_of = {r.get("epoch"): r.get("lr") for r in rows if isinstance(r.get("lr"), int | float)}
        epochs, values, lrs = [], [], []
        for c in points:
            epoch = c.meta.get("epoch")
            epoch = epoch if isinstance(epoch, int) and not isinstance(epoch, bool) else 0
            lr = lr_of.get(epoch, cfg.get("lr"))
            if not isinstance(lr, int | float) or not lr > 0:
                raise UsageError(f"checkpoint {c.path}: it records no learning rate")
            epochs.append(epoch)
            values.append(_measure(c, args.samples, args.iters))
            lrs.append(float(lr))
        where = " and ".join(f"epoch {e}" for e in epochs)
        series = SharpnessSeries(
            lr=lrs[-1], steps=epochs, sharpness=values, lrs=lrs, momentum=momentum, unit="epoch"
        )
        series.note = " ".join(
            (
                f"This run recorded no curvature while it trained, so it is measured here at "
                f"its saved weights ({where}) on {args.samples} training samples; train with "
                "--track-curvature K to follow it epoch by epoch.",
                note,
            )
        ).strip()
        lr_rows = sorted((e, float(v)) for e, v in lr_of.items() if isinstance(e, int))
        limit_curve = tuple(zip(*lr_rows)) if len(lr_rows) > 1 else None
        what = f"measured at {where}"
    if not all(math.isfinite(v) for v in series.sharpness):
        raise UsageError(f"{run}: the curvature is not finite (the weights hold NaN or inf)")
    save_figure(plot_sharpness(series, limit_curve=limit_curve), out)
    for e, v, lr in zip(series.steps, series.sharpness, series.lrs or []):
        limit = 2 * (1 + series.momentum) / lr
        print(f"epoch {e}: sharpness {v:.4g}  limit {limit:.4g}  ({v / limit:.0%} of it)")
    print(f"wrote {out} (sharpness {what})")
    return 0


def _run_lr(ckpt: Any) -> float | None:
    """The learning rate of the checkpoint's last epoch (else its configured one)."""
    rows = ckpt.meta.get("history")
    if isinstance(rows, list):
        for row in reversed(rows):
            lr = row.get("lr") if isinstance(row, dict) else None
            if isinstance(lr, int | float) and not isinstance(lr, bool):
                return float(lr)
    cfg = ckpt.meta.get("config") or {}
    lr = cfg.get("run", cfg).get("lr")
    return float(lr) if isinstance(lr, int | float) and not isinstance(lr, bool) else None


def newton_landscape(
    args: argparse.Namespace, ckpt: Any, model: Any, loss_fn: Any, x: Any, y: Any, out: Path
) -> int:
    """``gradfit viz landscape --newton``: the slice through the gradient and Newton steps.

    The model is evaluated in float64 (the Newton step solves a linear system with
    Hessian-vector products, which float32 rounding would blur).
    """
    import numpy as np

    import gradfit as gf
    from gradfit.viz._util import save_figure
    from gradfit.viz.newton import newton_landscape as landscape
    from gradfit.viz.newton import plot_newton_landscape

    lr = args.lr if args.lr is not None else _run_lr(ckpt)
    if lr is None:
        raise UsageError(f"checkpoint {ckpt.path}: it records no learning rate; give --lr")
    if not (math.isfinite(lr) and lr > 0):
        raise UsageError(f"--lr must be a positive number, got {lr}")
    if not (math.isfinite(args.damping) and args.damping >= 0):
        raise UsageError(f"--damping must be a finite number >= 0, got {args.damping}")
    model = model.double()
    if x.dtype in (gf.float16, gf.float32):
        x = x.double()
    if y.dtype in (gf.float16, gf.float32):
        y = y.double()

    def loss_of(m: Any) -> Any:
        return loss_fn(m(x), y)

    try:
        with np.errstate(all="ignore"):
            a, b, z, arrows, steps = landscape(
                model, loss_of, lr, steps=args.steps, damping=args.damping
            )
    except (ValueError, NotImplementedError) as e:
        raise UsageError(f"--newton: {' '.join(str(e).split())}") from None
    save_figure(plot_newton_landscape(a, b, z, arrows, steps), out)
    how = (
        "exact Hessian"
        if steps.method == "exact"
        else f"conjugate gradients, {steps.iterations} Hessian-vector products"
    )
    print(
        f"gradient step |lr g| = {np.linalg.norm(steps.gradient):.4g} (lr {lr:.3g}); Newton step "
        f"|H^-1 g| = {np.linalg.norm(steps.newton):.4g} ({how}, relative residual "
        f"{steps.residual:.2g})"
    )
    if steps.negative_curvature:
        print(
            "the Hessian is not positive definite here: the quadratic model has no minimum and "
            + ("the Newton step heads for a saddle" if steps.method == "exact" else
               "conjugate gradients stopped at a direction of negative curvature")
        )  # fmt: skip
    elif steps.residual > 1e-3:
        print(
            f"note: the Newton step is not solved (relative residual {steps.residual:.2g}): the "
            "Hessian is nearly singular here; --damping 0.01 or so regularises it"
        )
    print(f"wrote {out} (loss at the trained weights {steps.loss:.4g} on {len(x)} test samples)")
    return 0
