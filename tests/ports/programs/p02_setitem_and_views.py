"""x[i] = v, masked assignment and in-place ops inside a graph, then backward."""

import json

import numpy as np
import torch

rng = np.random.default_rng(1)
w = torch.tensor(rng.standard_normal((4, 3)), requires_grad=True)
x = torch.zeros(5, 3, dtype=torch.float64)
x[0] = 1.0
x[1:3] = torch.tensor([[1.0, 2.0, 3.0]], dtype=torch.float64)
x[:, 2] += 0.5
x[x > 2] = -1.0
h = x @ w.T
h[0, 1] = 0.0
h[:, 0] *= 2
h.relu_()
loss = h.sum() + (h**2).mean()
loss.backward()
print("RESULT", json.dumps({"x": x.tolist(), "loss": loss.item(), "grad": w.grad.tolist()}))
