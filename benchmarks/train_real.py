"""`microreg train` with its defaults on real tables shipped inside pip packages, against scikit-learn.

    pip install '.[bench]'
    PYTHONPATH=. python benchmarks/train_real.py [--seeds 0 1 2] [--markdown]

Data sets (all read from files inside installed packages; nothing is downloaded):
- diabetes: scikit-learn's ``load_diabetes(scaled=False)`` (442 rows, 10 numeric features; target:
  disease progression after one year).
- cars: vega_datasets' local ``cars`` (auto-mpg: 406 rows; target Miles_per_Gallon, 8 of them
  blank; Horsepower has blanks; Origin is text; Name is text with ~300 values).
- penguins: palmerpenguins' ``penguins.csv`` (344 rows; target body_mass_g, 2 blank; species,
  island and sex are text, with NA cells).
- seattle-weather: vega_datasets' local ``seattle-weather.csv`` (1461 rows; target temp_max; a date
  column (dropped: one value per row) and a text weather column).
- sine-table: made here from a fixed seed, the table a new user tried (300 rows): y = sin(x1) +
  0.5·x2 + a category's effect + noise (σ = 0.2), 3% blank cells in x1 and x2, a text column with
  5 values unrelated to y, and an ``id`` column (1, 2, 3, …).

With ``--seeds 0 1 2 3 4 5 6 7 8 9`` it also prints, per data set, the spread of the test R² over
the seeds (mean, standard deviation, worst) for microreg and for the closed form on the same splits,
and in how many runs the net does worse than the closed form.

For each, the CSV is written as the package ships it (cars from its JSON), `microreg train` runs
with its defaults (`microreg.train.train_csv`: the function the command runs), and scikit-learn's
`LinearRegression` and `MLPRegressor` (defaults, ``random_state`` = the seed) are fitted on the same
split and the same preparation (the prepared, standardized features of the same training rows, and
the standardized target, mapped back). Test R² is printed for each.
"""

import argparse
import csv
import json
import os
import shutil
import sys
import tempfile
import time
import warnings

import numpy as np


def write_datasets(folder):
    """{name: (csv path, target)} for the data sets, written into ``folder``."""
    from importlib.resources import files

    out = {}
    from sklearn.datasets import load_diabetes
    d = load_diabetes(scaled=False)
    path = os.path.join(folder, "diabetes.csv")
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow([*d.feature_names, "progression"])
        for row, t in zip(d.data, d.target):
            w.writerow([*(repr(float(v)) for v in row), repr(float(t))])
    out["diabetes"] = (path, "progression")

    rows = json.loads((files("vega_datasets") / "_data" / "cars.json").read_text())
    path = os.path.join(folder, "cars.csv")
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(list(rows[0]))
        for r in rows:
            w.writerow(["" if v is None else v for v in r.values()])
    out["cars"] = (path, "Miles_per_Gallon")

    path = os.path.join(folder, "penguins.csv")
    shutil.copy(files("palmerpenguins") / "data" / "penguins.csv", path)
    out["penguins"] = (path, "body_mass_g")

    path = os.path.join(folder, "seattle-weather.csv")
    shutil.copy(files("vega_datasets") / "_data" / "seattle-weather.csv", path)
    out["seattle-weather"] = (path, "temp_max")

    out["sine-table"] = (write_sine_table(os.path.join(folder, "sine-table.csv")), "y")
    return out


def write_sine_table(path, n=300, seed=0):
    """y = sin(x1) + 0.5·x2 + effect(group) + N(0, 0.2²); blanks in x1, x2; a text column unrelated
    to y; an id column."""
    rng = np.random.default_rng(seed)
    x1, x2 = rng.uniform(-3, 3, n), rng.normal(0, 1, n)
    group = rng.choice(["a", "b", "c"], n)
    effect = {"a": 0.0, "b": 1.0, "c": -0.5}
    y = np.sin(x1) + 0.5 * x2 + np.array([effect[g] for g in group]) + rng.normal(0, 0.2, n)
    note = rng.choice(["red", "green", "blue", "teal", "grey"], n)
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["id", "x1", "x2", "group", "note", "y"])
        for i in range(n):
            cells = [str(i + 1), f"{x1[i]:.4f}", f"{x2[i]:.4f}", group[i], note[i], f"{y[i]:.4f}"]
            if rng.random() < 0.03:
                cells[1] = ""
            if rng.random() < 0.03:
                cells[2] = ""
            w.writerow(cells)
    return path


def r2(y, p):
    return 1 - float(np.sum((y - p) ** 2)) / float(np.sum((y - y.mean()) ** 2))


def run(name, path, target, seed):
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.linear_model import LinearRegression
    from sklearn.neural_network import MLPRegressor

    from microreg.train import train_csv

    start = time.perf_counter()
    result = train_csv(path, target, seed=seed, progress=False)
    seconds = time.perf_counter() - start
    sy = result.model.preparation.y_scaler
    z = sy.transform(result.y_train)
    lin = LinearRegression().fit(result.X_train, z)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        mlp = MLPRegressor(random_state=seed).fit(result.X_train, z)
    y = result.y_test
    row = {"data": name, "seed": seed, "rows": result.n_train + result.n_test, "features": len(result.features),
           "microreg": result.net_test_r2, "closed form": result.linear_test_r2,
           "sk linear": r2(y, sy.inverse(lin.predict(result.X_test))),
           "sk MLP": r2(y, sy.inverse(mlp.predict(result.X_test))),
           "epochs": result.epochs, "kept": result.best_epoch, "seconds": seconds}
    row["gap"] = row["microreg"] - max(row["sk linear"], row["sk MLP"])
    return row


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--only", nargs="*")
    args = parser.parse_args()
    folder = tempfile.mkdtemp(prefix="microreg-bench-")
    sets = write_datasets(folder)
    rows = []
    head = ("data", "seed", "rows", "features", "microreg", "closed form", "sk linear", "sk MLP", "gap", "epochs",
            "kept", "seconds")
    print("| " + " | ".join(head) + " |")
    print("|" + "---|" * len(head))
    for name, (path, target) in sets.items():
        if args.only and name not in args.only:
            continue
        for seed in args.seeds:
            row = run(name, path, target, seed)
            rows.append(row)
            print("| " + " | ".join(f"{row[k]:.3f}" if isinstance(row[k], float) else str(row[k]) for k in head)
                  + " |", flush=True)
    if len(args.seeds) > 1:
        print("\n| data | microreg R² mean | std | worst | closed form R² mean | std | worst | net below closed form |")
        print("|---|---|---|---|---|---|---|---|")
        for n in dict.fromkeys(r["data"] for r in rows):
            net = np.array([r["microreg"] for r in rows if r["data"] == n])
            lin = np.array([r["closed form"] for r in rows if r["data"] == n])
            print(f"| {n} | {net.mean():.3f} | {net.std():.3f} | {net.min():.3f} | {lin.mean():.3f} | "
                  f"{lin.std():.3f} | {lin.min():.3f} | {int((net < lin).sum())} of {len(net)} |")
    worst = min(r["gap"] for r in rows)
    mean_gap = {n: np.mean([r["gap"] for r in rows if r["data"] == n]) for n in dict.fromkeys(r["data"] for r in rows)}
    print("\nmean gap (microreg − better of scikit-learn's two) per data set: "
          + ", ".join(f"{n} {g:+.3f}" for n, g in mean_gap.items()) + f"; worst single run {worst:+.3f}")
    shutil.rmtree(folder)
    return 0 if all(g >= -0.02 for g in mean_gap.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
