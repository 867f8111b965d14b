"""``gradfit train`` end to end: the default run's accuracy, outputs, resume, Ctrl-C, NaN guard, bad input.

The runs under test, and every resume (it must continue from the files alone), start a fresh
process as a user would (clirun.gradfit); set-up runs, such as a base to fine-tune or an
uninterrupted reference, run in this process (inproc.run_cli): each saves ~2.5 s of imports.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

from clirun import FAST, gradfit, gradfit_all
from gradfit.train import load_checkpoint
from inproc import run_cli


def test_default_run_reaches_97_percent_on_digits_and_writes_its_outputs(tmp_path):
    # one run as a user starts it (seed 0), with every output; four more seeds in-process
    t0 = time.perf_counter()
    r = gradfit("train", "--quiet", "--out", str(tmp_path / "run"))
    elapsed = time.perf_counter() - t0
    assert r.returncode == 0, r.stderr
    out = tmp_path / "run"
    metrics = json.loads((out / "metrics.json").read_text())
    assert len(metrics["history"]) == 30
    names = [b["name"] for b in metrics["baselines"]]
    assert {"majority class", "logistic regression", "decision tree", "random forest"} <= set(names)
    for f in (
        "checkpoint.safetensors",
        "history.csv",
        "loss.png",
        "accuracy.png",
        "confusion_matrix.png",
    ):
        assert (out / f).stat().st_size > 0, f
    assert "random forest" in r.stdout and "test_accuracy" in r.stdout
    assert (out / "history.csv").read_text().count("\n") == 31
    assert elapsed < 120  # the issue asks for < 60 s on an idle 2-core machine; CI shares it

    # the accuracy over seeds: the test split (359 images, 0.28 point each) changes with the
    # seed too. Measured on one machine: min 97.8 %, median 98.9 % over seeds 0-4; the bounds
    # leave 3 and 5 images of margin for other CPUs' rounding
    from gradfit.cli.main import main

    accs = [metrics["test_accuracy"]]
    for seed in range(1, 5):
        run = tmp_path / f"seed{seed}"
        code = main(["train", "--quiet", "--no-baselines", "--seed", str(seed), "--out", str(run)])
        assert code == 0
        accs.append(json.loads((run / "metrics.json").read_text())["test_accuracy"])
    assert min(accs) >= 0.965, accs
    assert float(np.median(accs)) >= 0.975, accs


def test_resume_to_six_epochs_equals_six_straight(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    # a schedule planned over --epochs would differ between a 3-epoch and a 6-epoch run: constant lr
    opts = ["--hidden", "32", "--no-baselines", "--quiet", "--dropout", "0.3", "--schedule", "none"]
    # the two plain runs in this process (cheap); the resume in a fresh one, as a user starts it,
    # so that everything it continues from must come from the files
    assert run_cli("train", *opts, "--epochs", "3", "--out", str(a)).returncode == 0
    r = gradfit("train", "--resume", str(a), "--epochs", "6", "--quiet", "--no-baselines")
    assert r.returncode == 0, r.stderr
    assert "resuming" in r.stdout
    assert run_cli("train", *opts, "--epochs", "6", "--out", str(b)).returncode == 0
    ca = load_checkpoint(a / "checkpoint.safetensors")
    cb = load_checkpoint(b / "checkpoint.safetensors")
    assert ca.meta["epoch"] == cb.meta["epoch"] == 6
    for k, v in cb.model_state.items():
        np.testing.assert_array_equal(ca.model_state[k], v, err_msg=k)
    ma = json.loads((a / "metrics.json").read_text())
    mb = json.loads((b / "metrics.json").read_text())
    assert ma["test_accuracy"] == mb["test_accuracy"]


def test_ctrl_c_saves_mid_epoch_and_the_resumed_run_equals_an_uninterrupted_one(tmp_path):
    out, straight = tmp_path / "run", tmp_path / "straight"
    opts = ["--quiet", "--no-baselines", "--epochs", "10", "--hidden", "256,256"]
    opts += ["--batch-size", "8", "--schedule", "cosine", "--dropout", "0.2"]
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    proc = subprocess.Popen(
        [sys.executable, "-m", "gradfit", "train", *opts, "--out", str(out)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        # as in a terminal: a test run started in the background (`cmd &` in a script) has
        # SIGINT ignored, the child inherits that, and Ctrl-C never reaches the trainer
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    for line in proc.stdout:
        if line.startswith("epoch 2/"):
            break
    time.sleep(0.05)  # into epoch 3
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert f"resume with: gradfit train --resume {out}" in err
    assert "after batch" in err and f"saved {out / 'checkpoint.safetensors'}" in err
    ck = load_checkpoint(out / "checkpoint.safetensors")
    assert ck.meta["epoch"] >= 2 and ck.meta["partial_epoch"] is not None

    r = gradfit("train", "--resume", str(out), "--quiet", "--no-baselines")
    assert r.returncode == 0, r.stderr
    # the uninterrupted run needs no fresh process: this one is cheaper
    assert run_cli("train", *opts, "--out", str(straight)).returncode == 0
    a = load_checkpoint(out / "checkpoint.safetensors")
    b = load_checkpoint(straight / "checkpoint.safetensors")
    assert a.meta["epoch"] == b.meta["epoch"] == 10 and a.meta["partial_epoch"] is None
    for k, v in b.model_state.items():
        np.testing.assert_array_equal(a.model_state[k], v, err_msg=k)


def test_diverging_loss_stops_with_a_clear_message(tmp_path):
    r = gradfit("train", *FAST, "--lr", "1e30", "--out", str(tmp_path / "run"))
    assert r.returncode == 2, r.stderr  # a diverged run: one line and exit 2, as bad usage
    assert "the loss became" in r.stderr and "last finite loss" in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1, r.stderr
    assert "Traceback" not in r.stderr


def test_fine_tune_from_checkpoint_with_frozen_layers(tmp_path):
    base = tmp_path / "base"
    assert run_cli("train", *FAST, "--out", str(base)).returncode == 0
    r = gradfit(
        "train",
        "--init-from",
        str(base),
        "--freeze",
        "fc1",
        "--quiet",
        "--no-baselines",
        "--epochs",
        "1",
        "--out",
        str(tmp_path / "ft"),
    )
    assert r.returncode == 0, r.stderr
    assert "frozen: fc1.weight, fc1.bias" in r.stdout
    b = load_checkpoint(base / "checkpoint.safetensors").model_state
    f = load_checkpoint(tmp_path / "ft" / "checkpoint.safetensors").model_state
    np.testing.assert_array_equal(b["fc1.weight"], f["fc1.weight"])
    assert not np.array_equal(b["out.weight"], f["out.weight"])


def test_config_file_with_flags_winning(tmp_path):
    cfg = tmp_path / "c.toml"
    cfg.write_text('hidden = "16"\nepochs = 1\nlr = 0.2\noptimizer = "adam"\n')
    r = gradfit(
        "train",
        "--config",
        str(cfg),
        "--lr",
        "0.01",
        "--no-baselines",
        "--quiet",
        "--out",
        str(tmp_path / "run"),
    )
    assert r.returncode == 0, r.stderr
    used = json.loads((tmp_path / "run" / "metrics.json").read_text())["config"]
    assert used["lr"] == 0.01 and used["optimizer"] == "adam" and used["hidden"] == [16]


BAD = [
    (["--data", "nope"], "--data: unknown dataset 'nope'; valid: "),
    (["--model", "nope"], "--model: unknown model 'nope'; valid: "),
    (["--optimizer", "nope"], "--optimizer: unknown optimizer 'nope'; valid: sgd, adam"),
    (["--schedule", "nope"], "--schedule: unknown schedule 'nope'"),  # + did you mean 'none'
    (["--lr", "-1"], "--lr must be a positive number"),
    (["--lr", "0"], "--lr must be a positive number"),
    (["--batch-size", "0"], "--batch-size must be a positive integer"),
    (["--epochs", "0"], "--epochs must be a positive integer"),
    (["--hidden", "12,abc"], "--hidden: expected comma-separated positive integers"),
    (["--hidden", "12,-3"], "--hidden: layer sizes must be positive integers"),
    (["--resume", "/nonexistent/run"], "no such file"),
    (["--config", "/nonexistent.toml"], "--config /nonexistent.toml: no such file"),
    (["--freeze", "fc1"], "--freeze needs --init-from"),
    (["--early-stopping", "-1"], "--early-stopping must be >= 0"),
    (["--embedding-dim", "0"], "--embedding-dim must be a positive integer"),
    (["--classes", "3,3"], "--classes: expected class labels such as 5-9 or 0,2,4"),
    (["--classes", "9-12"], "--classes: select_classes (digits): classes must be distinct labels"),
    (["--classes", "3"], "--classes: a classifier needs at least two classes, got '3'"),
    (["--classes", "0-99999999999"], "--classes: at most 100000 classes"),
    (["--model", "cnn", "--shift", "8"], "--shift 8: must be smaller than the image side (8)"),
    (
        ["--data", "sine", "--train-per-class", "3"],
        "--train-per-class: --data sine is a regression",
    ),
    (["--train-per-class", "0"], "--train-per-class must be a positive integer"),
    (["--train-per-class", "500"], "fewer than train_per_class=500"),
    (["--shift", "-1"], "--shift must be a non-negative integer"),
    (["--shift", "2"], "--shift 2: needs images (N, C, H, W) or sequences; --data digits"),
]


@pytest.fixture(scope="module")
def bad_runs(request, tmp_path_factory):
    """tuple(args) -> (the finished ``gradfit train *args --out OUT``, OUT) for the cases this
    session tests, two at a time."""
    cases = [
        tuple(item.callspec.params["args"])
        for item in request.session.items
        if getattr(item, "originalname", None)
        == "test_bad_input_is_one_line_exit_2_and_writes_nothing"
        and item.module is request.module
    ]
    outs = [tmp_path_factory.mktemp("bad") / "run" for _ in cases]
    runs = gradfit_all([["train", *a, "--out", str(o)] for a, o in zip(cases, outs, strict=True)])
    return dict(zip(cases, zip(runs, outs, strict=True), strict=True))


@pytest.mark.parametrize("args,message", BAD, ids=[" ".join(a) for a, _ in BAD])
def test_bad_input_is_one_line_exit_2_and_writes_nothing(bad_runs, args, message):
    r, out = bad_runs[tuple(args)]
    assert r.returncode == 2, (r.stdout, r.stderr)
    assert message in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1 and "Traceback" not in r.stderr
    assert not out.exists()


def test_bad_toml_files(tmp_path):
    bad_key = tmp_path / "k.toml"
    bad_key.write_text("learning_rate = 0.1\n")
    r = gradfit("train", "--config", str(bad_key))
    assert r.returncode == 2 and "unknown key 'learning_rate'" in r.stderr
    bad_type = tmp_path / "t.toml"
    bad_type.write_text('epochs = "ten"\n')
    r = gradfit("train", "--config", str(bad_type))
    assert r.returncode == 2 and "epochs must be int, got str 'ten'" in r.stderr
    broken = tmp_path / "b.toml"
    broken.write_text("epochs = \n")
    r = gradfit("train", "--config", str(broken))
    assert r.returncode == 2 and "not valid TOML" in r.stderr


def test_existing_checkpoint_is_not_overwritten(tmp_path):
    out = tmp_path / "run"
    assert run_cli("train", *FAST, "--out", str(out)).returncode == 0
    before = (out / "checkpoint.safetensors").read_bytes()
    r = gradfit("train", *FAST, "--out", str(out))
    assert r.returncode == 2 and "already holds a checkpoint" in r.stderr
    assert (out / "checkpoint.safetensors").read_bytes() == before


def test_corrupt_checkpoint_on_resume(tmp_path):
    out = tmp_path / "run"
    assert run_cli("train", *FAST, "--out", str(out)).returncode == 0
    ck = out / "checkpoint.safetensors"
    ck.write_bytes(ck.read_bytes()[:100])
    r = gradfit("train", "--resume", str(out))
    assert r.returncode == 2 and "truncated or corrupt" in r.stderr


def test_matrix_factorisation_beats_the_rating_baselines(tmp_path):
    out = tmp_path / "mf"
    r = gradfit(
        "train",
        "--data",
        "synthetic-ratings",
        "--model",
        "matrix_factorization",
        "--optimizer",
        "adam",
        "--lr",
        "0.02",
        "--weight-decay",
        "1e-4",
        "--embedding-dim",
        "4",
        "--epochs",
        "30",
        "--quiet",
        "--out",
        str(out),
    )
    assert r.returncode == 0, r.stderr
    m = json.loads((out / "metrics.json").read_text())
    base = {b["name"]: b["rmse"] for b in m["baselines"]}
    assert set(base) == {"global mean", "user/item bias"}
    assert m["test_rmse"] < 0.5 * min(base.values())
    assert "global mean" in r.stdout and "user/item bias" in r.stdout


def test_report_is_written_with_its_figures(tmp_path):
    out = tmp_path / "run"
    r = gradfit("train", *FAST, "--report", "--out", str(out))
    assert r.returncode == 0, r.stderr
    page = (out / "report.html").read_text()
    assert page.count("data:image/png;base64,") >= 3
    assert "test_accuracy" in page or "accuracy" in page


def test_out_that_is_a_file_is_refused(tmp_path):
    f = tmp_path / "afile"
    f.write_text("x")
    for out in (f, f / "sub"):
        r = gradfit("train", *FAST, "--out", str(out))
        assert r.returncode == 2 and "is not a directory" in r.stderr, r.stderr
    assert f.read_text() == "x"


def test_resume_into_another_run_dir_needs_overwrite(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    assert run_cli("train", *FAST, "--out", str(a)).returncode == 0
    assert run_cli("train", *FAST, "--out", str(b)).returncode == 0
    before = (b / "checkpoint.safetensors").read_bytes()
    r = gradfit(
        "train", "--resume", str(a), "--epochs", "3", "--quiet", "--no-baselines", "--out", str(b)
    )
    assert r.returncode == 2 and "already holds a checkpoint" in r.stderr
    assert (b / "checkpoint.safetensors").read_bytes() == before


def test_early_stopping_checkpoint_is_the_model_that_was_tested(tmp_path):
    out = tmp_path / "run"
    r = run_cli(  # in this process; the evaluation below in a fresh one, from the files
        "train",
        "--hidden",
        "32",
        "--no-baselines",
        "--quiet",
        "--epochs",
        "12",
        "--schedule",
        "none",
        "--lr",
        "0.5",
        "--early-stopping",
        "1",
        "--out",
        str(out),
    )
    assert r.returncode == 0, r.stderr
    saved = json.loads((out / "metrics.json").read_text())
    ev = gradfit("evaluate", str(out), "--json")
    assert json.loads(ev.stdout)["test_accuracy"] == pytest.approx(saved["test_accuracy"])


def test_resume_with_more_epochs_replans_the_schedule(tmp_path):
    run = tmp_path / "run"
    opts = ["--hidden", "16", "--no-baselines", "--quiet", "--lr", "0.1", "--schedule", "cosine"]
    assert run_cli("train", *opts, "--epochs", "3", "--out", str(run)).returncode == 0
    r = gradfit("train", "--resume", str(run), "--epochs", "6", "--quiet", "--no-baselines")
    assert r.returncode == 0, r.stderr
    assert "re-planned for 6" in r.stdout
    lrs = [row["lr"] for row in json.loads((run / "metrics.json").read_text())["history"]]
    # epochs 1-3 followed the 3-epoch cosine; 4-6 follow a 6-epoch cosine from its epoch 4
    want = [0.05 * (1 + np.cos(np.pi * e / 3)) for e in range(3)]
    want += [0.05 * (1 + np.cos(np.pi * e / 6)) for e in range(3, 6)]
    np.testing.assert_allclose(lrs, want, rtol=1e-6, atol=1e-12)


def test_fine_tune_on_other_classes_from_the_command_line(tmp_path):
    base, tuned = tmp_path / "base", tmp_path / "tuned"
    common = ["--model", "cnn", "--no-baselines", "--quiet"]
    r = run_cli("train", *common, "--classes", "0-4", "--epochs", "3", "--out", str(base))
    assert r.returncode == 0, r.stderr
    r = gradfit(
        "train",
        *common,
        "--classes",
        "5-9",
        "--train-per-class",
        "10",
        "--epochs",
        "10",
        "--init-from",
        str(base),
        "--freeze",
        "features",
        "--out",
        str(tuned),
    )
    assert r.returncode == 0, r.stderr
    # five classes both times, but other labels: the output layer must be new
    assert "new output layer for 5 classes" in r.stdout
    assert "(50 train /" in r.stdout
    b = load_checkpoint(base / "checkpoint.safetensors").model_state
    t = load_checkpoint(tuned / "checkpoint.safetensors").model_state
    frozen = [k for k in b if k.startswith("features")]
    assert frozen
    for k in frozen:
        np.testing.assert_array_equal(t[k], b[k], err_msg=k)
    head = [k for k in b if not k.startswith("features")]
    assert any(not np.array_equal(t[k], b[k]) for k in head)
    metrics = json.loads((tuned / "metrics.json").read_text())
    assert metrics["test_accuracy"] > 0.6  # 5 classes: chance is 0.2
    ev = gradfit("evaluate", str(tuned))
    assert ev.returncode == 0, ev.stderr
    assert f"{metrics['test_accuracy']:.4f}" in ev.stdout


def _idx(path, arr):
    import gzip
    import struct

    raw = bytes([0, 0, 8, arr.ndim]) + struct.pack(f">{arr.ndim}I", *arr.shape) + arr.tobytes()
    path.write_bytes(gzip.compress(raw))


@pytest.mark.parametrize("data", ["mnist", "fashion-mnist"])
def test_cnn_trains_on_mnist_files_as_images(tmp_path, data):
    folder = tmp_path / "files" / data
    folder.mkdir(parents=True)
    rng = np.random.default_rng(0)
    _idx(folder / "train-images-idx3-ubyte.gz", rng.integers(0, 256, (40, 28, 28), np.uint8))
    _idx(folder / "train-labels-idx1-ubyte.gz", (np.arange(40) % 10).astype(np.uint8))
    _idx(folder / "t10k-images-idx3-ubyte.gz", rng.integers(0, 256, (10, 28, 28), np.uint8))
    _idx(folder / "t10k-labels-idx1-ubyte.gz", (np.arange(10) % 10).astype(np.uint8))
    out = tmp_path / "run"
    r = gradfit(
        "train",
        "--data",
        data,
        "--data-dir",
        str(tmp_path / "files"),
        "--model",
        "cnn",
        "--epochs",
        "1",
        "--no-baselines",
        "--quiet",
        "--out",
        str(out),
    )
    assert r.returncode == 0, r.stderr
    cfg = load_checkpoint(out / "checkpoint.safetensors").meta["config"]
    assert cfg["input_shape"] == [1, 28, 28]


def test_a_fine_tuned_run_resumes_with_its_new_head_and_frozen_layers(tmp_path):
    base, a, b = tmp_path / "base", tmp_path / "a", tmp_path / "b"
    common = ["--model", "cnn", "--no-baselines", "--quiet", "--schedule", "none"]
    r = run_cli("train", *common, "--classes", "0-4", "--epochs", "2", "--out", str(base))
    assert r.returncode == 0, r.stderr
    tune = [*common, "--classes", "5-9", "--train-per-class", "10"]
    tune += ["--init-from", str(base), "--freeze", "features"]
    # the plain runs in this process; the resume in a fresh one, so it continues from the files
    assert run_cli("train", *tune, "--epochs", "2", "--out", str(a)).returncode == 0
    r = gradfit("train", "--resume", str(a), "--epochs", "4", "--quiet", "--no-baselines")
    assert r.returncode == 0, r.stderr
    assert "frozen: features" in r.stdout
    assert run_cli("train", *tune, "--epochs", "4", "--out", str(b)).returncode == 0
    sa = load_checkpoint(a / "checkpoint.safetensors").model_state
    sb = load_checkpoint(b / "checkpoint.safetensors").model_state
    first = load_checkpoint(base / "checkpoint.safetensors").model_state
    for k, v in sb.items():
        np.testing.assert_array_equal(sa[k], v, err_msg=k)
        if k.startswith("features"):
            np.testing.assert_array_equal(v, first[k], err_msg=k)
    r = gradfit("train", "--resume", str(a), "--epochs", "5", "--classes", "0-4")
    assert r.returncode == 2 and "--classes [0, 1, 2, 3, 4] differs from the run's" in r.stderr


def test_init_from_a_checkpoint_of_another_input_shape_is_one_line_and_writes_nothing(tmp_path):
    base, out = tmp_path / "base", tmp_path / "new"
    assert run_cli("train", *FAST, "--epochs", "1", "--out", str(base)).returncode == 0
    # the MLP saw flat (64,) vectors; --model cnn loads digits as (1, 8, 8) images
    ckpt = str(base / "checkpoint.safetensors")
    r = gradfit("train", *FAST, "--model", "cnn", "--init-from", ckpt, "--out", str(out))
    assert r.returncode == 2, r.stderr
    assert "Traceback" not in r.stderr
    assert "shape" in r.stderr and "(64,)" in r.stderr
    assert not out.exists()


def test_no_plots_writes_no_png_and_imports_no_matplotlib(tmp_path):
    out = tmp_path / "run"
    code = (
        "import sys; from gradfit.cli.main import main; "
        f"rc = main(['train', *{FAST!r}, '--no-plots', '--out', {str(out)!r}]); "
        "print('matplotlib' in sys.modules); sys.exit(rc)"
    )
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip().splitlines()[-1] == "False"  # the plots were matplotlib's only use
    wrote = next(line for line in r.stdout.splitlines() if line.startswith("wrote "))
    assert wrote.endswith("metrics.json, history.csv"), wrote
    assert not list(out.glob("*.png"))
    assert (out / "metrics.json").exists() and (out / "checkpoint.safetensors").exists()
    # without the flag the same run writes its plots
    assert run_cli("train", *FAST, "--out", str(tmp_path / "plotted")).returncode == 0
    assert {p.name for p in (tmp_path / "plotted").glob("*.png")} >= {"loss.png", "accuracy.png"}
