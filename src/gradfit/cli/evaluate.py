"""``gradfit evaluate CHECKPOINT``: the test metrics of a saved model on its dataset.

Example:
    >>> import argparse
    >>> p = argparse.ArgumentParser(); sub = p.add_subparsers(); register(sub)
    >>> p.parse_args(["evaluate", "runs/x"]).checkpoint
    'runs/x'
"""

from __future__ import annotations

import argparse
import json
from typing import Any

from gradfit.cli import common
from gradfit.cli.main import UsageError


def register(sub: Any) -> None:
    """Add the ``evaluate`` subcommand."""
    p = sub.add_parser("evaluate", help="test metrics of a checkpoint on its dataset")
    p.add_argument("checkpoint", help="a run directory or a .safetensors checkpoint")
    p.add_argument("--split", default="test", choices=["train", "val", "test"])
    p.add_argument("--json", action="store_true", help="print the metrics as JSON")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Evaluate; returns the exit code."""
    from gradfit.data import ArrayDataset, DataLoader
    from gradfit.train import Trainer

    ckpt = common.open_checkpoint(common.checkpoint_path(args.checkpoint))
    cfg = (ckpt.meta.get("config") or {}).get("run")
    if not cfg:
        raise UsageError(f"checkpoint {ckpt.path}: it records no run config (data to evaluate on)")
    model = common.model_from_checkpoint(ckpt)
    data = common.load_data(cfg)
    loss_fn, metrics = common.loss_and_metrics(data.task)
    split = data[args.split]
    if len(split.x) == 0:
        raise UsageError(
            f"--split {args.split}: the {cfg['data']} dataset has no {args.split} data"
        )
    loader = DataLoader(
        ArrayDataset(split.x, common.targets_for(data.task, split.y)), batch_size=512
    )
    trainer = Trainer(model, loss_fn, optimizer=None, metrics=metrics, callbacks=[])
    res = {f"{args.split}_{k}": v for k, v in trainer.evaluate(loader).items()}
    if args.json:
        print(json.dumps(res))
    else:
        print("  ".join(f"{k} {v:.4f}" for k, v in res.items()))
    return 0
