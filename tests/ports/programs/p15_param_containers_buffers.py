"""ParameterList/ParameterDict, register_buffer, apply, named_buffers, state_dict round trip."""

import json

import numpy as np
import torch
import torch.nn as nn


class Mixture(nn.Module):
    def __init__(self):
        super().__init__()
        self.weights = nn.ParameterList([nn.Parameter(torch.ones(3) * i) for i in range(3)])
        self.extra = nn.ParameterDict({"scale": nn.Parameter(torch.tensor(2.0))})
        self.register_buffer("running", torch.zeros(3))
        self.register_buffer("tmp", torch.ones(1), persistent=False)

    def forward(self, x):
        out = sum(w * x for w in self.weights) * self.extra["scale"]
        self.running.mul_(0.9).add_(0.1 * out.detach())
        return out


m = Mixture()
x = torch.tensor(np.arange(3, dtype=np.float32))
y = m(x).sum()
y.backward()
names = [n for n, _ in m.named_parameters()]
buffers = [n for n, _ in m.named_buffers()]
sd = m.state_dict()
m2 = Mixture()
m2.load_state_dict(sd)
m.apply(lambda mod: None)
n_params = sum(p.numel() for p in m.parameters())
print(
    "RESULT",
    json.dumps(
        {
            "names": names,
            "buffers": buffers,
            "keys": sorted(sd.keys()),
            "grad": m.weights[1].grad.tolist(),
            "running": m2.running.tolist(),
            "n": n_params,
        }
    ),
)
