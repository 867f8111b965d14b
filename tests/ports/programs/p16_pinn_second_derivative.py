"""A physics-informed network: fit u'' = -u on [0, pi] with u(0) = 0, u'(0) = 1.

The solution is sin(x). The network never sees it: the loss is the residual of the
equation at collocation points plus the two initial conditions, and u'' comes from
differentiating the network's output twice with autograd (create_graph=True both times,
so the loss can be differentiated once more for the weights: a third-order graph).
"""

import json
import math

import numpy as np
import torch
import torch.nn as nn

rng = np.random.default_rng(0)
model = nn.Sequential(nn.Linear(1, 16), nn.Tanh(), nn.Linear(16, 16), nn.Tanh(), nn.Linear(16, 1))
model = model.double()
with torch.no_grad():  # the same starting weights in both libraries
    for p in model.parameters():
        fan_in = p.shape[1] if p.dim() == 2 else 16
        p.copy_(torch.from_numpy(rng.standard_normal(tuple(p.shape)) / math.sqrt(fan_in)))

x = torch.linspace(0, math.pi, 24, dtype=torch.float64).reshape(-1, 1).requires_grad_(True)
x0 = torch.zeros(1, 1, dtype=torch.float64, requires_grad=True)
opt = torch.optim.Adam(model.parameters(), lr=0.01)


def pinn_loss():
    u = model(x)
    (du,) = torch.autograd.grad(u.sum(), x, create_graph=True)  # u'(x), still differentiable
    (d2u,) = torch.autograd.grad(du.sum(), x, create_graph=True)  # u''(x)
    residual = d2u + u  # zero where u'' = -u
    u0 = model(x0)
    (du0,) = torch.autograd.grad(u0.sum(), x0, create_graph=True)
    return (residual**2).mean() + (u0**2).sum() + ((du0 - 1) ** 2).sum()


losses = []
for step in range(300):
    opt.zero_grad()
    loss = pinn_loss()
    loss.backward()
    opt.step()
    losses.append(loss.item())

grid = torch.linspace(0, math.pi, 50, dtype=torch.float64).reshape(-1, 1)
with torch.no_grad():
    error = (model(grid) - torch.sin(grid)).abs().max().item()
print(f"loss {losses[0]:.3g} -> {losses[-1]:.3g}; max |u - sin| on [0, pi]: {error:.3g}")
if not error < 0.05:  # it found sin(x) from the equation alone
    raise SystemExit(f"the network did not find sin(x): max error {error:.3g}")
# tolerance: 1e-5 1e-7
result = {"loss_start": losses[0], "loss_100": losses[100], "loss_end": losses[-1], "error": error}
print("RESULT", json.dumps(result))
