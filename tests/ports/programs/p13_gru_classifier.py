"""An LSTM/GRU sequence classifier with packed variable-length batches."""

import json

import numpy as np
import torch
import torch.nn as nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_sequence


class Classifier(nn.Module):
    def __init__(self):
        super().__init__()
        self.emb = nn.Embedding(10, 6)
        self.rnn = nn.GRU(6, 8, batch_first=True, bidirectional=True)
        self.fc = nn.Linear(16, 3)

    def forward(self, seqs, lengths):
        x = pad_sequence([self.emb(s) for s in seqs], batch_first=True)
        packed = pack_padded_sequence(x, lengths, batch_first=True, enforce_sorted=False)
        _, h = self.rnn(packed)
        return self.fc(torch.cat([h[0], h[1]], dim=1))


model = Classifier()
with torch.no_grad():
    for i, p in enumerate(model.parameters()):
        p.copy_(
            torch.tensor(
                np.random.default_rng(50 + i).normal(0, 0.3, tuple(p.shape)), dtype=torch.float32
            )
        )
rng = np.random.default_rng(9)
lengths = [5, 2, 7, 3]
seqs = [torch.tensor(rng.integers(0, 10, n)) for n in lengths]
labels = torch.tensor([0, 1, 2, 1])
opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
for _ in range(20):
    loss = nn.functional.cross_entropy(model(seqs, lengths), labels)
    opt.zero_grad()
    loss.backward()
    opt.step()
# tolerance: 1e-3 1e-5
print("RESULT", json.dumps({"loss": loss.item(), "pred": model(seqs, lengths).argmax(1).tolist()}))
