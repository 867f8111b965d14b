"""torch.save / torch.load of model and optimizer state dicts, then resume training."""

import json

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

rng = np.random.default_rng(2)
X = torch.tensor(rng.standard_normal((32, 4)), dtype=torch.float32)
y = torch.tensor(rng.integers(0, 3, 32))


def make():
    m = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 3))
    with torch.no_grad():
        for i, p in enumerate(m.parameters()):
            p.copy_(
                torch.tensor(
                    np.random.default_rng(10 + i).standard_normal(tuple(p.shape)) * 0.3,
                    dtype=torch.float32,
                )
            )
    return m


def train(m, opt, steps):
    for _ in range(steps):
        loss = F.cross_entropy(m(X), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
    return loss.item()


model = make()
opt = torch.optim.Adam(model.parameters(), lr=0.01)
train(model, opt, 10)
torch.save({"model": model.state_dict(), "opt": opt.state_dict(), "epoch": 10}, "ckpt.pt")
straight = train(model, opt, 10)

ckpt = torch.load("ckpt.pt", weights_only=True)
model2 = make()
model2.load_state_dict(ckpt["model"])
opt2 = torch.optim.Adam(model2.parameters(), lr=0.01)
opt2.load_state_dict(ckpt["opt"])
resumed = train(model2, opt2, 10)
print(
    "RESULT",
    json.dumps(
        {
            "straight": straight,
            "resumed": resumed,
            "epoch": ckpt["epoch"],
            "same": bool(torch.allclose(model[0].weight, model2[0].weight)),
        }
    ),
)
