"""gf.train.sweep and `gradfit sweep`: Optuna studies of gradfit train runs on SQLite."""

from __future__ import annotations

import csv
import json
import shlex
import sys
from pathlib import Path

import pytest

optuna = pytest.importorskip("optuna", reason="needs the sweep extra (optuna)")

sys.path.insert(0, str(Path(__file__).parents[1]))
import gradfit as gf  # noqa: E402
from clirun import gradfit  # noqa: E402
from gradfit.cli.config import resolve  # noqa: E402
from gradfit.cli.main import build_parser  # noqa: E402
from gradfit.train.sweep import parse_space  # noqa: E402

SMALL = {
    "lr": [0.01, 0.5],
    "batch_size": {"choices": [64, 128]},
    "width": {"choices": [8, 16]},
}
BASE = {"data": "moons", "epochs": 3}


def _rows(out: Path) -> list[dict[str, str]]:
    with open(out / "trials.csv") as f:
        return list(csv.DictReader(f))


def test_cli_sweep_two_jobs_with_pruning_then_resumed(tmp_path: Path) -> None:
    out = tmp_path / "sw"
    db = f"sqlite:///{tmp_path / 'sweep.db'}"
    common = ["--data", "moons", "--epochs", "3", "--out", str(out), "--storage", db]
    common += [
        "--search-lr",
        "0.005:0.5",
        "--search-width",
        "8,16",
        "--search-batch-size",
        "64,128",
    ]
    first = gradfit("sweep", *common, "--trials", "6", "--jobs", "2", "--study-name", "s1")
    assert first.returncode == 0, first.stdout + first.stderr
    assert "best: trial" in first.stdout and "gradfit train --data moons" in first.stdout
    rows = _rows(out)
    assert len(rows) == 6
    study = optuna.load_study(study_name="s1", storage=db)
    for t in study.trials:  # every trial reported each epoch it ran to the pruner
        run_dir = Path(t.user_attrs["run_dir"])
        assert (run_dir / "checkpoint.safetensors").exists()
        lines = (run_dir / "history.csv").read_text().strip().splitlines()
        assert len(t.intermediate_values) == len(lines) - 1 >= 1
        if t.state.name == "COMPLETE":
            assert len(t.intermediate_values) == 3
    for name in ("history.png", "slice.png", "best.json"):
        assert (out / name).stat().st_size > 0
    again = gradfit("sweep", *common, "--trials", "2", "--study-name", "s1", "--no-plots")
    assert again.returncode == 0, again.stdout + again.stderr
    assert "continuing: 6 trials so far" in again.stdout
    assert len(_rows(out)) == 8
    assert len(optuna.load_study(study_name="s1", storage=db).trials) == 8


def test_the_printed_command_trains_the_best_settings(tmp_path: Path) -> None:
    study = gf.train.sweep(BASE, SMALL, trials=2, out=tmp_path, pruner="none", quiet=True)
    best = json.loads((tmp_path / "best.json").read_text())
    argv = shlex.split(best["command"])
    assert argv[:2] == ["gradfit", "train"]
    args = build_parser().parse_args(argv[1:])
    flags = {k: getattr(args, k) for k in resolve({})}
    cfg = resolve(flags)
    assert cfg["hidden"] == [study.best_params["width"]] * 2
    assert cfg["batch_size"] == study.best_params["batch_size"]
    assert cfg["lr"] == pytest.approx(study.best_params["lr"], rel=1e-3)
    assert cfg["data"] == "moons" and cfg["epochs"] == 3


def test_a_pruner_stops_trials_after_their_first_epoch(tmp_path: Path) -> None:
    always = optuna.pruners.ThresholdPruner(upper=0.0)  # any val_loss > 0 is pruned
    study = gf.train.sweep(BASE, SMALL, trials=2, out=tmp_path, pruner=always, quiet=True)
    assert [t.state.name for t in study.trials] == ["PRUNED", "PRUNED"]
    for t in study.trials:
        history = (Path(t.user_attrs["run_dir"]) / "history.csv").read_text().splitlines()
        assert len(history) == 2  # header + epoch 1
    assert not (tmp_path / "history.png").exists()  # nothing completed to plot


def test_a_crashed_trial_is_marked_failed_and_the_sweep_goes_on(tmp_path: Path) -> None:
    from gradfit.train.sweep import train_trial

    calls = []

    def flaky(cfg, run_dir, callbacks, monitor):
        calls.append(run_dir)
        if len(calls) == 1:
            raise RuntimeError("disk on fire")
        return train_trial(cfg, run_dir, callbacks, monitor)

    study = gf.train.sweep(BASE, SMALL, trials=2, out=tmp_path, quiet=True, train_fn=flaky)
    states = [t.state.name for t in study.trials]
    assert states == ["FAIL", "COMPLETE"]
    assert study.trials[0].user_attrs["error"] == "RuntimeError: disk on fire"
    assert _rows(tmp_path)[0]["state"] == "fail"


@pytest.mark.parametrize(
    ("space", "match"),
    [
        ({"depth": [1, 2]}, "cannot search 'depth'"),
        ({"lr": [0.1, 0.01]}, "low < high"),
        ({"lr": [0.0, 1.0, "log"]}, "low > 0"),
        ({"width": [8, 16]}, "list of choices"),
        ({"batch_size": {"choices": []}}, "non-empty list"),
    ],
)
def test_bad_search_spaces_are_named(space: dict, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        parse_space(space)


def test_cli_rejects_bad_ranges_before_training(tmp_path: Path) -> None:
    r = gradfit("sweep", "--search-lr", "abc", "--out", str(tmp_path / "x"))
    assert r.returncode == 2
    assert "--search-lr 'abc'" in r.stderr
    assert not (tmp_path / "x").exists()


def test_cli_a_fixed_flag_is_not_searched(tmp_path: Path) -> None:
    out = tmp_path / "fixed"
    r = gradfit(
        "sweep", "--data", "moons", "--epochs", "1", "--trials", "1", "--lr", "0.2",
        "--hidden", "8", "--search-batch-size", "128", "--out", str(out), "--no-plots",
    )  # fmt: skip
    assert r.returncode == 0, r.stdout + r.stderr
    best = json.loads((out / "best.json").read_text())
    assert "lr" not in best["params"] and "width" not in best["params"]
    assert best["config"]["lr"] == 0.2 and best["config"]["hidden"] == [8]
    both = gradfit("sweep", "--lr", "0.2", "--search-lr", "0.1:1", "--out", str(tmp_path / "y"))
    assert both.returncode == 2 and "give one" in both.stderr
