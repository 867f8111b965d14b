"""A Dataset with a Python __getitem__, DataLoader with num_workers=2 and a custom collate_fn."""

import json

import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset, random_split


class Sequences(Dataset):
    def __init__(self, n):
        self.n = n

    def __len__(self):
        return self.n

    def __getitem__(self, idx):
        length = 2 + idx % 5
        seq = np.arange(length, dtype=np.float32) + idx
        return {"seq": seq, "label": idx % 3}


def pad_collate(batch):
    longest = max(len(b["seq"]) for b in batch)
    x = torch.zeros(len(batch), longest)
    for i, b in enumerate(batch):
        x[i, : len(b["seq"])] = torch.tensor(b["seq"])
    y = torch.tensor([b["label"] for b in batch])
    return x, y


if __name__ == "__main__":
    ds = Sequences(40)
    train, val = random_split(ds, [30, 10], generator=torch.Generator().manual_seed(0))
    loader = DataLoader(
        ds,
        batch_size=8,
        shuffle=False,
        num_workers=2,
        collate_fn=pad_collate,
        pin_memory=True,
        persistent_workers=False,
    )
    sums, shapes = [], []
    for x, y in loader:
        sums.append(float(x.sum()))
        shapes.append(list(x.shape))
    default = next(iter(DataLoader([ds[i] for i in (0, 5, 10, 15)], batch_size=4)))
    print(
        "RESULT",
        json.dumps(
            {
                "sums": sums,
                "shapes": shapes,
                "split": [len(train), len(val)],
                "default_keys": sorted(default.keys()),
                "labels": default["label"].tolist(),
            }
        ),
    )
