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


# --- issue 22: numbers at the edges of float64, wide tables, model files edited by hand ---------------

def test_standardizer_keeps_a_spread_of_order_1e_300():
    # issue 22 item 6: the squares of deviations of order 1e−300 underflow to 0, so the spread was read
    # as none, replaced by 1.0, and the net learned an all-zero target. y = i·1e−300, i = 0…39: by hand,
    # mean 19.5e−300, std √((40² − 1)/12)·1e−300 = 11.5434…e−300
    y = np.arange(40) * 1e-300
    s = Standardizer.fit(y)
    assert np.isclose(s.mean, 19.5e-300, rtol=1e-12, atol=0) and np.isclose(s.std, 11.543396380615196e-300, rtol=1e-12, atol=0)
    assert np.allclose(s.inverse(s.transform(y)), y, rtol=1e-12, atol=0)
    # a feature of subnormals (x = i·5e−324): not a constant column either
    x = (np.arange(40) * 5e-324)[:, None]
    assert Standardizer.fit(x).std[0] > 0 and np.ptp(Standardizer.fit(x).transform(x)) > 1


def test_standardizer_keeps_a_spread_with_1e308_in_it():
    # issue 22 item 1: 1e308 among small values: the sum overflowed and std was inf. By hand for
    # [1e308, 0 × 39]: mean 2.5e306, std √(1/40 − 1/1600)·1e308 = 1.5612e307
    a = np.r_[1e308, np.zeros(39)]
    s = Standardizer.fit(a)
    assert np.isclose(s.mean, 2.5e306, rtol=1e-12) and np.isclose(s.std, np.sqrt(1 / 40 - 1 / 1600) * 1e308, rtol=1e-12)
    b = np.array([1.7e308, -1.7e308, 1.7e308, -1.7e308])         # the sum overflows: mean 0, std 1.7e308
    s = Standardizer.fit(b)
    assert s.mean == 0.0 and np.isclose(s.std, 1.7e308, rtol=1e-12)


def test_a_wide_table_is_prepared_in_linear_time(tmp_path):
    # issue 22 item 11: each column's name was looked up with list.index, so a table of n columns cost
    # about n²/2 name comparisons (3 rows × 20,000 columns: 18 s to say "too few rows"). The names are
    # counted here as they are compared; not a timing.
    from microreg.data import Preparation, Table, choose_columns, target_values

    class Name(str):
        compared = 0

        def __eq__(self, other):
            Name.compared += 1
            return str.__eq__(self, other)

        __hash__ = str.__hash__

    n = 3000
    header = [Name(f"c{j}") for j in range(n)] + [Name("y")]
    rows = [[str(float(i * j % 7)) for j in range(n)] + [str(float(i))] for i in range(6)]
    table = Table("wide.csv", header, rows)
    columns = choose_columns(table, "y")
    y, kept = target_values(table, "y")
    prep, _ = Preparation.fit(table, "y", columns, kept, y)
    X, _ = prep.features(table)
    assert X.shape == (6, n)
    assert Name.compared < 20 * n, f"{Name.compared} name comparisons for {n} columns (quadratic: about {n * n // 2})"


def test_the_early_check_of_too_few_rows_comes_before_the_preparation(tmp_path, monkeypatch):
    # issue 22 item 11: "too few rows" came after preparing every column (the slow part of a wide table)
    from microreg.data import Preparation
    from microreg.train import train_csv

    def not_yet(*args, **kwargs):
        raise AssertionError("the columns were prepared before the rows were counted")
    monkeypatch.setattr(Preparation, "fit", not_yet)
    p = tmp_path / "wide.csv"
    p.write_text(",".join([f"c{j}" for j in range(50)] + ["y"]) + "\n" + "\n".join(",".join(["1"] * 51) for _ in range(3)) + "\n")
    with pytest.raises(DataError, match="2 rows are too few to hold out 1 for validation"):
        train_csv(p, "y", epochs=1)


GOOD_PREPARATION = {"target": "y", "columns": [{"name": "x", "kind": "number", "median": 1.0},
                                               {"name": "s", "kind": "category", "values": ["a", "b"]}],
                    "x_scaler": {"mean": [1.0, 0.5, 0.5], "std": [2.0, 0.5, 0.5]},
                    "y_scaler": {"mean": [3.0], "std": [4.0]}}


@pytest.mark.parametrize("edit, words", [
    # issue 22 items 8 and 17: each of these gave a TypeError/IndexError traceback from predict, or
    # predictions of nan, inf or a constant with exit 0
    (lambda p: p["columns"][1].update(values=[["a"], ["b"]]), r"column 's': values must be a non-empty list of texts"),
    (lambda p: p["columns"][1].update(values=["a", "a"]), r"column 's': the value 'a' appears twice"),
    (lambda p: p["columns"][0].update(blank=5), r"column 'x': blank must be a list of texts, got 5"),
    (lambda p: p.update(y_scaler={"mean": [], "std": []}), r"y_scaler must hold one mean and one std, got 0 and 0"),
    (lambda p: p["x_scaler"].update(std=[0.0, 0.5, 0.5]), r"x_scaler.std holds 0.0 at position 0: a spread must be"),
    (lambda p: p["x_scaler"].update(std=[1.0, -1.0, 0.5]), r"x_scaler.std holds -1.0 at position 1"),
    (lambda p: p["y_scaler"].update(std=[0.0]), r"y_scaler.std holds 0.0"),
    (lambda p: p["columns"][0].update(name=5), r"columns\[0\]: the name must be text, got 5"),
    (lambda p: p["x_scaler"].update(std=[1.0, 1.0]), r"x_scaler has 3 means but 2 stds"),
    (lambda p: p["x_scaler"].update(mean=[1.0], std=[1.0]), r"x_scaler has 1 columns, the columns encode 3 features"),
    (lambda p: p["columns"][0].update(median=True), r"column 'x': median True is not a finite number"),
    (lambda p: p["columns"].append(dict(p["columns"][0])), r"columns\[2\]: the column 'x' appears twice"),
    (lambda p: p.update(x_scaler=[1.0]), r"x_scaler must be an object with mean and std"),
    (lambda p: p.update(target=["y"]), r"target must be a column name"),
])
def test_a_preparation_edited_by_hand_is_refused_by_key(edit, words):
    from microreg.data import Preparation
    prep = json.loads(json.dumps(GOOD_PREPARATION))
    assert Preparation.from_json(prep).feature_names == ["x", "s=a", "s=b"]
    edit(prep)
    with pytest.raises(DataError, match=f"^model.json: key 'preparation': {words}"):
        Preparation.from_json(prep, source="model.json: key 'preparation'")
