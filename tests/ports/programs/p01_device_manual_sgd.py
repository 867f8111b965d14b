"""Device boilerplate, .to(device), and a manual SGD loop with p.data -= lr * p.grad."""

import json

import numpy as np
import torch
import torch.nn as nn

device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
rng = np.random.default_rng(0)
X = torch.tensor(rng.standard_normal((64, 3)), dtype=torch.float32).to(device)
true_w = torch.tensor([[2.0], [-1.0], [0.5]], device=device)
y = X @ true_w + 0.1

model = nn.Linear(3, 1).to(device)
with torch.no_grad():
    model.weight.copy_(torch.zeros(1, 3))
    model.bias.fill_(0.0)
lr = 0.1
for epoch in range(50):
    pred = model(X)
    loss = ((pred - y) ** 2).mean()
    model.zero_grad()
    loss.backward()
    for p in model.parameters():
        p.data -= lr * p.grad
print(
    "RESULT",
    json.dumps(
        {
            "loss": loss.item(),
            "w": model.weight.data.cpu().numpy().ravel().tolist(),
            "b": model.bias.item(),
            "device": str(X.device),
        }
    ),
)
