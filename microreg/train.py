"""Train on a real CSV file, compare with linear regression, and predict in the target's own units.

This is ``microreg train`` and ``microreg predict`` as functions (the command only parses and prints):

    >>> result = train_csv("cars.csv", target="mpg")           # doctest: +SKIP
    >>> result.report()                                         # doctest: +SKIP
    >>> model = load_model("microreg-out/model.json")           # doctest: +SKIP
    >>> model([{"weight": 3000, "origin": "Japan"}])             # doctest: +SKIP

- `train_csv(path, target, ...)` / `train_table(table, ...)`: split off test rows (seeded), hold a
  validation part out of the training rows, prepare the features (`microreg.data.Preparation`),
  train document 000's net with Adam, keep the parameters of the best validation epoch and stop
  when it stops improving (``patience``). Beside the net it fits the closed-form least-squares
  line on the same features and the mean predictor: every result has its baselines.
  ``model="linear"`` trains `LinearRegression` by gradient descent instead, and reports how close
  it came to the closed-form optimum.
- `load_model(path)` and `TrainedModel` (both defined in `microreg.nn`): a model.json from
  ``microreg train`` as a network with its preparation; called with raw rows (numbers in column order,
  a dict per row, or a CSV path) it returns predictions in the target's units; ``save(path)``
  writes one model.json holding both.
- `r2_score` (None where R² is undefined), `least_squares`, and the pictures: `plot_losses`,
  `plot_predicted`, `plot_residuals`.
"""

import math
import sys
import time

import numpy as np

from .data import DataError, Preparation, Standardizer, choose_columns, read_table, target_values
from .nn import SGD, Adam, LinearRegression, TrainedModel, TwoLayerNet, fit, load_model, mse

# Defaults chosen on small real tables (a few hundred rows, ten features); README says why.
DEFAULTS = {"hidden": 32, "epochs": 2000, "lr": 0.01, "patience": 300, "weight_decay": "auto", "starts": 1,
            "validation_fraction": 0.2, "test_fraction": 0.2}
WEIGHT_DECAYS = (0.0, 0.001, 0.01)   # tried by weight_decay="auto"
PREFER_SIMPLER = 1.05   # auto keeps the largest decay whose validation RMSE is within 5% of the best one
FAR_ABOVE_BASELINE = 1.5   # a net whose test MSE is this many times the linear baseline's is said so


def r2_score(y, y_hat):
    """R² = 1 − Σ(y − ŷ)² / Σ(y − ȳ)², or None where it is undefined (fewer than 2 rows, constant y)."""
    y, y_hat = np.asarray(y, dtype=np.float64), np.asarray(y_hat, dtype=np.float64)
    sst = float(np.sum((y - y.mean()) ** 2)) if y.size else 0.0
    if y.size < 2 or sst == 0.0:
        return None
    return 1.0 - float(np.sum((y - y_hat) ** 2)) / sst


def least_squares(X, y):
    """(w, b) minimising Σ (X·w + b − y)² in closed form (numpy's lstsq: the minimum-norm solution)."""
    A = np.c_[X, np.ones(len(X))]
    beta, *_ = np.linalg.lstsq(A, y, rcond=None)
    return beta[:-1], float(beta[-1])


def split_rows(n, fraction, seed, what="test"):
    """A seeded permutation of range(n) cut in two: (kept, held_out), held_out ≈ fraction·n (at least 1)."""
    if not 0 < fraction < 1:
        raise ValueError(f"--{what}-fraction must be between 0 and 1, got {fraction}")
    held = max(1, int(round(n * fraction)))
    if n - held < 2:
        raise DataError(f"{n} rows are too few to hold out {held} for {what}")
    order = np.random.default_rng(seed).permutation(n)
    return np.sort(order[held:]), np.sort(order[:held])


class Result(dict):
    """What a training run found: every figure by name (``result["test_r2"]``) plus ``model``,
    ``history``, the prepared test rows and the notes; ``report()`` is the text the command prints."""

    def __getattr__(self, name):
        try:
            return self[name]
        except KeyError:
            raise AttributeError(name) from None

    def figures(self):
        """Every number and list of the run, for ``--json``."""
        skip = {"model", "history", "y_test", "pred_test", "pred_linear_test", "pred_mean_test", "X_train",
                "X_test", "y_train"}
        figures = {k: v for k, v in self.items() if k not in skip}
        for part in ("train", "test"):   # the net's figures under their short names too
            figures[f"{part}_mse"], figures[f"{part}_r2"] = self[f"net_{part}_mse"], self[f"net_{part}_r2"]
        return figures

    def report(self):
        def r2(v):
            return "n/a" if v is None else f"{0.0 if abs(v) < 5e-5 else v:.4f}"   # no "-0.0000"

        def mse(v):
            return "n/a" if v is None else f"{v:.6g}"
        lines = [f"{'':29}{'test MSE':>12}  {'test R²':>8}  {'train MSE':>12}  {'train R²':>8}"]
        for label, key in ((self["model_name"], "net"), ("least squares (closed form)", "linear"),
                           ("mean of the training y", "mean")):
            lines.append(f"{label:29.29}{mse(self[key + '_test_mse']):>12}  {r2(self[key + '_test_r2']):>8}  "
                         f"{mse(self[key + '_train_mse']):>12}  {r2(self[key + '_train_r2']):>8}")
        validation = f" ({self['n_validation']} of them for validation)" if self["n_validation"] else ""
        lines.append(f"MSE in the target's units ({self['target']})²; {self['n_test']} test rows, "
                     f"{self['n_train']} training rows{validation}")
        net, line = self["net_test_mse"], self["linear_test_mse"]
        if self["model_name"].startswith("TwoLayerNet") and net is not None and line is not None and net >= line:
            lines.append(f"the net does not beat least squares on the test rows (test MSE {net:.6g} against "
                         f"{line:.6g}): y may be close to linear in these features, or the rows too few for a net")
        return "\n".join(lines)


class _Notes(list):
    """A list of notes that also hands each new one to ``notify``."""

    def __init__(self, notify):
        super().__init__()
        self.notify = notify

    def append(self, note):
        super().append(note)
        if self.notify is not None:
            self.notify(note)

    def __iadd__(self, notes):
        for note in notes:
            self.append(note)
        return self


def train_csv(data, target, test=None, **options):
    """`train_table` on a CSV file (and an optional test file with the same columns)."""
    table = read_table(data)
    test_table = read_table(test) if test else None
    return train_table(table, target, test_table=test_table, **options)


def train_table(table, target, test_table=None, model="net", hidden=DEFAULTS["hidden"], epochs=DEFAULTS["epochs"],
                lr=DEFAULTS["lr"], patience=DEFAULTS["patience"], weight_decay=DEFAULTS["weight_decay"],
                validation_fraction=DEFAULTS["validation_fraction"], test_fraction=DEFAULTS["test_fraction"],
                seed=0, features=None, drop=(), strict=False, progress=True, notify=None, starts=DEFAULTS["starts"]):
    """Prepare, split, train, and score a net (or ``model="linear"``) with its baselines; a `Result`.

    Every decision taken on the data is a one-line note (``result.notes``); ``notify``, if given, is
    called with each as soon as it is made (the command prints them before training starts).
    """
    notes = _Notes(notify)
    notes += table.notes
    columns = choose_columns(table, target, features, drop)
    y_all, rows = target_values(table, target, strict)
    dropped = len(table.rows) - len(rows)
    if dropped:
        notes.append(f"{table.path}: {dropped} rows dropped: their target {target!r} is blank")
    if test_table is not None:
        notes += test_table.notes
        y_test, test_rows = target_values(test_table, target, strict)
        if len(test_table.rows) - len(test_rows):
            dropped += len(test_table.rows) - len(test_rows)
            notes.append(f"{test_table.path}: {len(test_table.rows) - len(test_rows)} rows dropped: "
                         f"their target {target!r} is blank")
        train_rows, y_train, test_source = rows, y_all, test_table
    else:
        keep, held = split_rows(len(rows), test_fraction, seed, "test")
        train_rows, y_train = [rows[i] for i in keep], y_all[keep]
        test_rows, y_test, test_source = [rows[i] for i in held], y_all[held], table
    if model == "net":     # before the preparation (the slow part of a wide table): too few rows said at once
        if isinstance(starts, bool) or not isinstance(starts, int) or starts < 1:
            raise ValueError(f"--starts must be a whole number ≥ 1, got {starts!r}")
        fit_rows, val_rows = split_rows(len(train_rows), validation_fraction, seed + 1, "validation")
    prep, prep_notes = Preparation.fit(table, target, columns, train_rows, y_train, strict)
    notes += prep_notes
    X_train, blanks = prep.features(table, train_rows, strict)
    X_test, test_blanks = prep.features(test_source, test_rows, strict)
    for k, v in test_blanks.items():
        blanks[k] = blanks.get(k, 0) + v
    if blanks:
        notes.append(f"{sum(blanks.values())} blank feature cells filled with the training median "
                     f"(a one-hot column: all zeros): " + ", ".join(f"{k} {v}" for k, v in blanks.items())
                     + "; --strict makes them errors")
    sy = prep.y_scaler
    z_train = sy.transform(y_train)
    n_features = X_train.shape[1]

    # the baselines: least squares on the same prepared features, and the mean of the training y
    w, b = least_squares(X_train, z_train)

    def linear(X):
        return sy.inverse(X @ w + b)

    start = time.perf_counter()
    if model == "linear":
        network = LinearRegression(n_features, seed=seed)
        # the largest step that converges: 1/λmax of the Hessian of the MSE, 2/n·AᵀA (A = [X, 1])
        A = np.c_[X_train, np.ones(len(X_train))]
        step = 1.0 / float(np.linalg.eigvalsh(2.0 / len(A) * A.T @ A)[-1])
        history = fit(network, X_train, z_train, loss=mse, epochs=epochs, progress=progress,
                      optimizer=SGD(network.parameters(), lr=step))
        n_validation = 0
        model_name = f"LinearRegression({n_features})"
    elif model == "net":
        decays = WEIGHT_DECAYS if weight_decay == "auto" else (weight_decay,)
        report = _Report(len(decays) + max(0, starts - 1), float(sy.std), target, progress)
        fit_data, validation = (X_train[fit_rows], z_train[fit_rows]), (X_train[val_rows], z_train[val_rows])

        def train_one(decay, k, what):           # k: which starting point (1: the seed's own)
            candidate = TwoLayerNet(n_features, hidden, seed=seed if k == 1 else [seed, k])
            report.begin(what, epochs)
            h = fit(candidate, *fit_data, loss=mse, epochs=epochs, progress=False, callback=report.epoch,
                    optimizer=Adam(candidate.parameters(), lr=lr, weight_decay=decay),
                    validation=validation, patience=patience)
            report.end(h)
            return (min(h.validation) if h.validation and h.stopped is None else math.inf), decay, candidate, h

        tried = []
        for decay in decays:          # the same starting point for each decay: a fair comparison
            tried.append(train_one(decay, 1, f"weight decay {decay:g}"))
            if tried[-1][3].stopped:   # diverged: the other decays would too (same learning rate); report this one
                break
        if tried[-1][3].stopped:
            score, weight_decay, network, history = tried[-1]
        else:   # the most regularised net that is about as good on validation as the best one
            best = min(t[0] for t in tried)
            score, weight_decay, network, history = [t for t in tried if t[0] <= PREFER_SIMPLER ** 2 * best][-1]
        scale = float(sy.std)
        if len(tried) > 1:
            notes.append("weight decay chosen on the validation rows: " + ", ".join(
                f"{d:g} → RMSE {math.sqrt(v) * scale:.4g}" for v, d, _, _ in tried) + f": {weight_decay:g}")
        if history.stopped is None and starts > 1:
            # more starting points at the chosen decay, the best on validation kept: a net that sat on a
            # plateau until patience ran out (kept an early epoch, no better than a line) is outvoted
            runs = [(score, weight_decay, network, history)]
            for k in range(2, starts + 1):
                runs.append(train_one(weight_decay, k, f"start {k} of {starts}, weight decay {weight_decay:g}"))
                if runs[-1][3].stopped:
                    runs.pop()
                    break
            pick = min(range(len(runs)), key=lambda i: runs[i][0])
            score, weight_decay, network, history = runs[pick]
            notes.append(f"{len(runs)} starting points at weight decay {weight_decay:g}, validation RMSE "
                         + ", ".join(f"{math.sqrt(r[0]) * scale:.4g}" for r in runs) + f": kept start {pick + 1}")
        n_validation = len(val_rows)
        model_name = f"TwoLayerNet({n_features}, {hidden})"
    else:
        raise ValueError(f"--model must be 'net' or 'linear', got {model!r}")
    seconds = time.perf_counter() - start
    trained = TrainedModel(network, prep, {"target": target, "features": prep.feature_names})

    def net(X):
        with np.errstate(over="ignore", invalid="ignore"):
            return sy.inverse(np.atleast_1d(network(X).data))

    result = Result(model_name=model_name, target=target, model=trained, history=history, seconds=round(seconds, 3),
                    epochs=len(history), best_epoch=history.best_epoch,
                    weight_decay=weight_decay if model == "net" else 0.0, stopped=history.stopped,
                    early_stop=history.early_stop, n_train=len(train_rows), n_validation=n_validation,
                    n_test=len(test_rows), rows_dropped=dropped, columns_used=prep.inputs,
                    features=prep.feature_names, notes=list(notes), y_test=y_test, y_train=y_train,
                    X_train=X_train, X_test=X_test)
    mean = float(np.mean(y_train))
    for key, predict in (("net", net), ("linear", linear), ("mean", lambda X: np.full(len(X), mean))):
        for part, X, y in (("train", X_train, y_train), ("test", X_test, y_test)):
            p = predict(X)
            with np.errstate(over="ignore", invalid="ignore"):
                err = float(np.mean((p - y) ** 2))
            result[f"{key}_{part}_mse"] = err if math.isfinite(err) else None
            result[f"{key}_{part}_r2"] = r2_score(y, p) if math.isfinite(err) else None
            if part == "test":
                result[f"pred_{key}_test" if key != "net" else "pred_test"] = p
    result["finite"] = all(math.isfinite(p.data) for p in network.parameters()) and result["net_train_mse"] is not None
    # the loss curves in the target's own units: RMSE = √(standardized MSE)·σ_y
    scale = float(sy.std)
    result["train_rmse_curve"] = [math.sqrt(v) * scale for v in history]
    result["validation_rmse_curve"] = [math.sqrt(v) * scale for v in history.validation]
    if model == "linear":
        gd = np.array([p.data for p in network.w] + [network.b.data])
        result["closed_form_max_abs_difference"] = float(np.max(np.abs(gd - np.r_[w, b])))
    # the final loss on the training rows against the closed form's (plus a tenth of the mean predictor's,
    # so that a perfect line does not make every net "far above")
    net_mse, lin_mse, mean_mse = result["net_train_mse"], result["linear_train_mse"], result["mean_train_mse"]
    result["far_above_baseline"] = bool(net_mse is None or net_mse > FAR_ABOVE_BASELINE * lin_mse + 0.1 * mean_mse)
    return result


class _Report:
    """Training progress on stderr, on one scale, named: the RMSE in the target's own units. In a
    terminal, one live line per net (epoch, training RMSE); in a log (a pipe, a file), one line per
    net when it is done: its epochs, the epoch kept and its validation RMSE."""

    def __init__(self, nets, scale, target, enabled, stream=None):
        self.nets, self.scale, self.target, self.enabled = nets, scale, target, enabled
        self.stream = stream or sys.stderr
        self.tty = enabled and getattr(self.stream, "isatty", lambda: False)()
        self.n = 0

    def begin(self, what, epochs):
        self.n, self.what, self.epochs, self.start = self.n + 1, what, epochs, time.perf_counter()
        self.every = max(1, epochs // 200)

    def _name(self):
        return f"net {self.n} of {self.nets} ({self.what})" if self.nets > 1 else self.what

    def _rmse(self, mse):
        return math.sqrt(mse) * self.scale if math.isfinite(mse) and mse >= 0 else mse

    def epoch(self, epoch, loss):
        if self.tty and epoch % self.every == 0:
            self.stream.write(f"\r\x1b[K{self._name()}: epoch {epoch}/{self.epochs}, "
                              f"training RMSE {self._rmse(loss):.4g} {self.target}")
            self.stream.flush()

    def end(self, history):
        if not self.enabled:
            return
        how = (history.stopped if history.stopped else
               f"{len(history)} epochs, kept epoch {history.best_epoch}: validation RMSE "
               f"{self._rmse(min(history.validation)):.4g} {self.target}" if history.validation else
               f"{len(history)} epochs: training RMSE {self._rmse(history[-1]):.4g} {self.target}" if history else
               "no epoch")
        line = f"{self._name()}: {how} ({time.perf_counter() - self.start:.1f}s)"
        self.stream.write(("\r\x1b[K" if self.tty else "") + line + "\n")
        self.stream.flush()


def train_arrays(X, y, X_test=None, y_test=None, hidden=16, epochs=1000, lr=0.01, seed=0, standardize=True,
                 progress=True):
    """Document 000's two-layer net with Adam on standardized arrays, all epochs (``microreg demo``).

    Returns a dict: the model, the standardizers, the loss history, ``predict`` (original units),
    and train (and test) MSE and R² in the target's own units.
    """
    sx = Standardizer.fit(X) if standardize else Standardizer(np.zeros(X.shape[1]), np.ones(X.shape[1]))
    sy = Standardizer.fit(y) if standardize else Standardizer(0.0, 1.0)
    model = TwoLayerNet(X.shape[1], hidden, seed=seed)
    start = time.perf_counter()
    report = _Report(1, float(sy.std), "y", progress)        # progress in y's own units, as the results
    report.begin(f"TwoLayerNet({X.shape[1]}, {hidden})", epochs)
    history = fit(model, sx.transform(X), sy.transform(y), loss=mse, epochs=epochs, callback=report.epoch,
                  optimizer=Adam(model.parameters(), lr=lr), progress=False)
    report.end(history)
    seconds = time.perf_counter() - start

    def predict(A):
        with np.errstate(over="ignore", invalid="ignore"):
            return sy.inverse(np.atleast_1d(model(sx.transform(A)).data))

    result = {"model": model, "x_scaler": sx, "y_scaler": sy, "history": history, "seconds": seconds,
              "predict": predict, "epochs": len(history)}
    for part, A, b in (("train", X, y), ("test", X_test, y_test)):
        if A is not None:
            p = predict(A)
            result[f"{part}_mse"] = float(np.mean((p - b) ** 2))
            result[f"{part}_r2"] = r2_score(b, p)
    return result


# --- pictures -------------------------------------------------------------------------------------

def _figure():
    from matplotlib.figure import Figure
    fig = Figure(figsize=(6, 4), dpi=100)
    return fig, fig.subplots()


def _done(fig, path):
    from .viz import Plot
    fig.tight_layout()
    plot = Plot(fig)
    return plot if path is None else plot.save(path)


def plot_losses(result, path=None):
    """Training and validation RMSE per epoch, in the target's units, with the kept epoch marked."""
    fig, ax = _figure()
    train, val = result["train_rmse_curve"], result["validation_rmse_curve"]
    epochs = np.arange(1, len(train) + 1)
    ax.plot(epochs, train, color="#1a5fb4", label="training rows")
    if val:
        ax.plot(epochs[:len(val)], val, color="#e66100", label="validation rows")
    if result["best_epoch"]:
        ax.axvline(result["best_epoch"], color="#777777", ls="--", lw=1, label=f"kept: epoch {result['best_epoch']}")
    values = np.asarray(train + val, dtype=float)
    if values.size and (values > 0).all() and values.max() / values.min() > 20:
        ax.set_yscale("log")
    ax.set_xlabel("epoch")
    ax.set_ylabel(f"root mean squared error ({result['target']})")
    ax.set_title("loss curves, in the target's units")
    ax.legend()
    ax.grid(alpha=0.3)
    return _done(fig, path)


def plot_predicted(result, path=None):
    """Predicted against actual on the test rows (the net and the least-squares line); y = x is perfect."""
    fig, ax = _figure()
    y = result["y_test"]
    ax.scatter(y, result["pred_linear_test"], s=14, alpha=0.6, color="#26a269", marker="x", label="least squares")
    ax.scatter(y, result["pred_test"], s=14, alpha=0.7, color="#1a5fb4", label=result["model_name"])
    lo, hi = float(np.min(y)), float(np.max(y))
    ax.plot([lo, hi], [lo, hi], color="#777777", lw=1, label="predicted = actual")
    ax.set_xlabel(f"actual {result['target']}")
    ax.set_ylabel(f"predicted {result['target']}")
    ax.set_title(f"test rows ({result['n_test']})")
    ax.legend()
    ax.grid(alpha=0.3)
    return _done(fig, path)


def plot_residuals(result, path=None):
    """Residuals (actual − predicted) of the net on the test rows, against the prediction."""
    fig, ax = _figure()
    p = result["pred_test"]
    ax.scatter(p, result["y_test"] - p, s=14, alpha=0.7, color="#1a5fb4")
    ax.axhline(0, color="#777777", lw=1)
    ax.set_xlabel(f"predicted {result['target']}")
    ax.set_ylabel("actual − predicted")
    ax.set_title("residuals on the test rows")
    ax.grid(alpha=0.3)
    return _done(fig, path)


__all__ = ["train_csv", "train_table", "train_arrays", "TrainedModel", "load_model", "Result", "r2_score", "least_squares",
           "split_rows", "plot_losses", "plot_predicted", "plot_residuals", "DEFAULTS"]
