"""``gradfit viz attention``: the attention maps of a trained char_lm transformer on one text."""

import numpy as np
import pytest
from PIL import Image

from gradfit.cli.main import main

WORDS = ["anna", "bob", "eve", "otto", "ada", "abba", "nan", "bab", "dad", "ede"]


def _train(tmp_path, arch):
    """A tiny char_lm run on a word list (one epoch, well under a second)."""
    import gradfit as gf

    words = tmp_path / "words.txt"
    words.write_text("\n".join(WORDS) + "\n")
    out = tmp_path / arch
    gf.train.run({
        "data": "text", "path": str(words), "model": "char_lm", "arch": arch,
        "block_size": 4, "embedding_dim": 8, "heads": 2, "layers": 1, "hidden": "8",
        "epochs": 1, "batch_size": 8, "val_fraction": 0.0, "no_baselines": True, "out": str(out),
    })  # fmt: skip
    return out


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("attn")
    return {arch: _train(tmp, arch) for arch in ("transformer", "gru")}


def test_writes_the_maps_of_each_block_and_head(runs, tmp_path, capsys):
    import gradfit as gf
    from gradfit.cli import common
    from gradfit.viz.sequence import attention_maps

    out = tmp_path / "a.png"
    assert (
        main(["viz", "attention", str(runs["transformer"]), "--text", "ab", "--out", str(out)]) == 0
    )
    im = Image.open(out)
    assert im.format == "PNG" and np.asarray(im.convert("L")).std() > 5
    assert "1 blocks x 2 heads, context '..ab'" in capsys.readouterr().out
    # the figure shows the run's own maps for the padded context '..ab'
    _, model, vocab = common.char_lm_from_checkpoint(str(runs["transformer"]), "test")
    maps = attention_maps(model, gf.tensor([vocab.index(c) for c in "..ab"]))
    assert maps.shape == (1, 2, 4, 4)
    np.testing.assert_allclose(maps.sum(-1), 1.0, rtol=1e-5)
    assert np.all(np.triu(maps[0, 0], k=1) == 0)  # causal: no weight on later positions
    svg = tmp_path / "a.svg"
    assert (
        main(["viz", "attention", str(runs["transformer"]), "--text", "abba", "--out", str(svg)])
        == 0
    )
    assert svg.read_text().lstrip().startswith("<?xml")


@pytest.mark.parametrize(
    ("which", "text", "msg"),
    [
        ("gru", "ab", "arch 'gru', which has no attention"),
        ("transformer", "aZb", "'Z' not in the run's vocabulary"),
        ("transformer", "abbab", "5 characters, but the model reads at most 4"),
        ("missing", "ab", "missing"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(runs, tmp_path, capsys, which, text, msg):
    run = runs.get(which, tmp_path / "missing")
    out = tmp_path / "a.png"
    assert main(["viz", "attention", str(run), "--text", text, "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert msg in err and "Traceback" not in err and len(err.strip().splitlines()) == 1
    assert not out.exists()
