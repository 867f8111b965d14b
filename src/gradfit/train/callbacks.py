"""Callbacks: the parts of a training loop that watch it or stop it.

A callback overrides any of the hooks below; the :class:`~gradfit.train.Trainer`
calls them in order. ``trainer.stop_training = True`` ends the run after the epoch.

- :class:`ProgressBar`: a rich progress bar (epoch, batch, live loss, lr, samples/s) on a
  terminal; in a Jupyter notebook one live block (bar, loss, loss plot) updated in place;
  one plain line per epoch otherwise or when quiet.
- :class:`EarlyStopping`: stop when a monitored value stops improving; restore the best weights.
- :class:`ModelCheckpoint`: save the latest and/or the best checkpoint each epoch.
- :class:`CSVLogger`, :class:`JSONLinesLogger`: one row per epoch in a file.
- :class:`NaNGuard`: stop with a clear message when the loss becomes NaN or infinite.

Example:
    >>> es = EarlyStopping(monitor="val_loss", patience=2)
    >>> es.monitor, es.patience
    ('val_loss', 2)
"""

from __future__ import annotations

import json
import math
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

import numpy as np

if TYPE_CHECKING:
    from gradfit.train.trainer import Trainer


class Callback:
    """Base class: every hook does nothing.

    Example:
        >>> class Count(Callback):
        ...     def on_epoch_end(self, trainer, logs):
        ...         self.n = getattr(self, "n", 0) + 1
        >>> Count().on_epoch_end(None, {})
    """

    def on_fit_start(self, trainer: Trainer) -> None:
        """Before the first epoch."""

    def on_epoch_start(self, trainer: Trainer, epoch: int) -> None:
        """Before each epoch (``epoch`` is 1-based)."""

    def on_loss(self, trainer: Trainer, batch: int, loss: float) -> None:
        """After the forward pass, before backward and the step, with the batch's loss."""

    def on_batch_end(self, trainer: Trainer, batch: int, loss: float, size: int) -> None:
        """After each optimizer step, with the batch's loss and size."""

    def on_epoch_end(self, trainer: Trainer, logs: dict[str, Any]) -> None:
        """After each epoch, with the epoch's row of the history."""

    def on_fit_end(self, trainer: Trainer) -> None:
        """After the last epoch (also after an early stop)."""


def _fmt(logs: dict[str, Any]) -> str:
    parts = []
    for k, v in logs.items():
        if k in ("epoch", "time"):
            continue
        if isinstance(v, float):
            parts.append(f"{k} {v:.4g}")
    return "  ".join(parts)


class ProgressBar(Callback):
    """Show progress: a live rich bar on a terminal, else one plain line per epoch.

    In a Jupyter notebook (writing to the default stream) it shows instead one block that
    updates in place: a progress bar, the running loss, the last epochs' lines and a
    live loss plot (:class:`gradfit.notebook.NotebookProgress`).

    Args:
        quiet: print only the plain per-epoch lines, never a live bar.
        stream: where to write (default ``sys.stdout``).

    Example:
        >>> import io
        >>> bar = ProgressBar(quiet=True, stream=io.StringIO())
        >>> bar.live
        False
    """

    def __init__(self, quiet: bool = False, stream: TextIO | None = None) -> None:
        self.stream = stream or sys.stdout
        self.quiet = quiet
        self.live = not quiet and hasattr(self.stream, "isatty") and self.stream.isatty()
        self._progress: Any = None
        self._notebook: Any = None

    def on_fit_start(self, trainer: Trainer) -> None:
        from gradfit.notebook import NotebookProgress, in_notebook

        self.epochs = trainer.epochs
        if not self.quiet and self.stream is sys.stdout and in_notebook():
            self._notebook = NotebookProgress()
            self._notebook.start(self.epochs)
        elif self.live:
            from rich.console import Console
            from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

            self._progress = Progress(
                TextColumn("[bold]epoch {task.fields[epoch]}/{task.fields[epochs]}"),
                BarColumn(),
                TextColumn("{task.completed}/{task.total}"),
                TextColumn("loss {task.fields[loss]:.4f}  lr {task.fields[lr]:.3g}"),
                TextColumn("{task.fields[rate]:.0f} samples/s"),
                TimeRemainingColumn(),
                console=Console(file=self.stream),
                transient=False,
            )
            self._progress.start()

    def on_epoch_start(self, trainer: Trainer, epoch: int) -> None:
        self._epoch = epoch
        self._t0 = time.perf_counter()
        self._seen = 0
        self._loss_sum = 0.0
        if self._progress is not None:
            self._task = self._progress.add_task(
                "train",
                total=trainer.batches_per_epoch,
                epoch=epoch,
                epochs=self.epochs,
                loss=float("nan"),
                lr=trainer.current_lr(),
                rate=0.0,
            )

    def on_batch_end(self, trainer: Trainer, batch: int, loss: float, size: int) -> None:
        self._seen += size
        self._loss_sum += loss * size
        if self._notebook is not None:
            n = trainer.batches_per_epoch
            self._notebook.record_batch(self._epoch, batch + 1, n, loss, size)
            self._notebook.update()
        if self._progress is not None:
            dt = max(time.perf_counter() - self._t0, 1e-9)
            self._progress.update(
                self._task,
                advance=1,
                loss=self._loss_sum / self._seen,
                lr=trainer.current_lr(),
                rate=self._seen / dt,
            )

    def on_epoch_end(self, trainer: Trainer, logs: dict[str, Any]) -> None:
        rate = self._seen / max(logs.get("time", 0.0), 1e-9)
        line = f"epoch {logs['epoch']}/{self.epochs}  {_fmt(logs)}  {rate:.0f} samples/s"
        if self._notebook is not None:
            self._notebook.record_epoch(logs, line)
            self._notebook.update(force=True)
        elif self._progress is not None:
            self._progress.console.print(line)
        else:
            print(line, file=self.stream, flush=True)

    def on_fit_end(self, trainer: Trainer) -> None:
        if self._notebook is not None:
            self._notebook.update(force=True)
            self._notebook = None
        if self._progress is not None:
            self._progress.stop()
            self._progress = None


class EarlyStopping(Callback):
    """Stop when ``monitor`` has not improved by ``min_delta`` for ``patience`` epochs.

    With ``restore_best_weights`` the model gets back the weights of its best epoch.

    A resumed run picks up where it was: the best value and the epochs without
    improvement are recounted from the trainer's history, and the best epoch's weights
    come from the ``best.safetensors`` of a :class:`ModelCheckpoint` watching the same
    value, so stopping and restoring happen as in the uninterrupted run.

    Example:
        >>> EarlyStopping(mode="max", monitor="val_accuracy").mode
        'max'
    """

    def __init__(
        self,
        monitor: str = "val_loss",
        patience: int = 5,
        mode: str = "auto",
        min_delta: float = 0.0,
        restore_best_weights: bool = True,
    ) -> None:
        if patience < 0:
            raise ValueError(f"EarlyStopping: patience must be >= 0, got {patience}")
        if mode == "auto":
            mode = "min" if "loss" in monitor or monitor.endswith(("mse", "mae", "rmse")) else "max"
        if mode not in ("min", "max"):
            raise ValueError(f"EarlyStopping: mode must be 'min', 'max' or 'auto', got {mode!r}")
        self.monitor, self.patience, self.mode = monitor, patience, mode
        self.min_delta = abs(min_delta)
        self.restore_best_weights = restore_best_weights
        self.best = math.inf if mode == "min" else -math.inf
        self.best_epoch = 0
        self.wait = 0
        self.best_state: dict[str, np.ndarray] | None = None
        self.stopped_epoch = 0

    def _improved(self, value: float) -> bool:
        if self.mode == "min":
            return value < self.best - self.min_delta
        return value > self.best + self.min_delta

    def on_fit_start(self, trainer: Trainer) -> None:
        rows = list(trainer.history)
        for row in rows:  # a resumed run: recount from the epochs it already has
            value = row.get(self.monitor)
            if value is None:
                continue
            if self._improved(float(value)):
                self.best, self.best_epoch, self.wait = float(value), int(row["epoch"]), 0
            else:
                self.wait += 1
        if rows and self.restore_best_weights and self.best_epoch == int(rows[-1]["epoch"]):
            self.best_state = _copy_state(
                trainer.model.state_dict()
            )  # the resumed weights are the best

    def _saved_best(self, trainer: Trainer) -> dict[str, np.ndarray] | None:
        """The best epoch's weights from a ModelCheckpoint on the same value (after resume)."""
        from gradfit.train.checkpoint import CheckpointError, load_checkpoint

        for cb in trainer.callbacks:
            if isinstance(cb, ModelCheckpoint) and (cb.monitor, cb.mode) == (
                self.monitor,
                self.mode,
            ):
                path = cb.directory / "best.safetensors"
                try:
                    ckpt = load_checkpoint(path) if path.is_file() else None
                except CheckpointError:
                    ckpt = None
                if ckpt is not None and ckpt.meta.get("epoch") == self.best_epoch:
                    return ckpt.model_state
        return None

    def on_epoch_end(self, trainer: Trainer, logs: dict[str, Any]) -> None:
        if self.monitor not in logs:
            raise KeyError(
                f"EarlyStopping: monitored value {self.monitor!r} is not logged; "
                f"available: {sorted(k for k in logs if k not in ('epoch', 'time'))}"
            )
        value = float(logs[self.monitor])
        if self._improved(value):
            self.best, self.best_epoch, self.wait = value, int(logs["epoch"]), 0
            if self.restore_best_weights:
                self.best_state = _copy_state(trainer.model.state_dict())
            return
        self.wait += 1
        if self.wait >= self.patience:
            trainer.stop_training = True
            self.stopped_epoch = int(logs["epoch"])
            trainer.log(
                f"early stopping at epoch {self.stopped_epoch}: {self.monitor} has not improved "
                f"for {self.patience} epochs (best {self.best:.4g} at epoch {self.best_epoch})"
            )

    def on_fit_end(self, trainer: Trainer) -> None:
        if not (self.restore_best_weights and self.stopped_epoch):
            return
        state = self.best_state if self.best_state is not None else self._saved_best(trainer)
        if state is None:
            trainer.log(
                f"kept the last weights: the weights of the best epoch ({self.best_epoch}) "
                "were not kept (resumed without a ModelCheckpoint on the same value)"
            )
            return
        trainer.model.load_state_dict(state)
        trainer.log(f"restored the weights of epoch {self.best_epoch}")


class ModelCheckpoint(Callback):
    """Save ``checkpoint.safetensors`` every epoch and ``best.safetensors`` when ``monitor`` improves.

    When Ctrl-C stops :meth:`Trainer.fit <gradfit.train.Trainer.fit>` between two
    batches, ``checkpoint.safetensors`` is also written then, with the stopped epoch's
    progress, so ``Trainer.resume`` continues from that batch.

    Example:
        >>> ModelCheckpoint("runs/x").monitor
        'val_loss'
    """

    def __init__(
        self,
        directory: str | Path,
        monitor: str = "val_loss",
        mode: str = "auto",
        save_last: bool = True,
    ) -> None:
        self.directory = Path(directory)
        self.monitor = monitor
        if mode == "auto":
            mode = "min" if "loss" in monitor else "max"
        self.mode = mode
        self.save_last = save_last
        self.best = math.inf if mode == "min" else -math.inf
        self.last_path: Path | None = None
        self.best_path: Path | None = None

    def on_fit_start(self, trainer: Trainer) -> None:
        # a resumed run keeps the best value of the epochs it already has
        for row in trainer.history:
            value = row.get(self.monitor)
            if (
                value is not None
                and not math.isnan(value)
                and ((value < self.best) if self.mode == "min" else (value > self.best))
            ):
                self.best = value

    def on_epoch_end(self, trainer: Trainer, logs: dict[str, Any]) -> None:
        if not model_is_finite(trainer.model):  # never a diverged model as the "last good" one
            return
        if self.save_last:
            self.last_path = trainer.save_checkpoint(self.directory / "checkpoint.safetensors")
        value = logs.get(self.monitor)
        if value is None or math.isnan(value):
            return
        if (value < self.best) if self.mode == "min" else (value > self.best):
            self.best = value
            self.best_path = trainer.save_checkpoint(self.directory / "best.safetensors")

    def on_fit_end(self, trainer: Trainer) -> None:
        if self.save_last and trainer.interrupted is not None:  # Ctrl-C between two batches
            self.last_path = trainer.save_checkpoint(self.directory / "checkpoint.safetensors")


class _FileLogger(Callback):
    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)

    def on_fit_start(self, trainer: Trainer) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)


class CSVLogger(_FileLogger):
    """Write the history to a CSV file after every epoch (rewritten atomically).

    Example:
        >>> CSVLogger("history.csv").path.name
        'history.csv'
    """

    def on_epoch_end(self, trainer: Trainer, logs: dict[str, Any]) -> None:
        from gradfit.train.checkpoint import atomic_write

        atomic_write(self.path, trainer.history.to_csv().encode())


class JSONLinesLogger(_FileLogger):
    """Append one JSON object per epoch to a ``.jsonl`` file.

    Example:
        >>> JSONLinesLogger("log.jsonl").path.suffix
        '.jsonl'
    """

    def on_epoch_end(self, trainer: Trainer, logs: dict[str, Any]) -> None:
        with open(self.path, "a") as f:
            f.write(json.dumps(logs) + "\n")


def model_is_finite(model: Any) -> bool:
    """Whether every parameter and buffer of ``model`` is finite (no NaN, no infinity).

    Example:
        >>> import gradfit as gf
        >>> model_is_finite(gf.nn.Linear(2, 1))
        True
    """
    for _, t in model.state_dict().items():
        arr = np.asarray(t._data if hasattr(t, "_data") else t)
        if arr.dtype.kind == "f" and not np.isfinite(arr).all():
            return False
    return True


class NaNGuard(Callback):
    """Stop at the first NaN or infinite loss, saying where and what to do.

    Raises :class:`TrainingDiverged` with the epoch, the step, the last finite loss and
    the last good checkpoint (when a :class:`ModelCheckpoint` saved one).

    Example:
        >>> NaNGuard().last_finite is None
        True
    """

    def __init__(self) -> None:
        self.last_finite: float | None = None

    def on_loss(self, trainer: Trainer, batch: int, loss: float) -> None:
        if math.isfinite(loss):
            self.last_finite = loss
            return
        self._diverged(trainer, f"the loss became {loss}", batch)

    def on_epoch_end(self, trainer: Trainer, logs: dict[str, Any]) -> None:
        # a finite last loss can hide weights that the last step made infinite: check both
        for key in ("loss", "val_loss"):
            value = logs.get(key)
            if value is not None and not math.isfinite(value):
                self._diverged(trainer, f"the epoch's {key} is {value}", None)
        if not model_is_finite(trainer.model):
            self._diverged(trainer, "a weight became NaN or infinite", None)

    def _diverged(self, trainer: Trainer, what: str, batch: int | None) -> None:
        ckpt = None
        for cb in trainer.callbacks:
            if isinstance(cb, ModelCheckpoint) and cb.last_path is not None:
                ckpt = cb.last_path
        where = "at the end of the epoch" if batch is None else f"batch {batch + 1} of the epoch"
        raise TrainingDiverged(
            f"{what} at epoch {trainer.epoch}, step {trainer.global_step} "
            f"({where}); last finite loss: {self.last_finite}; "
            f"last good checkpoint: {ckpt or 'none saved'}. "
            "Try a smaller learning rate (`gradfit lr-find` suggests one), gradient clipping, or normalised inputs."
        )


class CollapseWarning(Callback):
    """Warn (once each) when training collapses without a NaN.

    Two signs, checked at the end of each epoch: the loss (``val_loss`` when there is a
    validation split) rose ``patience`` epochs in a row to at least twice its lowest value
    (the noise of a small validation set near a low loss does not count), or the accuracy fell back to
    chance (at most ``chance + 0.02``) after having been above ``2 * chance``. A warning
    goes to ``stream`` and into :attr:`warnings`; training goes on (an
    :class:`EarlyStopping` restores the best epoch).

    Example:
        >>> CollapseWarning(chance=0.1).warnings
        []
    """

    def __init__(self, chance: float | None = None, patience: int = 3, stream: Any = None) -> None:
        self.chance = chance
        self.patience = int(patience)
        self.stream = stream
        self.warnings: list[str] = []
        self._rising = 0
        self._last: float | None = None
        self._lowest = math.inf
        self._above = False
        self._said: set[str] = set()

    def _warn(self, kind: str, text: str) -> None:
        if kind in self._said:
            return
        self._said.add(kind)
        self.warnings.append(text)
        print(f"warning: {text}", file=self.stream or sys.stderr)

    def on_epoch_end(self, trainer: Trainer, logs: dict[str, Any]) -> None:
        key = "val_loss" if logs.get("val_loss") is not None else "loss"
        loss = logs.get(key)
        if loss is not None and self._last is not None:
            self._rising = self._rising + 1 if loss > self._last else 0
            if self._rising >= self.patience and loss >= 2 * self._lowest:
                self._warn(
                    "rising",
                    f"{key} rose {self._rising} epochs in a row (now {loss:.4g} at epoch "
                    f"{trainer.epoch}): training may be diverging; try a smaller learning rate",
                )
        if loss is not None:
            self._last = loss
            self._lowest = min(self._lowest, loss)
        acc = logs.get("val_accuracy", logs.get("accuracy"))
        if self.chance is None or acc is None:
            return
        if acc > 2 * self.chance:
            self._above = True
        elif self._above and acc <= self.chance + 0.02:
            self._warn(
                "chance",
                f"accuracy fell to chance ({acc:.3f}, chance {self.chance:.3f}) at epoch "
                f"{trainer.epoch} after being above it: the training collapsed; try a smaller "
                "learning rate (`gradfit lr-find`) or --early-stopping to keep the best epoch",
            )


class TrainingDiverged(RuntimeError):  # noqa: N818 - reads as a sentence in tracebacks
    """The loss became NaN or infinite (raised by :class:`NaNGuard`)."""


def _copy_state(state: dict[str, Any]) -> dict[str, np.ndarray]:
    """A snapshot of a model's state_dict (its values share the live parameters' memory)."""
    return {k: np.array(v, copy=True) for k, v in state.items()}
