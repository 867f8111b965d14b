"""The run configuration of ``gradfit train``: defaults, a TOML file, command-line flags.

Precedence: flags given on the command line win over the ``--config`` file, which wins
over the defaults. Every value is validated here, before anything is written, and a
bad one raises :class:`~gradfit.cli.main.UsageError` naming the option.

Example:
    >>> cfg = resolve({"hidden": "64,32", "lr": 0.1})
    >>> cfg["hidden"], cfg["lr"], cfg["data"]
    ([64, 32], 0.1, 'digits')
"""

from __future__ import annotations

import itertools
import math
from pathlib import Path
from typing import Any

import tomllib

from gradfit.cli.main import UsageError, did_you_mean

DEFAULTS: dict[str, Any] = {
    "data": "digits",
    "data_dir": None,
    "download": False,
    "model": "mlp",
    "hidden": [256, 128],
    "activation": "relu",
    "dropout": 0.2,
    "batch_norm": None,  # None: on for the MLP on digits (see resolve), off elsewhere
    "optimizer": "sgd",
    "lr": 0.1,
    "momentum": 0.9,
    "nesterov": False,
    "weight_decay": 0.0,
    "l1": 0.0,
    "schedule": "cosine",
    "epochs": 30,
    "batch_size": 32,
    "seed": 0,
    "embedding_dim": 16,
    "early_stopping": 0,
    "val_fraction": None,
    "classes": None,
    "train_per_class": None,
    "shift": 0,
    "path": None,
    "target": None,
    # sequence models: char_lm's architecture and the context of names/text data
    "arch": "transformer",
    "block_size": 8,
    "heads": 4,
    "layers": None,  # None: the model's own (2 transformer blocks or recurrent layers: 1 for gru/lstm)
    "every_position": False,  # char_lm transformer: a loss at every position of the window
}

# integers beyond these are typos, and some would allocate or loop without end
UPPER_BOUNDS = {
    "epochs": 1_000_000,
    "batch_size": 2**31 - 1,
    "embedding_dim": 1_000_000,
    "early_stopping": 1_000_000,
    "train_per_class": 2**31 - 1,
    "shift": 10_000,
    "block_size": 64,
    "heads": 64,
    "layers": 64,
}

OPTIMIZERS = [
    "sgd", "adam", "adamw", "rmsprop", "adagrad", "adadelta", "adamax", "nadam", "radam",
]  # fmt: skip
ARCHS = ["bigram", "mlp", "rnn", "gru", "transformer"]
SCHEDULES = ["none", "cosine", "step", "exponential", "onecycle", "plateau", "linear"]

_TYPES: dict[str, tuple[type, ...]] = {
    "data": (str,),
    "data_dir": (str, type(None)),
    "download": (bool,),
    "model": (str,),
    "hidden": (list, str),
    "activation": (str,),
    "dropout": (float, int),
    "batch_norm": (bool,),
    "optimizer": (str,),
    "lr": (float, int),
    "momentum": (float, int),
    "nesterov": (bool,),
    "weight_decay": (float, int),
    "l1": (float, int),
    "schedule": (str,),
    "epochs": (int,),
    "batch_size": (int,),
    "seed": (int,),
    "embedding_dim": (int,),
    "early_stopping": (int,),
    "val_fraction": (float, int, type(None)),
    "classes": (list, str, type(None)),
    "train_per_class": (int, type(None)),
    "shift": (int,),
    "path": (str, type(None)),
    "target": (str, type(None)),
    "arch": (str,),
    "block_size": (int,),
    "heads": (int,),
    "layers": (int, type(None)),
    "every_position": (bool,),
}


def parse_hidden(value: Any) -> list[int]:
    """``"256,128"`` (or a list) -> ``[256, 128]``; ``""`` -> ``[]``.

    Example:
        >>> parse_hidden("256, 128")
        [256, 128]
    """
    if isinstance(value, list):
        items = value
    else:
        text = str(value).strip()
        items = [s.strip() for s in text.split(",")] if text else []
    out = []
    for s in items:
        if isinstance(s, bool):
            raise UsageError(f"--hidden: layer sizes must be positive integers, got {value!r}")
        try:
            n = int(s)
        except (TypeError, ValueError):
            raise UsageError(
                f"--hidden: expected comma-separated positive integers such as 256,128, got {value!r}"
            ) from None
        if n <= 0 or (isinstance(s, float) and not float(s).is_integer()):
            raise UsageError(f"--hidden: layer sizes must be positive integers, got {value!r}")
        if n > MAX_LAYER:
            raise UsageError(f"--hidden: at most {MAX_LAYER} units per layer, got {n}")
        out.append(n)
    if len(out) > 1000:
        raise UsageError(f"--hidden: at most 1000 hidden layers, got {len(out)}")
    check_param_budget([1, *out, 1])
    return out


MAX_LAYER = 1_000_000  # units in one hidden layer
MAX_PARAMS = 200_000_000  # weights a model may have (800 MB in float32): checked before allocating


def check_param_budget(sizes: list[int], flag: str = "--hidden") -> int:
    """The weight count of dense layers ``sizes[0] -> sizes[1] -> ...``, refused above
    :data:`MAX_PARAMS` before anything is allocated.

    Example:
        >>> check_param_budget([64, 32, 10])
        2410
        >>> check_param_budget([64, 10**6, 10**6, 10])
        Traceback (most recent call last):
        ...
        gradfit.cli.main.UsageError: --hidden: [1000000, 1000000] needs about 1000076000010 weights; at most 200000000 are allowed
    """
    total = sum(a * b + b for a, b in itertools.pairwise(sizes))
    if total > MAX_PARAMS:
        raise UsageError(
            f"{flag}: {sizes[1:-1] if len(sizes) > 2 else sizes} needs about {total} weights; "
            f"at most {MAX_PARAMS} are allowed"
        )
    return total


MAX_CLASSES = 100_000  # far above any dataset here; bounds what a crafted file can ask for


def parse_classes(value: Any) -> list[int] | None:
    """``"5-9"``, ``"0,2,4"`` or a list of labels -> a list of class labels (None: all).

    Example:
        >>> parse_classes("5-9"), parse_classes("0, 2,4"), parse_classes(None)
        ([5, 6, 7, 8, 9], [0, 2, 4], None)
    """
    if value is None:
        return None
    bad = UsageError(
        f"--classes: expected class labels such as 5-9 or 0,2,4 (distinct, >= 0), got {value!r}"
    )
    if not isinstance(value, list | str):
        raise bad
    items = value if isinstance(value, list) else value.split(",")
    out: list[int] = []
    for item in items:
        if isinstance(item, bool | float):
            raise bad
        text = str(item).strip()
        lo, dash, hi = text.partition("-")
        try:
            first, last = (int(lo), int(hi)) if dash else (int(text), int(text))
        except (ValueError, OverflowError):
            raise bad from None
        if last - first >= MAX_CLASSES or len(out) >= MAX_CLASSES:  # before building a list
            raise UsageError(f"--classes: at most {MAX_CLASSES} classes, got {value!r}")
        out += range(first, last + 1)
    if not out or min(out) < 0 or len(set(out)) != len(out):
        raise bad
    if len(out) < 2:
        raise UsageError(f"--classes: a classifier needs at least two classes, got {value!r}")
    return out


def load_toml(path: str) -> dict[str, Any]:
    """Read a ``--config`` TOML file; keys use the flags' names with ``-`` or ``_``.

    Example:
        >>> load_toml("/missing.toml")
        Traceback (most recent call last):
        ...
        gradfit.cli.main.UsageError: --config /missing.toml: no such file
    """
    p = Path(path)
    if not p.is_file():
        raise UsageError(f"--config {path}: no such file")
    try:
        raw = tomllib.loads(p.read_text())
    except (tomllib.TOMLDecodeError, UnicodeDecodeError, RecursionError) as e:
        raise UsageError(f"--config {path}: not valid TOML: {e}") from None
    except OSError as e:
        raise UsageError(f"--config {path}: cannot read it: {e.strerror or e}") from None
    out = {}
    for key, value in raw.items():
        k = key.replace("-", "_")
        if k not in DEFAULTS:
            raise UsageError(
                f"--config {path}: unknown key {key!r}; valid keys: "
                + ", ".join(sorted(k.replace("_", "-") for k in DEFAULTS))
            )
        types = _TYPES[k]
        ok = isinstance(value, types) and not (isinstance(value, bool) and bool not in types)
        if not ok:
            names = " or ".join(t.__name__ for t in types if t is not type(None))
            raise UsageError(
                f"--config {path}: {key} must be {names}, got {type(value).__name__} {value!r}"
            )
        out[k] = value
    return out


def resolve(flags: dict[str, Any], toml: dict[str, Any] | None = None) -> dict[str, Any]:
    """Merge defaults, the TOML values and the flags given, then validate.

    Example:
        >>> resolve({"epochs": 0})
        Traceback (most recent call last):
        ...
        gradfit.cli.main.UsageError: --epochs must be a positive integer, got 0
    """
    cfg = dict(DEFAULTS)
    cfg.update(toml or {})
    cfg.update({k: v for k, v in flags.items() if v is not None})
    cfg["hidden"] = parse_hidden(cfg["hidden"])
    if cfg["batch_norm"] is None:  # measured: digits' MLP stays >= 97.5 % over seeds 0-9 with it
        cfg["batch_norm"] = cfg["model"] == "mlp" and cfg["data"] == "digits"
    cfg["classes"] = parse_classes(cfg["classes"])
    tpc = cfg["train_per_class"]
    if tpc is not None and (not isinstance(tpc, int) or tpc <= 0):
        raise UsageError(f"--train-per-class must be a positive integer, got {tpc!r}")
    if not isinstance(cfg["shift"], int) or cfg["shift"] < 0:
        raise UsageError(f"--shift must be a non-negative integer (0: off), got {cfg['shift']!r}")
    for key in ("epochs", "batch_size"):
        if not isinstance(cfg[key], int) or cfg[key] <= 0:
            raise UsageError(
                f"--{key.replace('_', '-')} must be a positive integer, got {cfg[key]!r}"
            )
    lr = cfg["lr"]
    if not isinstance(lr, (int, float)) or not math.isfinite(lr) or lr <= 0:
        raise UsageError(f"--lr must be a positive number, got {lr!r}")
    cfg["lr"] = float(lr)
    for key in ("weight_decay", "l1", "momentum", "dropout"):
        v = cfg[key]
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
            raise UsageError(f"--{key.replace('_', '-')} must be a finite number, got {v!r}")
    for key in ("weight_decay", "l1"):
        if cfg[key] < 0:
            raise UsageError(f"--{key.replace('_', '-')} must be >= 0, got {cfg[key]!r}")
    if not 0 <= cfg["momentum"] < 1:
        raise UsageError(f"--momentum must be in [0, 1), got {cfg['momentum']!r}")
    if not 0 <= cfg["dropout"] < 1:
        raise UsageError(f"--dropout must be in [0, 1), got {cfg['dropout']!r}")
    if cfg["early_stopping"] < 0:
        raise UsageError(f"--early-stopping must be >= 0 (0: off), got {cfg['early_stopping']!r}")
    if cfg["embedding_dim"] <= 0:
        raise UsageError(
            f"--embedding-dim must be a positive integer, got {cfg['embedding_dim']!r}"
        )
    vf = cfg["val_fraction"]
    if vf is not None and (not isinstance(vf, (int, float)) or not 0 <= vf < 1):
        raise UsageError(f"--val-fraction must be in [0, 1), got {vf!r}")
    if not 0 <= cfg["seed"] < 2**32:
        raise UsageError(f"--seed must be an integer in [0, 2**32), got {cfg['seed']!r}")
    for key, top in UPPER_BOUNDS.items():
        value = cfg[key]
        if isinstance(value, int) and value > top:
            raise UsageError(f"--{key.replace('_', '-')} must be at most {top}, got {value}")
    cfg["optimizer"] = cfg["optimizer"].lower()
    if cfg["optimizer"] not in OPTIMIZERS:
        raise UsageError(
            f"--optimizer: unknown optimizer {cfg['optimizer']!r}"
            f"{did_you_mean(cfg['optimizer'], OPTIMIZERS)}; valid: {', '.join(OPTIMIZERS)}"
        )
    cfg["schedule"] = cfg["schedule"].lower()
    if cfg["schedule"] not in SCHEDULES:
        raise UsageError(
            f"--schedule: unknown schedule {cfg['schedule']!r}"
            f"{did_you_mean(cfg['schedule'], SCHEDULES)}; valid: {', '.join(SCHEDULES)}"
        )
    for key in ("block_size", "heads", "layers"):
        v = cfg[key]
        if v is None and key == "layers":
            continue
        if isinstance(v, bool) or not isinstance(v, int) or v <= 0:
            raise UsageError(f"--{key.replace('_', '-')} must be a positive integer, got {v!r}")
    cfg["arch"] = str(cfg["arch"]).lower()
    if cfg["arch"] not in ARCHS:
        raise UsageError(
            f"--arch: unknown architecture {cfg['arch']!r}{did_you_mean(cfg['arch'], ARCHS)}; "
            f"valid: {', '.join(ARCHS)}"
        )
    if cfg["every_position"] and (cfg["model"] != "char_lm" or cfg["arch"] != "transformer"):
        raise UsageError(
            "--every-position needs --model char_lm --arch transformer (a causal model that "
            f"predicts at every position), got --model {cfg['model']} --arch {cfg['arch']}"
        )
    if cfg["nesterov"] and (cfg["optimizer"] != "sgd" or cfg["momentum"] == 0):
        raise UsageError("--nesterov needs --optimizer sgd and a --momentum above 0")
    from gradfit.models import list_models

    if cfg["model"] not in list_models():
        raise UsageError(
            f"--model: unknown model {cfg['model']!r}"
            f"{did_you_mean(cfg['model'], list_models())}; valid: {', '.join(list_models())}"
        )
    from gradfit.data import list_datasets

    names = list_datasets()
    norm = cfg["data"].lower().replace("_", "-")
    if norm not in names:
        raise UsageError(
            f"--data: unknown dataset {cfg['data']!r}{did_you_mean(norm, names)}; "
            f"valid: {', '.join(names)}"
        )
    cfg["data"] = norm
    return cfg
