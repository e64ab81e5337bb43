"""Data to learn from: built-in sets made from a seed, and a careful reader of real CSV files.

- ``noisy_line(n, seed)``: y = 2x + 1 + noise, for linear regression (document 002).
- ``noisy_sine(n, seed)``: y = sin(x) + noise, for the two-layer net (document 000).
- ``read_table(path)``: a CSV as a header and rows of text cells; the delimiter (comma, semicolon,
  tab) and a decimal comma are recognised, a file that is not UTF-8 is read as latin-1 (said in
  ``table.notes``). A bad file gets one `DataError` naming the file, the line and the column.
- ``Preparation``: what turns raw rows into the numbers a net learns from, fitted on training rows
  (number columns with blanks filled by the training median, text columns with few values one-hot
  encoded, others dropped, every choice said in a note; features and target standardized). It is
  saved in model.json, so new rows are prepared exactly as the training rows were.
- ``load_csv(path, target)``: a table of numbers only, as (X, y, feature_names).
- ``Standardizer``: scale features and target to mean 0, standard deviation 1 (and back).
"""

import csv
import io
import math
import re

import numpy as np

from .files import read_input    # a FIFO or /dev/zero is refused, the size capped


class DataError(ValueError):
    """A data file that cannot be used; the message names the file, line and column."""


def noisy_line(n=100, seed=0, slope=2.0, intercept=1.0, noise=0.5):
    """(X, y): X of shape (n, 1) uniform on [-3, 3], y = slope·x + intercept + N(0, noise²)."""
    rng = np.random.default_rng(seed)
    x = rng.uniform(-3, 3, n)
    return x[:, None], slope * x + intercept + noise * rng.normal(size=n)


def noisy_sine(n=200, seed=0, noise=0.1):
    """(X, y): X of shape (n, 1) uniform on [-3, 3], y = sin(x) + N(0, noise²)."""
    rng = np.random.default_rng(seed)
    x = rng.uniform(-3, 3, n)
    return x[:, None], np.sin(x) + noise * rng.normal(size=n)


# --- reading a CSV file ---------------------------------------------------------------------------

MAX_CSV_BYTES = 512 * 1024 * 1024   # a larger CSV is refused (microreg reads it whole, as text)
MISSING = frozenset({"", "na", "n/a", "null", "none", "?"})   # cells that mean "no value" (any case)
MAX_CATEGORIES = 20   # a text column with at most this many distinct values is one-hot encoded
DELIMITERS = {",": "comma", ";": "semicolon", "\t": "tab"}
_DECIMAL_COMMA = re.compile(r"^[+-]?\d+,\d+(?:[eE][+-]?\d+)?$")
_DECIMAL_POINT = re.compile(r"^[+-]?\d*\.\d+(?:[eE][+-]?\d+)?$")


class Table:
    """A CSV file read as text.

    ``header``: the column names; ``rows``: lists of cells (stripped text, as many as the header);
    ``lines``: the line each row starts on (counted from 1, as an editor shows them); ``notes``: what
    the reader assumed (delimiter, decimal comma, encoding), one line each.
    """

    def __init__(self, path, header, rows, lines=None, notes=()):
        self.path, self.header, self.rows = str(path), list(header), rows
        self.lines = list(lines) if lines is not None else list(range(2, len(rows) + 2))
        self.notes = list(notes)
        self._columns = {}
        for j, name in enumerate(self.header):      # name → first column: one dict, not a scan per name
            self._columns.setdefault(name, j)

    def index(self, name, role="column"):
        j = self._columns.get(name)
        if j is None:
            shown = ", ".join(self.header[:20]) + (f", … ({len(self.header)} in all)" if len(self.header) > 20 else "")
            raise DataError(f"{self.path}: line 1: no column named {name!r} (columns: {shown})")
        return j

    def has(self, name):
        return name in self._columns

    def where(self, row, col):
        """'file: line L, column C (name)' for row index ``row`` and column index ``col``."""
        return f"{self.path}: line {self.lines[row]}, column {col + 1} ({self.header[col]})"


def _wide_encoding(raw):
    """'utf-32' or 'utf-16' when raw starts with that encoding's byte-order mark, else None."""
    import codecs
    if raw.startswith((codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE)):   # before UTF-16: FF FE 00 00 starts with FF FE
        return "utf-32"
    if raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    return None


def read_table(path):
    """Read a CSV file with a header row into a `Table` of text cells; errors name file, line, column."""
    try:
        raw = read_input(path, MAX_CSV_BYTES)
    except FileNotFoundError:
        raise DataError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise DataError(f"{path}: is a folder, not a CSV file") from None
    except OSError as exc:
        raise DataError(f"{path}: cannot read: {exc.strerror}") from None
    notes = []
    wide = _wide_encoding(raw)
    if wide:   # PowerShell's `>` and Excel's "Unicode Text" write UTF-16 with a byte-order mark
        try:
            text = raw.decode(wide)
        except UnicodeDecodeError as exc:
            raise DataError(f"{path}: starts with a {wide.upper()} byte-order mark, but byte {exc.start} is not "
                            f"{wide.upper()} text ({exc.reason}): save it as UTF-8") from None
        notes.append(f"{path}: {wide.upper()} text (read as such; UTF-8 is the usual CSV encoding)")
    else:
        text = None
    try:
        text = raw.decode("utf-8-sig") if text is None else text
    except UnicodeDecodeError as exc:
        line = raw[:exc.start].count(b"\n") + 1
        text = raw.decode("latin-1")
        notes.append(f"{path}: not UTF-8 (line {line}: byte 0x{raw[exc.start]:02x}: {exc.reason}); read as latin-1")
    if "\x00" in text:
        half = len(raw) // 2
        if half and max(raw[0::2].count(0), raw[1::2].count(0)) > 0.8 * half:   # every other byte NUL
            raise DataError(f"{path}: has NUL bytes between the letters: UTF-16 text without a byte-order mark? "
                            "save it as UTF-8")
        raise DataError(f"{path}: has NUL bytes: not a text CSV file (a spreadsheet? export it as CSV)")
    if not text.strip():
        raise DataError(f"{path}: the file is empty (a header row naming the columns is needed)")
    delimiter = _sniff(text)
    if delimiter != ",":
        notes.append(f"{path}: {DELIMITERS[delimiter]}-separated")
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    rows, lines, start, header = [], [], 1, None
    try:
        for row in reader:
            if header is None:
                header = row
            elif row:   # a blank line is skipped; a row of empty cells is kept (its cells are blanks)
                rows.append(row)
                lines.append(start)
            start = reader.line_num + 1
    except csv.Error as exc:
        if "unexpected end of data" in str(exc):
            raise DataError(f"{path}: line {start}: a quoted cell opens here and is never closed "
                            '(a missing closing ")') from None
        raise DataError(f"{path}: line {reader.line_num}: {exc}") from None
    header = [h.strip() for h in header]
    _check_header(path, header)
    for row, line in zip(rows, lines):
        if len(row) != len(header):
            raise DataError(f"{path}: line {line}: {len(row)} cells, but the header has {len(header)} columns")
    rows = [[c.strip() for c in row] for row in rows]
    if delimiter != ",":
        comma = any(_DECIMAL_COMMA.match(c) for row in rows for c in row)
        point = any(_DECIMAL_POINT.match(c) for row in rows for c in row)
        if comma and point:
            notes.append(f"{path}: both decimal commas (3,5) and points (3.5) appear: commas not read as points")
        elif comma:
            notes.append(f"{path}: decimal commas read as points (3,5 is 3.5)")
            rows = [[c.replace(",", ".") if _DECIMAL_COMMA.match(c) else c for c in row] for row in rows]
    if not rows:
        raise DataError(f"{path}: the header is there but no data rows follow")
    return Table(path, header, rows, lines, notes)


def _sniff(text):
    """The delimiter: csv.Sniffer's guess among comma, semicolon and tab, else the one the header uses most."""
    sample = "\n".join(text.splitlines()[:50])
    try:
        return csv.Sniffer().sniff(sample, delimiters="".join(DELIMITERS)).delimiter
    except csv.Error:
        first = next(line for line in text.splitlines() if line.strip())
        counts = {d: first.count(d) for d in DELIMITERS}
        best = max(counts, key=counts.get)
        return best if counts[best] else ","


def _check_header(path, header):
    if not any(header):
        raise DataError(f"{path}: line 1: the header row is empty")
    if all(_is_number(h) for h in header if h):
        raise DataError(f"{path}: line 1: no header row (the first line is all numbers: {','.join(header)[:60]})")
    unnamed = [str(i + 1) for i, h in enumerate(header) if not h]
    if unnamed:
        raise DataError(f"{path}: line 1: column {', '.join(unnamed)} has no name (every column needs one)")
    seen = {}
    for i, h in enumerate(header):
        seen.setdefault(h, []).append(str(i + 1))
    twice = [f"{h!r} (columns {' and '.join(cols)})" for h, cols in seen.items() if len(cols) > 1]
    if twice:
        raise DataError(f"{path}: line 1: duplicate column names: {', '.join(twice)}")


def _is_number(text):
    try:
        float(text)
        return True
    except ValueError:
        return False


def _number(cell):
    """A cell as a float, None for a blank (or NA, ?, …); ValueError for text."""
    if cell.lower() in MISSING:
        return None
    return float(cell)


def target_values(table, target, strict=False):
    """(y, rows): the target's numbers and the indices of the rows that have one.

    A blank target drops its row (``--strict``: an error); text or a non-finite number is an error.
    """
    t = table.index(target)
    y, kept = [], []
    for i, row in enumerate(table.rows):
        try:
            v = _number(row[t])
        except ValueError:
            raise DataError(f"{table.where(i, t)}: {row[t]!r} is not a number (the target must be numbers)") from None
        if v is None:
            if strict:
                raise DataError(f"{table.where(i, t)}: the target is blank (--strict)")
            continue
        if not math.isfinite(v):
            raise DataError(f"{table.where(i, t)}: {row[t]!r} is not finite")
        y.append(v)
        kept.append(i)
    if not kept:
        raise DataError(f"{table.path}: column {target!r}: no row has a target value")
    return np.array(y, dtype=np.float64), kept


def choose_columns(table, target, features=None, drop=()):
    """The feature columns: ``features`` if given, else every column but the target and ``drop``."""
    table.index(target)
    for flag, names in (("--features", features or ()), ("--drop", drop)):
        unknown = [n for n in names if not table.has(n)]
        if unknown:
            raise DataError(f"{table.path}: {flag}: no column named {', '.join(map(repr, unknown))} "
                            f"(columns: {', '.join(table.header)})")
    features, drop = set(features or ()), set(drop)
    if features:
        if target in features:
            raise DataError(f"--features: {target!r} is the target; it cannot also be a feature")
        columns = [h for h in table.header if h in features and h not in drop]
    else:
        columns = [h for h in table.header if h != target and h not in drop]
    if not columns:
        raise DataError(f"{table.path}: line 1: only the target column {target!r}; at least one feature column is needed")
    return columns


def _id_like(numbers, rows):
    """Whether a number column looks like a row id: a different whole number in every row (of at least
    20), and together nearly a run of consecutive integers (1, 2, 3, … in any order, a few missing)."""
    if rows < 20 or len(numbers) < rows or len(set(numbers)) < rows:
        return False
    if any(v != int(v) for v in numbers):
        return False
    return max(numbers) - min(numbers) + 1 <= 1.5 * rows


class Preparation:
    """Raw rows → the standardized numbers the net learns from, and its outputs → the target's units.

    ``columns``: one entry per input column kept, ``{"name", "kind": "number", "median"}`` or
    ``{"name", "kind": "category", "values": [...]}`` (one-hot: a 1 in the column of its value,
    zeros for a blank or a value not seen in training). ``x_scaler``/``y_scaler``: `Standardizer`s.
    """

    def __init__(self, target, columns, x_scaler, y_scaler):
        self.target, self.columns, self.x_scaler, self.y_scaler = target, columns, x_scaler, y_scaler

    @property
    def inputs(self):
        """The names of the raw columns a row must have."""
        return [c["name"] for c in self.columns]

    @property
    def feature_names(self):
        """The names of the encoded features (``Origin=Japan`` for a one-hot column)."""
        return [name for c in self.columns for name in
                ([c["name"]] if c["kind"] == "number" else [f"{c['name']}={v}" for v in c["values"]])]

    @classmethod
    def fit(cls, table, target, columns, rows, y, strict=False):
        """Decide each column's encoding from the training ``rows`` of ``table``; returns (prep, notes)."""
        notes, kept = [], []
        for name in columns:
            j = table.index(name)
            cells = [table.rows[i][j] for i in rows]
            present = [c for c in cells if c.lower() not in MISSING]
            numbers, texts = [], []
            for c in present:
                try:
                    v = float(c)
                    (numbers if math.isfinite(v) else texts).append(v if math.isfinite(v) else c)
                except ValueError:
                    texts.append(c)
            if not present:
                notes.append(f"column {name!r}: no values in the training rows: dropped")
            elif not texts:
                kept.append({"name": name, "kind": "number", "median": float(np.median(numbers))})
                if _id_like(numbers, len(cells)):
                    notes.append(f"column {name!r}: a different whole number in every row, like a row id: used "
                                 f"as a feature (if it only numbers the rows, --drop {name} leaves it out)")
            elif len(numbers) >= 0.9 * len(present) and len(set(texts)) <= 3 and not strict:
                kept.append({"name": name, "kind": "number", "median": float(np.median(numbers)),
                             "blank": sorted(set(texts))})
                notes.append(f"column {name!r}: numbers, and {len(texts)} cells {sorted(set(texts))} read as blanks")
            elif len(numbers) >= 0.9 * len(present):
                i = rows[cells.index(texts[0])] if texts[0] in cells else rows[0]
                raise DataError(f"{table.where(i, j)}: {texts[0]!r} is not a number (--strict)")
            else:
                values = sorted(set(present))
                if len(values) <= MAX_CATEGORIES and len(values) < len(present):
                    kept.append({"name": name, "kind": "category", "values": values})
                    shown = ", ".join(values[:6]) + (", …" if len(values) > 6 else "")
                    notes.append(f"column {name!r}: text with {len(values)} values ({shown}): one-hot encoded")
                else:
                    notes.append(f"column {name!r}: text with {len(values)} distinct values: dropped "
                                 "(--features or --drop to choose columns)")
        if not kept:
            raise DataError(f"{table.path}: no usable feature column (every one was dropped)")
        prep = cls(target, kept, None, None)
        X, _ = prep.encode(table, rows, strict=strict)
        prep.x_scaler, prep.y_scaler = Standardizer.fit(X), Standardizer.fit(y)
        return prep, notes

    def encode(self, table, rows=None, strict=False):
        """(X, blanks): the encoded, unscaled features of ``rows`` (default all) and {column: cells filled}."""
        rows = range(len(table.rows)) if rows is None else rows
        missing = [c["name"] for c in self.columns if not table.has(c["name"])]
        if missing:
            raise DataError(f"{table.path}: line 1: no column named {', '.join(map(repr, missing))} "
                            f"(the model needs {', '.join(self.inputs)})")
        blocks, blanks = [], {}
        for c in self.columns:
            j = table.index(c["name"])
            cells = [table.rows[i][j] for i in rows]
            if c["kind"] == "number":
                col, filled = np.empty(len(cells)), 0
                as_blank = set(c.get("blank", ()))
                for k, cell in enumerate(cells):
                    try:
                        v = None if cell in as_blank else _number(cell)
                    except ValueError:
                        raise DataError(f"{table.where(rows[k], j)}: {cell!r} is not a number") from None
                    if v is None:
                        if strict:
                            raise DataError(f"{table.where(rows[k], j)}: an empty cell (--strict)")
                        v, filled = c["median"], filled + 1
                    elif not math.isfinite(v):
                        raise DataError(f"{table.where(rows[k], j)}: {cell!r} is not finite")
                    col[k] = v
                blocks.append(col[:, None])
            else:
                index = {v: m for m, v in enumerate(c["values"])}
                col, filled = np.zeros((len(cells), len(index))), 0
                for k, cell in enumerate(cells):
                    if cell.lower() in MISSING:
                        if strict:
                            raise DataError(f"{table.where(rows[k], j)}: an empty cell (--strict)")
                        filled += 1
                    elif cell in index:
                        col[k, index[cell]] = 1.0
                    else:
                        filled += 1   # a value not seen in training: no column of its own, all zeros
                blocks.append(col)
            if filled:
                blanks[c["name"]] = filled
        return np.hstack(blocks), blanks

    def features(self, table, rows=None, strict=False):
        """(standardized X, blanks) for ``rows`` of ``table``."""
        X, blanks = self.encode(table, rows, strict)
        return self.x_scaler.transform(X), blanks

    def to_json(self):
        return {"target": self.target, "columns": self.columns, "x_scaler": self.x_scaler.to_json(),
                "y_scaler": self.y_scaler.to_json()}

    @classmethod
    def from_json(cls, d, source="preparation"):
        """From what `to_json` wrote; every key and value checked, so a file edited by hand is refused
        in one line naming the key, never a traceback or a silent nan at prediction time."""
        try:
            if not isinstance(d, dict):
                raise ValueError(f"must be an object, got {_short(d)}")
            columns = d["columns"]
            if not isinstance(columns, list) or not columns:
                raise ValueError(f"columns must be a non-empty list, got {_short(columns)}")
            names = set()
            for i, c in enumerate(columns):
                _check_column(i, c)
                if c["name"] in names:
                    raise ValueError(f"columns[{i}]: the column {c['name']!r} appears twice")
                names.add(c["name"])
            if not isinstance(d["target"], str):
                raise ValueError(f"target must be a column name, got {_short(d['target'])}")
            x = Standardizer.from_json(d["x_scaler"], name="x_scaler")
            y = Standardizer.from_json(d["y_scaler"], scalar=True, name="y_scaler")
            width = sum(1 if c["kind"] == "number" else len(c["values"]) for c in columns)
            if x.mean.shape != (width,):
                raise ValueError(f"x_scaler has {x.mean.size} columns, the columns encode {width} features")
            return cls(d["target"], columns, x, y)
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise DataError(f"{source}: {exc if not isinstance(exc, KeyError) else f'key {exc} is missing'}") from None


def _check_column(i, c):
    """One entry of a preparation's columns, as `Preparation.fit` writes them."""
    if not isinstance(c, dict):
        raise ValueError(f"columns[{i}] must be an object, got {_short(c)}")
    for key in ("name", "kind"):
        if key not in c:
            raise ValueError(f"columns[{i}]: key {key!r} is missing")
    if not isinstance(c["name"], str):
        raise ValueError(f"columns[{i}]: the name must be text, got {_short(c['name'])}")
    where = f"column {c['name']!r}"
    if c["kind"] == "number":
        if not _is_json_number(c.get("median")) or not math.isfinite(c["median"]):
            raise ValueError(f"{where}: median {_short(c.get('median'))} is not a finite number")
        blank = c.get("blank", [])
        if not isinstance(blank, list) or not all(isinstance(v, str) for v in blank):
            raise ValueError(f"{where}: blank must be a list of texts, got {_short(blank)}")
    elif c["kind"] == "category":
        values = c.get("values")
        if not isinstance(values, list) or not values or not all(isinstance(v, str) for v in values):
            raise ValueError(f"{where}: values must be a non-empty list of texts, got {_short(values)}")
        if len(set(values)) != len(values):
            twice = next(v for v in values if values.count(v) > 1)
            raise ValueError(f"{where}: the value {twice!r} appears twice in values")
    else:
        raise ValueError(f"{where}: unknown kind {_short(c['kind'])} (number or category)")


def load_csv(path, target):
    """Read a CSV of numbers only; return (X, y, feature_names).

    Every cell must be a number (an empty cell is an error, with where it is). For real files with
    text columns and blanks, use `read_table` and `Preparation` (as ``microreg train`` does).
    """
    table = read_table(path)
    t = table.index(target)
    features = [h for h in table.header if h != target]
    if not features:
        raise DataError(f"{path}: line 1: only the target column {target!r}; at least one feature column is needed")
    data = np.empty((len(table.rows), len(table.header)))
    for i, row in enumerate(table.rows):
        for j, cell in enumerate(row):
            try:
                v = float(cell)
            except ValueError:
                what = "an empty cell" if not cell else f"{cell!r} is not a number"
                raise DataError(f"{table.where(i, j)}: {what}") from None
            if not math.isfinite(v):
                raise DataError(f"{table.where(i, j)}: {cell!r} is not finite")
            data[i, j] = v
    return np.delete(data, t, axis=1), data[:, t], features

class Standardizer:
    """x ↦ (x − mean)/std per column (std 1 for a constant column), fitted on training data."""

    def __init__(self, mean, std):
        self.mean, self.std = np.asarray(mean, dtype=np.float64), np.asarray(std, dtype=np.float64)

    @classmethod
    def fit(cls, a):
        a = np.asarray(a, dtype=np.float64)
        with np.errstate(over="ignore", under="ignore", invalid="ignore"):
            mean, std = a.mean(axis=0), a.std(axis=0)
            # at the edges of float64 the plain formulas fail: the sum of 1e308 and 1e308 overflows, the
            # squares of deviations of order 1e−300 underflow to 0 (a spread read as none). There,
            # divide by the largest magnitude first and multiply back.
            edge = ~(np.isfinite(mean) & np.isfinite(std)) | (std < 1e-150)
            if np.any(edge):
                scale = np.max(np.abs(a), axis=0)
                scale = np.where(scale > 0, scale, 1.0)
                b = a / scale
                mean = np.where(edge, b.mean(axis=0) * scale, mean)
                std = np.where(edge, b.std(axis=0) * scale, std)
        return cls(mean, np.where(std > 0, std, 1.0))

    def transform(self, a):
        return (np.asarray(a, dtype=np.float64) - self.mean) / self.std

    def inverse(self, a):
        return np.asarray(a, dtype=np.float64) * self.std + self.mean

    def to_json(self):
        return {"mean": np.atleast_1d(self.mean).tolist(), "std": np.atleast_1d(self.std).tolist()}

    @classmethod
    def from_json(cls, d, scalar=False, name="scaler"):
        """From ``{"mean": [...], "std": [...]}``; every number checked: finite means, positive finite
        spreads (a standardizer never writes 0: a constant column gets 1), one of each for a scalar."""
        if not isinstance(d, dict):
            raise ValueError(f"{name} must be an object with mean and std, got {_short(d)}")
        parts = {}
        for key in ("mean", "std"):
            if key not in d:
                raise ValueError(f"{name}: key {key!r} is missing")
            values = d[key]
            if not isinstance(values, list) or not all(_is_json_number(v) for v in values):
                raise ValueError(f"{name}.{key} must be a list of numbers, got {_short(values)}")
            parts[key] = np.asarray(values, dtype=np.float64)
        mean, std = parts["mean"], parts["std"]
        if scalar and (mean.size != 1 or std.size != 1):
            raise ValueError(f"{name} must hold one mean and one std, got {mean.size} and {std.size}")
        if mean.size != std.size:
            raise ValueError(f"{name} has {mean.size} means but {std.size} stds")
        if not np.isfinite(mean).all():
            raise ValueError(f"{name}.mean holds {_short(mean[~np.isfinite(mean)][0])}, not a finite number")
        bad = ~(np.isfinite(std) & (std > 0))
        if bad.any():
            raise ValueError(f"{name}.std holds {_short(float(std[bad][0]))} at position {int(np.flatnonzero(bad)[0])}: "
                             "a spread must be a finite number > 0")
        return cls(mean[0], std[0]) if scalar else cls(mean, std)


def _is_json_number(v):
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _short(value):
    text = " ".join(repr(value).split())
    return text if len(text) <= 40 else text[:37] + "..."


def split(X, y, fraction, seed=0):
    """A seeded random train/test split: (X_train, y_train, X_test, y_test)."""
    if not 0 < fraction < 1:
        raise ValueError(f"--test-fraction must be between 0 and 1, got {fraction}")
    n = X.shape[0]
    n_test = max(1, int(round(n * fraction)))
    if n - n_test < 2:
        raise ValueError(f"{n} rows are too few to hold out {n_test} for testing")
    order = np.random.default_rng(seed).permutation(n)
    test, train = order[:n_test], order[n_test:]
    return X[train], y[train], X[test], y[test]
