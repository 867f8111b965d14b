"""Training: the loop, callbacks, metrics, checkpoints and baselines.

Example:
    >>> from gradfit.train import History
    >>> len(History())
    0
"""

from __future__ import annotations

from gradfit.train.callbacks import (
    Callback,
    CollapseWarning,
    CSVLogger,
    EarlyStopping,
    JSONLinesLogger,
    ModelCheckpoint,
    NaNGuard,
    ProgressBar,
    TrainingDiverged,
)
from gradfit.train.checkpoint import CheckpointError, load_checkpoint, save_checkpoint
from gradfit.train.history import History
from gradfit.train.run import RunInterrupted, RunResult, run
from gradfit.train.sweep import sweep  # Optuna loads only when a sweep runs
from gradfit.train.trainer import Trainer, fit

__all__ = [
    "CSVLogger",
    "Callback",
    "CheckpointError",
    "CollapseWarning",
    "EarlyStopping",
    "History",
    "JSONLinesLogger",
    "ModelCheckpoint",
    "NaNGuard",
    "ProgressBar",
    "RunInterrupted",
    "RunResult",
    "Trainer",
    "TrainingDiverged",
    "fit",
    "load_checkpoint",
    "run",
    "save_checkpoint",
    "sweep",
]


def __getattr__(name: str) -> object:
    """``gf.train.baselines``, ``gf.train.metrics`` and ``gf.train.summary`` load on first use."""
    import importlib

    if name in ("baselines", "metrics", "summary"):
        mod = importlib.import_module(f"gradfit.train.{name}")
        return getattr(mod, name, mod) if name != "metrics" else mod
    raise AttributeError(f"module 'gradfit.train' has no attribute {name!r}")


# curvature while training: the top Hessian eigenvalue every k epochs (gradfit train --track-curvature)
from gradfit.train.sharpness import TrackSharpness  # noqa: E402

__all__ += ["TrackSharpness"]
