"""A U-Net-like block: Conv2d, GroupNorm, SiLU, Upsample, skip connection, torch.cat."""

import json

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F


class Block(nn.Module):
    def __init__(self, c_in, c_out):
        super().__init__()
        self.conv = nn.Conv2d(c_in, c_out, 3, padding=1)
        self.norm = nn.GroupNorm(2, c_out)

    def forward(self, x):
        return F.silu(self.norm(self.conv(x)))


class TinyUNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.down = Block(3, 8)
        self.pool = nn.MaxPool2d(2)
        self.mid = Block(8, 8)
        self.up = nn.Upsample(scale_factor=2, mode="bilinear", align_corners=False)
        self.out = Block(16, 4)

    def forward(self, x):
        d = self.down(x)
        m = self.mid(self.pool(d))
        u = self.up(m)
        return self.out(torch.cat([u, d], dim=1))


net = TinyUNet()
with torch.no_grad():
    for i, p in enumerate(net.parameters()):
        p.copy_(
            torch.tensor(
                np.random.default_rng(40 + i).normal(0, 0.3, tuple(p.shape)), dtype=torch.float32
            )
        )
x = torch.tensor(np.random.default_rng(8).standard_normal((2, 3, 8, 8)), dtype=torch.float32)
y = net(x)
loss = y.pow(2).mean()
loss.backward()
print(
    "RESULT",
    json.dumps(
        {
            "shape": list(y.shape),
            "loss": loss.item(),
            "g": float(net.down.conv.weight.grad.abs().sum()),
        }
    ),
)
