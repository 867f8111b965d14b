"""What several subcommands share: loading the data a config names, building the model,
optimizer, scheduler and loss for it, and opening checkpoints.

Example:
    >>> from gradfit.cli.config import resolve
    >>> cfg = resolve({"epochs": 1})
    >>> data = load_data(cfg)
    >>> model_config_for(cfg, data)["sizes"]
    [64, 256, 128, 10]
"""

from __future__ import annotations

from typing import Any

import numpy as np

import gradfit as gf
from gradfit.cli.main import UsageError

IMAGE_MODELS = {"cnn"}
# datasets with a view="image" option: (C, H, W) images for the CNN, flat vectors otherwise
IMAGE_DATASETS = {"digits", "mnist", "fashion-mnist", "mnist-5k"}


def load_data(cfg: dict[str, Any]) -> Any:
    """Load the dataset named by ``cfg['data']`` in the layout the model needs."""
    from gradfit.data import load_dataset

    options: dict[str, Any] = {}
    if cfg["data"] in ("mnist", "fashion-mnist", "movielens"):
        if cfg.get("data_dir"):
            options["data_dir"] = cfg["data_dir"]
        if cfg.get("download"):
            options["download"] = True
    if cfg["data"] in IMAGE_DATASETS:
        options["view"] = "image" if cfg["model"] in IMAGE_MODELS else "flat"
    if cfg["data"] in ("names", "text"):
        options["block_size"] = cfg.get("block_size", 8)
    if cfg["data"] == "text":
        if not cfg.get("path"):
            raise UsageError("--data text needs --path FILE.txt (one word or item per line)")
        options["path"] = cfg["path"]
    if cfg["data"] == "csv":
        if not cfg.get("path") or not cfg.get("target"):
            raise UsageError(
                "--data csv needs --path FILE.csv (a table with a header row) and "
                "--target COLUMN (the column to predict)"
            )
        options["path"], options["target"] = cfg["path"], cfg["target"]
    options["seed"] = cfg.get("seed", 0)
    if cfg.get("val_fraction") is not None:
        options["val_fraction"] = cfg["val_fraction"]
    try:
        data = load_dataset(cfg["data"], **options)
    except (FileNotFoundError, OSError, ValueError, KeyError, TypeError, ImportError) as e:
        raise UsageError(f"--data {cfg['data']}: {cli_words(str(e))}") from None
    return _select_classes(cfg, data)


# the Python API's words in library messages, and the options that mean the same on the CLI
_API_TO_CLI = (
    ("pass download=True", "add --download"),
    ("download=True", "--download"),
    ("data_dir=", "--data-dir"),
    ("path=", "--path"),
    ("target=", "--target"),
    ("val_fraction=", "--val-fraction"),
    (" or pass a TestFunction", ""),
)


def cli_words(message: str) -> str:
    """A library message in the command line's words: options instead of keyword arguments.

    Example:
        >>> cli_words("or pass download=True to fetch them (the directory is data_dir=)")
        'or add --download to fetch them (the directory is --data-dir)'
    """
    for api, cli in _API_TO_CLI:
        message = message.replace(api, cli)
    return " ".join(message.split())  # one line


def _select_classes(cfg: dict[str, Any], data: Any) -> Any:
    """Apply ``--classes`` / ``--train-per-class`` (re-checked: a checkpoint's run config
    reaches here unvalidated through ``evaluate``)."""
    from gradfit.cli.config import parse_classes

    classes, per_class = parse_classes(cfg.get("classes")), cfg.get("train_per_class")
    if classes is None and per_class is None:
        return data
    given = "--classes" if classes is not None else "--train-per-class"
    if data.task != "classification":
        raise UsageError(f"{given}: --data {cfg['data']} is a {data.task} dataset, without classes")
    if per_class is not None and (
        isinstance(per_class, bool) or not isinstance(per_class, int) or per_class < 1
    ):
        raise UsageError(f"--train-per-class must be a positive integer, got {per_class!r}")
    try:
        return data.select_classes(
            classes if classes is not None else range(data.num_classes),
            train_per_class=per_class,
            seed=cfg.get("seed", 0),
        )
    except (ValueError, TypeError, OverflowError) as e:
        flag = "--train-per-class" if "train_per_class" in str(e) else "--classes"
        raise UsageError(f"{flag}: {e}") from None


def _input_shape(data: Any) -> tuple[int, ...]:
    return tuple(data.train.x.shape[1:])


def model_config_for(cfg: dict[str, Any], data: Any) -> dict[str, Any]:
    """The ``gf.models`` config for ``cfg['model']`` sized to ``data``."""
    from gradfit.models import model_config

    task = data.task
    shape = _input_shape(data)
    n_in = int(np.prod(shape)) if shape else 1
    if task == "classification":
        n_out = int(data.num_classes)
    elif task == "ratings":
        n_out = 1
    else:
        n_out = int(np.prod(data.train.y.shape[1:])) if data.train.y.ndim > 1 else 1
    name = cfg["model"]
    try:
        if task == "ratings" or name == "matrix_factorization":
            if task != "ratings":
                raise UsageError(
                    f"--model matrix_factorization needs ratings data, not {cfg['data']}"
                )
            info = data.description.extra
            n_users = int(info.get("n_users", int(data.train.x[:, 0].max()) + 1))
            n_items = int(info.get("n_items", int(data.train.x[:, 1].max()) + 1))
            from gradfit.cli.config import MAX_PARAMS

            if (n_users + n_items) * (cfg["embedding_dim"] + 1) > MAX_PARAMS:
                raise UsageError(
                    f"--embedding-dim {cfg['embedding_dim']}: {n_users} users and {n_items} items "
                    f"would need more than {MAX_PARAMS} weights"
                )
            return model_config(
                "matrix_factorization", n_users=n_users, n_items=n_items, dim=cfg["embedding_dim"]
            )
        if name == "mlp":
            from gradfit.cli.config import check_param_budget

            check_param_budget([n_in, *cfg["hidden"], n_out])
            return model_config(
                "mlp",
                sizes=[n_in, *cfg["hidden"], n_out],
                activation=cfg["activation"],
                dropout=cfg["dropout"],
                batch_norm=cfg["batch_norm"],
            )
        if name == "cnn":
            if len(shape) != 3 or shape[1] != shape[2]:
                raise UsageError(
                    f"--model cnn needs square images (C, H, W); {cfg['data']} gives inputs {shape}"
                )
            return model_config(
                "cnn",
                in_channels=shape[0],
                num_classes=n_out,
                image_size=shape[1],
                dropout=cfg["dropout"],
                batch_norm=cfg["batch_norm"],
            )
        if name == "cnn1d":
            length = shape[-1]
            return model_config("cnn1d", in_length=length, num_classes=n_out)
        if name in ("gru", "lstm"):
            if task != "classification" or len(shape) not in (1, 2):
                raise UsageError(
                    f"--model {name} needs sequences to classify (such as --data mnist1d), not "
                    f"{cfg['data']} with inputs {shape}"
                )
            kw: dict[str, Any] = {}
            if cfg["hidden"] != DEFAULT_HIDDEN:  # --hidden N sets the state width
                kw["hidden"] = cfg["hidden"][0] if cfg["hidden"] else 64
            if cfg.get("layers") is not None:
                kw["layers"] = cfg["layers"]
            return model_config(
                name, in_length=shape[-1], num_classes=n_out,
                in_features=shape[0] if len(shape) == 2 else 1, **kw,
            )  # fmt: skip
        if name == "char_lm":
            if data.description.extra.get("layout") != "tokens":
                raise UsageError(
                    f"--model char_lm needs character data (--data names or --data text), not "
                    f"{cfg['data']}"
                )
            kw = {}
            if cfg["hidden"] != DEFAULT_HIDDEN:
                kw["hidden"] = cfg["hidden"][0] if cfg["hidden"] else 128
            if cfg.get("layers") is not None:
                kw["layers"] = cfg["layers"]
            if cfg["embedding_dim"] != 16:  # --embedding-dim sets the width (default 64)
                kw["embed"] = cfg["embedding_dim"]
            return model_config(
                "char_lm", vocab_size=n_out, block_size=shape[0], arch=cfg["arch"],
                heads=cfg["heads"], dropout=cfg["dropout"], **kw,
            )  # fmt: skip
        if name == "logistic":
            if task != "classification":
                raise UsageError("--model logistic needs classification data")
            return model_config("logistic", in_features=n_in, num_classes=n_out)
        if name == "linear":
            return model_config("linear", in_features=n_in, out_features=n_out)
    except (ValueError, TypeError) as e:
        raise UsageError(f"--model {name}: {e}") from None
    raise UsageError(f"--model {name} is not supported by gradfit train")


DEFAULT_HIDDEN = [
    256,
    128,
]  # the MLP's; sequence models use their own width unless --hidden is given


def build_for(cfg: dict[str, Any], data: Any) -> Any:
    """The model ``cfg`` names, sized to ``data``; a size the model cannot take is a
    UsageError naming ``--model``."""
    from gradfit.models import build_model

    mcfg = model_config_for(cfg, data)
    try:
        return build_model(mcfg)
    except (ValueError, TypeError) as e:
        raise UsageError(f"--model {cfg['model']}: {e}") from None


def loss_and_metrics(task: str) -> tuple[Any, tuple[str, ...]]:
    """The loss and the metrics for a task."""
    if task == "classification":
        return gf.nn.CrossEntropyLoss(), ("accuracy",)
    return gf.nn.MSELoss(), ("rmse", "r2")


def targets_for(task: str, y: np.ndarray) -> np.ndarray:
    """Targets in the shape the loss expects (regression targets as (N, k) float32)."""
    if task == "classification":
        return y
    y = y.astype(np.float32)
    if task == "ratings":  # the factorisation model predicts (N,) ratings
        return y
    return y[:, None] if y.ndim == 1 else y


def make_optimizer(cfg: dict[str, Any], model: Any) -> Any:
    """The optimizer ``cfg`` names, with biases and norm weights undecayed."""
    from gradfit.nn.utils import param_groups_weight_decay

    params = (
        param_groups_weight_decay(model, cfg["weight_decay"])
        if cfg["weight_decay"]
        else list(model.parameters())
    )
    name, lr = cfg["optimizer"], cfg["lr"]
    if name == "sgd":
        return gf.optim.SGD(params, lr=lr, momentum=cfg["momentum"], nesterov=cfg["nesterov"])
    if name == "adam":
        return gf.optim.Adam(params, lr=lr)
    if name == "adamw":
        return gf.optim.AdamW(params, lr=lr)
    if name == "rmsprop":
        return gf.optim.RMSprop(params, lr=lr, momentum=cfg["momentum"])
    if name == "adagrad":
        return gf.optim.Adagrad(params, lr=lr)
    others = {"adadelta": "Adadelta", "adamax": "Adamax", "nadam": "NAdam", "radam": "RAdam"}
    return getattr(gf.optim, others[name])(params, lr=lr)


def make_scheduler(cfg: dict[str, Any], optimizer: Any, steps_per_epoch: int) -> Any:
    """The learning-rate schedule ``cfg`` names (over ``cfg['epochs']`` epochs)."""
    from gradfit.optim import lr_scheduler as S

    name, epochs = cfg["schedule"], cfg["epochs"]
    if name == "none":
        return None
    if name == "cosine":
        return S.CosineAnnealingLR(optimizer, T_max=epochs)
    if name == "step":
        return S.StepLR(optimizer, step_size=max(1, epochs // 3), gamma=0.1)
    if name == "exponential":
        return S.ExponentialLR(optimizer, gamma=0.95)
    if name == "linear":
        return S.LinearLR(optimizer, start_factor=1.0, end_factor=0.01, total_iters=epochs)
    if name == "plateau":
        return S.ReduceLROnPlateau(optimizer, factor=0.5, patience=3)
    return S.OneCycleLR(optimizer, max_lr=cfg["lr"], epochs=epochs, steps_per_epoch=steps_per_epoch)


def check_output_file(arg: str, flag: str) -> None:
    """Refuse an output path that cannot become a file: a directory, a missing or
    unwritable folder; checked before any work, so nothing is left half done.

    Example:
        >>> import tempfile
        >>> check_output_file(tempfile.mkdtemp(), "--out")  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        gradfit.cli.main.UsageError: --out ...: is a directory; give a file name
    """
    import os
    from pathlib import Path

    p = Path(arg)
    if p.is_dir():
        raise UsageError(f"{flag} {arg}: is a directory; give a file name")
    folder = p.parent
    if not folder.is_dir():
        raise UsageError(f"{flag} {arg}: folder {folder} does not exist")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise UsageError(f"{flag} {arg}: folder {folder} is not writable")
    if p.exists() and not os.access(p, os.W_OK):
        raise UsageError(f"{flag} {arg}: the file exists and is not writable")


def checkpoint_path(arg: str) -> str:
    """A run directory means its ``checkpoint.safetensors``."""
    from pathlib import Path

    p = Path(arg)
    return str(p / "checkpoint.safetensors" if p.is_dir() else p)


def open_checkpoint(path: str) -> Any:
    """Load a checkpoint, turning every problem into a one-line UsageError."""
    from gradfit.train.checkpoint import CheckpointError, load_checkpoint

    try:
        return load_checkpoint(path)
    except CheckpointError as e:
        raise UsageError(str(e)) from None


def check_fits_data(ckpt: Any, data: Any, flag: str = "--init-from") -> None:
    """Refuse a checkpoint whose model takes inputs of another shape than ``data`` gives,
    before anything is trained or written (``--init-from``, ``--resume``).

    Example:
        >>> from types import SimpleNamespace as NS
        >>> ck = NS(path="c.safetensors", meta={"config": {"input_shape": [2]}})
        >>> data = NS(train=NS(x=np.zeros((5, 64))))
        >>> check_fits_data(ck, data)
        Traceback (most recent call last):
        ...
        gradfit.cli.main.UsageError: --init-from c.safetensors: its model takes inputs of shape (2,), the data gives (64,)
    """
    shape = (ckpt.meta.get("config") or {}).get("input_shape")
    if not isinstance(shape, list):
        return  # an older checkpoint without the record: the model itself will check
    want, got = tuple(shape), _input_shape(data)
    if want != got:
        raise UsageError(
            f"{flag} {ckpt.path}: its model takes inputs of shape {want}, the data gives {got}"
        )


def model_from_checkpoint(ckpt: Any) -> Any:
    """Rebuild the model a checkpoint describes and load its weights.

    The file is untrusted: ``gf.models.load_model`` bounds what its model config may
    allocate by the weights stored beside it, so a crafted config fails fast here.
    """
    from gradfit.models import load_model

    mcfg = (ckpt.meta.get("config") or {}).get("model_config")
    if not mcfg:
        raise UsageError(f"checkpoint {ckpt.path}: it records no model config to rebuild from")
    bad = [
        k for k, v in ckpt.model_state.items() if v.dtype.kind == "f" and not np.isfinite(v).all()
    ]
    if bad:
        raise UsageError(
            f"checkpoint {ckpt.path}: weight {bad[0]!r} holds NaN or infinite values (the run "
            "diverged); use an earlier checkpoint such as best.safetensors, or retrain"
        )
    try:
        model = load_model(mcfg, ckpt.model_state)
    except (ValueError, KeyError, TypeError, RuntimeError) as e:
        raise UsageError(f"checkpoint {ckpt.path}: cannot rebuild its model: {e}") from None
    model.eval()
    return model


def char_lm_from_checkpoint(arg: str, who: str) -> tuple[Any, Any, str]:
    """``(checkpoint, model, vocab)`` of a ``char_lm`` run directory or checkpoint; any
    other model, or one without a vocabulary matching it, is a UsageError naming ``who``."""
    from gradfit.models_sequence import CharLM

    ckpt = open_checkpoint(checkpoint_path(arg))
    model = model_from_checkpoint(ckpt)
    if not isinstance(model, CharLM):
        raise UsageError(
            f"{who}: {ckpt.path} holds a {type(model).__name__}, not a char_lm; train one with "
            "gradfit train --data names --model char_lm"
        )
    config = ckpt.meta.get("config") or {}
    vocab = config.get("vocab")
    if not vocab:
        data = load_data(config.get("run") or {})
        vocab = data.description.extra.get("vocab")
    if not isinstance(vocab, str) or len(vocab) != model.vocab_size:
        raise UsageError(f"{who}: {ckpt.path} records no vocabulary matching its model")
    return ckpt, model, vocab
