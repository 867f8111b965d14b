"""Hyper-parameter sweeps on Optuna: ``gf.train.sweep(...)`` and ``gradfit sweep``.

Each trial is an ordinary ``gradfit train`` run (its own folder ``<out>/trial-<n>`` with
``checkpoint.safetensors``, ``history.csv`` and ``metrics.json``) whose settings are the
base configuration plus the values Optuna picks for it. After every epoch the
validation metric is reported to Optuna (:class:`OptunaPruning`, a gradfit callback),
whose pruner may stop a poor trial early. A trial that raises is recorded as failed
(with the error in its ``error`` user attribute) and the sweep goes on.

The study lives in an Optuna storage (default ``sqlite:///<out>/sweep.db``; any URL
Optuna supports, e.g. ``postgresql://...``, lets several machines join one study). The
same ``study_name`` and storage continue a study. ``jobs`` runs trials in that many
processes, each drawing trials from the shared storage.

The search space (:data:`DEFAULT_SPACE`): ``lr`` and ``weight_decay`` on a log scale,
``dropout`` uniform, ``batch_size`` and ``width`` (the size of every hidden layer of an
MLP, keeping the number of layers) from lists. A range is ``[low, high]`` (floats;
a third item ``"log"`` or ``"linear"`` chooses the scale) or a list of choices of any
other length given as ``{"choices": [...]}``.

Optuna is imported only when a sweep runs (``pip install "gradfit[sweep]"``).

Example:
    >>> space = parse_space({"lr": [1e-3, 1e-1], "batch_size": {"choices": [16, 32]}})
    >>> space["lr"], space["batch_size"]
    (('float', 0.001, 0.1, True), ('choice', [16, 32]))
"""

from __future__ import annotations

import json
import math
import os
import sys
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

from gradfit.train.callbacks import Callback

#: What a sweep searches unless told otherwise.
DEFAULT_SPACE: dict[str, Any] = {
    "lr": [1e-3, 0.5, "log"],
    "weight_decay": [1e-6, 1e-2, "log"],
    "dropout": [0.0, 0.5, "linear"],
    "batch_size": {"choices": [16, 32, 64, 128]},
    "width": {"choices": [32, 64, 128, 256]},
}

#: Names a search space may use: the searched ``gradfit train`` settings.
SEARCHABLE = ("lr", "weight_decay", "dropout", "batch_size", "width", "momentum")

_LOG_DEFAULT = {"lr", "weight_decay"}


def parse_space(space: dict[str, Any] | None) -> dict[str, tuple[Any, ...]]:
    """Check a search space and bring it to ``name -> ('float', lo, hi, log) | ('choice', list)``.

    Raises ``ValueError`` naming the setting for anything else.

    Example:
        >>> parse_space({"dropout": [0, 0.3]})["dropout"]
        ('float', 0.0, 0.3, False)
        >>> parse_space({"depth": [1, 2]})
        Traceback (most recent call last):
        ...
        ValueError: sweep: cannot search 'depth'; searchable: lr, weight_decay, dropout, batch_size, width, momentum
    """
    out: dict[str, tuple[Any, ...]] = {}
    for name, spec in (DEFAULT_SPACE if space is None else space).items():
        if name not in SEARCHABLE:
            raise ValueError(f"sweep: cannot search {name!r}; searchable: {', '.join(SEARCHABLE)}")
        if isinstance(spec, dict):
            choices = spec.get("choices")
            if not isinstance(choices, list) or not choices or set(spec) != {"choices"}:
                raise ValueError(
                    f"sweep: {name}: expected {{'choices': [a, b, ...]}} (a non-empty list), got {spec!r}"
                )
            out[name] = ("choice", list(choices))
            continue
        if not isinstance(spec, list | tuple) or len(spec) not in (2, 3):
            raise ValueError(
                f"sweep: {name}: expected [low, high] or [low, high, 'log'|'linear'] or "
                f"{{'choices': [...]}}, got {spec!r}"
            )
        lo, hi = spec[0], spec[1]
        scale = spec[2] if len(spec) == 3 else ("log" if name in _LOG_DEFAULT else "linear")
        if scale not in ("log", "linear"):
            raise ValueError(f"sweep: {name}: scale must be 'log' or 'linear', got {scale!r}")
        if name in ("batch_size", "width"):
            raise ValueError(
                f"sweep: {name} takes a list of choices ({{'choices': [16, 32]}} or "
                f"--search-{name.replace('_', '-')} 16,32), got {spec!r}"
            )
        try:
            lo, hi = float(lo), float(hi)
        except (TypeError, ValueError):
            raise ValueError(f"sweep: {name}: low and high must be numbers, got {spec!r}") from None
        if not (math.isfinite(lo) and math.isfinite(hi) and lo < hi):
            raise ValueError(f"sweep: {name}: need finite low < high, got {lo} and {hi}")
        if scale == "log" and lo <= 0:
            raise ValueError(f"sweep: {name}: a log range needs low > 0, got {lo}")
        out[name] = ("float", lo, hi, scale == "log")
    return out


def suggest(trial: Any, space: dict[str, tuple[Any, ...]]) -> dict[str, Any]:
    """Draw one setting of every searched name from an Optuna ``trial``.

    Example:
        >>> class Fixed:  # stands in for optuna.Trial
        ...     def suggest_float(self, name, lo, hi, log=False): return lo
        ...     def suggest_categorical(self, name, choices): return choices[-1]
        >>> suggest(Fixed(), parse_space({"lr": [0.01, 1], "width": {"choices": [8, 16]}}))
        {'lr': 0.01, 'width': 16}
    """
    params: dict[str, Any] = {}
    for name, spec in space.items():
        if spec[0] == "float":
            params[name] = trial.suggest_float(name, spec[1], spec[2], log=spec[3])
        else:
            params[name] = trial.suggest_categorical(name, spec[1])
    return params


def apply_params(base: dict[str, Any], params: dict[str, Any]) -> dict[str, Any]:
    """The ``gradfit train`` settings of a trial: ``base`` with ``params`` put in.

    ``width`` becomes the size of every hidden layer (the number of layers stays).

    Example:
        >>> apply_params({"hidden": [256, 128], "lr": 0.1}, {"width": 32, "lr": 0.5})
        {'hidden': [32, 32], 'lr': 0.5}
    """
    cfg = dict(base)
    for name, value in params.items():
        if name == "width":
            depth = len(base.get("hidden") or [0])
            cfg["hidden"] = [int(value)] * max(depth, 1)
        else:
            cfg[name] = value
    return cfg


class OptunaPruning(Callback):
    """Report ``monitor`` to an Optuna trial after each epoch; stop the trial if it is pruned.

    Raises ``optuna.TrialPruned`` from ``on_epoch_end`` (the run folder keeps the epochs
    done; Optuna records the trial as pruned).

    Example:
        >>> class T:
        ...     def report(self, v, step): self.last = (v, step)
        ...     def should_prune(self): return False
        >>> t = T(); OptunaPruning(t, "val_loss").on_epoch_end(None, {"epoch": 2, "val_loss": 0.5})
        >>> t.last
        (0.5, 2)
    """

    def __init__(self, trial: Any, monitor: str = "val_loss") -> None:
        self.trial = trial
        self.monitor = monitor

    def on_epoch_end(self, trainer: Any, logs: dict[str, Any]) -> None:
        """Report the epoch's value; raise ``TrialPruned`` when the pruner says so."""
        if self.monitor not in logs:
            raise KeyError(
                f"OptunaPruning: no {self.monitor!r} in the epoch's logs "
                f"(have: {', '.join(k for k in logs if k not in ('epoch', 'time'))})"
            )
        value = float(logs[self.monitor])
        self.trial.report(value, int(logs["epoch"]))
        if self.trial.should_prune():
            import optuna

            raise optuna.TrialPruned(
                f"pruned after epoch {logs['epoch']}: {self.monitor} {value:.4g}"
            )


def train_trial(
    cfg: dict[str, Any], out: Path, callbacks: list[Callback], monitor: str
) -> dict[str, Any]:
    """Train one run as ``gradfit train`` would (quietly, no baselines) into ``out``.

    Returns the run's last epoch logs plus ``monitor`` (the value to optimise: its best
    epoch for losses, as early stopping would keep). This is the one place a sweep
    trains; it can be replaced by ``gf.train.run`` once that exists.

    Example:
        >>> callable(train_trial)
        True
    """
    import numpy as np

    import gradfit as gf
    from gradfit.cli import common
    from gradfit.data import ArrayDataset, DataLoader
    from gradfit.models import build_model
    from gradfit.train import CSVLogger, ModelCheckpoint, NaNGuard, Trainer
    from gradfit.train.checkpoint import atomic_write

    gf.manual_seed(cfg["seed"])
    data = common.load_data(cfg)
    loss_fn, metrics = common.loss_and_metrics(data.task)
    mcfg = common.model_config_for(cfg, data)
    model = build_model(mcfg)

    def ds(split: Any) -> Any:
        return ArrayDataset(split.x, common.targets_for(data.task, split.y))

    gen = np.random.Generator(np.random.PCG64(cfg["seed"]))
    train = DataLoader(ds(data.train), batch_size=cfg["batch_size"], shuffle=True, generator=gen)
    bs = max(256, cfg["batch_size"])
    val = DataLoader(ds(data.val), batch_size=bs) if len(data.val.x) else None
    if val is None and monitor.startswith("val_"):
        raise ValueError(
            f"sweep: --data {cfg['data']} has no validation split to compute {monitor}; "
            "set --val-fraction"
        )
    optimizer = common.make_optimizer(cfg, model)
    scheduler = common.make_scheduler(cfg, optimizer, len(train))
    out.mkdir(parents=True, exist_ok=True)
    trainer = Trainer(
        model,
        loss_fn,
        optimizer,
        scheduler=scheduler,
        metrics=metrics,
        callbacks=[NaNGuard(), ModelCheckpoint(out), CSVLogger(out / "history.csv"), *callbacks],
        l1=cfg["l1"],
        config={
            "run": cfg,
            "model_config": mcfg,
            "task": data.task,
            "input_shape": list(data.train.x.shape[1:]),
        },
        log=lambda message: None,
    )
    history = trainer.fit(train, cfg["epochs"], val_loader=val)
    values = [float(v) for v in history[monitor]]
    best = min(values) if "loss" in monitor or "rmse" in monitor else max(values)
    result = {**history.rows[-1], monitor: best}
    summary = {"config": cfg, "objective": {monitor: best}, "history": history.rows}
    atomic_write(out / "metrics.json", json.dumps(summary, indent=2, default=str).encode())
    return result


def _direction(monitor: str) -> str:
    return "minimize" if ("loss" in monitor or "rmse" in monitor) else "maximize"


def _make_pruner(pruner: Any, epochs: int) -> Any:
    """A pruner by name; ``median`` waits for 4 finished trials and a fifth of the epochs."""
    import optuna

    if pruner is None or pruner == "none":
        return optuna.pruners.NopPruner()
    if pruner == "median":
        return optuna.pruners.MedianPruner(n_startup_trials=4, n_warmup_steps=max(1, epochs // 5))
    if pruner == "hyperband":
        return optuna.pruners.HyperbandPruner()
    if isinstance(pruner, str):
        raise ValueError(f"sweep: pruner must be 'median', 'hyperband' or 'none', got {pruner!r}")
    return pruner  # an optuna pruner object


def _worker(job: dict[str, Any]) -> int:
    """One process's share of the trials (also run in the calling process when jobs=1)."""
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    space = parse_space(job["space"])
    out = Path(job["out"])
    monitor = job["monitor"]
    trainer_fn: Callable[..., dict[str, Any]] = job.get("train_fn") or train_trial
    study = optuna.load_study(
        study_name=job["study_name"],
        storage=job["storage"],
        sampler=optuna.samplers.TPESampler(seed=job["seed"], n_startup_trials=4),
        pruner=_make_pruner(job["pruner"], int(job["base"]["epochs"])),
    )

    def objective(trial: Any) -> float:
        params = suggest(trial, space)
        cfg = apply_params(job["base"], params)
        run_dir = out / f"trial-{trial.number}"
        trial.set_user_attr("run_dir", str(run_dir))
        trial.set_user_attr("config", json.dumps(cfg, default=str))
        t0 = time.perf_counter()
        try:
            logs = trainer_fn(cfg, run_dir, [OptunaPruning(trial, monitor)], monitor)
        except optuna.TrialPruned:
            _say(job, f"trial {trial.number} pruned  ({_fmt_params(params)})")
            raise
        except Exception as e:  # recorded as a failed trial; the sweep goes on
            trial.set_user_attr("error", f"{type(e).__name__}: {e}")
            _say(job, f"trial {trial.number} failed: {type(e).__name__}: {e}")
            raise
        value = float(logs[monitor])
        _say(
            job,
            f"trial {trial.number} {monitor} {value:.4g} in {time.perf_counter() - t0:.1f} s  "
            f"({_fmt_params(params)})",
        )
        if not math.isfinite(value):
            raise ValueError(f"{monitor} is {value}")
        return value

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", category=UserWarning)
        study.optimize(objective, n_trials=job["n_trials"], catch=(Exception,))
    return job["n_trials"]


def _say(job: dict[str, Any], message: str) -> None:
    if not job.get("quiet"):
        print(message, flush=True)


def _fmt_params(params: dict[str, Any]) -> str:
    return ", ".join(
        f"{k}={v:.3g}" if isinstance(v, float) else f"{k}={v}" for k, v in params.items()
    )


def sweep(
    config: dict[str, Any] | None = None,
    search: dict[str, Any] | None = None,
    trials: int = 20,
    jobs: int = 1,
    out: str | os.PathLike[str] | None = None,
    storage: str | None = None,
    study_name: str | None = None,
    monitor: str = "val_loss",
    pruner: Any = "median",
    seed: int = 0,
    plots: bool = True,
    quiet: bool = False,
    train_fn: Callable[..., dict[str, Any]] | None = None,
) -> Any:
    """Search hyper-parameters with Optuna; returns the ``optuna.Study``.

    Args:
        config: ``gradfit train`` settings shared by every trial (as in a ``--config``
            TOML: ``data``, ``model``, ``epochs``, ...); defaults fill the rest.
        search: the search space (see :func:`parse_space`); default :data:`DEFAULT_SPACE`.
        trials: how many trials to run now (a continued study keeps its earlier ones).
        jobs: processes running trials at once (they share the storage).
        out: the sweep's folder; trial ``n`` trains in ``<out>/trial-<n>``.
        storage: an Optuna storage URL (default ``sqlite:///<out>/sweep.db``).
        study_name: the study to create or continue (default ``"gradfit"``).
        monitor: the per-epoch value to optimise and prune on (``val_loss`` is
            minimised, ``val_accuracy`` maximised).
        pruner: ``"median"`` (default), ``"hyperband"``, ``"none"`` or an Optuna pruner.
        seed: seeds the sampler (job ``i`` uses ``seed + i``) and, unless ``config``
            sets it, the trials' training.
        plots: write ``history.png``, ``importance.png`` and ``slice.png`` to ``out``.
        quiet: print nothing.
        train_fn: ``train_fn(cfg, run_dir, callbacks, monitor) -> logs``, the trainer of
            one trial (default :func:`train_trial`); with ``jobs > 1`` it must be picklable.

    Writes ``<out>/trials.csv`` (one row per trial) and ``<out>/best.json``.

    Example:
        >>> import gradfit as gf
        >>> callable(gf.train.sweep)
        True
    """
    import optuna

    from gradfit.cli.config import resolve

    if not isinstance(trials, int) or trials < 0:
        raise ValueError(f"sweep: trials must be a non-negative integer, got {trials!r}")
    if not isinstance(jobs, int) or jobs < 1:
        raise ValueError(f"sweep: jobs must be a positive integer, got {jobs!r}")
    space = dict(DEFAULT_SPACE if search is None else search)
    base_in = {"seed": seed, **(config or {})}
    base = resolve({}, base_in)
    if base["model"] != "mlp":
        space.pop("width", None)  # only the MLP has a width to search
    for name in ("dropout",):
        if base["model"] in ("logistic", "linear", "cnn1d"):
            space.pop(name, None)
    parse_space(space)  # raise before anything is written
    out_dir = Path(out) if out is not None else Path("sweeps") / time.strftime("%Y%m%d-%H%M%S")
    out_dir.mkdir(parents=True, exist_ok=True)
    storage = storage or f"sqlite:///{out_dir.resolve() / 'sweep.db'}"
    study_name = study_name or "gradfit"
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(
        study_name=study_name,
        storage=storage,
        direction=_direction(monitor),
        load_if_exists=True,
    )
    if study.direction.name.lower() != _direction(monitor):
        raise ValueError(
            f"sweep: study {study_name!r} in {storage} was made to {study.direction.name.lower()}; "
            f"monitor {monitor!r} needs {_direction(monitor)}"
        )
    before = len(study.trials)
    if not quiet:
        more = f" (continuing: {before} trials so far)" if before else ""
        print(
            f"gradfit sweep: study {study_name!r} in {storage}{more}; {trials} trials, {jobs} jobs"
        )
    shares = [trials // jobs + (i < trials % jobs) for i in range(jobs)]
    common = {
        "space": space,
        "out": str(out_dir),
        "monitor": monitor,
        "study_name": study_name,
        "storage": storage,
        "pruner": pruner,
        "base": base,
        "quiet": quiet,
        "train_fn": train_fn,
    }
    job_list = [
        {**common, "seed": seed + i + before, "n_trials": n} for i, n in enumerate(shares) if n
    ]
    if len(job_list) <= 1:
        for job in job_list:
            _worker(job)
    else:
        import multiprocessing as mp
        from concurrent.futures import ProcessPoolExecutor

        ctx = mp.get_context("spawn")  # a clean interpreter: no inherited threads or locks
        with ProcessPoolExecutor(len(job_list), mp_context=ctx) as pool:
            list(pool.map(_worker, job_list))
    study = optuna.load_study(study_name=study_name, storage=storage)
    _write_results(study, out_dir, monitor, plots)
    if not quiet:
        print(format_summary(study, monitor))
    return study


def _states(study: Any) -> dict[str, int]:
    counts: dict[str, int] = {}
    for t in study.trials:
        counts[t.state.name.lower()] = counts.get(t.state.name.lower(), 0) + 1
    return counts


def train_command(cfg: dict[str, Any], out: str = "runs/best") -> str:
    """The ``gradfit train`` command for a configuration (flags that differ from the defaults).

    Example:
        >>> from gradfit.cli.config import resolve
        >>> train_command(resolve({"lr": 0.05, "hidden": "64,64"}))
        'gradfit train --hidden 64,64 --lr 0.05 --out runs/best'
    """
    import shlex

    from gradfit.cli.config import DEFAULTS, resolve

    # defaults that depend on the data and model (batch norm for digits' MLP) as resolved
    base = resolve({k: cfg[k] for k in ("data", "model") if k in cfg})
    parts = ["gradfit", "train"]
    for key in DEFAULTS:
        default = DEFAULTS[key] if key in ("data", "model") else base.get(key, DEFAULTS[key])
        value = cfg.get(key, default)
        if value == default or value is None:
            continue
        flag = "--" + key.replace("_", "-")
        if isinstance(value, bool):
            if value:
                parts.append(flag)
            continue
        if isinstance(value, list):
            value = ",".join(str(v) for v in value)
        elif isinstance(value, float):
            value = f"{value:.4g}"
        parts += [flag, str(value)]
    parts += ["--out", out]
    return shlex.join(parts)


def format_summary(study: Any, monitor: str) -> str:
    """The best trial's settings and value, the trial counts, and the command to train it.

    Example:
        >>> callable(format_summary)
        True
    """
    counts = _states(study)
    lines = ["trials: " + ", ".join(f"{n} {s}" for s, n in sorted(counts.items()))]
    try:
        best = study.best_trial
    except ValueError:
        lines.append("no trial completed: nothing to recommend")
        return "\n".join(lines)
    lines.append(f"best: trial {best.number}, {monitor} {best.value:.4g}")
    for k, v in best.params.items():
        lines.append(f"  {k:<13} {v:.4g}" if isinstance(v, float) else f"  {k:<13} {v}")
    cfg = json.loads(best.user_attrs.get("config", "{}"))
    lines.append(f"run folder: {best.user_attrs.get('run_dir')}")
    lines.append("train it with:\n  " + train_command(cfg))
    return "\n".join(lines)


def _write_results(study: Any, out: Path, monitor: str, plots: bool) -> None:
    import csv
    import io

    from gradfit.train.checkpoint import atomic_write

    names = sorted({k for t in study.trials for k in t.params})
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(["number", "state", monitor, "epochs", *names, "run_dir", "error"])
    for t in study.trials:
        w.writerow(
            [
                t.number,
                t.state.name.lower(),
                "" if t.value is None else t.value,
                len(t.intermediate_values),
                *[t.params.get(n, "") for n in names],
                t.user_attrs.get("run_dir", ""),
                t.user_attrs.get("error", ""),
            ]
        )
    atomic_write(out / "trials.csv", buf.getvalue().encode())
    best: dict[str, Any] = {"monitor": monitor, "trials": _states(study)}
    try:
        bt = study.best_trial
        cfg = json.loads(bt.user_attrs.get("config", "{}"))
        best.update(
            number=bt.number, value=bt.value, params=bt.params, config=cfg,
            command=train_command(cfg),
        )  # fmt: skip
    except ValueError:
        pass
    atomic_write(out / "best.json", json.dumps(best, indent=2, default=str).encode())
    if plots:
        _plots(study, out)


def _plots(study: Any, out: Path) -> list[str]:
    """Optimisation history, parameter importance and a slice plot as PNGs (when possible)."""
    import io

    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt
    import optuna.visualization.matplotlib as ovm

    from gradfit.train.checkpoint import atomic_write

    done = [t for t in study.trials if t.state.name == "COMPLETE"]
    written = []
    makers = {
        "history.png": ovm.plot_optimization_history,
        "importance.png": ovm.plot_param_importances,
        "slice.png": ovm.plot_slice,
    }
    for name, make in makers.items():
        if not done or (name == "importance.png" and len(done) < 2):
            continue
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                ax = make(study)
            except (ValueError, RuntimeError) as e:  # e.g. importance with one distinct value
                print(f"sweep: no {name}: {e}", file=sys.stderr)
                continue
        first = ax.flat[0] if hasattr(ax, "flat") else ax
        fig = first.figure
        buf = io.BytesIO()
        fig.savefig(buf, format="png", dpi=100, bbox_inches="tight")
        plt.close(fig)
        atomic_write(out / name, buf.getvalue())
        written.append(name)
    return written
