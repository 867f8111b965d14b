"""The user's own CSV table: types, one-hot columns, task rule, and clear errors."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from gradfit.data import load_dataset


def _write(tmp_path: Path, text: str, name: str = "t.csv") -> Path:
    p = tmp_path / name
    p.write_text(text)
    return p


def _rows(n: int, fmt) -> str:
    return "".join(fmt(i) for i in range(n))


def test_numeric_and_categorical_features_with_string_target(tmp_path):
    text = "age,colour,weight,label\n" + _rows(
        20,
        lambda i: f"{i},{['red', 'green', 'blue'][i % 3]},{i * 1.5},{'cat' if i % 2 else 'dog'}\n",
    )
    ds = load_dataset(
        "csv", path=_write(tmp_path, text), target="label", val_fraction=0.0, test_fraction=0.0
    )
    info = ds.description
    assert ds.task == "classification" and info.classes == ("cat", "dog")
    assert info.feature_names == ("age", "colour=blue", "colour=green", "colour=red", "weight")
    x, y = ds.train
    assert x.dtype == np.float32 and y.dtype == np.int64 and x.shape == (20, 5)
    order = np.argsort(x[:, 0])
    x, y = x[order], y[order]
    np.testing.assert_array_equal(x[:, 0], np.arange(20))
    np.testing.assert_allclose(x[:, 4], np.arange(20) * 1.5)
    np.testing.assert_array_equal(x[:, 1:4].sum(1), 1)  # one-hot
    np.testing.assert_array_equal(x[np.arange(20) % 3 == 0, 3], 1)  # red rows
    np.testing.assert_array_equal(y, np.where(np.arange(20) % 2, 0, 1))  # cat=0, dog=1


def test_integer_target_with_few_values_is_classification(tmp_path):
    p = _write(tmp_path, "x,y\n" + _rows(30, lambda i: f"{i},{i % 3}\n"))
    ds = load_dataset("csv", path=p, target="y")
    assert ds.task == "classification" and ds.description.classes == ("0", "1", "2")
    assert sum(ds.sizes.values()) == 30 and ds.sizes["test"] == 6
    assert ds.task == "classification"


def test_real_or_many_valued_target_is_regression(tmp_path):
    p = _write(tmp_path, "x,y\n" + _rows(30, lambda i: f"{i},{i * 0.25}\n"))
    ds = load_dataset("csv", path=p, target="y")
    assert (
        ds.task == "regression" and ds.train.y.shape[1:] == (1,) and ds.train.y.dtype == np.float32
    )
    many = _write(tmp_path, "x,y\n" + _rows(30, lambda i: f"{i},{i}\n"), "many.csv")
    assert load_dataset("csv", path=many, target="y").task == "regression"  # 30 > max_classes
    assert load_dataset("csv", path=many, target="y", max_classes=40).task == "classification"


def test_task_override_and_categorical_option(tmp_path):
    p = _write(tmp_path, "zip,y\n" + _rows(12, lambda i: f"{1000 + i % 2},{i % 2}\n"))
    ds = load_dataset("csv", path=p, target="y", task="regression", categorical=["zip"])
    assert ds.task == "regression"
    assert ds.description.feature_names == ("zip=1000", "zip=1001")


def test_non_numeric_value_names_column_and_line(tmp_path):
    p = _write(tmp_path, "a,b,y\n1,2,0\n3,4,1\n5,oops,0\n7,8,1\n")
    with pytest.raises(ValueError, match=r"'oops' in numeric column 'b' at line 4"):
        load_dataset("csv", path=p, target="y")


def test_empty_cell_names_column_and_line(tmp_path):
    p = _write(tmp_path, "a,b,y\n1,2,0\n3,,1\n5,6,0\n")
    with pytest.raises(ValueError, match=r"empty value in numeric column 'b' at line 3"):
        load_dataset("csv", path=p, target="y")


def test_bad_target_value_in_numeric_target(tmp_path):
    p = _write(tmp_path, "a,y\n1,0.5\n2,1.5\n3,x\n4,2.5\n")
    with pytest.raises(ValueError, match=r"column 'y' at line 4"):
        load_dataset("csv", path=p, target="y")


def test_empty_file_and_header_only(tmp_path):
    with pytest.raises(ValueError, match="empty"):
        load_dataset("csv", path=_write(tmp_path, ""), target="y")
    with pytest.raises(ValueError, match="no data rows"):
        load_dataset("csv", path=_write(tmp_path, "a,y\n", "h.csv"), target="y")


def test_missing_target_lists_columns(tmp_path):
    p = _write(tmp_path, "a,b\n1,2\n")
    with pytest.raises(ValueError, match=r"no target column 'label'; the columns are a, b"):
        load_dataset("csv", path=p, target="label")


def test_wrong_field_count_and_missing_file(tmp_path):
    p = _write(tmp_path, "a,y\n1,0\n2,1,9\n")
    with pytest.raises(ValueError, match="line 3 has 3 fields, the header has 2"):
        load_dataset("csv", path=p, target="y")
    with pytest.raises(FileNotFoundError, match="nope.csv"):
        load_dataset("csv", path=tmp_path / "nope.csv", target="y")


def test_drop_and_quoted_fields(tmp_path):
    p = _write(tmp_path, 'id,name,v,y\n1,"Smith, J",2.5,a\n2,"Doe, A",3.5,b\n3,"Roe, B",1.0,a\n')
    ds = load_dataset("csv", path=p, target="y", drop=["id"], val_fraction=0.0, test_fraction=0.0)
    assert ds.description.feature_names == ("name=Doe, A", "name=Roe, B", "name=Smith, J", "v")
