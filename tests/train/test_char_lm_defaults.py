"""char_lm's per-arch training defaults, and the neural bigram against the bigram counts.

The full claim (every arch below the bigram counts on names, the transformer lowest) takes
minutes per arch: benchmarks/seq_results.py measures it. Here the cheap part: the bigram
arch, trained with its defaults exactly as ``gradfit train`` does, reaches the count
bigram's test loss, on the same test examples (boundary token included).
"""

import numpy as np
import pytest

import gradfit as gf
from gradfit.train.run import CHAR_LM_DEFAULTS, RUN_OPTIONS, _resolve


def _cfg(**flags):
    return _resolve(flags, dict(RUN_OPTIONS))[0]


@pytest.mark.parametrize("arch", sorted(CHAR_LM_DEFAULTS))
def test_each_arch_gets_its_defaults_unless_given(arch):
    want = CHAR_LM_DEFAULTS[arch]
    cfg = _cfg(model="char_lm", arch=arch)
    assert {k: cfg[k] for k in want} == want
    given = _cfg(model="char_lm", arch=arch, lr=0.5, epochs=1, dropout=0.3)
    assert (given["lr"], given["epochs"], given["dropout"]) == (0.5, 1, 0.3)
    assert given["batch_size"] == want["batch_size"]
    # another optimizer than the tuned one: its lr is not the tuned optimizer's
    assert _cfg(model="char_lm", arch=arch, optimizer="sgd")["lr"] == _cfg()["lr"]
    assert _cfg(model="mlp")["optimizer"] == "sgd"  # other models keep the global defaults


def test_the_neural_bigram_reaches_the_count_bigram(tmp_path):
    r = gf.train.run({"data": "names", "model": "char_lm", "arch": "bigram", "out": str(tmp_path)})
    counts = {row["name"]: row["loss"] for row in r.baselines}
    loss = r.metrics["test_loss"]
    # at most the add-one counts' loss (it was 0.01-0.05 above it at the old lr 3e-3) ...
    assert loss < counts["bigram counts"] < counts["unigram counts"]
    # ... and within 0.01 of the best add-k smoothing on the test set itself: the same
    # examples, scored the same way (a missing end token or another split would show here)
    data = gf.data.load_dataset("names", block_size=r.config["block_size"])
    best = min(gf.models.ngram_losses(data, alpha=a)["bigram"] for a in np.logspace(-3, 1, 13))
    assert best - 0.01 < loss


@pytest.mark.parametrize("dropout", [0.0, 0.2, 0.35])
def test_the_given_dropout_reaches_the_transformer(dropout):
    from gradfit.cli import common

    cfg = _cfg(data="names", model="char_lm", arch="transformer", dropout=dropout)
    mcfg = common.model_config_for(cfg, common.load_data(cfg))
    assert mcfg["dropout"] == dropout  # 0.2, the global default, once meant "not given"
    default = _cfg(data="names", model="char_lm", arch="transformer")
    assert default["dropout"] == CHAR_LM_DEFAULTS["transformer"]["dropout"]
