"""``gf.train.run``: the library call behind ``gradfit train`` (resume, fine-tune, checks)."""

from __future__ import annotations

import dataclasses
import json
import os

import numpy as np
import pytest

import gradfit as gf
from gradfit.cli.main import UsageError, main
from gradfit.train import load_checkpoint

# small and fast; a constant lr so that a 2+2-epoch run can equal a 4-epoch one
FAST = {"hidden": "32", "no_baselines": True, "schedule": "none", "dropout": 0.3}


def test_resume_equals_an_uninterrupted_run(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    first = gf.train.run({**FAST, "epochs": 2, "out": str(a)})
    assert first.epochs == 2 and first.out == a
    resumed = gf.train.run({"resume": str(a), "epochs": 4, "no_baselines": True})
    straight = gf.train.run({**FAST, "epochs": 4, "out": str(b)})
    assert resumed.epochs == straight.epochs == 4 and resumed.out == a
    ca, cb = (
        load_checkpoint(a / "checkpoint.safetensors"),
        load_checkpoint(b / "checkpoint.safetensors"),
    )
    for k, v in cb.model_state.items():
        np.testing.assert_array_equal(ca.model_state[k], v, err_msg=k)
    assert resumed.metrics == straight.metrics

    def no_time(rows):
        return [{k: v for k, v in row.items() if k != "time"} for row in rows]

    assert no_time(resumed.history.rows) == no_time(straight.history.rows)
    # the result's model is the trained one: it gives the reported test accuracy
    data = gf.data.load_dataset("digits")
    resumed.model.eval()
    with gf.no_grad():
        pred = resumed.model(gf.tensor(data.test.x)).numpy().argmax(1)
    assert float((pred == data.test.y).mean()) == pytest.approx(resumed.metrics["test_accuracy"])


def test_a_dataclass_config_and_a_resume_that_changes_settings_is_refused(tmp_path):
    @dataclasses.dataclass
    class Config:
        epochs: int = 1
        hidden: str = "16"
        no_baselines: bool = True
        out: str = str(tmp_path / "r")

    r = gf.train.run(Config())
    assert r.config["hidden"] == [16] and (r.out / "metrics.json").is_file()
    with pytest.raises(UsageError, match="--lr"):
        gf.train.run({"resume": str(r.out), "epochs": 2, "lr": 0.5})
    with pytest.raises(UsageError, match="unknown option 'epoch'.*epochs"):
        gf.train.run({"epoch": 2})


@pytest.mark.parametrize("which", ["empty prefix", "every layer"])
def test_freeze_that_leaves_nothing_to_train_is_refused(tmp_path, which, capsys):
    base = gf.train.run({**FAST, "epochs": 1, "out": str(tmp_path / "base")})
    names = [n for n, _ in base.model.named_parameters()]
    prefixes = [""] if which == "empty prefix" else sorted({n.split(".")[0] for n in names})
    out = tmp_path / "ft"
    with pytest.raises(UsageError, match="--freeze"):
        gf.train.run({"init_from": str(base.out), "freeze": prefixes, "epochs": 1, "out": str(out)})
    assert not out.exists()
    args = ["train", "--init-from", str(base.out), "--quiet", "--out", str(out)]
    for p in prefixes:
        args += ["--freeze", p]
    assert main(args) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and "--freeze" in err


def test_a_held_lock_makes_a_second_train_exit_2(tmp_path, capsys):
    from gradfit.fileio import run_lock

    out = tmp_path / "run"
    with run_lock(out):  # another live process (this one) writes the run
        code = main(["train", "--quiet", "--no-baselines", "--epochs", "1", "--out", str(out)])
    err = capsys.readouterr().err
    assert code == 2, err
    assert len(err.strip().splitlines()) == 1 and f"pid {os.getpid()}" in err
    assert not (out / "checkpoint.safetensors").exists()


def test_predict_takes_raw_digits_pixels(tmp_path, capsys):
    run = gf.train.run({**FAST, "epochs": 2, "out": str(tmp_path / "r")})
    ckpt = load_checkpoint(run.out / "checkpoint.safetensors")
    assert ckpt.meta["config"]["preprocess"] == {"scale": 1 / 16}
    raw = gf.data.load_dataset("digits", normalize=False)
    scaled = gf.data.load_dataset("digits")
    assert raw.test.x.max() == 16  # the same split, unscaled
    np.save(tmp_path / "raw.npy", raw.test.x)
    assert main(["predict", str(run.out), str(tmp_path / "raw.npy")]) == 0
    lines = capsys.readouterr().out.strip().splitlines()[1:]
    classes = [int(line.split(",")[0]) for line in lines]
    run.model.eval()
    with gf.no_grad():
        want = run.model(gf.tensor(scaled.test.x)).numpy().argmax(1)
    assert classes == want.tolist()


def _write_csv(path, header, rows):
    path.write_text(",".join(header) + "\n" + "".join(",".join(map(str, r)) + "\n" for r in rows))


def test_predict_on_a_csv_matches_columns_by_name(tmp_path, capsys):
    rng = np.random.default_rng(0)
    n = 120
    a, b = rng.normal(size=n), rng.normal(size=n) * 3
    colour = rng.choice(["red", "blue"], size=n)
    label = np.where(a + b / 3 + (colour == "red") > 0.5, "yes", "no")
    header = ["a", "colour", "b", "label"]
    rows = [[f"{a[i]:.4f}", colour[i], f"{b[i]:.4f}", label[i]] for i in range(n)]
    _write_csv(tmp_path / "t.csv", header, rows)
    out = tmp_path / "r"
    args = ["train", "--data", "csv", "--path", str(tmp_path / "t.csv"), "--target", "label"]
    assert (
        main(
            [
                *args,
                "--epochs",
                "3",
                "--hidden",
                "8",
                "--no-baselines",
                "--quiet",
                "--out",
                str(out),
            ]
        )
        == 0
    )
    meta = load_checkpoint(out / "checkpoint.safetensors").meta["config"]["preprocess"]
    assert meta["target"] == "label" and [c["name"] for c in meta["columns"]] == [
        "a",
        "colour",
        "b",
    ]
    capsys.readouterr()
    _write_csv(tmp_path / "same.csv", ["a", "colour", "b"], [r[:3] for r in rows[:20]])
    _write_csv(
        tmp_path / "moved.csv", ["b", "a", "colour"], [[r[2], r[0], r[1]] for r in rows[:20]]
    )
    assert main(["predict", str(out), str(tmp_path / "same.csv")]) == 0
    same = capsys.readouterr().out
    assert main(["predict", str(out), str(tmp_path / "moved.csv")]) == 0
    assert capsys.readouterr().out == same and len(same.splitlines()) == 21
    _write_csv(tmp_path / "less.csv", ["a", "colour"], [r[:2] for r in rows[:3]])
    assert main(["predict", str(out), str(tmp_path / "less.csv")]) == 2
    assert "no column(s) 'b'" in capsys.readouterr().err


def test_report_shows_test_metrics(tmp_path):
    r = gf.train.run({**FAST, "epochs": 1, "report": True, "out": str(tmp_path / "r")})
    html = (r.out / "report.html").read_text()
    assert f"{r.metrics['test_accuracy']:.4f}"[:4] in html
    assert (
        json.loads((r.out / "metrics.json").read_text())["test_accuracy"]
        == r.metrics["test_accuracy"]
    )


def test_a_language_model_run_reports_perplexity_and_count_baselines(tmp_path, capsys):
    cfg = {"data": "names", "model": "char_lm", "arch": "bigram", "epochs": 1}
    cfg |= {"optimizer": "adam", "lr": 0.01, "batch_size": 1024, "out": str(tmp_path / "r")}
    lines: list[str] = []
    r = gf.train.run(cfg, log=lines.append)
    assert r.metrics["test_perplexity"] == pytest.approx(np.exp(r.metrics["test_loss"]))
    data = gf.data.load_dataset("names", block_size=r.config["block_size"])
    want = gf.models.ngram_losses(data)
    rows = {row["name"]: row["loss"] for row in r.baselines}
    assert rows == pytest.approx(
        {"unigram counts": want["unigram"], "bigram counts": want["bigram"]}
    )
    assert "logistic regression" not in "\n".join(lines)  # no scikit-learn on token indices
    assert any("nats/char" in line and "perplexity" in line for line in lines)
    meta = load_checkpoint(r.out / "checkpoint.safetensors").meta["config"]
    assert meta["vocab"] == data.description.extra["vocab"]
    capsys.readouterr()
    assert main(["sample", str(r.out), "--n", "3"]) == 0  # reads the recorded vocabulary
    assert len(capsys.readouterr().out.splitlines()) == 3


def test_the_cnn_default_lr_applies_only_when_lr_and_optimizer_are_not_given():
    from gradfit.train.run import MODEL_DEFAULT_LR, RUN_OPTIONS, _resolve

    def lr(**flags):
        return _resolve(flags, dict(RUN_OPTIONS))[0]["lr"]

    assert lr(model="cnn") == MODEL_DEFAULT_LR["cnn"] < lr(model="mlp") == 0.1
    assert lr(model="cnn", lr=0.1) == 0.1
    assert lr(model="cnn", optimizer="adam") == 0.1  # another optimizer: no cnn-SGD default


def test_a_collapse_with_early_stopping_stops_and_restores_the_best_epoch():
    import io
    from types import SimpleNamespace

    from gradfit.train import CollapseWarning, EarlyStopping
    from gradfit.train.run import _StopOnCollapse

    model = gf.nn.Linear(2, 2)
    best = {k: np.array(v, copy=True) for k, v in model.state_dict().items()}
    trainer = SimpleNamespace(model=model, stop_training=False, epoch=1, log=lambda m: None)
    collapse = CollapseWarning(chance=0.25, stream=io.StringIO())
    stopper = EarlyStopping("val_loss", patience=10)
    cbs = [collapse, stopper, _StopOnCollapse(collapse, stopper)]
    for cb in cbs:
        cb.on_epoch_end(trainer, {"epoch": 1, "val_loss": 0.3, "val_accuracy": 0.9})
    assert not trainer.stop_training
    with gf.no_grad():
        model.weight.fill_(5.0)  # the collapsed epoch's weights
    trainer.epoch = 2
    for cb in cbs:
        cb.on_epoch_end(trainer, {"epoch": 2, "val_loss": 0.9, "val_accuracy": 0.25})
    assert trainer.stop_training and stopper.stopped_epoch == 2 and collapse.warnings
    stopper.on_fit_end(trainer)
    np.testing.assert_array_equal(model.weight.numpy(), best["weight"])
