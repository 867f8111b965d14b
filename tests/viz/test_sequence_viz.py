"""Unrolled RNN graphs and attention maps."""

from __future__ import annotations

import numpy as np
import pytest

import gradfit as gf


def test_unrolled_rnn_shares_w_hh_across_steps():
    g = gf.viz.unrolled_rnn(steps=4)
    assert g.dot.count("Tanh") == 4
    assert g.dot.count("W_hh") == 1  # one leaf, used at every step
    with pytest.raises(ValueError, match="steps"):
        gf.viz.unrolled_rnn(steps=0)


def test_attention_maps_are_causal_distributions_and_match_the_model():
    gf.manual_seed(0)
    m = gf.models.char_lm(arch="transformer", block_size=5, embed=8, heads=2, layers=2)
    x = gf.tensor([0, 3, 1, 4, 2])
    maps = gf.viz.attention_maps(m, x)
    assert maps.shape == (2, 2, 5, 5)
    np.testing.assert_allclose(maps.sum(-1), 1.0, rtol=1e-5)
    assert np.all(np.triu(maps, k=1) == 0)  # no query looks at a later key
    before = m(x.unsqueeze(0)).numpy()
    np.testing.assert_array_equal(before, m(x.unsqueeze(0)).numpy())  # hooks are gone
    fig = gf.viz.plot_attention(maps, ".cadb")
    assert len(fig.axes) == 4
    with pytest.raises(ValueError, match="TransformerEncoderLayer"):
        gf.viz.attention_maps(gf.models.char_lm(arch="gru"), gf.zeros(8, dtype="int64"))
