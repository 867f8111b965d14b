"""char_lm's transformer trained on every position of its window (GPT style), through the
Trainer's ``training_loss`` protocol; validation and test losses stay the last position's."""

from __future__ import annotations

import numpy as np
import pytest

import gradfit as gf
from gradfit.cli.main import UsageError
from gradfit.train.run import RUN_OPTIONS, _resolve


def _model(arch="transformer", every=True):
    gf.manual_seed(0)
    m = gf.models.char_lm(vocab_size=6, block_size=4, arch=arch, embed=8, hidden=8, heads=2)
    m.every_position = every
    return m


def _log_softmax(z):
    z = z - z.max(-1, keepdims=True)
    return z - np.log(np.exp(z).sum(-1, keepdims=True))


def test_every_position_loss_is_the_mean_over_positions_whose_context_began():
    m = _model()
    x = gf.tensor([[0, 0, 0, 2], [0, 3, 4, 1], [5, 1, 2, 3]])
    y = gf.tensor([4, 0, 2])
    out, loss = m.training_loss(x, y, gf.nn.CrossEntropyLoss())
    with gf.no_grad():
        logits = m.out(m.norm(m._blocks(x))).numpy()  # (3, 4, 6)
    window = np.concatenate([x.numpy(), y.numpy()[:, None]], axis=1)
    terms = []
    for i in range(3):
        for t in range(4):
            if not (window[i, : t + 2] == 0).all():  # padding predicting padding is skipped
                terms.append(-_log_softmax(logits[i, t])[window[i, t + 1]])
    assert len(terms) == 3 + 3 + 4  # the first row's first two positions are padding
    np.testing.assert_allclose(loss.item(), np.mean(terms), rtol=1e-5)
    np.testing.assert_allclose(out.detach().numpy(), logits[:, -1], rtol=1e-5, atol=1e-6)
    loss.backward()
    assert all(p.grad is not None for p in m.parameters())


@pytest.mark.parametrize("arch,every", [("transformer", False), ("gru", True), ("mlp", True)])
def test_otherwise_the_loss_is_the_last_positions(arch, every):
    m = _model(arch, every)
    m.eval()  # no dropout: the two forwards agree
    x, y = gf.tensor([[0, 1, 2, 3], [4, 5, 0, 1]]), gf.tensor([1, 2])
    out, loss = m.training_loss(x, y, gf.nn.CrossEntropyLoss())
    np.testing.assert_allclose(out.detach().numpy(), m(x).detach().numpy())
    np.testing.assert_allclose(loss.item(), gf.nn.functional.cross_entropy(m(x), y).item())


def test_the_trainer_trains_on_training_loss_and_evaluates_on_forward():
    class Probe(gf.nn.Module):
        def __init__(self):
            super().__init__()
            self.lin = gf.nn.Linear(2, 2)
            self.calls = 0

        def forward(self, x):
            return self.lin(x)

        def training_loss(self, x, y, loss_fn):
            self.calls += 1
            out = self(x)
            return out, loss_fn(out, y) * 0.0 + 7.0 + (out * 0).sum()

    m = Probe()
    x, y = gf.randn(8, 2), gf.tensor([0, 1] * 4)
    loader = [(x, y)]
    opt = gf.optim.SGD(m.parameters(), lr=0.1)
    t = gf.train.Trainer(m, gf.nn.CrossEntropyLoss(), opt, callbacks=[])
    logs = t.train_epoch(loader)
    assert m.calls == 1 and logs["loss"] == pytest.approx(7.0)
    assert t.evaluate(loader)["loss"] == pytest.approx(
        gf.nn.functional.cross_entropy(m(x), y).item()
    )


def _cfg(**flags):
    return _resolve(flags, dict(RUN_OPTIONS))[0]


def test_the_transformer_trains_on_every_position_by_default_and_the_flag_turns_it_off():
    assert _cfg(model="char_lm", arch="transformer")["every_position"] is True
    assert (
        _cfg(model="char_lm", arch="transformer", every_position=False)["every_position"] is False
    )
    assert _cfg(model="char_lm", arch="gru")["every_position"] is False


@pytest.mark.parametrize("flags", [{"model": "char_lm", "arch": "gru"}, {"model": "mlp"}])
def test_every_position_is_refused_where_no_causal_model_predicts_at_every_position(flags):
    with pytest.raises(
        UsageError, match="--every-position needs --model char_lm --arch transformer"
    ):
        _cfg(every_position=True, **flags)


def test_a_run_sets_the_objective_on_the_model(tmp_path):
    cfg = {"data": "names", "model": "char_lm", "arch": "transformer", "epochs": 1,
           "layers": 1, "embedding_dim": 8, "no_baselines": True, "out": str(tmp_path / "r")}  # fmt: skip
    r = gf.train.run(cfg)
    assert r.model.every_position is True and r.config["every_position"] is True
    assert np.isfinite(r.metrics["test_loss"])
