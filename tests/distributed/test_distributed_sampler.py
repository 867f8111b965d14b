"""DistributedSampler against torch's: same indices for the same seed, epoch, replicas, rank."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.utils.data as tud

import gradfit as gf
import gradfit.distributed as dist
from gradfit.data import ArrayDataset, DataLoader
from gradfit.distributed.sampler import torch_randperm


@pytest.mark.parametrize("n", [0, 1, 2, 7, 10, 33])
@pytest.mark.parametrize("seed", [0, 3, 2**40 + 5])
def test_randperm_matches_torch(n: int, seed: int) -> None:
    g = torch.Generator()
    g.manual_seed(seed)
    assert torch_randperm(n, seed).tolist() == torch.randperm(n, generator=g).tolist()


@pytest.mark.parametrize("n", [1, 5, 10, 11])
@pytest.mark.parametrize("replicas", [1, 2, 3, 4, 7])
@pytest.mark.parametrize("shuffle", [True, False])
@pytest.mark.parametrize("drop_last", [True, False])
def test_indices_match_torch(n: int, replicas: int, shuffle: bool, drop_last: bool) -> None:
    data = list(range(n))
    for rank in range(replicas):
        ours = dist.DistributedSampler(data, replicas, rank, shuffle, seed=9, drop_last=drop_last)
        theirs = tud.DistributedSampler(data, replicas, rank, shuffle, seed=9, drop_last=drop_last)
        for epoch in (0, 1, 5):
            ours.set_epoch(epoch)
            theirs.set_epoch(epoch)
            assert list(ours) == list(theirs), (rank, epoch)
            assert len(ours) == len(theirs)


def test_bad_rank_and_uninitialised_group_raise_like_torch() -> None:
    for rank in (-1, 2):
        with pytest.raises(ValueError, match="Invalid rank") as ours:
            dist.DistributedSampler(range(4), 2, rank)
        with pytest.raises(ValueError) as theirs:
            tud.DistributedSampler(range(4), 2, rank)
        assert str(ours.value) == str(theirs.value)
    with pytest.raises(RuntimeError, match="init_process_group"):
        dist.DistributedSampler(range(4))
    with pytest.raises(ValueError, match="num_replicas"):
        dist.DistributedSampler(range(4), 0, 0)


def test_works_as_a_dataloader_sampler() -> None:
    x = np.arange(10, dtype=np.float32)[:, None]
    ds = ArrayDataset(x, np.arange(10))
    seen = []
    for rank in range(2):
        s = dist.DistributedSampler(ds, 2, rank, seed=1)
        s.set_epoch(2)
        loader = DataLoader(ds, batch_size=2, sampler=s)
        seen += [int(v) for _, y in loader for v in y.tolist()]
    assert sorted(seen) == list(range(10))


def test_collectives_need_a_process_group() -> None:
    assert not dist.is_initialized()
    for call in (
        lambda: dist.all_reduce(gf.ones(2)),
        lambda: dist.broadcast(gf.ones(2), 0),
        dist.barrier,
        dist.get_rank,
    ):
        with pytest.raises(RuntimeError, match="init_process_group"):
            call()
    with pytest.raises(ValueError, match="backend 'nccl'"):
        dist.init_process_group("nccl")
