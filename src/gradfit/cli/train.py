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
import json
import math
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

import gradfit as gf
from gradfit.cli import common
from gradfit.cli.config import DEFAULTS, load_toml, resolve
from gradfit.cli.main import UsageError


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
    a("--arch", help="char_lm: bigram, mlp, rnn, gru or transformer (default transformer)")
    a("--block-size", type=int, help="names/text: characters of context (default 8)")
    a("--heads", type=int, help="char_lm transformer: attention heads (default 4)")
    a("--layers", type=int, help="char_lm: blocks or recurrent layers; gru/lstm: layers")
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
    a("--lr", type=float, help="learning rate")
    a("--momentum", type=float, help="momentum (SGD, RMSprop)")
    a("--nesterov", action="store_const", const=True, help="Nesterov momentum (SGD)")
    a("--weight-decay", type=float, help="L2 regularisation (biases and norms excluded)")
    a("--l1", type=float, help="L1 penalty coefficient added to the loss")
    a("--schedule", help="none, cosine, step, exponential, linear, onecycle or plateau")
    a("--epochs", type=int, help="number of epochs (with --resume: the total to reach)")
    a("--batch-size", type=int, help="mini-batch size")
    a("--seed", type=int, help="random seed (weights, shuffling, dropout)")
    a("--embedding-dim", type=int, help="factor dimension of matrix factorisation")
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
    a("--quiet", action="store_true", help="one line per epoch, no live progress bar")
    a("--report", action="store_true", help="write report.html with curves and tables")
    a("--config", metavar="FILE.toml", help="options as TOML (command-line flags win)")
    p.set_defaults(func=run)


def _flags(args: argparse.Namespace) -> dict[str, Any]:
    return {k: getattr(args, k, None) for k in DEFAULTS}


def _out_dir(args: argparse.Namespace, resume_path: Path | None) -> Path:
    if resume_path is not None and not args.out:
        return resume_path.parent
    out = Path(args.out) if args.out else Path("runs") / time.strftime("%Y%m%d-%H%M%S")
    for p in (out, *out.parents):  # the first existing part of the path must be a directory
        if p.exists():
            if not p.is_dir():
                raise UsageError(f"--out {out}: {p} exists and is not a directory")
            break
    same_run = resume_path is not None and out.resolve() == resume_path.parent.resolve()
    if (out / "checkpoint.safetensors").exists() and not args.overwrite and not same_run:
        raise UsageError(
            f"--out {out} already holds a checkpoint; choose another --out, add --overwrite, "
            f"or continue it with --resume {out}"
        )
    return out


# schedules whose shape depends on the number of epochs (see common.make_scheduler)
PLANNED_SCHEDULES = ("cosine", "step", "linear", "onecycle")


def _replan(trainer: Any, cfg: dict[str, Any], optimizer: Any, steps_per_epoch: int) -> Any:
    """A fresh schedule over ``cfg['epochs']``, advanced to where the resumed run is.

    Resuming with a different ``--epochs`` means the user wants a longer (or shorter)
    run; the checkpoint's schedule still describes the old length (a cosine schedule
    would pass its minimum and rise again). The optimizer's groups keep their
    ``initial_lr``, so the new schedule starts from the same base learning rate.
    """
    for group in optimizer.param_groups:  # chainable schedules start from the current lr
        group["lr"] = group.get("initial_lr", group["lr"])
    scheduler = common.make_scheduler(cfg, optimizer, steps_per_epoch)
    done = trainer.global_step if trainer.scheduler_interval == "step" else trainer.epoch
    for _ in range(done):
        scheduler.step()
    return scheduler


# what a resumed run may change; anything else would silently train another experiment
RESUME_MAY_CHANGE = {"epochs", "data_dir", "download", "early_stopping"}


def _refuse_changes(
    args: argparse.Namespace,
    toml: dict[str, Any] | None,
    saved: dict[str, Any],
    cfg: dict[str, Any],
    resume_path: Path | None,
) -> None:
    """``--resume`` continues one run: its data, model and optimizer stay as they were."""
    was = resolve({}, saved)
    given = {k for k, v in _flags(args).items() if v is not None} | set(toml or {})
    for key in sorted(given - RESUME_MAY_CHANGE):
        if cfg[key] != was[key]:
            flag = "--" + key.replace("_", "-")
            raise UsageError(
                f"--resume {resume_path}: {flag} {cfg[key]!r} differs from the run's "
                f"{was[key]!r}; a resumed run keeps its settings (only --epochs, "
                f"--early-stopping, --data-dir and --download may change): start a new run "
                f"from its weights with --init-from instead"
            )


def _needs_new_head(base: Any, model: Any, cfg: dict[str, Any], data: Any) -> bool:
    """A new output layer when the outputs would mean other classes than the base run's."""
    from gradfit.cli.config import parse_classes

    outputs = [p for _, p in model.named_parameters()][-1].shape[0]
    if outputs != data.num_classes:
        return True
    base_run = (base.meta.get("config") or {}).get("run")
    if not base_run:  # saved from Python: only the count is known, and it matches
        return False
    try:
        base_classes = parse_classes(base_run.get("classes")) or list(range(outputs))
    except UsageError:
        return True
    classes = cfg["classes"] or list(range(data.num_classes))
    return base_run.get("data") != cfg["data"] or base_classes != classes


def _check_input_shape(base: Any, model: Any, data: Any, where: str) -> None:
    """Refuse (before anything is written) a checkpoint whose inputs are not the data's."""
    shape = list(data.train.x.shape[1:])
    saved = (base.meta.get("config") or {}).get("input_shape")
    if saved is not None and list(saved) != shape:
        raise UsageError(
            f"--init-from {where}: the checkpoint was trained on inputs of shape "
            f"{tuple(saved)}, but this data gives {tuple(shape)}; use data of the same shape "
            f"(or --model matching the checkpoint's view)"
        )
    was = model.training
    model.eval()
    try:  # also for checkpoints saved from Python without an input_shape
        with gf.no_grad():
            model(gf.tensor(data.train.x[:1]))
    except (ValueError, TypeError, IndexError, RuntimeError) as e:
        raise UsageError(
            f"--init-from {where}: the checkpoint's model does not accept this data's inputs "
            f"of shape {tuple(shape)}: {e}"
        ) from None
    finally:
        model.train(was)


def _freeze(model: Any, prefixes: list[str]) -> list[str]:
    names = [n for n, _ in model.named_parameters()]
    frozen = []
    for prefix in prefixes:
        hits = [n for n in names if n.startswith(prefix)]
        if not hits:
            raise UsageError(
                f"--freeze {prefix}: no parameter name starts with it; names: {', '.join(names)}"
            )
        frozen += hits
    for n, p in model.named_parameters():
        if n in frozen:
            p.requires_grad_(False)
    return frozen


def _augmentation(cfg: dict[str, Any], data: Any) -> Any:
    """The training-time transform ``--shift`` asks for (None when it is 0)."""
    from gradfit.data.transforms import RandomShift, RandomShift1d

    shift = cfg.get("shift") or 0
    if not shift:
        return None
    info = data.description
    shape = tuple(info.input_shape)
    if info.extra.get("layout") == "sequence":
        size, what, transform = shape[-1], "sequence length", RandomShift1d
    elif len(shape) == 3:
        size, what, transform = min(shape[1:]), "image side", RandomShift
    else:
        raise UsageError(
            f"--shift {shift}: needs images (N, C, H, W) or sequences; --data {cfg['data']} with "
            f"--model {cfg['model']} gives flat vectors of shape {shape}"
            + (
                " (use --model cnn for the image view)"
                if cfg["data"] in common.IMAGE_DATASETS
                else ""
            )
        )
    if shift >= size:
        raise UsageError(f"--shift {shift}: must be smaller than the {what} ({size})")
    return transform(shift)


def _loaders(cfg: dict[str, Any], data: Any) -> tuple[Any, Any, Any]:
    from gradfit.data import ArrayDataset, DataLoader

    task = data.task

    def ds(split: Any) -> Any:
        return ArrayDataset(split.x, common.targets_for(task, split.y))

    gen = np.random.Generator(np.random.PCG64(cfg["seed"]))
    train = DataLoader(
        ds(data.train),
        batch_size=cfg["batch_size"],
        shuffle=True,
        generator=gen,
        transform=_augmentation(cfg, data),
    )
    bs = max(256, cfg["batch_size"])
    val = DataLoader(ds(data.val), batch_size=bs) if len(data.val.x) else None
    test = DataLoader(ds(data.test), batch_size=bs)
    return train, val, test


def run(args: argparse.Namespace) -> int:
    """Train as configured; returns the exit code."""
    from gradfit.models import build_model, load_model, replace_head
    from gradfit.train import (
        CollapseWarning,
        CSVLogger,
        EarlyStopping,
        ModelCheckpoint,
        NaNGuard,
        ProgressBar,
        Trainer,
        TrainingDiverged,
    )

    toml = load_toml(args.config) if args.config else None
    resume_ckpt, resume_path = None, None
    if args.resume:
        resume_path = Path(common.checkpoint_path(args.resume))
        resume_ckpt = common.open_checkpoint(str(resume_path))
        saved = dict((resume_ckpt.meta.get("config") or {}).get("run") or {})
        cfg = resolve(_flags(args), toml={**saved, **(toml or {})})
        _refuse_changes(args, toml, saved, cfg, resume_path)
    else:
        cfg = resolve(_flags(args), toml)
    if args.init_from and args.resume:
        raise UsageError("--init-from and --resume cannot be used together")
    if args.freeze and not args.init_from:
        raise UsageError(
            "--freeze needs --init-from CHECKPOINT (freezing random weights teaches nothing)"
        )

    gf.manual_seed(cfg["seed"])
    data = common.load_data(cfg)
    loss_fn, metrics = common.loss_and_metrics(data.task)

    frozen: list[str] = []
    if args.init_from:
        base = common.open_checkpoint(common.checkpoint_path(args.init_from))
        model = common.model_from_checkpoint(base)
        if data.task == "classification" and _needs_new_head(base, model, cfg, data):
            model = replace_head(model, data.num_classes)
            print(f"new output layer for {data.num_classes} classes ({cfg['data']})")
        _check_input_shape(base, model, data, args.init_from)
        mcfg = model.config
        frozen = _freeze(model, args.freeze or [])
        cfg["model"] = mcfg["name"]
        cfg["init_from"], cfg["freeze"] = str(args.init_from), list(args.freeze or [])
    elif resume_ckpt is not None:  # the checkpoint's own model (a fine-tuned one has a new head)
        mcfg = (resume_ckpt.meta.get("config") or {}).get("model_config") or (
            common.model_config_for(cfg, data)
        )
        try:  # an untrusted file: load_model bounds memory by its weights
            model = load_model(mcfg, resume_ckpt.model_state)
        except (ValueError, TypeError) as e:
            raise UsageError(f"--resume {resume_path}: {e}") from None
        frozen = _freeze(model, list(saved.get("freeze") or []))  # as the run was started
    else:
        mcfg = common.model_config_for(cfg, data)
        try:
            model = build_model(mcfg)
        except (ValueError, TypeError) as e:
            raise UsageError(f"--model {cfg['model']}: {e}") from None

    train_loader, val_loader, test_loader = _loaders(cfg, data)
    try:
        optimizer = common.make_optimizer(cfg, model)
    except ValueError as e:
        raise UsageError(str(e)) from None
    scheduler = common.make_scheduler(cfg, optimizer, len(train_loader))
    out = _out_dir(args, resume_path)

    # the checkpoint is written before the epoch's line is printed: a printed epoch is saved
    callbacks: list[Any] = [NaNGuard(), ModelCheckpoint(out), CSVLogger(out / "history.csv")]
    chance = 1.0 / data.num_classes if data.task == "classification" else None
    callbacks.append(CollapseWarning(chance=chance))
    if cfg["early_stopping"] and val_loader is not None:
        callbacks.append(EarlyStopping("val_loss", patience=cfg["early_stopping"]))
    callbacks.append(ProgressBar(quiet=args.quiet))
    trainer = Trainer(
        model,
        loss_fn,
        optimizer,
        scheduler=scheduler,
        metrics=metrics,
        callbacks=callbacks,
        l1=cfg["l1"],
        config={
            "run": cfg,
            "model_config": mcfg,
            "task": data.task,
            "input_shape": list(data.train.x.shape[1:]),
        },
    )
    trainer.train_loader = train_loader
    if resume_ckpt is not None:
        try:
            trainer.resume(resume_ckpt)
        except ValueError as e:
            raise UsageError(str(e)) from None
        if trainer.epoch >= cfg["epochs"]:
            raise UsageError(
                f"--resume: the run already has {trainer.epoch} epochs; "
                f"pass --epochs above {trainer.epoch} to continue it"
            )
        print(f"resuming {resume_path} at epoch {trainer.epoch + 1} of {cfg['epochs']}")
        planned = saved.get("epochs")
        if planned != cfg["epochs"] and cfg["schedule"] in PLANNED_SCHEDULES:
            trainer.scheduler = _replan(trainer, cfg, optimizer, len(train_loader))
            print(
                f"note: the {cfg['schedule']} schedule was planned for {planned} epochs; it is "
                f"re-planned for {cfg['epochs']} and goes on from epoch {trainer.epoch} of the new "
                f"plan (lr {optimizer.param_groups[0]['lr']:.3g})"
            )

    n_params = sum(p.numel() for p in model.parameters())
    print(
        f"gradfit train: {cfg['model']} ({n_params:,} parameters) on {cfg['data']} "
        f"({data.sizes['train']} train / {data.sizes['val']} val / {data.sizes['test']} test), "
        f"{cfg['optimizer']} lr {cfg['lr']}, {cfg['epochs']} epochs -> {out}"
    )
    if frozen:
        print(f"frozen: {', '.join(frozen)}")
    out.mkdir(parents=True, exist_ok=True)
    try:
        trainer.fit(train_loader, cfg["epochs"], val_loader=val_loader)
    except KeyboardInterrupt:
        ckpt = out / "checkpoint.safetensors"
        stop = trainer.interrupted
        if stop is not None:  # stopped between two batches: ModelCheckpoint saved that state
            where = (
                f"interrupted in epoch {trainer.epoch} after batch {stop['batches']} of "
                f"{len(train_loader)}; saved {ckpt}"
            )
        elif ckpt.exists():  # a second Ctrl-C stopped a batch half-way: keep the last epoch's
            done = common.open_checkpoint(str(ckpt)).meta.get("epoch")
            where = (
                f"interrupted in epoch {trainer.epoch}; the checkpoint of epoch {done} is {ckpt}"
            )
        else:
            print("\ninterrupted before the first epoch ended: nothing to resume.", file=sys.stderr)
            return 130
        print(f"\n{where}.\nresume with: gradfit train --resume {out}", file=sys.stderr)
        return 130
    except TrainingDiverged as e:
        print(f"gradfit train: stopped: {e}", file=sys.stderr)
        return 1

    if any(isinstance(cb, EarlyStopping) and cb.stopped_epoch for cb in callbacks):
        # the weights were set back to the best epoch: the checkpoint is the model tested
        trainer.save_checkpoint(out / "checkpoint.safetensors")
    results = _finish(trainer, data, test_loader, cfg, out, args)
    return 0 if results else 1


def _finish(
    trainer: Any,
    data: Any,
    test_loader: Any,
    cfg: dict[str, Any],
    out: Path,
    args: argparse.Namespace,
) -> dict[str, Any]:
    """Test metrics, baselines, metrics.json, plots and the optional report."""
    from gradfit.train.checkpoint import atomic_write

    test = trainer.evaluate(test_loader)
    results: dict[str, Any] = {f"test_{k}": v for k, v in test.items()}
    key = "test_accuracy" if data.task == "classification" else "test_rmse"
    print(
        f"test loss {results['test_loss']:.4f}  "
        + "  ".join(f"{k} {v:.4f}" for k, v in results.items() if k != "test_loss")
    )

    rows: list[dict[str, Any]] = []
    if not args.no_baselines:
        from gradfit.train.baselines import baselines, format_baselines

        rows = baselines(data, seed=cfg["seed"])
        net = {k[5:]: v for k, v in results.items() if k != "test_loss"}
        net["fit_time"] = float(sum(trainer.history["time"])) if len(trainer.history) else None
        print(format_baselines(rows, network={"name": f"gradfit {cfg['model']}", **net}))

    cm = None
    if data.task == "classification":
        from gradfit.train.metrics import confusion_matrix

        pred = trainer.predict(data.test.x).argmax(axis=1)
        cm = confusion_matrix(pred, data.test.y, num_classes=data.num_classes)

    summary = {
        **results,
        "task": data.task,
        "epochs": trainer.epoch,
        "history": trainer.history.rows,
        "baselines": rows,
        "config": cfg,
        "confusion_matrix": None if cm is None else np.asarray(cm).tolist(),
    }
    atomic_write(
        out / "metrics.json", json.dumps(summary, indent=2, default=_json_default).encode()
    )
    _plots(trainer.history, cm, data, out)
    if args.report:
        from gradfit.train.summary import summary as model_summary
        from gradfit.viz.report import write_report

        shape = tuple(data.train.x.shape[1:])
        write_report(
            out / "report.html",
            config=cfg,
            history=trainer.history,
            confusion=cm,
            baselines=rows,
            summary=str(model_summary(trainer.model, shape)),
        )
        print(f"report: {out / 'report.html'}")
    print(f"wrote {out}/: checkpoint.safetensors, metrics.json, history.csv, plots")
    if math.isnan(results.get(key, 0.0)):
        return {}
    return results


def _json_default(o: Any) -> Any:
    if isinstance(o, np.generic):
        return o.item()
    if isinstance(o, np.ndarray):
        return o.tolist()
    return str(o)


def save_png(fig: Any, path: Path) -> None:
    """Render a matplotlib figure to PNG and write it atomically."""
    import io

    from gradfit.train.checkpoint import atomic_write

    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=100, bbox_inches="tight")
    atomic_write(path, buf.getvalue())


def _plots(history: Any, cm: Any, data: Any, out: Path) -> None:
    from gradfit.viz import plot_confusion_matrix, plot_history

    save_png(plot_history(history, ["loss"]), out / "loss.png")
    metric = "accuracy" if data.task == "classification" else "rmse"
    save_png(plot_history(history, [metric]), out / f"{metric}.png")
    if cm is not None:
        save_png(plot_confusion_matrix(cm, data.description.classes), out / "confusion_matrix.png")
