"""``DistributedSync``: the trainer callback that keeps the ranks of a data-parallel run in step.

Put it first in every rank's ``callbacks`` (and the writers, ``ProgressBar``,
``ModelCheckpoint``, ``CSVLogger``, on rank 0 only). It

- calls ``set_epoch`` on the loader's :class:`~gradfit.distributed.DistributedSampler`
  before each epoch, so every epoch has its own shuffle, the same on all ranks;
- makes Ctrl-C stop every rank at the same batch boundary: ``mpiexec`` forwards SIGINT to
  every rank, at slightly different moments, and a rank that stopped one batch earlier
  than another would leave it waiting in the gradient all-reduce. The callback replaces the
  trainer's first-Ctrl-C handler by one that only raises a flag; before each backward the
  ranks agree (an all-reduce of the flag) and all stop if any was interrupted. A
  second Ctrl-C raises ``KeyboardInterrupt`` at once, as in the trainer;
- raises ``TrainingDiverged`` on every rank when the loss of any rank is NaN or infinite
  (put it before ``NaNGuard``, which would stop that rank alone);
- averages the epoch's ``train_*`` values over the ranks (each rank's share has the same
  size, so the mean of the ranks' means is the global mean) and agrees on
  ``stop_training`` (e.g. early stopping) so that all ranks end together.

Example:
    >>> cb = DistributedSync()
    >>> cb.stop_flag
    False
"""

from __future__ import annotations

import math
import signal
import threading
from typing import Any

import numpy as np

from gradfit.train.callbacks import Callback


class DistributedSync(Callback):
    """Keep the ranks together: sampler epochs, Ctrl-C, train metrics, early stops.

    Args:
        sampler: the ``DistributedSampler`` to advance each epoch (default: the train
            loader's ``sampler`` when it has ``set_epoch``).

    Example:
        >>> DistributedSync().sampler is None
        True
    """

    def __init__(self, sampler: Any = None) -> None:
        self.sampler = sampler
        self.stop_flag = False
        self._previous: Any = None

    def _on_sigint(self, signum: int, frame: Any) -> None:
        if self.stop_flag:  # the second Ctrl-C: stop now
            raise KeyboardInterrupt
        self.stop_flag = True

    def on_fit_start(self, trainer: Any) -> None:
        """Take over the first Ctrl-C (main thread only)."""
        self.stop_flag = False
        if threading.current_thread() is threading.main_thread():
            current = signal.getsignal(signal.SIGINT)
            if current not in (signal.SIG_IGN, None):
                self._previous = current
                signal.signal(signal.SIGINT, self._on_sigint)

    def on_epoch_start(self, trainer: Any, epoch: int) -> None:
        """``set_epoch(epoch - 1)`` on the sampler (the trainer's epochs are 1-based)."""
        sampler = self.sampler
        if sampler is None:
            sampler = getattr(getattr(trainer, "train_loader", None), "sampler", None)
        if sampler is not None and hasattr(sampler, "set_epoch"):
            sampler.set_epoch(epoch - 1)

    def on_loss(self, trainer: Any, batch: int, loss: float) -> None:
        """Before backward, one tiny all-reduce: did any rank get Ctrl-C, or a non-finite loss?

        Ctrl-C anywhere: every rank stops after this batch. A NaN or infinite loss anywhere:
        every rank raises :class:`~gradfit.train.TrainingDiverged` now (a rank that stopped
        alone would leave the others waiting in the gradient all-reduce).
        """
        from gradfit import distributed as dist
        from gradfit.train.callbacks import TrainingDiverged

        flags = np.array([1.0 if self.stop_flag else 0.0, 0.0 if math.isfinite(loss) else 1.0])
        dist.all_reduce(flags)
        if flags[0]:
            self.stop_flag = True
            trainer._stop_requested = True
        if flags[1]:
            raise TrainingDiverged(
                f"the loss became NaN or infinite on {int(flags[1])} of {dist.get_world_size()} "
                f"ranks (this rank's: {loss}) at epoch {trainer.epoch}, step "
                f"{trainer.global_step} (batch {batch + 1} of the epoch); every rank stops. Try "
                "a smaller learning rate, gradient clipping, or normalised inputs."
            )

    def on_epoch_end(self, trainer: Any, logs: dict[str, Any]) -> None:
        """Average ``train_*`` over the ranks; stop every rank if any callback stopped one."""
        from gradfit import distributed as dist

        keys = [k for k, v in logs.items() if k.startswith("train_") and isinstance(v, float)]
        values = np.array([float(logs[k]) for k in keys] + [float(trainer.stop_training)])
        dist.all_reduce(values)
        world = dist.get_world_size()
        rows = getattr(getattr(trainer, "history", None), "rows", None)
        last = rows[-1] if rows and rows[-1].get("epoch") == logs.get("epoch") else {}
        for k, v in zip(keys, values[:-1], strict=True):
            logs[k] = float(v / world)
            if k in last:  # the trainer recorded the row before its callbacks ran
                last[k] = logs[k]
        trainer.stop_training = bool(values[-1] > 0)

    def on_fit_end(self, trainer: Any) -> None:
        """Give Ctrl-C back to the handler that was there."""
        if self._previous is not None and signal.getsignal(signal.SIGINT) == self._on_sigint:
            signal.signal(signal.SIGINT, self._previous)
        self._previous = None
