"""Baselines on digits, regression and ratings: sane values, complete rows, clear errors."""

from __future__ import annotations

import numpy as np
import pytest

from gradfit.train.baselines import baselines, baselines_table, format_baselines


@pytest.fixture(scope="module")
def digits_rows() -> list[dict]:
    from gradfit.data import load_dataset

    return baselines(load_dataset("digits"))


def test_digits_rows_are_complete_and_sane(digits_rows: list[dict]) -> None:
    names = [r["name"] for r in digits_rows]
    assert names == ["majority class", "logistic regression", "decision tree", "random forest"]
    for r in digits_rows:
        assert set(r) == {"name", "accuracy", "fit_time", "n_train"}
        assert 0.0 <= r["accuracy"] <= 1.0
        assert 0.0 <= r["fit_time"] < 30
    acc = {r["name"]: r["accuracy"] for r in digits_rows}
    assert acc["majority class"] < 0.15  # ten balanced classes
    assert acc["logistic regression"] > 0.9
    assert acc["logistic regression"] > acc["majority class"] + 0.7
    assert acc["random forest"] > 0.9


def test_tuple_input_with_image_shaped_sklearn_digits() -> None:
    from sklearn.datasets import load_digits

    X, y = load_digits(return_X_y=True)
    X = X.reshape(-1, 1, 8, 8) / 16.0  # images are flattened
    rows = baselines((X[:1200], y[:1200], X[1200:], y[1200:]), seed=1)
    acc = {r["name"]: r["accuracy"] for r in rows}
    assert acc["logistic regression"] > 0.85 > 0.2 > acc["majority class"]
    assert all(r["n_train"] == 1200 for r in rows)


def test_regression_rows() -> None:
    rng = np.random.default_rng(0)
    X = rng.normal(size=(300, 3)).astype(np.float32)
    y = (X @ np.array([1.0, -2.0, 0.5]) + 0.1 * rng.normal(size=300)).astype(np.float32)
    rows = baselines((X[:200], y[:200], X[200:], y[200:]))
    by = {r["name"]: r for r in rows}
    assert list(by) == [
        "mean",
        "linear regression",
        "ridge regression",
        "decision tree",
        "random forest",
    ]
    assert abs(by["mean"]["r2"]) < 0.1
    assert by["linear regression"]["r2"] > 0.99 and by["linear regression"]["rmse"] < 0.2
    assert by["mean"]["rmse"] == pytest.approx(
        np.sqrt(((y[200:] - y[:200].mean()) ** 2).mean()), rel=1e-5
    )
    assert all({"rmse", "r2", "fit_time"} <= set(r) for r in rows)


def test_ratings_baselines_from_dataset() -> None:
    from gradfit.data import load_dataset

    ds = load_dataset("synthetic-ratings")
    rows = baselines(ds)
    by = {r["name"]: r for r in rows}
    assert list(by) == ["global mean", "user/item bias"]
    y_test = ds.test.y.astype(np.float64)
    mean_rmse = np.sqrt(((y_test - ds.train.y.mean()) ** 2).mean())
    assert by["global mean"]["rmse"] == pytest.approx(mean_rmse, rel=1e-5)
    assert by["user/item bias"]["rmse"] < by["global mean"]["rmse"]


def test_subsampling_is_seeded_and_reported() -> None:
    rng = np.random.default_rng(0)
    X = rng.normal(size=(500, 4))
    y = (X[:, 0] > 0).astype(np.int64)
    a = baselines((X[:400], y[:400], X[400:], y[400:]), max_train_samples=100, seed=3)
    b = baselines((X[:400], y[:400], X[400:], y[400:]), max_train_samples=100, seed=3)
    assert [r["n_train"] for r in a] == [100] * 4
    assert [r["accuracy"] for r in a] == [r["accuracy"] for r in b]


def test_bad_inputs() -> None:
    X, y = np.zeros((4, 2)), np.array([0, 1, 0, 1])
    with pytest.raises(
        ValueError, match="unknown task 'ranking'; valid tasks: classification, regression, ratings"
    ):
        baselines((X, y, X, y), task="ranking")
    with pytest.raises(ValueError, match="tuple \\(X_train, y_train, X_test, y_test\\)"):
        baselines((X, y))
    with pytest.raises(TypeError, match="load_dataset"):
        baselines(42)
    with pytest.raises(ValueError, match="differ in length"):
        baselines((X, y[:3], X, y))
    with pytest.raises(ValueError, match="\\(user, item\\) pairs"):
        baselines((X, y.astype(float), X, y.astype(float)), task="ratings")


def test_tables_show_network_first_and_mark_the_best(digits_rows: list[dict]) -> None:
    net = {"name": "network (mlp)", "accuracy": 0.99, "fit_time": 3.0}
    text = format_baselines(digits_rows, net)
    lines = text.splitlines()
    assert lines[0].split()[:3] == ["model", "test", "accuracy"]
    assert lines[1].startswith("network (mlp)") and "99.00%*" in lines[1]
    assert len(lines) == 1 + 1 + len(digits_rows)
    assert sum("*" in line for line in lines) == 1
    table = baselines_table(digits_rows, net)
    assert table.row_count == 1 + len(digits_rows)
