"""makemore-style bigram: counts with N[i, j] += 1, normalise, sample with multinomial."""

import json

import torch

words = [
    "emma",
    "olivia",
    "ava",
    "isabella",
    "sophia",
    "mia",
    "amelia",
    "harper",
    "evelyn",
    "abigail",
]
chars = sorted(set("".join(words)))
stoi = {s: i + 1 for i, s in enumerate(chars)}
stoi["."] = 0
n = len(stoi)
N = torch.zeros((n, n), dtype=torch.int32)
for w in words:
    chs = ["."] + list(w) + ["."]
    for ch1, ch2 in zip(chs, chs[1:]):
        N[stoi[ch1], stoi[ch2]] += 1
P = (N + 1).float()
P /= P.sum(1, keepdims=True)
g = torch.Generator().manual_seed(2147483647)
name = []  # one name, drawn a character at a time as in the lecture
ix = 0
while len(name) < 20:
    ix = torch.multinomial(P[ix], num_samples=1, replacement=True, generator=g).item()
    if ix == 0:
        break
    name.append(ix)
draws = torch.multinomial(P[0], num_samples=50000, replacement=True, generator=g)
counts = torch.bincount(draws, minlength=n)
nll = 0.0
k = 0
for w in words:
    chs = ["."] + list(w) + ["."]
    for ch1, ch2 in zip(chs, chs[1:]):
        nll += -torch.log(P[stoi[ch1], stoi[ch2]]).item()
        k += 1
freq = (counts.float() / counts.sum()).tolist()
# tolerance: 1e-5 0.008
print(
    "RESULT",
    json.dumps(
        {
            "N_sum": int(N.sum().item()),
            "nll": nll / k,
            "freq": freq,
            "name_ok": all(0 < c < n for c in name),
        }
    ),
)
