"""``mnist1d``: MNIST-1D, generated on this machine with the ``mnist1d`` package.

Ten 1-D templates (one per digit) are padded, sheared, scaled, translated and given
correlated and i.i.d. noise, then down-sampled to length 40. With the package's default
arguments (``get_dataset_args()``) that is 4,000 training and 1,000 test sequences;
gradfit takes the validation split out of the 4,000 training sequences (``val_fraction``,
stratified), so set ``val_fraction=0`` to keep the package's 4,000 / 1,000.

Only ``mnist1d.data.make_dataset`` is used, never its ``get_dataset``, which downloads a
pickle. ``make_dataset`` reseeds the global ``random`` and ``numpy.random`` generators;
gradfit restores both afterwards. The result is cached in memory per argument set (the
generator takes a few seconds).

Example:
    >>> ds = load()  # doctest: +SKIP
    >>> ds.sizes  # doctest: +SKIP
    {'train': 3600, 'val': 400, 'test': 1000}
"""

from __future__ import annotations

import random
from typing import Any

import numpy as np

from gradfit.data.splits import DatasetInfo, DatasetSplits, carve_validation

_CACHE: dict[tuple[tuple[str, Any], ...], tuple[np.ndarray, ...]] = {}


def _generate(overrides: dict[str, Any]) -> tuple[np.ndarray, ...]:
    try:
        from mnist1d.data import get_dataset_args, make_dataset
    except ImportError:
        raise ImportError(
            "mnist1d: the 'mnist1d' package is not installed; pip install 'gradfit[datasets]' "
            "(or pip install mnist1d)"
        ) from None
    args = get_dataset_args()
    for k, v in overrides.items():
        if not hasattr(args, k) or k == "url":
            raise TypeError(f"mnist1d: unknown generator argument {k!r}")
        setattr(args, k, v)
    key = tuple(sorted((k, repr(v)) for k, v in vars(args).items()))
    if key not in _CACHE:
        np_state, py_state = np.random.get_state(), random.getstate()
        try:
            data = make_dataset(args)
        finally:
            np.random.set_state(np_state)
            random.setstate(py_state)
        _CACHE[key] = (
            np.asarray(data["x"], dtype=np.float32),
            np.asarray(data["y"], dtype=np.int64),
            np.asarray(data["x_test"], dtype=np.float32),
            np.asarray(data["y_test"], dtype=np.int64),
        )
    return tuple(a.copy() for a in _CACHE[key])


def load(
    view: str = "flat",
    val_fraction: float = 0.1,
    seed: int = 0,
    num_samples: int | None = None,
    generator_seed: int | None = None,
) -> DatasetSplits:
    """Generate MNIST-1D.

    Args:
        view: ``"flat"`` gives ``(40,)`` vectors (an MLP), ``"sequence"`` gives ``(1, 40)``
            one-channel sequences (a 1-D CNN).
        val_fraction: the part of the training sequences held out for validation.
        seed: the validation split's seed.
        num_samples: total sequences (train + test) instead of the package's 5,000.
        generator_seed: the generator's seed instead of the package's 42.

    Example:
        >>> ds = load(num_samples=100, val_fraction=0.0)
        >>> ds.sizes, ds.train.x.shape[1:], ds.train.x.dtype
        ({'train': 80, 'val': 0, 'test': 20}, (40,), dtype('float32'))
    """
    if view not in ("flat", "sequence"):
        raise ValueError(f"mnist1d: view must be 'flat' or 'sequence', got {view!r}")
    overrides: dict[str, Any] = {}
    if num_samples is not None:
        overrides["num_samples"] = int(num_samples)
    if generator_seed is not None:
        overrides["seed"] = int(generator_seed)
    x, y, xt, yt = _generate(overrides)
    if view == "sequence":
        x, xt = x[:, None, :], xt[:, None, :]
    info = DatasetInfo(
        name="mnist1d",
        task="classification",
        source="generated locally by the mnist1d package (make_dataset, Greydanus 2020, "
        "https://github.com/greydanus/mnist1d)",
        licence="Apache-2.0 (mnist1d package)",
        input_shape=tuple(x.shape[1:]),
        target_shape=(),
        classes=tuple(str(d) for d in range(10)),
        summary="MNIST-1D: 1-D digit templates with shear, scale, translation and noise",
        extra={"layout": "sequence"},  # the last axis is time: RandomShift1d applies
    )
    return carve_validation(x, y, xt, yt, info, val_fraction=val_fraction, seed=seed, stratify=True)
