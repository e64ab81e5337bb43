"""Built-in data sets and the CSV loader's errors (file, line, column)."""

import numpy as np
import pytest

from microreg.data import DataError, Standardizer, load_csv, noisy_line, noisy_sine, split


def test_builtin_data_is_seeded():
    a, b = noisy_sine(50, seed=3), noisy_sine(50, seed=3)
    assert np.array_equal(a[0], b[0]) and np.array_equal(a[1], b[1])
    X, y = noisy_line(500, seed=1, noise=0.0)
    assert X.shape == (500, 1) and np.allclose(y, 2 * X[:, 0] + 1)


def test_load_csv_reads_numbers(tmp_path):
    p = tmp_path / "d.csv"
    p.write_text("a, y ,b\n1,2,3\n\n4,5,6e1\n")
    X, y, names = load_csv(p, "y")
    assert names == ["a", "b"] and X.tolist() == [[1, 3], [4, 60]] and y.tolist() == [2, 5]


@pytest.mark.parametrize("text,words", [
    ("", "the file is empty"),
    ("1,2\n3,4\n", "line 1: no header row"),
    ("a,b\n1,2\n", "line 1: no column named 'y'"),
    ("a,y\n1,2\n3\n", "line 3: 1 cells, but the header has 2 columns"),
    ("a,y\n1,2\n3,abc\n", "line 3, column 2 \\(y\\): 'abc' is not a number"),
    ("a,y\n1,2\n,4\n", "line 3, column 1 \\(a\\): an empty cell"),
    ("a,y\n1,nan\n", "line 2, column 2 \\(y\\): 'nan' is not finite"),
    ("a,y\n", "no data rows"),
    ("y\n1\n", "at least one feature column"),
])
def test_bad_csv_gets_one_clear_error(tmp_path, text, words):
    p = tmp_path / "bad.csv"
    p.write_text(text)
    with pytest.raises(DataError, match=words) as info:
        load_csv(p, "y")
    assert str(p) in str(info.value)


def test_missing_file():
    with pytest.raises(DataError, match="no such file"):
        load_csv("/nope/data.csv", "y")


def test_standardizer_and_split():
    X = np.array([[1.0, 5.0], [3.0, 5.0], [5.0, 5.0]])
    s = Standardizer.fit(X)
    Z = s.transform(X)
    assert np.allclose(Z[:, 0].mean(), 0) and np.allclose(Z[:, 0].std(), 1) and np.all(Z[:, 1] == 0)
    assert np.allclose(s.inverse(Z), X)
    a = split(np.arange(20.0)[:, None], np.arange(20.0), 0.25, seed=1)
    assert a[0].shape == (15, 1) and a[2].shape == (5, 1)
    assert sorted(np.r_[a[1], a[3]].tolist()) == list(range(20))
    with pytest.raises(ValueError, match="between 0 and 1"):
        split(np.ones((5, 1)), np.ones(5), 1.5)
