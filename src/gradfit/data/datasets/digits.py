"""``digits``: scikit-learn's bundled 8x8 handwritten digits (no download needed).

1,797 grey-level images of the digits 0-9 (about 180 per class), 8x8 pixels with
intensities 0..16, from the UCI "Optical Recognition of Handwritten Digits" test set.
The default dataset everywhere in gradfit, because it is on every machine that has
scikit-learn. Split with a seeded stratified split into train / val / test.

Example:
    >>> ds = load()
    >>> ds.sizes
    {'train': 1258, 'val': 180, 'test': 359}
    >>> load(view="image").train.x.shape[1:]
    (1, 8, 8)
"""

from __future__ import annotations

import numpy as np

from gradfit.data.splits import DatasetInfo, DatasetSplits, make_splits


def load(
    view: str = "flat",
    normalize: bool = True,
    val_fraction: float = 0.1,
    test_fraction: float = 0.2,
    seed: int = 0,
) -> DatasetSplits:
    """Load the digits.

    Args:
        view: ``"flat"`` gives ``(64,)`` vectors (for an MLP), ``"image"`` gives
            ``(1, 8, 8)`` images (for a CNN).
        normalize: divide the intensities 0..16 by 16, into [0, 1].
        val_fraction, test_fraction: split sizes, as fractions of the 1,797 images.
        seed: the stratified split's seed.

    Example:
        >>> ds = load(normalize=False)
        >>> float(ds.train.x.max()), ds.train.y.dtype
        (16.0, dtype('int64'))
    """
    if view not in ("flat", "image"):
        raise ValueError(f"digits: view must be 'flat' or 'image', got {view!r}")
    from sklearn.datasets import load_digits

    bunch = load_digits()
    x = np.asarray(bunch.data, dtype=np.float32)
    if normalize:
        x *= np.float32(1.0 / 16.0)
    if view == "image":
        x = x.reshape(-1, 1, 8, 8)
    y = np.asarray(bunch.target, dtype=np.int64)
    info = DatasetInfo(
        name="digits",
        task="classification",
        source="scikit-learn sklearn.datasets.load_digits (UCI Optical Recognition of "
        "Handwritten Digits, test set), bundled with scikit-learn",
        licence="CC BY 4.0 (UCI Machine Learning Repository)",
        input_shape=tuple(x.shape[1:]),
        target_shape=(),
        classes=tuple(str(d) for d in range(10)),
        summary="1,797 8x8 handwritten digits"
        + (", intensities scaled to [0, 1]" if normalize else ", intensities 0..16"),
        # what gradfit predict applies to raw 0..16 pixels (see gradfit.data.preprocess)
        extra={"preprocess": {"scale": 1.0 / 16.0}} if normalize else {},
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
