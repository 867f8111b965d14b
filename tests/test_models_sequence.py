"""Sequence models, the text datasets and the n-gram baselines."""

from __future__ import annotations

import numpy as np
import pytest

import gradfit as gf
import gradfit.nn.functional as F
from gradfit.data.datasets.text import encode, from_words, load_text
from gradfit.models_sequence import ngram_losses, sample_chars


def test_encode_frames_words_with_the_boundary():
    x, y = encode(["ab", "b"], (".", "a", "b"), 2)
    assert x.tolist() == [[0, 0], [0, 1], [1, 2], [0, 0], [0, 2]]
    assert y.tolist() == [1, 2, 0, 2, 0]


def test_names_dataset_splits_words_not_examples():
    ds = gf.data.load_dataset("names", block_size=4)
    words = ds.extras["words"]
    assert not set(words["train"]) & set(words["test"])
    assert ds.num_classes == 27 and ds.train.x.shape[1] == 4
    assert sum(len(w) + 1 for w in words["test"]) == ds.sizes["test"]
    assert ds.train.x.max() < 27 and ds.train.y.dtype == np.int64


def test_text_file_dataset_and_its_errors(tmp_path):
    p = tmp_path / "w.txt"
    p.write_text("héllo\nworld\n\nhi\n", encoding="utf-8")
    ds = load_text(p, block_size=3, val_fraction=0.0, test_fraction=0.0)
    assert ds.description.classes[0] == "." and "é" in ds.description.classes
    assert ds.sizes["train"] == 6 + 6 + 3
    bad = tmp_path / "bad.txt"
    bad.write_text("a.b\n")
    with pytest.raises(ValueError, match="line 1"):
        load_text(bad)
    with pytest.raises(FileNotFoundError, match="does not exist"):
        load_text(tmp_path / "missing.txt")
    empty = tmp_path / "e.txt"
    empty.write_text("\n\n")
    with pytest.raises(ValueError, match="no non-empty lines"):
        load_text(empty)
    with pytest.raises(ValueError, match="block_size"):
        from_words(["a"], "t", "s", "l", block_size=0)


def test_ngram_baselines_are_proper_losses():
    ds = from_words(
        ["ab", "ab", "ab", "ba"], "toy", "s", "l", block_size=2, val_fraction=0.0, test_fraction=0.0
    )
    losses = ngram_losses(ds, split="train", alpha=1e-9)
    # bigram on a deterministic-ish toy set: after 'a' comes 'b' 3 times of 4
    assert losses["bigram"] < losses["unigram"] < np.log(3) + 1e-9


@pytest.mark.parametrize("arch", ["bigram", "mlp", "rnn", "gru", "transformer"])
def test_every_arch_learns_and_beats_the_unigram_on_a_small_set(arch):
    words = ["anna", "hannah", "bob", "otto", "ada", "eve", "abba"] * 20
    ds = from_words(words, "toy", "s", "l", block_size=4, val_fraction=0.0, test_fraction=0.0)
    gf.manual_seed(0)
    m = gf.models.char_lm(
        vocab_size=ds.num_classes, block_size=4, arch=arch, embed=16, hidden=32, layers=1, heads=2
    )
    opt = gf.optim.Adam(m.parameters(), lr=0.02)
    x, y = gf.tensor(ds.train.x), gf.tensor(ds.train.y)
    for _ in range(60):
        loss = F.cross_entropy(m(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
    base = ngram_losses(ds, split="train")
    assert float(loss) < base["unigram"] - 0.3
    if arch != "bigram":  # the others see more than one character
        assert float(loss) < base["bigram"]
    words_out = sample_chars(m, ds.description.extra["vocab"], n=5, temperature=0.5, seed=0)
    assert len(words_out) == 5 and all(set(w) <= set("anhbotdev") for w in words_out)
    assert words_out == sample_chars(m, ds.description.extra["vocab"], n=5, temperature=0.5, seed=0)


def test_models_round_trip_through_the_registry_and_refuse_bad_input():
    for name, kw in [("gru", {"hidden": 8}), ("lstm", {"hidden": 8}), ("char_lm", {"arch": "gru"})]:
        m = gf.models.build_model({"name": name, **kw})
        twin = gf.models.load_model(m.config, m.state_dict())
        x = gf.zeros(2, 8, dtype="int64") if name == "char_lm" else gf.randn(2, 40)
        np.testing.assert_array_equal(m(x).numpy(), twin(x).numpy())
    with pytest.raises(ValueError, match="did you mean 'transformer'"):
        gf.models.char_lm(arch="transfomer")
    with pytest.raises(ValueError, match="expected"):
        gf.models.char_lm(block_size=8)(gf.zeros(2, 5, dtype="int64"))
    with pytest.raises(ValueError):
        gf.models.gru()(gf.randn(2, 40, 3))
    with pytest.raises(ValueError, match="temperature"):
        sample_chars(gf.models.char_lm(arch="bigram"), ".abc", temperature=0)


def test_gru_classifier_reads_cnn_layout_too():
    m = gf.models.gru(in_length=10, hidden=4)
    x = gf.randn(3, 10)
    np.testing.assert_allclose(m(x).numpy(), m(x.reshape(3, 1, 10)).numpy(), rtol=1e-6)
