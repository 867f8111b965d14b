"""Indexing ops real code uses: gather, scatter_, topk, sort, cumsum, masked_fill, one_hot."""

import json

import numpy as np
import torch
import torch.nn.functional as F

rng = np.random.default_rng(5)
logits = torch.tensor(rng.standard_normal((4, 10)), requires_grad=True)
target = torch.tensor([1, 3, 5, 7])
picked = logits.gather(1, target.unsqueeze(1)).squeeze(1)
top_v, top_i = torch.topk(logits, 3, dim=-1)
sorted_v, sorted_i = torch.sort(logits, dim=-1, descending=True)
probs = F.softmax(sorted_v, dim=-1)
cum = torch.cumsum(probs, dim=-1)
remove = cum > 0.9
remove[..., 1:] = remove[..., :-1].clone()
remove[..., 0] = False
filtered = sorted_v.masked_fill(remove, float("-inf"))
onehot = torch.zeros(4, 10).scatter_(1, target.unsqueeze(1), 1.0)
mask = torch.tril(torch.ones(4, 4)).bool()
att = torch.einsum("ij,kj->ik", logits, logits).masked_fill(~mask, float("-inf")).softmax(-1)
loss = -picked.sum() + top_v.sum() + (att**2).sum() + (onehot * logits).sum()
loss.backward()
print(
    "RESULT",
    json.dumps(
        {
            "top_i": top_i.tolist(),
            "sorted_i": sorted_i.tolist(),
            "kept": (~remove).sum().item(),
            "finite": torch.isfinite(filtered).sum().item(),
            "loss": loss.item(),
            "grad": logits.grad.tolist(),
            "argwhere": torch.nonzero(onehot).tolist(),
        }
    ),
)
