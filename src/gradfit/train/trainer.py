"""The training loop: the five steps every course teaches, done well.

1. start from intelligent initial weights (the layers' own initialisation);
2. run a mini-batch through the network and average the loss;
3. backpropagate to get the gradient of every weight;
4. step each weight against its gradient (the optimizer);
5. repeat over the epochs, watching validation loss and metrics.

:func:`fit` is the one-call form; :class:`Trainer` exposes the loop's parts
(``train_epoch``, ``evaluate``, ``predict``, ``save_checkpoint``/``resume``).

Ctrl-C during :meth:`Trainer.fit` stops at the next batch boundary, so the weights and
the optimizer are never left half-updated, and ``fit`` raises ``KeyboardInterrupt``
with ``trainer.interrupted`` set. A checkpoint saved then records where the epoch
stood (batches done, running loss, the random states of the epoch's start and of
now); :meth:`Trainer.resume` replays the epoch's shuffling and augmentation draws up
to that batch and goes on, so the resumed run equals the uninterrupted one exactly.
A second Ctrl-C interrupts at once (and then there is nothing consistent to save).

Example:
    >>> import numpy as np, gradfit as gf
    >>> from gradfit.data import ArrayDataset, DataLoader
    >>> _ = gf.manual_seed(0)
    >>> X = np.random.default_rng(0).normal(size=(64, 2)).astype(np.float32)
    >>> y = (X[:, 0] > 0).astype(np.int64)
    >>> loader = DataLoader(ArrayDataset(X, y), batch_size=16, shuffle=True, seed=0)
    >>> model = gf.nn.Linear(2, 2)
    >>> opt = gf.optim.SGD(model.parameters(), lr=0.5)
    >>> hist = fit(model, loader, gf.nn.CrossEntropyLoss(), opt, epochs=5, callbacks=[])
    >>> hist["train_accuracy"][-1] > 0.9
    True
"""

from __future__ import annotations

import signal
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

import gradfit as gf
from gradfit.train.callbacks import Callback, NaNGuard, ProgressBar
from gradfit.train.history import History


def _metric_fn(name: str) -> Callable[[np.ndarray, np.ndarray], float]:
    from gradfit.train.metrics import get_metric

    return get_metric(name)


class Trainer:
    """Train ``model`` with ``optimizer`` on ``loss_fn``; see :func:`fit` for the arguments.

    Attributes a callback can read: ``model``, ``optimizer``, ``scheduler``, ``history``,
    ``epoch`` (1-based, the current or last finished epoch), ``global_step``,
    ``stop_training`` (set it to end the run after this epoch), ``callbacks``.

    Example:
        >>> import gradfit as gf
        >>> m = gf.nn.Linear(2, 1)
        >>> t = Trainer(m, gf.nn.MSELoss(), gf.optim.SGD(m.parameters(), lr=0.1), metrics=())
        >>> t.global_step
        0
    """

    def __init__(
        self,
        model: Any,
        loss_fn: Callable[[Any, Any], Any],
        optimizer: Any,
        scheduler: Any = None,
        metrics: Sequence[str] = ("accuracy",),
        callbacks: Iterable[Callback] | None = None,
        l1: float = 0.0,
        clip_grad_norm: float | None = None,
        scheduler_interval: str | None = None,
        config: dict[str, Any] | None = None,
        log: Callable[[str], None] | None = None,
    ) -> None:
        self.model = model
        self.loss_fn = loss_fn
        self.optimizer = optimizer
        self.scheduler = scheduler
        self.metrics = {name: _metric_fn(name) for name in metrics}
        self.callbacks: list[Callback] = (
            [ProgressBar(), NaNGuard()] if callbacks is None else list(callbacks)
        )
        if l1 < 0:
            raise ValueError(f"Trainer: l1 must be >= 0, got {l1}")
        self.l1 = l1
        self.clip_grad_norm = clip_grad_norm
        if scheduler_interval is None:
            per_step = type(scheduler).__name__ in ("OneCycleLR", "CyclicLR")
            scheduler_interval = "step" if per_step else "epoch"
        if scheduler_interval not in ("step", "epoch"):
            raise ValueError(
                f"Trainer: scheduler_interval must be 'step' or 'epoch', got {scheduler_interval!r}"
            )
        self.scheduler_interval = scheduler_interval
        self.config = dict(config or {})
        self._log = log or print
        self.history = History()
        self.epoch = 0
        self.global_step = 0
        self.epochs = 0
        self.stop_training = False
        self.batches_per_epoch = 0
        self.train_loader: Any = None
        # Ctrl-C: requested, and where the epoch stood when the loop stopped for it
        self._stop_requested = False
        self.interrupted: dict[str, Any] | None = None
        self._resume_partial: dict[str, Any] | None = None
        self._epoch_lr = 0.0

    # ------------------------------------------------------------------ helpers
    def log(self, message: str) -> None:
        """Print a message through the trainer's logger."""
        self._log(message)

    def current_lr(self) -> float:
        """The learning rate of the first parameter group."""
        return float(self.optimizer.param_groups[0]["lr"])

    def _forward_loss(self, x: Any, y: Any) -> tuple[Any, Any]:
        """The outputs and the training loss of one batch.

        A model with a ``training_loss(x, y, loss_fn)`` method defines its own training
        objective and returns ``(outputs, loss)`` (e.g. a causal language model's loss at every
        position of its window); the outputs feed the metrics, and evaluation still uses
        ``loss_fn(model(x), y)``.
        """
        own = getattr(self.model, "training_loss", None)
        if callable(own):
            out, loss = own(x, y, self.loss_fn)
            return out, self._loss(None, y, loss)
        out = self.model(x)
        return out, self._loss(out, y)

    def _loss(self, out: Any, y: Any, loss: Any = None) -> Any:
        if loss is None:
            loss = self.loss_fn(out, y)
        if self.l1:
            from gradfit.nn.utils import l1_penalty

            weights = [p for n, p in self.model.named_parameters() if p.ndim > 1]
            loss = loss + self.l1 * l1_penalty(weights)
        return loss

    # ------------------------------------------------------------------ the loop
    def train_epoch(self, loader: Iterable[Any]) -> dict[str, float]:
        """One pass over ``loader``: forward, loss, backward, step for every mini-batch.

        NumPy's overflow warnings are silenced here: a diverging loss is reported once,
        clearly, by the :class:`~gradfit.train.callbacks.NaNGuard`.
        """
        with np.errstate(over="ignore", invalid="ignore"):
            return self._train_epoch(loader)

    def _rng_states(self, loader: Any) -> dict[str, Any]:
        gen = getattr(loader, "generator", None)
        return {
            "gradfit": gf.get_rng_state(),
            "loader": gen.bit_generator.state if gen is not None else None,
        }

    @staticmethod
    def _set_rng_states(loader: Any, states: dict[str, Any]) -> None:
        if states.get("gradfit") is not None:
            gf.set_rng_state(states["gradfit"])
        gen = getattr(loader, "generator", None)
        if gen is not None and states.get("loader") is not None:
            gen.bit_generator.state = states["loader"]

    def _train_epoch(self, loader: Iterable[Any]) -> dict[str, float]:
        self.model.train()
        total, count, start = 0.0, 0, 0
        outs: list[np.ndarray] = []
        targets: list[np.ndarray] = []
        keep = bool(self.metrics)
        partial, self._resume_partial = self._resume_partial, None
        if partial is None:
            epoch_start = self._rng_states(loader)
            batches = iter(loader)
        else:  # an epoch stopped by Ctrl-C: replay its draws up to where it stopped
            epoch_start = partial["epoch_start_rng"]
            self._set_rng_states(loader, epoch_start)
            batches = iter(loader)
            start = int(partial["batches"])
            for _ in range(start):
                next(batches)
            self._set_rng_states(loader, partial["rng"])
            total, count = float(partial["loss_sum"]), int(partial["count"])
            if keep and partial.get("outputs") is not None:
                outs, targets = [partial["outputs"]], [partial["targets"]]
        b = start
        while True:
            if self._stop_requested:  # Ctrl-C: stop here, between two batches
                done_out = np.concatenate(outs) if keep and outs else None
                self.interrupted = {
                    "batches": b,
                    "lr": self._epoch_lr,
                    "loss_sum": total,
                    "count": count,
                    "epoch_start_rng": epoch_start,
                    "rng": self._rng_states(loader),
                    "outputs": done_out,
                    "targets": np.concatenate(targets) if done_out is not None else None,
                }
                raise KeyboardInterrupt
            try:
                x, y = next(batches)
            except StopIteration:
                break
            out, loss = self._forward_loss(x, y)  # forward (builds the graph), average loss
            value, n = float(loss.item()), len(y)
            for cb in self.callbacks:
                cb.on_loss(self, b, value)
            self.optimizer.zero_grad()
            loss.backward()  # the chain rule, back to every weight
            if self.clip_grad_norm:
                from gradfit.nn.utils import clip_grad_norm_

                clip_grad_norm_(self.model.parameters(), self.clip_grad_norm)
            self.optimizer.step()  # each weight against its gradient
            if self.scheduler is not None and self.scheduler_interval == "step":
                self.scheduler.step()
            self.global_step += 1
            total += value * n
            count += n
            if keep:
                outs.append(out._data)
                targets.append(y._data)
            for cb in self.callbacks:
                cb.on_batch_end(self, b, value, n)
            b += 1
        logs = {"loss": total / max(count, 1)}
        if keep and outs:
            logs.update(self._metrics(np.concatenate(outs), np.concatenate(targets)))
        return logs

    def _metrics(self, out: np.ndarray, y: np.ndarray) -> dict[str, float]:
        return {name: float(fn(out, y)) for name, fn in self.metrics.items()}

    @gf.no_grad()
    def evaluate(self, loader: Iterable[Any]) -> dict[str, float]:
        """Average loss and metrics over ``loader`` in eval mode, recording no graph."""
        self.model.eval()
        total, count = 0.0, 0
        outs, targets = [], []
        for x, y in loader:
            out = self.model(x)
            n = len(y)
            total += float(self.loss_fn(out, y).item()) * n
            count += n
            outs.append(out._data)
            targets.append(y._data)
        logs = {"loss": total / max(count, 1)}
        if outs:
            logs.update(self._metrics(np.concatenate(outs), np.concatenate(targets)))
        return logs

    @gf.no_grad()
    def predict(self, inputs: Any, batch_size: int = 1024) -> np.ndarray:
        """Model outputs for an array/Tensor of inputs (or a loader of batches), in eval mode."""
        self.model.eval()
        if hasattr(inputs, "__iter__") and not isinstance(inputs, (np.ndarray, gf.Tensor)):
            return np.concatenate(
                [self.model(b[0] if isinstance(b, tuple) else b)._data for b in inputs]
            )
        arr = inputs._data if isinstance(inputs, gf.Tensor) else np.asarray(inputs)
        parts = [
            self.model(gf.Tensor._wrap(arr[i : i + batch_size]))._data
            for i in range(0, len(arr), batch_size)
        ]
        return np.concatenate(parts)

    def fit(
        self, train_loader: Any, epochs: int, val_loader: Any = None, monitor: str | None = None
    ) -> History:
        """Train until ``epochs`` epochs are done in total (counting resumed ones) or a callback stops.

        ``monitor`` is the value given to ``ReduceLROnPlateau`` (default ``val_loss`` when
        there is validation data, else ``train_loss``).
        """
        if not isinstance(epochs, int) or epochs <= 0:
            raise ValueError(f"fit: epochs must be a positive integer, got {epochs!r}")
        self.epochs = epochs
        self.train_loader = train_loader
        self.batches_per_epoch = len(train_loader) if hasattr(train_loader, "__len__") else 0
        monitor = monitor or ("val_loss" if val_loader is not None else "train_loss")
        self.stop_training = False
        self._stop_requested = False
        if self.interrupted is not None:  # fit again after Ctrl-C: finish the stopped epoch
            self._resume_partial, self.interrupted = self.interrupted, None
            self.epoch -= 1
        previous = self._catch_ctrl_c()
        for cb in self.callbacks:
            cb.on_fit_start(self)
        try:
            while self.epoch < epochs and not self.stop_training:
                self.epoch += 1
                for cb in self.callbacks:
                    cb.on_epoch_start(self, self.epoch)
                t0 = time.perf_counter()
                lr = self.current_lr()  # the lr the epoch starts with (as torch's get_last_lr)
                if self._resume_partial is not None:  # the stopped epoch started with its own
                    lr = float(self._resume_partial.get("lr", lr))
                self._epoch_lr = lr
                logs: dict[str, Any] = {"epoch": self.epoch}
                logs.update({f"train_{k}": v for k, v in self.train_epoch(train_loader).items()})
                if val_loader is not None:
                    logs.update({f"val_{k}": v for k, v in self.evaluate(val_loader).items()})
                logs["lr"] = lr
                logs["time"] = time.perf_counter() - t0
                if self.scheduler is not None and self.scheduler_interval == "epoch":
                    if type(self.scheduler).__name__ == "ReduceLROnPlateau":
                        self.scheduler.step(logs[monitor])
                    else:
                        self.scheduler.step()
                self.history.append(logs)
                for cb in self.callbacks:
                    cb.on_epoch_end(self, logs)
            if self._stop_requested:  # Ctrl-C during the last validation: still honour it
                raise KeyboardInterrupt
        finally:
            if previous is not None:
                signal.signal(signal.SIGINT, previous)
            for cb in self.callbacks:
                cb.on_fit_end(self)
        return self.history

    def _catch_ctrl_c(self) -> Any:
        """Make the first Ctrl-C stop at the next batch boundary; returns the old handler.

        Only in the main thread, and only when Python's own handler is installed (a
        program with its own SIGINT handling keeps it).
        """
        if threading.current_thread() is not threading.main_thread():
            return None
        if signal.getsignal(signal.SIGINT) is not signal.default_int_handler:
            return None

        def on_ctrl_c(signum: int, frame: Any) -> None:
            if self._stop_requested:  # the second press: stop now
                raise KeyboardInterrupt
            self._stop_requested = True

        return signal.signal(signal.SIGINT, on_ctrl_c)

    # ------------------------------------------------------------------ checkpoints
    def state_meta(self) -> dict[str, Any]:
        """Everything but the weights needed to resume exactly: JSON-able."""
        loader_gen = getattr(self.train_loader, "generator", None)
        part = self.interrupted
        partial = None
        if part is not None:  # stopped inside epoch self.epoch: it is not finished
            keys = ("batches", "lr", "loss_sum", "count", "epoch_start_rng", "rng")
            partial = {k: part[k] for k in keys}
        return {
            "config": self.config,
            "epoch": self.epoch - 1 if partial is not None else self.epoch,
            "partial_epoch": partial,
            "step": self.global_step,
            "scheduler": self.scheduler.state_dict() if self.scheduler is not None else None,
            "rng": {
                "gradfit": gf.get_rng_state(),
                "loader": loader_gen.bit_generator.state if loader_gen is not None else None,
            },
            "history": self.history.rows,
        }

    def save_checkpoint(self, path: str | Path) -> Path:
        """Write an atomic checkpoint of the model, optimizer, scheduler, RNG and history."""
        from gradfit.train.checkpoint import save_checkpoint

        extra = None
        if self.interrupted is not None and self.interrupted["outputs"] is not None:
            extra = {  # the stopped epoch's outputs so far: its train metrics stay exact
                "partial_outputs": self.interrupted["outputs"],
                "partial_targets": self.interrupted["targets"],
            }
        save_checkpoint(path, self.model, self.optimizer, meta=self.state_meta(), extra=extra)
        return Path(path)

    def resume(self, checkpoint: Any) -> None:
        """Restore everything :meth:`save_checkpoint` wrote, so training continues exactly.

        ``checkpoint`` is a path or a loaded :class:`~gradfit.train.checkpoint.Checkpoint`.
        Nothing is changed if the checkpoint does not fit the model or optimizer.
        """
        from gradfit.train.checkpoint import CheckpointError, load_checkpoint

        ckpt = load_checkpoint(checkpoint) if isinstance(checkpoint, (str, Path)) else checkpoint
        meta = ckpt.meta
        backup = {k: v.clone() for k, v in self.model.state_dict().items()}
        try:
            self.model.load_state_dict(ckpt.model_state)
        except (ValueError, KeyError, RuntimeError) as e:
            raise CheckpointError(f"checkpoint {ckpt.path} does not fit this model: {e}") from None
        try:
            if ckpt.optim_state is not None:
                self.optimizer.load_state_dict(ckpt.optim_state)
        except (ValueError, KeyError, RuntimeError) as e:
            self.model.load_state_dict(backup)
            raise CheckpointError(
                f"checkpoint {ckpt.path}: its optimizer state does not fit this optimizer: {e}"
            ) from None
        if self.scheduler is not None and meta.get("scheduler") is not None:
            self.scheduler.load_state_dict(meta["scheduler"])
        rng = meta.get("rng") or {}
        if rng.get("gradfit") is not None:
            gf.set_rng_state(rng["gradfit"])
        loader_gen = getattr(self.train_loader, "generator", None)
        if loader_gen is not None and rng.get("loader") is not None:
            loader_gen.bit_generator.state = rng["loader"]
        self.epoch = int(meta.get("epoch", 0))
        self.global_step = int(meta.get("step", 0))
        self.history = History.from_rows(meta.get("history", []))
        partial = meta.get("partial_epoch")
        self._resume_partial = None
        if partial is not None:
            self._resume_partial = {
                **partial,
                "outputs": ckpt.extra.get("partial_outputs"),
                "targets": ckpt.extra.get("partial_targets"),
            }


def fit(
    model: Any,
    train_loader: Any,
    loss_fn: Callable[[Any, Any], Any],
    optimizer: Any,
    epochs: int,
    val_loader: Any = None,
    scheduler: Any = None,
    metrics: Sequence[str] = ("accuracy",),
    callbacks: Iterable[Callback] | None = None,
    **trainer_options: Any,
) -> History:
    """Train ``model`` for ``epochs`` epochs and return the per-epoch :class:`History`.

    Args:
        model: a ``gf.nn.Module``.
        train_loader: an iterable of ``(x, y)`` mini-batches (a ``gf.data.DataLoader``).
        loss_fn: ``loss_fn(outputs, targets)`` returning a scalar Tensor.
        optimizer: a ``gf.optim`` optimizer over the model's parameters.
        epochs: number of passes over the training data.
        val_loader: batches to evaluate on after each epoch (``val_loss``, ``val_<metric>``).
        scheduler: a ``gf.optim.lr_scheduler`` scheduler (per epoch; OneCycleLR per step).
        metrics: names from :mod:`gradfit.train.metrics` (e.g. ``accuracy``, ``rmse``).
        callbacks: :mod:`gradfit.train.callbacks` objects; default: a progress bar and
            the NaN guard. Pass ``[]`` for a silent run.
        **trainer_options: ``l1``, ``clip_grad_norm``, ``scheduler_interval``, ``config``.

    Example:
        >>> import gradfit as gf
        >>> from gradfit.data import ArrayDataset, DataLoader
        >>> import numpy as np
        >>> X = np.linspace(-1, 1, 32, dtype=np.float32)[:, None]
        >>> ds = ArrayDataset(X, 2 * X)
        >>> m = gf.nn.Linear(1, 1)
        >>> h = fit(m, DataLoader(ds, batch_size=8), gf.nn.MSELoss(),
        ...         gf.optim.SGD(m.parameters(), lr=0.3), epochs=20, metrics=(), callbacks=[])
        >>> h["train_loss"][-1] < 1e-3
        True
    """
    trainer = Trainer(
        model,
        loss_fn,
        optimizer,
        scheduler=scheduler,
        metrics=metrics,
        callbacks=callbacks,
        **trainer_options,
    )
    return trainer.fit(train_loader, epochs, val_loader=val_loader)
