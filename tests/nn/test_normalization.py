"""BatchNorm1d/2d and LayerNorm layers against PyTorch: train/eval, running stats, buffers, errors."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import gradfit as gf
from gradfit.nn.normalization import BatchNorm1d, BatchNorm2d, LayerNorm
from oracle import assert_close, to_torch

rng = np.random.default_rng(0)


def _copy_params(layer, tlayer):
    with torch.no_grad():
        for name, p in layer.named_parameters():
            getattr(tlayer, name).copy_(to_torch(p))


def _step(layer, tlayer, x_np, with_grad=True):
    x, tx = gf.tensor(x_np, requires_grad=True), to_torch(x_np, requires_grad=True)
    y, ty = layer(x), tlayer(tx)
    assert_close(y, ty, rtol=1e-4, atol=1e-4, what="output")
    if with_grad:
        g = rng.standard_normal(y.shape).astype(np.float32)
        (y * gf.tensor(g)).sum().backward()
        (ty * torch.from_numpy(g)).sum().backward()
        assert_close(x.grad, tx.grad, rtol=1e-4, atol=1e-4, what="input grad")
        for name, p in layer.named_parameters():
            assert_close(p.grad, getattr(tlayer, name).grad, rtol=1e-4, atol=1e-4, what=name)


@pytest.mark.parametrize(
    "cls, shape",
    [
        ("BatchNorm1d", (6, 4)),
        ("BatchNorm1d", (3, 4, 5)),
        ("BatchNorm2d", (2, 4, 3, 3)),
        ("BatchNorm2d", (1, 4, 2, 3)),
    ],
)
@pytest.mark.parametrize(
    "kwargs",
    [
        {},
        dict(momentum=None),
        dict(affine=False),
        dict(momentum=0.5, eps=1e-3),
        dict(track_running_stats=False),
        dict(bias=False),
    ],
)
def test_batchnorm_train_then_eval_matches_torch(cls, shape, kwargs):
    layer = dict(BatchNorm1d=BatchNorm1d, BatchNorm2d=BatchNorm2d)[cls](4, **kwargs)
    tlayer = getattr(torch.nn, cls)(4, **kwargs)
    with torch.no_grad():
        for _, p in layer.named_parameters():  # non-trivial affine parameters
            p._data[...] = rng.standard_normal(p.shape).astype(np.float32)
    _copy_params(layer, tlayer)
    for _ in range(4):  # several steps: running statistics follow PyTorch's exactly
        _step(layer, tlayer, (rng.standard_normal(shape) * 2 + 1).astype(np.float32))
        layer.zero_grad()
        tlayer.zero_grad()
    for name, buf in layer.named_buffers():
        assert_close(buf, getattr(tlayer, name), rtol=1e-5, atol=1e-6, what=name)
    layer.eval()
    tlayer.eval()
    _step(layer, tlayer, (rng.standard_normal(shape) * 2 + 1).astype(np.float32))
    if layer.track_running_stats:  # eval does not touch the statistics
        assert int(layer.num_batches_tracked.item()) == 4


def test_batchnorm_buffers_and_state_dict():
    bn = BatchNorm2d(3)
    assert [n for n, _ in bn.named_parameters()] == ["weight", "bias"]
    assert [n for n, _ in bn.named_buffers()] == [
        "running_mean",
        "running_var",
        "num_batches_tracked",
    ]
    assert set(bn.state_dict()) == set(torch.nn.BatchNorm2d(3).state_dict())
    bn(gf.randn(4, 3, 2, 2))
    fresh = BatchNorm2d(3)
    fresh.load_state_dict(bn.state_dict())
    np.testing.assert_array_equal(fresh.running_mean._data, bn.running_mean._data)
    assert list(BatchNorm1d(3, affine=False, track_running_stats=False).state_dict()) == []


def test_batchnorm_eval_uses_running_stats():
    bn = BatchNorm1d(2).eval()
    bn.running_mean._data[...] = [1.0, -1.0]
    bn.running_var._data[...] = [4.0, 0.25]
    y = bn(gf.tensor([[3.0, 0.0]]))  # batch size 1 is fine in eval mode
    np.testing.assert_allclose(
        y._data, [[2 / np.sqrt(4 + 1e-5), 1 / np.sqrt(0.25 + 1e-5)]], rtol=1e-6
    )


def test_batchnorm_repr_like_torch():
    for kw in [
        {},
        dict(momentum=None, affine=False),
        dict(eps=1e-3, track_running_stats=False),
        dict(bias=False),
    ]:
        assert repr(BatchNorm1d(5, **kw)) == repr(torch.nn.BatchNorm1d(5, **kw))
        assert repr(BatchNorm2d(5, **kw)) == repr(torch.nn.BatchNorm2d(5, **kw))


def test_batchnorm_errors_name_the_layer():
    with pytest.raises(
        ValueError,
        match=r"^BatchNorm2d\(3, eps=1e-05, momentum=0.1, affine=True, bias=True, track_running_stats=True\): expected input \(N, 3, H, W\), got \(2, 3, 4\)$",
    ):
        BatchNorm2d(3)(gf.randn(2, 3, 4))
    with pytest.raises(
        ValueError, match=r"^BatchNorm1d\(3.*expected input \(N, 3\) or \(N, 3, L\), got \(2, 4\)"
    ):
        BatchNorm1d(3)(gf.randn(2, 4))
    with pytest.raises(ValueError, match=r"^BatchNorm1d\(3.*more than 1 value per channel"):
        BatchNorm1d(3)(gf.randn(1, 3))
    with pytest.raises(ValueError, match="num_features must be a positive integer"):
        BatchNorm1d(0)
    with pytest.raises(ValueError, match="momentum must be a number"):
        BatchNorm2d(3, momentum=1.5)


@pytest.mark.parametrize("normalized, shape", [(6, (4, 6)), ((3, 4), (2, 5, 3, 4)), ((5,), (1, 5))])
@pytest.mark.parametrize(
    "kwargs", [{}, dict(elementwise_affine=False), dict(bias=False), dict(eps=1e-3)]
)
def test_layernorm_matches_torch(normalized, shape, kwargs):
    layer, tlayer = LayerNorm(normalized, **kwargs), torch.nn.LayerNorm(normalized, **kwargs)
    with torch.no_grad():
        for _, p in layer.named_parameters():
            p._data[...] = rng.standard_normal(p.shape).astype(np.float32)
    _copy_params(layer, tlayer)
    assert repr(layer) == repr(tlayer)
    _step(layer, tlayer, (rng.standard_normal(shape) * 3).astype(np.float32))


def test_layernorm_errors():
    with pytest.raises(
        ValueError,
        match=r"^LayerNorm\(\(3, 4\), eps=1e-05, elementwise_affine=True, bias=True\): expected input \(\*, 3, 4\), got \(2, 4, 3\)$",
    ):
        LayerNorm((3, 4))(gf.randn(2, 4, 3))
    with pytest.raises(ValueError, match="normalized_shape"):
        LayerNorm(0)
