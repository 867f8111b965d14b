"""Issue 16, "no traceback, no wrong answer": one regression test per observed failure.

Every case runs the CLI in-process (tests/cli/inproc.py) and asserts exit code 2 with one
line naming the option or file, and no traceback.
"""

from __future__ import annotations

import json
import os
import time

import numpy as np
import pytest

from inproc import TINY, refused, run_cli

IS_ROOT = hasattr(os, "geteuid") and os.geteuid() == 0


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("robust") / "run"
    r = run_cli("train", "--data", "xor", *TINY, "--out", str(out))
    assert r.returncode == 0, r.stderr
    return out


# ---------------------------------------------------------------- sizes that exhaust memory
def test_huge_hidden_is_refused_before_allocating(tmp_path):
    r = run_cli("train", *TINY, "--hidden", "1000000000000", "--out", str(tmp_path / "o"))
    assert refused(r, "--hidden"), r
    assert not (tmp_path / "o").exists()


def test_summary_huge_hidden():
    assert refused(run_cli("summary", "--hidden", "100000000"), "--hidden")
    assert refused(run_cli("summary", "--hidden", "30000,30000"), "--hidden", "weights")


def test_predict_npy_header_larger_than_the_file(run_dir, tmp_path):
    from numpy.lib import format as npformat

    p = tmp_path / "huge.npy"
    with open(p, "wb") as f:
        npformat.write_array_header_1_0(
            f, {"descr": "<f4", "fortran_order": False, "shape": (10**11, 64)}
        )
        f.write(b"\0" * 64)
    t = time.perf_counter()
    r = run_cli("predict", str(run_dir), str(p))
    assert refused(r, str(p), "header declares"), r
    assert time.perf_counter() - t < 5


# ---------------------------------------------------------------- a folder where a file goes
def test_predict_out_is_a_directory(run_dir, tmp_path):
    x = tmp_path / "x.csv"
    x.write_text("0,1\n1,0\n")
    assert refused(run_cli("predict", str(run_dir), str(x), "--out", str(tmp_path)), "--out")


def test_lr_find_plot_is_a_directory(tmp_path):
    r = run_cli("lr-find", "--data", "xor", "--num-iter", "5", "--plot", str(tmp_path))
    assert refused(r, "--plot", "directory"), r


def test_directories_given_as_input_config_and_checkpoint(run_dir, tmp_path):
    assert refused(run_cli("predict", str(run_dir), str(tmp_path)), str(tmp_path))
    assert refused(run_cli("train", "--config", str(tmp_path), *TINY), "--config")
    (tmp_path / "empty").mkdir()
    assert refused(run_cli("evaluate", str(tmp_path / "empty")), "checkpoint")


# ---------------------------------------------------------------- permissions
@pytest.mark.skipif(IS_ROOT, reason="root reads and writes files whatever their mode")
def test_unreadable_input_checkpoint_config_and_unwritable_out(run_dir, tmp_path):
    x = tmp_path / "x.csv"
    x.write_text("0,1\n")
    cfg = tmp_path / "c.toml"
    cfg.write_text("epochs = 1\n")
    ck = tmp_path / "c.safetensors"
    ck.write_bytes((run_dir / "checkpoint.safetensors").read_bytes())
    locked = tmp_path / "locked"
    locked.mkdir()
    for p in (x, cfg, ck):
        p.chmod(0)
    locked.chmod(0o500)
    try:
        assert refused(run_cli("predict", str(run_dir), str(x)), str(x))
        assert refused(run_cli("predict", str(ck), str(tmp_path / "y.csv")), str(ck))
        assert refused(run_cli("train", "--config", str(cfg), *TINY), str(cfg))
        y = tmp_path / "y.csv"
        y.write_text("0,1\n")
        assert refused(run_cli("predict", str(run_dir), str(y), "--out", str(locked / "p.csv")))
    finally:
        for p in (x, cfg, ck):
            p.chmod(0o600)
        locked.chmod(0o700)


def test_out_under_a_file_is_refused(run_dir, tmp_path):
    """Without root-proof permissions: an --out whose folder is a file cannot be written."""
    x = tmp_path / "x.csv"
    x.write_text("0,1\n")
    r = run_cli("predict", str(run_dir), str(x), "--out", str(x / "p.csv"))
    assert refused(r, "--out"), r


# ---------------------------------------------------------------- numbers
def test_landscape_span_nan(run_dir, tmp_path):
    r = run_cli("viz", "landscape", str(run_dir), "--span", "nan", "--out", str(tmp_path / "a.png"))
    assert refused(r, "--span"), r


@pytest.mark.parametrize(
    "flag,value",
    [("--l1", "nan"), ("--l1", "inf"), ("--weight-decay", "inf"), ("--momentum", "nan")],
)
def test_non_finite_hyper_parameters(flag, value, tmp_path):
    r = run_cli("train", flag, value, *TINY, "--out", str(tmp_path / "o"))
    assert refused(r, flag, "finite"), r
    assert not (tmp_path / "o").exists()


def test_lr_find_end_lr_inf():
    assert refused(run_cli("lr-find", "--end-lr", "inf"), "--end-lr")


@pytest.mark.parametrize(
    "bad,where", [("nan", "row 3, column 2"), ("1e39", "row 2, column 1")]
)  # file rows
def test_predict_refuses_nan_and_overflowing_inputs(run_dir, tmp_path, bad, where):
    x = tmp_path / "x.csv"
    rows = [[bad, "0"], ["0", "1"]] if bad == "1e39" else [["0", "1"], ["1", bad]]
    x.write_text("a,b\n" + "\n".join(",".join(r) for r in rows) + "\n")
    r = run_cli("predict", str(run_dir), str(x))
    assert refused(r, str(x), where), r
    assert r.stdout == ""


# ---------------------------------------------------------------- hangs
def test_explain_huge_power_returns_at_once():
    t = time.perf_counter()
    r = run_cli("viz", "explain", "x * 9**9**9", "--values", "x=2")
    assert refused(r, "expression"), r
    assert time.perf_counter() - t < 2
    assert refused(run_cli("viz", "explain", "x * 10**100", "--values", "x=2"), "too large")
    assert refused(run_cli("viz", "explain", "(x - 3).log()", "--values", "x=2"), "not a number")
    ok = run_cli("viz", "explain", "x ** 2 * 3", "--values", "x=2")
    assert ok.returncode == 0 and "d(out)/d(x) = 12" in ok.stdout


def test_step_counts_are_bounded(tmp_path):
    assert refused(run_cli("lr-find", "--num-iter", "1000000000"), "--num-iter")
    r = run_cli("viz", "descent", "--steps", "100000000", "--out", str(tmp_path / "d.png"))
    assert refused(r, "--steps"), r


# ---------------------------------------------------------------- messages in the CLI's words
def test_missing_data_files_name_the_options(tmp_path):
    r = run_cli("train", "--data", "mnist", "--data-dir", str(tmp_path), *TINY)
    assert refused(r, "--download", "--data-dir"), r
    assert "download=True" not in r.stderr and "data_dir=" not in r.stderr


@pytest.mark.parametrize(
    "argv,hint",
    [
        (["train", "--data", "mnsit"], "did you mean 'mnist'"),
        (["train", "--model", "mlpp"], "did you mean 'mlp'"),
        (["train", "--optimizer", "adma"], "did you mean 'adam'"),
        (["train", "--schedule", "cosin"], "did you mean 'cosine'"),
        (["summary", "--data", "digts"], "did you mean 'digits'"),
        (["lr-find", "--optimizer", "sgdd"], "did you mean 'sgd'"),
    ],
)
def test_did_you_mean(argv, hint):
    assert refused(run_cli(*argv), hint)


def test_descent_unknown_function_speaks_cli(tmp_path):
    r = run_cli("viz", "descent", "--function", "rosenbrok", "--out", str(tmp_path / "d.png"))
    assert refused(r, "--function", "did you mean 'rosenbrock'"), r
    assert "TestFunction" not in r.stderr


def test_csv_data_asks_for_path_and_target(tmp_path):
    assert refused(run_cli("summary", "--data", "csv"), "--path", "--target")
    t = tmp_path / "t.csv"
    t.write_text("a,b,y\n" + "".join(f"{i},{i % 3},{i % 2}\n" for i in range(40)))
    r = run_cli("summary", "--data", "csv", "--path", str(t), "--target", "y")
    assert r.returncode == 0, r.stderr


def test_help_shows_defaults():
    assert "(default: 0.1)" in run_cli("train", "--help").stdout  # --lr
    assert "(default: 21)" in run_cli("viz", "landscape", "--help").stdout
    assert "(default: 100)" in run_cli("lr-find", "--help").stdout


# ---------------------------------------------------------------- a lock on the run directory
def test_a_locked_run_directory_is_one_line(tmp_path):
    from gradfit.cli.main import _os_error_line
    from gradfit.fileio import LockedError, run_lock

    with run_lock(tmp_path), pytest.raises(LockedError) as e, run_lock(tmp_path):
        pass
    line = _os_error_line(e.value)
    assert "another gradfit process" in line and str(os.getpid()) in line
    assert json.dumps(line).count("\\n") == 0


# ---------------------------------------------------------------- the report
def test_report_shows_test_metrics_and_the_network_in_the_baselines(tmp_path):
    out = tmp_path / "run"
    r = run_cli("train", "--data", "xor", "--epochs", "1", "--hidden", "4", "--quiet",
                "--report", "--out", str(out))  # fmt: skip
    assert r.returncode == 0, r.stderr
    page = (out / "report.html").read_text()
    saved = json.loads((out / "metrics.json").read_text())
    assert "<h2>Test results</h2>" in page
    assert f'<td>test_accuracy</td><td class="num">{saved["test_accuracy"]:.6g}</td>' in page
    baselines = page.split("<h2>Baselines</h2>", 1)[1]
    assert "gradfit mlp (this run)" in baselines.split("</table>", 1)[0]


def test_a_checkpoint_with_nan_weights_is_refused(run_dir, tmp_path):
    from gradfit.train.checkpoint import load_checkpoint, save_checkpoint

    ck = load_checkpoint(run_dir / "checkpoint.safetensors")
    state = {k: v.copy() for k, v in ck.model_state.items()}
    first = sorted(state)[0]
    state[first].reshape(-1)[0] = np.nan

    class Weights:
        def state_dict(self):
            return state

    meta = {k: v for k, v in ck.meta.items() if k not in ("sha256", "optimizer")}
    bad = tmp_path / "nan.safetensors"
    save_checkpoint(bad, Weights(), meta=meta)
    x = tmp_path / "x.csv"
    x.write_text("0,1\n")
    assert refused(run_cli("evaluate", str(bad)), "NaN", first)
    assert refused(run_cli("predict", str(bad), str(x)), "NaN")


@pytest.mark.parametrize(
    "field,edit",
    [
        ("lr", lambda m: m["optimizer"]["param_groups"][0].update(lr=-5)),
        ("epoch", lambda m: m.update(epoch=[1])),
        ("momentum", lambda m: m["optimizer"]["param_groups"][0].update(momentum="abc")),
        ("rng", lambda m: m["rng"].update(loader={"bit_generator": "PCG64", "state": 1})),
    ],
)
def test_resume_refuses_edited_metadata(run_dir, tmp_path, field, edit):
    """Edited by hand with the digest recomputed: every field resume reads is validated."""
    import shutil

    from safetensors.numpy import save

    from gradfit.train.checkpoint import _digest_stream, load_checkpoint

    run = tmp_path / "run"
    shutil.copytree(run_dir, run)
    path = run / "checkpoint.safetensors"
    ck = load_checkpoint(path)
    tensors = {f"model.{k}": v for k, v in ck.model_state.items()}
    for idx, st in (ck.optim_state or {}).get("state", {}).items():
        tensors.update({f"optim.{idx}.{k}": v for k, v in st.items() if isinstance(v, np.ndarray)})
    meta = json.loads(json.dumps(ck.meta))
    edit(meta)
    meta["sha256"] = _digest_stream(tensors, meta)
    path.write_bytes(save(tensors, metadata={"gradfit": json.dumps(meta)}))
    before = sorted(p.name for p in run.iterdir())
    r = run_cli("train", "--resume", str(run), "--epochs", "2", "--quiet", "--no-baselines")
    assert refused(r, str(path), field), r
    assert sorted(p.name for p in run.iterdir()) == before


def test_init_from_a_model_of_another_input_shape_is_refused(run_dir):
    """A helper for cli/train.py (see the report): names the flag and both shapes."""
    from gradfit.cli import common
    from gradfit.cli.config import resolve
    from gradfit.cli.main import UsageError

    ck = common.open_checkpoint(common.checkpoint_path(str(run_dir)))
    digits = common.load_data(resolve({"data": "digits"}))
    with pytest.raises(UsageError, match=r"--init-from .*inputs of shape \(2,\).*\(64,\)"):
        common.check_fits_data(ck, digits)
    common.check_fits_data(ck, common.load_data(resolve({"data": "xor"})))  # fits: silent


def test_lr_find_without_a_suggestion_says_so():
    r = run_cli("lr-find", "--data", "xor", "--num-iter", "5", "--start-lr", "0.1",
                "--optimizer", "adam")  # fmt: skip
    assert refused(r, "no suggestion", "--start-lr"), r  # 5 points: too few for a slope


@pytest.mark.parametrize("command", [["lr-find"], ["summary"], ["viz", "graph", "--out", "g.dot"]])
def test_a_model_the_data_cannot_size_is_refused(command, tmp_path):
    argv = [tmp_path / a if a.endswith(".dot") else a for a in command]
    r = run_cli(*map(str, argv), "--data", "xor", "--model", "cnn1d")
    assert refused(r, "--model cnn1d", "too short"), r
