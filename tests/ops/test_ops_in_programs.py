"""The new ops as real programs combine them (causal attention with einsum/tril/masked_fill,
top-k and nucleus filtering with topk/sort/cumsum/scatter, a gather-based loss, a one-hot
via scatter_), run once with torch and once with gradfit as ``torch``: same results and
gradients."""

from __future__ import annotations

import numpy as np
import torch as real_torch

import gradfit


def program(torch, x_np, logits_np, targets_np):  # the module is a parameter: torch or gradfit
    B, T, C = x_np.shape
    x = torch.tensor(x_np, requires_grad=True)
    att = torch.einsum("btc,bsc->bts", x, x) * (1.0 / C**0.5)
    mask = torch.tril(torch.ones(T, T))
    att = att.masked_fill(mask == 0, float("-inf"))
    att = torch.softmax(att, dim=-1)
    y = att @ x

    logits = torch.tensor(logits_np, requires_grad=True)
    v, _ = torch.topk(logits, 3)
    filtered = logits.masked_fill(logits < v[:, [-1]], float("-inf"))
    probs = torch.softmax(filtered, dim=-1)
    sorted_probs, sorted_idx = torch.sort(probs, descending=True)
    cum = torch.cumsum(sorted_probs, dim=-1)
    remove_sorted = cum > 0.8
    remove = remove_sorted.scatter(1, sorted_idx, remove_sorted)
    nucleus = probs.masked_fill(remove, 0.0)

    targets = torch.tensor(targets_np)
    picked = torch.gather(torch.log_softmax(logits, dim=-1), 1, targets.unsqueeze(1)).squeeze(1)
    onehot = torch.zeros(B, logits_np.shape[1]).scatter_(1, targets.unsqueeze(1), 1.0)
    loss = -picked.mean() + y.pow(2).mean()
    loss = (
        loss + (nucleus * onehot).sum() + torch.index_select(y, 1, torch.tensor([0, T - 1])).sum()
    )
    loss.backward()
    return [loss, y, nucleus, remove, onehot, x.grad, logits.grad]


def test_program_runs_the_same():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((2, 4, 3))
    logits = rng.standard_normal((2, 6))
    targets = np.array([1, 4], np.int64)
    ours = program(gradfit, x, logits, targets)
    theirs = program(real_torch, x, logits, targets)
    for i, (g, t) in enumerate(zip(ours, theirs, strict=True)):
        tn = t.detach().numpy()
        assert g.shape == tn.shape and g.dtype == tn.dtype, (
            i,
            g.shape,
            tn.shape,
            g.dtype,
            tn.dtype,
        )
        np.testing.assert_allclose(g.numpy(), tn, rtol=1e-6, atol=1e-9, err_msg=f"result {i}")
