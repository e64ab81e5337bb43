"""Data to learn from: built-in sets made from a seed, and a careful CSV loader.

- ``noisy_line(n, seed)``: y = 2x + 1 + noise, for linear regression (document 002).
- ``noisy_sine(n, seed)``: y = sin(x) + noise, for the two-layer net (document 000).
- ``load_csv(path, target)``: a header row, a target column, numeric features. A bad file gets one
  `DataError` naming the file, the line and the column.
- ``Standardizer``: scale features and target to mean 0, standard deviation 1 (and back).
"""

import csv
import math

import numpy as np


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


def load_csv(path, target):
    """Read a CSV with a header row; return (X, y, feature_names).

    Every cell must be a number (empty cells too are an error, with where they are). Lines are
    counted from 1 as an editor shows them; columns from 1, with the header's name.
    """
    try:
        f = open(path, newline="", encoding="utf-8-sig")
    except FileNotFoundError:
        raise DataError(f"{path}: no such file") from None
    except OSError as exc:
        raise DataError(f"{path}: cannot read: {exc.strerror}") from None
    with f:
        reader = csv.reader(f)
        try:
            header = next(reader, None)
        except csv.Error as exc:
            raise DataError(f"{path}: line 1: {exc}") from None
        if header is None or not any(h.strip() for h in header):
            raise DataError(f"{path}: the file is empty (a header row naming the columns is needed)")
        header = [h.strip() for h in header]
        if all(_is_number(h) for h in header if h):
            raise DataError(f"{path}: line 1: no header row (the first line is all numbers: {','.join(header)[:60]})")
        if target not in header:
            raise DataError(f"{path}: line 1: no column named {target!r} (columns: {', '.join(header)})")
        t = header.index(target)
        rows = []
        try:
            for row in reader:
                line = reader.line_num
                if not row or all(not c.strip() for c in row):
                    continue
                if len(row) != len(header):
                    raise DataError(f"{path}: line {line}: {len(row)} cells, but the header has {len(header)} columns")
                values = []
                for col, cell in enumerate(row):
                    try:
                        v = float(cell)
                    except ValueError:
                        what = "an empty cell" if not cell.strip() else f"{cell.strip()!r} is not a number"
                        raise DataError(f"{path}: line {line}, column {col + 1} ({header[col]}): {what}") from None
                    if not math.isfinite(v):
                        raise DataError(f"{path}: line {line}, column {col + 1} ({header[col]}): {cell.strip()!r} is not finite")
                    values.append(v)
                rows.append(values)
        except csv.Error as exc:
            raise DataError(f"{path}: line {reader.line_num}: {exc}") from None
    if not rows:
        raise DataError(f"{path}: the header is there but no data rows follow")
    data = np.array(rows, dtype=np.float64)
    features = [h for i, h in enumerate(header) if i != t]
    if not features:
        raise DataError(f"{path}: line 1: only the target column {target!r}; at least one feature column is needed")
    return np.delete(data, t, axis=1), data[:, t], features


def _is_number(text):
    try:
        float(text)
        return True
    except ValueError:
        return False


class Standardizer:
    """x ↦ (x − mean)/std per column (std 1 for a constant column), fitted on training data."""

    def __init__(self, mean, std):
        self.mean, self.std = np.asarray(mean, dtype=np.float64), np.asarray(std, dtype=np.float64)

    @classmethod
    def fit(cls, a):
        a = np.asarray(a, dtype=np.float64)
        std = a.std(axis=0)
        return cls(a.mean(axis=0), np.where(std > 0, std, 1.0))

    def transform(self, a):
        return (np.asarray(a, dtype=np.float64) - self.mean) / self.std

    def inverse(self, a):
        return np.asarray(a, dtype=np.float64) * self.std + self.mean

    def to_json(self):
        return {"mean": np.atleast_1d(self.mean).tolist(), "std": np.atleast_1d(self.std).tolist()}

    @classmethod
    def from_json(cls, d, scalar=False):
        mean, std = np.asarray(d["mean"], dtype=np.float64), np.asarray(d["std"], dtype=np.float64)
        return cls(mean[0], std[0]) if scalar else cls(mean, std)


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
