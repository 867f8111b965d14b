"""Variable-length batches for recurrent layers: PyTorch's ``torch.nn.utils.rnn``.

A batch of sequences of different lengths is either *padded* (one ``(T, B, *)`` array,
zeros after each sequence's end) or *packed*: a :class:`PackedSequence` whose ``data``
holds, step after step, the rows of the sequences still running at that step (sorted by
decreasing length), and whose ``batch_sizes[t]`` says how many there are. A recurrent layer
given a packed batch stops each sequence at its own end, so every sequence gets the output
and final state it would get alone.

Every conversion here is a gather (fancy indexing) on tensors, so gradients flow through
packing and unpacking.

Example:
    >>> import gradfit as gf
    >>> from gradfit.nn.utils.rnn import pad_sequence, pack_padded_sequence, pad_packed_sequence
    >>> seqs = [gf.ones(3, 2), gf.ones(1, 2) * 2]
    >>> padded = pad_sequence(seqs)               # (T=3, B=2, 2)
    >>> packed = pack_padded_sequence(padded, [3, 1])
    >>> packed.batch_sizes.tolist()
    [2, 1, 1]
    >>> out, lengths = pad_packed_sequence(packed)
    >>> out.shape, lengths.tolist()
    ((3, 2, 2), [3, 1])
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, NamedTuple

import numpy as np

from gradfit.tensor import Tensor


class PackedSequence(NamedTuple):
    """A packed batch of sequences (see the module docstring); PyTorch's field names.

    Attributes:
        data: ``(sum of lengths, *)``, time-major, the running sequences of each step.
        batch_sizes: int64 tensor, how many sequences run at each step.
        sorted_indices: the batch order used inside (None when the input was sorted).
        unsorted_indices: its inverse, to give results back in the caller's order.

    Example:
        >>> import gradfit as gf
        >>> p = pack_sequence([gf.tensor([1.0, 2.0]), gf.tensor([3.0])])
        >>> p.data.tolist(), p.batch_sizes.tolist()
        ([1.0, 3.0, 2.0], [2, 1])
    """

    data: Tensor
    batch_sizes: Tensor
    sorted_indices: Tensor | None = None
    unsorted_indices: Tensor | None = None

    def to(self, *args: Any, **kwargs: Any) -> PackedSequence:
        """Move/convert ``data`` (as ``Tensor.to``); the indices stay as they are."""
        return self._replace(data=self.data.to(*args, **kwargs))

    @property
    def is_cuda(self) -> bool:
        """Always False: gradfit runs on the CPU."""
        return False


def _lengths_array(lengths: Any, who: str) -> np.ndarray:
    arr = lengths.numpy() if isinstance(lengths, Tensor) else np.asarray(lengths)
    if arr.ndim != 1 or (arr.size and arr.dtype.kind not in "iu"):
        raise ValueError(f"{who}: lengths must be a 1-D sequence of integers, got {lengths!r}")
    return arr.astype(np.int64)


def _batch_sizes(sorted_lengths: np.ndarray) -> np.ndarray:
    """``batch_sizes[t]`` = how many of the (decreasing) lengths exceed ``t``."""
    T = int(sorted_lengths[0]) if sorted_lengths.size else 0
    return (sorted_lengths[None, :] > np.arange(T)[:, None]).sum(axis=1).astype(np.int64)


def packed_rows(batch_sizes: np.ndarray, batch: int) -> np.ndarray:
    """Flat ``t * batch + b`` index of every packed row (time-major), in packed order.

    Example:
        >>> packed_rows(np.array([2, 1]), 2).tolist()
        [0, 1, 2]
    """
    T = batch_sizes.shape[0]
    mask = np.arange(batch)[None, :] < batch_sizes[:, None]  # (T, B)
    return np.flatnonzero(mask.reshape(T * batch))


def pack_padded_sequence(
    input: Tensor,  # noqa: A002 - PyTorch's name
    lengths: Any,
    batch_first: bool = False,
    enforce_sorted: bool = True,
) -> PackedSequence:
    """Pack a padded batch ``(T, B, *)`` (``(B, T, *)`` with ``batch_first``) of given lengths.

    Args:
        input: the padded batch.
        lengths: each sequence's length (a list or an int64 tensor), all at least 1.
        batch_first: ``input`` is ``(B, T, *)``.
        enforce_sorted: require lengths in decreasing order; pass False to let the batch
            be sorted here (the result remembers how to undo it).

    Raises:
        RuntimeError: lengths not sorted with ``enforce_sorted=True``, a length below 1 or
            above ``T``, or a count of lengths that is not the batch size.

    Example:
        >>> import gradfit as gf
        >>> p = pack_padded_sequence(gf.zeros(3, 2, 1), [1, 2, 2], batch_first=True,
        ...                          enforce_sorted=False)
        >>> p.batch_sizes.tolist(), p.sorted_indices.tolist()
        ([3, 2], [1, 2, 0])
    """
    if not isinstance(input, Tensor):
        raise TypeError(f"pack_padded_sequence: input must be a Tensor, got {type(input).__name__}")
    if input.ndim < 2:
        raise ValueError(
            f"pack_padded_sequence: input must have at least 2 dimensions (T, B, *), got shape "
            f"{tuple(input.shape)}"
        )
    lens = _lengths_array(lengths, "pack_padded_sequence")
    x = input.transpose(0, 1) if batch_first else input
    T, B = x.shape[0], x.shape[1]
    if lens.shape[0] != B:
        raise RuntimeError(
            f"pack_padded_sequence: expected {B} lengths (the batch size), got {lens.shape[0]}"
        )
    if B and lens.min() <= 0:
        raise RuntimeError(
            "pack_padded_sequence: Length of all samples has to be greater than 0, but found an "
            "element in 'lengths' that is <= 0"
        )
    if B and lens.max() > T:
        raise RuntimeError(
            f"pack_padded_sequence: a length of {int(lens.max())} exceeds the {T} time steps of "
            "the input"
        )
    if enforce_sorted:
        if np.any(np.diff(lens) > 0):
            raise RuntimeError(
                "pack_padded_sequence: `lengths` array must be sorted in decreasing order when "
                "`enforce_sorted` is True. You can pass `enforce_sorted=False` to "
                "pack_padded_sequence and/or pack_sequence to sidestep this requirement."
            )
        sorted_idx = unsorted_idx = None
    else:
        order = np.argsort(-lens, kind="stable")
        lens = lens[order]
        x = x[:, Tensor._wrap(order)]
        sorted_idx = Tensor._wrap(order.astype(np.int64))
        unsorted_idx = Tensor._wrap(np.argsort(order).astype(np.int64))
    bs = _batch_sizes(lens)
    rows = packed_rows(bs, B)
    flat = x.reshape(T * B, *x.shape[2:])
    data = flat[Tensor._wrap(rows)]
    return PackedSequence(data, Tensor._wrap(bs), sorted_idx, unsorted_idx)


def unpack_to_padded(
    data: Tensor, batch_sizes: np.ndarray, total_length: int, padding_value: float = 0.0
) -> Tensor:
    """Packed ``data`` back to a time-major padded ``(total_length, B, *)`` tensor (sorted order).

    Example:
        >>> import gradfit as gf
        >>> unpack_to_padded(gf.tensor([1.0, 3.0, 2.0]), np.array([2, 1]), 2).tolist()
        [[1.0, 3.0], [2.0, 0.0]]
    """
    T = batch_sizes.shape[0]
    B = int(batch_sizes[0]) if T else 0
    n = data.shape[0]
    gather = np.full(total_length * B, n, dtype=np.int64)  # n: the padding row
    gather[packed_rows(batch_sizes, B)] = np.arange(n)
    from gradfit.creation import full
    from gradfit.ops.shape import cat

    pad = full((1, *data.shape[1:]), padding_value, dtype=data.dtype)
    table = cat([data, pad], 0)
    return table[Tensor._wrap(gather)].reshape(total_length, B, *data.shape[1:])


def pad_packed_sequence(
    sequence: PackedSequence,
    batch_first: bool = False,
    padding_value: float = 0.0,
    total_length: int | None = None,
) -> tuple[Tensor, Tensor]:
    """Undo :func:`pack_padded_sequence`: the padded batch and each sequence's length.

    The batch comes back in the order the sequences were given (``unsorted_indices``).

    Example:
        >>> import gradfit as gf
        >>> p = pack_sequence([gf.tensor([1.0]), gf.tensor([2.0, 3.0])], enforce_sorted=False)
        >>> x, n = pad_packed_sequence(p, batch_first=True, padding_value=-1.0)
        >>> x.tolist(), n.tolist()
        ([[1.0, -1.0], [2.0, 3.0]], [1, 2])
    """
    if not isinstance(sequence, PackedSequence):
        raise TypeError(
            f"pad_packed_sequence: expected a PackedSequence, got {type(sequence).__name__}"
        )
    bs = sequence.batch_sizes.numpy().astype(np.int64)
    T = bs.shape[0]
    if total_length is not None:
        if total_length < T:
            raise ValueError(
                "pad_packed_sequence: Expected total_length to be at least the length of the "
                f"longest sequence in input, but got total_length={total_length} and max "
                f"sequence length being {T}"
            )
        T = int(total_length)
    padded = unpack_to_padded(sequence.data, bs, T, padding_value)
    B = int(bs[0]) if bs.size else 0
    lengths = (bs[None, :] > np.arange(B)[:, None]).sum(axis=1).astype(np.int64)
    if sequence.unsorted_indices is not None:
        un = sequence.unsorted_indices.numpy()
        padded = padded[:, Tensor._wrap(un)]
        lengths = lengths[un]
    if batch_first:
        padded = padded.transpose(0, 1)
    return padded, Tensor._wrap(lengths)


def pad_sequence(
    sequences: Sequence[Tensor] | Tensor,
    batch_first: bool = False,
    padding_value: float = 0.0,
    padding_side: str = "right",
) -> Tensor:
    """Stack sequences ``(L_i, *)`` of different lengths into one padded ``(T, B, *)`` tensor.

    Args:
        sequences: the tensors, all with the same trailing shape.
        batch_first: return ``(B, T, *)``.
        padding_value: what fills the positions after (or before) each sequence.
        padding_side: ``"right"`` (after, the default) or ``"left"``.

    Example:
        >>> import gradfit as gf
        >>> pad_sequence([gf.tensor([1, 2]), gf.tensor([3])], batch_first=True).tolist()
        [[1, 2], [3, 0]]
    """
    if isinstance(sequences, Tensor):
        sequences = list(sequences)
    seqs = list(sequences)
    if not seqs:
        raise RuntimeError("pad_sequence: received an empty list of sequences")
    if padding_side not in ("left", "right"):
        raise ValueError(
            f"pad_sequence: Expected padding_side to be one of left or right, but got "
            f"{padding_side}."
        )
    for s in seqs:
        if not isinstance(s, Tensor):
            raise TypeError(f"pad_sequence: expected Tensors, got {type(s).__name__}")
        if s.ndim == 0 or s.shape[1:] != seqs[0].shape[1:]:
            raise RuntimeError(
                "pad_sequence: every sequence must be (L, *) with the same trailing shape, got "
                f"{[tuple(x.shape) for x in seqs]}"
            )
    from gradfit.creation import full
    from gradfit.ops.shape import cat

    lens = np.array([s.shape[0] for s in seqs], dtype=np.int64)
    T, B = int(lens.max()), len(seqs)
    n = int(lens.sum())
    starts = np.concatenate([[0], np.cumsum(lens)[:-1]])
    gather = np.full((B, T), n, dtype=np.int64)
    for b in range(B):  # one vector assignment per sequence, not per element
        if padding_side == "right":
            gather[b, : lens[b]] = starts[b] + np.arange(lens[b])
        else:
            gather[b, T - lens[b] :] = starts[b] + np.arange(lens[b])
    dtype = seqs[0].dtype
    pad = full((1, *seqs[0].shape[1:]), padding_value, dtype=dtype)
    table = cat([*(s if s.dtype == dtype else s.to(dtype) for s in seqs), pad], 0)
    idx = gather if batch_first else gather.T
    return table[Tensor._wrap(np.ascontiguousarray(idx))]


def unpad_sequence(
    padded_sequences: Tensor, lengths: Any, batch_first: bool = False
) -> list[Tensor]:
    """Split a padded batch back into its sequences (the inverse of :func:`pad_sequence`).

    Example:
        >>> import gradfit as gf
        >>> [s.tolist() for s in unpad_sequence(gf.tensor([[1, 3], [2, 0]]), [2, 1])]
        [[1, 2], [3]]
    """
    lens = _lengths_array(lengths, "unpad_sequence")
    x = padded_sequences if batch_first else padded_sequences.transpose(0, 1)
    return [x[b, : int(n)] for b, n in enumerate(lens)]


def pack_sequence(sequences: Sequence[Tensor], enforce_sorted: bool = True) -> PackedSequence:
    """Pack a list of sequences ``(L_i, *)`` (pad, then :func:`pack_padded_sequence`).

    Example:
        >>> import gradfit as gf
        >>> pack_sequence([gf.tensor([1.0, 2.0]), gf.tensor([3.0])]).data.tolist()
        [1.0, 3.0, 2.0]
    """
    lengths = [s.shape[0] for s in sequences]
    return pack_padded_sequence(pad_sequence(sequences), lengths, enforce_sorted=enforce_sorted)


def unpack_sequence(packed_sequences: PackedSequence) -> list[Tensor]:
    """The list of sequences a :class:`PackedSequence` holds, in the original order.

    Example:
        >>> import gradfit as gf
        >>> p = pack_sequence([gf.tensor([1.0]), gf.tensor([2.0, 3.0])], enforce_sorted=False)
        >>> [s.tolist() for s in unpack_sequence(p)]
        [[1.0], [2.0, 3.0]]
    """
    padded, lengths = pad_packed_sequence(packed_sequences, batch_first=True)
    return unpad_sequence(padded, lengths, batch_first=True)
