"""Character-level text: ``names`` (real first names) and ``text`` (your own ``.txt``).

A word list becomes next-character prediction, as in Bengio et al. (2003) and the
"makemore" lectures: every word is framed by the boundary token ``.``, and each position
gives one example, the ``block_size`` characters before it (``.``-padded at the start) as
``x`` and the character itself as ``y``. A word of ``n`` characters gives ``n + 1``
examples (the last predicts the closing ``.``). Words, not examples, are split into train,
validation and test, so no test word is seen in training.

``names`` reads the first names of the US 1990 census (4,275 female and 1,219 male, 5,163
distinct) from the ``names`` package's data files (``pip install names``, works offline;
only the data files are read, the package is not imported). ``text`` reads one item per
line from ``path``; its vocabulary is the characters it contains.

Example:
    >>> import os, tempfile
    >>> p = os.path.join(tempfile.mkdtemp(), "w.txt")
    >>> _ = open(p, "w").write("ab\\nba\\nabba\\n")
    >>> ds = load_text(path=p, block_size=3, val_fraction=0.0, test_fraction=0.0)
    >>> ds.description.classes, ds.train.x.shape[1], ds.train.x.dtype
    (('.', 'a', 'b'), 3, dtype('int64'))
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any

import numpy as np

from gradfit.data.splits import DatasetInfo, DatasetSplits, Split

BOUNDARY = "."
_MAX_WORD = 64  # longer lines are refused: this is character-level modelling of words


def encode(
    words: list[str], vocab: tuple[str, ...], block_size: int
) -> tuple[np.ndarray, np.ndarray]:
    """Words to ``(x, y)``: ``block_size`` previous character indices and the next one.

    Example:
        >>> x, y = encode(["ab"], (".", "a", "b"), 2)
        >>> x.tolist(), y.tolist()
        ([[0, 0], [0, 1], [1, 2]], [1, 2, 0])
    """
    index = {c: i for i, c in enumerate(vocab)}
    n = sum(len(w) + 1 for w in words)
    x = np.zeros((n, block_size), dtype=np.int64)
    y = np.empty(n, dtype=np.int64)
    row = 0
    for w in words:
        ids = [index[c] for c in w] + [0]
        ctx = [0] * block_size
        for t in ids:
            x[row] = ctx
            y[row] = t
            ctx = ctx[1:] + [t] if block_size else ctx
            row += 1
    return x, y


def _split_words(
    words: list[str], val_fraction: float, test_fraction: float, seed: int, who: str
) -> tuple[list[str], list[str], list[str]]:
    for name, f in (("val_fraction", val_fraction), ("test_fraction", test_fraction)):
        if not 0.0 <= f < 1.0:
            raise ValueError(f"{who}: {name} must be in [0, 1), got {f}")
    if val_fraction + test_fraction >= 1.0:
        raise ValueError(f"{who}: val_fraction + test_fraction must be below 1")
    order = np.random.default_rng(seed).permutation(len(words))
    n_test = round(len(words) * test_fraction)
    n_val = round(len(words) * val_fraction)
    test = [words[i] for i in order[:n_test]]
    val = [words[i] for i in order[n_test : n_test + n_val]]
    train = [words[i] for i in order[n_test + n_val :]]
    if not train:
        raise ValueError(f"{who}: no words left for training ({len(words)} words in all)")
    return train, val, test


def from_words(
    words: list[str],
    name: str,
    source: str,
    licence: str,
    block_size: int = 8,
    val_fraction: float = 0.1,
    test_fraction: float = 0.1,
    seed: int = 0,
    vocab: tuple[str, ...] | None = None,
) -> DatasetSplits:
    """Build the next-character dataset of a word list (see the module docstring).

    Example:
        >>> ds = from_words(["anna", "bob", "eve"], "toy", "made up", "CC0", block_size=2,
        ...                 val_fraction=0.0, test_fraction=0.0)
        >>> ds.sizes["train"], ds.num_classes
        (13, 7)
    """
    who = name
    if not isinstance(block_size, int) or isinstance(block_size, bool) or not 1 <= block_size <= 64:
        raise ValueError(f"{who}: block_size must be an integer from 1 to 64, got {block_size!r}")
    if not words:
        raise ValueError(f"{who}: no words")
    if vocab is None:
        chars = sorted(set("".join(words)) - {BOUNDARY})
        vocab = (BOUNDARY, *chars)
    train, val, test = _split_words(words, val_fraction, test_fraction, seed, who)
    info = DatasetInfo(
        name=name,
        task="classification",
        source=source,
        licence=licence,
        input_shape=(block_size,),
        target_shape=(),
        classes=tuple(vocab),
        summary=f"next-character prediction over {len(words)} words, context {block_size}",
        extra={
            "layout": "tokens",
            "vocab": "".join(vocab),
            "block_size": block_size,
            "words": {"train": len(train), "val": len(val), "test": len(test)},
        },
    )
    splits = [Split(*encode(ws, vocab, block_size)) for ws in (train, val, test)]
    return DatasetSplits(
        *splits, info, extras={"words": {"train": train, "val": val, "test": test}}
    )


def _names_dir() -> Path:
    spec = importlib.util.find_spec("names")
    if spec is None or not spec.submodule_search_locations:
        raise ModuleNotFoundError(
            "names: the 'names' package is not installed; install it with `pip install names` "
            "(it ships the census name lists; nothing is downloaded at load time)"
        )
    return Path(next(iter(spec.submodule_search_locations)))


def read_names() -> list[str]:
    """The distinct first names (lowercase, sorted) of the ``names`` package's census lists.

    Example:
        >>> words = read_names()
        >>> len(words) > 5000, words[:2]
        (True, ['aaron', 'abbey'])
    """
    folder = _names_dir()
    words: set[str] = set()
    for fname in ("dist.female.first", "dist.male.first"):
        path = folder / fname
        if not path.is_file():
            raise FileNotFoundError(f"names: {path} is missing from the installed 'names' package")
        for line in path.read_text(encoding="ascii").splitlines():
            parts = line.split()
            if parts and parts[0].isalpha():
                words.add(parts[0].lower())
    return sorted(words)


def load_names(
    block_size: int = 8, val_fraction: float = 0.1, test_fraction: float = 0.1, seed: int = 0
) -> DatasetSplits:
    """Real first names for character-level language models (see the module docstring).

    Example:
        >>> ds = load_names(block_size=3)
        >>> ds.num_classes, ds.train.x.shape[1]
        (27, 3)
    """
    return from_words(
        read_names(),
        "names",
        "US Census 1990 first names, shipped by the `names` package (github.com/treyhunner/names)",
        "MIT (names package); the census lists are public domain",
        block_size=block_size,
        val_fraction=val_fraction,
        test_fraction=test_fraction,
        seed=seed,
        vocab=(BOUNDARY, *"abcdefghijklmnopqrstuvwxyz"),
    )


def load_text(
    path: Any,
    block_size: int = 8,
    val_fraction: float = 0.1,
    test_fraction: float = 0.1,
    seed: int = 0,
) -> DatasetSplits:
    """One word (or short item) per line of a UTF-8 ``.txt`` file, for a character-level model.

    Blank lines are skipped; lines must be at most 64 characters and must not contain
    the boundary character ``.``.

    Example:
        >>> import os, tempfile
        >>> p = os.path.join(tempfile.mkdtemp(), "w.txt")
        >>> _ = open(p, "w").write("cat\\ndog\\n")
        >>> load_text(p, val_fraction=0, test_fraction=0).sizes
        {'train': 8, 'val': 0, 'test': 0}
    """
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise FileNotFoundError(f"text: {p} does not exist") from None
    except IsADirectoryError:
        raise IsADirectoryError(f"text: {p} is a directory; expected a .txt file") from None
    except UnicodeDecodeError as e:
        raise ValueError(f"text: {p} is not UTF-8 text ({e.reason} at byte {e.start})") from None
    words = []
    for k, line in enumerate(text.splitlines(), 1):
        w = line.strip()
        if not w:
            continue
        if BOUNDARY in w or len(w) > _MAX_WORD:
            raise ValueError(
                f"text: {p} line {k}: items must be at most {_MAX_WORD} characters without "
                f"{BOUNDARY!r}, got {w[:20]!r}"
            )
        words.append(w)
    if not words:
        raise ValueError(f"text: {p} has no non-empty lines")
    return from_words(words, "text", str(p), "yours", block_size, val_fraction, test_fraction, seed)
