"""LBFGS with a closure and strong-Wolfe line search fitting a curve."""

import json

import torch

x = torch.linspace(-2, 2, 50, dtype=torch.float64)
y = torch.tanh(1.5 * x) * 2.0 + 0.3
params = torch.tensor([1.0, 1.0, 0.0], dtype=torch.float64, requires_grad=True)
opt = torch.optim.LBFGS([params], lr=1, max_iter=50, line_search_fn="strong_wolfe")


def closure():
    opt.zero_grad()
    a, b, c = params
    loss = ((a * torch.tanh(b * x) + c - y) ** 2).mean()
    loss.backward()
    return loss


for _ in range(3):
    loss = opt.step(closure)
# tolerance: 1e-6 1e-8
print(
    "RESULT", json.dumps({"loss": float(loss), "params": params.detach().numpy().round(6).tolist()})
)
