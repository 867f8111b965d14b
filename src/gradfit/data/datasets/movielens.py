"""``movielens``: MovieLens 100K ratings in the ``u.data`` format, for collaborative filtering.

``u.data`` has one rating per line, tab-separated: user id, item id, rating (1-5),
timestamp. The file is looked for at ``path=`` if given, else as ``u.data`` in
``<data_dir>/movielens/``, ``<data_dir>/movielens/ml-100k/``, ``<data_dir>/ml-100k/`` and
``<data_dir>/`` (``data_dir``: the option, else ``$GRADFIT_DATA``, else
``~/.cache/gradfit``). An ``ml-100k.zip`` found there, or downloaded with ``download=True``
(SHA-256 verified, atomic), has its ``u.data`` extracted next to it.

Inputs ``x`` are int64 ``(N, 2)`` pairs ``(user, item)`` of 0-based contiguous indices
(ready for ``Embedding``); targets ``y`` are the float32 ratings, shape ``(N,)``. The
original ids are in ``ds.extras["user_ids"]`` / ``["item_ids"]``. The ratings are split at
random (seeded) into train / val / test.

Example:
    >>> import os, tempfile
    >>> d = tempfile.mkdtemp(); p = os.path.join(d, "u.data")
    >>> _ = open(p, "w").write("".join(f"{u}\\t{i}\\t{(u + i) % 5 + 1}\\t0\\n" for u in (7, 9) for i in range(1, 6)))
    >>> ds = load(path=p, val_fraction=0.0, test_fraction=0.2)
    >>> ds.sizes, ds.description.extra["n_users"], ds.train.x.dtype
    ({'train': 8, 'val': 0, 'test': 2}, 2, dtype('int64'))
"""

from __future__ import annotations

import os
import tempfile
import zipfile
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from gradfit.data.download import DownloadError, RemoteFile, data_home, ensure_files
from gradfit.data.splits import DatasetInfo, DatasetSplits, make_splits

#: Where ``ml-100k.zip`` is downloaded from, tried in order.
MOVIELENS_MIRRORS: list[str] = ["https://files.grouplens.org/datasets/movielens/"]
ZIP = RemoteFile("ml-100k.zip", "50d2a982c66986937beb9ffb3aa76efe955bf3d5c6b761f4e3a7cd717c6a3229")


def _extract_u_data(zip_path: Path, dest: Path) -> Path:
    """Extract ``ml-100k/u.data`` from the archive to ``dest`` atomically."""
    try:
        with zipfile.ZipFile(zip_path) as zf:
            member = next((n for n in zf.namelist() if n.endswith("u.data")), None)
            if member is None:
                raise ValueError(f"movielens: {zip_path} has no u.data inside")
            payload = zf.read(member)
    except zipfile.BadZipFile as e:
        raise ValueError(f"movielens: {zip_path} is not a valid zip file ({e})") from None
    fd, tmp = tempfile.mkstemp(dir=dest.parent, prefix=".u.data.", suffix=".part")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(payload)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, dest)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return dest


def _find(
    data_dir: str | os.PathLike[str] | None,
    download: bool,
    mirrors: Sequence[str] | None,
    progress: bool | None,
) -> Path:
    home = data_home(data_dir)
    target_dir = home / "movielens"
    dirs = [target_dir, target_dir / "ml-100k", home / "ml-100k", home]
    for d in dirs:
        if (d / "u.data").is_file():
            return d / "u.data"
    for d in dirs:
        if (d / ZIP.name).is_file():
            return _extract_u_data(d / ZIP.name, d / "u.data")
    if not download:
        urls = ", ".join(m.rstrip("/") + "/" + ZIP.name for m in (mirrors or MOVIELENS_MIRRORS))
        raise FileNotFoundError(
            f"movielens: u.data not found. Place it at {target_dir / 'u.data'}, or place "
            f"{ZIP.name} (SHA-256 {ZIP.sha256}) at {target_dir / ZIP.name}, or pass "
            f"path= to your u.data, or download=True to fetch {urls}"
        )
    found = ensure_files(
        "movielens",
        [ZIP],
        target_dir,
        list(mirrors) if mirrors is not None else MOVIELENS_MIRRORS,
        download=True,
        progress=progress,
    )
    return _extract_u_data(found[ZIP.name], target_dir / "u.data")


def read_u_data(path: str | os.PathLike[str]) -> np.ndarray:
    """Read a ``u.data`` file into an int64 array of shape ``(N, 4)``.

    Example:
        >>> import os, tempfile
        >>> p = os.path.join(tempfile.mkdtemp(), "u.data")
        >>> _ = open(p, "w").write("1\\t2\\t5\\t881250949\\n")
        >>> read_u_data(p)
        array([[        1,         2,         5, 881250949]])
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"movielens: no such file: {path}")
    if path.stat().st_size == 0:
        raise ValueError(f"movielens: {path} is empty")
    try:
        table = np.loadtxt(path, dtype=np.int64, delimiter="\t", ndmin=2)
    except ValueError as e:
        raise ValueError(
            f"movielens: {path} is not in u.data format (user, item, rating, timestamp, "
            f"tab-separated integers): {e}"
        ) from None
    if table.shape[1] != 4:
        raise ValueError(
            f"movielens: {path} has {table.shape[1]} columns per line, u.data has 4 "
            "(user, item, rating, timestamp)"
        )
    return table


def load(
    path: str | os.PathLike[str] | None = None,
    data_dir: str | os.PathLike[str] | None = None,
    download: bool = False,
    mirrors: Sequence[str] | None = None,
    val_fraction: float = 0.1,
    test_fraction: float = 0.2,
    seed: int = 0,
    progress: bool | None = None,
) -> DatasetSplits:
    """Load MovieLens ratings from ``u.data``.

    Args:
        path: a ``u.data`` file (skips the search).
        data_dir, download, mirrors, progress: where to look and whether to fetch
            (see the module notes; mirrors default to :data:`MOVIELENS_MIRRORS`).
        val_fraction, test_fraction, seed: the random split of the ratings.

    Example:
        >>> ds = load(download=True)  # doctest: +SKIP
        >>> ds.sizes  # doctest: +SKIP
        {'train': 70000, 'val': 10000, 'test': 20000}
    """
    try:
        file = Path(path) if path is not None else _find(data_dir, download, mirrors, progress)
    except DownloadError as e:
        raise DownloadError(
            f"{e}\nOr place u.data in {data_home(data_dir) / 'movielens'}"
        ) from None
    table = read_u_data(file)
    user_ids, users = np.unique(table[:, 0], return_inverse=True)
    item_ids, items = np.unique(table[:, 1], return_inverse=True)
    x = np.stack([users.reshape(-1), items.reshape(-1)], axis=1).astype(np.int64)
    y = table[:, 2].astype(np.float32)
    info = DatasetInfo(
        name="movielens",
        task="ratings",
        source=f"MovieLens 100K (GroupLens Research, https://grouplens.org/datasets/movielens/), "
        f"read from {file}",
        licence="GroupLens MovieLens licence: research use, no redistribution without permission",
        input_shape=(2,),
        target_shape=(),
        summary=f"{len(y)} ratings of {len(item_ids)} items by {len(user_ids)} users",
        extra={
            "n_users": len(user_ids),
            "n_items": len(item_ids),
            "rating_range": (float(y.min()), float(y.max())),
        },
    )
    return make_splits(
        x,
        y,
        info,
        val_fraction=val_fraction,
        test_fraction=test_fraction,
        seed=seed,
        stratify=False,
        extras={"user_ids": user_ids, "item_ids": item_ids, "timestamps": table[:, 3]},
    )
