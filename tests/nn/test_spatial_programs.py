"""Small programs built from the spatial layers, written once against a ``nn`` namespace and run
under torch and under gradfit with the same weights: a DCGAN-like generator and an
upsampling/padding/pixel-shuffle block. Outputs and every parameter gradient must agree."""

from __future__ import annotations

import numpy as np
import torch

import gradfit as gf
from oracle import assert_close


def generator(nn):
    return nn.Sequential(
        nn.ConvTranspose2d(8, 16, 4, 1, 0, bias=False),  # 1x1 -> 4x4
        nn.BatchNorm2d(16),
        nn.ReLU(),
        nn.ConvTranspose2d(16, 8, 4, 2, 1, bias=False),  # -> 8x8
        nn.BatchNorm2d(8),
        nn.ReLU(),
        nn.ConvTranspose2d(8, 3, 4, 2, 1, bias=False),  # -> 16x16
        nn.Tanh(),
    )


def up_block(nn):
    return nn.Sequential(
        nn.Upsample(scale_factor=2, mode="bilinear", align_corners=False),
        nn.ReflectionPad2d(1),
        nn.Conv2d(4, 8, 3),
        nn.ReLU(),
        nn.PixelShuffle(2),
        nn.ZeroPad2d((1, 0, 1, 0)),
        nn.Conv2d(2, 4, 2),
        nn.AdaptiveMaxPool2d((5, 5)),
        nn.Flatten(),
        nn.Unflatten(1, (4, 25)),
    )


def _run_both(build, x_np):
    torch.manual_seed(0)
    tmodel = build(torch.nn)
    model = build(gf.nn)
    model.load_state_dict(
        {k: gf.tensor(v.detach().numpy()) for k, v in tmodel.state_dict().items()}
    )
    x, tx = gf.tensor(x_np), torch.from_numpy(x_np)
    y, ty = model(x), tmodel(tx)
    assert_close(y, ty, rtol=1e-4, atol=1e-4, what="output")
    g = np.random.default_rng(1).standard_normal(y.shape).astype(np.float32)
    (y * gf.tensor(g)).sum().backward()
    (ty * torch.from_numpy(g)).sum().backward()
    tparams = dict(tmodel.named_parameters())
    for name, p in model.named_parameters():
        assert_close(p.grad, tparams[name].grad, rtol=1e-3, atol=1e-4, what=name)


def test_dcgan_generator_agrees_with_torch():
    z = np.random.default_rng(0).standard_normal((4, 8, 1, 1)).astype(np.float32)
    _run_both(generator, z)


def test_upsampling_block_agrees_with_torch():
    x = np.random.default_rng(0).standard_normal((2, 4, 5, 5)).astype(np.float32)
    _run_both(up_block, x)
