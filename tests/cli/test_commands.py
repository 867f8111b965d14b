"""The other subcommands end to end: evaluate, predict, baselines, lr-find, summary, datasets."""

from __future__ import annotations

import json

import numpy as np
import pytest

from clirun import FAST, gradfit
from inproc import run_cli


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("cli") / "run"
    r = run_cli("train", *FAST, "--out", str(out))  # set-up: in-process is cheaper
    assert r.returncode == 0, r.stderr
    return out


def test_evaluate_matches_the_training_run(run_dir):
    r = gradfit("evaluate", str(run_dir), "--json")
    assert r.returncode == 0, r.stderr
    res = json.loads(r.stdout)
    saved = json.loads((run_dir / "metrics.json").read_text())
    assert res["test_accuracy"] == pytest.approx(saved["test_accuracy"])
    assert res["test_loss"] == pytest.approx(saved["test_loss"], rel=1e-5)


def test_predict_csv_and_npy(run_dir, tmp_path):
    from sklearn.datasets import load_digits

    x = load_digits().data[:5].astype(np.float32)  # raw pixels 0..16: predict scales them
    np.save(tmp_path / "x.npy", x)
    np.savetxt(
        tmp_path / "x.csv",
        x,
        delimiter=",",
        header=",".join(f"f{i}" for i in range(64)),
        comments="",
    )
    r1 = gradfit("predict", str(run_dir), str(tmp_path / "x.npy"))
    r2 = gradfit("predict", str(run_dir), str(tmp_path / "x.csv"), "--out", str(tmp_path / "p.csv"))
    assert r1.returncode == 0 and r2.returncode == 0, (r1.stderr, r2.stderr)
    lines = r1.stdout.strip().splitlines()
    assert lines[0].startswith("class,p0,p1") and len(lines) == 6
    probs = np.array([[float(v) for v in ln.split(",")[1:]] for ln in lines[1:]])
    np.testing.assert_allclose(probs.sum(1), 1, rtol=1e-4)
    assert (tmp_path / "p.csv").read_text().strip() == r1.stdout.strip()


def test_predict_rejects_wrong_feature_count_and_pickles(run_dir, tmp_path):
    np.save(tmp_path / "bad.npy", np.zeros((3, 10), np.float32))
    r = gradfit("predict", str(run_dir), str(tmp_path / "bad.npy"))
    assert r.returncode == 2 and "each row has 10 features, the model expects 64" in r.stderr
    np.save(tmp_path / "obj.npy", np.array([{"a": 1}], dtype=object), allow_pickle=True)
    r = gradfit("predict", str(run_dir), str(tmp_path / "obj.npy"))
    assert r.returncode == 2 and "not a readable .npy" in r.stderr
    (tmp_path / "t.csv").write_text("1,2\nx,3\n")
    r = gradfit("predict", str(run_dir), str(tmp_path / "t.csv"))
    assert r.returncode == 2 and "row 2 has a non-numeric value 'x'" in r.stderr


def test_baselines_command():
    r = gradfit("baselines", "--data", "moons")
    assert r.returncode == 0, r.stderr
    assert "logistic regression" in r.stdout and "random forest" in r.stdout


def test_lr_find_command(tmp_path):
    r = gradfit("lr-find", "--hidden", "32", "--num-iter", "40", "--plot", str(tmp_path / "lr.png"))
    assert r.returncode == 0, r.stderr
    lr = float(r.stdout.split("suggested lr: ")[1].split()[0])
    assert 1e-5 < lr < 10
    assert (tmp_path / "lr.png").stat().st_size > 0


def test_summary_command(run_dir):
    r = gradfit("summary", str(run_dir))
    assert r.returncode == 0, r.stderr
    # 64*32+32 + 2*32 (batch norm, on by default for the MLP on digits) + 32*10+10 parameters
    assert "2,474" in r.stdout or "2474" in r.stdout


def test_datasets_command():
    r = gradfit("datasets")
    assert r.returncode == 0 and "digits" in r.stdout and "mnist1d" in r.stdout
    r = gradfit("datasets", "nope")
    assert r.returncode == 2 and "nope" in r.stderr


def test_missing_checkpoint_is_exit_2():
    r = gradfit("evaluate", "/nonexistent/ck.safetensors")
    assert r.returncode == 2 and "no such file" in r.stderr and "Traceback" not in r.stderr


def test_predict_reads_excel_csv_with_bom_and_keeps_a_numeric_first_row(run_dir, tmp_path):
    from sklearn.datasets import load_digits

    x = (load_digits().data[:3] / 16).astype(np.float32)
    text = "\n".join(",".join(f"{v:g}" for v in row) for row in x) + "\n"
    (tmp_path / "bom.csv").write_bytes(b"\xef\xbb\xbf" + text.encode())
    r = gradfit("predict", str(run_dir), str(tmp_path / "bom.csv"))
    assert r.returncode == 0, r.stderr
    assert len(r.stdout.strip().splitlines()) == 4  # header + 3 predictions
    gap = text.replace(text.split(",")[0], "", 1)  # first row: an empty first cell
    (tmp_path / "gap.csv").write_text(gap)
    r = gradfit("predict", str(run_dir), str(tmp_path / "gap.csv"))
    assert r.returncode == 2 and "row 1 has a non-numeric value" in r.stderr
    with open(tmp_path / "E.NPY", "wb") as f:  # an upper-case suffix, as Windows tools write
        np.save(f, np.zeros((0, 64), np.float32))
    r = gradfit("predict", str(run_dir), str(tmp_path / "E.NPY"))
    assert r.returncode == 2 and "the array is empty" in r.stderr
