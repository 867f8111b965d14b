"""Ready-made sequence models: recurrent classifiers and character-level language models.

Registered in :mod:`gradfit.models` like the others (``gf.models.build_model({"name":
"gru", ...})``, checkpoints rebuild them):

* ``gru`` / ``lstm``: read a sequence ``(N, L)`` (one feature per step, e.g. MNIST-1D) or
  ``(N, L, F)`` and classify it from the last hidden state.
* ``char_lm``: predict the next character from the ``block_size`` before it, with
  ``arch`` one of ``bigram`` (a table of next-character logits for the last character),
  ``mlp`` (Bengio et al. 2003: embeddings concatenated, a tanh layer), ``rnn``/``gru``
  (a recurrent layer over the context) and ``transformer`` (causal self-attention blocks,
  pre-norm, as GPT).

:func:`sample_chars` generates new words from a trained ``char_lm``.

Example:
    >>> import gradfit as gf
    >>> m = gf.models.char_lm(vocab_size=27, block_size=8, arch="transformer")
    >>> m(gf.zeros(4, 8, dtype="int64")).shape
    (4, 27)
"""

from __future__ import annotations

from typing import Any

import numpy as np

from gradfit import nn
from gradfit.models import _pos_int, _prob, register_model
from gradfit.nn.module import Module
from gradfit.tensor import Tensor

ARCHS = ("bigram", "mlp", "rnn", "gru", "transformer")


class RecurrentClassifier(Module):
    """A GRU or LSTM over the sequence, then a linear layer on the last hidden state.

    Example:
        >>> import gradfit as gf
        >>> gf.models.gru(in_length=40)(gf.randn(2, 40)).shape
        (2, 10)
    """

    def __init__(
        self,
        cell: str,
        in_features: int,
        in_length: int,
        hidden: int,
        layers: int,
        num_classes: int,
    ) -> None:
        super().__init__()
        self.in_features, self.in_length = in_features, in_length
        layer = nn.GRU if cell == "gru" else nn.LSTM
        self.rnn = layer(in_features, hidden, num_layers=layers, batch_first=True)
        self.linear = nn.Linear(hidden, num_classes)

    def forward(self, x: Tensor) -> Tensor:
        if not isinstance(x, Tensor):
            raise TypeError(f"{type(self).__name__}: expected a gf.Tensor, got {type(x).__name__}")
        f = self.in_features
        if x.ndim == 2 and f == 1:
            x = x.unsqueeze(-1)
        elif x.ndim == 3 and x.shape[1] == f and x.shape[2] != f:  # (N, C, L) as a 1-D CNN reads it
            x = x.transpose(1, 2)
        if x.ndim != 3 or x.shape[2] != f:
            raise self.input_shape_error(f"(N, L, {f})" + (" or (N, L)" if f == 1 else ""), x)
        _, h = self.rnn(x)
        last = h[0] if isinstance(h, tuple) else h
        return self.linear(last[-1])


@register_model("gru", head_key="num_classes")
def gru(
    in_length: int = 40,
    num_classes: int = 10,
    hidden: int = 64,
    layers: int = 1,
    in_features: int = 1,
) -> Module:
    """A GRU sequence classifier (see :class:`RecurrentClassifier`); MNIST-1D by default.

    Example:
        >>> import gradfit as gf
        >>> sum(p.numel() for p in gf.models.gru().parameters())
        13514
    """
    who = "gru"
    return RecurrentClassifier(
        "gru", _pos_int(in_features, "in_features", who), _pos_int(in_length, "in_length", who),
        _pos_int(hidden, "hidden", who), _pos_int(layers, "layers", who),
        _pos_int(num_classes, "num_classes", who),
    )  # fmt: skip


@register_model("lstm", head_key="num_classes")
def lstm(
    in_length: int = 40,
    num_classes: int = 10,
    hidden: int = 64,
    layers: int = 1,
    in_features: int = 1,
) -> Module:
    """An LSTM sequence classifier (see :class:`RecurrentClassifier`).

    Example:
        >>> import gradfit as gf
        >>> gf.models.lstm(in_length=5, num_classes=3, hidden=4)(gf.randn(2, 5)).shape
        (2, 3)
    """
    who = "lstm"
    return RecurrentClassifier(
        "lstm", _pos_int(in_features, "in_features", who), _pos_int(in_length, "in_length", who),
        _pos_int(hidden, "hidden", who), _pos_int(layers, "layers", who),
        _pos_int(num_classes, "num_classes", who),
    )  # fmt: skip


class CharLM(Module):
    """Next-character logits ``(N, vocab_size)`` from contexts ``(N, block_size)`` of indices.

    Example:
        >>> import gradfit as gf
        >>> CharLM(5, 3, "mlp", 4, 8, 1, 2)(gf.zeros(2, 3, dtype="int64")).shape
        (2, 5)
    """

    def __init__(
        self, vocab_size: int, block_size: int, arch: str, embed: int, hidden: int, layers: int,
        heads: int, dropout: float = 0.0,
    ) -> None:  # fmt: skip
        super().__init__()
        self.vocab_size, self.block_size, self.arch = vocab_size, block_size, arch
        self.every_position = False  # training objective (training_loss), set by gf.train.run
        if arch == "bigram":
            self.table = nn.Embedding(vocab_size, vocab_size)
        elif arch == "mlp":
            self.embed = nn.Embedding(vocab_size, embed)
            self.hidden = nn.Linear(block_size * embed, hidden)
            self.out = nn.Linear(hidden, vocab_size)
        elif arch in ("rnn", "gru"):
            self.embed = nn.Embedding(vocab_size, embed)
            layer = nn.RNN if arch == "rnn" else nn.GRU
            self.rnn = layer(embed, hidden, num_layers=layers, batch_first=True)
            self.out = nn.Linear(hidden, vocab_size)
        else:
            if embed % heads:
                raise ValueError(f"char_lm: embed ({embed}) must be divisible by heads ({heads})")
            self.embed = nn.Embedding(vocab_size, embed)
            self.pos = nn.Embedding(block_size, embed)
            block = nn.TransformerEncoderLayer(
                embed, heads, dim_feedforward=4 * embed, dropout=dropout, activation="gelu",
                batch_first=True, norm_first=True,
            )  # fmt: skip
            self.blocks = nn.TransformerEncoder(block, layers)
            self.norm = nn.LayerNorm(embed)
            self.out = nn.Linear(embed, vocab_size)
            mask = np.triu(np.full((block_size, block_size), -np.inf, np.float32), k=1)
            self._mask = Tensor._wrap(mask)

    def forward(self, x: Tensor) -> Tensor:
        self._check(x)
        arch = self.arch
        if arch == "bigram":
            return self.table(x[:, -1])
        if arch == "mlp":
            e = self.embed(x)  # (N, T, E)
            return self.out(self.hidden(e.reshape(e.shape[0], -1)).tanh())
        if arch in ("rnn", "gru"):
            _, h = self.rnn(self.embed(x))
            return self.out(h[-1])
        return self.out(self.norm(self._blocks(x)[:, -1]))

    def _check(self, x: Any) -> None:
        if not isinstance(x, Tensor):
            raise TypeError(f"CharLM: expected a gf.Tensor, got {type(x).__name__}")
        if x.ndim != 2 or x.shape[1] != self.block_size or x.dtype.kind not in "iu":
            raise self.input_shape_error(f"(N, {self.block_size}) integer indices", x)

    def training_loss(self, x: Tensor, y: Tensor, loss_fn: Any) -> tuple[Tensor, Tensor]:
        """The last position's logits and the loss to train on (the Trainer calls this).

        With ``every_position`` (a transformer only; ``--every-position``, the transformer's
        default in ``gradfit train``), every position of the causal window predicts its next
        character, as GPT is trained: the targets are the window shifted by one and then
        ``y``, and the loss is averaged over the positions whose context has begun (the
        left padding, index 0, predicting more padding is skipped). Otherwise, and for the
        other archs, it is ``loss_fn(self(x), y)``. Validation and test losses are always the
        last position's.

        Example:
            >>> import gradfit as gf
            >>> m = gf.models.char_lm(vocab_size=5, block_size=3, arch="transformer")
            >>> m.every_position = True
            >>> x, y = gf.tensor([[0, 0, 2], [0, 2, 3]]), gf.tensor([3, 1])
            >>> out, loss = m.training_loss(x, y, gf.nn.CrossEntropyLoss())
            >>> out.shape, loss.shape
            ((2, 5), ())
        """
        if not (self.every_position and self.arch == "transformer"):
            out = self(x)
            return out, loss_fn(out, y)
        self._check(x)
        logits = self.out(self.norm(self._blocks(x)))  # (N, T, V)
        xd, yd = x._data, np.asarray(y._data).reshape(-1, 1)
        window = np.concatenate([xd, yd], axis=1)  # each position's target is the next one
        padding = np.cumprod(window == 0, axis=1)[:, 1:].astype(bool)  # padding predicting padding
        keep = np.flatnonzero(~padding.reshape(-1))
        n, t, v = logits.shape
        picked = logits.reshape(n * t, v)[Tensor._wrap(keep)]
        return logits[:, -1], loss_fn(picked, Tensor._wrap(window[:, 1:].reshape(-1)[keep]))

    def _blocks(self, x: Tensor) -> Tensor:
        """The transformer blocks' output at every position, ``(N, T, E)``."""
        from gradfit.creation import arange

        h = self.embed(x) + self.pos(arange(self.block_size))
        mask = (
            self._mask if h.dtype == np.float32 else Tensor._wrap(self._mask._data.astype(h.dtype))
        )
        return self.blocks(h, mask=mask, is_causal=True)

    def extra_repr(self) -> str:
        return f"arch={self.arch}, vocab_size={self.vocab_size}, block_size={self.block_size}"


@register_model("char_lm", head_key="vocab_size")
def char_lm(
    vocab_size: int = 27,
    block_size: int = 8,
    arch: str = "transformer",
    embed: int = 64,
    hidden: int = 128,
    layers: int = 2,
    heads: int = 4,
    dropout: float = 0.0,
) -> Module:
    """A character-level language model (see :class:`CharLM` and the module docstring).

    Args:
        vocab_size: characters, the boundary ``.`` included (27 for ``names``).
        block_size: characters of context.
        arch: ``"bigram"``, ``"mlp"``, ``"rnn"``, ``"gru"`` or ``"transformer"``.
        embed: embedding width (the model width for the transformer).
        hidden: hidden width of the MLP and recurrent layers.
        layers: recurrent layers or transformer blocks.
        heads: attention heads (transformer).
        dropout: dropout inside the transformer blocks (in training).

    Example:
        >>> import gradfit as gf
        >>> gf.models.char_lm(arch="bigram").table.weight.shape
        (27, 27)
    """
    who = "char_lm"
    if arch not in ARCHS:
        import difflib

        near = difflib.get_close_matches(str(arch), ARCHS, n=1)
        hint = f" (did you mean {near[0]!r}?)" if near else ""
        raise ValueError(f"char_lm: arch must be one of {', '.join(ARCHS)}, got {arch!r}{hint}")
    return CharLM(
        _pos_int(vocab_size, "vocab_size", who), _pos_int(block_size, "block_size", who), arch,
        _pos_int(embed, "embed", who), _pos_int(hidden, "hidden", who),
        _pos_int(layers, "layers", who), _pos_int(heads, "heads", who), _prob(dropout, "dropout", who),
    )  # fmt: skip


def sample_chars(
    model: Module,
    vocab: str,
    n: int = 10,
    temperature: float = 1.0,
    seed: int = 0,
    max_length: int = 32,
) -> list[str]:
    """Generate ``n`` words from a ``char_lm``: draw characters until the boundary ``.``.

    Args:
        model: a trained :class:`CharLM` (or any model from contexts to next-character logits).
        vocab: the characters, index 0 being the boundary (``ds.description.extra["vocab"]``).
        n: how many words.
        temperature: divides the logits (below 1: safer, above 1: wilder).
        seed: the words are a function of the seed.
        max_length: stop a word that has not ended after this many characters.

    Example:
        >>> import gradfit as gf
        >>> m = gf.models.char_lm(vocab_size=3, block_size=2, arch="bigram")
        >>> len(sample_chars(m, ".ab", n=4, seed=1))
        4
    """
    if not isinstance(n, int) or isinstance(n, bool) or not 1 <= n <= 100_000:
        raise ValueError(f"sample_chars: n must be an integer from 1 to 100000, got {n!r}")
    if not (isinstance(temperature, int | float) and 0 < temperature < float("inf")):
        raise ValueError(
            f"sample_chars: temperature must be a positive number, got {temperature!r}"
        )
    from gradfit.autograd import no_grad

    block = int(getattr(model, "block_size", 8))
    rng = np.random.default_rng(seed)
    ctx = np.zeros((n, block), dtype=np.int64)
    words = [""] * n
    alive = np.ones(n, dtype=bool)
    was = model.training
    model.eval()
    try:
        with no_grad():
            for _ in range(max_length):
                logits = model(Tensor._wrap(ctx)).numpy().astype(np.float64) / temperature
                logits -= logits.max(axis=1, keepdims=True)
                p = np.exp(logits)
                p /= p.sum(axis=1, keepdims=True)
                nxt = (p.cumsum(axis=1) > rng.random((n, 1))).argmax(axis=1)
                for i in np.flatnonzero(alive):
                    if nxt[i] == 0:
                        alive[i] = False
                    else:
                        words[i] += vocab[nxt[i]]
                if not alive.any():
                    break
                ctx = np.concatenate([ctx[:, 1:], nxt[:, None]], axis=1)
    finally:
        model.train(was)
    return words


def ngram_losses(ds: Any, split: str = "test", alpha: float = 1.0) -> dict[str, float]:
    """Per-character test loss (nats) of the classic count baselines: unigram and bigram.

    Counts come from the training split, with add-``alpha`` smoothing; the bigram reads
    only the last character of each context. A neural model must beat these.

    Example:
        >>> import gradfit as gf
        >>> ds = gf.data.load_dataset("names", block_size=3)
        >>> losses = ngram_losses(ds)
        >>> losses["bigram"] < losses["unigram"]
        True
    """
    v = ds.num_classes
    x, y = ds.train
    uni = np.bincount(y, minlength=v).astype(np.float64) + alpha
    uni /= uni.sum()
    big = np.full((v, v), alpha, dtype=np.float64)
    np.add.at(big, (x[:, -1], y), 1.0)
    big /= big.sum(axis=1, keepdims=True)
    xt, yt = ds[split]
    return {
        "unigram": float(-np.log(uni[yt]).mean()),
        "bigram": float(-np.log(big[xt[:, -1], yt]).mean()),
    }
