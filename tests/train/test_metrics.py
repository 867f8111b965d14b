"""Metrics against scikit-learn on random data, edge cases, and the streaming accumulator."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn import metrics as skm

import gradfit as gf
from gradfit.train import metrics as M


def _cls_data(n: int = 200, c: int = 5, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    return rng.standard_normal((n, c)).astype(np.float32), rng.integers(0, c, n)


@pytest.mark.parametrize("n,c", [(1, 3), (7, 2), (200, 5), (500, 10)])
def test_accuracy_matches_sklearn(n: int, c: int) -> None:
    scores, y = _cls_data(n, c, seed=n)
    assert M.accuracy(scores, y) == pytest.approx(
        skm.accuracy_score(y, scores.argmax(1)), abs=1e-15
    )
    assert M.accuracy(scores.argmax(1), y) == M.accuracy(scores, y)


def test_accuracy_takes_gradfit_tensors_and_binary_logits() -> None:
    scores, y = _cls_data(50, 4)
    assert M.accuracy(gf.tensor(scores), gf.tensor(y)) == M.accuracy(scores, y)
    logit = np.array([[2.0], [-1.0], [0.5], [-3.0]])
    assert M.accuracy(logit, np.array([1, 0, 0, 0])) == 0.75


@pytest.mark.parametrize("k", [1, 2, 3, 5])
def test_top_k_accuracy_matches_sklearn(k: int) -> None:
    scores, y = _cls_data(300, 6, seed=k)
    expected = skm.top_k_accuracy_score(y, scores, k=k, labels=np.arange(6))
    assert M.top_k_accuracy(scores, y, k=k) == pytest.approx(expected, abs=1e-15)
    assert M.get_metric(f"top{k}_accuracy")(scores, y) == M.top_k_accuracy(scores, y, k=k)


def test_top_k_at_least_classes_is_one_and_top1_is_accuracy() -> None:
    scores, y = _cls_data(40, 4)
    assert M.top_k_accuracy(scores, y, k=4) == 1.0
    assert M.top_k_accuracy(scores, y, k=1) == M.accuracy(scores, y)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_precision_recall_f1_per_class_and_averages_match_sklearn(seed: int) -> None:
    scores, y = _cls_data(150, 4, seed)
    pred = scores.argmax(1)
    p, r, f = M.precision_recall_f1(scores, y)
    sp, sr, sf, _ = skm.precision_recall_fscore_support(y, pred, zero_division=0)
    np.testing.assert_allclose(p, sp, rtol=1e-12)
    np.testing.assert_allclose(r, sr, rtol=1e-12)
    np.testing.assert_allclose(f, sf, rtol=1e-12)
    for avg in ("macro", "micro", "weighted"):
        got = M.precision_recall_f1(scores, y, average=avg)
        want = skm.precision_recall_fscore_support(y, pred, average=avg, zero_division=0)[:3]
        np.testing.assert_allclose(got, want, rtol=1e-12)
    assert M.precision(scores, y) == pytest.approx(skm.precision_score(y, pred, average="macro"))
    assert M.recall(scores, y) == pytest.approx(skm.recall_score(y, pred, average="macro"))
    assert M.f1_score(scores, y) == pytest.approx(skm.f1_score(y, pred, average="macro"))


def test_class_never_predicted_gives_zero_precision_like_sklearn() -> None:
    y = np.array([0, 1, 2, 2, 1, 0, 2])
    pred = np.array([0, 1, 1, 1, 1, 0, 0])  # class 2 never predicted
    p, r, f = M.precision_recall_f1(pred, y)
    assert p[2] == 0.0 and r[2] == 0.0 and f[2] == 0.0
    for fn, sk in (
        (M.precision, skm.precision_score),
        (M.recall, skm.recall_score),
        (M.f1_score, skm.f1_score),
    ):
        assert fn(pred, y) == pytest.approx(sk(y, pred, average="macro", zero_division=0))


def test_class_only_predicted_counts_in_macro_like_sklearn() -> None:
    y = np.array([0, 0, 1, 1])
    pred = np.array([0, 3, 1, 1])  # class 3 predicted, never true; class 2 nowhere
    for fn, sk in (
        (M.precision, skm.precision_score),
        (M.recall, skm.recall_score),
        (M.f1_score, skm.f1_score),
    ):
        assert fn(pred, y) == pytest.approx(sk(y, pred, average="macro", zero_division=0))


def test_one_class_only() -> None:
    y = np.zeros(6, dtype=np.int64)
    assert M.accuracy(y, y) == 1.0
    assert M.confusion_matrix(y, y).tolist() == [[6]]
    assert M.f1_score(y, y) == pytest.approx(skm.f1_score(y, y, average="macro"))
    pred = np.array([0, 0, 1, 0, 1, 0])
    np.testing.assert_array_equal(M.confusion_matrix(pred, y), skm.confusion_matrix(y, pred))
    assert M.precision(pred, y) == pytest.approx(
        skm.precision_score(y, pred, average="macro", zero_division=0)
    )


def test_confusion_matrix_matches_sklearn_and_num_classes() -> None:
    scores, y = _cls_data(300, 7)
    pred = scores.argmax(1)
    np.testing.assert_array_equal(
        M.confusion_matrix(scores, y), skm.confusion_matrix(y, pred, labels=np.arange(7))
    )
    small = np.array([0, 1]), np.array([1, 1])
    assert M.confusion_matrix(*small, num_classes=4).shape == (4, 4)
    with pytest.raises(ValueError, match="out of range for num_classes=2"):
        M.confusion_matrix(np.array([0, 2]), np.array([0, 1]), num_classes=2)


@pytest.mark.parametrize("shape", [(1,), (50,), (40, 3)])
def test_regression_metrics_match_sklearn(shape: tuple[int, ...]) -> None:
    rng = np.random.default_rng(len(shape))
    y = rng.standard_normal(shape)
    out = y + 0.3 * rng.standard_normal(shape)
    assert M.mse(out, y) == pytest.approx(skm.mean_squared_error(y, out), rel=1e-12)
    assert M.rmse(out, y) == pytest.approx(np.sqrt(skm.mean_squared_error(y, out)), rel=1e-12)
    assert M.mae(out, y) == pytest.approx(skm.mean_absolute_error(y, out), rel=1e-12)
    if shape[0] > 1:
        assert M.r2_score(out, y) == pytest.approx(skm.r2_score(y, out), rel=1e-10)


def test_r2_edge_cases_match_sklearn() -> None:
    const = np.full(5, 2.0)
    assert M.r2_score(const, const) == skm.r2_score(const, const) == 1.0
    assert M.r2_score(const + 1, const) == skm.r2_score(const, const + 1) == 0.0
    y = np.array([1.0, 2.0, 3.0])
    assert M.r2_score(np.full(3, 2.0), y) == pytest.approx(0.0, abs=1e-15)  # the mean predictor
    assert M.r2_score(-y, y) < 0


def test_regression_column_vector_against_flat_targets() -> None:
    y = np.array([1.0, 2.0, 4.0], dtype=np.float32)
    assert M.mse(y[:, None] + 1, y) == pytest.approx(1.0)
    with pytest.raises(ValueError, match="mse: outputs of shape \\(3, 2\\) do not match"):
        M.mse(np.zeros((3, 2)), y)


def test_bad_inputs_give_clear_errors() -> None:
    with pytest.raises(ValueError, match="no samples"):
        M.accuracy(np.zeros((0, 3)), np.zeros(0, dtype=np.int64))
    with pytest.raises(ValueError, match="do not match targets"):
        M.accuracy(np.zeros((4, 3)), np.zeros(5, dtype=np.int64))
    with pytest.raises(ValueError, match="non-integer"):
        M.accuracy(np.array([0.2, 0.7]), np.array([0, 1]))
    with pytest.raises(ValueError, match="k must be a positive integer"):
        M.top_k_accuracy(np.zeros((2, 3)), np.array([0, 1]), k=0)
    with pytest.raises(ValueError, match="unknown average"):
        M.precision(np.array([0]), np.array([0]), average="mean")
    with pytest.raises(TypeError, match="numeric"):
        M.mse(np.array(["a"]), np.array([1.0]))


def test_registry_lists_valid_names() -> None:
    assert M.get_metric("accuracy") is M.accuracy
    assert M.get_metric("F1") is M.f1_score
    with pytest.raises(ValueError, match="unknown metric 'auc'.*accuracy, f1, mae, mse"):
        M.get_metric("auc")
    with pytest.raises(TypeError):
        M.get_metric(3)
    assert M.metric_mode("r2") == "max" and M.metric_mode("mae") == "min"


def _batches(n: int, size: int) -> list[slice]:
    return [slice(i, i + size) for i in range(0, n, size)]


@pytest.mark.parametrize("batch", [1, 7, 64, 1000])
def test_accumulator_equals_whole_set_classification(batch: int) -> None:
    scores, y = _cls_data(301, 6, seed=batch)
    names = ["accuracy", "precision", "recall", "f1", "top3_accuracy"]
    acc = M.MetricAccumulator(names)
    for s in _batches(len(y), batch):
        acc.update(gf.tensor(scores[s]), y[s])
    got = acc.compute()
    for name in names:
        assert got[name] == M.get_metric(name)(scores, y), name  # exactly equal
    np.testing.assert_array_equal(acc.confusion_matrix(), M.confusion_matrix(scores, y))
    assert acc.count == 301


def test_accumulator_grows_when_new_classes_appear() -> None:
    y = np.array([0, 0, 1, 3, 3, 2])
    pred = np.array([0, 1, 1, 3, 2, 2])
    acc = M.MetricAccumulator(["f1", "accuracy"])
    acc.update(pred[:3], y[:3])  # only classes 0, 1 so far
    acc.update(pred[3:], y[3:])
    assert acc.compute() == {"f1": M.f1_score(pred, y), "accuracy": M.accuracy(pred, y)}
    np.testing.assert_array_equal(acc.confusion_matrix(), skm.confusion_matrix(y, pred))


@pytest.mark.parametrize("batch", [1, 13, 500])
def test_accumulator_equals_whole_set_regression(batch: int) -> None:
    rng = np.random.default_rng(batch)
    y = (rng.standard_normal(257) * 3 + 10).astype(np.float32)
    out = y + rng.standard_normal(257).astype(np.float32)
    acc = M.MetricAccumulator(["mse", "rmse", "mae", "r2"])
    for s in _batches(len(y), batch):
        acc.update(out[s, None], y[s])
    got = acc.compute()
    for name in ("mse", "rmse", "mae", "r2"):
        assert got[name] == pytest.approx(M.get_metric(name)(out, y), rel=1e-12, abs=1e-14), name
    assert got["r2"] == pytest.approx(skm.r2_score(y, out), rel=1e-5)


def test_accumulator_reset_empty_and_bad_batch() -> None:
    acc = M.MetricAccumulator(["accuracy"], num_classes=3)
    with pytest.raises(ValueError, match="no batches"):
        acc.compute()
    acc.update(np.array([0, 1]), np.array([0, 0]))
    with pytest.raises(ValueError, match="out of range"):
        acc.update(np.array([5]), np.array([0]))
    assert acc.compute() == {"accuracy": 0.5}  # the bad batch changed nothing
    acc.reset()
    assert acc.count == 0
    with pytest.raises(ValueError, match="unknown metric"):
        M.MetricAccumulator(["accuracy", "bleu"])
