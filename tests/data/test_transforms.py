"""Transforms: statistics from the training split only; augmentation keeps shapes, dtypes, seeds."""

from __future__ import annotations

import numpy as np
import pytest

import gradfit as gf
from gradfit.data.transforms import (
    Compose,
    Flatten,
    MinMax,
    OneHot,
    RandomCrop,
    RandomHorizontalFlip,
    RandomShift,
    RandomShift1d,
    ScaleTo01,
    Standardize,
)


def test_standardize_uses_training_statistics_only():
    rng = np.random.default_rng(0)
    train = rng.normal(5.0, 2.0, (200, 3)).astype(np.float32)
    test = rng.normal(-40.0, 9.0, (50, 3)).astype(np.float32)  # a very different distribution
    s = Standardize().fit(train)
    out_train, out_test = s(train), s(test)
    np.testing.assert_allclose(out_train.mean(0), 0, atol=1e-5)
    np.testing.assert_allclose(out_train.std(0), 1, atol=1e-5)
    expected = (test - train.mean(0)) / train.std(0)
    np.testing.assert_allclose(out_test, expected, rtol=1e-5)
    assert out_test.dtype == np.float32
    assert abs(out_test.mean()) > 10  # not re-centred on the test data


def test_standardize_per_channel_and_constant_feature():
    x = np.random.default_rng(1).random((8, 2, 3, 3)).astype(np.float32)
    s = Standardize(axis=(0, 2, 3)).fit(x)
    assert s.mean.shape == (1, 2, 1, 1)
    np.testing.assert_allclose(s(x).mean(axis=(0, 2, 3)), 0, atol=1e-6)
    const = Standardize().fit(np.ones((4, 2), np.float32))
    assert np.isfinite(const(np.ones((1, 2), np.float32))).all()


def test_standardize_errors():
    with pytest.raises(RuntimeError, match="fit"):
        Standardize()(np.zeros((2, 2)))
    s = Standardize().fit(np.zeros((3, 4)))
    with pytest.raises(ValueError, match="do not match"):
        s(np.zeros((3, 5)))


def test_minmax_and_scale():
    m = MinMax().fit(np.array([[0.0, -1.0], [4.0, 1.0]], dtype=np.float32))
    np.testing.assert_allclose(m(np.array([[2.0, 0.0]], dtype=np.float32)), [[0.5, 0.5]])
    out = ScaleTo01()(np.array([0, 255], dtype=np.uint8))
    assert out.dtype == np.float32 and out.tolist() == [0.0, 1.0]
    assert ScaleTo01(0, 16)(np.array([8.0], dtype=np.float64)).dtype == np.float64


def test_one_hot_and_flatten_and_compose():
    oh = OneHot(4)(np.array([3, 0, 3]))
    np.testing.assert_array_equal(oh, np.eye(4, dtype=np.float32)[[3, 0, 3]])
    with pytest.raises(ValueError, match="label 4 is outside 0..3"):
        OneHot(4)(np.array([4]))
    with pytest.raises(TypeError, match="integer"):
        OneHot(4)(np.array([1.0]))
    x = np.zeros((2, 1, 28, 28), np.uint8)
    out = Compose([ScaleTo01(), Flatten()])(x)
    assert out.shape == (2, 784) and out.dtype == np.float32


def test_tensor_in_tensor_out():
    t = ScaleTo01(0, 2)(gf.tensor([[2.0]]))
    assert isinstance(t, gf.Tensor) and t.item() == 1.0


@pytest.mark.parametrize("shape", [(6, 1, 8, 8), (6, 3, 5, 7), (6, 8, 8)])
@pytest.mark.parametrize("dtype", [np.float32, np.uint8])
def test_augmentation_keeps_shape_dtype_and_is_seeded(shape, dtype):
    x = (np.random.default_rng(0).random(shape) * 200).astype(dtype)
    for t in (RandomShift(2), RandomCrop(padding=1), RandomHorizontalFlip()):
        a = t(x, np.random.default_rng(11))
        b = t(x, np.random.default_rng(11))
        assert a.shape == x.shape and a.dtype == x.dtype
        np.testing.assert_array_equal(a, b)
    gf.manual_seed(4)
    a = RandomShift(2)(x)  # gradfit's generator when none is passed
    gf.manual_seed(4)
    np.testing.assert_array_equal(a, RandomShift(2)(x))


def test_random_crop_windows_are_real_crops():
    x = np.arange(3 * 1 * 5 * 5, dtype=np.float32).reshape(3, 1, 5, 5)
    out = RandomCrop(3, generator=np.random.default_rng(0))(x)
    assert out.shape == (3, 1, 3, 3)
    for n in range(3):
        # every output is some 3x3 window of its own image
        windows = np.lib.stride_tricks.sliding_window_view(x[n, 0], (3, 3))
        assert any(np.array_equal(out[n, 0], w) for w in windows.reshape(-1, 3, 3))


def test_random_shift_moves_content_by_at_most_max_shift():
    x = np.zeros((50, 1, 9, 9), np.float32)
    x[:, 0, 4, 4] = 1.0  # one bright pixel in the centre
    out = RandomShift(2, generator=np.random.default_rng(0))(x)
    pos = np.argwhere(out[:, 0] == 1.0)
    assert len(pos) == 50  # the pixel never leaves the image
    assert np.abs(pos[:, 1:] - 4).max() <= 2
    assert len({tuple(p) for p in pos[:, 1:]}) > 5  # different samples, different shifts


def test_horizontal_flip_flips_some_samples():
    x = np.arange(40 * 4, dtype=np.float32).reshape(40, 1, 1, 4)
    out = RandomHorizontalFlip(0.5, generator=np.random.default_rng(0))(x)
    flipped = np.array([np.array_equal(o, s[..., ::-1]) for o, s in zip(out, x, strict=True)])
    kept = np.array([np.array_equal(o, s) for o, s in zip(out, x, strict=True)])
    assert (flipped | kept).all() and 5 < flipped.sum() < 35
    np.testing.assert_array_equal(RandomHorizontalFlip(1.0)(x), x[..., ::-1])


def test_augmentation_rejects_flat_input():
    with pytest.raises(ValueError, match=r"\(N, C, H, W\)"):
        RandomShift(2)(np.zeros((4, 64), np.float32))
    with pytest.raises(ValueError, match="larger than the padded image"):
        RandomCrop(10)(np.zeros((1, 1, 5, 5)))


@pytest.mark.parametrize("mode", ["zeros", "circular", "replicate"])
@pytest.mark.parametrize("shape", [(6, 10), (6, 3, 10)])
def test_random_shift1d_moves_each_sequence_as_a_whole(mode, shape):
    rng = np.random.default_rng(0)
    x = rng.normal(size=shape).astype(np.float32)
    t = RandomShift1d(3, padding_mode=mode, fill=-7.0, generator=np.random.default_rng(5))
    out = t(x)
    assert out.shape == x.shape and out.dtype == np.float32
    length = shape[-1]
    seen = set()
    for i in range(shape[0]):
        # exactly one shift k in -3..3 explains the whole sample, every channel alike
        matches = []
        for k in range(-3, 4):
            src = np.arange(length) - k
            if mode == "circular":
                want = x[i][..., src % length]
            else:
                want = x[i][..., np.clip(src, 0, length - 1)]
                if mode == "zeros":
                    want = np.where((src >= 0) & (src < length), want, np.float32(-7.0))
            if np.array_equal(out[i], want):
                matches.append(k)
        assert len(matches) == 1, (i, matches)
        seen.add(matches[0])
    assert len(seen) > 1  # the shifts differ between samples


def test_random_shift1d_is_seeded_by_the_loader_generator():
    x = np.arange(40, dtype=np.float32).reshape(4, 10)
    a = RandomShift1d(2)(x, np.random.default_rng(3))
    b = RandomShift1d(2)(x, np.random.default_rng(3))
    np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(RandomShift1d(0)(x), x)


def test_random_shift1d_bad_input_names_the_transform():
    with pytest.raises(ValueError, match=r"RandomShift1d: expected a batch of sequences"):
        RandomShift1d(2)(np.zeros((2, 1, 4, 4), np.float32))
    with pytest.raises(ValueError, match=r"RandomShift1d: padding_mode must be one of"):
        RandomShift1d(2, padding_mode="reflect")
    with pytest.raises(ValueError, match=r"RandomShift1d: max_shift must be non-negative"):
        RandomShift1d(-1)
    with pytest.raises(ValueError, match=r"RandomShift1d: fill -1 does not fit .* uint8"):
        RandomShift1d(1, fill=-1)(np.zeros((2, 5), np.uint8))
