"""``gradfit export RUN --format onnx [--out model.onnx]``: a trained model as an ONNX file.

The model is rebuilt from the run's checkpoint (as ``gradfit evaluate`` does) and
exported with :func:`gradfit.onnx.export`; the graph's input ``input`` and output
``output`` have a dynamic batch axis (``batch``), so ONNX Runtime serves any batch
size. The example input's shape (without the batch) comes from the model's config
(``mlp``: flat rows of ``sizes[0]``; ``cnn``: ``(C, H, W)``; ``cnn1d``: ``(L,)`` for one
channel, else ``(C, L)``; ``gru``/``lstm``: ``(L,)`` for one feature, else ``(L, F)``;
``char_lm``: ``block_size`` indices;
``matrix_factorization``: ``(user, item)`` pairs) unless ``--input-shape`` gives it.

Example:
    >>> import argparse
    >>> p = argparse.ArgumentParser(); sub = p.add_subparsers(); register(sub)
    >>> a = p.parse_args(["export", "runs/x", "--out", "m.onnx"])
    >>> a.format, a.out
    ('onnx', 'm.onnx')
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import numpy as np

from gradfit.cli import common
from gradfit.cli.main import UsageError

FORMATS = ("onnx",)


def register(sub: Any) -> None:
    """Add the ``export`` subcommand."""
    p = sub.add_parser("export", help="export a trained model (ONNX, for ONNX Runtime)")
    p.add_argument("checkpoint", help="a run directory or a .safetensors checkpoint")
    p.add_argument("--format", default="onnx", help="the file format: onnx (the default)")
    p.add_argument(
        "--out", default=None, help="the file to write (default: model.onnx beside the checkpoint)"
    )
    p.add_argument("--opset", type=int, default=17, help="the ONNX opset version (default 17)")
    p.add_argument(
        "--input-shape",
        default=None,
        help="one input's shape without the batch, e.g. 1,8,8 (default: from the model config)",
    )
    p.set_defaults(func=run)


def example_input(config: dict[str, Any], shape: tuple[int, ...] | None = None) -> Any:
    """A batch-1 example input for the model ``config`` describes.

    Example:
        >>> example_input({"name": "cnn", "in_channels": 1, "image_size": 8}).shape
        (1, 1, 8, 8)
    """
    import gradfit as gf

    name = config.get("name")
    ints = name in ("char_lm", "matrix_factorization")
    if shape is None:
        if name == "mlp":
            shape = (int(config["sizes"][0]),)
        elif name == "cnn":
            s = int(config["image_size"])
            shape = (int(config["in_channels"]), s, s)
        elif name == "cnn1d":  # one channel: (N, L) rows, as the datasets give them
            c, n = int(config["in_channels"]), int(config["in_length"])
            shape = (n,) if c == 1 else (c, n)
        elif name in ("logistic", "linear"):
            shape = (int(config["in_features"]),)
        elif name in ("gru", "lstm"):
            n, f = int(config["in_length"]), int(config["in_features"])
            shape = (n,) if f == 1 else (n, f)
        elif name == "char_lm":
            shape = (int(config["block_size"]),)
        elif name == "matrix_factorization":
            shape = (2,)
        else:
            raise UsageError(f"model {name!r}: give the input shape with --input-shape")
    if ints:
        return gf.tensor(np.zeros((1, *shape), dtype=np.int64))
    return gf.tensor(np.zeros((1, *shape), dtype=np.float32))


def _shape(text: str | None) -> tuple[int, ...] | None:
    if text is None:
        return None
    try:
        shape = tuple(int(s) for s in text.replace("x", ",").split(",") if s.strip())
    except ValueError:
        shape = ()
    if not shape or any(s < 1 for s in shape):
        raise UsageError(f"--input-shape {text!r}: expected positive integers such as 1,8,8")
    return shape


def run(args: argparse.Namespace) -> int:
    """Export; returns the exit code."""
    fmt = str(args.format).lower()
    if fmt not in FORMATS:
        raise UsageError(
            f"--format {args.format!r}: unknown format; valid formats: {', '.join(FORMATS)}"
        )
    try:
        import onnx  # noqa: F401
    except ImportError:
        raise UsageError(
            "--format onnx needs the onnx package: pip install 'gradfit[onnx]'"
        ) from None
    from gradfit.onnx import export

    shape = _shape(args.input_shape)
    path = common.checkpoint_path(args.checkpoint)
    ckpt = common.open_checkpoint(path)
    model = common.model_from_checkpoint(ckpt)
    mcfg = (ckpt.meta.get("config") or {}).get("model_config") or {}
    out = Path(args.out) if args.out else Path(path).with_name("model.onnx")
    if out.is_dir():
        raise UsageError(f"--out {out}: is a directory")
    x = example_input(mcfg, shape)
    try:
        proto = export(
            model, x, None, input_names=["input"], output_names=["output"],
            dynamic_axes={"input": {0: "batch"}, "output": {0: "batch"}}, opset_version=args.opset,
        )  # fmt: skip
    except NotImplementedError as e:
        raise UsageError(f"cannot export {mcfg.get('name', 'the model')}: {e}") from None
    except (ValueError, TypeError) as e:
        raise UsageError(
            f"cannot export {mcfg.get('name', 'the model')}: {e}".splitlines()[0]
        ) from None
    from gradfit.fileio import atomic_write

    try:
        atomic_write(out, proto.SerializeToString())
    except OSError as e:
        raise UsageError(f"--out {out}: cannot write: {e.strerror or e}") from None
    dims = ", ".join(["batch", *(str(s) for s in x.shape[1:])])
    print(f"wrote {out} (ONNX opset {args.opset}, {len(proto.graph.node)} nodes, input ({dims}))")
    return 0
