"""Embedding against PyTorch: lookup, accumulated gradients, padding_idx, one_hot, errors."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import gradfit as gf
import gradfit.nn.functional as F
from gradfit import nn
from oracle import assert_close


@pytest.mark.parametrize("idx_shape", [(1,), (7,), (3, 5), (), (0,), (40, 9)])
@pytest.mark.parametrize("padding_idx", [None, 2])
def test_embedding_matches_torch(kernel_path, idx_shape, padding_idx):
    rng = np.random.default_rng(0)
    emb = nn.Embedding(6, 4, padding_idx=padding_idx)
    temb = torch.nn.Embedding(6, 4, padding_idx=padding_idx)
    with torch.no_grad():
        temb.weight.copy_(torch.from_numpy(emb.weight.numpy()))
    idx = rng.integers(0, 6, size=idx_shape)
    if idx.size > 2:
        idx.flat[:3] = [1, 1, 2]  # repeats and padding
    out, tout = emb(gf.tensor(idx)), temb(torch.from_numpy(idx))
    assert_close(out, tout)
    g = rng.standard_normal(out.shape).astype(np.float32)
    (out * gf.tensor(g)).sum().backward()
    (tout * torch.from_numpy(g)).sum().backward()
    tol = 1e-6 * max(1, idx.size // 6) ** 0.5  # float32 sums of ~size/6 rows, in any order
    assert_close(emb.weight.grad, temb.weight.grad, rtol=1e-5, atol=tol)


def test_embedding_padding_row_is_zero_and_untrained(kernel_path):
    emb = nn.Embedding(5, 3, padding_idx=0)
    assert np.all(emb.weight.numpy()[0] == 0)
    emb(gf.tensor([0, 0, 1])).sum().backward()
    assert np.all(emb.weight.grad.numpy()[0] == 0)
    np.testing.assert_array_equal(emb.weight.grad.numpy()[1], np.ones(3))


def test_embedding_gradcheck_and_init_stats(kernel_path):
    w = gf.randn(5, 3, dtype="float64", requires_grad=True)
    idx = gf.tensor([[0, 4, 4], [1, 0, 2]])
    assert gf.gradcheck(lambda t: F.embedding(idx, t), [w])
    big = nn.Embedding(1000, 100).weight.numpy()
    assert abs(big.mean()) < 0.01 and abs(big.std() - 1.0) < 0.01  # N(0, 1), as PyTorch


def test_from_pretrained_and_repr():
    table = gf.randn(4, 2)
    emb = nn.Embedding.from_pretrained(table)
    assert not emb.weight.requires_grad
    np.testing.assert_array_equal(emb(gf.tensor([3])).numpy()[0], table.numpy()[3])
    assert nn.Embedding.from_pretrained(table, freeze=False).weight.requires_grad
    assert repr(nn.Embedding(10, 3, padding_idx=1)) == repr(
        torch.nn.Embedding(10, 3, padding_idx=1)
    )


def test_embedding_errors():
    emb = nn.Embedding(10, 3)
    with pytest.raises(IndexError, match="index 10 is out of range for 10 embeddings"):
        emb(gf.tensor([1, 10]))
    with pytest.raises(TypeError, match="integer tensor of indices, got float32"):
        emb(gf.tensor([1.0]))


def test_one_hot_matches_torch():
    y = np.array([[0, 3], [2, 1]])
    np.testing.assert_array_equal(
        F.one_hot(gf.tensor(y), 5).numpy(), TF.one_hot(torch.from_numpy(y), 5).numpy()
    )
    np.testing.assert_array_equal(
        F.one_hot(gf.tensor(y)).numpy(), TF.one_hot(torch.from_numpy(y)).numpy()
    )
    assert F.one_hot(gf.tensor([1]), 3).dtype == np.int64
    with pytest.raises(ValueError, match="class index 4 is out of range for num_classes=3"):
        F.one_hot(gf.tensor([4]), 3)


def test_backward_refuses_indices_changed_out_of_range_after_forward(kernel_path):
    """The compiled scatter-add checks no bounds itself: the op refuses before it runs."""
    w = gf.randn(5, 3, requires_grad=True)
    idx = gf.tensor([1, 2])
    out = gf.nn.functional.embedding(idx, w)
    idx._data[0] = 99  # behind the engine's back
    with pytest.raises(IndexError, match="99"):
        out.sum().backward()
