"""A tiny GPT-style language model with nn.TransformerEncoder and a causal mask."""

import json

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

torch.manual_seed(0)
V, D, T = 12, 16, 6


class GPT(nn.Module):
    def __init__(self):
        super().__init__()
        self.tok = nn.Embedding(V, D)
        self.pos = nn.Parameter(torch.zeros(1, T, D))
        layer = nn.TransformerEncoderLayer(D, 2, 32, dropout=0.0, batch_first=True, norm_first=True)
        self.blocks = nn.TransformerEncoder(layer, 2, enable_nested_tensor=False)
        self.head = nn.Linear(D, V)

    def forward(self, idx):
        mask = nn.Transformer.generate_square_subsequent_mask(T)
        return self.head(self.blocks(self.tok(idx) + self.pos, mask=mask, is_causal=True))


model = GPT()
with torch.no_grad():
    for i, (name, p) in enumerate(sorted(model.named_parameters())):
        p.copy_(
            torch.tensor(
                np.random.default_rng(60 + i).normal(0, 0.2, tuple(p.shape)), dtype=torch.float32
            )
        )
data = torch.tensor(np.random.default_rng(10).integers(0, V, (8, T + 1)))
opt = torch.optim.AdamW(model.parameters(), lr=1e-2)
for _ in range(15):
    logits = model(data[:, :-1])
    loss = F.cross_entropy(logits.reshape(-1, V), data[:, 1:].reshape(-1))
    opt.zero_grad()
    loss.backward()
    opt.step()
# tolerance: 1e-3 1e-4
print("RESULT", json.dumps({"loss": loss.item()}))
