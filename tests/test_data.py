"""Built-in data sets and the CSV loader's errors (file, line, column)."""

import json

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


# --- real, messy CSV files: read_table and Preparation ------------------------------------------

from microreg.data import Preparation, choose_columns, read_table, target_values  # noqa: E402


def _write(tmp_path, text, name="d.csv", encoding="utf-8"):
    p = tmp_path / name
    p.write_bytes(text.encode(encoding))
    return p


@pytest.mark.parametrize("text,notes", [
    ("a;b;y\n1,5;2;3\n2,25;4;5\n", ["semicolon-separated", "decimal commas read as points"]),
    ("a\tb\ty\n1.5\t2\t3\n2.25\t4\t5\n", ["tab-separated"]),
    ("a,b,y\n1.5,2,3\n2.25,4,5\n", []),
])
def test_delimiter_and_decimal_comma_are_recognised(tmp_path, text, notes):
    t = read_table(_write(tmp_path, text))
    assert t.header == ["a", "b", "y"] and t.rows == [["1.5", "2", "3"], ["2.25", "4", "5"]], t.rows
    assert len(t.notes) == len(notes) and all(n in got for n, got in zip(notes, t.notes)), t.notes


def test_an_ambiguous_decimal_comma_is_left_alone_and_said(tmp_path):
    t = read_table(_write(tmp_path, "a;y\n1,5;2\n2.5;3\n"))
    assert t.rows == [["1,5", "2"], ["2.5", "3"]] and "commas not read as points" in t.notes[-1], t.notes


@pytest.mark.parametrize("text,words", [
    ("x,y,y\n1,2,3\n", "line 1: duplicate column names: 'y' \\(columns 2 and 3\\)"),
    ("x,,y\n1,2,3\n", "line 1: column 2 has no name"),
    ('x,y\n1,2\n3,"4\n5,6\n', 'line 3: a quoted cell opens here and is never closed'),
    ("x,y\n1,2\n3\n", "line 3: 1 cells, but the header has 2 columns"),
])
def test_bad_headers_and_quotes_are_named(tmp_path, text, words):
    p = _write(tmp_path, text)
    with pytest.raises(DataError, match=words) as info:
        read_table(p)
    assert str(p) in str(info.value)


def test_a_file_that_is_not_utf8_is_read_as_latin1_and_said(tmp_path):
    t = read_table(_write(tmp_path, "ville,y\nQuébec,1\nParis,2\n", encoding="latin-1"))
    assert t.rows[0] == ["Québec", "1"]
    assert "d.csv: not UTF-8 (line 2: byte 0xe9" in t.notes[0] and "read as latin-1" in t.notes[0], t.notes


@pytest.mark.parametrize("encoding,name", [("utf-16", "UTF-16"), ("utf-16-be", "UTF-16"), ("utf-32", "UTF-32")])
def test_utf16_and_utf32_with_a_byte_order_mark_are_read_and_said(tmp_path, encoding, name):
    # PowerShell 5's `>` and Excel's "Unicode Text" write UTF-16 with a BOM; "utf-16-be" here gets one by hand
    text = "ville\ty\nQuébec\t1,5\nZürich\t2\n"
    data = text.encode(encoding) if encoding != "utf-16-be" else b"\xfe\xff" + text.encode("utf-16-be")
    p = tmp_path / "d.csv"
    p.write_bytes(data)
    t = read_table(p)
    assert t.header == ["ville", "y"] and t.rows == [["Québec", "1.5"], ["Zürich", "2"]], (t.header, t.rows)
    assert f"d.csv: {name} text" in t.notes[0], t.notes


def test_utf16_without_a_mark_and_a_spreadsheet_get_different_advice(tmp_path):
    p = tmp_path / "d.csv"
    p.write_bytes("x,y\n1,2\n".encode("utf-16-le"))   # no BOM: every other byte is NUL
    with pytest.raises(DataError, match="UTF-16 text without a byte-order mark\\? save it as UTF-8"):
        read_table(p)
    p.write_bytes(b"PK\x03\x04\x14\x00\x00\x00\x08\x00xl/workbook.xml" * 3)   # the start of an .xlsx (a zip)
    with pytest.raises(DataError, match="has NUL bytes: not a text CSV file \\(a spreadsheet"):
        read_table(p)


def test_a_row_of_only_commas_is_a_row_of_blanks(tmp_path):
    t = read_table(_write(tmp_path, "x,y\n1,2\n,\n\n3,4\n"))
    assert t.rows == [["1", "2"], ["", ""], ["3", "4"]] and t.lines == [2, 3, 5], (t.rows, t.lines)
    y, rows = target_values(t, "y")
    assert y.tolist() == [2, 4] and rows == [0, 2]
    with pytest.raises(DataError, match="line 3, column 2 \\(y\\): the target is blank \\(--strict\\)"):
        target_values(t, "y", strict=True)


def test_text_columns_are_one_hot_or_dropped_and_blanks_get_the_median(tmp_path):
    text = ("name,origin,hp,y\n" + "a,USA,100,1\nb,Japan,,2\nc,USA,80,3\nd,Europe,90,4\ne,,130,5\nf,Japan,NA,6\n")
    t = read_table(_write(tmp_path, text))
    columns = choose_columns(t, "y")
    y, rows = target_values(t, "y")
    prep, notes = Preparation.fit(t, "y", columns, rows, y)
    assert prep.inputs == ["origin", "hp"] and prep.feature_names == ["origin=Europe", "origin=Japan", "origin=USA", "hp"]
    assert any("'name': text with 6 distinct values: dropped" in n for n in notes), notes
    assert any("'origin': text with 3 values (Europe, Japan, USA): one-hot encoded" in n for n in notes), notes
    X, blanks = prep.encode(t)
    # hp's training median: the median of 100, 80, 90, 130 is (90 + 100)/2 = 95
    assert X[:, 3].tolist() == [100, 95, 80, 90, 130, 95] and blanks == {"origin": 1, "hp": 2}, (X, blanks)
    assert X[4, :3].tolist() == [0, 0, 0] and X[1, :3].tolist() == [0, 1, 0]
    with pytest.raises(DataError, match="line 6, column 2 \\(origin\\): an empty cell \\(--strict\\)"):
        prep.encode(t, strict=True)
    again = Preparation.from_json(json.loads(json.dumps(prep.to_json())))
    assert np.array_equal(again.features(t)[0], prep.features(t)[0])


def test_choose_columns_names_unknown_flags(tmp_path):
    t = read_table(_write(tmp_path, "a,b,y\n1,2,3\n"))
    assert choose_columns(t, "y", features=["b"]) == ["b"] and choose_columns(t, "y", drop=["a"]) == ["b"]
    with pytest.raises(DataError, match="--drop: no column named 'c'"):
        choose_columns(t, "y", drop=["c"])
    with pytest.raises(DataError, match="--features: no column named 'zz'"):
        choose_columns(t, "y", features=["zz"])


def test_a_text_target_is_an_error_naming_the_cell(tmp_path):
    t = read_table(_write(tmp_path, "a,y\n1,2\n2,big\n"))
    with pytest.raises(DataError, match="line 3, column 2 \\(y\\): 'big' is not a number"):
        target_values(t, "y")
