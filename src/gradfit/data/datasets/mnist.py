"""``mnist`` and ``fashion-mnist``: the standard IDX files, from disk or downloaded.

The four files (``train-images-idx3-ubyte.gz``, ``train-labels-idx1-ubyte.gz``,
``t10k-images-idx3-ubyte.gz``, ``t10k-labels-idx1-ubyte.gz``, gzip or uncompressed) are
looked for in ``<data_dir>/<name>/`` and then in ``<data_dir>/`` itself, where
``data_dir`` is the option of that name, else the ``GRADFIT_DATA`` environment variable,
else ``~/.cache/gradfit``. With ``download=True`` the missing files are fetched into
``<data_dir>/<name>/`` from the mirrors (:data:`MNIST_MIRRORS` /
:data:`FASHION_MNIST_MIRRORS`, or ``mirrors=``), verified by SHA-256 and renamed into
place atomically. Files already on disk are checked by the IDX reader (header, sizes,
label count equal to image count), not by checksum, so custom subsets in IDX format load too.

Example:
    >>> import os, tempfile, numpy as np
    >>> from gradfit.data.idx import write_idx
    >>> d = tempfile.mkdtemp()
    >>> for split, n in (("train", 20), ("t10k", 10)):
    ...     write_idx(os.path.join(d, f"{split}-images-idx3-ubyte"), np.zeros((n, 28, 28), np.uint8))
    ...     write_idx(os.path.join(d, f"{split}-labels-idx1-ubyte"), np.arange(n, dtype=np.uint8) % 10)
    >>> load_mnist(data_dir=d, val_fraction=0.5).sizes
    {'train': 10, 'val': 10, 'test': 10}
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from gradfit.data.download import RemoteFile, data_home, ensure_files
from gradfit.data.idx import IDXError, read_idx
from gradfit.data.splits import DatasetInfo, DatasetSplits, carve_validation

#: Mirrors for MNIST, tried in order (the original yann.lecun.com site no longer serves it).
MNIST_MIRRORS: list[str] = [
    "https://ossci-datasets.s3.amazonaws.com/mnist/",
    "https://storage.googleapis.com/cvdf-datasets/mnist/",
]
#: Mirrors for Fashion-MNIST, tried in order.
FASHION_MNIST_MIRRORS: list[str] = [
    "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
    "https://raw.githubusercontent.com/zalandoresearch/fashion-mnist/master/data/fashion/",
]

_NAMES = (
    "train-images-idx3-ubyte.gz",
    "train-labels-idx1-ubyte.gz",
    "t10k-images-idx3-ubyte.gz",
    "t10k-labels-idx1-ubyte.gz",
)
_SHA256 = {
    "mnist": (
        "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609",
        "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c",
        "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6",
        "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6",
    ),
    "fashion-mnist": (
        "3aede38d61863908ad78613f6a32ed271626dd12800ba2636569512369268a84",
        "a04f17134ac03560a47e3764e11b92fc97de4d1bfaf8ba1a3aa29af54cc90845",
        "346e55b948d973a97e58d2351dde16a484bd415d4595297633bb08f03db6a073",
        "67da17c76eaffca5446c3361aaab5c3cd6d1c2608764d35dfb1850b086bf8dd5",
    ),
}
FASHION_CLASSES = (
    "T-shirt/top",
    "Trouser",
    "Pullover",
    "Dress",
    "Coat",
    "Sandal",
    "Shirt",
    "Sneaker",
    "Bag",
    "Ankle boot",
)


def files_for(name: str) -> list[RemoteFile]:
    """The four files of ``"mnist"`` or ``"fashion-mnist"`` with their SHA-256.

    Example:
        >>> [f.name for f in files_for("mnist")][0]
        'train-images-idx3-ubyte.gz'
    """
    return [
        RemoteFile(n, h, (n[: -len(".gz")],)) for n, h in zip(_NAMES, _SHA256[name], strict=True)
    ]


def _read_pair(images_path: Path, labels_path: Path) -> tuple[np.ndarray, np.ndarray]:
    images, labels = read_idx(images_path), read_idx(labels_path)
    if images.ndim != 3:
        raise IDXError(
            f"{images_path}: expected images of shape (N, rows, cols), got {images.shape}"
        )
    if labels.ndim != 1:
        raise IDXError(f"{labels_path}: expected labels of shape (N,), got {labels.shape}")
    if images.shape[0] != labels.shape[0]:
        raise IDXError(
            f"{labels_path} has {labels.shape[0]} labels but {images_path} has "
            f"{images.shape[0]} images; the counts must match"
        )
    if labels.size and (labels.min() < 0 or labels.max() > 9):
        raise IDXError(f"{labels_path}: labels must be 0..9, found {int(labels.max())}")
    return images, labels


def _load(
    name: str,
    classes: tuple[str, ...],
    summary: str,
    source: str,
    licence: str,
    data_dir: str | os.PathLike[str] | None,
    download: bool,
    mirrors: Sequence[str] | None,
    view: str,
    normalize: bool,
    val_fraction: float,
    seed: int,
    progress: bool | None,
) -> DatasetSplits:
    if view not in ("flat", "image"):
        raise ValueError(f"{name}: view must be 'flat' or 'image', got {view!r}")
    home = data_home(data_dir)
    default_mirrors = MNIST_MIRRORS if name == "mnist" else FASHION_MNIST_MIRRORS
    paths = ensure_files(
        name,
        files_for(name),
        home / name,
        list(mirrors) if mirrors is not None else default_mirrors,
        download=download,
        search=[home],
        progress=progress,
    )
    p = [paths[n] for n in _NAMES]
    x_train, y_train = _read_pair(p[0], p[1])
    x_test, y_test = _read_pair(p[2], p[3])
    if x_train.shape[1:] != x_test.shape[1:]:
        raise IDXError(
            f"{p[0]} has images of {x_train.shape[1:]} but {p[2]} has {x_test.shape[1:]}"
        )

    def prep(x: np.ndarray) -> np.ndarray:
        out = x.astype(np.float32)
        if normalize:
            out *= np.float32(1.0 / 255.0)
        return out.reshape(x.shape[0], -1) if view == "flat" else out[:, None]

    xs, xt = prep(x_train), prep(x_test)
    info = DatasetInfo(
        name=name,
        task="classification",
        source=source,
        licence=licence,
        input_shape=tuple(xs.shape[1:]),
        target_shape=(),
        classes=classes,
        summary=summary,
        extra={"files": str(p[0].parent)}
        | ({"preprocess": {"scale": 1.0 / 255.0}} if normalize else {}),
    )
    return carve_validation(
        xs,
        y_train.astype(np.int64),
        xt,
        y_test.astype(np.int64),
        info,
        val_fraction=val_fraction,
        seed=seed,
        stratify=True,
    )


def load_mnist(
    data_dir: str | os.PathLike[str] | None = None,
    download: bool = False,
    mirrors: Sequence[str] | None = None,
    view: str = "flat",
    normalize: bool = True,
    val_fraction: float = 1 / 12,
    seed: int = 0,
    progress: bool | None = None,
) -> DatasetSplits:
    """MNIST: 60,000 training and 10,000 test 28x28 digits.

    Args:
        data_dir: where the files are (see the module notes for the search order).
        download: fetch missing files from the mirrors (SHA-256 verified, atomic).
        mirrors: base URLs to try instead of :data:`MNIST_MIRRORS`.
        view: ``"flat"`` for ``(784,)`` vectors, ``"image"`` for ``(1, 28, 28)``.
        normalize: scale pixels 0..255 to [0, 1].
        val_fraction: held out of the 60,000 for validation (default 5,000).
        seed: the validation split's seed.
        progress: progress bar while downloading (None: when stderr is a terminal).

    Example:
        >>> ds = load_mnist(download=True)  # doctest: +SKIP
        >>> ds.sizes  # doctest: +SKIP
        {'train': 55000, 'val': 5000, 'test': 10000}
    """
    return _load(
        "mnist",
        tuple(str(d) for d in range(10)),
        "MNIST handwritten digits, 28x28 grey levels",
        "Yann LeCun, Corinna Cortes and Christopher J. C. Burges, "
        "http://yann.lecun.com/exdb/mnist/ (IDX files from the mirrors in MNIST_MIRRORS)",
        "CC BY-SA 3.0 (as commonly cited)",
        data_dir,
        download,
        mirrors,
        view,
        normalize,
        val_fraction,
        seed,
        progress,
    )


def load_fashion_mnist(
    data_dir: str | os.PathLike[str] | None = None,
    download: bool = False,
    mirrors: Sequence[str] | None = None,
    view: str = "flat",
    normalize: bool = True,
    val_fraction: float = 1 / 12,
    seed: int = 0,
    progress: bool | None = None,
) -> DatasetSplits:
    """Fashion-MNIST: 60,000 training and 10,000 test 28x28 images of clothing, 10 classes.

    Options as :func:`load_mnist` (mirrors default to :data:`FASHION_MNIST_MIRRORS`).

    Example:
        >>> ds = load_fashion_mnist(download=True)  # doctest: +SKIP
        >>> ds.description.classes[0]  # doctest: +SKIP
        'T-shirt/top'
    """
    return _load(
        "fashion-mnist",
        FASHION_CLASSES,
        "Fashion-MNIST: Zalando article images, 28x28 grey levels",
        "Han Xiao, Kashif Rasul and Roland Vollgraf (Zalando Research), "
        "https://github.com/zalandoresearch/fashion-mnist",
        "MIT",
        data_dir,
        download,
        mirrors,
        view,
        normalize,
        val_fraction,
        seed,
        progress,
    )
