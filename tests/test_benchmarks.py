"""The benchmark suite's correctness, never its timings.

- The hand-written NumPy reference MLP computes the same loss and gradients as gradfit, and
  the same SGD-with-momentum trajectory, so the suite compares equal work.
- The suite's smallest path (``--smoke``) runs end to end in worker processes and writes its
  tables, JSON and plot; without PyTorch it runs and says so.
"""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import numpy as np
import pytest

import gradfit as gf
import gradfit.nn.functional as F

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks import run as bench_run  # noqa: E402
from benchmarks.contenders import common  # noqa: E402
from benchmarks.numpy_mlp import NumpyMLP  # noqa: E402

SIZES = [12, 9, 7, 5]


def _gradfit_params(model: gf.nn.Module) -> list[gf.Tensor]:
    return [p for name, p in model.named_parameters()]  # fc1.weight, fc1.bias, ..., out.bias


def _batch(n: int = 6, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, SIZES[0])).astype(np.float32)
    y = rng.integers(0, SIZES[-1], n)
    y[0] = y[1]  # a repeated class, so the one-hot update's indexing is exercised
    return x, y


def test_reference_mlp_gradients_equal_gradfit() -> None:
    model = gf.models.mlp(SIZES)
    params = _gradfit_params(model)
    assert [tuple(p.shape) for p in params] == [(9, 12), (9,), (7, 9), (7,), (5, 7), (5,)]
    ref = NumpyMLP.from_params([p._data for p in params])
    x, y = _batch()
    loss = F.cross_entropy(model(gf.tensor(x)), gf.tensor(y))
    loss.backward()
    ref_loss, ref_grads = ref.loss_and_grads(x, y)
    np.testing.assert_allclose(ref_loss, loss.item(), rtol=1e-6)
    for p, g in zip(params, ref_grads, strict=True):
        assert g.dtype == np.float32 and g.shape == p.shape
        np.testing.assert_allclose(g, p.grad._data, rtol=1e-5, atol=1e-7)
    # not a vacuous comparison: the gradients are nonzero and differ between layers
    assert all(np.abs(g).max() > 1e-4 for g in ref_grads)


def test_reference_mlp_follows_gradfit_sgd_momentum_trajectory() -> None:
    model = gf.models.mlp(SIZES)
    params = _gradfit_params(model)
    ref = NumpyMLP.from_params([p._data for p in params])
    initial = [p._data.copy() for p in params]
    opt = gf.optim.SGD(params, lr=0.1, momentum=0.9)
    for step in range(4):
        x, y = _batch(seed=step)
        opt.zero_grad()
        F.cross_entropy(model(gf.tensor(x)), gf.tensor(y)).backward()
        opt.step()
        ref.train_step(x, y, lr=0.1, momentum=0.9)
    diff = [np.abs(p._data - q).max() for p, q in zip(params, ref.params, strict=True)]
    assert max(diff) < 1e-5
    moved = [np.abs(p._data - q).max() for p, q in zip(params, initial, strict=True)]
    assert min(moved) > 1e-3  # the weights did move, so the agreement is not trivial


def test_reference_mlp_initialisation_matches_nn_linear_bounds() -> None:
    net = NumpyMLP([400, 300, 10], seed=3)
    for w, b, fan_in in ((net.params[0], net.params[1], 400), (net.params[2], net.params[3], 300)):
        bound = 1 / np.sqrt(fan_in)
        assert w.dtype == np.float32 and b.dtype == np.float32
        assert np.abs(w).max() <= bound and np.abs(w).max() > 0.95 * bound
        assert abs(float(w.std()) - bound / np.sqrt(3)) < 0.05 * bound  # uniform's std
    lin = gf.nn.Linear(400, 300)
    bound = 1 / np.sqrt(400)
    assert np.abs(lin.weight._data).max() <= bound and np.abs(lin.bias._data).max() <= bound


def test_reference_predict_equals_training_forward() -> None:
    net = NumpyMLP(SIZES, seed=1)
    x, _ = _batch()
    model = gf.models.mlp(SIZES)
    with gf.no_grad():
        for p, q in zip(model.parameters(), net.params, strict=True):
            p._data[...] = q
        np.testing.assert_allclose(net.predict(x), model(gf.tensor(x))._data, rtol=1e-5, atol=1e-6)


def test_flop_count_of_the_headline_mlp() -> None:
    # forward 2*MACs, weight gradients 2*MACs, input gradients of layers 2 and 3
    macs = [784 * 512, 512 * 256, 256 * 10]
    assert common.mlp_train_flops((784, 512, 256, 10)) == 6 * sum(macs) - 2 * macs[0]
    assert common.mlp_sizes(512) == (784, 512, 256, 10)


def _check_report(report: dict, out: Path, contenders: set[str]) -> None:
    results = report["results"]
    for key in ("mlp", "mlp_b32", "lenet", "cnn1d", "op_overhead", "inference", "gemm_rate"):
        assert key in results, key
    assert any(k.startswith("sweep_") for k in results)
    for key, res in results.items():
        for label, v in res.items():
            assert len(v["times"]) >= 1 and all(t > 0 for t in v["times"]), (key, label)
    for label in contenders & {"gradfit", "numpy"}:
        assert np.isfinite(results["mlp"][label]["last_value"])
        assert results["mlp"][label]["peak_mb"] >= results["mlp"][label]["setup_peak_mb"] > 0
    saved = json.loads((out / "results.json").read_text())
    assert saved["results"].keys() == results.keys()
    tables = (out / "tables.md").read_text()
    assert "### Targets" in tables and "### MLP epoch" in tables and "Peak memory" in tables
    png = (out / "time_per_sample.png").read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n"


def test_smoke_run_without_optional_contenders(tmp_path: Path, monkeypatch) -> None:
    """The smallest path end to end, as if PyTorch and scikit-learn were not installed."""
    monkeypatch.setattr(
        bench_run,
        "available_contenders",
        lambda: {"gradfit": True, "numpy": True, "torch": False, "sklearn": False},
    )
    report = bench_run.main(["--smoke", "--out", str(tmp_path)])
    _check_report(report, tmp_path, {"gradfit", "numpy"})
    assert report["meta"]["skipped"] == ["sklearn", "torch"]
    assert "torch" not in report["results"]["mlp"]
    tables = (tmp_path / "tables.md").read_text()
    assert "skipped (not installed): sklearn, torch" in tables
    assert "| MLP epoch, gradfit / PyTorch | n/a |" in tables
    assert report["targets"]["mlp_vs_numpy"] is not None


@pytest.mark.skipif(importlib.util.find_spec("torch") is None, reason="PyTorch not installed")
def test_smoke_run_with_pytorch(tmp_path: Path) -> None:
    contenders = "gradfit,numpy,torch"
    report = bench_run.main(
        ["--smoke", "--out", str(tmp_path), "--contenders", contenders, "--no-plot",
         "--sessions", "mlp,cnn"]
    )  # fmt: skip
    for key in ("mlp", "mlp_b32", "lenet", "cnn1d"):
        assert "torch" in report["results"][key]
    assert report["targets"]["mlp_vs_torch"] is not None
    assert report["targets"]["lenet_vs_torch"] is not None


def test_thread_scaling_harness_runs_every_lane_and_reports_them(capsys):
    """bench_threads end to end at its smallest: two lanes of one contender (one via
    --compare, the same checkout: an A/A pair), shuffled, each timed after an untimed epoch."""
    from benchmarks import bench_threads

    bench_threads.main(
        ["--scenario", "mlp_epoch", "--n", "64", "--batch", "32", "--width", "16",
         "--reps", "3", "--threads", "1", "--contenders", "gradfit", "--settle", "0",
         "--compare", str(ROOT)]
    )  # fmt: skip
    out = capsys.readouterr().out
    assert "lanes shuffled, each after a 0 s pause, after one untimed epoch" in out
    assert "gradfit@1:" in out and "compare@1:" in out
    times = {}
    for lane in ("gradfit@1:", "compare@1:"):
        line = next(x for x in out.splitlines() if x.strip().startswith(lane))
        times[lane] = [float(v) for v in line.split(":", 1)[1].split(",")]
        assert len(times[lane]) == 3  # one timing per repetition
    # the row for 1 thread: medians' ratio, then the median of the repetitions' own ratios
    assert "| gradfit / compare | gradfit / compare, paired |" in out
    row = next(x for x in out.splitlines() if x.startswith("| 1 |")).strip("| ").split(" | ")
    paired = sorted(a / b for a, b in zip(times["gradfit@1:"], times["compare@1:"]))[1]
    assert abs(float(row[-1]) - paired) <= 0.006  # printed with two decimals
