"""Transforms applied to a whole batch at once (vectorised, no loop per sample).

Preprocessing: :class:`Standardize` and :class:`MinMax` learn their statistics with
``fit`` on the training split only (never on validation or test data, which would leak
information into the model), :class:`ScaleTo01` maps a known range to [0, 1],
:class:`OneHot` encodes labels, :class:`Flatten` turns images into vectors, and
:class:`Compose` chains transforms.

Augmentation for image batches of shape ``(N, C, H, W)`` or ``(N, H, W)``:
:class:`RandomCrop` (with zero padding), :class:`RandomShift` and
:class:`RandomHorizontalFlip`; for sequences ``(N, L)`` or ``(N, C, L)``:
:class:`RandomShift1d`. Each sample gets its own random offset or flip, drawn in one call. The random draws come from the transform's own ``generator`` if it was given
one, else from the generator the :class:`~gradfit.data.DataLoader` passes (its seed), else
from gradfit's default generator, so a seeded run augments identically.

Unlike torchvision, the transforms act on batches of NumPy arrays (a Tensor is accepted
and a Tensor returned), not on single PIL images.

Example:
    >>> import numpy as np
    >>> x_train = np.array([[0.0, 10.0], [2.0, 30.0]], dtype=np.float32)
    >>> std = Standardize().fit(x_train)
    >>> std(x_train)
    array([[-1., -1.],
           [ 1.,  1.]], dtype=float32)
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from gradfit.random import default_generator


def _unwrap(x: Any) -> tuple[np.ndarray, bool]:
    from gradfit.tensor import Tensor

    if isinstance(x, Tensor):
        return x._data, True
    return np.asarray(x), False


def _rewrap(arr: np.ndarray, was_tensor: bool) -> Any:
    if was_tensor:
        from gradfit.tensor import Tensor

        return Tensor._wrap(arr)
    return arr


def _float(arr: np.ndarray) -> np.ndarray:
    """Floats keep their dtype; integers (e.g. uint8 pixels) become float32."""
    return arr if arr.dtype.kind == "f" else arr.astype(np.float32)


class Transform:
    """Base class: ``transform(x, generator=None)`` maps a batch to a batch.

    ``generator`` is passed by the DataLoader; deterministic transforms ignore it.

    Example:
        >>> class Double(Transform):
        ...     def apply(self, x, generator): return x * 2
        >>> Double()(np.array([1, 2]))
        array([2, 4])
    """

    def __call__(self, x: Any, generator: np.random.Generator | None = None) -> Any:
        arr, was_tensor = _unwrap(x)
        return _rewrap(self.apply(arr, generator), was_tensor)

    def apply(self, x: np.ndarray, generator: np.random.Generator | None) -> np.ndarray:
        """Transform one batch array.

        Example:
            >>> Flatten().apply(np.zeros((2, 1, 2, 2)), None).shape
            (2, 4)
        """
        raise NotImplementedError(f"{type(self).__name__} must implement apply()")

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


class Compose(Transform):
    """Apply transforms one after another (torchvision's ``Compose``).

    Example:
        >>> t = Compose([ScaleTo01(0, 255), Flatten()])
        >>> t(np.full((1, 1, 2, 2), 255, dtype=np.uint8))
        array([[1., 1., 1., 1.]], dtype=float32)
    """

    def __init__(self, transforms: Sequence[Callable[..., Any]]) -> None:
        self.transforms = list(transforms)
        for t in self.transforms:
            if not callable(t):
                raise TypeError(f"Compose: every transform must be callable, got {t!r}")

    def apply(self, x: np.ndarray, generator: np.random.Generator | None) -> np.ndarray:
        """Each transform in turn, passing ``generator`` to gradfit transforms.

        Example:
            >>> Compose([]).apply(np.ones(2), None)
            array([1., 1.])
        """
        for t in self.transforms:
            x = t(x, generator) if isinstance(t, Transform) else np.asarray(t(x))
        return x

    def __repr__(self) -> str:
        inner = ", ".join(repr(t) for t in self.transforms)
        return f"Compose([{inner}])"


class Standardize(Transform):
    """``(x - mean) / std`` with statistics fitted on the training split only.

    Args:
        axis: the axes the statistics are taken over; 0 gives one mean and std per
            feature (per pixel for images); ``(0, 2, 3)`` gives one per channel of an
            ``(N, C, H, W)`` batch.
        eps: a standard deviation below ``eps`` is treated as 1 (as scikit-learn's
            ``StandardScaler`` does), so a constant feature maps to 0, not NaN or inf.
        mean, std: known statistics instead of calling :meth:`fit`.

    Example:
        >>> train = np.array([[1.0], [3.0]], dtype=np.float32)
        >>> s = Standardize().fit(train)
        >>> s.mean, s.std
        (array([[2.]], dtype=float32), array([[1.]], dtype=float32))
        >>> s(np.array([[5.0]], dtype=np.float32))
        array([[3.]], dtype=float32)
    """

    def __init__(
        self,
        axis: int | tuple[int, ...] = 0,
        eps: float = 1e-7,
        mean: Any = None,
        std: Any = None,
    ) -> None:
        self.axis = axis
        self.eps = float(eps)
        self.mean = None if mean is None else np.asarray(mean, dtype=np.float32)
        self.std = None if std is None else np.asarray(std, dtype=np.float32)
        if (self.mean is None) != (self.std is None):
            raise ValueError("Standardize: give both mean and std, or neither (then call fit)")

    def fit(self, x_train: Any) -> Standardize:
        """Learn the mean and std from training data; returns ``self``.

        Example:
            >>> Standardize().fit(np.array([[0.0], [4.0]])).std
            array([[2.]], dtype=float32)
        """
        arr = _float(_unwrap(x_train)[0])
        if arr.shape[0] == 0:
            raise ValueError("Standardize.fit: the training data is empty")
        mean = arr.mean(axis=self.axis, keepdims=True, dtype=np.float64)
        std = arr.std(axis=self.axis, keepdims=True, dtype=np.float64)
        self.mean, self.std = mean.astype(np.float32), std.astype(np.float32)
        return self

    def apply(self, x: np.ndarray, generator: np.random.Generator | None) -> np.ndarray:
        """Standardise ``x`` with the fitted statistics.

        Example:
            >>> Standardize(mean=1.0, std=2.0).apply(np.array([3.0], dtype=np.float32), None)
            array([1.], dtype=float32)
        """
        if self.mean is None or self.std is None:
            raise RuntimeError(
                "Standardize: call fit(x_train) on the training split first, or pass mean= and std="
            )
        x = _float(x)
        mean = self.mean.astype(x.dtype, copy=False)
        try:
            ok = np.broadcast_shapes(mean.shape, x.shape) == x.shape
        except ValueError:
            ok = False
        if not ok:
            raise ValueError(
                f"Standardize: statistics of shape {mean.shape} (fitted with axis={self.axis}) "
                f"do not match a batch of shape {x.shape}"
            )
        std = np.where(self.std < self.eps, 1.0, self.std).astype(x.dtype, copy=False)
        return (x - mean) / std

    def __repr__(self) -> str:
        state = "fitted" if self.mean is not None else "not fitted"
        return f"Standardize(axis={self.axis}, {state})"


class MinMax(Transform):
    """Rescale each feature to ``feature_range`` using the training split's min and max.

    Like scikit-learn's ``MinMaxScaler``. A constant feature maps to the lower end.

    Example:
        >>> m = MinMax().fit(np.array([[0.0, 5.0], [10.0, 7.0]]))
        >>> m(np.array([[5.0, 6.0]]))
        array([[0.5, 0.5]])
    """

    def __init__(self, feature_range: tuple[float, float] = (0.0, 1.0), axis: Any = 0) -> None:
        lo, hi = feature_range
        if not lo < hi:
            raise ValueError(f"MinMax: feature_range must satisfy low < high, got {feature_range}")
        self.feature_range = (float(lo), float(hi))
        self.axis = axis
        self.min: np.ndarray | None = None
        self.max: np.ndarray | None = None

    def fit(self, x_train: Any) -> MinMax:
        """Learn the per-feature min and max from training data; returns ``self``.

        Example:
            >>> MinMax().fit(np.array([[1.0], [3.0]])).max
            array([[3.]])
        """
        arr = _float(_unwrap(x_train)[0])
        if arr.shape[0] == 0:
            raise ValueError("MinMax.fit: the training data is empty")
        self.min = arr.min(axis=self.axis, keepdims=True)
        self.max = arr.max(axis=self.axis, keepdims=True)
        return self

    def apply(self, x: np.ndarray, generator: np.random.Generator | None) -> np.ndarray:
        """Rescale with the fitted range.

        Example:
            >>> MinMax().fit(np.array([0.0, 2.0])).apply(np.array([1.0]), None)
            array([0.5])
        """
        if self.min is None or self.max is None:
            raise RuntimeError("MinMax: call fit(x_train) on the training split first")
        x = _float(x)
        t = x.dtype.type
        lo, hi = self.feature_range
        span = (self.max - self.min).astype(x.dtype)
        span = np.where(span == 0, t(1), span)
        return (x - self.min.astype(x.dtype)) / span * t(hi - lo) + t(lo)


class ScaleTo01(Transform):
    """Map the fixed range ``[low, high]`` to ``[0, 1]`` (e.g. uint8 pixels 0..255).

    Integer input becomes float32; float input keeps its dtype. Nothing is fitted.

    Example:
        >>> ScaleTo01()(np.array([0, 51, 255], dtype=np.uint8))
        array([0. , 0.2, 1. ], dtype=float32)
    """

    def __init__(self, low: float = 0.0, high: float = 255.0) -> None:
        if not low < high:
            raise ValueError(f"ScaleTo01: expected low < high, got low={low}, high={high}")
        self.low, self.high = float(low), float(high)

    def apply(self, x: np.ndarray, generator: np.random.Generator | None) -> np.ndarray:
        """``(x - low) / (high - low)``.

        Example:
            >>> ScaleTo01(0, 16).apply(np.array([8.0], dtype=np.float32), None)
            array([0.5], dtype=float32)
        """
        x = _float(x)
        t = x.dtype.type
        return (x - t(self.low)) * t(1.0 / (self.high - self.low))

    def __repr__(self) -> str:
        return f"ScaleTo01(low={self.low}, high={self.high})"


class OneHot(Transform):
    """Integer class labels ``(N,)`` to float32 one-hot rows ``(N, num_classes)``.

    Example:
        >>> OneHot(3)(np.array([2, 0]))
        array([[0., 0., 1.],
               [1., 0., 0.]], dtype=float32)
    """

    def __init__(self, num_classes: int, dtype: Any = np.float32) -> None:
        if not isinstance(num_classes, int | np.integer) or num_classes <= 0:
            raise ValueError(f"OneHot: num_classes must be a positive integer, got {num_classes!r}")
        self.num_classes = int(num_classes)
        self.dtype = np.dtype(dtype)

    def apply(self, x: np.ndarray, generator: np.random.Generator | None) -> np.ndarray:
        """One row of the identity matrix per label.

        Example:
            >>> OneHot(2).apply(np.array([1]), None)
            array([[0., 1.]], dtype=float32)
        """
        if x.dtype.kind not in "iu":
            raise TypeError(f"OneHot: expected integer class labels, got dtype {x.dtype}")
        if x.size and (x.min() < 0 or x.max() >= self.num_classes):
            bad = x[(x < 0) | (x >= self.num_classes)].reshape(-1)[0]
            raise ValueError(
                f"OneHot: label {int(bad)} is outside 0..{self.num_classes - 1} "
                f"(num_classes={self.num_classes})"
            )
        return np.eye(self.num_classes, dtype=self.dtype)[x]

    def __repr__(self) -> str:
        return f"OneHot({self.num_classes})"


class Flatten(Transform):
    """Flatten every dimension from ``start_dim`` on (``(N, 1, 28, 28)`` -> ``(N, 784)``).

    Example:
        >>> Flatten()(np.zeros((5, 1, 8, 8))).shape
        (5, 64)
    """

    def __init__(self, start_dim: int = 1) -> None:
        self.start_dim = int(start_dim)

    def apply(self, x: np.ndarray, generator: np.random.Generator | None) -> np.ndarray:
        """Reshape, keeping the leading dimensions.

        Example:
            >>> Flatten(0).apply(np.zeros((2, 3)), None).shape
            (6,)
        """
        return x.reshape(*x.shape[: self.start_dim], -1)


def _as_nchw(x: np.ndarray, who: str) -> tuple[np.ndarray, bool]:
    if x.ndim == 4:
        return x, False
    if x.ndim == 3:
        return x[:, None], True
    raise ValueError(
        f"{who}: expected an image batch of shape (N, C, H, W) or (N, H, W), got shape {x.shape}; "
        "load image datasets with view='image' to augment them"
    )


def _pair(v: int | tuple[int, int], who: str, name: str) -> tuple[int, int]:
    a, b = (v, v) if isinstance(v, int | np.integer) else tuple(v)
    if a < 0 or b < 0:
        raise ValueError(f"{who}: {name} must be non-negative, got {v}")
    return int(a), int(b)


class _RandomTransform(Transform):
    def __init__(self, generator: np.random.Generator | None) -> None:
        if generator is not None and not isinstance(generator, np.random.Generator):
            raise TypeError(
                f"{type(self).__name__}: generator must be a numpy.random.Generator, "
                f"got {type(generator).__name__}"
            )
        self.generator = generator

    def _gen(self, passed: np.random.Generator | None) -> np.random.Generator:
        if self.generator is not None:
            return self.generator
        return passed if passed is not None else default_generator()


class RandomCrop(_RandomTransform):
    """Pad each image with ``padding`` zeros, then crop a random ``size`` window per sample.

    All windows are gathered in one fancy-indexing operation over a strided view.

    Args:
        size: output ``(height, width)`` (an int for square); None keeps the input size.
        padding: zeros added on every side before cropping.
        fill: the padding value.
        generator: a NumPy ``Generator`` for the offsets (see the module notes).

    Example:
        >>> x = np.arange(2 * 1 * 4 * 4, dtype=np.float32).reshape(2, 1, 4, 4)
        >>> out = RandomCrop(3, generator=np.random.default_rng(0))(x)
        >>> out.shape, out.dtype
        ((2, 1, 3, 3), dtype('float32'))
    """

    def __init__(
        self,
        size: int | tuple[int, int] | None = None,
        padding: int | tuple[int, int] = 0,
        fill: float = 0.0,
        generator: np.random.Generator | None = None,
    ) -> None:
        super().__init__(generator)
        self.size = None if size is None else _pair(size, "RandomCrop", "size")
        self.padding = _pair(padding, "RandomCrop", "padding")
        self.fill = fill

    def apply(self, x: np.ndarray, generator: np.random.Generator | None) -> np.ndarray:
        """One random window per image.

        Example:
            >>> RandomCrop(2).apply(np.zeros((3, 5, 5)), np.random.default_rng(0)).shape
            (3, 2, 2)
        """
        who = type(self).__name__
        x4, squeezed = _as_nchw(x, who)
        n, c, h, w = x4.shape
        ph, pw = self.padding
        th, tw = self.size if self.size is not None else (h, w)
        if th > h + 2 * ph or tw > w + 2 * pw:
            raise ValueError(
                f"{who}: crop size ({th}, {tw}) is larger than the padded image "
                f"({h + 2 * ph}, {w + 2 * pw})"
            )
        if ph or pw:
            padded = np.full((n, c, h + 2 * ph, w + 2 * pw), self.fill, dtype=x4.dtype)
            padded[:, :, ph : ph + h, pw : pw + w] = x4
        else:
            padded = x4
        gen = self._gen(generator)
        oy = gen.integers(0, padded.shape[2] - th + 1, size=n)
        ox = gen.integers(0, padded.shape[3] - tw + 1, size=n)
        windows = np.lib.stride_tricks.sliding_window_view(padded, (th, tw), axis=(2, 3))
        out = windows[np.arange(n), :, oy, ox]  # (N, C, th, tw)
        out = np.ascontiguousarray(out)
        return out[:, 0] if squeezed else out

    def __repr__(self) -> str:
        return f"{type(self).__name__}(size={self.size}, padding={self.padding})"


class RandomShift(RandomCrop):
    """Shift each image by a random whole number of pixels, up to ``max_shift`` each way.

    The shape is unchanged; the pixels shifted in are ``fill``. Equivalent to a
    :class:`RandomCrop` of the original size with ``padding=max_shift``.

    Example:
        >>> x = np.ones((4, 1, 6, 6), dtype=np.float32)
        >>> out = RandomShift(2, generator=np.random.default_rng(0))(x)
        >>> out.shape, out.dtype, bool((out <= 1).all())
        ((4, 1, 6, 6), dtype('float32'), True)
    """

    def __init__(
        self,
        max_shift: int | tuple[int, int] = 2,
        fill: float = 0.0,
        generator: np.random.Generator | None = None,
    ) -> None:
        super().__init__(None, padding=max_shift, fill=fill, generator=generator)
        self.max_shift = self.padding

    def __repr__(self) -> str:
        return f"RandomShift(max_shift={self.max_shift})"


class RandomHorizontalFlip(_RandomTransform):
    """Mirror each image left-right with probability ``p``.

    Meaningful for photographs and clothing (Fashion-MNIST), not for digits, whose
    mirror images are not digits.

    Example:
        >>> x = np.array([[[[1.0, 2.0]]]], dtype=np.float32)
        >>> RandomHorizontalFlip(p=1.0)(x)
        array([[[[2., 1.]]]], dtype=float32)
    """

    def __init__(self, p: float = 0.5, generator: np.random.Generator | None = None) -> None:
        super().__init__(generator)
        if not 0.0 <= p <= 1.0:
            raise ValueError(f"RandomHorizontalFlip: p must be in [0, 1], got {p}")
        self.p = float(p)

    def apply(self, x: np.ndarray, generator: np.random.Generator | None) -> np.ndarray:
        """Flip the last axis of the chosen samples.

        Example:
            >>> RandomHorizontalFlip(0.0).apply(np.array([[[1, 2]]]), None)
            array([[[1, 2]]])
        """
        if x.ndim < 3:
            _as_nchw(x, "RandomHorizontalFlip")
        flip = self._gen(generator).random(x.shape[0]) < self.p
        out = x.copy()
        out[flip] = x[flip][..., ::-1]
        return out

    def __repr__(self) -> str:
        return f"RandomHorizontalFlip(p={self.p})"


_SHIFT_MODES = ("zeros", "circular", "replicate")


class RandomShift1d(_RandomTransform):
    """Shift each sequence along its last axis by a random whole number of steps.

    For signals such as MNIST-1D: a batch ``(N, L)`` or ``(N, C, L)`` keeps its shape,
    and sample ``i`` becomes ``x[i, ..., t - k_i]`` with ``k_i`` drawn uniformly from
    ``-max_shift..max_shift`` (all channels of a sample move together). What enters at
    the ends follows ``padding_mode``, named as in ``gf.nn.Conv1d``: ``"zeros"`` (the
    value ``fill``), ``"circular"`` (what leaves one end comes back at the other) or
    ``"replicate"`` (the end value repeats).

    Example:
        >>> x = np.arange(8, dtype=np.float32).reshape(2, 4)
        >>> out = RandomShift1d(1, padding_mode="circular", generator=np.random.default_rng(1))(x)
        >>> out.shape, out.dtype, sorted(out[0].tolist()) == x[0].tolist()
        ((2, 4), dtype('float32'), True)
    """

    def __init__(
        self,
        max_shift: int = 2,
        padding_mode: str = "zeros",
        fill: float = 0.0,
        generator: np.random.Generator | None = None,
    ) -> None:
        super().__init__(generator)
        if isinstance(max_shift, bool) or not isinstance(max_shift, int | np.integer):
            raise TypeError(f"RandomShift1d: max_shift must be an int, got {max_shift!r}")
        if max_shift < 0:
            raise ValueError(f"RandomShift1d: max_shift must be non-negative, got {max_shift}")
        if padding_mode not in _SHIFT_MODES:
            raise ValueError(
                f"RandomShift1d: padding_mode must be one of {', '.join(_SHIFT_MODES)}, "
                f"got {padding_mode!r}"
            )
        self.max_shift, self.padding_mode, self.fill = int(max_shift), padding_mode, fill

    def apply(self, x: np.ndarray, generator: np.random.Generator | None) -> np.ndarray:
        """One random shift per sequence.

        Example:
            >>> RandomShift1d(0).apply(np.array([[1.0, 2.0]]), None)
            array([[1., 2.]])
        """
        if x.ndim not in (2, 3):
            raise ValueError(
                f"RandomShift1d: expected a batch of sequences (N, L) or (N, C, L), "
                f"got shape {x.shape}"
            )
        n, length = x.shape[0], x.shape[-1]
        k = self._gen(generator).integers(-self.max_shift, self.max_shift + 1, size=n)
        src = np.arange(length)[None, :] - k[:, None]  # (N, L): where each output step reads
        if self.padding_mode == "circular":
            src %= length
        inside = (src >= 0) & (src < length)
        src = np.clip(src, 0, length - 1)
        if x.ndim == 3:
            src, inside = src[:, None, :], inside[:, None, :]
        out = np.take_along_axis(x, np.broadcast_to(src, x.shape), axis=-1)
        if self.padding_mode == "zeros":
            try:
                fill = np.array(self.fill, dtype=x.dtype)
            except (OverflowError, ValueError):
                raise ValueError(
                    f"RandomShift1d: fill {self.fill!r} does not fit the input's dtype {x.dtype}"
                ) from None
            out = np.where(inside, out, fill)
        return out

    def __repr__(self) -> str:
        return f"RandomShift1d(max_shift={self.max_shift}, padding_mode={self.padding_mode!r})"
